import type { Knex } from 'knex';
import type { AttachmentService, PreparedAttachment } from '../attachments/service.js';
import type { MailComposer } from '../mail/compose.js';
import type { MailStore } from '../mail/store.js';
import type { CaseEventBus, CommittedCaseEvent } from '../platform/events.js';
import type { ResidentStore } from '../residents/store.js';
import type { ReferenceAllocator } from './reference.js';
import { caseCreatedEvent, createCaseChanger, recordResidentMessage } from './change.js';
import { newResidentToken } from './service.js';
import type { CaseStore, MailFields } from './store.js';
import type { WorkingTime } from '../stats/working-time.js';

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
  mail: Pick<MailStore, 'enqueue'>;
  bus: CaseEventBus;
  references: ReferenceAllocator;
  workingTime: WorkingTime;
}) {
  const { db, cases, residents, attachments, composer, mail, bus, references } = deps;

  const change = createCaseChanger({ db, cases, mail, bus, workingTime: deps.workingTime });

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
      await change(
        (trx) => cases.lockById(trx, caseId),
        async (tx) => {
          await recordResidentMessage(tx, { cases, attachments }, { channel: 'email', body: m.body, attachments: m.attachments, mail: { html: m.html, mailMessageId: m.mailMessageId, inboundMessageId: m.inboundMessageId }, reopenClosed: m.reopenClosed });
          await within(tx.trx, tx.current.id);
        },
      );
    },

    /** A delivery failure of our mail: noted on the case (staff only) and the address marked failing. */
    async recordBounce(
      caseId: number,
      b: { recipients: string[]; status: string | null; action: string | null; diagnostic: string | null; inboundMessageId: number },
      within: WithinTransaction,
    ): Promise<void> {
      await change(
        (trx) => cases.lockById(trx, caseId),
        async (tx) => {
          const failure = [b.status, b.diagnostic].filter(Boolean).join(' ') || 'delivery failed';
          // Only a permanent failure marks the address; "delayed" reports are just noted.
          const permanent = (b.action ?? '').toLowerCase() === 'failed' || /^5\./.test(b.status ?? '');
          if (permanent) for (const r of b.recipients) await residents.markEmailFailing(tx.trx, r, failure);
          await tx.event({
            type: 'mail.bounced',
            actorType: 'system',
            internal: true,
            payload: { recipients: b.recipients, status: b.status, action: b.action, diagnostic: b.diagnostic, inboundMessageId: b.inboundMessageId },
          });
          await within(tx.trx, tx.current.id);
        },
      );
    },
  };
}

export type CaseMailService = ReturnType<typeof createCaseMailService>;
