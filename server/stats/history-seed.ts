import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { OpeningHours } from '../calendar/opening-hours.js';
import { subjectFrom } from '../cases/service.js';
import { AppError, ValidationError, type FieldError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import { createHistorySeedStore, NEW_RESIDENT_SHARE, SEEDED_TABLES, type BatchCounts, type SeedConstants, type SeedSlot } from './history-seed-store.js';

/**
 * `npm run cli -- seed:history --cases N`: a realistic past for trials and
 * benchmarks, written straight into the tables the services write, in the
 * shapes they write (see history-seed-store.ts for how, and why so fast).
 *
 * What it looks like, from ../shared/domain/contact-center-research.md:
 * - channels: phone about 62 %, web 22 %, e-mail 14 %, visits 2 % (Enköping:
 *   80 % phone; "plus 15–25 % as much in e-mail and web");
 * - calls and visits only within opening hours (OPENING_HOURS, Swedish
 *   holidays of CLOSED_ON closed), most on Monday, fewest on Friday
 *   afternoon, a peak at 9–11 and a smaller one after lunch; web and e-mail
 *   mostly in office hours too, some in the evening and at weekends;
 * - a summer dip (July at about half), a quieter December, and day-to-day
 *   noise;
 * - phone contacts answered directly about 66 % of the time (target 60–80 %,
 *   40–70 % in practice), the rest forwarded, kept as a case or called back;
 * - waits for answers, replies and resolutions lognormal in working time:
 *   first reply to e-mail and web typically within hours, about 80 % within
 *   one working day; about 8 % of calls are given up in the queue, each
 *   leaving a callback when the caller's number is known.
 * The state of every case is what its steps made of it by now: old cases
 * resolved or closed, recent ones new, open, waiting or forwarded.
 */

export const MAX_CASES = 5_000_000;
export const MAX_DAYS = 3650;
const DEFAULT_DAYS = 365;
const DEFAULT_BATCH = 25_000;

/** The command line, as strings; every problem is reported at once, naming its option. */
const wholeNumber = (min: number, max: number) =>
  z
    .string({ error: `a whole number from ${min} to ${max}` })
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `at least ${min}`).max(max, `at most ${max}`));

export const historyOptionsSchema = z.object({
  cases: z.string({ error: `required: how many cases to generate, 1 to ${MAX_CASES}` }).pipe(wholeNumber(1, MAX_CASES)),
  days: wholeNumber(1, MAX_DAYS).optional(),
  seed: wholeNumber(0, 2 ** 31 - 1).optional(),
  until: z.iso
    .datetime({ offset: true, error: 'a date and time with its offset, such as 2026-11-30T16:00:00+01:00' })
    .transform((v) => new Date(v))
    .refine((d) => d.getTime() <= Date.now(), 'not in the future: the history ends at the latest now')
    .optional(),
});

export interface HistoryOptions {
  cases: number;
  days: number;
  seed: number;
  /** The end of the history (default: now). With the same seed and end, the same history (on a database in the same state). */
  now?: Date;
  /** Cases per transaction. */
  batchSize?: number;
  /** Let every row go through its triggers even where the batches could do their work in bulk. */
  keepRowTriggers?: boolean;
}

/** Parses the command line's values; a random seed when none is given (it is reported, so the run can be repeated). */
export function parseHistoryOptions(values: Record<string, unknown>): HistoryOptions {
  const parsed = historyOptionsSchema.safeParse(values);
  if (!parsed.success) {
    const fields = new Map<string, FieldError>();
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.') || '_';
      const given = values[field];
      if (!fields.has(field)) fields.set(field, { field, code: 'errors.invalid', message: given === undefined ? issue.message : `${issue.message}; got "${String(given)}"` });
    }
    throw new ValidationError([...fields.values()]);
  }
  const v = parsed.data;
  return { cases: v.cases, days: v.days ?? DEFAULT_DAYS, seed: v.seed ?? randomBytes(4).readUInt32BE() % 2 ** 31, ...(v.until ? { now: v.until } : {}) };
}

export interface HistoryProgress {
  cases: number;
  of: number;
  seconds: number;
}

