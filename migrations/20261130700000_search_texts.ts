import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Keeps case intake fast with issue 8's checks and search in place (the
 * intake benchmark had fallen from 0.62 to 0.13 of its bare baseline):
 *
 * - Every new case and every automatic mail asks whether the resident has
 *   protected identity. Protected residents are few: a partial index on them
 *   answers that by reading a handful of rows, not every resident.
 * - Trigram indexes on messages, subjects and names made every intake write
 *   hundreds of trigrams into three GIN trees inside the intake transaction.
 *   The searchable text lives in search_texts instead, filled after commit
 *   from the event log (indexBatch in server/cases/search-store.ts): intake
 *   writes nothing for search, and a search first brings the index up to the
 *   newest event, so it never misses a case.
 *
 * Words are found by substring (ILIKE '%word%') through the trigram index,
 * not by full-text search: residents write in Swedish, English and Arabic,
 * often in compound words ("bygglovsansökan" holds "bygglov"), and the
 * snippet needs the exact place of the match. The same index serves the
 * personnummer lookup, a regular expression over every way the number can be
 * written (pg_trgm indexes `~` as well as ILIKE).
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE INDEX residents_protected_idx ON residents (id) WHERE protected_identity;

    -- One row per searchable text: a case's subject, a message, a resident's name.
    CREATE TABLE search_texts (
      kind      text NOT NULL CHECK (kind IN ('subject', 'message', 'name')),
      source_id bigint NOT NULL,   -- cases.id, messages.id or residents.id
      case_id   bigint,            -- the case of a subject or a message
      body      text NOT NULL,
      PRIMARY KEY (kind, source_id)
    );
    CREATE INDEX search_texts_case_idx ON search_texts (case_id) WHERE case_id IS NOT NULL;
    -- No pending list, as for the FAQ: the embedded database has no autovacuum to merge it.
    CREATE INDEX search_texts_trgm_idx ON search_texts USING gin (body gin_trgm_ops) WITH (fastupdate = off);

    -- How far the index has read the event log (case_events ids are in commit order).
    CREATE TABLE search_index_state (
      only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
      last_event_id bigint NOT NULL DEFAULT 0
    );

    INSERT INTO search_texts (kind, source_id, case_id, body) SELECT 'subject', id, id, subject FROM cases;
    INSERT INTO search_texts (kind, source_id, case_id, body) SELECT 'message', id, case_id, body FROM messages;
    INSERT INTO search_texts (kind, source_id, case_id, body) SELECT 'name', id, NULL, name FROM residents;
    INSERT INTO search_index_state (last_event_id) SELECT coalesce(max(id), 0) FROM case_events;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP TABLE search_index_state;
    DROP TABLE search_texts;
    DROP INDEX residents_protected_idx;
  `,
  );
}
