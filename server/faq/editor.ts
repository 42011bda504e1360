import type { Knex } from 'knex';
import { z } from 'zod';
import type { AuthUser } from '../auth/roles.js';
import { text } from '../cases/schemas.js';
import type { Config } from '../config.js';
import { NotFoundError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';
import type { EditorArticleRow, EditorVersionRow, FaqEditorStore, LangVersionsRow, VersionText } from './editor-store.js';
import { renderMarkdown } from './markdown.js';
import { FAQ_SLUG_PATTERN } from './params.js';
import { FAQ_CATEGORIES, FAQ_LANGS, type FaqLang } from './store.js';

/** The limits of the database's checks on faq_versions and faq_articles. */
export const LIMITS = { title: 300, summary: 2000, keywords: 2000, body: 100_000 } as const;

/** Text from a form: line endings as LF, no NUL (PostgreSQL text cannot hold it). */
const formText = (v: unknown) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v);
const noNul = (s: string) => !s.includes('\u0000');

const textField = (max: number) => z.preprocess(formText, text().max(max, 'errors.too_long').refine(noNul, 'errors.invalid')).default('');

/** One language's text of an article, as the editor writes it. */
export const faqTextSchema = z.object({
  title: z.preprocess(formText, text('errors.required').trim().min(1, 'errors.required').max(LIMITS.title, 'errors.too_long').refine(noNul, 'errors.invalid')),
  summary: z.preprocess(formText, text().trim().max(LIMITS.summary, 'errors.too_long').refine(noNul, 'errors.invalid')).default(''),
  keywords: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : v), text().max(LIMITS.keywords, 'errors.too_long').refine(noNul, 'errors.invalid')).default(''),
  body_md: textField(LIMITS.body),
});
export type FaqTextInput = z.output<typeof faqTextSchema>;

/** "" from the "no department" option is null; anything else must be a department's id. */
const departmentField = z.preprocess(
  (v) => (v === '' || v === undefined ? null : typeof v === 'string' && /^[0-9]{1,10}$/.test(v) ? Number(v) : v),
  z.number('errors.invalid_choice').int('errors.invalid_choice').min(1, 'errors.invalid_choice').max(2_147_483_647, 'errors.invalid_choice').nullable(),
);

export const newArticleSchema = faqTextSchema.extend({
  category: z.enum(FAQ_CATEGORIES, 'errors.invalid_choice'),
  slug: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), text('errors.required').min(1, 'errors.required').regex(FAQ_SLUG_PATTERN, 'errors.slug_invalid')),
  department_id: departmentField,
});

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());

export const articleSettingsSchema = z.object({ department_id: departmentField, popular: checkbox.default(false) });

export const TEXT_ACTIONS = ['preview', 'draft', 'publish'] as const;
export type TextAction = (typeof TEXT_ACTIONS)[number];
/** The button that sent an article's text form. */
export const textActionSchema = z.object({ action: z.enum(TEXT_ACTIONS, 'editor.errors.action') });

/** What a language of an article is, for the list: published, published with a newer draft, only a draft, unpublished, or missing. */
export type LangState = 'published' | 'published_draft' | 'draft' | 'unpublished' | 'missing';

export function langState(row: Pick<LangVersionsRow, 'published' | 'draft' | 'newest'> | undefined): LangState {
  if (!row) return 'missing';
  const published = row.published === null ? null : Number(row.published);
  const draft = row.draft === null ? null : Number(row.draft);
  if (published !== null) return draft !== null && draft > published ? 'published_draft' : 'published';
  if (draft !== null) return 'draft';
  return 'unpublished';
}

/** Today's date (YYYY-MM-DD) in the service center's time zone. */
export function localDate(now: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * The date `months` months before `today` (YYYY-MM-DD), on the last day of
 * the month when that month is shorter (31 March less one month is 28 or 29
 * February), as PostgreSQL's date arithmetic does.
 */
export function monthsBefore(today: string, months: number): string {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 - months, 1));
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, lastDay));
  return first.toISOString().slice(0, 10);
}

/** An article is due for review when never reviewed, or last reviewed before the cutoff. */
export function isDue(reviewedAt: string | null, cutoff: string): boolean {
  return reviewedAt === null || reviewedAt < cutoff;
}

const sameText = (a: VersionText, b: VersionText) => a.title === b.title && a.summary === b.summary && a.keywords === b.keywords && a.body_md === b.body_md;

const pickText = (v: VersionText): VersionText => ({ title: v.title, summary: v.summary, keywords: v.keywords, body_md: v.body_md });

/** A route parameter that must be a positive id; anything else is a page that does not exist. */
export function idFrom(value: unknown): number {
  const s = String(value ?? '');
  const id = /^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(id) || id > 2_147_483_647) throw new NotFoundError('No such FAQ article or version');
  return id;
}

