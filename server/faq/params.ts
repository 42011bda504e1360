import { NotFoundError } from '../platform/errors.js';
import { FAQ_CATEGORIES, type FaqCategory } from './store.js';

/** An article's slug, as the faq_articles check constraint has it. */
export const FAQ_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,118}$/;

export function isFaqCategory(v: unknown): v is FaqCategory {
  return typeof v === 'string' && (FAQ_CATEGORIES as readonly string[]).includes(v);
}

/**
 * The category of a public URL, or 404: a path that cannot name a category
 * is no page, and is never sent to the database.
 */
export function categoryParam(params: Record<string, unknown>): FaqCategory {
  const { category } = params;
  if (!isFaqCategory(category)) throw new NotFoundError('No such FAQ category');
  return category;
}

/** The category and slug of a public article URL, or 404 (as categoryParam). */
export function articleParams(params: Record<string, unknown>): { category: FaqCategory; slug: string } {
  const category = categoryParam(params);
  const { slug } = params;
  if (typeof slug !== 'string' || !FAQ_SLUG_PATTERN.test(slug)) throw new NotFoundError('No such FAQ article');
  return { category, slug };
}
