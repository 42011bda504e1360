import type { Knex } from 'knex';

export interface OutboxRow {
  id: number;
  case_id: number | null;
  kind: string;
  to_address: string;
  subject: string;
  text_body: string;
  message_id: string;
  in_reply_to: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export type NewOutboxMail = Pick<OutboxRow, 'kind' | 'to_address' | 'subject' | 'text_body' | 'message_id'> & {
  case_id: number | null;
  in_reply_to?: string | null;
};

export function createMailStore(db: Knex) {
  return {
    /** Written inside the case's transaction: the mail exists only if the change committed. */
    async enqueue(trx: Knex.Transaction, mail: NewOutboxMail): Promise<void> {
      await trx('mail_outbox').insert({ ...mail, in_reply_to: mail.in_reply_to ?? null });
    },

    /**
     * Claims up to `limit` due mails for `leaseMs`: a short transaction moves
     * their next attempt past the lease, so no other worker (or instance) takes
     * them meanwhile, and commits before anything is sent. Sending happens
     * outside any transaction (a slow relay must not hold a database
     * connection; the embedded database has only one). A worker that dies
     * mid-send leaves the mail to be sent again when the lease runs out.
     */
    async claimDue(limit: number, leaseMs: number): Promise<OutboxRow[]> {
      return db.transaction(async (trx) => {
        const rows = (await trx('mail_outbox')
          .where('status', 'pending')
          .andWhere('next_attempt_at', '<=', trx.fn.now())
          .orderBy('id')
          .limit(limit)
          .forUpdate()
          .skipLocked()) as OutboxRow[];
        if (rows.length) {
          await trx('mail_outbox')
            .whereIn('id', rows.map((r) => r.id))
            .update({ next_attempt_at: new Date(Date.now() + leaseMs) });
        }
        return rows;
      });
    },

    async markSent(row: OutboxRow): Promise<void> {
      await db('mail_outbox').where({ id: row.id }).update({ status: 'sent', sent_at: db.fn.now(), attempts: row.attempts + 1, last_error: null });
    },

    async markFailedAttempt(row: OutboxRow, error: string, retryAt: Date, giveUp: boolean): Promise<void> {
      await db('mail_outbox')
        .where({ id: row.id })
        .update({ attempts: row.attempts + 1, last_error: error.slice(0, 2000), status: giveUp ? 'failed' : 'pending', next_attempt_at: retryAt });
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
