import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The scheduled retention run (server/retention/job.ts) claims its day here
 * before it starts: one row per local day, inserted by whichever instance
 * gets there first (INSERT … ON CONFLICT DO NOTHING). So with several
 * instances on one database the day's run happens once, an instance started
 * after the run time still runs a day that nobody ran, and no connection is
 * held for the length of a run (the embedded database has only one).
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE TABLE retention_schedule (
      run_date    date PRIMARY KEY,
      instance    text NOT NULL CHECK (length(instance) <= 200),
      claimed_at  timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      error       text CHECK (length(error) <= 2000)
    )
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `DROP TABLE retention_schedule`);
}
