import type { Knex } from 'knex';
import type { ArticleLink } from './reply-uses.js';

export interface NewReplyUses {
  caseId: number;
  messageId: number;
  userId: number;
  links: ArticleLink[];
}

/** The SQL of faq_reply_uses: which published articles an agent's replies linked to. */
export function createReplyUseStore() {
  return {
    /**
     * One row per linked article that exists and is published, in one
     * statement on the reply's transaction; links to anything else are
     * skipped. Answers the ids of the articles recorded.
     */
    async insertForReply(trx: Knex.Transaction, u: NewReplyUses): Promise<number[]> {
      if (!u.links.length) return [];
      const pairs = u.links.map(() => '(?, ?)').join(', ');
      const { rows } = await trx.raw<{ rows: { article_id: number }[] }>(
        `INSERT INTO faq_reply_uses (article_id, case_id, message_id, user_id)
         SELECT a.id, ?, ?, ?
           FROM faq_articles a
          WHERE (a.category, a.slug) IN (VALUES ${pairs})
            AND EXISTS (SELECT 1 FROM faq_versions v WHERE v.article_id = a.id AND v.status = 'published')
         ON CONFLICT (article_id, case_id, message_id) DO NOTHING
         RETURNING article_id`,
        [u.caseId, u.messageId, u.userId, ...u.links.flatMap((l) => [l.category, l.slug])],
      );
      return rows.map((r) => Number(r.article_id));
    },
  };
}

export type ReplyUseStore = ReturnType<typeof createReplyUseStore>;
