import type { Request, Response } from 'express';
import { ROLES } from '../auth/roles.js';
import { AppError, NotFoundError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { describeError, localizeFieldErrors } from '../platform/validation.js';
import type { Services } from '../services.js';

const idParam = (req: Request) => {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('No such record');
  return id;
};

type Page = 'users' | 'departments' | 'categories';

/** Managers see the agents; admins manage users, departments and topics. */
export function adminRoutes(s: Services): RouteDef[] {
  const { auth, organisation } = s;

  async function render(req: Request, res: Response, page: Page, status = 200, failure?: { form: string; error: AppError; values: Record<string, unknown> }) {
    const lang = req.ctx.lang;
    const [users, departments, categories] = await Promise.all([auth.listUsers(), organisation.listDepartments(), organisation.listCategories()]);
    const errors = failure?.error instanceof ValidationError ? localizeFieldErrors(failure.error.fields, lang) : {};
    res.status(status).render(`admin/${page}`, {
      lang,
      title: translate(lang, `admin.${page}.title`),
      users,
      roles: ROLES,
      departments,
      categories: categories.map((c) => ({ ...c, department: departments.find((d) => d.id === c.department_id) })),
      done: typeof req.query.klart === 'string' ? translate(lang, 'admin.saved') : undefined,
      failure: failure ? { form: failure.form, errors, values: failure.values, message: failure.error instanceof ValidationError ? undefined : describeError(failure.error, lang) } : undefined,
    });
  }

  const post = (path: string, page: Page, form: string, run: (req: Request) => Promise<unknown>): RouteDef => ({
    method: 'post',
    path,
    access: 'admin',
    summary: `Admin: ${form}`,
    handler: async (req, res) => {
      try {
        await run(req);
        res.redirect(303, `/admin/${page}?klart=1`);
      } catch (err) {
        if (err instanceof AppError && (err.status === 400 || err.status === 409)) {
          const { password: _p, ...values } = (req.body ?? {}) as Record<string, unknown>;
          return render(req, res, page, err.status, { form, error: err, values });
        }
        throw err;
      }
    },
  });

  return [
    {
      method: 'get',
      path: '/agent/agents',
      access: 'manager',
      summary: 'Agents and their roles',
      handler: async (req, res) => {
        res.render('agent/agents', { lang: req.ctx.lang, title: translate(req.ctx.lang, 'agents.title'), users: await auth.listUsers() });
      },
    },
    { method: 'get', path: '/admin', access: 'admin', summary: 'Administration', handler: (_req, res) => res.redirect(303, '/admin/users') },
    { method: 'get', path: '/admin/users', access: 'admin', summary: 'Users', handler: (req, res) => render(req, res, 'users') },
    post('/admin/users', 'users', 'createUser', (req) => auth.createUser(req.body)),
    post('/admin/users/:id/role', 'users', 'role', async (req) => {
      const id = idParam(req);
      if (id === req.ctx.user!.id) throw new AppError('You cannot change your own role', 409, 'own_account');
      const role = String(req.body?.role ?? '');
      if (!(ROLES as readonly string[]).includes(role)) throw new ValidationError([{ field: 'role', code: 'errors.invalid_choice', message: 'Unknown role' }]);
      await auth.setRole(id, role as (typeof ROLES)[number]);
    }),
    post('/admin/users/:id/extension', 'users', 'extension', (req) => auth.setPhoneExtension(idParam(req), req.body?.phone_extension)),
    post('/admin/users/:id/protected', 'users', 'protected', (req) => s.protectedIdentity.setPermission(idParam(req), req.body?.sees_protected)),
    post('/admin/users/:id/active', 'users', 'active', async (req) => {
      const id = idParam(req);
      if (id === req.ctx.user!.id) throw new AppError('You cannot deactivate your own account', 409, 'own_account');
      await auth.setActive(id, req.body?.active === 'true');
    }),
    { method: 'get', path: '/admin/departments', access: 'admin', summary: 'Departments', handler: (req, res) => render(req, res, 'departments') },
    post('/admin/departments', 'departments', 'createDepartment', (req) => organisation.createDepartment(req.body)),
    post('/admin/departments/:id', 'departments', 'updateDepartment', (req) => organisation.updateDepartment(idParam(req), req.body)),
    { method: 'get', path: '/admin/categories', access: 'admin', summary: 'Topics', handler: (req, res) => render(req, res, 'categories') },
    post('/admin/categories', 'categories', 'createCategory', (req) => organisation.createCategory(req.body)),
    post('/admin/categories/:id', 'categories', 'updateCategory', (req) => organisation.updateCategory(idParam(req), req.body)),
  ];
}
