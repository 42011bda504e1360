import express, { type Request, type RequestHandler, type Response } from 'express';
import { hasRole } from '../auth/roles.js';
import { ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { textDirection, translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary, parseOrThrow } from '../platform/validation.js';
import type { Services } from '../services.js';
import { idFrom, langFrom, LIMITS, textActionSchema } from './editor.js';
import { DEFAULT_PERIOD, formatPercent, STAT_PERIODS } from './stats.js';
import { FAQ_CATEGORIES, FAQ_LANGS, type FaqLang } from './store.js';

/** The fields of each form in page order, for the error summary; each links to its control. */
const NEW_FIELDS = ['category', 'slug', 'department_id', 'title', 'summary', 'keywords', 'body_md'] as const;
const TEXT_FIELDS = ['title', 'summary', 'keywords', 'body_md'] as const;
const SETTINGS_FIELDS = ['department_id', 'popular'] as const;
/** ?klart= after a change: the notice shown on the page it leads to. */
const DONE = ['created', 'draft', 'published', 'settings', 'reviewed', 'unpublished', 'restored'] as const;

type Values = Record<string, string>;
type Failure = { error: ValidationError; form: 'text' | 'settings' };

const formValues = (body: unknown, fields: readonly string[]): Values => {
  const b = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f, typeof b[f] === 'string' ? (b[f] as string) : '']));
};

/**
 * The editors' forms carry up to 100,000 characters of body text (the
 * database's limit), which percent-encoded can take up to 9 bytes each
 * (Arabic takes 6): more than the site's 200 kB for forms. Mounted before
 * the site's parser on /redaktor, and only for a signed-in editor, so no
 * one else can make the server read a larger body.
 */
export function editorFormParser(): RequestHandler {
  const parse = express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 50 });
  return (req, res, next) => (req.ctx?.user && hasRole(req.ctx.user.role, 'editor') ? parse(req, res, next) : next());
}

