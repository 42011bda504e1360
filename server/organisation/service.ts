import { z } from 'zod';
import { newSlugSchema, slugSchema } from '../cases/schemas.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import type { CategoryRow, OrganisationStore } from './store.js';

const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string('errors.invalid_type').max(max, 'errors.too_long').default(''));

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());

export const departmentSchema = z.object({
  slug: newSlugSchema,
  name: z.string('errors.required').trim().min(1, 'errors.required').max(200, 'errors.too_long'),
  email: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? null : v),
    z.union([z.email('errors.email_invalid').max(254, 'errors.too_long'), z.null()]).default(null),
  ),
  active: checkbox.default(true),
});

export const categorySchema = z.object({
  slug: newSlugSchema,
  name_sv: z.string('errors.required').trim().min(1, 'errors.required').max(200, 'errors.too_long'),
  name_en: z.string('errors.required').trim().min(1, 'errors.required').max(200, 'errors.too_long'),
  description_sv: optionalText(500),
  description_en: optionalText(500),
  department: z.preprocess((v) => (v === '' ? null : v), z.union([slugSchema, z.null()]).default(null)),
  sort_order: z.coerce.number('errors.invalid_type').int('errors.invalid_type').min(0, 'errors.invalid').max(10000, 'errors.invalid').default(100),
  active: checkbox.default(true),
  // A checkbox: left out when unticked, so missing means no (a topic asks only when someone says it should).
  asks_personnummer: checkbox,
});

/** Departments (förvaltningar) that cases are forwarded to, and the topics residents choose from. */
/** How long a process trusts its copy of the active topics; edits made here refresh it at once. */
const TOPIC_CACHE_MS = 30_000;

export function createOrganisationService(deps: { store: OrganisationStore }) {
  const { store } = deps;
  // Every intake looks its topic up; topics change a few times a year.
  let topics: { loadedAt: number; bySlug: Promise<Map<string, CategoryRow>> } | undefined;
  const forgetTopics = () => {
    topics = undefined;
  };

  async function departmentIdFor(slug: string | null): Promise<number | null> {
    if (!slug) return null;
    const dep = await store.findDepartmentBySlug(slug);
    if (!dep) throw new NotFoundError(`No department ${slug}`);
    return dep.id;
  }

  /** An active topic by its short name, from a per-process copy refreshed every 30 s. */
  async function activeCategory(slug: string): Promise<CategoryRow | undefined> {
    if (!topics || Date.now() - topics.loadedAt > TOPIC_CACHE_MS) {
      const bySlug = store.listCategories({ activeOnly: true }).then((rows) => new Map(rows.map((r) => [r.slug, r])));
      topics = { loadedAt: Date.now(), bySlug };
      bySlug.catch(forgetTopics);
    }
    return (await topics.bySlug).get(slug);
  }

  return {
    activeCategory,

    /**
     * The topic for contacts that choose none (mail, accessibility reports):
     * the configured one, else "ovrigt". Neither active is a setup error.
     */
    async fallbackCategory(slug: string): Promise<CategoryRow> {
      const found = (await activeCategory(slug)) ?? (await activeCategory('ovrigt'));
      if (!found) throw new Error(`the topic "${slug}" (else "ovrigt") does not exist or is inactive`);
      return found;
    },

    listDepartments: store.listDepartments,
    listCategories: store.listCategories,
    findCategoryBySlug: store.findCategoryBySlug,

    async createDepartment(input: unknown) {
      const d = parseOrThrow(departmentSchema, input);
      if (await store.findDepartmentBySlug(d.slug)) throw new ConflictError(`A department with the short name ${d.slug} exists`, 'department_exists');
      return store.insertDepartment({ slug: d.slug, name: d.name, email: d.email });
    },

    async updateDepartment(id: number, input: unknown) {
      const d = parseOrThrow(departmentSchema.omit({ slug: true }), input);
      const row = await store.updateDepartment(id, d);
      if (!row) throw new NotFoundError('No such department');
      return row;
    },

    async createCategory(input: unknown) {
      const c = parseOrThrow(categorySchema, input);
      if (await store.findCategoryBySlug(c.slug)) throw new ConflictError(`A topic with the short name ${c.slug} exists`, 'category_exists');
      const { department, active: _active, ...rest } = c;
      const row = await store.insertCategory({ ...rest, department_id: await departmentIdFor(department) });
      forgetTopics();
      return row;
    },

    async updateCategory(id: number, input: unknown) {
      const c = parseOrThrow(categorySchema.omit({ slug: true }), input);
      const { department, ...rest } = c;
      const row = await store.updateCategory(id, { ...rest, department_id: await departmentIdFor(department) });
      forgetTopics();
      if (!row) throw new NotFoundError('No such topic');
      return row;
    },
  };
}

export type OrganisationService = ReturnType<typeof createOrganisationService>;
