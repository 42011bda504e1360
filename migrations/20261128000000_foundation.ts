import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The foundation schema: people, the organisation, cases and their append-only
 * event log, messages, attachments, the mail outbox, sessions and API tokens.
 * Plain SQL that runs on PostgreSQL 15 and on PGlite.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE TABLE departments (
      id          serial PRIMARY KEY,
      slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      email       text,
      active      boolean NOT NULL DEFAULT true,
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE categories (
      id            serial PRIMARY KEY,
      slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name_sv       text NOT NULL CHECK (length(name_sv) BETWEEN 1 AND 200),
      name_en       text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
      description_sv text NOT NULL DEFAULT '',
      description_en text NOT NULL DEFAULT '',
      department_id integer REFERENCES departments(id),
      sort_order    integer NOT NULL DEFAULT 100,
      active        boolean NOT NULL DEFAULT true,
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE FUNCTION categories_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'topics are never deleted or renumbered; deactivate the topic instead'; END $$;

    CREATE TRIGGER categories_no_delete BEFORE DELETE ON categories FOR EACH ROW EXECUTE FUNCTION categories_are_kept();

    CREATE TRIGGER categories_no_renumber BEFORE UPDATE OF id ON categories FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION categories_are_kept();

    CREATE TRIGGER categories_no_truncate BEFORE TRUNCATE ON categories FOR EACH STATEMENT EXECUTE FUNCTION categories_are_kept();

    CREATE TABLE users (
      id            serial PRIMARY KEY,
      email         text NOT NULL,
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      role          text NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
      password_hash text NOT NULL,
      active        boolean NOT NULL DEFAULT true,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_idx ON users (lower(email));

    CREATE TABLE sessions (
      id           text PRIMARY KEY,               -- sha256 of the cookie token
      user_id      integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      csrf_secret  text NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at   timestamptz NOT NULL
    );
    CREATE INDEX sessions_user_idx ON sessions (user_id);

    CREATE TABLE api_tokens (
      id           serial PRIMARY KEY,
      user_id      integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      token_hash   text NOT NULL UNIQUE,           -- sha256 of the bearer token
      name         text NOT NULL DEFAULT '',
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at   timestamptz
    );

    CREATE TABLE residents (
      id          bigserial PRIMARY KEY,
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      email       text,
      phone       text,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      CHECK (email IS NOT NULL OR phone IS NOT NULL)
    );
    CREATE UNIQUE INDEX residents_email_idx ON residents (lower(email)) WHERE email IS NOT NULL;
    CREATE INDEX residents_phone_idx ON residents (phone) WHERE phone IS NOT NULL;

    CREATE SEQUENCE case_number_seq;

    CREATE TABLE cases (
      id                  bigserial PRIMARY KEY,
      reference           text NOT NULL UNIQUE,
      status              text NOT NULL DEFAULT 'new'
                          CHECK (status IN ('new', 'open', 'waiting', 'forwarded', 'resolved', 'closed')),
      channel             text NOT NULL CHECK (channel IN ('web', 'email', 'phone', 'visit', 'api')),
      -- No foreign key: its check locks the topic's row on every new case, and
      -- with a handful of topics concurrent intake queues on those locks. Topics
      -- are never deleted (the trigger below), so the reference always holds.
      category_id         integer NOT NULL,
      department_id       integer REFERENCES departments(id),
      assignee_id         integer REFERENCES users(id),
      resident_id         bigint NOT NULL REFERENCES residents(id),
      subject             text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
      language            text NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en', 'ar')),
      resident_token      text NOT NULL UNIQUE,
      -- millisecond precision, so a keyset cursor round-trips through a JS Date
      created_at          timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      -- per-case metrics kept current as things happen, for statistics
      first_response_at   timestamptz,
      resolved_at         timestamptz,
      closed_at           timestamptz,
      resolved_at_first_contact boolean,
      agent_reply_count   integer NOT NULL DEFAULT 0,
      resident_message_count integer NOT NULL DEFAULT 0,
      forward_count       integer NOT NULL DEFAULT 0,
      reopen_count        integer NOT NULL DEFAULT 0
    );
    CREATE INDEX cases_queue_idx ON cases (created_at, id)
      WHERE status IN ('new', 'open', 'waiting', 'forwarded');
    CREATE INDEX cases_category_idx ON cases (category_id, created_at, id);
    CREATE INDEX cases_created_idx ON cases (created_at, id);
    CREATE INDEX cases_resident_idx ON cases (resident_id);
    CREATE INDEX cases_assignee_idx ON cases (assignee_id) WHERE assignee_id IS NOT NULL;

    CREATE TABLE case_events (
      id          bigserial PRIMARY KEY,
      case_id     bigint NOT NULL REFERENCES cases(id),
      type        text NOT NULL,
      actor_type  text NOT NULL CHECK (actor_type IN ('resident', 'user', 'system')),
      actor_id    integer REFERENCES users(id),
      payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
      internal    boolean NOT NULL DEFAULT false,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX case_events_case_idx ON case_events (case_id, id);

    CREATE TABLE messages (
      id          bigserial PRIMARY KEY,
      case_id     bigint NOT NULL REFERENCES cases(id),
      event_id    bigint REFERENCES case_events(id),
      kind        text NOT NULL CHECK (kind IN ('resident', 'reply', 'note')),
      author_id   integer REFERENCES users(id),
      channel     text NOT NULL,
      body        text NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX messages_event_idx ON messages (event_id);

    CREATE TABLE attachments (
      id            bigserial PRIMARY KEY,
      case_id       bigint NOT NULL REFERENCES cases(id),
      message_id    bigint REFERENCES messages(id),
      public_id     text NOT NULL UNIQUE,
      filename      text NOT NULL,
      content_type  text NOT NULL,
      size_bytes    integer NOT NULL,
      sha256        text NOT NULL,
      storage_key   text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX attachments_case_idx ON attachments (case_id);

    CREATE TABLE mail_outbox (
      id            bigserial PRIMARY KEY,
      case_id       bigint REFERENCES cases(id),
      kind          text NOT NULL,
      to_address    text NOT NULL,
      subject       text NOT NULL,
      text_body     text NOT NULL,
      message_id    text NOT NULL UNIQUE,
      in_reply_to   text,
      status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      attempts      integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error    text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      sent_at       timestamptz
    );
    CREATE INDEX mail_outbox_pending_idx ON mail_outbox (next_attempt_at) WHERE status = 'pending';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP TABLE mail_outbox;
    DROP TABLE attachments;
    DROP TABLE messages;
    DROP TABLE case_events;
    DROP TABLE cases;
    DROP SEQUENCE case_number_seq;
    DROP TABLE residents;
    DROP TABLE api_tokens;
    DROP TABLE sessions;
    DROP TABLE users;
    DROP TABLE categories;
    DROP FUNCTION categories_are_kept();
    DROP TABLE departments;
  `,
  );
}
