import type { Request, Response } from 'express';
import type { ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { translate } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { DESCRIPTION_MAX, PAGE_MAX } from './service.js';

/** When the pages and this statement were last reviewed (YYYY-MM-DD): change it with each review. */
export const LAST_REVIEWED = '2026-11-29';
/** The supervisory authority under DOS-lagen (Myndigheten för digital förvaltning). */
export const DIGG_URL = 'https://www.digg.se/';
/** The FAQ article on reporting accessibility problems. */
export const FAQ_ARTICLE = '/fragor/servicecenter/hur-anmaler-jag-brister-i-tillganglighet';

const FORM_FIELDS = ['page', 'description', 'email'] as const;

function formatDay(day: string, lang: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** The accessibility statement (tillgänglighetsredogörelse) that DOS-lagen requires, and its form to report a problem. */
export function accessibilityRoutes(s: Services): RouteDef[] {
  const { config, accessibilityReports } = s;
  const reportLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'accessibility reports');

  function render(req: Request, res: Response, status: number, values: Record<string, string> = {}, error?: ValidationError) {
    const lang = req.ctx.lang;
    const { errors, errorList } = errorSummary(error, lang, FORM_FIELDS, { fallback: 'description' });
    res.status(status).render('resident/accessibility', {
      lang,
      title: translate(lang, error ? 'accessibility.title_error' : 'accessibility.title'),
      publicUrl: config.publicUrl,
      examplePage: `${config.publicUrl}/kontakt`,
      reviewed: { iso: LAST_REVIEWED, text: formatDay(LAST_REVIEWED, lang) },
      diggUrl: DIGG_URL,
      faqHref: FAQ_ARTICLE,
      pageMax: PAGE_MAX,
      descriptionMax: DESCRIPTION_MAX,
      values,
      errors,
      errorList,
    });
  }

  return [
    {
      method: 'get',
      path: '/tillganglighet',
      access: 'public',
      summary: 'The accessibility statement, with a form to report a problem',
      handler: (req, res) => render(req, res, 200),
    },
    {
      method: 'post',
      path: '/tillganglighet',
      access: 'public',
      before: [reportLimit],
      summary: 'Report an accessibility problem: a case in the queue, then the receipt',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        // Only the form's own fields: anything else sent along is ignored, as on the contact form.
        const input = Object.fromEntries(FORM_FIELDS.map((f) => [f, body[f]]));
        const values = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f] : '']));
        await orRerender(
          async () => {
            const created = await accessibilityReports.report(input, { lang: req.ctx.lang });
            // The receipt is the thank-you: the case number, and the private link where the answer shows.
            res.redirect(303, `/kvitto/${created.token}`);
          },
          (error) => render(req, res, 400, values, error),
        );
      },
    },
  ];
}
