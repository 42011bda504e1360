import type { Knex } from 'knex';
import type { FaqCategory, FaqLang } from './store.js';

export type VersionStatus = 'draft' | 'published' | 'archived';

/** An article as the editors' list shows it: the Swedish title and the state of each language. */
export interface EditorArticleRow {
  id: number;
  category: FaqCategory;
  slug: string;
  department_id: number | null;
  department_name: string | null;
  /** YYYY-MM-DD, or null when never reviewed. */
  reviewed_at: string | null;
  popular: boolean;
  updated_at: Date;
  updated_by_name: string | null;
  /** The published Swedish title, else the newest Swedish one. */
  title: string | null;
}

/** Per article and language: the published version number and the newest draft's and version's. */
export interface LangVersionsRow {
  article_id: number;
  lang: FaqLang;
  published: number | null;
  draft: number | null;
  newest: number;
}

export interface EditorVersionRow {
  id: number;
  article_id: number;
  lang: FaqLang;
  version: number;
  status: VersionStatus;
  title: string;
  summary: string;
  keywords: string;
  body_md: string;
  created_by: number | null;
  created_by_name: string | null;
  created_at: Date;
}

export interface VersionText {
  title: string;
  summary: string;
  keywords: string;
  body_md: string;
}

const VERSION_COLUMNS = ['v.id', 'v.article_id', 'v.lang', 'v.version', 'v.status', 'v.title', 'v.summary', 'v.keywords', 'v.body_md', 'v.created_by', 'v.created_at'];

