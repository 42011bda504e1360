import type { Request, Response } from 'express';
import type { ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { isLanguage, translate } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { localizeFieldErrors, parseOrThrow } from '../platform/validation.js';
import type { Services } from '../services.js';
import { FEEDBACK_COMMENT_MAX } from './feedback.js';
import { renderMarkdown } from './markdown.js';
import { articleParams, categoryParam } from './params.js';
import { faqSearchQuerySchema, MAX_QUERY_LENGTH } from './schemas.js';
import { FAQ_CATEGORIES, type FaqCategory, type FaqLang } from './store.js';

/** The search box of the pages: only q; the language is the reader's. */
const pageSearchSchema = faqSearchQuerySchema.pick({ q: true });
const RESULTS = 20;

/** The topics of the contact form that match a category, to preselect it there. */
const CONTACT_TOPICS: readonly FaqCategory[] = ['bygglov', 'forsorjningsstod', 'forskoleplats'];

const contactHref = (category: FaqCategory) => (CONTACT_TOPICS.includes(category) ? `/kontakt?amne=${category}` : '/kontakt');
const articleUrl = (category: string, slug: string) => `/fragor/${category}/${slug}`;

/**
 * A date column as YYYY-MM-DD: pg gives a Date at local midnight, the
 * embedded database one at UTC midnight (or text).
 */
function isoDay(value: unknown): string | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    const utc = value.getUTCHours() === 0 && value.getUTCMinutes() === 0;
    const pad = (n: number) => String(n).padStart(2, '0');
    const [y, m, d] = utc ? [value.getUTCFullYear(), value.getUTCMonth(), value.getUTCDate()] : [value.getFullYear(), value.getMonth(), value.getDate()];
    return `${y}-${pad(m + 1)}-${pad(d)}`;
  }
  const m = typeof value === 'string' ? /^\d{4}-\d{2}-\d{2}/.exec(value) : null;
  return m?.[0];
}

