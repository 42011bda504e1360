import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { PROJECT_ROOT } from '../platform/paths.js';
import { createFaqStore, FAQ_CATEGORIES, FAQ_LANGS, type FaqCategory, type FaqLang, type NewFaqArticle } from './store.js';

/** The shipped articles: from the project folder, so a compiled build in dist/ finds them too. */
export const ARTICLES_DIR = path.join(PROJECT_ROOT, 'server', 'faq', 'articles');

export class FaqFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`FAQ article ${file}: ${problem}`);
    this.name = 'FaqFileError';
  }
}

export interface FaqArticleFile {
  file: string;
  category: FaqCategory;
  slug: string;
  lang: FaqLang;
  title: string;
  summary: string;
  keywords: string;
  department: string | null;
  reviewed: string | null;
  popular: boolean;
  body: string;
}

const FIELDS = ['title', 'summary', 'keywords', 'department', 'reviewed', 'popular'] as const;
const REQUIRED = ['title', 'summary', 'keywords'] as const;
const FILE_NAME = /^([a-z0-9][a-z0-9-]*)\.(sv|en|ar)\.md$/;

/**
 * Reads one article file: front matter between two `---` lines, one
 * `key: value` per line (no nesting, no quoting), then the Markdown body.
 * `file` names the file in errors.
 */
export function parseArticleFile(file: string, text: string, category: string): FaqArticleFile {
  const fail = (problem: string): never => {
    throw new FaqFileError(file, problem);
  };
  const name = FILE_NAME.exec(path.basename(file));
  if (!name) fail('the file name must be <slug>.<sv|en|ar>.md with a slug of a-z, 0-9 and -');
  if (!(FAQ_CATEGORIES as readonly string[]).includes(category)) fail(`unknown category "${category}" (expected one of ${FAQ_CATEGORIES.join(', ')})`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') fail('it must start with a front matter block opened by a line "---"');
  const end = lines.indexOf('---', 1);
  if (end < 0) fail('the front matter is not closed by a line "---"');
  const meta: Record<string, string> = {};
  for (let i = 1; i < end; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const m = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (!m) fail(`line ${i + 1} of the front matter is not "key: value": ${JSON.stringify(line.slice(0, 80))}`);
    const [, key, value] = m!;
    if (!(FIELDS as readonly string[]).includes(key!)) fail(`line ${i + 1}: unknown field "${key}" (expected ${FIELDS.join(', ')})`);
    if (key! in meta) fail(`line ${i + 1}: "${key}" is given twice`);
    meta[key!] = value!.trim();
  }
  for (const key of REQUIRED) if (!meta[key]) fail(`the front matter has no ${key}`);
  const reviewed = meta.reviewed || null;
  if (reviewed && (!/^\d{4}-\d{2}-\d{2}$/.test(reviewed) || Number.isNaN(Date.parse(`${reviewed}T00:00:00Z`)) || new Date(`${reviewed}T00:00:00Z`).toISOString().slice(0, 10) !== reviewed)) {
    fail(`reviewed must be a date YYYY-MM-DD, not "${reviewed}"`);
  }
  const popular = meta.popular ?? 'false';
  if (popular !== 'true' && popular !== 'false') fail(`popular must be true or false, not "${popular}"`);
  const department = meta.department || null;
  if (department && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(department)) fail(`department must be a department's slug, not "${department}"`);
  const body = lines.slice(end + 1).join('\n').trim();
  if (!body) fail('the article has no body after the front matter');
  if (meta.title!.length > 300) fail('the title is longer than 300 characters');
  return {
    file,
    category: category as FaqCategory,
    slug: name![1]!,
    lang: name![2] as FaqLang,
    title: meta.title!,
    summary: meta.summary!,
    keywords: meta.keywords!,
    department,
    reviewed,
    popular: popular === 'true',
    body,
  };
}

export type SeedArticle = Omit<NewFaqArticle, 'department_id'> & { department: string | null };

/** Every article in `dir` (one folder per category), grouped per article; each must have a Swedish version. */
export function readArticles(dir = ARTICLES_DIR): SeedArticle[] {
  const byKey = new Map<string, FaqArticleFile[]>();
  for (const category of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const name of readdirSync(path.join(dir, category)).sort()) {
      const file = path.join(dir, category, name);
      const parsed = parseArticleFile(file, readFileSync(file, 'utf8'), category);
      const key = `${parsed.category}/${parsed.slug}`;
      byKey.set(key, [...(byKey.get(key) ?? []), parsed]);
    }
  }
  const out: SeedArticle[] = [];
  for (const [key, files] of byKey) {
    const sv = files.find((f) => f.lang === 'sv');
    if (!sv) throw new FaqFileError(files[0]!.file, `the article ${key} has no Swedish version (${key}.sv.md)`);
    out.push({
      category: sv.category,
      slug: sv.slug,
      department: sv.department,
      reviewed_at: sv.reviewed,
      popular: sv.popular,
      versions: FAQ_LANGS.flatMap((lang) => files.filter((f) => f.lang === lang)).map((f) => ({
        lang: f.lang,
        title: f.title,
        summary: f.summary,
        keywords: f.keywords,
        body_md: f.body,
      })),
    });
  }
  return out;
}

/**
 * The articles that ship with the product, published, once: nothing happens
 * when the FAQ already has articles (editors own them from then on). One
 * transaction, so a bad file leaves no half-seeded FAQ. Returns how many
 * articles were added.
 */
export async function seedFaq(db: Knex, dir = ARTICLES_DIR): Promise<number> {
  const store = createFaqStore(db);
  // Every start comes here: once seeded, the files are not even read.
  if ((await store.countArticles()) > 0) return 0;
  const articles = readArticles(dir);
  return db.transaction(async (trx) => {
    // Serializes two instances starting on one empty PostgreSQL database.
    await trx.raw('LOCK TABLE faq_articles IN SHARE ROW EXCLUSIVE MODE');
    if ((await store.countArticles(trx)) > 0) return 0;
    const departments = await store.departmentIdsBySlug(trx);
    for (const a of articles) {
      await store.insertPublished(trx, {
        category: a.category,
        slug: a.slug,
        department_id: (a.department && departments.get(a.department)) || null,
        reviewed_at: a.reviewed_at,
        popular: a.popular,
        versions: a.versions,
      });
    }
    return articles.length;
  });
}
