import { NotFoundError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import { faqArticleQuerySchema, type FaqArticleJson } from './article-schemas.js';
import { markdownToText, renderMarkdown } from './markdown.js';
import type { FaqService } from './service.js';
import type { FaqLang } from './store.js';

/** How many articles the case view suggests at most. */
export const SUGGESTIONS = 5;

/**
 * An article's public page, absolute, for a resident reading a reply: in
 * their language (?lang= chooses it and the site remembers it), Swedish
 * without a parameter.
 */
export function articleUrl(publicUrl: string, category: string, slug: string, lang: FaqLang): string {
  return `${publicUrl.replace(/\/+$/, '')}/fragor/${category}/${slug}${lang === 'sv' ? '' : `?lang=${lang}`}`;
}

/**
 * The plain text's links inside the site ("kontaktformuläret (/kontakt)", as
 * markdownToText writes them) made absolute: the text is read in a mail program.
 */
export function absoluteLinks(text: string, publicUrl: string): string {
  const base = publicUrl.replace(/\/+$/, '');
  return text.replace(/\((\/(?!\/)[^\s()]*)\)/g, (_m, path: string) => `(${base}${path})`);
}

/**
 * The FAQ as agents use it in replies: an article as JSON (title, text to
 * paste and its link, in the resident's language or else in Swedish), and
 * the suggestions for a case.
 */
export function createFaqReplyService(deps: { faq: Pick<FaqService, 'search' | 'getArticle'>; publicUrl: string }) {
  const { faq, publicUrl } = deps;

  async function article(category: string, slug: string, lang: FaqLang): Promise<FaqArticleJson> {
    const a = await faq.getArticle(category, slug, lang);
    return {
      category: a.category,
      slug: a.slug,
      lang: a.lang,
      requestedLang: a.requestedLang,
      fallback: a.fallback,
      title: a.title,
      summary: a.summary,
      url: articleUrl(publicUrl, a.category, a.slug, lang),
      html: renderMarkdown(a.bodyMd),
      text: absoluteLinks(markdownToText(a.bodyMd), publicUrl),
    };
  }

  return {
    /** GET /api/v1/faq/articles/:category/:slug?lang=: validated (400 with field errors), 404 unless published. */
    articleFromInput: async (input: unknown): Promise<FaqArticleJson> => {
      const { category, slug, lang } = parseOrThrow(faqArticleQuerySchema, input);
      return article(category, slug, lang);
    },

    article,

    /**
     * Up to `limit` articles for a question, in the case's language: first
     * those found in that language, then, for a case not in Swedish, those
     * only the Swedish search finds (agents search in Swedish; an untranslated
     * article comes in Swedish, marked `fallback`).
     */
    async suggest(q: string, lang: FaqLang, limit = SUGGESTIONS): Promise<FaqArticleJson[]> {
      let found = await faq.search(q, lang, limit);
      if (lang !== 'sv' && found.length < limit) {
        const seen = new Set(found.map((r) => `${r.category}/${r.slug}`));
        found = [...found, ...(await faq.search(q, 'sv', limit)).filter((r) => !seen.has(`${r.category}/${r.slug}`))].slice(0, limit);
      }
      const articles: (FaqArticleJson | undefined)[] = [];
      // One at a time: the embedded database has one connection, and these are few.
      for (const r of found) {
        articles.push(
          await article(r.category, r.slug, lang).catch((err: unknown) => {
            if (err instanceof NotFoundError) return undefined; // unpublished since the search
            throw err;
          }),
        );
      }
      return articles.filter((a): a is FaqArticleJson => a !== undefined);
    },
  };
}

export type FaqReplyService = ReturnType<typeof createFaqReplyService>;
