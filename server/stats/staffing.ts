import { DateTime } from 'luxon';
import { z } from 'zod';
import type { OpeningHours } from '../calendar/opening-hours.js';
import { parseWeeklyHours, type WeeklyHours } from '../calendar/weekly-hours.js';
import type { Channel } from '../cases/lifecycle.js';
import type { Config } from '../config.js';
import { ValidationError, type FieldError } from '../platform/errors.js';
import { hasKey, translate } from '../platform/i18n.js';
import { HOURS_PER_WEEK, MAX_AGENTS, WEEKDAYS, weeklyStaffing } from './erlang-c.js';
import { resolveRange, StatsRangeError, statsQuerySchema, type StatsRange } from './filter.js';
import { STAFFING_DEFAULTS, staffingInputSchema, toStaffingParams, type StaffingInput } from './staffing-schema.js';
import type { StaffingStore } from './staffing-store.js';

/**
 * Staffing per hour of the week with Erlang C (erlang-c.ts): from the
 * arrivals per hour (counted in a period of history, or entered by the
 * manager), the average handling time and a target such as 80 % within 20 s,
 * the agents needed on the phones, the agents to schedule after shrinkage,
 * and the predicted service level, average speed of answer and occupancy.
 *
 * The week is the statistics office hours (STATS_OFFICE_HOURS, default
 * OPENING_HOURS, the calendar of services.officeHours), in local time of
 * TIME_ZONE. An hour outside them is closed and needs no staff. An hour open
 * only in part (16:00–16:30) is computed for its open part: its contacts are
 * taken to arrive while it is open, so their rate per hour is higher, and its
 * agents count for that part in the agent-hours.
 *
 * From history, each hour of the week gets the average over its occurrences
 * in the period, by local wall time (so across daylight saving a call at
 * 23:30 UTC on a Sunday is Monday 00:30 in winter and 01:30 in summer). An
 * hour the calendar closed on a holiday is left out of the average, its
 * contacts and its occurrence both, so Easter Monday does not lower
 * Mondays; hours not yet begun (later today) are not counted either.
 */

export const STAFFING_SOURCES = ['history', 'entered'] as const;
export type StaffingSource = (typeof STAFFING_SOURCES)[number];

/** The two targets of the issue: 80 % within 20 s (the common default) and 90 % within 5 minutes (Luleå's kundtjänst). */
export const TARGET_PRESETS = {
  '80-20': { targetServiceLevel: 80, targetSeconds: 20 },
  '90-300': { targetServiceLevel: 90, targetSeconds: 300 },
} as const;
export const TARGET_CHOICES = ['80-20', '90-300', 'custom'] as const;
export type TargetChoice = (typeof TARGET_CHOICES)[number];

/** Without a period, the history is the last eight full weeks (Monday to Sunday). */
export const DEFAULT_HISTORY_WEEKS = 8;

/** The query's fields in form order: the error summary lists errors in this order. */
export const STAFFING_FIELDS = ['source', 'from', 'to', 'channel', 'arrivalsPerHour', 'target', 'targetServiceLevel', 'targetSeconds', 'ahtSeconds', 'shrinkage', 'maxOccupancy'] as const;

/** The name of the query parameter for one hour of the week's entered arrivals: h0 (Monday 00–01) … h167. */
export const hourField = (hourOfWeek: number) => `h${hourOfWeek}`;

const HOUR_MS = 3_600_000;

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const optionsSchema = z.object({
  source: z.preprocess(emptyToUndefined, z.enum(STAFFING_SOURCES).default('history')),
  target: z.preprocess(emptyToUndefined, z.enum(TARGET_CHOICES).optional()),
  maxOccupancy: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : Number(v.trim().replace(',', '.'))) : emptyToUndefined(v)),
    z.number().min(1).max(100).optional(),
  ),
});
const periodSchema = statsQuerySchema.pick({ from: true, to: true });
const channelSchema = statsQuerySchema.pick({ channel: true });

/** A validated request for a staffing plan. Percentages as people type them (80, 30), as in the query. */
export interface StaffingRequest {
  source: StaffingSource;
  target: TargetChoice;
  ahtSeconds: number;
  targetServiceLevel: number;
  targetSeconds: number;
  shrinkage: number;
  maxOccupancy?: number;
  /** History: the period and channel (all channels when undefined). */
  range?: StatsRange;
  channel?: Channel;
  /**
   * Entered: contacts in each hour of the week, Monday 00–01 first; closed hours 0. From `h0`…`h167`
   * as typed (for an hour open in part, the contacts in its open part), or from `arrivalsPerHour`, a
   * rate while open, which gives an hour open for 30 minutes half of it.
   */
  entered?: number[];
}

