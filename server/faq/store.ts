import type { Knex } from 'knex';

export const FAQ_CATEGORIES = ['bygglov', 'forsorjningsstod', 'forskoleplats', 'servicecenter'] as const;
export type FaqCategory = (typeof FAQ_CATEGORIES)[number];
export const FAQ_LANGS = ['sv', 'en', 'ar'] as const;
export type FaqLang = (typeof FAQ_LANGS)[number];

/** The text search configuration for each language: Arabic has no stemmer in PostgreSQL, so `simple`. */
export const TS_CONFIG: Record<FaqLang, 'swedish' | 'english' | 'simple'> = { sv: 'swedish', en: 'english', ar: 'simple' };

export interface FaqArticleRow {
  id: number;
  category: FaqCategory;
  slug: string;
  department_id: number | null;
  reviewed_at: string | null;
  popular: boolean;
}

export interface FaqVersionRow {
  id: number;
  article_id: number;
  lang: FaqLang;
  version: number;
  status: 'draft' | 'published' | 'archived';
  title: string;
  summary: string;
  keywords: string;
  body_md: string;
  created_by: number | null;
  created_at: Date;
}

export interface NewFaqArticle {
  category: FaqCategory;
  slug: string;
  department_id: number | null;
  reviewed_at: string | null;
  popular: boolean;
  versions: { lang: FaqLang; title: string; summary: string; keywords: string; body_md: string }[];
}

/** A published article for the lists, with its text in the reader's language or else in Swedish. */
export interface FaqListRow {
  id: number;
  category: FaqCategory;
  slug: string;
  popular: boolean;
  lang: FaqLang;
  title: string;
  summary: string;
}

/** The categories' order on the pages, for ORDER BY. */
const CATEGORY_ORDER = `CASE p.category ${FAQ_CATEGORIES.map((_, i) => `WHEN ? THEN ${i}`).join(' ')} END`;

export interface FaqSearchRow {
  slug: string;
  category: FaqCategory;
  title: string;
  summary: string;
  score: number;
}

/**
 * The parts of one search, already made safe by the service: `anyQuery` is a
 * tsquery text of quoted plain words joined by `|` (the last one possibly
 * with `:*`), `allQuery` the same joined by `&`, and `text` plain words
 * separated by spaces.
 */
export interface FaqSearchQuery {
  lang: FaqLang;
  anyQuery: string;
  allQuery: string;
  text: string;
  limit: number;
}

// Weights for D, C, B, A (ts_rank_cd's order); normalization 32 maps the rank into 0..1.
const WEIGHTS = '{0.05, 0.2, 0.5, 1.0}';
/** How many candidates each way of matching may contribute: the ranking reads every candidate's whole tsvector. */
export const CANDIDATES = { all: 300, similar: 100, any: 50 } as const;

/**
 * Candidates come three ways, each from its index and each bounded, so the
 * cost of a search follows the size of its answer, not of the FAQ:
 * - all: every word matches (the last one also as a prefix), in any part;
 * - similar: title and keywords are close by trigrams (typos, compounds);
 * - any: some word matches, only looked for when the first two found fewer
 *   than asked for (a question in many words, of which some are not used).
 * Then only the candidates are ranked: the weighted cover density of any
 * word, a bonus for matching all words, and the trigram similarity.
 * The matches are MATERIALIZED and limited outside: with the LIMIT inside,
 * the planner hopes to find the first rows early in a sequential scan, and
 * checking each row's tsvector costs far more than it assumes.
 */
