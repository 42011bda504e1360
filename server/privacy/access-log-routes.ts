import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { accessorOf, ACCESS_ACTIONS } from './access-log.js';
import { accessorLabel, actionLabel, detailText, filterParams, localTime, type AccessLogFilter } from './access-log-search.js';

const FILTER_FIELDS = ['from', 'to', 'user', 'action', 'case'] as const;
const PAGE = '/agent/atkomstlogg';

/**
 * The access log for managers and admins: a search page (a GET form, newest
 * first, keyset pages of 100) and the filtered result as CSV. Each search and
 * each download is itself recorded.
 */
export function accessLogRoutes(s: Services): RouteDef[] {
  const { accessLogSearch, accessLog, config } = s;
  const timeZone = config.calendar.timeZone;

  async function page(req: Request, res: Response) {
    const lang = req.ctx.lang;
    const q = req.query as Record<string, unknown>;
    const value = (k: string) => (typeof q[k] === 'string' ? q[k] : '');
    let filter: AccessLogFilter | undefined;
    let errors: Record<string, string> = {};
    let errorList: { href: string; message: string }[] = [];
    try {
      filter = accessLogSearch.parse(req.query);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ({ errors, errorList } = errorSummary(err, lang, FILTER_FIELDS));
    }
    const users = await s.auth.listUsers();
    let result;
    if (filter) {
      const found = await accessLogSearch.page(filter);
      // Recorded after the read, so the page does not list its own search; before anything is sent.
      await accessLog.record(accessorOf(req), 'access_log.search', { detail: { ...filterParams(filter), ...(filter.before ? { before: filter.before } : {}) } });
      const params = filterParams(filter);
      const link = (extra: Record<string, string> = {}) => `${PAGE}?${new URLSearchParams({ ...params, ...extra }).toString()}`;
      result = {
        from: filter.from,
        to: filter.to,
        zone: timeZone,
        rows: found.entries.map((e) => ({
          id: e.id,
          at: e.created_at,
          time: localTime(e.created_at, timeZone),
          who: accessorLabel(e, lang),
          action: actionLabel(e.action, lang),
          reference: e.case_reference,
          target: e.target,
          detail: detailText(e, lang),
        })),
        nextUrl: found.next ? link({ before: String(found.next) }) : undefined,
        firstUrl: filter.before ? link() : undefined,
        csvUrl: `${PAGE}/export.csv?${new URLSearchParams(params).toString()}`,
      };
    }
    res.status(filter ? 200 : 400).render('privacy/access-log', {
      lang,
      title: translate(lang, 'access_log.title'),
      errors,
      errorList,
      form: {
        from: filter?.from ?? value('from'),
        to: filter?.to ?? value('to'),
        case: filter?.case ?? value('case'),
        users: users
          .slice()
          .sort((a, b) => a.name.localeCompare(b.name, 'sv'))
          .map((u) => ({ value: String(u.id), label: `${u.name} (${u.email})`, selected: String(u.id) === value('user') })),
        actions: ACCESS_ACTIONS.map((a) => ({ value: a, label: actionLabel(a, lang), selected: a === value('action') })),
      },
      result,
    });
  }

  return [
    { method: 'get', path: PAGE, access: 'manager', summary: 'The access log: who viewed or exported what, and when', handler: page },
    {
      method: 'get',
      path: `${PAGE}/export.csv`,
      access: 'manager',
      summary: 'The filtered access log as CSV',
      handler: async (req, res) => {
        const filter = accessLogSearch.parse(req.query);
        const lines = accessLogSearch.csv(filter, req.ctx.lang, async () => {
          await accessLog.record(accessorOf(req), 'access_log.export', { detail: filterParams(filter) });
          res.setHeader('Content-Type', 'text/csv; charset=utf-8');
          res.setHeader('Content-Disposition', `attachment; filename="atkomstlogg-${filter.from}-${filter.to}.csv"`);
          res.setHeader('X-Content-Type-Options', 'nosniff');
          res.setHeader('Cache-Control', 'private, no-store');
        });
        await pipeline(Readable.from(lines), res);
      },
    },
  ];
}
