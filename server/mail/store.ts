import type { Knex } from 'knex';
import { claimDue } from '../platform/sql.js';
import { bareMessageId } from './compose.js';

/**
 * RFC 3834: "auto-replied" on a mail sent because a mail (or contact) came in
 * (acknowledgements), "auto-generated" on a system notification (a handover to
 * a department). A mail a person wrote (an agent's reply) carries none.
 */
export type AutoSubmitted = 'auto-replied' | 'auto-generated';

export interface OutboxRow {
  id: number;
  case_id: number | null;
  kind: string;
  to_address: string;
  subject: string;
  text_body: string;
  /** The HTML alternative; null only on mails queued before there was one. */
  html_body: string | null;
  /** With angle brackets, as in the header. */
  message_id: string;
  in_reply_to: string | null;
  /** Space-separated Message-IDs with angle brackets, oldest first. */
  references_header: string | null;
  auto_submitted: AutoSubmitted | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export type NewOutboxMail = Pick<OutboxRow, 'kind' | 'to_address' | 'subject' | 'text_body' | 'message_id'> & {
  case_id: number | null;
  html_body?: string | null;
  in_reply_to?: string | null;
  references_header?: string | null;
  auto_submitted?: AutoSubmitted | null;
};

/** What the case page shows about a mail that has not arrived. */
export type OutboxStatusRow = Pick<OutboxRow, 'id' | 'kind' | 'to_address' | 'subject' | 'status' | 'attempts' | 'last_error' | 'next_attempt_at' | 'created_at'>;

/**
 * The Message-IDs a new mail to `to` in the case can thread on, oldest first:
 * the resident's mails (when asked for; the mail processor records their
 * Message-IDs on the messages) and the mails we sent the same address. Ids are
 * as stored, with or without angle brackets; the composer normalises them.
 */
export interface ThreadIds {
  /** Oldest first. */
  ids: string[];
  /** The mail this one answers: the resident's latest mail, else our latest mail to the address. */
  parent: string | null;
}

/** Automatic mails that go to staff, not to the resident: never held back for protected identity. */
const STAFF_KINDS = new Set(['handover']);

/**
 * Protected identity stops every automatic mail to the resident (receipts,
 * surveys, notices); a reply an agent writes (no Auto-Submitted) still goes.
 */
export function isResidentAutomatic(mail: Pick<NewOutboxMail, 'kind' | 'auto_submitted'>): boolean {
  return Boolean(mail.auto_submitted) && !STAFF_KINDS.has(mail.kind);
}

/** Whether the address is a protected resident's, or the case's resident is protected. */
async function protectedRecipient(trx: Knex.Transaction, caseId: number | null, to: string): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: unknown[] }>(
    `SELECT 1 FROM residents r
     WHERE r.protected_identity
       AND (lower(r.email) = lower(?) OR r.id = (SELECT c.resident_id FROM cases c WHERE c.id = ?))
     LIMIT 1`,
    [to, caseId],
  );
  return rows.length > 0;
}

