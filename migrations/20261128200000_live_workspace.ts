import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The live workspace:
 *
 * - Case events become visible in id order. Each statement that inserts
 *   events first takes one transaction-scoped advisory lock, before any id is
 *   drawn, and keeps it until commit. So a transaction never commits an event
 *   id lower than one already committed, and a reader that has seen every
 *   event up to id N can resume from N without missing anything: that is what
 *   live pushes and reconnect catch-up rely on. The lock is held only from the
 *   first event insert to commit, which is the tail of every change.
 * - Agents' presence (available, busy, on a break) with its history.
 * - An index for "take next": the oldest case nobody has taken.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE FUNCTION case_events_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(7310385); RETURN NULL; END $$;

    CREATE TRIGGER case_events_commit_order BEFORE INSERT ON case_events FOR EACH STATEMENT EXECUTE FUNCTION case_events_in_commit_order();

    ALTER TABLE users ADD COLUMN presence text NOT NULL DEFAULT 'available' CHECK (presence IN ('available', 'busy', 'break'));

    ALTER TABLE users ADD COLUMN presence_changed_at timestamptz NOT NULL DEFAULT now();

    CREATE TABLE presence_log (
      id          bigserial PRIMARY KEY,
      user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      status      text NOT NULL CHECK (status IN ('available', 'busy', 'break')),
      changed_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX presence_log_user_idx ON presence_log (user_id, changed_at);

    CREATE INDEX cases_waiting_idx ON cases (created_at, id) WHERE status = 'new' AND assignee_id IS NULL
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP INDEX cases_waiting_idx;
    DROP TABLE presence_log;
    ALTER TABLE users DROP COLUMN presence_changed_at;
    ALTER TABLE users DROP COLUMN presence;
    DROP TRIGGER case_events_commit_order ON case_events;
    DROP FUNCTION case_events_in_commit_order()
    `,
  );
}
