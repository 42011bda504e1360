import { NotFoundError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import { faqSearchQuerySchema, MAX_LIMIT } from './schemas.js';
import { seedFaq } from './seed.js';
import type { Knex } from 'knex';
import { FAQ_CATEGORIES, type FaqCategory, type FaqLang, type FaqListRow, type FaqSearchQuery, type FaqSearchRow, type FaqStore } from './store.js';

const MAX_WORDS = 12;
const MAX_WORD_LENGTH = 60;
/**
 * PostgreSQL has no Arabic configuration, so Arabic is searched with `simple`,
 * which keeps every word; the commonest function words would otherwise match
 * nearly every Arabic article. (swedish and english drop their own.)
 */
const ARABIC_STOP_WORDS = new Set(
  'في من على إلى الى عن مع ما ماذا هل كيف متى أين اين لماذا هذا هذه ذلك تلك التي الذي الذين أن ان إن أو او و لا لم لن قد كم أنا انا لي كان يا عند بعد قبل حتى كل أي اي هو هي هم نحن أنت انت'.split(' '),
);
/** A word: letters and digits, with combining marks (Arabic vowel signs) kept inside it. */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;

/**
 * Turns what a resident typed into the parts of a search, keeping only words,
 * so no tsquery syntax (& | ! : * ( ) quotes) reaches to_tsquery. The last
 * word is also matched as a prefix, for results while typing.
 * Undefined when nothing searchable is left.
 */
export function toSearchQuery(q: string, lang: FaqLang, limit: number): FaqSearchQuery | undefined {
  const words = (q.normalize('NFC').toLowerCase().match(WORD) ?? [])
    .filter((w) => lang !== 'ar' || !ARABIC_STOP_WORDS.has(w))
    .map((w) => w.slice(0, MAX_WORD_LENGTH))
    .slice(0, MAX_WORDS);
  if (!words.length) return undefined;
  const quoted = words.map((w) => `'${w}'`);
  const last = words[words.length - 1]!;
  // A one- or two-letter prefix matches nearly everything; it is searched as a whole word only.
  if (last.length >= 3) quoted[quoted.length - 1] = `'${last}':*`;
  return { lang, anyQuery: quoted.join(' | '), allQuery: quoted.join(' & '), text: words.join(' '), limit };
}

export interface FaqSearchResult {
  slug: string;
  category: string;
  title: string;
  summary: string;
  score: number;
}

export function createFaqService(deps: { db: Knex; store: FaqStore }) {
  const { db, store } = deps;

  async function search(q: string, lang: FaqLang = 'sv', limit = 10): Promise<FaqSearchResult[]> {
    const query = toSearchQuery(q, lang, Math.max(1, Math.min(MAX_LIMIT, Math.trunc(limit))));
    if (!query) return [];
    const rows: FaqSearchRow[] = await store.search(query);
    return rows.map((r) => ({ slug: r.slug, category: r.category, title: r.title, summary: r.summary, score: Math.round(r.score * 10_000) / 10_000 }));
  }

  const listed = (rows: FaqListRow[], lang: FaqLang) =>
    rows.map((r) => ({ slug: r.slug, category: r.category, popular: r.popular, lang: r.lang, fallback: r.lang !== lang, title: r.title, summary: r.summary }));

  return {
    /** Validates raw query parameters (400 with field errors) and searches. */
    searchFromInput: async (input: unknown) => {
      const { q, lang, limit } = parseOrThrow(faqSearchQuerySchema, input);
      return { items: await search(q, lang, limit) };
    },

    search,

    /**
     * The published article in `lang`, or in Swedish when it has not been
     * translated: `fallback` says so, and `lang` is the language of the text.
     */
    getArticle: async (category: string, slug: string, lang: FaqLang = 'sv') => {
      const article = await store.findArticle(category, slug);
      if (!article) throw new NotFoundError(`No FAQ article ${category}/${slug}`);
      const versions = await store.publishedVersions([article.id], lang === 'sv' ? ['sv'] : [lang, 'sv']);
      const version = versions.find((v) => v.lang === lang) ?? versions.find((v) => v.lang === 'sv');
      if (!version) throw new NotFoundError(`No published version of the FAQ article ${category}/${slug}`);
      return {
        category: article.category,
        slug: article.slug,
        departmentId: article.department_id,
        reviewedAt: article.reviewed_at,
        popular: article.popular,
        requestedLang: lang,
        lang: version.lang,
        fallback: version.lang !== lang,
        version: version.version,
        title: version.title,
        summary: version.summary,
        keywords: version.keywords,
        bodyMd: version.body_md,
      };
    },

    /** The published articles of a category, popular first, each in `lang` or else in Swedish. */
    listCategory: async (category: string, lang: FaqLang = 'sv') => {
      if (!(FAQ_CATEGORIES as readonly string[]).includes(category)) throw new NotFoundError(`No FAQ category ${category}`);
      return listed(await store.listPublished(lang, category as FaqCategory), lang);
    },

    /** The published articles of every category, as listCategory gives them one category after the other. */
    listAll: async (lang: FaqLang = 'sv') => listed(await store.listPublished(lang), lang),

    /** The shipped articles, once (see seedFaq). */
    seed: () => seedFaq(db),
  };
}

export type FaqService = ReturnType<typeof createFaqService>;
