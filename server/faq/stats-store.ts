import type { Knex } from 'knex';
import type { FaqCategory, FaqLang } from './store.js';

/**
 * Contact-form visits that opened an FAQ suggestion in [from, to): how many;
 * of those, how many sent the form anyway; and how many did not and whose
 * last opened suggestion is older than `settledBefore` (a contact the FAQ
 * saved). The FAQ statistics page and the history report both count this way.
 */
export async function deflectionCounts(db: Knex, range: { from: Date; to?: Date }, settledBefore: Date): Promise<DeflectionCounts> {
  const row = await db('faq_deflections')
    .where('opened_at', '>=', range.from)
    .modify((q) => {
      if (range.to) q.andWhere('opened_at', '<', range.to);
    })
    .first(
      db.raw('count(*) AS opened'),
      db.raw('count(*) FILTER (WHERE submitted_at IS NOT NULL) AS submitted'),
      db.raw('count(*) FILTER (WHERE submitted_at IS NULL AND last_opened_at < ?) AS deflected', [settledBefore]),
    );
  const r = (row ?? {}) as Record<string, unknown>;
  return { opened: Number(r.opened ?? 0), submitted: Number(r.submitted ?? 0), deflected: Number(r.deflected ?? 0) };
}

export interface ArticleRef {
  article_id: number;
  category: FaqCategory;
  slug: string;
  /** The published Swedish title, else the newest Swedish one (null if the article has no Swedish text). */
  title: string | null;
}

export interface ReplyUseRow extends ArticleRef {
  uses: number;
}

export interface FeedbackRow extends ArticleRef {
  helpful: number;
  unhelpful: number;
  total: number;
}

export interface FeedbackComment {
  article_id: number;
  lang: FaqLang;
  comment: string;
  created_at: Date;
}

export interface DeflectionCounts {
  opened: number;
  submitted: number;
  deflected: number;
}

const TITLE_SV = `(SELECT v.title FROM faq_versions v WHERE v.article_id = a.id AND v.lang = 'sv' ORDER BY (v.status = 'published') DESC, v.version DESC LIMIT 1)`;

/** The SQL of the managers' FAQ statistics: reply uses, readers' feedback and deflected contacts in a period. */
export function createFaqStatsStore(db: Knex) {
  return {
    /** The articles linked most often in agents' replies since `since`. */
    mostUsedInReplies: async (since: Date, limit: number): Promise<ReplyUseRow[]> => {
      const { rows } = await db.raw<{ rows: ReplyUseRow[] }>(
        `SELECT a.id AS article_id, a.category, a.slug, ${TITLE_SV} AS title, u.uses
           FROM (SELECT article_id, count(*) AS uses FROM faq_reply_uses WHERE created_at >= ? GROUP BY article_id) u
           JOIN faq_articles a ON a.id = u.article_id
          ORDER BY u.uses DESC, a.id
          LIMIT ?`,
        [since, limit],
      );
      return rows.map((r) => ({ ...r, uses: Number(r.uses) }));
    },

    /**
     * Readers' yes/no answers per article since `since`, the articles with
     * the most answers of the one kind first (those with none left out).
     */
    feedbackRanking: async (since: Date, by: 'helpful' | 'unhelpful', limit: number): Promise<FeedbackRow[]> => {
      const { rows } = await db.raw<{ rows: FeedbackRow[] }>(
        `SELECT a.id AS article_id, a.category, a.slug, ${TITLE_SV} AS title, f.helpful, f.unhelpful, f.total
           FROM (SELECT article_id,
                        count(*) FILTER (WHERE helpful) AS helpful,
                        count(*) FILTER (WHERE NOT helpful) AS unhelpful,
                        count(*) AS total
                   FROM faq_feedback WHERE created_at >= ? GROUP BY article_id) f
           JOIN faq_articles a ON a.id = f.article_id
          WHERE f.${by} > 0
          ORDER BY f.${by} DESC, f.${by}::float / f.total DESC, a.id
          LIMIT ?`,
        [since, limit],
      );
      return rows.map((r) => ({ ...r, helpful: Number(r.helpful), unhelpful: Number(r.unhelpful), total: Number(r.total) }));
    },

    /** The newest comments given with a "no" since `since`, at most `perArticle` per article. */
    unhelpfulComments: async (articleIds: number[], since: Date, perArticle: number): Promise<FeedbackComment[]> => {
      if (!articleIds.length) return [];
      const ranked = db('faq_feedback')
        .select('article_id', 'lang', 'comment', 'created_at', db.raw('row_number() OVER (PARTITION BY article_id ORDER BY created_at DESC, id DESC) AS n'))
        .whereIn('article_id', articleIds)
        .where('helpful', false)
        .where('created_at', '>=', since)
        .whereRaw(`btrim(comment) <> ''`)
        .as('ranked');
      return db
        .from(ranked)
        .where('n', '<=', perArticle)
        .orderBy([{ column: 'article_id' }, { column: 'created_at', order: 'desc' }])
        .select('article_id', 'lang', 'comment', 'created_at') as unknown as Promise<FeedbackComment[]>;
    },

    /** Visits that opened a suggestion since `since` (deflectionCounts). */
    deflections: (since: Date, settledBefore: Date): Promise<DeflectionCounts> => deflectionCounts(db, { from: since }, settledBefore),
  };
}

export type FaqStatsStore = ReturnType<typeof createFaqStatsStore>;
