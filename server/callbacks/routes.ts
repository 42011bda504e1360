import type { Request, Response } from 'express';
import type { ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { translate } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { localizeFieldErrors } from '../platform/validation.js';
import { topicText } from '../organisation/topic-text.js';
import { formatDay, formatTimeRange } from '../platform/views.js';
import type { Services } from '../services.js';
import type { Slot } from './service.js';

/** The form's fields in page order: the error summary lists them so. */
const FORM_FIELDS = ['category', 'name', 'phone', 'email', 'slot', 'message'] as const;

/** The offered windows grouped per day, for radio buttons in one fieldset a day. */
export function slotDays(slots: Slot[], lang: string, chosen: unknown) {
  const days: { label: string; slots: { value: string; id: string; label: string; checked: boolean }[] }[] = [];
  for (const w of slots) {
    const day = formatDay(w.start, lang);
    const label = day.charAt(0).toLocaleUpperCase(lang) + day.slice(1);
    if (days.at(-1)?.label !== label) days.push({ label, slots: [] });
    const value = w.start.toISOString();
    days.at(-1)!.slots.push({ value, id: `slot-${w.start.getTime()}`, label: formatTimeRange(w.start, w.end, lang), checked: value === chosen });
  }
  return days;
}

/** "Bli uppringd": a resident asks to be called at a time within opening hours. */
export function callbackRoutes(s: Services): RouteDef[] {
  const { config, callbacks, organisation } = s;
  const intakeLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'contact requests');

  async function renderForm(req: Request, res: Response, status: number, values: Record<string, unknown>, error?: ValidationError) {
    const lang = req.ctx.lang;
    const errors = error ? localizeFieldErrors(error.fields, lang) : {};
    const topics = (await organisation.listCategories({ activeOnly: true })).map((c) => ({ slug: c.slug, name: topicText(c, lang).name }));
    const days = slotDays(callbacks.slots(), lang, values.slot);
    // Each summary entry links to the control to fix; a choice to its first option.
    const href = (field: string) =>
      field === 'category' ? `#topic-${topics[0]?.slug ?? ''}` : field === 'slot' ? `#${days[0]?.slots[0]?.id ?? 'slot-title'}` : `#f-${FORM_FIELDS.includes(field as never) ? field : 'message'}`;
    const order = (field: string) => FORM_FIELDS.indexOf(field as never);
    const errorList = error ? [...error.fields].sort((a, b) => order(a.field) - order(b.field)).map((f) => ({ href: href(f.field), message: errors[f.field] })) : [];
    res.status(status).render('resident/callback', {
      lang,
      title: translate(lang, 'callbacks.form.title'),
      topics,
      days,
      values,
      errors,
      errorList,
      hasErrors: errorList.length > 0,
    });
  }

  return [
    {
      method: 'get',
      path: '/ring-upp',
      access: 'public',
      summary: 'Ask to be called back',
      handler: async (req, res) => {
        const topic = typeof req.query.amne === 'string' ? req.query.amne : undefined;
        await renderForm(req, res, 200, { category: topic });
      },
    },
    {
      method: 'post',
      path: '/ring-upp',
      access: 'public',
      before: [intakeLimit],
      summary: 'Book a callback',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f] : '']));
        await orRerender(
          async () => {
            const booked = await callbacks.request(values, { lang: req.ctx.lang });
            res.redirect(303, `/kvitto/${booked.token}`);
          },
          (error) => renderForm(req, res, 400, values, error),
        );
      },
    },
  ];
}
