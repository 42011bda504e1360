import type { Knex } from 'knex';
import type { FaqLang } from './store.js';

export interface FaqFeedbackRow {
  id: number;
  article_id: number;
  lang: FaqLang;
  helpful: boolean;
  comment: string;
  created_at: Date;
}

export function createFaqFeedbackStore(db: Knex) {
  return {
    /**
     * The article's id and the languages it is published in, among `langs`;
     * undefined when it has no published version in any of them.
     */
    findPublished: async (category: string, slug: string, langs: FaqLang[]): Promise<{ id: number; langs: FaqLang[] } | undefined> => {
      const rows = await db('faq_articles as a')
        .join('faq_versions as v', 'v.article_id', 'a.id')
        .where({ 'a.category': category, 'a.slug': slug, 'v.status': 'published' })
        .whereIn('v.lang', langs)
        .select<{ id: number; lang: FaqLang }[]>('a.id', 'v.lang');
      return rows.length ? { id: rows[0]!.id, langs: rows.map((r) => r.lang) } : undefined;
    },

    insert: async (row: Omit<FaqFeedbackRow, 'id' | 'created_at'>): Promise<void> => {
      await db('faq_feedback').insert(row);
    },
  };
}

export type FaqFeedbackStore = ReturnType<typeof createFaqFeedbackStore>;