function formatDay(day: string, lang: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/**
 * What the reader typed, inside a sentence: isolated (FSI … PDI, as <bdi>
 * would) so Swedish words in an Arabic sentence keep the sentence's order.
 */
const isolate = (q: string) => `\u2068${q.trim()}\u2069`;

function categoryView(category: FaqCategory, lang: string) {
  return {
    slug: category,
    href: `/fragor/${category}`,
    name: translate(lang, `faq.categories.${category}.name`),
    description: translate(lang, `faq.categories.${category}.description`),
  };
}

/** The resident's FAQ: start page, search, categories, articles and "Did this help?". */
export function faqRoutes(s: Services): RouteDef[] {
  const { config, faq, faqFeedback, organisation } = s;
  const feedbackLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'feedback answers');
  const langOf = (req: Request) => req.ctx.lang as FaqLang;

  async function renderSearch(req: Request, res: Response, status: number, q: string | undefined, error?: ValidationError) {
    const lang = langOf(req);
    // The general "fill in the field" says too little beside a search box.
    const qError = error && (error.fields.some((f) => f.code === 'errors.too_long') ? translate(lang, 'faq.search.errors.too_long', { max: MAX_QUERY_LENGTH }) : translate(lang, 'faq.search.errors.empty'));
    const results = q !== undefined && !error ? await faq.search(q, lang, RESULTS) : undefined;
    res.status(status).render('faq/search', {
      lang,
      title: error ? translate(lang, 'faq.search.title_error') : q !== undefined ? translate(lang, 'faq.search.title_for', { q: isolate(q) }) : translate(lang, 'faq.search.title'),
      q: q ?? '',
      qError,
      errorList: qError ? [{ href: '#f-q', message: qError }] : [],
      maxLength: MAX_QUERY_LENGTH,
      searched: results !== undefined,
      count: results && translate(lang, results.length === 1 ? 'faq.search.count_one' : 'faq.search.count_other', { count: results.length, q: isolate(q!) }),
      none: results && !results.length ? translate(lang, 'faq.search.none', { q: isolate(q!) }) : undefined,
      results: results?.map((r) => ({ ...r, href: articleUrl(r.category, r.slug), categoryName: translate(lang, `faq.categories.${r.category}.name`) })),
    });
  }

  async function renderArticle(req: Request, res: Response, status: number, extra: { values?: Record<string, string>; error?: ValidationError } = {}) {
    const lang = langOf(req);
    const { category, slug } = articleParams(req.params);
    const article = await faq.getArticle(category, slug, lang);
    const department = article.departmentId === null ? undefined : (await organisation.listDepartments()).find((d) => d.id === article.departmentId);
    const reviewed = isoDay(article.reviewedAt);
    const errors = extra.error ? localizeFieldErrors(extra.error.fields, lang) : {};
    const order = ['helpful', 'comment'];
    const errorList = extra.error
      ? [...extra.error.fields]
          .sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field))
          .map((f) => ({ href: f.field === 'helpful' ? '#f-helpful-ja' : '#f-comment', message: errors[f.field] }))
      : [];
    const thanks = !extra.error && (req.query.tack === 'ja' || req.query.tack === 'nej') ? req.query.tack : undefined;
    if (thanks) res.set('Cache-Control', 'no-store');
    res.status(status).render('faq/article', {
      lang,
      title: article.title,
      article,
      titleLang: article.fallback ? article.lang : undefined,
      url: articleUrl(category, slug),
      category: categoryView(category, lang),
      // Rendered from Markdown and sanitized: the only HTML the page takes as is.
      bodyHtml: renderMarkdown(article.bodyMd),
      department: department?.name,
      // Department names are Swedish.
      departmentLang: lang === 'sv' ? undefined : 'sv',
      reviewed: reviewed && { iso: reviewed, text: formatDay(reviewed, lang) },
      contactHref: contactHref(category),
      commentMax: FEEDBACK_COMMENT_MAX,
      values: extra.values ?? {},
      errors,
      errorList,
      thanks,
    });
  }

  /** The short English /faq/… addresses (easy to guess and to say on the phone) lead to the same page. */
  const keepLang = (req: Request) => (isLanguage(req.query.lang) ? `?lang=${req.query.lang}` : '');

  return [
    {
      method: 'get',
      path: '/faq',
      access: 'public',
      summary: 'Short address of the FAQ: redirects to /fragor',
      handler: (req, res) => res.redirect(301, `/fragor${keepLang(req)}`),
    },
    {
      method: 'get',
      path: '/faq/:category',
      access: 'public',
      summary: 'Short address of an FAQ category: redirects to /fragor/…',
      handler: (req, res) => res.redirect(301, `/fragor/${categoryParam(req.params)}${keepLang(req)}`),
    },
    {
      method: 'get',
      path: '/faq/:category/:slug',
      access: 'public',
      summary: 'Short address of an FAQ article: redirects to /fragor/…',
      handler: (req, res) => {
        const { category, slug } = articleParams(req.params);
        res.redirect(301, `${articleUrl(category, slug)}${keepLang(req)}`);
      },
    },
    {
      method: 'get',
      path: '/fragor',
      access: 'public',
      summary: 'The FAQ: search, categories and popular questions',
      handler: async (req, res) => {
        const lang = langOf(req);
        const popular = (await faq.listAll(lang)).filter((a) => a.popular);
        res.render('faq/index', {
          lang,
          title: translate(lang, 'faq.index.title'),
          maxLength: MAX_QUERY_LENGTH,
          categories: FAQ_CATEGORIES.map((c) => categoryView(c, lang)),
          popular: popular.map((a) => ({ ...a, href: articleUrl(a.category, a.slug), categoryName: translate(lang, `faq.categories.${a.category}.name`) })),
        });
      },
    },
    {
      method: 'get',
      path: '/fragor/sok',
      access: 'public',
      summary: 'Search the FAQ',
      handler: async (req, res) => {
        if (req.query.q === undefined) return renderSearch(req, res, 200, undefined);
        const raw = typeof req.query.q === 'string' ? req.query.q : '';
        await orRerender(
          () => renderSearch(req, res, 200, parseOrThrow(pageSearchSchema, { q: req.query.q }).q),
          (error) => renderSearch(req, res, 400, raw.slice(0, MAX_QUERY_LENGTH * 2), error),
        );
      },
    },
    {
      method: 'get',
      path: '/fragor/:category',
      access: 'public',
      summary: "A category's questions",
      handler: async (req, res) => {
        const lang = langOf(req);
        const category = categoryParam(req.params);
        const articles = await faq.listCategory(category, lang);
        const view = categoryView(category, lang);
        res.render('faq/category', {
          lang,
          title: view.name,
          category: view,
          contactHref: contactHref(category),
          articles: articles.map((a) => ({ ...a, href: articleUrl(a.category, a.slug) })),
        });
      },
    },
    {
      method: 'get',
      path: '/fragor/:category/:slug',
      access: 'public',
      summary: 'One question and its answer',
      handler: (req, res) => renderArticle(req, res, 200),
    },
    {
      method: 'post',
      path: '/fragor/:category/:slug/omdome',
      access: 'public',
      before: [feedbackLimit],
      summary: 'Did this help? (yes or no and an optional comment)',
      handler: async (req, res) => {
        const { category, slug } = articleParams(req.params);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const input = { helpful: body.helpful, comment: body.comment };
        const values = { helpful: typeof body.helpful === 'string' ? body.helpful : '', comment: typeof body.comment === 'string' ? body.comment : '' };
        await orRerender(
          async () => {
            const given = await faqFeedback.give({ category, slug }, input, langOf(req));
            res.redirect(303, `${articleUrl(category, slug)}?tack=${given.helpful ? 'ja' : 'nej'}#omdome`);
          },
          (error) => renderArticle(req, res, 400, { values, error }),
        );
      },
    },
  ];
}
