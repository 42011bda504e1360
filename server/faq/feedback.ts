import { z } from 'zod';
import { NotFoundError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import type { FaqFeedbackStore } from './feedback-store.js';
import { articleParams } from './params.js';
import type { FaqLang } from './store.js';

export const FEEDBACK_COMMENT_MAX = 2000;
export const FEEDBACK_ANSWERS = ['ja', 'nej'] as const;

// Control characters other than tab and line breaks cannot be typed and PostgreSQL refuses NUL.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** "Did this help?": ja or nej, and an optional comment. */
export const faqFeedbackSchema = z.object({
  // The general "choose one" says too little here: the form's own message.
  helpful: z.enum(FEEDBACK_ANSWERS, 'faq.feedback.errors.helpful'),
  comment: z
    .string('errors.invalid_type')
    .default('')
    .transform((s) => s.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim())
    .pipe(z.string().max(FEEDBACK_COMMENT_MAX, 'errors.too_long')),
});

/**
 * Readers' answers to "Did this help?". Nothing identifies the reader; the
 * answer is kept with the language of the text they read (Swedish when the
 * article has no text in their language yet).
 */
export function createFaqFeedbackService(deps: { store: FaqFeedbackStore }) {
  const { store } = deps;
  return {
    give: async (target: Record<string, unknown>, input: unknown, readerLang: FaqLang) => {
      const { category, slug } = articleParams(target);
      const article = await store.findPublished(category, slug, readerLang === 'sv' ? ['sv'] : [readerLang, 'sv']);
      if (!article) throw new NotFoundError(`No published FAQ article ${category}/${slug}`);
      const { helpful, comment } = parseOrThrow(faqFeedbackSchema, input);
      const lang = article.langs.includes(readerLang) ? readerLang : 'sv';
      await store.insert({ article_id: article.id, lang, helpful: helpful === 'ja', comment });
      return { helpful: helpful === 'ja', lang };
    },
  };
}

export type FaqFeedbackService = ReturnType<typeof createFaqFeedbackService>;
