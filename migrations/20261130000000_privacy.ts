import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Privacy and public records (issue 8):
 * - a topic may ask the web form for a personnummer, kept on the case;
 * - protected identity (skyddad identitet) on a resident, and the permission
 *   to see such a resident's contact details;
 * - the access log: who viewed or exported what, and when (kept, never edited);
 * - per-account sign-in failures, for a lockout that parallel requests cannot race;
 * - retention (gallring): rules per topic or department, a legal hold per
 *   case, and a record of every run (kept, never edited).
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    ALTER TABLE categories ADD COLUMN asks_personnummer boolean NOT NULL DEFAULT false;
    -- 12 digits, no separator (YYYYMMDDNNNC); the masked form is shown everywhere but the case view.
    ALTER TABLE cases ADD COLUMN personnummer text CONSTRAINT cases_personnummer_check CHECK (personnummer ~ '^[0-9]{12}$');

    ALTER TABLE residents ADD COLUMN protected_identity boolean NOT NULL DEFAULT false;
    ALTER TABLE users ADD COLUMN sees_protected boolean NOT NULL DEFAULT false;

    ALTER TABLE cases ADD COLUMN legal_hold boolean NOT NULL DEFAULT false;
    ALTER TABLE cases ADD COLUMN legal_hold_reason text CHECK (length(legal_hold_reason) <= 500);
    ALTER TABLE cases ADD COLUMN anonymized_at timestamptz;

    CREATE TABLE access_log (
      id             bigserial PRIMARY KEY,
      user_id        integer REFERENCES users(id),
      token_id       integer REFERENCES api_tokens(id),
      action         text NOT NULL CHECK (action ~ '^[a-z][a-z_.]{1,62}$'),
      -- No foreign key: the log outlives what it names (a removed case keeps its entries).
      case_id        bigint,
      case_reference text,
      target         text CHECK (length(target) <= 500),
      detail         jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX access_log_created_idx ON access_log (created_at, id);
    CREATE INDEX access_log_case_idx ON access_log (case_reference, created_at) WHERE case_reference IS NOT NULL;
    CREATE INDEX access_log_user_idx ON access_log (user_id, created_at);

    CREATE FUNCTION sc_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is kept as written: rows are never changed or deleted', TG_TABLE_NAME; END $$;
    CREATE TRIGGER access_log_kept BEFORE UPDATE OR DELETE ON access_log FOR EACH ROW EXECUTE FUNCTION sc_append_only();
    CREATE TRIGGER access_log_kept_truncate BEFORE TRUNCATE ON access_log FOR EACH STATEMENT EXECUTE FUNCTION sc_append_only();

    CREATE TABLE login_failures (
      email_key    text PRIMARY KEY,             -- lower(trimmed e-mail), known account or not
      failures     integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      updated_at   timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE retention_rules (
      id            serial PRIMARY KEY,
      category_id   integer REFERENCES categories(id),
      department_id integer REFERENCES departments(id),
      keep_days     integer NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
      description   text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
      active        boolean NOT NULL DEFAULT true,
      created_by    integer REFERENCES users(id),
      created_at    timestamptz NOT NULL DEFAULT now(),
      CHECK ((category_id IS NULL) <> (department_id IS NULL))
    );
    CREATE UNIQUE INDEX retention_rules_category_idx ON retention_rules (category_id) WHERE active AND category_id IS NOT NULL;
    CREATE UNIQUE INDEX retention_rules_department_idx ON retention_rules (department_id) WHERE active AND department_id IS NOT NULL;

    CREATE TABLE retention_runs (
      id          bigserial PRIMARY KEY,
      rule_id     integer NOT NULL REFERENCES retention_rules(id),
      rule_text   text NOT NULL,                 -- the rule as it read when it ran
      trigger     text NOT NULL CHECK (trigger IN ('schedule', 'cli')),
      case_count  integer NOT NULL CHECK (case_count >= 0),
      started_at  timestamptz NOT NULL,
      finished_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX retention_runs_finished_idx ON retention_runs (finished_at);
    CREATE TRIGGER retention_runs_kept BEFORE UPDATE OR DELETE ON retention_runs FOR EACH ROW EXECUTE FUNCTION sc_append_only();
    CREATE TRIGGER retention_runs_kept_truncate BEFORE TRUNCATE ON retention_runs FOR EACH STATEMENT EXECUTE FUNCTION sc_append_only();

    -- Finished cases (resolved or closed) by the day they finished, for the retention job.
    CREATE INDEX cases_finished_retention_idx ON cases ((coalesce(closed_at, resolved_at))) WHERE status IN ('resolved', 'closed') AND anonymized_at IS NULL;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP INDEX cases_finished_retention_idx;
    DROP TABLE retention_runs;
    DROP TABLE retention_rules;
    DROP TABLE login_failures;
    DROP TABLE access_log;
    DROP FUNCTION sc_append_only();
    ALTER TABLE cases DROP COLUMN anonymized_at;
    ALTER TABLE cases DROP COLUMN legal_hold_reason;
    ALTER TABLE cases DROP COLUMN legal_hold;
    ALTER TABLE users DROP COLUMN sees_protected;
    ALTER TABLE residents DROP COLUMN protected_identity;
    ALTER TABLE cases DROP COLUMN personnummer;
    ALTER TABLE categories DROP COLUMN asks_personnummer;
  `,
  );
}
