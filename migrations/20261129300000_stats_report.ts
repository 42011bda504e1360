import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The history report reads callbacks by the day they were asked for, so a
 * report over a period reads that period's callbacks only, however many
 * years of callbacks the table holds.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `CREATE INDEX callbacks_created_idx ON callbacks (created_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `DROP INDEX callbacks_created_idx`);
}