export function createMailStore(db: Knex) {
  return {
    /**
     * Written inside the case's transaction: the mail exists only if the change
     * committed. An automatic mail to a resident with protected identity is
     * not written at all ('withheld'); the flag is read on the same transaction.
     */
    async enqueue(trx: Knex.Transaction, mail: NewOutboxMail): Promise<'queued' | 'withheld'> {
      if (isResidentAutomatic(mail) && (await protectedRecipient(trx, mail.case_id, mail.to_address))) return 'withheld';
      await trx('mail_outbox').insert({
        ...mail,
        html_body: mail.html_body ?? null,
        in_reply_to: mail.in_reply_to ?? null,
        references_header: mail.references_header ?? null,
        auto_submitted: mail.auto_submitted ?? null,
      });
      return 'queued';
    },

    /**
     * What a new mail to `to` about the case refers to. Runs on the case's
     * transaction (the embedded database has one connection). A mail we gave
     * up on never arrived, so it is not referred to.
     */
    async threadFor(trx: Knex.Transaction, caseId: number, to: string, opts: { withResident: boolean }): Promise<ThreadIds> {
      const theirs = opts.withResident
        ? `SELECT mail_message_id AS mid, created_at, 0 AS src, id FROM messages
           WHERE case_id = ? AND kind = 'resident' AND mail_message_id IS NOT NULL
           UNION ALL `
        : '';
      const { rows } = await trx.raw<{ rows: { mid: string; src: number | string }[] }>(
        `SELECT mid, src FROM (
           ${theirs}SELECT message_id AS mid, created_at, 1 AS src, id FROM mail_outbox
           WHERE case_id = ? AND lower(to_address) = lower(?) AND status <> 'failed') t
         -- Ties (a first message and its acknowledgement are written together): theirs first.
         ORDER BY created_at, src, id`,
        opts.withResident ? [caseId, caseId, to] : [caseId, to],
      );
      // An id received in mail that no header can carry is left out (it cannot be the parent either).
      const usable = rows.filter((r) => bareMessageId(r.mid));
      const parent = usable.filter((r) => Number(r.src) === 0).at(-1)?.mid ?? usable.at(-1)?.mid ?? null;
      return { ids: usable.map((r) => r.mid), parent };
    },

    /** Due mails, leased to this worker (see claimDue in platform/sql.ts). */
    claimDue: (limit: number, leaseMs: number): Promise<OutboxRow[]> => claimDue<OutboxRow>(db, 'mail_outbox', 'pending', limit, leaseMs),

    async markSent(row: OutboxRow): Promise<void> {
      await db('mail_outbox').where({ id: row.id }).update({ status: 'sent', sent_at: db.fn.now(), attempts: row.attempts + 1, last_error: null });
    },

    async markFailedAttempt(row: OutboxRow, error: string, retryAt: Date, giveUp: boolean): Promise<void> {
      await db('mail_outbox')
        .where({ id: row.id })
        .update({ attempts: row.attempts + 1, last_error: error.slice(0, 2000), status: giveUp ? 'failed' : 'pending', next_attempt_at: retryAt });
    },

    /**
     * A case's mails, by case id or reference, oldest first. `undeliveredOnly`:
     * just the ones an agent should know about, those that failed at least once
     * and wait for another try, and those given up on.
     */
    async listForCase(caseIdOrReference: number | string, opts: { undeliveredOnly?: boolean } = {}): Promise<OutboxStatusRow[]> {
      const q = db('mail_outbox')
        .select('id', 'kind', 'to_address', 'subject', 'status', 'attempts', 'last_error', 'next_attempt_at', 'created_at')
        .orderBy('id');
      if (typeof caseIdOrReference === 'number') q.where('case_id', caseIdOrReference);
      else q.whereIn('case_id', db('cases').select('id').where({ reference: caseIdOrReference }));
      if (opts.undeliveredOnly) {
        q.andWhere((w) => w.where('status', 'failed').orWhere((p) => p.where('status', 'pending').andWhere('attempts', '>', 0)));
      }
      return q as Promise<OutboxStatusRow[]>;
    },

    /** Whether an acknowledgement went to this address since `since` (at most one per sender per window). */
    async acknowledgedSince(address: string, since: Date): Promise<boolean> {
      const row = await db('mail_outbox')
        .where('kind', 'acknowledgement')
        .andWhereRaw('lower(to_address) = lower(?)', [address])
        .andWhere('created_at', '>', since)
        .first('id');
      return Boolean(row);
    },

    listRecent: (limit = 100): Promise<OutboxRow[]> => db<OutboxRow>('mail_outbox').orderBy('id', 'desc').limit(limit),
    findById: (id: number) => db<OutboxRow>('mail_outbox').where({ id }).first(),
    countPending: async (): Promise<number> => {
      const row = await db('mail_outbox').where({ status: 'pending' }).count<{ count: string | number }[]>('* as count').first();
      return Number(row?.count ?? 0);
    },
  };
}

export type MailStore = ReturnType<typeof createMailStore>;
