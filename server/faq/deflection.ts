import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { Logger } from '../platform/logger.js';
import { parseOrThrow } from '../platform/validation.js';
import type { FaqDeflectionStore } from './deflection-store.js';
import { FAQ_CATEGORIES, FAQ_LANGS, type FaqLang } from './store.js';

/**
 * Deflection: while a resident writes on the contact form, FAQ articles are
 * suggested. Each rendering of the form carries a random visit token; the
 * first suggestion opened on that visit writes a faq_deflections row, and
 * sending the form anyway marks the row with the new case. A row never marked
 * is a contact the FAQ saved. Nothing the resident typed is kept.
 */

/** 16 random bytes in base64url: 22 characters. */
export const VISIT_TOKEN = /^[A-Za-z0-9_-]{22}$/;
export const newVisitToken = () => randomBytes(16).toString('base64url');

/** An article's slug, as the faq_articles check constraint allows it. */
const SLUG = /^[a-z0-9][a-z0-9-]{0,118}$/;

const text = () => z.string({ error: (issue) => (issue.input === undefined || issue.input === null ? 'errors.required' : 'errors.invalid_type') });

/** POST /api/v1/faq/deflections: which suggestion was opened, on which visit of the form. */
export const deflectionOpenSchema = z
  .object({
    token: text().regex(VISIT_TOKEN, 'deflection.errors.token_invalid').meta({ description: 'The `faq_visit` value of the contact form (22 characters, base64url)' }),
    category: z
      .enum(FAQ_CATEGORIES, { error: (issue) => (issue.input === undefined || issue.input === null ? 'errors.required' : 'errors.invalid_choice') })
      .meta({ description: "The article's category" }),
    slug: text().regex(SLUG, 'deflection.errors.slug_invalid').meta({ description: "The article's slug" }),
  })
  .strict();

export const deflectionRecordedSchema = z.object({
  openedCount: z.number().int().meta({ description: 'How many suggestions have been opened on this visit of the form' }),
  first: z.boolean().meta({ description: 'Whether this was the first one (the visit was recorded now)' }),
});

export function createFaqDeflectionService(deps: { store: FaqDeflectionStore; logger: Logger }) {
  const { store, logger } = deps;
  return {
    /** The token for one rendering of the form: the one the resident sent, when it is one, else a new one. */
    visitToken(sent?: unknown): string {
      return typeof sent === 'string' && VISIT_TOKEN.test(sent) ? sent : newVisitToken();
    },

    /** A suggestion opened: 400 for a bad body, 404 for an article that is not published. */
    async recordOpen(input: unknown, lang: string) {
      if (!input || typeof input !== 'object' || Array.isArray(input)) {
        throw new ValidationError([{ field: 'body', code: 'deflection.errors.body_json', message: translate('en', 'deflection.errors.body_json') }]);
      }
      const v = parseOrThrow(deflectionOpenSchema, input);
      const articleId = await store.publishedArticleId(v.category, v.slug);
      if (articleId === undefined) throw new NotFoundError(`No published FAQ article ${v.category}/${v.slug}`);
      const visitLang: FaqLang = (FAQ_LANGS as readonly string[]).includes(lang) ? (lang as FaqLang) : 'sv';
      return store.recordOpen({ token: v.token, lang: visitLang, articleId });
    },

    /**
     * The form was sent as a case. Only a visit that opened a suggestion has a
     * row to mark; any other token writes nothing. A failure here is logged and
     * never reaches the resident, whose case is already saved.
     */
    async markSubmitted(token: unknown, caseId: number): Promise<boolean> {
      if (typeof token !== 'string' || !VISIT_TOKEN.test(token)) return false;
      try {
        return await store.markSubmitted(token, caseId);
      } catch (err) {
        logger.warn({ err, caseId }, 'could not mark the FAQ deflection visit as submitted');
        return false;
      }
    },
  };
}

export type FaqDeflectionService = ReturnType<typeof createFaqDeflectionService>;
