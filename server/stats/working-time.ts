/**
 * Per-case times in working hours, from a case's timestamps and the statistics calendar
 * (STATS_OFFICE_HOURS, CLOSED_ON, TIME_ZONE). Pure: no I/O. The case changer calls
 * metricsPatch in the same transaction that sets first_response_at or resolved_at, and
 * the backfill (stats:backfill) calls caseMetrics for rows written before these columns
 * existed or after the office hours changed.
 *
 * The definitions (also in migrations/20261129000000_case_metrics.ts):
 *
 * - first_response_working_s: office time from created_at to first_response_at, in whole
 *   seconds (0 when answered outside office hours before the center opened).
 * - resolution_working_s: office time from created_at to resolved_at, the last resolve.
 *   Reopening clears it (resolved_at goes null); resolving again counts from created_at to
 *   the new resolve, so the time the case spent resolved in between is included.
 * - first_response_working_days, the KKiK measure: the clock starts when the question
 *   arrives, or at the next opening if it arrives outside office hours. It is answered
 *   within N working days if answered at or before the same local clock time on the N-th
 *   working day after the day the clock started (a working day: a local date with any
 *   office time). The column holds the least such N >= 1, so "within 1" and "within 2"
 *   are counts of first_response_working_days <= 1 and <= 2. The clock time is wall-clock
 *   (Europe/Stockholm), so across a daylight-saving change the deadline stays at the same
 *   local time; on a next working day that closes earlier (a short Friday, a half-day
 *   eve) the deadline is still that clock time.
 */
import { DateTime } from 'luxon';
import type { OpeningHours } from '../calendar/opening-hours.js';

/** The timestamps the metrics derive from. */
export interface MetricTimes {
  created_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
}

/** The per-case metric columns of cases. */
export interface CaseMetrics {
  first_response_working_s: number | null;
  resolution_working_s: number | null;
  first_response_working_days: number | null;
}

/** How far the KKiK day walk looks for working days before giving up (a calendar closed for a year). */
const MAX_DAYS_SEARCHED = 400;
/** An answer more than a century after the question (a mistyped date) is not counted in working days. */
const MAX_ANSWER_DAYS = 36_525;
const DAY_MS = 86_400_000;

export interface WorkingTime {
  /** Office time between two instants in whole seconds (0 if end <= start). */
  workingSeconds(start: Date, end: Date): number;
  /** The KKiK deadline: the same local clock time as the clock start (arrival, or the next opening) on the n-th working day after. */
  deadline(arrival: Date, n: number): Date | undefined;
  /** The least n >= 1 with answeredAt <= deadline(arrival, n); undefined if the calendar has no working days ahead (or a century). */
  workingDaysToAnswer(arrival: Date, answeredAt: Date): number | undefined;
  /**
   * The latest arrival whose n-day deadline has passed by `now`: arrivals at or before it are
   * decided (answered in time or late even if not answered yet); later ones may still be in time.
   */
  decidedArrivalsUntil(now: Date, n: number): Date;
  caseMetrics(c: MetricTimes): CaseMetrics;
  /**
   * The metric columns to write with a patch of a case: recomputed when the patch sets or
   * clears first_response_at or resolved_at (or moves created_at), else nothing.
   */
  metricsPatch(before: MetricTimes, patch: Partial<MetricTimes>): Partial<CaseMetrics>;
}

