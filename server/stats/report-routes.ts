import type { Request, Response } from 'express';
import { hasRole } from '../auth/roles.js';
import { CHANNELS } from '../cases/lifecycle.js';
import { ForbiddenError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { accessorOf } from '../privacy/access-log.js';
import { toCsv } from './csv.js';
import { PERIODS, type Report } from './report.js';
import { formatters, periodLabel, reportTables, TABLE_IDS, type ReportTable, type TableId } from './report-tables.js';

const FILTER_FIELDS = ['from', 'to', 'per', 'channel', 'category', 'department', 'agent'] as const;
/** The tables only managers see: figures about named colleagues. */
const MANAGER_TABLES: readonly TableId[] = ['agents', 'departments'];

/**
 * The history report: a page (filters as a GET form, charts with their
 * tables), each table as CSV, and the whole report as JSON. Agents see the
 * centre's figures; the per-agent and per-department tables, and a filter on
 * another agent, are for managers.
 */
export function statsReportRoutes(s: Services): RouteDef[] {
  const { reports } = s;

  const isManager = (req: Request) => hasRole(req.ctx.user!.role, 'manager');
  /** Who asks: an agent may filter on their own cases only (the report service checks the validated filter). */
  const viewerOf = (req: Request) => ({ id: req.ctx.user!.id, manager: isManager(req) });

  async function page(req: Request, res: Response) {
    const lang = req.ctx.lang;
    const manager = isManager(req);
    const choices = await reports.choices();
    let report: Report | undefined;
    let errors: Record<string, string> = {};
    let errorList: { href: string; message: string }[] = [];
    let status = 200;
    try {
      report = await reports.report(req.query, { withTables: manager, viewer: viewerOf(req) });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      status = 400;
      ({ errors, errorList } = errorSummary(err, lang, FILTER_FIELDS));
    }
    const q = req.query as Record<string, string | undefined>;
    const value = (k: string) => (typeof q[k] === 'string' ? q[k] : '');
    const tables = report ? reportTables(report, lang, { manager }) : [];
    const exportQuery = new URLSearchParams(
      Object.entries({ from: report?.period.from, to: report?.period.to, per: report?.volumes.per, channel: value('channel'), category: value('category'), department: value('department'), agent: value('agent') }).filter(
        (e): e is [string, string] => Boolean(e[1]),
      ),
    ).toString();
    res.status(status).render('stats/history', {
      lang,
      title: translate(lang, 'stats.report.title'),
      chartScript: Boolean(report),
      errors,
      errorList,
      form: {
        from: report?.period.from ?? value('from'),
        to: report?.period.to ?? value('to'),
        per: PERIODS.map((p) => ({ value: p, selected: p === (report?.volumes.per ?? value('per')) })),
        channels: CHANNELS.map((c) => ({ value: c, label: translate(lang, `channel.${c}`), selected: c === value('channel') })),
        categories: choices.categories.map((c) => ({ value: c.slug, label: lang === 'en' ? c.name_en : c.name_sv, selected: c.slug === value('category') })),
        departments: choices.departments.map((d) => ({ value: d.slug, label: d.name, selected: d.slug === value('department') })),
        agents: manager ? choices.agents.map((a) => ({ value: String(a.id), label: a.name, selected: String(a.id) === value('agent') })) : [],
      },
      report,
      key: report ? keyFigures(report, lang) : [],
      tables: tables.map((t) => ({
        ...t,
        csv: `/agent/statistik/export.csv?table=${t.id}${exportQuery ? `&${exportQuery}` : ''}`,
        body: t.rows.map((cells, i) => ({ head: cells[0], cells: cells.slice(1).map((text, j) => ({ text, cls: t.classes?.[i]?.[j + 1] ?? '', numeric: t.columns[j + 1]?.numeric })) })),
      })),
      charts: report ? JSON.stringify(chartData(report, lang)).replace(/</g, '\\u003c') : undefined,
    });
  }

  return [
    { method: 'get', path: '/agent/statistik', access: 'agent', summary: 'Statistics: the history report', handler: page },
    {
      method: 'get',
      path: '/agent/statistik/export.csv',
      access: 'agent',
      summary: 'One table of the history report as CSV',
      handler: async (req, res) => {
        const id = req.query.table;
        if (typeof id !== 'string' || !(TABLE_IDS as readonly string[]).includes(id)) {
          throw new ValidationError([{ field: 'table', code: 'errors.invalid_choice', message: `table must be one of ${TABLE_IDS.join(', ')}` }]);
        }
        const manager = isManager(req);
        if (MANAGER_TABLES.includes(id as TableId) && !manager) throw new ForbiddenError('This table is for managers');
        const { table: _t, ...query } = req.query;
        const report = await reports.report(query, { withTables: manager, viewer: viewerOf(req) });
        const table = reportTables(report, req.ctx.lang, { manager }).find((t) => t.id === id);
        if (!table) throw new ValidationError([{ field: 'table', code: 'errors.invalid_choice', message: 'There is no such table for this period (no survey answers are collected)' }]);
        await s.accessLog.record(accessorOf(req), 'stats.export', {
          target: id,
          detail: { table: id, from: report.period.from, to: report.period.to, ...Object.fromEntries(Object.entries(query).filter(([k, v]) => typeof v === 'string' && v !== '' && k !== 'from' && k !== 'to')) },
        });
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="statistik-${id}-${report.period.from}-${report.period.to}.csv"`);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.send(tableCsv(table));
      },
    },
    {
      method: 'get',
      path: '/api/v1/stats/report',
      access: 'agent',
      summary: 'The history report for a period and filters (per-agent and per-department tables for managers)',
      handler: async (req, res) => {
        res.json(await reports.report(req.query, { withTables: isManager(req), viewer: viewerOf(req) }));
      },
    },
  ];
}

export function tableCsv(table: ReportTable): string {
  return toCsv(
    table.columns.map((c) => c.label),
    table.rows,
  );
}

/** The few figures at the top of the page. */
function keyFigures(r: Report, lang: string) {
  const f = formatters(lang);
  const t = (k: string, vars: Record<string, unknown> = {}) => translate(lang, `stats.report.key.${k}`, vars);
  return [
    { id: 'arrivals', label: t('arrivals'), value: f.int(r.volumes.total) },
    { id: 'first-response', label: t('first_response'), value: t('hours', { hours: f.hours(r.firstResponse.medianHours) }) },
    { id: 'written-1', label: t('written_1'), value: f.percent(r.kkik.writtenWithin1Day.share) },
    { id: 'phone-direct', label: t('phone_direct'), value: f.percent(r.kkik.phoneResolvedDirectly.share) },
    ...(r.kkik.calls ? [{ id: 'service-level', label: t('service_level', { seconds: String(r.kkik.calls.serviceLevel.targetSeconds) }), value: f.percent(r.kkik.calls.serviceLevel.share) }] : []),
    { id: 'open', label: t('open'), value: f.int(r.backlog[r.backlog.length - 1]?.open ?? 0) },
  ];
}

/** The figures the charts draw; the tables beside them hold the same. */
function chartData(r: Report, lang: string) {
  const labels = r.volumes.rows.map((row) => periodLabel(row.period, r.volumes.per, lang));
  return {
    volumes: {
      title: translate(lang, `stats.report.volumes.title_${r.volumes.per}`),
      labels,
      datasets: CHANNELS.filter((c) => r.volumes.rows.some((row) => row.byChannel[c] > 0)).map((c) => ({ label: translate(lang, `channel.${c}`), channel: c, data: r.volumes.rows.map((row) => row.byChannel[c]) })),
    },
    backlog: {
      title: translate(lang, 'stats.report.backlog.title'),
      labels: r.backlog.map((b) => periodLabel(b.period, r.volumes.per, lang)),
      datasets: [{ label: translate(lang, 'stats.report.backlog.open'), data: r.backlog.map((b) => b.open) }],
    },
  };
}