export interface StaffingHour {
  hourOfWeek: number;
  day: (typeof WEEKDAYS)[number];
  /** 0–23, the clock hour the row starts. */
  hour: number;
  /** Minutes of the hour within office hours (0: closed, 60: open all of it). */
  openMinutes: number;
  open: boolean;
  /** Contacts arriving in this hour of the week (average per week from history, or as entered). */
  arrivals: number;
  /** Contacts per hour while open, what Erlang C is given: arrivals × 60 / openMinutes. Null when closed. */
  arrivalRate: number | null;
  /** Offered traffic in Erlangs. Null when closed. */
  trafficErlangs: number | null;
  /** Agents needed on the phones at the same time (Erlang C). Null when closed. */
  agents: number | null;
  /** Agents to schedule, with the shrinkage. Null when closed. */
  scheduled: number | null;
  /** Predicted share answered within the target time, 0–1. Null when closed. */
  serviceLevel: number | null;
  /** Predicted average speed of answer in seconds. Null when closed. */
  asa: number | null;
  /** Predicted share of the agents' time on contacts, 0–1. Null when closed. */
  occupancy: number | null;
  /** Predicted probability that a contact waits at all. Null when closed. */
  probabilityOfWaiting: number | null;
}

export interface StaffingTotals {
  /** Contacts arriving within office hours. */
  arrivals: number;
  /** Contacts arriving outside office hours: not in the staffing (answered when open, with the backlog). */
  arrivalsWhileClosed: number;
  /** Hours of agents on the phones: Σ agents × open part of the hour. */
  agentHours: number;
  /** Hours of agents to schedule, with the shrinkage. */
  scheduledHours: number;
  peakAgents: number;
  peakScheduled: number;
  /** The predicted service level and ASA over all contacts (weighted by arrivals); null without contacts. */
  serviceLevel: number | null;
  asa: number | null;
  /** Traffic over agent time; null without agents. */
  occupancy: number | null;
}

export interface StaffingDay extends StaffingTotals {
  day: (typeof WEEKDAYS)[number];
  /** The office hours of the day, e.g. "08:00–16:30", empty when closed all day. */
  openPeriods: { start: string; end: string }[];
}

export interface StaffingPlan {
  inputs: {
    source: StaffingSource;
    target: TargetChoice;
    ahtSeconds: number;
    targetServiceLevel: number;
    targetSeconds: number;
    shrinkage: number;
    maxOccupancy: number | null;
    channel: Channel | null;
    /** History only: the period, how many weeks it spans, and the days left out because the centre was closed. */
    period: { from: string; to: string; timeZone: string; weeks: number; closedDays: { day: string; name: string }[] } | null;
    officeHours: string;
  };
  hours: StaffingHour[];
  days: StaffingDay[];
  week: StaffingTotals;
}

function fieldError(field: string, code: string, params: Record<string, string> = {}): FieldError {
  return { field, code, message: translate('en', code, params), params };
}

/** The page's text for a field's error: stats.staffing.errors.<field>, else the schema's own key. */
function codeFor(field: string, fallback: string): string {
  if (/^h\d+$/.test(field)) return 'stats.staffing.errors.arrivals';
  const key = `stats.staffing.errors.${field}`;
  return hasKey('sv', key) ? key : fallback;
}

/** Minutes of each hour of the week inside the weekly hours. */
export function openMinutesByHour(week: WeeklyHours): number[] {
  const out = new Array<number>(HOURS_PER_WEEK).fill(0);
  week.forEach((periods, day) => {
    for (const p of periods) {
      for (let h = Math.floor(p.startMinute / 60); h * 60 < p.endMinute && h < 24; h++) {
        out[day * 24 + h]! += Math.min(p.endMinute, h * 60 + 60) - Math.max(p.startMinute, h * 60);
      }
    }
  });
  return out;
}

/** A minute of the day as the clock shows it: 510 → 08:30. */
export const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

