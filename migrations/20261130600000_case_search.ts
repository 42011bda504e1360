import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Case search for staff (server/cases/search-store.ts).
 *
 * Words are found by substring (ILIKE '%word%') through trigram indexes, not
 * by full-text search: residents write in Swedish, English and Arabic, often
 * in compound words ("bygglovsansökan" holds "bygglov"), and the snippet
 * needs the exact place of the match. The same trigram index on message text
 * also serves the personnummer lookup, a regular expression over every way
 * the number can be written (pg_trgm indexes `~` as well as ILIKE).
 *
 * The GIN indexes are built without the pending list (fastupdate off), as in
 * the FAQ: the embedded database has no autovacuum to merge that list, and
 * while rows wait in it the planner prices the index so high that a search
 * scans the whole table. Messages come at human speed, so the slower insert
 * does not matter.
 *
 * messages had no index by case; the snippets are read per case.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX search_messages_body_trgm_idx ON messages USING gin (body gin_trgm_ops) WITH (fastupdate = off);
    CREATE INDEX search_cases_subject_trgm_idx ON cases USING gin (subject gin_trgm_ops) WITH (fastupdate = off);
    CREATE INDEX search_residents_name_trgm_idx ON residents USING gin (name gin_trgm_ops) WITH (fastupdate = off);
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
    DROP INDEX search_residents_name_trgm_idx;
    DROP INDEX search_cases_subject_trgm_idx;
    DROP INDEX search_messages_body_trgm_idx;
  `,
  );
}