export function langFrom(value: unknown): FaqLang {
  if (!(FAQ_LANGS as readonly unknown[]).includes(value)) throw new NotFoundError('No such language');
  return value as FaqLang;
}

const slugTaken = () => new ValidationError([{ field: 'slug', code: 'editor.errors.slug_taken', message: translate('en', 'editor.errors.slug_taken') }]);
const departmentUnknown = () => new ValidationError([{ field: 'department_id', code: 'errors.department_unknown', message: translate('en', 'errors.department_unknown') }]);

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

/**
 * The editors' FAQ workspace: articles, their text per language as drafts
 * and published versions, the owning department and the review date.
 *
 * Every change to an article's versions first locks the article's row (FOR
 * UPDATE), so two editors publishing at once take turns: the second archives
 * what the first published, and exactly one version per language stays
 * published (the partial unique index would refuse two anyway).
 */
export function createFaqEditor(deps: { db: Knex; store: FaqEditorStore; config: Pick<Config, 'faqReviewMonths' | 'calendar'> }) {
  const { db, store, config } = deps;

  const today = (now = new Date()) => localDate(now, config.calendar.timeZone);
  const reviewCutoff = (now = new Date()) => monthsBefore(today(now), config.faqReviewMonths);

  async function requireArticle(id: number): Promise<EditorArticleRow> {
    const article = await store.findArticle(id);
    if (!article) throw new NotFoundError(`No FAQ article ${id}`);
    return article;
  }

  /** Runs `work` in a transaction holding the article's lock, and records who changed it. */
  async function changeArticle<T>(id: number, user: AuthUser, work: (trx: Knex.Transaction) => Promise<T>, patch: Parameters<FaqEditorStore['touchArticle']>[3] = {}): Promise<T> {
    return db.transaction(async (trx) => {
      if (!(await store.lockArticle(trx, id))) throw new NotFoundError(`No FAQ article ${id}`);
      const result = await work(trx);
      await store.touchArticle(trx, id, user.id, patch);
      return result;
    });
  }

  /** Publishes the version: the language's published one (if another) is archived first, in the caller's transaction. */
  async function publishIn(trx: Knex.Transaction, articleId: number, lang: FaqLang, versionId: number): Promise<void> {
    const current = await store.publishedVersion(trx, articleId, lang);
    if (current?.id === versionId) return;
    await store.archivePublished(trx, articleId, lang);
    await store.setPublished(trx, versionId);
  }

  async function departmentOk(id: number | null) {
    if (id !== null && !(await store.departmentExists(id))) throw departmentUnknown();
  }

  return {
    reviewMonths: () => config.faqReviewMonths,
    today,
    reviewCutoff,

    /** Every article with each language's state; `due`: only those due for review, the longest overdue first. */
    async listArticles(opts: { due?: boolean; now?: Date } = {}) {
      const cutoff = reviewCutoff(opts.now);
      const rows = await store.listArticles(opts.due ? { reviewedBefore: cutoff } : {});
      const langs = rows.length ? await store.langVersions(rows.map((r) => r.id)) : [];
      return rows.map((r) => ({
        ...r,
        due: isDue(r.reviewed_at, cutoff),
        langs: FAQ_LANGS.map((lang) => ({ lang, state: langState(langs.find((l) => l.article_id === r.id && l.lang === lang)) })),
      }));
    },

    /** A new article with its Swedish text as a first draft; answers the article's id. */
    async createArticle(input: unknown, user: AuthUser): Promise<number> {
      const a = parseOrThrow(newArticleSchema, input);
      await departmentOk(a.department_id);
      if (await store.slugTaken(a.category, a.slug)) throw slugTaken();
      try {
        return await db.transaction(async (trx) => {
          const id = await store.insertArticle(trx, { category: a.category, slug: a.slug, department_id: a.department_id, updated_by: user.id });
          await store.insertVersion(trx, { article_id: id, lang: 'sv', status: 'draft', created_by: user.id, ...pickText(a) });
          return id;
        });
      } catch (err) {
        // Another editor took the address between the check and the insert.
        if (isUniqueViolation(err)) throw slugTaken();
        throw err;
      }
    },

    /**
     * The article for the editor: its settings, each language's state and
     * the text to edit (the newest draft if it is newer than the published
     * version, else the published one), with the version it is based on.
     */
    async getArticle(id: number) {
      const article = await requireArticle(id);
      const versions = await store.versions(id);
      const langs = FAQ_LANGS.map((lang) => {
        const mine = versions.filter((v) => v.lang === lang);
        const published = mine.find((v) => v.status === 'published');
        const newest = mine[0];
        const editing = newest?.status === 'draft' ? newest : published;
        const state = langState(
          newest ? { published: published?.version ?? null, draft: mine.find((v) => v.status === 'draft')?.version ?? null, newest: newest.version } : undefined,
        );
        return { lang, state, published, editing, base: editing?.status === 'draft' ? editing.id : null };
      });
      return { article: { ...article, due: isDue(article.reviewed_at, reviewCutoff()) }, langs };
    },

    /** The Markdown as residents will see it, after validating the text like a save would. */
    preview(input: unknown): { html: string; text: FaqTextInput } {
      const t = parseOrThrow(faqTextSchema, input);
      return { html: renderMarkdown(t.body_md), text: t };
    },

    /**
     * Saves a language's text as a draft, or publishes it. The newest draft
     * is rewritten in place when the form was based on it (`base`); otherwise
     * (a colleague saved or published since, or there is no draft) the text
     * becomes a new version, so nobody's draft is overwritten unseen.
     * Publishing archives the published version in the same transaction.
     * Answers the version written.
     */
    async saveText(id: number, lang: FaqLang, input: unknown, user: AuthUser, opts: { publish: boolean; base?: number | null }): Promise<{ versionId: number; published: boolean }> {
      const t = pickText(parseOrThrow(faqTextSchema, input));
      return changeArticle(id, user, async (trx) => {
        const newest = await store.newestVersion(trx, id, lang);
        let versionId: number;
        if (newest?.status === 'draft' && opts.base != null && newest.id === opts.base) {
          await store.updateDraft(trx, newest.id, t, user.id);
          versionId = newest.id;
        } else if (opts.publish && newest?.status === 'published' && sameText(newest, t)) {
          // Publishing the text that is already published changes nothing.
          return { versionId: newest.id, published: true };
        } else {
          versionId = await store.insertVersion(trx, { article_id: id, lang, status: 'draft', created_by: user.id, ...t });
        }
        if (opts.publish) await publishIn(trx, id, lang, versionId);
        return { versionId, published: opts.publish };
      });
    },

    /** Publishes an existing draft or archived version of the article as it is. */
    async publishVersion(id: number, versionId: number, user: AuthUser): Promise<void> {
      await changeArticle(id, user, async (trx) => {
        const v = await store.version(id, versionId, trx);
        if (!v) throw new NotFoundError(`No version ${versionId} of FAQ article ${id}`);
        await publishIn(trx, id, v.lang, v.id);
      });
    },

    /** Takes a language off the public pages: its published version is archived. Answers whether there was one. */
    async unpublish(id: number, lang: FaqLang, user: AuthUser): Promise<boolean> {
      return db.transaction(async (trx) => {
        if (!(await store.lockArticle(trx, id))) throw new NotFoundError(`No FAQ article ${id}`);
        const archived = (await store.archivePublished(trx, id, lang)) > 0;
        if (archived) await store.touchArticle(trx, id, user.id);
        return archived;
      });
    },

    async updateSettings(id: number, input: unknown, user: AuthUser): Promise<void> {
      const s = parseOrThrow(articleSettingsSchema, input);
      await departmentOk(s.department_id);
      await changeArticle(id, user, async () => undefined, { department_id: s.department_id, popular: s.popular });
    },

    async markReviewed(id: number, user: AuthUser, now = new Date()): Promise<void> {
      await changeArticle(id, user, async () => undefined, { reviewed_at: today(now) });
    },

    /** The article's versions, per language, newest first. */
    async versions(id: number) {
      const article = await requireArticle(id);
      const versions = await store.versions(id);
      return { article, langs: FAQ_LANGS.map((lang) => ({ lang, versions: versions.filter((v) => v.lang === lang) })) };
    },

    /** One version, with its Markdown rendered as residents would see it. */
    async version(id: number, versionId: number): Promise<{ article: EditorArticleRow; version: EditorVersionRow; html: string }> {
      const article = await requireArticle(id);
      const version = await store.version(id, versionId);
      if (!version) throw new NotFoundError(`No version ${versionId} of FAQ article ${id}`);
      return { article, version, html: renderMarkdown(version.body_md) };
    },

    /** An earlier version's text as a new draft of its language; answers the draft. */
    async restoreAsDraft(id: number, versionId: number, user: AuthUser): Promise<{ lang: FaqLang; versionId: number }> {
      return changeArticle(id, user, async (trx) => {
        const old = await store.version(id, versionId, trx);
        if (!old) throw new NotFoundError(`No version ${versionId} of FAQ article ${id}`);
        const draft = await store.insertVersion(trx, { article_id: id, lang: old.lang, status: 'draft', created_by: user.id, ...pickText(old) });
        return { lang: old.lang, versionId: draft };
      });
    },
  };
}

export type FaqEditor = ReturnType<typeof createFaqEditor>;
