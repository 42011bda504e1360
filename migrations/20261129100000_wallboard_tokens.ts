import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * What an API token may do. 'full' (every token so far) acts as its user
 * with that user's role; 'wallboard' reads the live board and nothing else
 * (GET /api/v1/stats/live, the socket's board subscription and the TV page
 * /tavla), so a token left in a TV in the corridor opens no case. Made with
 * `npm run cli -- token:create --email E --scope wallboard`.
 *
 * The live board itself needs no new index: its reads walk cases_waiting_idx,
 * cases_arrival_metrics_idx, calls_offered_idx and callbacks_due_idx.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'full' CONSTRAINT api_tokens_scope_check CHECK (scope IN ('full', 'wallboard'))
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `ALTER TABLE api_tokens DROP COLUMN scope`);
}
