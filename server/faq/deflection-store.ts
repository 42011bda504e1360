import type { Knex } from 'knex';
import type { FaqLang } from './store.js';

export interface FaqDeflectionRow {
  token: string;
  lang: FaqLang;
  first_article_id: number | null;
  opened_count: number;
  opened_at: Date;
  last_opened_at: Date;
  submitted_at: Date | null;
  case_id: number | null;
}

/** SQL for faq_deflections: one row per contact-form visit in which a suggested article was opened. */
export function createFaqDeflectionStore(db: Knex) {
  return {
    /** The id of a published article (in any language), or undefined. */
    async publishedArticleId(category: string, slug: string): Promise<number | undefined> {
      const row = await db('faq_articles as a')
        .where({ 'a.category': category, 'a.slug': slug })
        .whereExists((q) => q.select(db.raw('1')).from('faq_versions as v').whereRaw('v.article_id = a.id').where('v.status', 'published'))
        .first<{ id: number } | undefined>('a.id');
      return row?.id;
    },

    /**
     * The first open of a visit writes the row with its article; later opens
     * only count, so first_article_id stays what was opened first.
     */
    async recordOpen(v: { token: string; lang: FaqLang; articleId: number }): Promise<{ openedCount: number; first: boolean }> {
      const { rows } = await db.raw<{ rows: { opened_count: number | string }[] }>(
        `INSERT INTO faq_deflections (token, lang, first_article_id)
         VALUES (:token, :lang, :articleId)
         ON CONFLICT (token) DO UPDATE
           SET opened_count = faq_deflections.opened_count + 1, last_opened_at = now()
         RETURNING opened_count`,
        v,
      );
      const openedCount = Number(rows[0]?.opened_count ?? 0);
      return { openedCount, first: openedCount === 1 };
    },

    /** Marks the visit as sent anyway, once: a row that is already marked, or none, is left alone. */
    async markSubmitted(token: string, caseId: number): Promise<boolean> {
      const n = await db('faq_deflections').where({ token }).whereNull('submitted_at').update({ submitted_at: db.fn.now(), case_id: caseId });
      return Number(n) > 0;
    },

    find: (token: string) => db<FaqDeflectionRow>('faq_deflections').where({ token }).first(),
  };
}

export type FaqDeflectionStore = ReturnType<typeof createFaqDeflectionStore>;
