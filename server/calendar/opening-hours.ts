/**
 * The service center's calendar: when it is open, in local time of its time zone
 * (Europe/Stockholm, daylight saving included), closed on Swedish holidays of the
 * configured types (date-holidays, country SE) and on extra closed dates.
 *
 * Used for callbacks within opening hours and for times "in working hours" in the
 * statistics, so the arithmetic is cached per calendar year: for each local day its
 * start instant and its open periods as instants, and a running sum of open time, which
 * makes workingMillisBetween O(1) after the first call in a year (no per-minute loops).
 */
import Holidays from 'date-holidays';
import { DateTime, IANAZone } from 'luxon';
import { OpeningHoursError, parseWeeklyHours, type WeeklyHours } from './weekly-hours.js';

export { OpeningHoursError } from './weekly-hours.js';

export interface OpeningHoursConfig {
  /**
   * e.g. "mon-fri 08:00-16:30" or "mon-thu 08:00-16:30, fri 08:00-15:00" (day names mon tue wed
   * thu fri sat sun; ranges or single days; several periods a day as "mon-fri 08:00-12:00 13:00-16:30").
   */
  hours: string;
  /**
   * What closes the center: date-holidays types for Sweden ("public" are the red days;
   * midsommarafton, julafton and nyårsafton come as "bank"; "optional" are the half-day eves
   * such as valborgsmässoafton, closed from 12:00) and extra closed dates as "2026-12-28",
   * optionally with a label: "2026-12-28 Personaldag". Default ['public', 'bank'].
   */
  closedOn?: string[];
  /** IANA time zone of the opening hours, e.g. 'Europe/Stockholm'. */
  timeZone: string;
}

export interface OpeningHours {
  isOpen(at: Date): boolean;
  /** `at` itself when open, else the start of the next opening period (searches up to 60 days ahead, throws if none). */
  nextOpening(at: Date): Date;
  /** The name of the closed holiday (Swedish) or extra closed date on `at`'s local date, else undefined. */
  holidayOn(at: Date): string | undefined;
  /**
   * The open periods of `days` local calendar days from `from`'s local date, cut into slots of at
   * most `slotMinutes` from each period's start; only slots ending after `from`.
   */
  slots(from: Date, days: number, slotMinutes: number): { start: Date; end: Date }[];
  /** Milliseconds of opening time between two instants (0 if end <= start). */
  workingMillisBetween(start: Date, end: Date): number;
  /** The instant reached after adding `ms` (>= 0) of opening time to `from`; a deadline may fall on a period's end. */
  addWorkingMillis(from: Date, ms: number): Date;
}

export const DEFAULT_CLOSED_ON: readonly string[] = ['public', 'bank'];
const HOLIDAY_TYPES = ['public', 'bank', 'optional', 'school', 'observance'] as const;
type HolidayType = (typeof HOLIDAY_TYPES)[number];
const HOLIDAY_COUNTRY = 'SE';
const HOLIDAY_LANGUAGE = 'sv';
const NEXT_OPENING_SEARCH_DAYS = 60;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const EXTRA_CLOSED_LABEL = 'extra stängd dag';

export function parseOpeningHours(cfg: OpeningHoursConfig): OpeningHours {
  const week = parseWeeklyHours(cfg.hours);
  if (!IANAZone.isValidZone(cfg.timeZone)) {
    throw new OpeningHoursError(`Unknown time zone "${cfg.timeZone}"; expected an IANA name such as Europe/Stockholm`);
  }
  const { types, extraDates } = parseClosedOn(cfg.closedOn ?? DEFAULT_CLOSED_ON, cfg.timeZone);
  return new OpeningCalendar(week, cfg.timeZone, types, extraDates);
}

