import { z } from 'zod';
import { FAQ_LANGS } from './store.js';

export const MAX_QUERY_LENGTH = 200;
export const MAX_LIMIT = 20;

/** GET /api/v1/faq/search: q, lang (default sv) and limit (default 10). */
export const faqSearchQuerySchema = z.object({
  q: z.string('errors.required').trim().min(1, 'errors.required').max(MAX_QUERY_LENGTH, 'errors.too_long'),
  lang: z.enum(FAQ_LANGS, 'errors.invalid_choice').default('sv'),
  limit: z.coerce.number('errors.invalid_type').int('errors.invalid_type').min(1, 'errors.invalid').max(MAX_LIMIT, 'errors.too_long').default(10),
});
export type FaqSearchQueryInput = z.output<typeof faqSearchQuerySchema>;

export const faqSearchResultSchema = z.object({
  slug: z.string(),
  category: z.string(),
  title: z.string(),
  summary: z.string(),
  score: z.number(),
});

export const faqSearchResponseSchema = z.object({ items: z.array(faqSearchResultSchema) });
