import { DEFLECTION_SETTLE_MS, deflectionSummary } from '../faq/stats.js';
import { ForbiddenError } from '../platform/errors.js';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../cases/lifecycle.js';
import { ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';
import { resolveRange, statsQuerySchema, type StatsFilter, type StatsQuery } from './filter.js';
import type { AgentRow, DepartmentRow, ReportStore } from './report-store.js';
import type { SurveyIndices } from '../survey/stats.js';
import type { WorkingTime } from './working-time.js';

/**
 * The managers' history report: volumes, the hour-of-week pattern, response
 * and resolution times in working hours, KKiK's measures, callbacks, the
 * backlog trend, the FAQ, the service survey, and (managers only) per-agent
 * and per-department tables. Built from the per-case metric columns and the
 * calls and callbacks tables, one period at a time (report-store.ts).
 */

export const PERIODS = ['day', 'week', 'month'] as const;
export type Per = (typeof PERIODS)[number];

export const reportQuerySchema = statsQuerySchema.extend({
  per: z.preprocess((v) => (v === '' ? undefined : v), z.enum(PERIODS, 'errors.invalid_choice').optional()),
});
export type ReportQuery = StatsQuery & { per?: Per };

/** A part of a whole: the share is null when there is no whole. */
export interface Share {
  count: number;
  of: number;
  share: number | null;
}

const share = (count: number, of: number): Share => ({ count, of, share: of > 0 ? count / of : null });
const hours = (s: number | null) => (s === null ? null : Math.round((s / 3600) * 100) / 100);


export interface SurveySource {
  indices(filter: StatsFilter): Promise<SurveyIndices>;
}

export interface Report {
  period: { from: string; to: string; timeZone: string };
  filter: { channel: Channel | null; category: string | null; department: string | null; agent: number | null };
  volumes: { per: Per; total: number; rows: { period: string; total: number; byChannel: Record<Channel, number> }[] };
  /** Arrivals per local weekday (0 = Monday) and hour (0–23). */
  hourOfWeek: number[][];
  firstResponse: { arrivals: number; answered: number; medianHours: number | null; p90Hours: number | null };
  resolution: { resolved: number; medianHours: number | null; p90Hours: number | null };
  kkik: {
    writtenWithin1Day: Share;
    writtenWithin2Days: Share;
    phoneResolvedDirectly: Share;
    /** Calls: null when the filter excludes calls (another channel, a topic or a department). */
    calls: null | {
      offered: number;
      answered: number;
      answeredWithin60s: Share;
      abandoned: Share;
      serviceLevel: Share & { targetSeconds: number; goal: number };
      averageSpeedOfAnswerSeconds: number | null;
    };
    callbacks: { requested: number; completed: Share; completedInTime: Share; failed: number; cancelled: number; pending: number };
  };
  backlog: { period: string; open: number }[];
  faq: { visitsWithSuggestion: number; submitted: number; deflected: number; deflectionRate: number | null; replyUses: number; casesWithUse: number };
  /**
   * Null when the survey is off and the period holds none of its invitations
   * or answers. With fewer than SURVEY_MIN_ANSWERS answers only the counts
   * are given: a filter narrow enough could otherwise show one resident's answers.
   */
  survey: (SurveyIndices & { suppressed: false }) | { suppressed: true; minimum: number; invited: number; answered: number; responseRate: number | null } | null;
  agents?: (Omit<AgentRow, 'first_response_median_s' | 'resolution_median_s'> & { first_response_median_hours: number | null; resolution_median_hours: number | null })[];
  departments?: (Omit<DepartmentRow, 'resolution_median_s'> & { resolution_median_hours: number | null })[];
}

/** Survey indices are shown from this many answers on. */
export const SURVEY_MIN_ANSWERS = 5;

function guardedSurvey(s: SurveyIndices): NonNullable<Report['survey']> {
  if (s.answered >= SURVEY_MIN_ANSWERS) return { ...s, suppressed: false };
  return { suppressed: true, minimum: SURVEY_MIN_ANSWERS, invited: s.invited, answered: s.answered, responseRate: s.responseRate };
}

/** The default grouping for a period of `days` days. */
export function defaultPer(days: number): Per {
  return days <= 62 ? 'day' : days <= 366 ? 'week' : 'month';
}

/** The start of the period (day, ISO week from Monday, month) a local date falls in. */
export function periodOf(day: string, per: Per): string {
  const d = DateTime.fromISO(day, { zone: 'UTC' });
  if (per === 'day') return day;
  if (per === 'week') return d.startOf('week').toISODate()!;
  return d.toFormat('yyyy-MM');
}

/** Every period of the range in order, so empty days show as 0 and not as gaps. */
export function periodsOf(fromDay: string, toDay: string, per: Per): string[] {
  const out: string[] = [];
  let d = DateTime.fromISO(fromDay, { zone: 'UTC' });
  const last = DateTime.fromISO(toDay, { zone: 'UTC' });
  while (d <= last) {
    const p = periodOf(d.toISODate()!, per);
    if (out[out.length - 1] !== p) out.push(p);
    d = d.plus({ days: 1 });
  }
  return out;
}

const zeroChannels = (): Record<Channel, number> => Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>;

export function createReportService(deps: {
  store: ReportStore;
  workingTime: WorkingTime;
  timeZone: string;
  stats: { serviceLevelSeconds: number; serviceLevelGoal: number };
  survey?: SurveySource;
  surveyEnabled?: boolean;
}) {
  const { store, workingTime, timeZone } = deps;

  /** Reads and checks the query (?from=&to=&channel=&category=&department=&agent=&per=) into a filter. */
  async function filterOf(input: unknown, now: Date): Promise<{ filter: StatsFilter; query: ReportQuery; per: Per }> {
    const query = parseOrThrow(reportQuerySchema, input) as ReportQuery;
    const range = resolveRange(query, timeZone, now);
    const found = await store.lookup(query);
    const unknown = [
      query.category !== undefined && found.categoryId === undefined ? 'category' : undefined,
      query.department !== undefined && found.departmentId === undefined ? 'department' : undefined,
      query.agent !== undefined && found.agentId === undefined ? 'agent' : undefined,
    ].filter((f): f is string => Boolean(f));
    if (unknown.length) throw new ValidationError(unknown.map((field) => ({ field, code: 'errors.invalid_choice', message: translate('en', 'errors.invalid_choice') })));
    const days = Math.round((range.to.getTime() - range.from.getTime()) / 86_400_000);
    return { filter: { range, channel: query.channel, ...found }, query, per: query.per ?? defaultPer(days) };
  }

  async function build(filter: StatsFilter, query: ReportQuery, per: Per, opts: { withTables: boolean; now: Date }): Promise<Report> {
    const { now } = opts;
    const f = filter;
    // Calls have no topic or department: a filter on those (or on another channel) leaves calls out.
    const withCalls = (!f.channel || f.channel === 'phone') && f.categoryId === undefined && f.departmentId === undefined;
    const [days, week, arrivals, resolution, calls, callbacks, openNow, arrivalsAfter, resolvesSince, faq, survey, agents, departments] = await Promise.all([
      store.arrivalsByDay(f),
      store.arrivalsByHourOfWeek(f),
      store.arrivalSummary(f, workingTime.decidedArrivalsUntil(now, 1), workingTime.decidedArrivalsUntil(now, 2)),
      store.resolutionSummary(f),
      withCalls ? store.callSummary(f, deps.stats.serviceLevelSeconds) : undefined,
      store.callbackSummary(f),
      store.openNow(f),
      // The backlog needs the arrivals from the period's start to now: the period's are in `days`, only those after it are read.
      store.arrivalsByDaySince(f, f.range.to),
      store.resolvesByDaySince(f, f.range.from),
      store.faq(f, new Date(now.getTime() - DEFLECTION_SETTLE_MS)),
      deps.survey ? deps.survey.indices(f) : undefined,
      opts.withTables ? store.agents(f) : undefined,
      opts.withTables ? store.departments(f) : undefined,
    ]);

    const periods = periodsOf(f.range.fromDay, f.range.toDay, per);
    const byPeriod = new Map(periods.map((p) => [p, { period: p, total: 0, byChannel: zeroChannels() }]));
    for (const r of days) {
      const row = byPeriod.get(periodOf(r.day, per));
      if (!row) continue;
      row.total += r.count;
      row.byChannel[r.channel as Channel] = (row.byChannel[r.channel as Channel] ?? 0) + r.count;
    }

    const hourOfWeek = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
    for (const r of week) hourOfWeek[r.dow - 1]![r.hour] = r.count;

    return {
      period: { from: f.range.fromDay, to: f.range.toDay, timeZone },
      filter: { channel: query.channel ?? null, category: query.category ?? null, department: query.department ?? null, agent: query.agent ?? null },
      volumes: { per, total: arrivals.arrivals, rows: [...byPeriod.values()] },
      hourOfWeek,
      firstResponse: { arrivals: arrivals.arrivals, answered: arrivals.answered, medianHours: hours(arrivals.firstResponseMedianS), p90Hours: hours(arrivals.firstResponseP90S) },
      resolution: { resolved: resolution.resolved, medianHours: hours(resolution.medianS), p90Hours: hours(resolution.p90S) },
      kkik: {
        writtenWithin1Day: share(arrivals.writtenWithin1, arrivals.writtenDecided1),
        writtenWithin2Days: share(arrivals.writtenWithin2, arrivals.writtenDecided2),
        phoneResolvedDirectly: share(arrivals.phoneDirect, arrivals.phoneTotal),
        calls: calls
          ? {
              offered: calls.offered,
              answered: calls.answered,
              answeredWithin60s: share(calls.within60, calls.offered),
              abandoned: share(calls.abandoned, calls.offered),
              serviceLevel: { ...share(calls.withinTarget, calls.offered), targetSeconds: deps.stats.serviceLevelSeconds, goal: deps.stats.serviceLevelGoal },
              averageSpeedOfAnswerSeconds: calls.avgAnswerS === null ? null : Math.round(calls.avgAnswerS * 10) / 10,
            }
          : null,
        callbacks: {
          requested: callbacks.requested,
          completed: share(callbacks.completed, callbacks.requested),
          completedInTime: share(callbacks.completedInTime, callbacks.requested),
          failed: callbacks.failed,
          cancelled: callbacks.cancelled,
          pending: callbacks.pending,
        },
      },
      backlog: backlogTrend(periods, per, f.range.toDay, openNow, [...days, ...arrivalsAfter], resolvesSince),
      faq: {
        visitsWithSuggestion: faq.opened,
        submitted: faq.submitted,
        deflected: faq.deflected,
        deflectionRate: deflectionSummary(faq).rate,
        replyUses: faq.replyUses,
        casesWithUse: faq.casesWithUse,
      },
      survey: survey && (deps.surveyEnabled || survey.invited > 0 || survey.answered > 0) ? guardedSurvey(survey) : null,
      ...(agents
        ? {
            agents: agents.map(({ first_response_median_s, resolution_median_s, ...a }) => ({
              ...a,
              first_response_median_hours: hours(first_response_median_s),
              resolution_median_hours: hours(resolution_median_s),
            })),
          }
        : {}),
      ...(departments ? { departments: departments.map(({ resolution_median_s, ...d }) => ({ ...d, resolution_median_hours: hours(resolution_median_s) })) } : {}),
    };
  }

  return {
    filterOf,
    /**
     * The report for a query. `withTables`: the per-agent and per-department
     * tables, for managers only (the caller decides by role). `viewer`: who
     * asks; one who is not a manager may filter on their own cases only
     * (checked on the validated filter, so a malformed agent is a 400).
     */
    async report(input: unknown, opts: { withTables: boolean; viewer?: { id: number; manager: boolean }; now?: Date }): Promise<Report> {
      const now = opts.now ?? new Date();
      const { filter, query, per } = await filterOf(input, now);
      if (opts.viewer && !opts.viewer.manager && filter.agentId !== undefined && filter.agentId !== opts.viewer.id) {
        throw new ForbiddenError('Only managers can see the figures of another agent');
      }
      return build(filter, query, per, { withTables: opts.withTables, now });
    },
    choices: () => store.choices(),
  };
}

export type ReportService = ReturnType<typeof createReportService>;

/**
 * The open cases at the end of each period: the cases open now, less those
 * that arrived after the period's end, plus those resolved after it (a case
 * reopened and still open counts as open throughout).
 */
export function backlogTrend(
  periods: string[],
  per: Per,
  toDay: string,
  openNow: number,
  arrivals: { day: string; count: number }[],
  resolves: { day: string; count: number }[],
): { period: string; open: number }[] {
  const net = new Map<string, number>();
  for (const a of arrivals) net.set(a.day, (net.get(a.day) ?? 0) + a.count);
  for (const r of resolves) net.set(r.day, (net.get(r.day) ?? 0) - r.count);
  // The open cases at a day's end: those open now less the net change on the days after it.
  const days = [...net.keys()].sort();
  const lastDayOf = (p: string): string => {
    const d = DateTime.fromISO(per === 'month' ? `${p}-01` : p, { zone: 'UTC' });
    const end = per === 'day' ? d : per === 'week' ? d.plus({ days: 6 }) : d.endOf('month').startOf('day');
    const last = end.toISODate()!;
    return last < toDay ? last : toDay;
  };
  const total = days.reduce((n, d) => n + net.get(d)!, 0);
  let upTo = 0;
  let i = 0;
  return periods.map((p) => {
    const end = lastDayOf(p);
    while (i < days.length && days[i]! <= end) upTo += net.get(days[i++]!)!;
    return { period: p, open: Math.max(0, openNow - (total - upTo)) };
  });
}