export function createStaffingService(deps: { store: StaffingStore; officeHours: OpeningHours; config: Config }) {
  const { store, officeHours, config } = deps;
  const timeZone = config.calendar.timeZone;
  const officeHoursSpec = config.calendar.statsOfficeHours;
  const week = parseWeeklyHours(officeHoursSpec);
  const openMinutes = openMinutesByHour(week);
  /** The first open minute of each hour of the week (for asking the calendar whether a holiday closed it). */
  const firstOpenMinute = openMinutes.map((m, i) => {
    if (m === 0) return -1;
    const day = Math.floor(i / 24);
    const start = (i % 24) * 60;
    const p = week[day]!.find((x) => x.endMinute > start && x.startMinute < start + 60)!;
    return Math.max(p.startMinute, start);
  });

  /** The last eight full weeks before `now`'s week, as local dates. */
  function defaultPeriod(now: Date): { from: string; to: string } {
    const monday = DateTime.fromJSDate(now, { zone: timeZone }).startOf('week');
    return { from: monday.minus({ weeks: DEFAULT_HISTORY_WEEKS }).toISODate()!, to: monday.minus({ days: 1 }).toISODate()! };
  }

  /**
   * Validates the query of the page and of the API (the same parameters),
   * reporting every problem at once: a ValidationError with one error per
   * field, each with a stats.staffing.errors.* key.
   */
  function parseQuery(query: unknown, now = new Date()): StaffingRequest {
    const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
    const errors: FieldError[] = [];
    const add = (field: string, code: string, params: Record<string, string> = {}) => {
      if (!errors.some((e) => e.field === field)) errors.push(fieldError(field, code, params));
    };

    const options = optionsSchema.safeParse(q);
    if (!options.success) for (const i of options.error.issues) add(String(i.path[0]), codeFor(String(i.path[0]), 'errors.invalid'));
    const source: StaffingSource = options.success ? options.data.source : q.source === 'entered' ? 'entered' : 'history';
    const target: TargetChoice = options.data?.target ?? (q.targetServiceLevel !== undefined || q.targetSeconds !== undefined ? 'custom' : '80-20');
    const preset = target === 'custom' ? undefined : TARGET_PRESETS[target];

    // The entered week: only office hours are read; an empty hour is 0.
    let arrivalsByHourOfWeek: unknown[] | undefined;
    const perHourGiven = emptyToUndefined(typeof q.arrivalsPerHour === 'string' ? q.arrivalsPerHour.trim() : q.arrivalsPerHour) !== undefined;
    if (source === 'entered') {
      const anyHour = openMinutes.some((m, i) => m > 0 && q[hourField(i)] !== undefined);
      if (anyHour) {
        arrivalsByHourOfWeek = openMinutes.map((m, i) => {
          if (m === 0) return 0;
          const v = q[hourField(i)];
          return v === undefined || (typeof v === 'string' && v.trim() === '') ? 0 : v;
        });
        if (perHourGiven) add('arrivalsPerHour', 'stats.staffing.errors.both');
      } else if (!perHourGiven) {
        add('arrivalsPerHour', 'stats.staffing.errors.entered_missing');
      }
    }

    const core = staffingInputSchema.safeParse({
      ahtSeconds: q.ahtSeconds,
      targetServiceLevel: preset ? preset.targetServiceLevel : q.targetServiceLevel,
      targetSeconds: preset ? preset.targetSeconds : q.targetSeconds,
      // Left out altogether (an API call), the usual planning figure; an emptied form field is an error.
      shrinkage: q.shrinkage === undefined ? STAFFING_DEFAULTS.shrinkage : q.shrinkage,
      ...(source === 'entered' && !arrivalsByHourOfWeek && perHourGiven ? { arrivalsPerHour: q.arrivalsPerHour } : {}),
      ...(arrivalsByHourOfWeek && !perHourGiven ? { arrivalsByHourOfWeek } : {}),
    });
    if (!core.success) {
      for (const i of core.error.issues) {
        const field = i.path[0] === 'arrivalsByHourOfWeek' && typeof i.path[1] === 'number' ? hourField(i.path[1]) : String(i.path[0] ?? '_');
        add(field, codeFor(field, i.message), /^h\d+$/.test(field) ? { slot: field } : {});
      }
    }

    let range: StatsRange | undefined;
    let channel: Channel | undefined;
    if (source === 'history') {
      const c = channelSchema.safeParse(q);
      if (c.success) channel = c.data.channel;
      else add('channel', codeFor('channel', 'errors.invalid_choice'));
      const h = periodSchema.safeParse(q);
      if (!h.success) {
        for (const i of h.error.issues) add(String(i.path[0]), codeFor(String(i.path[0]), i.message));
      } else {
        const fallback = defaultPeriod(now);
        const from = h.data.from ?? (h.data.to ? undefined : fallback.from);
        const to = h.data.to ?? (h.data.from ? undefined : fallback.to);
        try {
          // Only `to` given: the eight weeks up to it.
          range = resolveRange({ from, to }, timeZone, now, DEFAULT_HISTORY_WEEKS * 7);
        } catch (err) {
          if (!(err instanceof StatsRangeError)) throw err;
          for (const f of err.fields) add(f.field, f.code);
        }
      }
    }

    if (errors.length) {
      const order = (f: string) => {
        const i = (STAFFING_FIELDS as readonly string[]).indexOf(f);
        return i >= 0 ? i : /^h\d+$/.test(f) ? STAFFING_FIELDS.indexOf('arrivalsPerHour') + Number(f.slice(1)) / 1000 : STAFFING_FIELDS.length;
      };
      throw new ValidationError(errors.sort((a, b) => order(a.field) - order(b.field)));
    }
    const input = core.data!;
    let entered: number[] | undefined;
    if (source === 'entered') {
      entered = input.arrivalsByHourOfWeek
        ? input.arrivalsByHourOfWeek.map((v, i) => (openMinutes[i]! > 0 ? v : 0))
        : // One rate for every office hour: an hour open in part gets its part of it.
          openMinutes.map((m) => ((input.arrivalsPerHour ?? 0) * m) / 60);
    }
    return {
      source,
      target,
      ahtSeconds: input.ahtSeconds,
      targetServiceLevel: input.targetServiceLevel,
      targetSeconds: input.targetSeconds,
      shrinkage: input.shrinkage,
      ...(options.data?.maxOccupancy !== undefined ? { maxOccupancy: options.data.maxOccupancy } : {}),
      ...(range ? { range } : {}),
      ...(channel ? { channel } : {}),
      ...(entered ? { entered } : {}),
    };
  }

  /**
   * The average contacts per hour of the week over a period, by local wall
   * time, with holiday-closed hours left out (see the top of this file).
   */
  async function historyArrivals(range: StatsRange, channel: Channel | undefined, now = new Date()) {
    const zone = range.timeZone;
    const nowMs = now.getTime();
    const occurrences = new Array<number>(HOURS_PER_WEEK).fill(0);
    const counts = new Array<number>(HOURS_PER_WEEK).fill(0);
    const weekdayOf = new Map<string, number>();
    const leftOut = new Set<string>();
    const closedDays: { day: string; name: string }[] = [];
    const last = DateTime.fromISO(range.toDay, { zone });
    for (let d = DateTime.fromISO(range.fromDay, { zone }); d <= last; d = d.plus({ days: 1 })) {
      const iso = d.toISODate()!;
      const weekday = d.weekday - 1;
      weekdayOf.set(iso, weekday);
      const start = d.toMillis();
      const end = d.plus({ days: 1 }).startOf('day').toMillis();
      const holiday = officeHours.holidayOn(d.toJSDate());
      let closedAny = false;
      // A day of 24 hours has each clock hour once; the daylight-saving days (23 or 25) are walked hour by hour.
      const regular = end - start === 24 * HOUR_MS;
      for (let t = start; t < end && t < nowMs; t += HOUR_MS) {
        const hour = regular ? (t - start) / HOUR_MS : DateTime.fromMillis(t, { zone }).hour;
        const i = weekday * 24 + hour;
        if (holiday && firstOpenMinute[i]! >= 0) {
          const at = d.set({ hour: Math.floor(firstOpenMinute[i]! / 60), minute: firstOpenMinute[i]! % 60 }).toJSDate();
          if (!officeHours.isOpen(at)) {
            leftOut.add(`${iso} ${hour}`);
            closedAny = true;
            continue;
          }
        }
        occurrences[i]!++;
      }
      if (holiday && closedAny) closedDays.push({ day: iso, name: holiday });
    }
    for (const row of await store.arrivalsByLocalHour(range, channel)) {
      const weekday = weekdayOf.get(row.day);
      if (weekday === undefined || leftOut.has(`${row.day} ${row.hour}`)) continue;
      counts[weekday * 24 + row.hour]! += row.count;
    }
    return {
      arrivals: counts.map((c, i) => (occurrences[i]! > 0 ? c / occurrences[i]! : 0)),
      weeks: Math.round(((last.diff(DateTime.fromISO(range.fromDay, { zone }), 'days').days + 1) / 7) * 100) / 100,
      closedDays,
    };
  }

  /** Erlang C for each hour of the week from its arrivals. */
  function compute(request: StaffingRequest, arrivals: number[]): Pick<StaffingPlan, 'hours' | 'days' | 'week'> {
    const input: StaffingInput = {
      ahtSeconds: request.ahtSeconds,
      targetServiceLevel: request.targetServiceLevel,
      targetSeconds: request.targetSeconds,
      shrinkage: request.shrinkage,
    };
    const params = { ...toStaffingParams(input), ...(request.maxOccupancy !== undefined ? { maxOccupancy: request.maxOccupancy / 100 } : {}) };
    const rates = arrivals.map((a, i) => (openMinutes[i]! > 0 ? (a * 60) / openMinutes[i]! : 0));
    let rows;
    try {
      rows = weeklyStaffing(rates, params);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw new ValidationError([fieldError('ahtSeconds', 'stats.staffing.errors.too_many', { max: String(MAX_AGENTS) })]);
    }
    const hours: StaffingHour[] = rows.map((r, i) => {
      const minutes = openMinutes[i]!;
      const base = { hourOfWeek: i, day: WEEKDAYS[r.day]!, hour: r.hour, openMinutes: minutes, open: minutes > 0, arrivals: arrivals[i]! };
      if (minutes === 0) {
        return { ...base, arrivalRate: null, trafficErlangs: null, agents: null, scheduled: null, serviceLevel: null, asa: null, occupancy: null, probabilityOfWaiting: null };
      }
      return {
        ...base,
        arrivalRate: r.arrivals,
        trafficErlangs: r.trafficErlangs,
        agents: r.agents,
        scheduled: r.scheduled,
        serviceLevel: r.serviceLevel,
        asa: r.asa,
        occupancy: r.occupancy,
        probabilityOfWaiting: r.probabilityOfWaiting,
      };
    });
    const days: StaffingDay[] = WEEKDAYS.map((day, d) => ({
      day,
      openPeriods: week[d]!.map((p) => ({ start: hhmm(p.startMinute), end: hhmm(p.endMinute) })),
      ...totals(hours.slice(d * 24, d * 24 + 24)),
    }));
    return { hours, days, week: totals(hours) };
  }

  async function plan(request: StaffingRequest, now = new Date()): Promise<StaffingPlan> {
    const history = request.source === 'history' ? await historyArrivals(request.range!, request.channel, now) : undefined;
    const arrivals = history?.arrivals ?? request.entered ?? new Array<number>(HOURS_PER_WEEK).fill(0);
    const range = request.range;
    return {
      inputs: {
        source: request.source,
        target: request.target,
        ahtSeconds: request.ahtSeconds,
        targetServiceLevel: request.targetServiceLevel,
        targetSeconds: request.targetSeconds,
        shrinkage: request.shrinkage,
        maxOccupancy: request.maxOccupancy ?? null,
        channel: request.source === 'history' ? (request.channel ?? null) : null,
        period: history && range ? { from: range.fromDay, to: range.toDay, timeZone: range.timeZone, weeks: history.weeks, closedDays: history.closedDays } : null,
        officeHours: officeHoursSpec,
      },
      ...compute(request, arrivals),
    };
  }

  return {
    /** The weekly office hours the plan uses, and each hour's open minutes. */
    week,
    openMinutes,
    defaultPeriod,
    parseQuery,
    historyArrivals,
    plan,
    /** Validates the query (400 with field errors) and answers the plan. */
    planFromQuery: (query: unknown, now = new Date()) => plan(parseQuery(query, now), now),
  };
}

