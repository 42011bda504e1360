import type { CaseMetricsRow, CaseMetricsStore } from './metrics-store.js';
import type { WorkingTime } from './working-time.js';

export const BACKFILL_BATCH_DEFAULT = 1000;
export const BACKFILL_BATCH_MAX = 10_000;

export interface BackfillResult {
  /** Cases read. */
  read: number;
  /** Cases whose stored metrics differed and were written. */
  updated: number;
}

/**
 * Computes the working-time metrics of every case from its timestamps and writes
 * those that differ from what is stored: for rows from before the metric columns,
 * and after the statistics calendar changed. In batches by id, each batch one
 * statement and no long transaction, so it runs beside a live service. A second
 * run writes nothing.
 */
export async function backfillCaseMetrics(
  deps: { store: CaseMetricsStore; workingTime: WorkingTime },
  opts: { batchSize?: number; onBatch?(progress: BackfillResult & { lastId: number }): void } = {},
): Promise<BackfillResult> {
  const batchSize = opts.batchSize ?? BACKFILL_BATCH_DEFAULT;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BACKFILL_BATCH_MAX) {
    throw new RangeError(`batchSize must be a whole number from 1 to ${BACKFILL_BATCH_MAX}, got ${batchSize}`);
  }
  const result: BackfillResult = { read: 0, updated: 0 };
  let lastId = 0;
  for (;;) {
    const rows = await deps.store.batchAfter(lastId, batchSize);
    if (!rows.length) return result;
    lastId = rows[rows.length - 1]!.id;
    result.read += rows.length;
    const changed: CaseMetricsRow[] = [];
    for (const row of rows) {
      const m = deps.workingTime.caseMetrics(row);
      if (
        m.first_response_working_s !== row.first_response_working_s ||
        m.resolution_working_s !== row.resolution_working_s ||
        m.first_response_working_days !== row.first_response_working_days
      ) {
        changed.push({ ...row, ...m });
      }
    }
    result.updated += await deps.store.write(changed);
    opts.onBatch?.({ ...result, lastId });
  }
}
