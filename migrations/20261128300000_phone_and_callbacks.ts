import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Phone and walk-in contacts, callbacks and telephony events.
 *
 * - cases.queue_at: when a case wants attention. A new case wants it at
 *   once (its created_at); a callback when it is due. The queue and "take
 *   next" go by it, so a callback for tomorrow morning waits until then.
 * - Phone numbers are compared by a key (digits, Swedish national numbers as
 *   46…), kept beside the number, so a caller is matched to their earlier
 *   cases and callbacks however the number was written.
 * - callbacks and their attempts; calls and the raw events they came from.
 * - users.phone_extension: which agent answered, when the telephony platform
 *   names an extension.
 * - A resident may be anonymous: a caller who gives no name or number still
 *   makes a contact that counts.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE FUNCTION sc_phone_key(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN d = '' THEN NULL WHEN d LIKE '00%' THEN substr(d, 3) WHEN d LIKE '0%' THEN '46' || substr(d, 2) ELSE d END FROM (SELECT regexp_replace(coalesce(p, ''), '[^0-9]', '', 'g') AS d) AS digits $$;

    ALTER TABLE residents DROP CONSTRAINT residents_check;

    ALTER TABLE residents ADD COLUMN phone_key text GENERATED ALWAYS AS (sc_phone_key(phone)) STORED;

    CREATE INDEX residents_phone_key_idx ON residents (phone_key) WHERE phone_key IS NOT NULL;

    ALTER TABLE cases ADD COLUMN queue_at timestamptz;

    UPDATE cases SET queue_at = created_at;

    ALTER TABLE cases ALTER COLUMN queue_at SET NOT NULL;

    CREATE FUNCTION cases_queue_at_default() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.queue_at := coalesce(NEW.queue_at, NEW.created_at, now()); RETURN NEW; END $$;

    CREATE TRIGGER cases_queue_at BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION cases_queue_at_default();

    DROP INDEX cases_queue_idx;

    CREATE INDEX cases_queue_idx ON cases (queue_at, id) WHERE status IN ('new', 'open', 'waiting', 'forwarded');

    DROP INDEX cases_category_idx;

    CREATE INDEX cases_category_idx ON cases (category_id, queue_at, id);

    CREATE INDEX cases_queue_all_idx ON cases (queue_at, id);

    DROP INDEX cases_waiting_idx;

    CREATE INDEX cases_waiting_idx ON cases (queue_at, id) WHERE status = 'new' AND assignee_id IS NULL;

    ALTER TABLE users ADD COLUMN phone_extension text CHECK (phone_extension ~ '^[0-9]{1,12}$');

    CREATE UNIQUE INDEX users_phone_extension_idx ON users (phone_extension) WHERE phone_extension IS NOT NULL;

    CREATE TABLE callbacks (
      id              bigserial PRIMARY KEY,
      case_id         bigint NOT NULL UNIQUE REFERENCES cases(id),
      phone           text NOT NULL,
      phone_key       text GENERATED ALWAYS AS (sc_phone_key(phone)) STORED,
      -- the resident's preferred window; attempts may go on after it, up to max_attempts
      window_start    timestamptz NOT NULL,
      window_end      timestamptz NOT NULL CHECK (window_end > window_start),
      status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')),
      attempts        integer NOT NULL DEFAULT 0,
      max_attempts    integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),
      next_attempt_at timestamptz NOT NULL,
      source          text NOT NULL CHECK (source IN ('web', 'agent', 'telephony')),
      -- the missed call it was made for: at most one callback per call
      call_id         text,
      outcome         text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      completed_at    timestamptz
    );

    CREATE INDEX callbacks_due_idx ON callbacks (next_attempt_at) WHERE status = 'pending';

    CREATE INDEX callbacks_phone_idx ON callbacks (phone_key);

    CREATE UNIQUE INDEX callbacks_call_idx ON callbacks (call_id) WHERE call_id IS NOT NULL;

    CREATE TABLE callback_attempts (
      id            bigserial PRIMARY KEY,
      callback_id   bigint NOT NULL REFERENCES callbacks(id),
      user_id       integer NOT NULL REFERENCES users(id),
      result        text NOT NULL CHECK (result IN ('reached', 'no_answer', 'busy', 'wrong_number')),
      note          text NOT NULL DEFAULT '',
      attempted_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX callback_attempts_callback_idx ON callback_attempts (callback_id, id);

    CREATE TABLE calls (
      id            bigserial PRIMARY KEY,
      call_id       text NOT NULL UNIQUE,
      caller        text,
      caller_key    text GENERATED ALWAYS AS (sc_phone_key(caller)) STORED,
      queue         text,
      state         text NOT NULL CHECK (state IN ('offered', 'answered', 'ended')),
      outcome       text CHECK (outcome IN ('completed', 'abandoned', 'busy', 'no_answer')),
      offered_at    timestamptz,
      answered_at   timestamptz,
      ended_at      timestamptz,
      agent_id      integer REFERENCES users(id),
      extension     text,
      callback_id   bigint REFERENCES callbacks(id),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX calls_offered_idx ON calls (offered_at DESC, id DESC);

    CREATE INDEX calls_caller_idx ON calls (caller_key);

    CREATE TABLE call_events (
      id            bigserial PRIMARY KEY,
      -- the platform's own id for the event: a repeat is recognised and ignored
      event_id      text NOT NULL UNIQUE,
      call_id       text NOT NULL,
      type          text NOT NULL CHECK (type IN ('call.offered', 'call.answered', 'call.ended')),
      occurred_at   timestamptz NOT NULL,
      payload       jsonb NOT NULL,
      received_at   timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX call_events_call_idx ON call_events (call_id, occurred_at, id)
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP TABLE call_events;
    DROP TABLE calls;
    DROP TABLE callback_attempts;
    DROP TABLE callbacks;
    DROP INDEX users_phone_extension_idx;
    ALTER TABLE users DROP COLUMN phone_extension;
    DROP INDEX cases_waiting_idx;
    CREATE INDEX cases_waiting_idx ON cases (created_at, id) WHERE status = 'new' AND assignee_id IS NULL;
    DROP INDEX cases_queue_all_idx;
    DROP INDEX cases_category_idx;
    CREATE INDEX cases_category_idx ON cases (category_id, created_at, id);
    DROP INDEX cases_queue_idx;
    CREATE INDEX cases_queue_idx ON cases (created_at, id) WHERE status IN ('new', 'open', 'waiting', 'forwarded');
    DROP TRIGGER cases_queue_at ON cases;
    DROP FUNCTION cases_queue_at_default();
    ALTER TABLE cases DROP COLUMN queue_at;
    DROP INDEX residents_phone_key_idx;
    ALTER TABLE residents DROP COLUMN phone_key;
    ALTER TABLE residents ADD CONSTRAINT residents_check CHECK (email IS NOT NULL OR phone IS NOT NULL) NOT VALID;
    DROP FUNCTION sc_phone_key(text)
    `,
  );
}
