import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * How the FAQ is used and who writes it.
 *
 * - users.role gains 'editor': an agent who also writes the FAQ. Roles nest
 *   (agent < editor < manager < admin), so managers and admins edit too.
 * - faq_articles.updated_by/updated_at: who last changed an article.
 * - faq_feedback: "Did this help?" from a reader of an article: yes or no,
 *   an optional comment, and the language the article was read in. No
 *   reader is identified.
 * - faq_deflections: one row per contact-form visit in which the resident
 *   opened a suggested article (token from the form). submitted_at and
 *   case_id are set if they sent the form anyway; a row with neither, older
 *   than a while, is a contact the FAQ saved. No typed text is kept.
 * - faq_reply_uses: an article linked in an agent's reply, per case and
 *   message, for "most used in replies".
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    ALTER TABLE users DROP CONSTRAINT users_role_check;

    ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent', 'editor', 'manager', 'admin'));

    ALTER TABLE faq_articles ADD COLUMN updated_by integer REFERENCES users (id);

    CREATE TABLE faq_feedback (
      id          bigserial PRIMARY KEY,
      article_id  integer NOT NULL REFERENCES faq_articles (id) ON DELETE CASCADE,
      lang        text NOT NULL CHECK (lang IN ('sv', 'en', 'ar')),
      helpful     boolean NOT NULL,
      comment     text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX faq_feedback_article_idx ON faq_feedback (article_id, created_at);

    CREATE TABLE faq_deflections (
      token              text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{16,64}$'),
      lang               text NOT NULL DEFAULT 'sv' CHECK (lang IN ('sv', 'en', 'ar')),
      first_article_id   integer REFERENCES faq_articles (id) ON DELETE SET NULL,
      opened_count       integer NOT NULL DEFAULT 1 CHECK (opened_count >= 1),
      opened_at          timestamptz NOT NULL DEFAULT now(),
      last_opened_at     timestamptz NOT NULL DEFAULT now(),
      submitted_at       timestamptz,
      case_id            bigint REFERENCES cases (id) ON DELETE SET NULL
    );

    CREATE INDEX faq_deflections_opened_idx ON faq_deflections (opened_at);

    CREATE TABLE faq_reply_uses (
      id          bigserial PRIMARY KEY,
      article_id  integer NOT NULL REFERENCES faq_articles (id) ON DELETE CASCADE,
      case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
      message_id  bigint,
      user_id     integer REFERENCES users (id),
      created_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE (article_id, case_id, message_id)
    );

    CREATE INDEX faq_reply_uses_article_idx ON faq_reply_uses (article_id, created_at);
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP TABLE faq_reply_uses;
    DROP TABLE faq_deflections;
    DROP TABLE faq_feedback;
    ALTER TABLE faq_articles DROP COLUMN updated_by;
    ALTER TABLE users DROP CONSTRAINT users_role_check;
    ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent', 'manager', 'admin'));
    `,
  );
}
