import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * The FAQ: articles and their versions per language.
 *
 * - faq_articles holds what is the same in every language: the category, the
 *   slug in the URL, the owning department, when it was last reviewed.
 * - faq_versions holds the text, one row per (article, language, version); at
 *   most one of them is published per (article, language), which a partial
 *   unique index both enforces and makes the published one quick to find.
 * - search_vector is generated with the text search configuration of the
 *   row's language (swedish, english, simple for Arabic): the CASE picks among
 *   constant configurations, so the expression stays immutable and works as a
 *   generated column on PostgreSQL 15 and on the embedded database alike.
 *   Title and keywords weigh most (A), then the summary (B), then the body (C).
 * - search_text (title and keywords) carries a trigram index for typos and
 *   compounds the stemmer does not split ("bygglovsansökan").
 * - faq_close_versions(q, lang): the published versions whose title and
 *   keywords are close to q by trigrams, always through the trigram index.
 *   The planner prices word_similarity like an addition, so on a small FAQ
 *   it scans the table and computes it for every row (about 40 µs each);
 *   the function's own setting steers only this lookup to the index.
 * Only published rows are searched, so the search indexes are partial. They
 * are built without GIN's pending list (fastupdate off): the embedded
 * database has no autovacuum to merge that list, and while rows wait in it
 * the planner prices the index so high that every search scans the table.
 * Articles are written rarely, so the slower insert does not matter.
 * search_text keeps no statistics: pg_trgm estimates a similarity condition
 * by computing it on every sampled value, which cost about 10 ms of planning
 * per search; the default estimate picks the same plan.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE TABLE faq_articles (
      id             serial PRIMARY KEY,
      category       text NOT NULL CHECK (category IN ('bygglov', 'forsorjningsstod', 'forskoleplats', 'servicecenter')),
      slug           text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,118}$'),
      department_id  integer REFERENCES departments (id),
      reviewed_at    date,
      popular        boolean NOT NULL DEFAULT false,
      created_at     timestamptz NOT NULL DEFAULT now(),
      updated_at     timestamptz NOT NULL DEFAULT now(),
      UNIQUE (category, slug)
    );

    CREATE INDEX faq_articles_department_idx ON faq_articles (department_id);

    CREATE TABLE faq_versions (
      id             serial PRIMARY KEY,
      article_id     integer NOT NULL REFERENCES faq_articles (id) ON DELETE CASCADE,
      lang           text NOT NULL CHECK (lang IN ('sv', 'en', 'ar')),
      version        integer NOT NULL CHECK (version >= 1),
      status         text NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
      title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
      summary        text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
      keywords       text NOT NULL DEFAULT '' CHECK (length(keywords) <= 2000),
      body_md        text NOT NULL DEFAULT '' CHECK (length(body_md) <= 100000),
      created_by     integer REFERENCES users (id),
      created_at     timestamptz NOT NULL DEFAULT now(),
      search_vector  tsvector GENERATED ALWAYS AS (CASE lang WHEN 'sv' THEN setweight(to_tsvector('swedish'::regconfig, title), 'A') || setweight(to_tsvector('swedish'::regconfig, keywords), 'A') || setweight(to_tsvector('swedish'::regconfig, summary), 'B') || setweight(to_tsvector('swedish'::regconfig, body_md), 'C') WHEN 'en' THEN setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, keywords), 'A') || setweight(to_tsvector('english'::regconfig, summary), 'B') || setweight(to_tsvector('english'::regconfig, body_md), 'C') ELSE setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, keywords), 'A') || setweight(to_tsvector('simple'::regconfig, summary), 'B') || setweight(to_tsvector('simple'::regconfig, body_md), 'C') END) STORED,
      search_text    text GENERATED ALWAYS AS (title || ' ' || keywords) STORED,
      UNIQUE (article_id, lang, version)
    );

    ALTER TABLE faq_versions ALTER COLUMN search_text SET STATISTICS 0;

    CREATE UNIQUE INDEX faq_versions_published_idx ON faq_versions (article_id, lang) WHERE status = 'published';

    CREATE INDEX faq_versions_search_idx ON faq_versions USING gin (search_vector) WITH (fastupdate = off) WHERE status = 'published';

    CREATE INDEX faq_versions_trgm_idx ON faq_versions USING gin (search_text gin_trgm_ops) WITH (fastupdate = off) WHERE status = 'published';

    CREATE FUNCTION faq_close_versions(q text, l text) RETURNS SETOF integer LANGUAGE sql STABLE SET enable_seqscan = off AS $$ SELECT id FROM faq_versions WHERE status = 'published' AND lang = l AND q <% search_text $$;
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP FUNCTION faq_close_versions(text, text);
    DROP TABLE faq_versions;
    DROP TABLE faq_articles;
    `,
  );
}