export function createWorkingTime(hours: OpeningHours, timeZone: string): WorkingTime {
  // Local days, numbered as days since 1970-01-01 of the local date, with their start instant and
  // whether they have office time. Cached: reports and the backfill ask about the same few
  // thousand days again and again, and a time-zone conversion costs far more than a lookup.
  const starts = new Map<number, number>();
  const working = new Map<number, boolean>();

  function dayStart(day: number): number {
    let start = starts.get(day);
    if (start === undefined) {
      const d = new Date(day * DAY_MS);
      start = DateTime.fromObject({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, { zone: timeZone }).toMillis();
      starts.set(day, start);
    }
    return start;
  }

  function isWorkingDay(day: number): boolean {
    let open = working.get(day);
    if (open === undefined) {
      open = hours.workingMillisBetween(new Date(dayStart(day)), new Date(dayStart(day + 1))) > 0;
      working.set(day, open);
    }
    return open;
  }

  /** The local day of an instant (the UTC day is at most one off). */
  function dayOf(t: number): number {
    let day = Math.floor(t / DAY_MS);
    while (t < dayStart(day)) day--;
    while (t >= dayStart(day + 1)) day++;
    return day;
  }

  const normalDay = (day: number) => dayStart(day + 1) - dayStart(day) === DAY_MS;

  /** The local clock time of instant t on its day, as wall-clock milliseconds after midnight. */
  function clockOf(t: number, day: number): number {
    if (normalDay(day)) return t - dayStart(day);
    const l = DateTime.fromMillis(t, { zone: timeZone });
    return ((l.hour * 60 + l.minute) * 60 + l.second) * 1000 + l.millisecond;
  }

  /** The instant of a local clock time on a day; one inside a skipped daylight-saving hour moves forward, as the wall clock does. */
  function instantAt(day: number, clock: number): number {
    if (normalDay(day)) return dayStart(day) + clock;
    const d = new Date(day * DAY_MS);
    return DateTime.fromObject(
      {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hour: Math.floor(clock / 3_600_000),
        minute: Math.floor(clock / 60_000) % 60,
        second: Math.floor(clock / 1000) % 60,
        millisecond: clock % 1000,
      },
      { zone: timeZone },
    ).toMillis();
  }

  /** Where the KKiK clock starts: the arrival, or the next opening after it. */
  function clockStart(arrival: Date): { day: number; clock: number } | undefined {
    let t: number;
    try {
      t = hours.nextOpening(arrival).getTime();
    } catch {
      return undefined; // no opening within the calendar's search window: no working days to count
    }
    const day = dayOf(t);
    return { day, clock: clockOf(t, day) };
  }

  function nextWorkingDay(day: number): number | undefined {
    for (let searched = 1; searched <= MAX_DAYS_SEARCHED; searched++) if (isWorkingDay(day + searched)) return day + searched;
    return undefined;
  }

  const wt: WorkingTime = {
    workingSeconds(start, end) {
      return Math.round(hours.workingMillisBetween(start, end) / 1000);
    },

    deadline(arrival, n) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a whole number >= 1, got ${n}`);
      const start = clockStart(arrival);
      if (!start) return undefined;
      let day: number | undefined = start.day;
      for (let k = 0; k < n && day !== undefined; k++) day = nextWorkingDay(day);
      return day === undefined ? undefined : new Date(instantAt(day, start.clock));
    },

    workingDaysToAnswer(arrival, answeredAt) {
      const start = clockStart(arrival);
      if (!start) return undefined;
      const t = answeredAt.getTime();
      const answerDay = dayOf(t);
      if (answerDay - start.day > MAX_ANSWER_DAYS) return undefined;
      // The deadlines before the answer's day have passed; the answer's own day (if a working day) decides by the clock.
      let n = 0;
      for (let day = start.day + 1; day <= answerDay; day++) if (isWorkingDay(day)) n++;
      if (answerDay > start.day && isWorkingDay(answerDay) && t <= instantAt(answerDay, start.clock)) return n;
      return n + 1;
    },

    decidedArrivalsUntil(now, n) {
      const decided = (a: number) => {
        const due = wt.deadline(new Date(a), n);
        return due !== undefined && due.getTime() <= now.getTime();
      };
      // Deadlines grow with the arrival and always fall after it: search between a decided lo and an undecided hi.
      let hi = now.getTime();
      let lo = hi - (n + 7) * DAY_MS;
      while (!decided(lo)) {
        hi = lo;
        lo -= 30 * DAY_MS;
        if (now.getTime() - lo > MAX_DAYS_SEARCHED * DAY_MS) throw new RangeError(`No ${n}-day deadline before ${now.toISOString()}: the calendar has no working days`);
      }
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (decided(mid)) lo = mid;
        else hi = mid;
      }
      return new Date(lo);
    },

    caseMetrics(c) {
      const created = new Date(c.created_at);
      const responded = c.first_response_at ? new Date(c.first_response_at) : null;
      const resolved = c.resolved_at ? new Date(c.resolved_at) : null;
      return {
        first_response_working_s: responded ? wt.workingSeconds(created, responded) : null,
        resolution_working_s: resolved ? wt.workingSeconds(created, resolved) : null,
        first_response_working_days: responded ? (wt.workingDaysToAnswer(created, responded) ?? null) : null,
      };
    },

    metricsPatch(before, patch) {
      const moved = patch.created_at !== undefined;
      const response = moved || patch.first_response_at !== undefined;
      const resolve = moved || patch.resolved_at !== undefined;
      if (!response && !resolve) return {};
      const m = wt.caseMetrics({
        created_at: patch.created_at ?? before.created_at,
        first_response_at: patch.first_response_at !== undefined ? patch.first_response_at : before.first_response_at,
        resolved_at: patch.resolved_at !== undefined ? patch.resolved_at : before.resolved_at,
      });
      return {
        ...(response ? { first_response_working_s: m.first_response_working_s, first_response_working_days: m.first_response_working_days } : {}),
        ...(resolve ? { resolution_working_s: m.resolution_working_s } : {}),
      };
    },
  };
  return wt;
}
