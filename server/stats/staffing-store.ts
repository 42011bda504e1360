import type { Knex } from 'knex';
import type { Channel } from '../cases/lifecycle.js';

/**
 * The SQL of the staffing page: arrivals in a period, counted per local date
 * and local hour. Each part reads its period through an index on its time
 * column (cases by created_at: cases_arrival_metrics_idx, which also holds
 * channel, so an index-only scan; calls by offered_at: calls_offered_idx), so
 * the query costs what the period holds, however long the history is.
 *
 * Where the arrivals come from:
 * - phone: the calls offered in the telephony log, answered or not. A call is
 *   work for the queue whether or not a case was made of it, and a case
 *   registered from a call is not that call again. A period with no call at
 *   all (a centre without telephony events) counts its phone cases instead;
 * - web, e-mail, visit, api: the cases of that channel, by arrival;
 * - every channel: both, that is the calls and the cases of every other channel.
 */
export interface ArrivalHourRow {
  /** The local date, YYYY-MM-DD. */
  day: string;
  /** The local hour, 0–23 (both 02:00 hours of the autumn change fall in 2). */
  hour: number;
  count: number;
}

/**
 * The query: arrivals in [from, to) per local date and hour (exported for the
 * query-plan test). `phoneCases`: count the phone cases as the phone
 * arrivals, for a period without a single call.
 */
export function arrivalsByLocalHourSql(
  range: { from: Date; to: Date; timeZone: string },
  channel: Channel | undefined,
  phoneCases = false,
): { sql: string; bindings: Knex.RawBinding[] } {
  const { from, to, timeZone } = range;
  const calls = { sql: 'SELECT k.offered_at AT TIME ZONE ? AS t FROM calls k WHERE k.offered_at >= ? AND k.offered_at < ?', bindings: [timeZone, from, to] };
  const cases = (condition: string, value: string) => ({
    sql: `SELECT c.created_at AT TIME ZONE ? AS t FROM cases c WHERE c.created_at >= ? AND c.created_at < ? AND c.channel ${condition} ?`,
    bindings: [timeZone, from, to, value],
  });
  const phone = phoneCases ? cases('=', 'phone') : calls;
  const parts = channel === 'phone' ? [phone] : channel ? [cases('=', channel)] : [phone, cases('<>', 'phone')];
  return {
    sql: `SELECT to_char(a.t, 'YYYY-MM-DD') AS day, extract(hour FROM a.t)::int AS hour, count(*) AS count
            FROM (${parts.map((p) => p.sql).join(' UNION ALL ')}) a
           GROUP BY 1, 2`,
    bindings: parts.flatMap((p) => p.bindings),
  };
}

/** The first call of a period, through calls_offered_idx (exported for the query-plan test). */
export function firstCallQuery(db: Knex, range: { from: Date; to: Date }) {
  return db('calls').where('offered_at', '>=', range.from).andWhere('offered_at', '<', range.to).orderBy('offered_at').first('id');
}

export function createStaffingStore(db: Knex) {
  return {
    /** Arrivals in [from, to) per local date and hour; hours without arrivals are left out. */
    async arrivalsByLocalHour(range: { from: Date; to: Date; timeZone: string }, channel: Channel | undefined): Promise<ArrivalHourRow[]> {
      // The first call of the period, by its index: none means no telephony events, and the phone cases count.
      const firstCall = channel && channel !== 'phone' ? true : await firstCallQuery(db, range);
      const { sql, bindings } = arrivalsByLocalHourSql(range, channel, !firstCall);
      const { rows } = await db.raw<{ rows: { day: string; hour: number | string; count: number | string }[] }>(sql, bindings);
      return rows.map((r) => ({ day: r.day, hour: Number(r.hour), count: Number(r.count) }));
    },
  };
}

export type StaffingStore = ReturnType<typeof createStaffingStore>;
