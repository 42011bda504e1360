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
     * Claims due mails and runs `send` on each while holding their row locks,
     * so two workers (or two instances) never send the same mail.
     */
    async processDue(limit: number, send: (row: OutboxRow) => Promise<void>, retryDelayMs: (attempts: number) => number, maxAttempts: number): Promise<number> {
      return db.transaction(async (trx) => {
        const rows = (await trx('mail_outbox')
          .where('status', 'pending')
          .andWhere('next_attempt_at', '<=', trx.fn.now())
          .orderBy('id')
          .limit(limit)
          .forUpdate()
          .skipLocked()) as OutboxRow[];
        for (const row of rows) {
          try {
            await send(row);
            await trx('mail_outbox').where({ id: row.id }).update({ status: 'sent', sent_at: trx.fn.now(), attempts: row.attempts + 1, last_error: null });
          } catch (err) {
            const attempts = row.attempts + 1;
            await trx('mail_outbox')
              .where({ id: row.id })
              .update({
                attempts,
                last_error: String((err as Error).message ?? err).slice(0, 2000),
                status: attempts >= maxAttempts ? 'failed' : 'pending',
                next_attempt_at: new Date(Date.now() + retryDelayMs(attempts)),
              });
          }
        }
        return rows.length;
      });
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
