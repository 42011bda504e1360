import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The optional service survey (SKR's servicemätning): when a case is resolved
 * and SURVEY_ENABLED is on, the resident gets one link by mail and may
 * answer three questions on a 1 to 5 scale. One row per case, at most: the
 * invitation, and its answers once given.
 *
 * - token_hash: sha256 (hex) of the random link token. The token itself is
 *   only in the mail, so the table alone cannot be used to answer.
 * - language, channel, category_id, department_id, assignee_id: copied from
 *   the case when the invitation is made, so the statistics filter without
 *   joining cases, and a later reassignment does not move an answer.
 * - treatment (bemötande), ease (enkelhet), clarity (tydlighet): 1 to 5,
 *   each optional; an answered survey has at least one. No free text, so no
 *   personal data is given in an answer.
 * - The row names its case: that keeps one survey per case (also after a
 *   reopen), and removing a case removes its survey. Nothing shows an answer
 *   per case; the answers are only read as sums.
 *
 * Indexes: answers by answered_at for the indices of a period, and
 * invitations by created_at for the response rate, both covering the filters.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE TABLE service_surveys (
      id            bigserial PRIMARY KEY,
      case_id       bigint NOT NULL UNIQUE REFERENCES cases (id) ON DELETE CASCADE,
      token_hash    text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      language      text NOT NULL CHECK (language IN ('sv', 'en', 'ar')),
      channel       text NOT NULL CHECK (channel IN ('web', 'email', 'phone', 'visit', 'api')),
      category_id   integer NOT NULL,
      department_id integer REFERENCES departments (id),
      assignee_id   integer REFERENCES users (id),
      created_at    timestamptz NOT NULL DEFAULT now(),
      expires_at    timestamptz NOT NULL,
      answered_at   timestamptz,
      treatment     smallint CHECK (treatment BETWEEN 1 AND 5),
      ease          smallint CHECK (ease BETWEEN 1 AND 5),
      clarity       smallint CHECK (clarity BETWEEN 1 AND 5),
      CONSTRAINT service_surveys_expiry_check CHECK (expires_at > created_at),
      CONSTRAINT service_surveys_answers_check CHECK (
        CASE WHEN answered_at IS NULL
          THEN treatment IS NULL AND ease IS NULL AND clarity IS NULL
          ELSE treatment IS NOT NULL OR ease IS NOT NULL OR clarity IS NOT NULL
        END
      )
    );

    CREATE INDEX service_surveys_answered_idx ON service_surveys (answered_at)
      INCLUDE (channel, category_id, department_id, assignee_id, treatment, ease, clarity)
      WHERE answered_at IS NOT NULL;

    CREATE INDEX service_surveys_created_idx ON service_surveys (created_at)
      INCLUDE (channel, category_id, department_id, assignee_id, answered_at)
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `DROP TABLE service_surveys`);
}
