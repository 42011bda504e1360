import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Per-case metrics in working time, kept current as things happen (the case
 * changer writes them in the transaction that sets first_response_at or
 * resolved_at; `npm run cli -- stats:backfill` fills older rows and recomputes
 * all after STATS_OFFICE_HOURS or CLOSED_ON change). Working time is office
 * time of the statistics calendar: STATS_OFFICE_HOURS (default OPENING_HOURS)
 * in TIME_ZONE, daylight saving included, closed on the CLOSED_ON holidays.
 * Computed in server/stats/working-time.ts.
 *
 * - first_response_working_s: office seconds from created_at to
 *   first_response_at. Null until answered.
 * - resolution_working_s: office seconds from created_at to resolved_at, the
 *   last resolve. Null while not resolved; a reopen clears it (resolved_at goes
 *   null), and resolving again counts from created_at to the new resolve.
 * - first_response_working_days, for KKiK's "answered within 1 / 2 working
 *   days". The definition: the clock starts when the question arrives
 *   (created_at), or at the next opening if it arrives outside office hours.
 *   A question is answered within N working days if its first response comes
 *   at or before the same local clock time on the N-th working day after the
 *   day the clock started (a working day: a date with office time). The
 *   column is the least such N >= 1: answered on the arrival day, or before
 *   the clock started, is 1. So each share is a plain count:
 *     count(*) FILTER (WHERE first_response_working_days <= 1), and <= 2
 *   over e-mail and web arrivals, and any other N works the same way.
 *   Why a number and not two booleans or stored deadlines: one column serves
 *   every N; deadlines would have to be computed on every insert path
 *   (including the batched intake writer) though only the answer is needed.
 *   A case not answered yet has null; whether it is already late is decided
 *   per report, not per case: WorkingTime.decidedArrivalsUntil(now, N) gives
 *   the last arrival whose deadline has passed.
 *
 * Indexes for date-range reports with filters (channel, category, department,
 * agent), covering, so a report over a range reads the index only:
 * - by arrival (first response, KKiK shares, first-contact resolution):
 *   cases_arrival_metrics_idx on created_at;
 * - by resolve date (resolution times of cases resolved in a period):
 *   cases_resolved_metrics_idx on resolved_at, resolved cases only.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    ALTER TABLE cases
      ADD COLUMN first_response_working_s integer CHECK (first_response_working_s >= 0),
      ADD COLUMN resolution_working_s integer CHECK (resolution_working_s >= 0),
      ADD COLUMN first_response_working_days integer CHECK (first_response_working_days >= 1),
      ADD CONSTRAINT cases_first_response_metrics_check
        CHECK (first_response_at IS NOT NULL OR (first_response_working_s IS NULL AND first_response_working_days IS NULL)),
      ADD CONSTRAINT cases_resolution_metrics_check
        CHECK (resolved_at IS NOT NULL OR resolution_working_s IS NULL);

    CREATE INDEX cases_arrival_metrics_idx ON cases (created_at)
      INCLUDE (channel, category_id, department_id, assignee_id, first_response_working_s, first_response_working_days, resolution_working_s, resolved_at_first_contact);

    CREATE INDEX cases_resolved_metrics_idx ON cases (resolved_at)
      INCLUDE (channel, category_id, department_id, assignee_id, resolution_working_s)
      WHERE resolved_at IS NOT NULL
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP INDEX cases_resolved_metrics_idx;
    DROP INDEX cases_arrival_metrics_idx;
    ALTER TABLE cases
      DROP CONSTRAINT cases_resolution_metrics_check,
      DROP CONSTRAINT cases_first_response_metrics_check,
      DROP COLUMN first_response_working_days,
      DROP COLUMN resolution_working_s,
      DROP COLUMN first_response_working_s
    `,
  );
}