const SEARCH_SQL = `
  WITH all_hits AS MATERIALIZED (
    SELECT v.id FROM faq_versions v
     WHERE v.status = 'published' AND v.lang = :lang AND v.search_vector @@ to_tsquery(CAST(:cfg AS regconfig), :allq)
  ), close_hits AS MATERIALIZED (
    SELECT id FROM faq_close_versions(:text, :lang) AS id
  ), all_words AS (
    SELECT id FROM all_hits LIMIT ${CANDIDATES.all}
  ), close_words AS (
    SELECT id FROM close_hits LIMIT ${CANDIDATES.similar}
  ), any_hits AS MATERIALIZED (
    SELECT v.id FROM faq_versions v
     WHERE v.status = 'published' AND v.lang = :lang AND v.search_vector @@ to_tsquery(CAST(:cfg AS regconfig), :anyq)
       AND (SELECT count(*) FROM (SELECT id FROM all_words UNION SELECT id FROM close_words) AS found) < :limit
  ), candidates AS (
    SELECT id, bool_or(complete) AS complete
      FROM (SELECT id, true AS complete FROM all_words
            UNION ALL SELECT id, false FROM close_words
            UNION ALL (SELECT id, false FROM any_hits LIMIT ${CANDIDATES.any})) AS c
     GROUP BY id
  )
  SELECT a.slug, a.category, v.title, v.summary,
         ts_rank_cd(CAST('${WEIGHTS}' AS float4[]), v.search_vector, to_tsquery(CAST(:cfg AS regconfig), :anyq), 32)
         + CASE WHEN c.complete THEN 0.3 ELSE 0 END
         + 0.6 * word_similarity(:text, v.search_text) AS score
    FROM candidates c
    JOIN faq_versions v ON v.id = c.id
    JOIN faq_articles a ON a.id = v.article_id
   ORDER BY score DESC, a.popular DESC, a.id
   LIMIT :limit`;

export function createFaqStore(db: Knex) {
  return {
    countArticles: async (conn: Knex = db): Promise<number> => {
      const row = await conn('faq_articles').count<{ n: string | number }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },

    /** One article and its published versions (version 1), on `conn` (a transaction when seeding). */
    insertPublished: async (conn: Knex, a: NewFaqArticle): Promise<number> => {
      const [row] = await conn('faq_articles')
        .insert({ category: a.category, slug: a.slug, department_id: a.department_id, reviewed_at: a.reviewed_at, popular: a.popular })
        .returning('id');
      const id = (row as { id: number }).id;
      await conn('faq_versions').insert(a.versions.map((v) => ({ article_id: id, version: 1, status: 'published', ...v })));
      return id;
    },

    departmentIdsBySlug: async (conn: Knex = db): Promise<Map<string, number>> => {
      const rows = await conn('departments').select<{ id: number; slug: string }[]>('id', 'slug');
      return new Map(rows.map((r) => [r.slug, r.id]));
    },

    search: async (q: FaqSearchQuery): Promise<FaqSearchRow[]> => {
      const { rows } = await db.raw<{ rows: (Omit<FaqSearchRow, 'score'> & { score: number | string })[] }>(SEARCH_SQL, {
        cfg: TS_CONFIG[q.lang],
        anyq: q.anyQuery,
        allq: q.allQuery,
        text: q.text,
        lang: q.lang,
        limit: q.limit,
      });
      return rows.map((r) => ({ ...r, score: Number(r.score) }));
    },

    findArticle: (category: string, slug: string) => db('faq_articles').where({ category, slug }).first<FaqArticleRow | undefined>(),

    /** The published versions of an article in the given languages. */
    publishedVersions: (articleIds: number[], langs: FaqLang[]) =>
      db<FaqVersionRow>('faq_versions')
        .whereIn('article_id', articleIds)
        .whereIn('lang', langs)
        .where({ status: 'published' })
        .select('id', 'article_id', 'lang', 'version', 'status', 'title', 'summary', 'keywords', 'body_md', 'created_by', 'created_at'),

    /**
     * The published articles of one category, or of all (in FAQ_CATEGORIES
     * order), each category's popular ones first, in one query: each with its
     * text in `lang`, or in Swedish when it is not published in `lang`; an
     * article with neither is left out.
     */
    listPublished: (lang: FaqLang, category?: FaqCategory): Promise<FaqListRow[]> => {
      const picked = db('faq_articles as a')
        .join('faq_versions as v', 'v.article_id', 'a.id')
        .where('v.status', 'published')
        .whereIn('v.lang', lang === 'sv' ? ['sv'] : [lang, 'sv'])
        .modify((q) => {
          if (category) q.where('a.category', category);
        })
        .distinctOn('a.id')
        .select('a.id', 'a.category', 'a.slug', 'a.popular', 'v.lang', 'v.title', 'v.summary')
        .orderBy('a.id')
        .orderByRaw('v.lang = ? DESC', [lang]);
      return db
        .from(picked.as('p'))
        .select<FaqListRow[]>('*')
        .orderByRaw(CATEGORY_ORDER, [...FAQ_CATEGORIES])
        .orderBy([{ column: 'p.popular', order: 'desc' }, { column: 'p.id' }]);
    },
  };
}

export type FaqStore = ReturnType<typeof createFaqStore>;
