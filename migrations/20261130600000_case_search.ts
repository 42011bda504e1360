import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Case search for staff (server/cases/search-store.ts): the lookups by
 * personnummer and by case. The text itself is searched through
 * search_texts and its trigram index (20261130700000).
 *
 * messages had no index by case; the snippets are read per case.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX search_messages_case_idx ON messages (case_id, id);
    CREATE INDEX search_cases_personnummer_idx ON cases (personnummer) WHERE personnummer IS NOT NULL;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP INDEX search_cases_personnummer_idx;
    DROP INDEX search_messages_case_idx;
  `,
  );
}