export interface HistorySummary {
  seed: number;
  days: number;
  from: Date;
  to: Date;
  batches: number;
  /** How row triggers were handled. */
  triggers: string;
  seconds: number;
  rows: BatchCounts & { users: number };
  /** The cases have working-time metric columns that this leaves empty (for `stats:backfill`). */
  metricColumns: boolean;
}

export interface HistoryDeps {
  db: Knex;
  hours: OpeningHours;
  timeZone: string;
  callbacks: { maxAttempts: number; retryMinutes: number; slotMinutes: number };
  progress?: (p: HistoryProgress) => void;
}

export async function seedHistory(deps: HistoryDeps, o: HistoryOptions): Promise<HistorySummary> {
  const started = performance.now();
  const store = createHistorySeedStore(deps.db);
  const now = o.now ?? new Date();
  const to = now.getTime();
  const from = to - o.days * 86_400_000;

  let users = 0;
  let agents = await store.agents();
  if (!agents.length) {
    await store.createAgents(GENERATED_AGENTS.map((name) => ({ name, email: `${ascii(name).replace(' ', '.')}@historik.example` })));
    agents = await store.agents();
    users = agents.length;
  }
  const categories = await store.categories();
  if (!categories.length) throw new AppError('There are no active topics to file cases under: run `npm run cli -- migrate` first', 409, 'no_topics');
  const departments = await store.departments();

  const calendar = buildCalendar(deps.hours, deps.timeZone, from - 2 * 86_400_000, to + 40 * 86_400_000);
  const plan = planArrivals({ calendar, hours: deps.hours, timeZone: deps.timeZone, from, to, cases: o.cases, seed: o.seed });
  const batches = cutBatches(plan, o.batchSize ?? DEFAULT_BATCH);

  const constants: SeedConstants = {
    seed: o.seed,
    now: to / 1000,
    timeZone: deps.timeZone,
    ps: calendar.ps,
    pc: calendar.pc,
    bp: calendar.bp,
    day: calendar.day,
    agentIds: agents.map((a) => a.id),
    agentNames: agents.map((a) => a.name),
    ...categoryTables(categories),
    deptIds: departments.map((d) => d.id),
    deptNames: departments.map((d) => d.name),
    ...texts(categories.map((c) => c.slug)),
    unnamed: translate('sv', 'contacts.unnamed'),
    callbackSubject: translate('sv', 'callbacks.subject'),
    callbackNoMessage: translate('sv', 'callbacks.no_message'),
    missedSubject: translate('sv', 'callbacks.missed_subject'),
    missedBody: translate('sv', 'callbacks.missed_body'),
    maxAttempts: Math.min(3, deps.callbacks.maxAttempts),
    retrySeconds: deps.callbacks.retryMinutes * 60,
    slotSeconds: deps.callbacks.slotMinutes * 60,
    tokenSalt: randomBytes(24).toString('base64url'),
  };

  const caseIdBase = await store.reserveIds('cases', o.cases);
  const residentsE = Math.ceil((plan.poolSizes.e * NEW_RESIDENT_SHARE.e.num) / NEW_RESIDENT_SHARE.e.den);
  const residentsP = Math.ceil((plan.poolSizes.p * NEW_RESIDENT_SHARE.p.num) / NEW_RESIDENT_SHARE.p.den);
  const residentBase = await store.reserveIds('residents', residentsE + residentsP);

  const numbers = caseNumbers(await store.takeCaseNumbers(o.cases));
  const mode = o.keepRowTriggers ? { bulk: false, why: 'row triggers kept, as asked' } : await store.bulkMode();
  const rows: BatchCounts = { residents: 0, cases: 0, case_events: 0, messages: 0, calls: 0, callbacks: 0, callback_attempts: 0 };
  // Two batches at a time on PostgreSQL (one per core; each waits for the one before to commit
  // before it writes its events); the embedded database has one connection.
  const concurrency = typeof deps.db.client.config.client === 'string' ? 2 : 1;
  const running = new Set<Promise<void>>();
  let previous: Promise<void> = Promise.resolve();
  try {
    for (const b of batches) {
      while (running.size >= concurrency) await Promise.race(running);
      const input = { ...b, numbers: numbers(b.lo, b.hi), caseIdBase, residentBaseE: residentBase, residentBaseP: residentBase + residentsE };
      const batch: Promise<void> = store.writeBatch(constants, input, mode.bulk, previous).then((counts) => {
        for (const key of Object.keys(rows) as (keyof BatchCounts)[]) rows[key] += counts[key];
        deps.progress?.({ cases: rows.cases, of: o.cases, seconds: (performance.now() - started) / 1000 });
      });
      running.add(batch);
      void batch.then(
        () => running.delete(batch),
        () => undefined,
      );
      previous = batch;
    }
    await previous;
  } finally {
    // A failed batch fails the run; the one after it waits on it and rolls back.
    await Promise.allSettled(running);
  }
  await store.analyze();
  return {
    seed: o.seed,
    days: o.days,
    from: new Date(from),
    to: now,
    batches: batches.length,
    triggers: mode.why,
    seconds: (performance.now() - started) / 1000,
    rows: { ...rows, users },
    metricColumns: await store.hasMetricColumns(),
  };
}

