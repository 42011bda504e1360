import type { Knex } from 'knex';
import type { CaseRow } from '../cases/store.js';

export interface WaitingCount {
  channel: string;
  category: string;
  category_name_sv: string;
  category_name_en: string;
  count: number;
}

/**
 * The queue as a whole: what is waiting and the claim of the next case.
 * "Waiting" is a new case nobody has taken that wants attention now (a
 * callback waits for its time); these queries walk the partial index
 * cases_waiting_idx, so they stay cheap however many cases are closed.
 */
export function createQueueStore(db: Knex) {
  return {
    async waitingCounts(): Promise<WaitingCount[]> {
      const rows = await db('cases as c')
        .join('categories as cat', 'cat.id', 'c.category_id')
        .where('c.status', 'new')
        .whereNull('c.assignee_id')
        .andWhere('c.queue_at', '<=', db.fn.now())
        .groupBy('c.channel', 'cat.slug', 'cat.name_sv', 'cat.name_en')
        .select('c.channel', 'cat.slug as category', 'cat.name_sv as category_name_sv', 'cat.name_en as category_name_en')
        .count<(Omit<WaitingCount, 'count'> & { count: string | number })[]>('* as count');
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },

    async oldestWaiting(): Promise<{ reference: string; queue_at: Date } | undefined> {
      return db('cases')
        .where('status', 'new')
        .whereNull('assignee_id')
        .andWhere('queue_at', '<=', db.fn.now())
        .orderBy([{ column: 'queue_at' }, { column: 'id' }])
        .first('reference', 'queue_at');
    },

    async activeCount(): Promise<number> {
      const row = await db('cases').whereIn('status', ['new', 'open', 'waiting', 'forwarded']).count<{ count: string | number }[]>('* as count').first();
      return Number(row?.count ?? 0);
    },

    /**
     * Locks the oldest waiting case, skipping any another agent is claiming
     * right now: concurrent claims each get a different case, and a case is
     * only passed over while someone else holds it.
     */
    async lockNextWaiting(trx: Knex.Transaction): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases')
        .where('status', 'new')
        .whereNull('assignee_id')
        .andWhere('queue_at', '<=', trx.fn.now())
        .orderBy([{ column: 'queue_at' }, { column: 'id' }])
        .limit(1)
        .forUpdate()
        .skipLocked()
        .first();
    },
  };
}

export type QueueStore = ReturnType<typeof createQueueStore>;
