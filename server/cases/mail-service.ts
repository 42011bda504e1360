import type { Knex } from 'knex';
import type { AttachmentService, PreparedAttachment } from '../attachments/service.js';
import type { MailComposer } from '../mail/compose.js';
import type { CaseEventBus, CommittedCaseEvent } from '../platform/events.js';
import { NotFoundError } from '../platform/errors.js';
import type { ResidentStore } from '../residents/store.js';
import { statusAfterResidentMessage, type CaseStatus } from './lifecycle.js';
import type { ReferenceAllocator } from './reference.js';
import { caseCreatedEvent, newResidentToken, reopenPatch, toCommitted } from './service.js';
import type { CaseEventRow, CaseRow, CaseStore, MailFields } from './store.js';

/** A message that arrived by mail, already parsed, checked and sanitized by the intake. */
export interface MailMessage extends MailFields {
  body: string;
  attachments: PreparedAttachment[];
}

/** Work done inside the same transaction as the case change (marking the inbound mail processed). */
export type WithinTransaction = (trx: Knex.Transaction, caseId: number) => Promise<void>;

/**
 * The case side of mail intake: a new case from a mail, a resident's mail
 * reply on their case, a bounce. Each is one transaction that also runs the
 * intake's own bookkeeping, so a crash can never leave a case without its
 * mail marked processed (or the reverse), and no mail makes two cases.
 */
export function createCaseMailService(deps: {
  db: Knex;
  cases: CaseStore;
  residents: ResidentStore;
  attachments: AttachmentService;
  composer: MailComposer;
  bus: CaseEventBus;
  references: ReferenceAllocator;
}) {
  const { db, cases, residents, attachments, composer, bus, references } = deps;

  /** Publishes a committed transaction's events with the case's reference. */
  function publish(reference: string, written: CaseEventRow[]): void {
    bus.publish(written.map((e) => toCommitted(e, reference)));
  }

  return {
    async createFromMail(
      m: MailMessage & {
        name: string;
        email: string;
        subject: string;
        categoryId: number;
        categorySlug: string;
        language: string;
        acknowledge: boolean;
        linkedCaseId: number | null;
      },
      within: WithinTransaction,
    ): Promise<{ caseId: number; reference: string }> {
      const reference = await references.next();
      const token = newResidentToken();
      const ack = m.acknowledge
        ? composer.acknowledgement({ id: 0, reference, subject: m.subject, language: m.language, resident_token: token }, m.email, m.name, m.mailMessageId ? { ids: [m.mailMessageId], parent: m.mailMessageId } : undefined)
        : undefined;
      const payload = { channel: 'email', category: m.categorySlug, subject: m.subject, attachments: m.attachments.length, ...(m.linkedCaseId ? { linkedCaseId: m.linkedCaseId } : {}) };
      let published: CommittedCaseEvent[] = [];
      let caseId = 0;
      await db.transaction(async (trx) => {
        const [row] = await cases.insertNewCases(trx, [
          {
            resident: { name: m.name, email: m.email, phone: null },
            reference,
            channel: 'email',
            categoryId: m.categoryId,
            subject: m.subject,
            language: m.language,
            token,
            body: m.body,
            payload,
            ack,
          },
        ]);
        if (!row) throw new Error(`case ${reference} was not written`);
        caseId = row.case_id;
        await cases.setMailFields(trx, row.message_id, m);
        if (m.linkedCaseId) await cases.setLinkedCase(trx, row.case_id, m.linkedCaseId);
        if (m.attachments.length) {
          await attachments.insertMany(trx, m.attachments.map((a) => ({ ...a, case_id: row.case_id, message_id: row.message_id })));
        }
        await within(trx, row.case_id);
        published = [caseCreatedEvent(row, payload)];
      });
      bus.publish(published);
      if (ack) bus.mailQueued();
      return { caseId, reference };
    },

    /**
     * A resident's mail on their case. It reopens a case that waited on them or
     * was resolved; a recently closed case (`reopenClosed`) is opened again.
     */
    async addMailReply(caseId: number, m: MailMessage & { reopenClosed: boolean }, within: WithinTransaction): Promise<void> {
      const written: CaseEventRow[] = [];
      let reference = '';
      await db.transaction(async (trx) => {
        const c = await cases.lockById(trx, caseId);
        if (!c) throw new NotFoundError(`No case ${caseId}`);
        reference = c.reference;
        const next: CaseStatus = c.status === 'closed' && m.reopenClosed ? 'open' : statusAfterResidentMessage(c.status);
        const ev = await cases.insertEvent(trx, c.id, { type: 'message.received', actorType: 'resident', payload: { channel: 'email' } });
        written.push(ev);
        const messageId = await cases.insertMessage(trx, { caseId: c.id, eventId: ev.id, kind: 'resident', channel: 'email', body: m.body, html: m.html, mailMessageId: m.mailMessageId, inboundMessageId: m.inboundMessageId });
        if (m.attachments.length) {
          await attachments.insertMany(trx, m.attachments.map((a) => ({ ...a, case_id: c.id, message_id: messageId })));
        }
        const patch: Partial<CaseRow> = { resident_message_count: c.resident_message_count + 1 };
        if (next !== c.status) {
          written.push(await cases.insertEvent(trx, c.id, { type: 'status.changed', actorType: 'resident', payload: { from: c.status, to: next, reason: 'resident_reply' } }));
          Object.assign(patch, { status: next }, reopenPatch(c), c.status === 'closed' ? { closed_at: null, reopen_count: c.reopen_count + 1 } : {});
        }
        await cases.updateCase(trx, c.id, patch);
        await within(trx, c.id);
      });
      publish(reference, written);
    },

    /** A delivery failure of our mail: noted on the case (staff only) and the address marked failing. */
    async recordBounce(
      caseId: number,
      b: { recipients: string[]; status: string | null; action: string | null; diagnostic: string | null; inboundMessageId: number },
      within: WithinTransaction,
    ): Promise<void> {
      const written: CaseEventRow[] = [];
      let reference = '';
      await db.transaction(async (trx) => {
        const c = await cases.lockById(trx, caseId);
        if (!c) throw new NotFoundError(`No case ${caseId}`);
        reference = c.reference;
        const failure = [b.status, b.diagnostic].filter(Boolean).join(' ') || 'delivery failed';
        // Only a permanent failure marks the address; "delayed" reports are just noted.
        const permanent = (b.action ?? '').toLowerCase() === 'failed' || /^5\./.test(b.status ?? '');
        if (permanent) for (const r of b.recipients) await residents.markEmailFailing(trx, r, failure);
        const ev = await cases.insertEvent(trx, c.id, {
          type: 'mail.bounced',
          actorType: 'system',
          internal: true,
          payload: { recipients: b.recipients, status: b.status, action: b.action, diagnostic: b.diagnostic, inboundMessageId: b.inboundMessageId },
        });
        written.push(ev);
        await cases.updateCase(trx, c.id, {});
        await within(trx, c.id);
      });
      publish(reference, written);
    },
  };
}

export type CaseMailService = ReturnType<typeof createCaseMailService>;