function totals(hours: StaffingHour[]): StaffingTotals {
  let arrivals = 0;
  let arrivalsWhileClosed = 0;
  let agentHours = 0;
  let scheduledHours = 0;
  let peakAgents = 0;
  let peakScheduled = 0;
  let slWeighted = 0;
  let asaWeighted = 0;
  let workload = 0;
  for (const h of hours) {
    if (!h.open) {
      arrivalsWhileClosed += h.arrivals;
      continue;
    }
    const part = h.openMinutes / 60;
    arrivals += h.arrivals;
    agentHours += h.agents! * part;
    scheduledHours += h.scheduled! * part;
    peakAgents = Math.max(peakAgents, h.agents!);
    peakScheduled = Math.max(peakScheduled, h.scheduled!);
    slWeighted += h.arrivals * h.serviceLevel!;
    asaWeighted += h.arrivals * h.asa!;
    workload += h.trafficErlangs! * part;
  }
  return {
    arrivals,
    arrivalsWhileClosed,
    agentHours,
    scheduledHours,
    peakAgents,
    peakScheduled,
    serviceLevel: arrivals > 0 ? slWeighted / arrivals : null,
    asa: arrivals > 0 ? asaWeighted / arrivals : null,
    occupancy: agentHours > 0 ? workload / agentHours : null,
  };
}

export type StaffingService = ReturnType<typeof createStaffingService>;
