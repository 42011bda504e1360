/**
 * The weekly opening-hours spec, such as "mon-thu 08:00-16:30, fri 08:00-15:00" or
 * "mon-fri 08:00-12:00 13:00-16:30": comma-separated parts, each a day or a day range
 * followed by one or more HH:MM-HH:MM periods in local time. Days not named are closed.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** An open period within one local day, in minutes after midnight (end may be 1440 for 24:00). */
export interface DayPeriod {
  startMinute: number;
  endMinute: number;
}

/** Open periods per weekday; index 0 is Monday (as luxon's weekday 1), 6 is Sunday. Sorted, not overlapping. */
export type WeeklyHours = readonly (readonly DayPeriod[])[];

export class OpeningHoursError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpeningHoursError';
  }
}

const EXAMPLE = 'such as "mon-fri 08:00-16:30" or "mon-thu 08:00-16:30, fri 08:00-15:00"';

export function parseWeeklyHours(spec: string): WeeklyHours {
  const text = spec.trim().toLowerCase().replace(/[\u2013\u2014]/g, '-');
  if (text === '') throw new OpeningHoursError(`The opening hours are empty; expected days and times, ${EXAMPLE}`);

  const week: DayPeriod[][] = WEEKDAYS.map(() => []);
  const givenIn = new Map<number, string>();
  for (const rawPart of text.split(',')) {
    const part = rawPart.trim().replace(/\s+/g, ' ');
    if (part === '') throw new OpeningHoursError(`Opening hours "${spec}" have an empty part (a stray comma?)`);
    const [dayToken = '', ...rangeTokens] = part.split(' ');
    const days = parseDays(dayToken, part);
    if (rangeTokens.length === 0) {
      throw new OpeningHoursError(`"${part}" has no opening times; write them after the days, ${EXAMPLE}`);
    }
    const periods = rangeTokens.map((token) => parseRange(token, part)).sort((a, b) => a.startMinute - b.startMinute);
    for (let i = 1; i < periods.length; i++) {
      const prev = periods[i - 1]!;
      const cur = periods[i]!;
      if (cur.startMinute < prev.endMinute) {
        throw new OpeningHoursError(`Periods ${formatPeriod(prev)} and ${formatPeriod(cur)} overlap in "${part}"`);
      }
    }
    for (const day of days) {
      const earlier = givenIn.get(day);
      if (earlier !== undefined) {
        throw new OpeningHoursError(`${WEEKDAYS[day]} is given twice, in "${earlier}" and in "${part}"; give each day once`);
      }
      givenIn.set(day, part);
      week[day] = periods;
    }
  }
  return week;
}

function parseDays(token: string, part: string): number[] {
  const m = /^([a-z]+)(?:-([a-z]+))?$/.exec(token);
  if (!m) throw new OpeningHoursError(`"${part}" must start with a day or a day range, ${EXAMPLE}`);
  const first = dayIndex(m[1]!, part);
  const last = m[2] === undefined ? first : dayIndex(m[2], part);
  if (last < first) {
    throw new OpeningHoursError(`Day range "${token}" in "${part}" runs backwards; the week runs mon to sun`);
  }
  const days: number[] = [];
  for (let d = first; d <= last; d++) days.push(d);
  return days;
}

function dayIndex(name: string, part: string): number {
  const index = (WEEKDAYS as readonly string[]).indexOf(name);
  if (index < 0) throw new OpeningHoursError(`Unknown day "${name}" in "${part}"; days are ${WEEKDAYS.join(', ')}`);
  return index;
}

function parseRange(token: string, part: string): DayPeriod {
  const m = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(token);
  if (!m) throw new OpeningHoursError(`Bad time range "${token}" in "${part}"; expected HH:MM-HH:MM such as 08:00-16:30`);
  const startMinute = parseTime(m[1]!, part, false);
  const endMinute = parseTime(m[2]!, part, true);
  if (endMinute < startMinute) throw new OpeningHoursError(`Time range "${token}" in "${part}" ends before it starts`);
  if (endMinute === startMinute) throw new OpeningHoursError(`Time range "${token}" in "${part}" is empty`);
  return { startMinute, endMinute };
}

function parseTime(time: string, part: string, isEnd: boolean): number {
  const [h, min] = time.split(':').map(Number) as [number, number];
  if (h === 24 && min === 0 && isEnd) return 24 * 60;
  if (h > 23) throw new OpeningHoursError(`Bad time "${time}" in "${part}": hours run 00-23 (24:00 only as a closing time)`);
  if (min > 59) throw new OpeningHoursError(`Bad time "${time}" in "${part}": minutes run 00-59`);
  return h * 60 + min;
}

function formatPeriod(p: DayPeriod): string {
  return `${formatMinute(p.startMinute)}-${formatMinute(p.endMinute)}`;
}

function formatMinute(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