/** The SQL of the FAQ editor: articles, their versions per language, and who changed them. */
export function createFaqEditorStore(db: Knex) {
  const articles = (conn: Knex) =>
    conn('faq_articles as a')
      .leftJoin('departments as d', 'd.id', 'a.department_id')
      .leftJoin('users as u', 'u.id', 'a.updated_by')
      .select(
        'a.id',
        'a.category',
        'a.slug',
        'a.department_id',
        'd.name as department_name',
        conn.raw(`to_char(a.reviewed_at, 'YYYY-MM-DD') AS reviewed_at`),
        'a.popular',
        'a.updated_at',
        'u.name as updated_by_name',
        conn.raw(
          `(SELECT v.title FROM faq_versions v WHERE v.article_id = a.id AND v.lang = 'sv' ORDER BY (v.status = 'published') DESC, v.version DESC LIMIT 1) AS title`,
        ),
      );

  return {
    /**
     * Every article; with `reviewedBefore` only those reviewed before that
     * date or never, the longest overdue first.
     */
    listArticles: (opts: { reviewedBefore?: string } = {}): Promise<EditorArticleRow[]> => {
      const q = articles(db);
      if (opts.reviewedBefore !== undefined) {
        q.where((w) => w.whereNull('a.reviewed_at').orWhere('a.reviewed_at', '<', opts.reviewedBefore!));
        q.orderByRaw('a.reviewed_at ASC NULLS FIRST, a.category, a.id');
      } else {
        q.orderByRaw('a.category, title, a.id');
      }
      return q as unknown as Promise<EditorArticleRow[]>;
    },

    findArticle: async (id: number, conn: Knex = db): Promise<EditorArticleRow | undefined> =>
      (await articles(conn).where('a.id', id).first()) as EditorArticleRow | undefined,

    /** Locks the article row until the transaction ends: every change to an article's versions takes this lock first. */
    lockArticle: async (trx: Knex.Transaction, id: number): Promise<boolean> => {
      const row = await trx('faq_articles').where({ id }).forUpdate().first('id');
      return row !== undefined;
    },

    langVersions: (articleIds: number[]): Promise<LangVersionsRow[]> =>
      db('faq_versions')
        .whereIn('article_id', articleIds)
        .groupBy('article_id', 'lang')
        .select(
          'article_id',
          'lang',
          db.raw(`max(version) FILTER (WHERE status = 'published') AS published`),
          db.raw(`max(version) FILTER (WHERE status = 'draft') AS draft`),
          db.raw('max(version) AS newest'),
        ) as unknown as Promise<LangVersionsRow[]>,

    slugTaken: async (category: string, slug: string, conn: Knex = db): Promise<boolean> =>
      (await conn('faq_articles').where({ category, slug }).first('id')) !== undefined,

    departmentExists: async (id: number): Promise<boolean> => (await db('departments').where({ id }).first('id')) !== undefined,

    insertArticle: async (trx: Knex.Transaction, a: { category: string; slug: string; department_id: number | null; updated_by: number }): Promise<number> => {
      const [row] = await trx('faq_articles').insert(a).returning('id');
      return (row as { id: number }).id;
    },

    /** Records who changed the article, with any settings changed along. */
    touchArticle: (trx: Knex.Transaction, id: number, userId: number, patch: { department_id?: number | null; popular?: boolean; reviewed_at?: string } = {}) =>
      trx('faq_articles')
        .where({ id })
        .update({ ...patch, updated_by: userId, updated_at: trx.fn.now() }),

    /** Every version of the article, newest first within each language. */
    versions: (articleId: number, conn: Knex = db): Promise<EditorVersionRow[]> =>
      conn('faq_versions as v')
        .leftJoin('users as u', 'u.id', 'v.created_by')
        .where('v.article_id', articleId)
        .orderBy([{ column: 'v.lang' }, { column: 'v.version', order: 'desc' }])
        .select([...VERSION_COLUMNS, 'u.name as created_by_name']) as unknown as Promise<EditorVersionRow[]>,

    version: async (articleId: number, versionId: number, conn: Knex = db): Promise<EditorVersionRow | undefined> =>
      (await conn('faq_versions as v')
        .leftJoin('users as u', 'u.id', 'v.created_by')
        .where({ 'v.article_id': articleId, 'v.id': versionId })
        .first([...VERSION_COLUMNS, 'u.name as created_by_name'])) as EditorVersionRow | undefined,

    /** The newest version of the article in the language (read under the article's lock). */
    newestVersion: async (trx: Knex.Transaction, articleId: number, lang: FaqLang): Promise<EditorVersionRow | undefined> =>
      (await trx('faq_versions as v')
        .leftJoin('users as u', 'u.id', 'v.created_by')
        .where({ 'v.article_id': articleId, 'v.lang': lang })
        .orderBy('v.version', 'desc')
        .first([...VERSION_COLUMNS, 'u.name as created_by_name'])) as EditorVersionRow | undefined,

    publishedVersion: async (trx: Knex.Transaction, articleId: number, lang: FaqLang): Promise<EditorVersionRow | undefined> =>
      (await trx('faq_versions as v')
        .leftJoin('users as u', 'u.id', 'v.created_by')
        .where({ 'v.article_id': articleId, 'v.lang': lang, 'v.status': 'published' })
        .first([...VERSION_COLUMNS, 'u.name as created_by_name'])) as EditorVersionRow | undefined,

    /** A new version after the newest of its language; the caller holds the article's lock. */
    insertVersion: async (trx: Knex.Transaction, v: VersionText & { article_id: number; lang: FaqLang; status: VersionStatus; created_by: number }): Promise<number> => {
      const next = await trx('faq_versions').where({ article_id: v.article_id, lang: v.lang }).max<{ n: number | null }>({ n: 'version' }).first();
      const [row] = await trx('faq_versions')
        .insert({ ...v, version: Number(next?.n ?? 0) + 1 })
        .returning('id');
      return (row as { id: number }).id;
    },

    /** Rewrites a draft in place (a draft is not history yet). */
    updateDraft: (trx: Knex.Transaction, versionId: number, text: VersionText, userId: number) =>
      trx('faq_versions')
        .where({ id: versionId, status: 'draft' })
        .update({ ...text, created_by: userId, created_at: trx.fn.now() }),

    /** Archives the language's published version, if any: answers how many rows changed (0 or 1). */
    archivePublished: (trx: Knex.Transaction, articleId: number, lang: FaqLang): Promise<number> =>
      trx('faq_versions').where({ article_id: articleId, lang, status: 'published' }).update({ status: 'archived' }),

    setPublished: (trx: Knex.Transaction, versionId: number) => trx('faq_versions').where({ id: versionId }).update({ status: 'published' }),
  };
}

export type FaqEditorStore = ReturnType<typeof createFaqEditorStore>;
