import type { Knex } from 'knex';
import type { AttachmentService } from '../attachments/service.js';
import type { CaseMailService, MailMessage } from '../cases/mail-service.js';
import type { CaseStore, MailThreadCandidate } from '../cases/store.js';
import type { Config } from '../config.js';
import type { MailStore } from '../mail/store.js';
import type { OrganisationService } from '../organisation/service.js';
import type { Logger } from '../platform/logger.js';
import { createPollingLoop } from '../platform/polling-loop.js';
import type { InboundRow, InboundStore } from './inbound-store.js';
import { MailParseError, parseInbound, referencesInSubject, type InboundMail } from './mail-content.js';
import { languageOfMail } from './mail-language.js';

export type MailOutcome = 'created' | 'threaded' | 'new_linked' | 'bounce' | 'ignored_loop';

/**
 * Turns stored mail into cases. Each message is parsed, checked for loops and
 * bounces, threaded onto its case when the sender may write there, or made a
 * new case. A message that cannot be parsed goes to quarantine at once; one
 * that fails otherwise is retried with backoff and quarantined after the last
 * attempt. Nothing is ever dropped: the raw message stays in inbound_messages.
 */
export function createMailProcessor(deps: {
  config: Pick<Config, 'intake'>;
  store: InboundStore;
  cases: Pick<CaseStore, 'findCasesForMail'>;
  caseMail: CaseMailService;
  topics: Pick<OrganisationService, 'fallbackCategory'>;
  mail: Pick<MailStore, 'acknowledgedSince'>;
  attachments: AttachmentService;
  logger: Logger;
}) {
  const { config, store, cases, caseMail, topics, mail, attachments, logger } = deps;
  const intake = config.intake;
  const LEASE_MS = 5 * 60_000;
  const BATCH = 20;
  const CONCURRENCY = 4;

  const retryDelayMs = (attempts: number) => Math.min(60 * 60_000, 15_000 * 2 ** (attempts - 1));
  const ourAddresses = new Set(intake.addresses);

  /** The case a mail belongs to: only one where the sender is the resident or a participant. */
  function chooseThread(m: InboundMail, candidates: MailThreadCandidate[]): MailThreadCandidate | undefined {
    const sender = m.from?.address;
    if (!sender) return undefined;
    const allowed = candidates.filter((c) => c.resident_email?.toLowerCase() === sender || c.participants.map((p) => p.toLowerCase()).includes(sender));
    // A reply to our mail (by Message-ID) is the strongest sign; then the reference in the subject.
    return allowed.find((c) => c.matchedBy === 'message-id') ?? allowed[0];
  }

  async function mailMessage(row: InboundRow, m: InboundMail): Promise<MailMessage> {
    const { kept, refused } = await attachments.prepareEach(m.attachments.map((a) => ({ filename: a.filename, content: a.content })));
    let html = m.html;
    // Inline images point at the stored copies, which are served like any attachment.
    if (html) {
      for (const k of kept) {
        const cid = m.attachments[k.index]?.contentId;
        if (cid) html = html.split(`cid:${cid}`).join(`/agent/attachments/${k.public_id}`);
      }
    }
    const note = refused.length ? `\n\n[${refused.map((r) => `${r.filename}: ${r.reason}`).join('; ')}]` : '';
    return {
      body: (m.text || m.subject || '(tomt meddelande)') + note,
      html,
      mailMessageId: m.messageId,
      inboundMessageId: row.id,
      attachments: kept.map(({ index: _index, ...a }) => a),
    };
  }

  async function processOne(row: InboundRow): Promise<{ outcome: MailOutcome; caseId: number | null }> {
    const m = await parseInbound(row.raw, row.envelope_from);
    const markDone = (outcome: MailOutcome) => async (trx: Knex.Transaction, caseId: number) => {
      await store.markProcessed(row.id, { outcome, caseId }, trx);
    };

    const bounce = m.classification.bounce;
    if (bounce) {
      const found = await cases.findCasesForMail({ references: referencesInSubject(m.subject), messageIds: bounce.originalMessageIds });
      const target = found.find((c) => c.matchedBy === 'message-id') ?? found[0];
      if (!target) {
        await store.markProcessed(row.id, { outcome: 'bounce', caseId: null });
        return { outcome: 'bounce', caseId: null };
      }
      await caseMail.recordBounce(target.id, { ...bounce, inboundMessageId: row.id }, markDone('bounce'));
      return { outcome: 'bounce', caseId: target.id };
    }

    if (m.classification.autoReply || m.classification.fromSystem) {
      // Kept raw, never answered, never a case: this is how mail loops are broken.
      // (Bulk and list mail still becomes a case, only without an acknowledgement.)
      await store.markProcessed(row.id, { outcome: 'ignored_loop', caseId: null });
      return { outcome: 'ignored_loop', caseId: null };
    }
    if (m.from && ourAddresses.has(m.from.address)) {
      await store.markProcessed(row.id, { outcome: 'ignored_loop', caseId: null });
      return { outcome: 'ignored_loop', caseId: null };
    }
    if (!m.from) throw new MailParseError('the message has no sender address (From)');

    const candidates = await cases.findCasesForMail({ references: referencesInSubject(m.subject), messageIds: [...m.inReplyTo, ...m.references] });
    const thread = chooseThread(m, candidates);
    const message = await mailMessage(row, m);
    try {
      if (thread) {
        const closedLongAgo =
          thread.status === 'closed' && thread.closed_at !== null && Date.now() - new Date(thread.closed_at).getTime() > intake.reopenWindowDays * 86_400_000;
        if (!closedLongAgo) {
          await caseMail.addMailReply(thread.id, { ...message, reopenClosed: true }, markDone('threaded'));
          return { outcome: 'threaded', caseId: thread.id };
        }
      }
      const category = await topics.fallbackCategory(intake.category);
      const windowStart = new Date(Date.now() - intake.ackWindowMinutes * 60_000);
      const acknowledge = !m.classification.suppressAcknowledgement && !(await mail.acknowledgedSince(m.from.address, windowStart));
      const outcome: MailOutcome = thread ? 'new_linked' : 'created';
      const created = await caseMail.createFromMail(
        {
          ...message,
          name: (m.from.name || m.from.address.split('@')[0] || m.from.address).slice(0, 200),
          email: m.from.address,
          subject: (m.subject || (message.body.split('\n').find((l) => l.trim()) ?? '').trim() || '(utan ämne)').slice(0, 300),
          categoryId: category.id,
          categorySlug: category.slug,
          language: languageOfMail(m),
          acknowledge,
          linkedCaseId: thread ? thread.id : null,
        },
        markDone(outcome),
      );
      return { outcome, caseId: created.caseId };
    } catch (err) {
      await attachments.discard(message.attachments);
      throw err;
    }
  }

  async function handle(row: InboundRow): Promise<void> {
    try {
      const result = await processOne(row);
      logger.info({ inboundId: row.id, ...result }, 'mail processed');
    } catch (err) {
      const attempts = row.attempts + 1;
      const unparseable = err instanceof MailParseError;
      const quarantine = unparseable || attempts >= intake.maxAttempts;
      const reason = `${unparseable ? 'cannot be parsed: ' : ''}${String((err as Error)?.message ?? err)}`;
      logger[quarantine ? 'error' : 'warn']({ err, inboundId: row.id, attempts }, quarantine ? 'mail quarantined' : 'mail processing failed; will retry');
      await store.markFailedAttempt(row, reason, new Date(Date.now() + retryDelayMs(attempts)), quarantine);
    }
  }

  /**
   * Half of processing is waiting on the database, so a claimed batch is
   * worked on several messages at a time. Mail from one sender stays in
   * order (threading and the one-acknowledgement window depend on it).
   */
  async function handleConcurrently(rows: InboundRow[]): Promise<void> {
    const bySender = new Map<string, InboundRow[]>();
    for (const row of rows) {
      const key = (row.envelope_from ?? '').toLowerCase() || `#${row.id}`;
      bySender.set(key, [...(bySender.get(key) ?? []), row]);
    }
    const lanes = [...bySender.values()];
    const workers = Array.from({ length: Math.min(CONCURRENCY, lanes.length) }, async () => {
      for (let lane = lanes.shift(); lane; lane = lanes.shift()) for (const row of lane) await handle(row);
    });
    await Promise.all(workers);
  }

  const loop = createPollingLoop({
    name: 'mail intake',
    pollMs: intake.pollMs,
    logger,
    run: async (isStopped) => {
      let rows: InboundRow[];
      do {
        rows = await store.claimDue(BATCH, LEASE_MS);
        await handleConcurrently(rows);
      } while (rows.length === BATCH && !isStopped());
    },
  });

  return {
    start: loop.start,
    kick: loop.kick,
    idle: loop.idle,
    stop: loop.stop,
    /** For tests and the admin's "process now": runs one message through, returning what happened. */
    processOne,
  };
}

export type MailProcessor = ReturnType<typeof createMailProcessor>;