/** The editors' FAQ workspace under /redaktor, and the managers' FAQ statistics. */
export function faqEditorRoutes(s: Services): RouteDef[] {
  const { faqEditor, faqStats, organisation } = s;

  const categories = (lang: string) => FAQ_CATEGORIES.map((c) => ({ value: c, label: translate(lang, `editor.category.${c}`) }));
  const langName = (uiLang: string, lang: FaqLang) => translate(uiLang, `editor.lang.${lang}`);
  /** The language's name inside a sentence ("på svenska"). */
  const langWord = (uiLang: string, lang: FaqLang) => translate(uiLang, `editor.lang_word.${lang}`);
  const done = (req: Request) => {
    const k = req.query.klart;
    return typeof k === 'string' && (DONE as readonly string[]).includes(k) ? translate(req.ctx.lang, `editor.done.${k}`) : undefined;
  };
  const user = (req: Request) => req.ctx.user!;

  async function renderNew(req: Request, res: Response, status: number, values: Values, error?: ValidationError) {
    const lang = req.ctx.lang;
    res.status(status).render('editor/new', {
      lang,
      title: translate(lang, 'editor.new.title'),
      categories: categories(lang),
      departments: await organisation.listDepartments(),
      values,
      textLang: 'sv',
      textDir: 'ltr',
      limits: LIMITS,
      ...errorSummary(error, lang, NEW_FIELDS),
    });
  }

  /**
   * The article page for one language of its text: the form holds `values`
   * when it comes back (errors, preview), else the text being edited.
   */
  async function renderArticle(
    req: Request,
    res: Response,
    id: number,
    textLang: FaqLang,
    opts: { status?: number; values?: Values & { base?: string }; failure?: Failure; preview?: string; settings?: Values } = {},
  ) {
    const lang = req.ctx.lang;
    const { article, langs } = await faqEditor.getArticle(id);
    const current = langs.find((l) => l.lang === textLang)!;
    const editing = current.editing;
    const values = opts.values ?? {
      title: editing?.title ?? '',
      summary: editing?.summary ?? '',
      keywords: editing?.keywords ?? '',
      body_md: editing?.body_md ?? '',
      base: current.base === null ? '' : String(current.base),
    };
    const textErrors = errorSummary(opts.failure?.form === 'text' ? opts.failure.error : undefined, lang, TEXT_FIELDS);
    const settingsErrors = errorSummary(opts.failure?.form === 'settings' ? opts.failure.error : undefined, lang, SETTINGS_FIELDS, { prefix: 's' });
    res.status(opts.status ?? 200).render('editor/article', {
      lang,
      title: translate(lang, 'editor.article.title', { title: article.title ?? article.slug }),
      article,
      categoryLabel: translate(lang, `editor.category.${article.category}`),
      tabs: langs.map((l) => ({
        lang: l.lang,
        name: langName(lang, l.lang),
        state: translate(lang, `editor.state.${l.state}`),
        current: l.lang === textLang,
      })),
      textLang,
      textDir: textDirection(textLang),
      textLangName: langWord(lang, textLang),
      current,
      values,
      preview: opts.preview,
      limits: LIMITS,
      departments: await organisation.listDepartments(),
      settings: opts.settings ?? { department_id: article.department_id === null ? '' : String(article.department_id), popular: article.popular ? 'on' : '' },
      done: done(req),
      errors: textErrors.errors,
      settingsErrors: settingsErrors.errors,
      errorList: [...textErrors.errorList, ...settingsErrors.errorList],
    });
  }

  const textLangOf = (req: Request): FaqLang => {
    const l = req.query.sprak;
    return (FAQ_LANGS as readonly unknown[]).includes(l) ? (l as FaqLang) : 'sv';
  };

  const articleUrl = (id: number, lang: FaqLang, klart?: string) => `/redaktor/artiklar/${id}?sprak=${lang}${klart ? `&klart=${klart}` : ''}`;

  return [
    {
      method: 'get',
      path: '/redaktor',
      access: 'editor',
      summary: 'FAQ articles for editors, or those due for review',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        const due = req.query.visa === 'granskas';
        const all = await faqEditor.listArticles();
        const articles = due ? await faqEditor.listArticles({ due: true }) : all;
        res.render('editor/index', {
          lang,
          title: translate(lang, due ? 'editor.index.title_due' : 'editor.index.title'),
          due,
          months: faqEditor.reviewMonths(),
          cutoff: faqEditor.reviewCutoff(),
          counts: { all: all.length, due: all.filter((a) => a.due).length },
          articles: articles.map((a) => ({
            ...a,
            categoryLabel: translate(lang, `editor.category.${a.category}`),
            langs: a.langs.map((l) => ({ ...l, name: langName(lang, l.lang), stateText: translate(lang, `editor.state.${l.state}`) })),
          })),
          done: done(req),
        });
      },
    },
    {
      method: 'get',
      path: '/redaktor/artiklar/ny',
      access: 'editor',
      summary: 'Form for a new FAQ article',
      handler: (req, res) => renderNew(req, res, 200, { category: typeof req.query.kategori === 'string' ? req.query.kategori : '' }),
    },
    {
      method: 'post',
      path: '/redaktor/artiklar',
      access: 'editor',
      summary: 'Create an FAQ article with its Swedish text as a draft',
      handler: async (req, res) => {
        const values = formValues(req.body, NEW_FIELDS);
        await orRerender(
          async () => {
            const id = await faqEditor.createArticle(values, user(req));
            res.redirect(303, articleUrl(id, 'sv', 'created'));
          },
          (error) => renderNew(req, res, 400, values, error),
        );
      },
    },
    {
      method: 'get',
      path: '/redaktor/artiklar/:id',
      access: 'editor',
      summary: 'Edit an FAQ article',
      handler: (req, res) => renderArticle(req, res, idFrom(req.params.id), textLangOf(req)),
    },
    {
      method: 'post',
      path: '/redaktor/artiklar/:id/text/:lang',
      access: 'editor',
      summary: 'Preview, save as a draft or publish one language of an FAQ article',
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        const lang = langFrom(req.params.lang);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = { ...formValues(body, TEXT_FIELDS), base: typeof body.base === 'string' ? body.base : '' };
        // An article that does not exist is a 404: from saveText, or from rendering the form again.
        await orRerender(
          async () => {
            const { action } = parseOrThrow(textActionSchema, body);
            if (action === 'preview') return renderArticle(req, res, id, lang, { values, preview: faqEditor.preview(values).html });
            const base = /^[1-9][0-9]{0,9}$/.test(values.base) ? Number(values.base) : null;
            await faqEditor.saveText(id, lang, values, user(req), { publish: action === 'publish', base });
            res.redirect(303, articleUrl(id, lang, action === 'publish' ? 'published' : 'draft'));
          },
          (error) => renderArticle(req, res, id, lang, { status: 400, values, failure: { form: 'text', error } }),
        );
      },
    },
    {
      method: 'post',
      path: '/redaktor/artiklar/:id/installningar',
      access: 'editor',
      summary: "Change an FAQ article's owning department and popular flag",
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        const settings = formValues(req.body, SETTINGS_FIELDS);
        await orRerender(
          async () => {
            await faqEditor.updateSettings(id, settings, user(req));
            res.redirect(303, articleUrl(id, textLangOf(req), 'settings'));
          },
          (error) => renderArticle(req, res, id, textLangOf(req), { status: 400, settings, failure: { form: 'settings', error } }),
        );
      },
    },
    {
      method: 'post',
      path: '/redaktor/artiklar/:id/granskad',
      access: 'editor',
      summary: 'Mark an FAQ article as reviewed today',
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        await faqEditor.markReviewed(id, user(req));
        res.redirect(303, articleUrl(id, textLangOf(req), 'reviewed'));
      },
    },
    {
      method: 'get',
      path: '/redaktor/artiklar/:id/avpublicera/:lang',
      access: 'editor',
      summary: 'Confirm taking one language of an FAQ article off the public pages',
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        const textLang = langFrom(req.params.lang);
        const { article, langs } = await faqEditor.getArticle(id);
        const lang = req.ctx.lang;
        const name = langWord(lang, textLang);
        res.render('editor/unpublish', {
          lang,
          title: translate(lang, 'editor.unpublish.title', { lang: name }),
          article,
          textLang,
          langName: name,
          published: langs.find((l) => l.lang === textLang)?.published,
        });
      },
    },
    {
      method: 'post',
      path: '/redaktor/artiklar/:id/avpublicera/:lang',
      access: 'editor',
      summary: 'Take one language of an FAQ article off the public pages',
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        const lang = langFrom(req.params.lang);
        const archived = await faqEditor.unpublish(id, lang, user(req));
        res.redirect(303, articleUrl(id, lang, archived ? 'unpublished' : undefined));
      },
    },
    {
      method: 'get',
      path: '/redaktor/artiklar/:id/versioner',
      access: 'editor',
      summary: "An FAQ article's versions",
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        const { article, langs } = await faqEditor.versions(idFrom(req.params.id));
        res.render('editor/versions', {
          lang,
          title: translate(lang, 'editor.versions.title', { title: article.title ?? article.slug }),
          article,
          langs: langs.map((l) => ({ ...l, name: langName(lang, l.lang), word: langWord(lang, l.lang) })),
        });
      },
    },
    {
      method: 'get',
      path: '/redaktor/artiklar/:id/versioner/:versionId',
      access: 'editor',
      summary: 'One version of an FAQ article, rendered',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        const { article, version, html } = await faqEditor.version(idFrom(req.params.id), idFrom(req.params.versionId));
        const name = langWord(lang, version.lang);
        res.render('editor/version', {
          lang,
          title: translate(lang, 'editor.version.title', { version: version.version, lang: name }),
          article,
          version,
          langName: name,
          textDir: textDirection(version.lang),
          html,
        });
      },
    },
    {
      method: 'post',
      path: '/redaktor/artiklar/:id/versioner/:versionId/aterstall',
      access: 'editor',
      summary: 'Restore an earlier version of an FAQ article as a new draft',
      handler: async (req, res) => {
        const id = idFrom(req.params.id);
        const restored = await faqEditor.restoreAsDraft(id, idFrom(req.params.versionId), user(req));
        res.redirect(303, articleUrl(id, restored.lang, 'restored'));
      },
    },
    {
      method: 'get',
      path: '/agent/faq-statistik',
      access: 'manager',
      summary: 'FAQ statistics: use in replies, helpfulness and deflected contacts',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        let status = 200;
        let stats;
        let error: ValidationError | undefined;
        try {
          stats = await faqStats.overviewFromQuery(req.query);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          status = 400;
          error = err;
          stats = await faqStats.overview(DEFAULT_PERIOD);
        }
        const pct = (v: number | null) => formatPercent(v, lang);
        const { errors, errorList: list } = errorSummary(error, lang, ['dagar']);
        res.status(status).render('editor/stats', {
          lang,
          title: translate(lang, 'editor.stats.title'),
          periods: STAT_PERIODS.map((d) => ({ days: d, selected: d === stats.days })),
          stats: {
            ...stats,
            unhelpful: stats.unhelpful.map((r) => ({ ...r, share: pct(r.unhelpfulShare) })),
            helpful: stats.helpful.map((r) => ({ ...r, share: pct(r.helpfulShare) })),
            deflection: { ...stats.deflection, rateText: pct(stats.deflection.rate) },
          },
          errors,
          errorList: list,
        });
      },
    },
  ];
}