/** What the command prints when done. */
export function describeHistory(s: HistorySummary, opts: { metricsFilled?: boolean } = {}): string {
  const lines = [
    `seed:history: ${plural(s.rows.cases, 'case')} over ${plural(s.days, 'day')} (${s.from.toISOString()} to ${s.to.toISOString()}), seed ${s.seed}, in ${s.seconds.toFixed(1)} s (${s.batches} batches; ${s.triggers})`,
    ...SEEDED_TABLES.map((t) => `  ${t.padEnd(18)} ${String(s.rows[t]).padStart(10)} rows added`),
    `Tables analyzed. Repeat it on a database like this one with --seed ${s.seed} --until ${s.to.toISOString()}.`,
  ];
  if (s.metricColumns && !opts.metricsFilled) {
    lines.push('The working-time metric columns of these cases are left empty: fill them with `npm run cli -- stats:backfill`.');
  }
  return lines.join('\n');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------
// The opening calendar as the database needs it

const HOUR = 3_600_000;

interface Calendar {
  /** Open periods in epoch ms, in order. */
  periods: { s: number; e: number }[];
  /** Per period: start (epoch s) and working seconds before it; pc has two sentinels. bp: per working hour, the (1-based) period it falls in. */
  ps: number[];
  pc: number[];
  bp: number[];
  /** Average working seconds of an open day. */
  day: number;
}

/**
 * The open periods between two instants, hour by hour from the opening
 * hours (O(1) per hour), and what turns working seconds into instants in SQL.
 */
function buildCalendar(hours: OpeningHours, timeZone: string, from: number, to: number): Calendar {
  const periods: { s: number; e: number }[] = [];
  for (let h = Math.floor(from / HOUR) * HOUR; h < to; h += HOUR) {
    const open = openPartOf(hours, h);
    if (!open) continue;
    const last = periods[periods.length - 1];
    if (last && last.e === open.s) last.e = open.e;
    else periods.push({ ...open });
  }
  if (!periods.length) throw new AppError('The opening hours have no open time at all: nothing can be answered', 409, 'never_open');
  const ps: number[] = [];
  const pc: number[] = [];
  let total = 0;
  const days = new Set<string>();
  for (const p of periods) {
    ps.push(p.s / 1000);
    pc.push(total);
    total += (p.e - p.s) / 1000;
    days.add(DateTime.fromMillis(p.s, { zone: timeZone }).toISODate()!);
  }
  ps.push(periods[periods.length - 1]!.e / 1000, periods[periods.length - 1]!.e / 1000);
  pc.push(total, 1e15);
  const bp: number[] = [];
  for (let b = 0, k = 0; b * 3600 <= total; b++) {
    while (k + 1 < periods.length && pc[k + 1]! <= b * 3600) k++;
    bp.push(k + 1);
  }
  return { periods, ps, pc, bp, day: total / days.size };
}

/** The open stretch of the hour starting at h (one per hour: opening hours are whole periods of at least an hour's granularity). */
function openPartOf(hours: OpeningHours, h: number): { s: number; e: number } | undefined {
  const open = hours.workingMillisBetween(new Date(h), new Date(h + HOUR));
  if (open <= 0) return undefined;
  const s = hours.nextOpening(new Date(h)).getTime();
  return { s, e: Math.min(s + open, h + HOUR) };
}

// ---------------------------------------------------------------------------
// Arrivals: how many cases of which channel in which stretch of time

/** Channel shares of all cases: 0 phone queue, 1 web, 2 e-mail, 3 visit. */
const CHANNEL_SHARES = [0.62, 0.22, 0.14, 0.02];
/** Monday … Sunday. */
const PHONE_WEEKDAY = [1.25, 1.1, 1.0, 0.95, 0.8, 0, 0];
const WRITTEN_WEEKDAY = [1.15, 1.05, 1.0, 0.95, 0.85, 0.35, 0.4];
/** January … December: a summer dip in July, a quieter December. */
const MONTH = [1.1, 1.05, 1.05, 1.0, 0.95, 0.9, 0.5, 0.9, 1.1, 1.05, 1.0, 0.85];
/** Calls per local hour while open: the morning peak, lunch, a smaller peak after lunch. */
const PHONE_HOUR: Record<number, number> = { 7: 0.7, 8: 1.0, 9: 1.45, 10: 1.35, 11: 1.05, 12: 0.65, 13: 1.1, 14: 1.0, 15: 0.8, 16: 0.6, 17: 0.5 };
const VISIT_HOUR: Record<number, number> = { 8: 0.7, 9: 1.0, 10: 1.2, 11: 1.1, 12: 0.8, 13: 1.1, 14: 1.1, 15: 0.9, 16: 0.6 };
const WRITTEN_OPEN_HOUR: Record<number, number> = { 7: 0.8, 8: 1.0, 9: 1.2, 10: 1.25, 11: 1.1, 12: 0.9, 13: 1.05, 14: 1.0, 15: 0.9, 16: 0.8, 17: 0.6 };

/** Web and e-mail outside opening hours, per hour: evenings some, nights few. E-mail a little less in the evening. */
function writtenClosedRate(hour: number, dayOff: boolean, email: boolean): number {
  if (dayOff) return hour >= 9 && hour < 21 ? 0.22 : hour >= 21 || hour < 1 ? 0.1 : 0.02;
  const evening = email ? 0.25 : 0.32;
  if (hour >= 17 && hour < 22) return evening;
  if (hour >= 22 || hour < 1) return 0.1;
  if (hour < 6) return 0.02;
  return hour < 8 ? 0.18 : 0.45;
}

interface ArrivalPlan {
  slots: (SeedSlot & { hour: number })[];
  poolSizes: { e: number; p: number };
}

function planArrivals(o: { calendar: Calendar; hours: OpeningHours; timeZone: string; from: number; to: number; cases: number; seed: number }): ArrivalPlan {
  const rng = mulberry32(o.seed);
  const noise = new Map<string, number>();
  const dayNoise = (date: string) => {
    let f = noise.get(date);
    if (f === undefined) {
      f = Math.exp(0.15 * gaussian(rng));
      noise.set(date, f);
    }
    return f;
  };
  interface Segment {
    hour: number;
    s: number;
    e: number;
    open: boolean;
    w: number;
    pe: number;
    weights: number[];
  }
  const segments: Segment[] = [];
  const totals = [0, 0, 0, 0];
  const periods = o.calendar.periods;
  let k = 0;
  /** Working seconds at t (t open), or at the next opening. */
  const workingAt = (t: number) => {
    while (k < periods.length && periods[k]!.e <= t) k++;
    const p = periods[k];
    if (!p) return Number.POSITIVE_INFINITY;
    return o.calendar.pc[k]! + Math.max(0, t - p.s) / 1000;
  };
  for (let h = Math.floor(o.from / HOUR) * HOUR; h < o.to; h += HOUR) {
    const lo = Math.max(h, o.from);
    const hi = Math.min(h + HOUR, o.to);
    const open = openPartOf(o.hours, h);
    // The hour within the span, cut where the center opens and closes.
    const points = [...new Set([lo, hi, ...(open ? [open.s, open.e] : [])])].filter((t) => t >= lo && t <= hi).sort((a, b) => a - b);
    const parts = points.slice(1).map((e, idx) => ({ s: points[idx]!, e, open: Boolean(open && points[idx]! >= open.s && e <= open.e) }));
    for (const part of parts) {
      if (part.e <= part.s) continue;
      const local = DateTime.fromMillis(part.s, { zone: o.timeZone });
      const weekday = local.weekday - 1;
      const hour = local.hour;
      const dayOff = weekday >= 5 || o.hours.holidayOn(new Date(part.s)) !== undefined;
      const base = MONTH[local.month - 1]! * dayNoise(local.toISODate()!) * ((part.e - part.s) / HOUR);
      const fridayAfternoon = weekday === 4 && hour >= 12 ? 0.65 : 1;
      const weights = part.open
        ? [
            base * (PHONE_WEEKDAY[weekday] || 0.8) * (PHONE_HOUR[hour] ?? 0.8) * fridayAfternoon,
            base * WRITTEN_WEEKDAY[weekday]! * (WRITTEN_OPEN_HOUR[hour] ?? 0.8) * fridayAfternoon,
            base * WRITTEN_WEEKDAY[weekday]! * (WRITTEN_OPEN_HOUR[hour] ?? 0.8) * fridayAfternoon,
            base * (PHONE_WEEKDAY[weekday] || 0.8) * (VISIT_HOUR[hour] ?? 0.6) * fridayAfternoon,
          ]
        : [0, base * writtenClosedRate(hour, dayOff, false), base * writtenClosedRate(hour, dayOff, true), 0];
      weights.forEach((w, c) => (totals[c]! += w));
      const w = workingAt(part.s);
      const pe = part.open ? periods[k]!.e : part.e;
      segments.push({ hour: h, s: part.s, e: part.e, open: part.open, w, pe, weights });
    }
  }
  // Shares of channels that never happen in this span (a weekend alone has no calls) go to web and e-mail.
  const shares = CHANNEL_SHARES.map((s, c) => (totals[c]! > 0 ? s : 0));
  const shareSum = shares.reduce((a, b) => a + b, 0);
  const targets = shares.map((s) => Math.floor((o.cases * s) / shareSum));
  const firstWritten = totals[1]! > 0 ? 1 : 2;
  targets[firstWritten]! += o.cases - targets.reduce((a, b) => a + b, 0);
  const scale = targets.map((t, c) => (totals[c]! > 0 ? t / totals[c]! : 0));

  const running = [0, 0, 0, 0];
  const given = [0, 0, 0, 0];
  const counts = segments.map((seg) =>
    seg.weights.map((w, c) => {
      if (!w) return 0;
      running[c]! += w * scale[c]!;
      const n = Math.max(0, Math.min(targets[c]!, Math.round(running[c]!)) - given[c]!);
      given[c]! += n;
      return n;
    }),
  );
  // Rounding can leave a case short at the very end: the last stretch of its channel takes it.
  for (let c = 0; c < 4; c++) {
    if (given[c]! >= targets[c]!) continue;
    const last = segments.map((seg, idx) => (seg.weights[c] ? idx : -1)).reduce((a, b) => Math.max(a, b), -1);
    counts[last]![c]! += targets[c]! - given[c]!;
  }
  const pools = { e: 0, p: 0 };
  const slots: (SeedSlot & { hour: number })[] = [];
  let f = 0;
  segments.forEach((seg, idx) => {
    counts[idx]!.forEach((n, c) => {
      if (n <= 0) return;
      const pool = c === 1 || c === 2 ? 'e' : 'p';
      slots.push({ hour: seg.hour, f, n, c, s: seg.s / 1000, l: (seg.e - seg.s) / 1000, w: seg.w, e: seg.pe / 1000, o: seg.open ? 1 : 0, j: pools[pool] });
      pools[pool] += n;
      f += n;
    });
  });
  return { slots, poolSizes: pools };
}

/** Batches of about `size` cases, cut between hours so ids follow time; an hour with more than twice that is cut inside. */
function cutBatches(plan: ArrivalPlan, size: number): { lo: number; hi: number; slots: SeedSlot[] }[] {
  const total = plan.slots.reduce((n, s) => n + s.n, 0);
  const cuts: number[] = [];
  let lo = 0;
  for (let i = 0; i < plan.slots.length; i++) {
    const s = plan.slots[i]!;
    const end = s.f + s.n;
    while (end - lo > 2 * size) {
      lo += size;
      cuts.push(lo);
    }
    const next = plan.slots[i + 1];
    if ((!next || next.hour !== s.hour) && end - lo >= size) {
      lo = end;
      cuts.push(lo);
    }
  }
  if (lo < total) cuts.push(total);
  const batches: { lo: number; hi: number; slots: SeedSlot[] }[] = [];
  let from = 0;
  for (const hi of cuts) {
    if (hi <= from) continue;
    const slots = plan.slots.filter((s) => s.f < hi && s.f + s.n > from).map(({ hour: _hour, ...s }) => s);
    batches.push({ lo: from, hi, slots });
    from = hi;
  }
  return batches;
}

/** Case numbers by case index, from runs of consecutive numbers. */
function caseNumbers(runs: { first: number; count: number }[]): (lo: number, hi: number) => number[] {
  const all: number[] = [];
  for (const r of runs) for (let n = 0; n < r.count; n++) all.push(r.first + n);
  return (lo, hi) => all.slice(lo, hi);
}

/** mulberry32: a small seeded generator for the day-to-day noise. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

// ---------------------------------------------------------------------------
// Topics and texts

/** How often each known topic comes up in writing and on the phone; other topics get an average share. */
const TOPIC_WEIGHTS: Record<string, [number, number]> = {
  bygglov: [0.22, 0.2],
  forsorjningsstod: [0.17, 0.22],
  forskoleplats: [0.2, 0.22],
  'gator-och-trafik': [0.16, 0.12],
  ovrigt: [0.25, 0.24],
};

function categoryTables(categories: { id: number; slug: string; department_id: number | null; department_name: string | null }[]) {
  const lookup = (column: 0 | 1) => {
    const weights = categories.map((c) => TOPIC_WEIGHTS[c.slug]?.[column] ?? 0.15);
    const sum = weights.reduce((a, b) => a + b, 0);
    const table: number[] = [];
    let cum = 0;
    weights.forEach((w, idx) => {
      cum += w;
      const upTo = idx === weights.length - 1 ? 100 : Math.round((cum / sum) * 100);
      while (table.length < upTo) table.push(idx + 1);
    });
    return table;
  };
  return {
    catIds: categories.map((c) => c.id),
    catSlugs: categories.map((c) => c.slug),
    catDeptIds: categories.map((c) => c.department_id ?? 0),
    catDeptNames: categories.map((c) => c.department_name ?? ''),
    catPickWritten: lookup(0),
    catPickPhone: lookup(1),
  };
}

const WRITTEN_SV: Record<string, [string, string][]> = {
  bygglov: [
    ['Attefallshus på tomten', 'Hej! Vi funderar på att bygga ett attefallshus på vår tomt. Behöver vi söka bygglov eller räcker det med en anmälan? Hur nära tomtgränsen får vi bygga?'],
    ['Bygglov för inglasad altan', 'Hej, jag vill glasa in vår altan på ungefär 20 kvadratmeter. Behövs bygglov, och hur lång är handläggningstiden just nu?'],
    ['Status på min bygglovsansökan', 'Jag skickade in en ansökan om bygglov för en carport för tre veckor sedan. Kan ni se var i processen den är?'],
    ['Riva ett gammalt förråd', 'Vi vill riva ett gammalt förråd på tomten. Måste vi göra en rivningsanmälan först?'],
  ],
  forsorjningsstod: [
    ['Ansöka om försörjningsstöd', 'Hej. Jag har blivit arbetslös och pengarna räcker inte till hyran. Hur ansöker jag om försörjningsstöd och vilka papper behöver jag?'],
    ['Utbetalning av försörjningsstöd', 'När betalas försörjningsstödet ut den här månaden? Jag har inte fått något besked.'],
    ['Komplettering av ansökan', 'Jag har fått brev om att min ansökan ska kompletteras med kontoutdrag. Kan jag skicka dem digitalt?'],
  ],
  forskoleplats: [
    ['Förskoleplats från januari', 'Vi flyttar hit i december och behöver förskoleplats för vår dotter från januari. Hur ansöker vi och hur lång är kön?'],
    ['Byta förskola', 'Hej! Vi vill byta till en förskola närmare vårt nya boende. Hur gör vi?'],
    ['Fråga om förskoleavgiften', 'Vår faktura för förskoleavgiften verkar för hög. Hur räknas avgiften när inkomsten har ändrats?'],
    ['Säga upp förskoleplatsen', 'Vi ska säga upp platsen på förskolan i sommar. Hur lång är uppsägningstiden?'],
  ],
  'gator-och-trafik': [
    ['Trasig gatlykta', 'Gatlyktan utanför Stationsgatan 12 har varit släckt i två veckor.'],
    ['Snöröjning på vår gata', 'Vår gata har inte plogats sedan snöfallet i helgen. När kommer plogbilen?'],
    ['Hål i vägen vid busshållplatsen', 'Det har blivit ett stort hål i asfalten vid busshållplatsen på Järnvägsgatan. Det är farligt för cyklister.'],
    ['Parkeringstillstånd', 'Hur ansöker jag om parkeringstillstånd för rörelsehindrade?'],
  ],
  '': [
    ['Sophämtningen har missats', 'Sopkärlet har inte tömts på två veckor. Vem ska jag kontakta?'],
    ['Faktura från kommunen', 'Jag har fått en faktura från kommunen som jag inte förstår. Kan någon förklara vad den gäller?'],
    ['Hyra lokal för föreningsmöte', 'Går det att hyra en lokal i kommunhuset för ett föreningsmöte en kväll nästa månad?'],
    ['Synpunkt på bemötande', 'Jag vill lämna en synpunkt på hur jag blev bemött när jag ringde förra veckan.'],
  ],
};

const PHONE_SV: Record<string, string[]> = {
  bygglov: [
    'Frågade om bygglov krävs för attefallshus. Svarat utifrån de nya reglerna.',
    'Ville veta status på bygglovsansökan för carport.',
    'Frågade hur nära tomtgränsen en friggebod får stå.',
  ],
  forsorjningsstod: [
    'Frågade hur man ansöker om försörjningsstöd. Hänvisat till e-tjänsten.',
    'Undrade när utbetalningen av försörjningsstöd kommer.',
    'Behövde hjälp att fylla i ansökan om ekonomiskt bistånd.',
  ],
  forskoleplats: [
    'Frågade hur lång kön till förskola är just nu. Svarat: cirka tre månader.',
    'Ville byta förskola; förklarat hur ansökan görs.',
    'Frågade om förskoleavgiften vid ändrad inkomst.',
  ],
  'gator-och-trafik': [
    'Anmälde trasig gatubelysning på Hagalundsvägen.',
    'Frågade när snöröjning sker i Tjärna ängar.',
    'Anmälde nedfallet träd över gångvägen vid Lillån.',
  ],
  '': [
    'Frågade om öppettiderna för återvinningscentralen.',
    'Ville prata med en handläggare om en faktura.',
    'Frågade var man hämtar ut ett nytt sopkärl.',
  ],
};

const WRITTEN_EN: [string, string][] = [
  ['Question about preschool places', 'Hello, we are moving to the municipality next month. How do we apply for a preschool place for our son?'],
  ['Building permit for a shed', 'Do I need a building permit for a small shed in my garden?'],
  ['Financial assistance', 'I have lost my job and cannot pay the rent. How do I apply for financial assistance?'],
  ['Street light not working', 'The street light outside my building has been out for a week.'],
];

const REPLIES_SV = [
  'Hej! Tack för din fråga. Du hittar e-tjänsten för ansökan på kommunens webbplats, och där står också vilka bilagor som behövs. Hör av dig om något är oklart. Vänliga hälsningar, Servicecenter',
  'Hej! Vi har kontrollerat ditt ärende: det är under handläggning och du får besked inom två veckor. Vänliga hälsningar, Servicecenter',
  'Hej! Det räcker med en anmälan i det här fallet; blanketten finns på webbplatsen. Vänliga hälsningar, Servicecenter',
  'Hej! Tack för att du hörde av dig. Felanmälan är registrerad och åtgärdas så snart som möjligt. Vänliga hälsningar, Servicecenter',
  'Hej! Kan du skicka oss fastighetsbeteckningen, så tittar vi på det direkt? Vänliga hälsningar, Servicecenter',
  'Hej! Uppsägningstiden är två månader och du säger upp platsen i e-tjänsten. Vänliga hälsningar, Servicecenter',
];

const REPLIES_EN = [
  'Hello! Thank you for your question. You apply through the e-service on the municipality website, where the documents needed are listed. Kind regards, Service center',
  'Hello! We have checked your case: it is being handled and you will hear from us within two weeks. Kind regards, Service center',
  'Hello! Thank you for letting us know; the fault has been reported and will be fixed as soon as possible. Kind regards, Service center',
];

const FOLLOW_UPS = [
  'Tack för svaret! En följdfråga: behöver jag bifoga ritningar direkt eller kan de skickas senare?',
  'Tack. Jag har nu skickat in de papper som saknades.',
  'Hej igen, jag förstår inte riktigt svaret. Kan någon ringa mig?',
  'Fastighetsbeteckningen är Hagalund 4:12.',
];

const FORWARD_NOTES = [
  'Behöver handläggare: frågan gäller ett pågående ärende.',
  'Kräver beslut av förvaltningen.',
  'Invånaren vill ha återkoppling från handläggare.',
];

const FIRST_NAMES = [
  'Anna', 'Erik', 'Maria', 'Lars', 'Karin', 'Johan', 'Sara', 'Anders', 'Emma', 'Mikael', 'Elin', 'Per', 'Linnea', 'Nils', 'Fatima',
  'Ahmed', 'Mohammed', 'Sofia', 'Oskar', 'Ingrid', 'Björn', 'Astrid', 'Ali', 'Maja', 'Hanna', 'Olof', 'Leila', 'Jonas', 'Eva', 'Gustav',
];
const LAST_NAMES = [
  'Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsson', 'Persson', 'Svensson', 'Gustafsson', 'Lindqvist',
  'Berg', 'Lindberg', 'Hassan', 'Ali', 'Mohammed', 'Holm', 'Ek', 'Sandberg', 'Nyström', 'Lundgren', 'Bergström', 'Hedlund', 'Öberg', 'Åberg', 'Forsberg',
];

/** Agents for a history in a database that has none; they cannot sign in. */
const GENERATED_AGENTS = ['Sara Lindberg', 'Johan Ek', 'Fatima Hassan', 'Per Nyström', 'Elin Sandberg', 'Mikael Holm', 'Linnea Åberg', 'Oskar Bergström'];

const ascii = (s: string) => s.toLowerCase().replace(/[åä]/g, 'a').replace(/ö/g, 'o');

function texts(slugs: string[]) {
  const flatten = (per: (slug: string) => [string, string][]) => {
    const subjects: string[] = [];
    const bodies: string[] = [];
    const off: number[] = [];
    const cnt: number[] = [];
    for (const slug of slugs) {
      const list = per(slug);
      off.push(subjects.length + 1);
      cnt.push(list.length);
      for (const [subject, body] of list) {
        subjects.push(subject);
        bodies.push(body);
      }
    }
    return { subjects, bodies, off, cnt };
  };
  return {
    writtenSv: flatten((slug) => WRITTEN_SV[slug] ?? WRITTEN_SV['']!),
    phoneSv: flatten((slug) => (PHONE_SV[slug] ?? PHONE_SV['']!).map((summary): [string, string] => [subjectFrom(summary), summary])),
    writtenEn: { subjects: WRITTEN_EN.map((t) => t[0]), bodies: WRITTEN_EN.map((t) => t[1]) },
    replies: REPLIES_SV,
    repliesEn: REPLIES_EN,
    followUps: FOLLOW_UPS,
    forwardNotes: FORWARD_NOTES,
    firstNames: FIRST_NAMES,
    lastNames: LAST_NAMES,
  };
}