function parseClosedOn(entries: readonly string[], zone: string) {
  const types = new Set<HolidayType>();
  const extraDates = new Map<string, string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if ((HOLIDAY_TYPES as readonly string[]).includes(entry)) {
      types.add(entry as HolidayType);
      continue;
    }
    const m = /^(\d{4}-\d{2}-\d{2})(?:\s+(.*\S))?$/.exec(entry);
    if (!m) {
      throw new OpeningHoursError(
        `Unknown closed day "${raw}"; expected a holiday type (${HOLIDAY_TYPES.join(', ')}) or a date such as 2026-12-28`,
      );
    }
    if (!DateTime.fromISO(m[1]!, { zone }).isValid) throw new OpeningHoursError(`Closed date "${m[1]}" is not a real date`);
    extraDates.set(m[1]!, m[2] ?? EXTRA_CLOSED_LABEL);
  }
  return { types, extraDates };
}

/** One local calendar year, computed once. Day i of the year is epoch day firstDay + i. */
interface YearBlock {
  year: number;
  /** The local date of 1 January as days since 1970-01-01. */
  firstDay: number;
  dayCount: number;
  /** dayCount + 1 instants: the local start of each day, and last the start of next year. */
  dayStarts: Float64Array;
  /** Per day, its open periods as instants, flattened: [start0, end0, start1, end1, ...]. */
  periods: Float64Array[];
  /** dayCount + 1 running sums: open milliseconds in the year before day i; the last is the year's total. */
  openBefore: Float64Array;
  /** Day index → name of the closed holiday or extra closed date. */
  closedNames: Map<number, string>;
}

interface DayRef {
  block: YearBlock;
  index: number;
}

interface Closure {
  name: string;
  /** Closed from this local minute to the end of the day (0 for the whole day, 720 for eves closing at noon). */
  fromMinute: number;
}

class OpeningCalendar implements OpeningHours {
  private readonly holidays = new Holidays(HOLIDAY_COUNTRY);
  private readonly blocks = new Map<number, YearBlock>();
  private lastBlock: YearBlock | undefined;

  constructor(
    private readonly week: WeeklyHours,
    private readonly zone: string,
    private readonly closedTypes: ReadonlySet<HolidayType>,
    private readonly extraDates: ReadonlyMap<string, string>,
  ) {}

  isOpen(at: Date): boolean {
    const t = instant(at, 'at');
    const { block, index } = this.dayOf(t);
    const p = block.periods[index]!;
    for (let k = 0; k < p.length; k += 2) if (p[k]! <= t && t < p[k + 1]!) return true;
    return false;
  }

  nextOpening(at: Date): Date {
    const t = instant(at, 'at');
    let day: DayRef = this.dayOf(t);
    for (let n = 0; n <= NEXT_OPENING_SEARCH_DAYS; n++, day = this.nextDay(day)) {
      const p = day.block.periods[day.index]!;
      for (let k = 0; k < p.length; k += 2) if (p[k + 1]! > t) return new Date(Math.max(p[k]!, t));
    }
    throw new OpeningHoursError(`The center does not open within ${NEXT_OPENING_SEARCH_DAYS} days after ${at.toISOString()}`);
  }

  holidayOn(at: Date): string | undefined {
    const { block, index } = this.dayOf(instant(at, 'at'));
    return block.closedNames.get(index);
  }

  slots(from: Date, days: number, slotMinutes: number): { start: Date; end: Date }[] {
    const t = instant(from, 'from');
    if (!Number.isInteger(days) || days < 0) throw new RangeError(`days must be a whole number >= 0, got ${days}`);
    if (!Number.isInteger(slotMinutes) || slotMinutes <= 0) {
      throw new RangeError(`slotMinutes must be a whole number > 0, got ${slotMinutes}`);
    }
    const slotMs = slotMinutes * MINUTE_MS;
    const out: { start: Date; end: Date }[] = [];
    let day: DayRef = this.dayOf(t);
    for (let n = 0; n < days; n++, day = this.nextDay(day)) {
      const p = day.block.periods[day.index]!;
      for (let k = 0; k < p.length; k += 2) {
        const periodEnd = p[k + 1]!;
        for (let s = p[k]!; s < periodEnd; s += slotMs) {
          const e = Math.min(s + slotMs, periodEnd);
          if (e > t) out.push({ start: new Date(s), end: new Date(e) });
        }
      }
    }
    return out;
  }

