import type { Knex } from 'knex';
import type { CaseMetrics, MetricTimes } from './working-time.js';

/** A case's metric sources and its stored metrics, as the backfill reads them. */
export interface CaseMetricsRow extends MetricTimes, CaseMetrics {
  id: number;
}

/** SQL for the per-case working-time metrics outside a case change: the backfill. */
export function createCaseMetricsStore(db: Knex) {
  return {
    /** Up to `limit` cases with an id above `afterId`, in id order. */
    async batchAfter(afterId: number, limit: number): Promise<CaseMetricsRow[]> {
      const rows = await db('cases')
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .select('id', 'created_at', 'first_response_at', 'resolved_at', 'first_response_working_s', 'resolution_working_s', 'first_response_working_days');
      return rows.map((r: CaseMetricsRow) => ({ ...r, id: Number(r.id) }));
    },

    /**
     * Writes the metrics of each row, in one statement, where the case still has the
     * timestamps they were computed from: a case answered or resolved meanwhile got
     * its metrics from that change and is left alone. Returns how many were written.
     */
    async write(rows: CaseMetricsRow[]): Promise<number> {
      if (!rows.length) return 0;
      const tuple = '(?::bigint, ?::timestamptz, ?::timestamptz, ?::timestamptz, ?::integer, ?::integer, ?::integer)';
      const bindings = rows.flatMap((r) => [
        r.id,
        iso(r.created_at),
        iso(r.first_response_at),
        iso(r.resolved_at),
        r.first_response_working_s,
        r.resolution_working_s,
        r.first_response_working_days,
      ]);
      const { rows: written } = await db.raw<{ rows: { id: number }[] }>(
        `UPDATE cases AS c
            SET first_response_working_s = v.fr_s, resolution_working_s = v.res_s, first_response_working_days = v.fr_days
           FROM (VALUES ${rows.map(() => tuple).join(', ')}) AS v (id, created_at, fr_at, res_at, fr_s, res_s, fr_days)
          WHERE c.id = v.id
            AND c.created_at = v.created_at
            AND c.first_response_at IS NOT DISTINCT FROM v.fr_at
            AND c.resolved_at IS NOT DISTINCT FROM v.res_at
        RETURNING c.id`,
        bindings,
      );
      return written.length;
    },
  };
}

export type CaseMetricsStore = ReturnType<typeof createCaseMetricsStore>;

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
