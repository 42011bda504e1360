import type { Request, Response } from 'express';
import { AppError, NotFoundError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { describeError } from '../platform/validation.js';
import type { Services } from '../services.js';
import { MAX_KEEP_DAYS, ruleFromForm } from './rules.js';

/** Where each field of the new-rule form is, for the error summary's links. */
const FIELD_IDS: Record<string, string> = { target: 'f-target', days: 'f-days', description: 'f-description' };

/** The admin page of retention rules (/admin/gallring): the rules, a new rule, deactivation, and the latest runs. */
export function retentionRoutes(s: Services): RouteDef[] {
  const { retention, organisation } = s;

  async function render(req: Request, res: Response, status = 200, failure?: { error: AppError; values: Record<string, unknown> }) {
    const lang = req.ctx.lang;
    const [rules, runs, categories, departments] = await Promise.all([
      retention.listRules(),
      retention.listRuns(50),
      organisation.listCategories(),
      organisation.listDepartments(),
    ]);
    const errors: Record<string, string> = {};
    const errorList: { href: string; message: string }[] = [];
    if (failure?.error instanceof ValidationError) {
      for (const f of failure.error.fields) {
        if (errors[f.field]) continue;
        errors[f.field] = translate(lang, f.code, { ...(f.params ?? {}), max: MAX_KEEP_DAYS });
        errorList.push({ href: `#${FIELD_IDS[f.field] ?? 'f-target'}`, message: errors[f.field]! });
      }
    } else if (failure) {
      errorList.push({ href: '#rules-title', message: failure.error.code === 'rule_inactive' ? translate(lang, 'admin.retention.errors.inactive') : describeError(failure.error, lang) });
    }
    const target = typeof failure?.values.target === 'string' ? failure.values.target : '';
    res.status(status).render('admin/retention', {
      lang,
      title: translate(lang, 'admin.retention.title'),
      rules: rules.map((r) => ({
        ...r,
        target: r.category_id
          ? { kind: translate(lang, 'admin.retention.kind.category'), name: (lang === 'en' ? r.category_name_en : r.category_name_sv) ?? r.category_slug, slug: r.category_slug }
          : { kind: translate(lang, 'admin.retention.kind.department'), name: r.department_name ?? r.department_slug, slug: r.department_slug },
      })),
      runs,
      categories: categories.map((c) => ({ value: `category:${c.slug}`, name: lang === 'en' ? c.name_en : c.name_sv, selected: target === `category:${c.slug}` })),
      departments: departments.map((d) => ({ value: `department:${d.slug}`, name: d.name, selected: target === `department:${d.slug}` })),
      maxDays: MAX_KEEP_DAYS,
      values: failure?.values ?? {},
      errors,
      errorList,
      done: typeof req.query.klart === 'string' && ['added', 'deactivated'].includes(req.query.klart) ? translate(lang, `admin.retention.done.${req.query.klart}`) : undefined,
    });
  }

  const idParam = (req: Request) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) throw new NotFoundError('No such retention rule');
    return id;
  };

  return [
    { method: 'get', path: '/admin/gallring', access: 'admin', summary: 'Retention rules and runs', handler: (req, res) => render(req, res) },
    {
      method: 'post',
      path: '/admin/gallring',
      access: 'admin',
      summary: 'Admin: add a retention rule',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        try {
          await retention.addRule(ruleFromForm(body), req.ctx.user!);
        } catch (err) {
          if (err instanceof ValidationError) return render(req, res, 400, { error: err, values: body });
          throw err;
        }
        res.redirect(303, '/admin/gallring?klart=added');
      },
    },
    {
      method: 'post',
      path: '/admin/gallring/:id/deactivate',
      access: 'admin',
      summary: 'Admin: deactivate a retention rule',
      handler: async (req, res) => {
        try {
          await retention.deactivateRule(idParam(req));
        } catch (err) {
          if (err instanceof AppError && err.status === 409) return render(req, res, 409, { error: err, values: {} });
          throw err;
        }
        res.redirect(303, '/admin/gallring?klart=deactivated');
      },
    },
  ];
}