  workingMillisBetween(start: Date, end: Date): number {
    const a = instant(start, 'start');
    const b = instant(end, 'end');
    if (b <= a) return 0;
    const from = this.dayOf(a);
    const to = this.dayOf(b);
    let total = this.openInYearBefore(to, b) - this.openInYearBefore(from, a);
    for (let year = from.block.year; year < to.block.year; year++) total += yearTotal(this.block(year));
    return total;
  }

  addWorkingMillis(from: Date, ms: number): Date {
    let t = instant(from, 'from');
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ms must be a finite number >= 0, got ${ms}`);
    if (ms === 0) return new Date(t);
    let remaining = ms;
    let { block, index } = this.dayOf(t);
    for (;;) {
      // Spend what the day has left after t.
      const p = block.periods[index]!;
      for (let k = 0; k < p.length; k += 2) {
        const periodEnd = p[k + 1]!;
        if (periodEnd <= t) continue;
        const begin = Math.max(p[k]!, t);
        if (remaining <= periodEnd - begin) return new Date(begin + remaining);
        remaining -= periodEnd - begin;
      }
      // Skip whole days: find the first later day whose end would exhaust `remaining`.
      const next = index + 1;
      const leftInYear = yearTotal(block) - block.openBefore[next]!;
      if (leftInYear < remaining) {
        remaining -= leftInYear;
        block = this.block(block.year + 1);
        index = 0;
        if (yearTotal(block) === 0) throw new OpeningHoursError(`The center has no opening time in ${block.year}`);
      } else {
        index = firstDayReaching(block, next, block.openBefore[next]! + remaining);
        remaining -= block.openBefore[index]! - block.openBefore[next]!;
      }
      t = block.dayStarts[index]!;
    }
  }

  /** Open milliseconds from the start of the day's year up to instant t on that day. */
  private openInYearBefore({ block, index }: DayRef, t: number): number {
    let sum = block.openBefore[index]!;
    const p = block.periods[index]!;
    for (let k = 0; k < p.length; k += 2) {
      if (t <= p[k]!) break;
      sum += Math.min(t, p[k + 1]!) - p[k]!;
    }
    return sum;
  }

  /** The local day containing instant t. */
  private dayOf(t: number): DayRef {
    // The UTC day is at most one day off the local day (offsets are under 24 h).
    let epochDay = Math.floor(t / DAY_MS);
    for (;;) {
      const block = this.blockForEpochDay(epochDay);
      const index = epochDay - block.firstDay;
      if (t < block.dayStarts[index]!) epochDay--;
      else if (t >= block.dayStarts[index + 1]!) epochDay++;
      else return { block, index };
    }
  }

  private nextDay({ block, index }: DayRef): DayRef {
    return index + 1 < block.dayCount ? { block, index: index + 1 } : { block: this.block(block.year + 1), index: 0 };
  }

  private blockForEpochDay(epochDay: number): YearBlock {
    const last = this.lastBlock;
    if (last && epochDay >= last.firstDay && epochDay < last.firstDay + last.dayCount) return last;
    return (this.lastBlock = this.block(new Date(epochDay * DAY_MS).getUTCFullYear()));
  }

  private block(year: number): YearBlock {
    let block = this.blocks.get(year);
    if (!block) {
      block = this.buildYear(year);
      this.blocks.set(year, block);
    }
    return block;
  }

  private buildYear(year: number): YearBlock {
    const firstDay = Math.round(Date.UTC(year, 0, 1) / DAY_MS);
    const dayCount = Math.round(Date.UTC(year + 1, 0, 1) / DAY_MS) - firstDay;
    const closures = this.closuresIn(year);
    const dayStarts = new Float64Array(dayCount + 1);
    const openBefore = new Float64Array(dayCount + 1);
    const periods: Float64Array[] = [];
    const closedNames = new Map<number, string>();
    for (let i = 0; i <= dayCount; i++) dayStarts[i] = this.localInstant(firstDay + i, 0);
    for (let i = 0; i < dayCount; i++) {
      const weekday = (new Date((firstDay + i) * DAY_MS).getUTCDay() + 6) % 7; // 0 = Monday
      const closure = closures.get(i);
      if (closure) closedNames.set(i, closure.name);
      const closedFrom = closure ? closure.fromMinute : 24 * 60;
      const flat: number[] = [];
      for (const period of this.week[weekday]!) {
        const endMinute = Math.min(period.endMinute, closedFrom);
        if (endMinute <= period.startMinute) continue;
        const s = this.localInstant(firstDay + i, period.startMinute);
        const e = endMinute === 24 * 60 ? dayStarts[i + 1]! : this.localInstant(firstDay + i, endMinute);
        // A period inside a skipped daylight-saving hour can collapse; drop it.
        if (e > s) flat.push(s, e);
      }
      periods.push(Float64Array.from(flat));
      let open = 0;
      for (let k = 0; k < flat.length; k += 2) open += flat[k + 1]! - flat[k]!;
      openBefore[i + 1] = openBefore[i]! + open;
    }
    return { year, firstDay, dayCount, dayStarts, periods, openBefore, closedNames };
  }

  /** Closed holidays and extra closed dates of a year, by day of the year. */
  private closuresIn(year: number): Map<number, Closure> {
    const byDay = new Map<number, Closure>();
    const firstDay = Math.round(Date.UTC(year, 0, 1) / DAY_MS);
    const add = (isoDate: string, name: string, fromMinute: number) => {
      const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
      const index = Math.round(Date.UTC(y, m - 1, d) / DAY_MS) - firstDay;
      const earlier = byDay.get(index);
      byDay.set(index, {
        name: earlier ? `${earlier.name}, ${name}` : name,
        fromMinute: Math.min(fromMinute, earlier?.fromMinute ?? fromMinute),
      });
    };
    if (this.closedTypes.size > 0) {
      for (const h of this.holidays.getHolidays(year, HOLIDAY_LANGUAGE)) {
        if (!this.closedTypes.has(h.type)) continue;
        // h.date is the local "YYYY-MM-DD hh:mm:ss": eves such as valborgsmässoafton start at 12:00.
        const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})/.exec(h.date);
        if (m && m[1]!.startsWith(`${year}-`)) add(m[1]!, h.name, Number(m[2]) * 60 + Number(m[3]));
      }
    }
    for (const [isoDate, label] of this.extraDates) if (isoDate.startsWith(`${year}-`)) add(isoDate, label, 0);
    return byDay;
  }

  /** The instant of a local wall-clock time on a local date (given as days since 1970-01-01). */
  private localInstant(epochDay: number, minuteOfDay: number): number {
    const date = new Date(epochDay * DAY_MS);
    return DateTime.fromObject(
      {
        year: date.getUTCFullYear(),
        month: date.getUTCMonth() + 1,
        day: date.getUTCDate(),
        hour: Math.floor(minuteOfDay / 60),
        minute: minuteOfDay % 60,
      },
      { zone: this.zone },
    ).toMillis();
  }
}

function yearTotal(block: YearBlock): number {
  return block.openBefore[block.dayCount]!;
}

/** The smallest day index i >= from with openBefore[i + 1] >= target (exists when the year's total reaches target). */
function firstDayReaching(block: YearBlock, from: number, target: number): number {
  let lo = from;
  let hi = block.dayCount - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (block.openBefore[mid + 1]! >= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function instant(d: Date, what: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (Number.isNaN(t)) throw new RangeError(`${what} is not a valid date`);
  return t;
}
