import type { Knex } from 'knex';

export interface BoardWaitingRow {
  channel: string;
  category: string;
  name_sv: string;
  name_en: string;
  count: number;
}

export interface BoardArrivalRow {
  channel: string;
  contacts: number;
  direct: number;
}

export interface BoardCallCounts {
  offered: number;
  answered: number;
  abandoned: number;
  in_queue: number;
  within_target: number;
}

export interface BoardCallbackCounts {
  due_now: number;
  later_today: number;
}

const n = (v: unknown) => Number(v ?? 0);

/**
 * The live board's reads. Each reads only what waits now or what happened
 * today, through an index range, so the board costs the same with ten
 * thousand or a million cases behind it:
 * - waiting, oldest: cases_waiting_idx (partial: new and nobody's, by queue_at);
 * - arrivals: cases_arrival_metrics_idx (created_at, covering channel and
 *   resolved_at_first_contact), today's range only;
 * - calls: calls_offered_idx, today's range only;
 * - callbacks: callbacks_due_idx (partial: pending, by next_attempt_at).
 * `queries` are the builders themselves, so a test can EXPLAIN each one.
 */
export function createLiveBoardStore(db: Knex) {
  const queries = {
    /** Cases waiting now (new, nobody's, wanting attention by now), per channel and topic. */
    waiting: (now: Date) =>
      db('cases as c')
        .join('categories as cat', 'cat.id', 'c.category_id')
        .where('c.status', 'new')
        .whereNull('c.assignee_id')
        .andWhere('c.queue_at', '<=', now)
        .groupBy('c.channel', 'cat.slug', 'cat.name_sv', 'cat.name_en')
        .select('c.channel', 'cat.slug as category', 'cat.name_sv', 'cat.name_en')
        .count('* as count'),

    /** The case that has waited longest: the first in cases_waiting_idx's order. */
    oldest: (now: Date) =>
      db('cases')
        .where('status', 'new')
        .whereNull('assignee_id')
        .andWhere('queue_at', '<=', now)
        .orderBy([{ column: 'queue_at' }, { column: 'id' }])
        .limit(1)
        .select('reference', 'queue_at'),

    /** Cases that arrived in [from, to), per channel, and how many of them were resolved at the first contact. */
    arrivals: (from: Date, to: Date) =>
      db('cases')
        .where('created_at', '>=', from)
        .andWhere('created_at', '<', to)
        .groupBy('channel')
        .select('channel', db.raw('count(*) AS contacts'), db.raw('count(*) FILTER (WHERE resolved_at_first_contact) AS direct')),

    /** Calls offered in [from, to): answered, abandoned (ended unanswered), still queued, answered within the target. */
    calls: (from: Date, to: Date, targetSeconds: number) =>
      db('calls')
        .where('offered_at', '>=', from)
        .andWhere('offered_at', '<', to)
        .select(
          db.raw('count(*) AS offered'),
          db.raw('count(answered_at) AS answered'),
          db.raw('count(*) FILTER (WHERE answered_at IS NULL AND ended_at IS NOT NULL) AS abandoned'),
          db.raw('count(*) FILTER (WHERE answered_at IS NULL AND ended_at IS NULL) AS in_queue'),
          db.raw('count(*) FILTER (WHERE answered_at IS NOT NULL AND extract(epoch FROM answered_at - offered_at) <= ?) AS within_target', [targetSeconds]),
        ),

    /** Pending callbacks due by `now`, and due after it but before `until` (the end of today). */
    callbacks: (now: Date, until: Date) =>
      db('callbacks')
        .where('status', 'pending')
        .andWhere('next_attempt_at', '<', until)
        .select(db.raw('count(*) FILTER (WHERE next_attempt_at <= ?) AS due_now', [now]), db.raw('count(*) FILTER (WHERE next_attempt_at > ?) AS later_today', [now])),
  };

  return {
    queries,

    async waiting(now: Date): Promise<BoardWaitingRow[]> {
      const rows = (await queries.waiting(now)) as Record<string, unknown>[];
      return rows.map((r) => ({ channel: String(r.channel), category: String(r.category), name_sv: String(r.name_sv), name_en: String(r.name_en), count: n(r.count) }));
    },

    async oldest(now: Date): Promise<{ reference: string; queue_at: Date } | undefined> {
      const [row] = (await queries.oldest(now)) as { reference: string; queue_at: Date }[];
      return row;
    },

    async arrivals(from: Date, to: Date): Promise<BoardArrivalRow[]> {
      const rows = (await queries.arrivals(from, to)) as Record<string, unknown>[];
      return rows.map((r) => ({ channel: String(r.channel), contacts: n(r.contacts), direct: n(r.direct) }));
    },

    async calls(from: Date, to: Date, targetSeconds: number): Promise<BoardCallCounts> {
      const [r = {}] = (await queries.calls(from, to, targetSeconds)) as Record<string, unknown>[];
      return { offered: n(r.offered), answered: n(r.answered), abandoned: n(r.abandoned), in_queue: n(r.in_queue), within_target: n(r.within_target) };
    },

    async callbacks(now: Date, until: Date): Promise<BoardCallbackCounts> {
      const [r = {}] = (await queries.callbacks(now, until)) as Record<string, unknown>[];
      return { due_now: n(r.due_now), later_today: n(r.later_today) };
    },
  };
}

export type LiveBoardStore = ReturnType<typeof createLiveBoardStore>;
