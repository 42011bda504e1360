import type { Knex } from 'knex';

export interface DepartmentRow {
  id: number;
  slug: string;
  name: string;
  email: string | null;
  active: boolean;
}

export interface CategoryRow {
  id: number;
  slug: string;
  name_sv: string;
  name_en: string;
  description_sv: string;
  description_en: string;
  department_id: number | null;
  sort_order: number;
  active: boolean;
  /** The web form and the API take a personnummer with a case of this topic (and only then). */
  asks_personnummer: boolean;
}

export function createOrganisationStore(db: Knex) {
  return {
    listDepartments: (opts: { activeOnly?: boolean } = {}): Promise<DepartmentRow[]> => {
      const q = db<DepartmentRow>('departments').orderBy('name');
      if (opts.activeOnly) q.where({ active: true });
      return q;
    },
    findDepartment: (id: number) => db<DepartmentRow>('departments').where({ id }).first(),
    findDepartmentBySlug: (slug: string) => db<DepartmentRow>('departments').where({ slug }).first(),
    insertDepartment: async (d: Omit<DepartmentRow, 'id' | 'active'>): Promise<DepartmentRow> => {
      const [row] = await db('departments').insert(d).returning('*');
      return row as DepartmentRow;
    },
    updateDepartment: async (id: number, patch: Partial<Omit<DepartmentRow, 'id'>>) => {
      const [row] = await db('departments').where({ id }).update(patch).returning('*');
      return row as DepartmentRow | undefined;
    },

    listCategories: (opts: { activeOnly?: boolean } = {}): Promise<CategoryRow[]> => {
      const q = db<CategoryRow>('categories').orderBy(['sort_order', 'name_sv']);
      if (opts.activeOnly) q.where({ active: true });
      return q;
    },
    findCategoryBySlug: (slug: string) => db<CategoryRow>('categories').where({ slug }).first(),
    findCategory: (id: number) => db<CategoryRow>('categories').where({ id }).first(),
    insertCategory: async (c: Omit<CategoryRow, 'id' | 'active'>): Promise<CategoryRow> => {
      const [row] = await db('categories').insert(c).returning('*');
      return row as CategoryRow;
    },
    updateCategory: async (id: number, patch: Partial<Omit<CategoryRow, 'id'>>) => {
      const [row] = await db('categories').where({ id }).update(patch).returning('*');
      return row as CategoryRow | undefined;
    },
  };
}

export type OrganisationStore = ReturnType<typeof createOrganisationStore>;
