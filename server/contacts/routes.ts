import type { Request, Response } from 'express';
import { ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { localizeFieldErrors } from '../platform/validation.js';
import type { Services } from '../services.js';
import { CONTACT_CHANNELS, CONTACT_OUTCOMES, type ContactOutcome } from './service.js';
import { REFERENCE_PATTERN } from '../cases/reference.js';


/** The form's fields in page order: the error summary lists them so, each linking to its control. */
const FORM_FIELDS = ['channel', 'category', 'summary', 'name', 'phone', 'outcome', 'department', 'slot'] as const;
const FIELD_IDS: Record<string, string> = {
  channel: 'f-channel-phone',
  category: 'f-category',
  summary: 'f-summary',
  name: 'f-name',
  phone: 'f-phone',
  outcome: 'f-outcome-answered',
  department: 'f-department',
  slot: 'f-slot',
};

/** Quick registration of a phone call or a visit at the desk, for agents. */
export function contactRoutes(s: Services): RouteDef[] {
  const { contacts, callbacks, organisation } = s;

  async function renderForm(req: Request, res: Response, status: number, values: Record<string, unknown>, error?: ValidationError) {
    const lang = req.ctx.lang;
    const errors = error ? localizeFieldErrors(error.fields, lang) : {};
    const order = (field: string) => {
      const i = FORM_FIELDS.indexOf(field as never);
      return i < 0 ? FORM_FIELDS.length : i;
    };
    const errorList = error
      ? [...error.fields].sort((a, b) => order(a.field) - order(b.field)).map((f) => ({ href: `#${FIELD_IDS[f.field] ?? 'f-summary'}`, message: errors[f.field] }))
      : [];
    const [categories, departments] = await Promise.all([
      organisation.listCategories({ activeOnly: true }),
      organisation.listDepartments({ activeOnly: true }),
    ]);
    const ref = typeof req.query.klart === 'string' && REFERENCE_PATTERN.test(req.query.klart) ? req.query.klart : undefined;
    const outcome = CONTACT_OUTCOMES.find((o) => o === req.query.utfall);
    res.status(status).render('agent/register', {
      lang,
      title: translate(lang, 'contacts.register.title'),
      values,
      errors,
      errorList,
      hasErrors: errorList.length > 0,
      channels: CONTACT_CHANNELS,
      outcomes: CONTACT_OUTCOMES,
      categories: categories.map((c) => ({ slug: c.slug, name: lang === 'en' ? c.name_en : c.name_sv })),
      departments,
      slots: callbacks.slots().map((w) => ({ value: w.start.toISOString(), start: w.start, end: w.end })),
      done: ref && !error ? { reference: ref, outcome: outcome ? translate(lang, `contacts.outcome.${outcome}`) : '' } : undefined,
    });
  }

  return [
    {
      method: 'get',
      path: '/agent/registrera',
      access: 'agent',
      summary: 'Register a phone call or a visit',
      handler: (req, res) => renderForm(req, res, 200, { channel: 'phone', outcome: 'answered' }),
    },
    {
      method: 'post',
      path: '/agent/registrera',
      access: 'agent',
      summary: 'Save a registered call or visit',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f] : '']));
        try {
          const saved = await contacts.register(req.ctx.user!, values, { lang: req.ctx.lang });
          res.redirect(303, `/agent/registrera?klart=${encodeURIComponent(saved.reference)}&utfall=${saved.outcome satisfies ContactOutcome}`);
        } catch (err) {
          if (err instanceof ValidationError) return renderForm(req, res, 400, values, err);
          throw err;
        }
      },
    },
  ];
}
