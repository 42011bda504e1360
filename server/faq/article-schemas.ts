import { z } from 'zod';
import { FAQ_CATEGORIES, FAQ_LANGS } from './store.js';

/** An article's slug, as the faq_articles check constraint has it. */
const SLUG = /^[a-z0-9][a-z0-9-]{0,118}$/;

/** GET /api/v1/faq/articles/:category/:slug?lang=: the path's two parts and the language (default sv). */
export const faqArticleQuerySchema = z.object({
  category: z.enum(FAQ_CATEGORIES, 'errors.invalid_choice'),
  slug: z.string('errors.required').regex(SLUG, 'errors.slug_invalid'),
  lang: z.enum(FAQ_LANGS, 'errors.invalid_choice').default('sv'),
});

export const faqArticleResponseSchema = z.object({
  category: z.enum(FAQ_CATEGORIES),
  slug: z.string(),
  lang: z.enum(FAQ_LANGS).describe('The language of the text: the one asked for, or sv when the article is not translated'),
  requestedLang: z.enum(FAQ_LANGS),
  fallback: z.boolean().describe('True when the text is the Swedish one because the article is not published in the language asked for'),
  title: z.string(),
  summary: z.string(),
  url: z.string().describe("The article's public page (absolute), in the language asked for"),
  html: z.string().describe('The body rendered from Markdown and sanitized'),
  text: z.string().describe('The body as plain text, for a reply by e-mail: links as "text (address)", with absolute addresses'),
});

export type FaqArticleJson = z.output<typeof faqArticleResponseSchema>;
