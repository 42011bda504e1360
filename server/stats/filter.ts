import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../cases/lifecycle.js';
import { ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';

/**
 * What every statistic is asked for: a period of whole local days and
 * optional filters. The same query parameters serve the pages, the CSV export
 * and /api/v1/stats:
 *   from, to      local dates (YYYY-MM-DD) in the statistics time zone, both
 *                 included; default the last 30 days up to today;
 *   channel       web, email, phone, visit or api;
 *   category      a topic's short name;
 *   department    a department's short name;
 *   agent         a user's id (the case's assignee).
 */
export interface StatsRange {
  /** The first local day, included (YYYY-MM-DD). */
  fromDay: string;
  /** The last local day, included (YYYY-MM-DD). */
  toDay: string;
  /** Start of fromDay, local midnight as an instant. */
  from: Date;
  /** Start of the day after toDay: the range is [from, to). */
  to: Date;
  timeZone: string;
}

export interface StatsFilter {
  range: StatsRange;
  channel?: Channel;
  categoryId?: number;
  departmentId?: number;
  agentId?: number;
}

/** The filter as asked for, before topic and department names are looked up. */
export interface StatsQuery {
  from?: string;
  to?: string;
  channel?: Channel;
  category?: string;
  department?: string;
  agent?: number;
}

export const DEFAULT_DAYS = 30;
/** The longest period one report covers. */
export const MAX_DAYS = 5 * 366;

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const day = z.preprocess(emptyToUndefined, z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'stats.errors.date').optional());
const slug = z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'errors.invalid_choice').optional());

export const statsQuerySchema = z.object({
  from: day,
  to: day,
  channel: z.preprocess(emptyToUndefined, z.enum(CHANNELS, 'errors.invalid_choice').optional()),
  category: slug,
  department: slug,
  agent: z.preprocess(emptyToUndefined, z.coerce.number('errors.invalid_choice').int('errors.invalid_choice').min(1, 'errors.invalid_choice').max(2_147_483_647, 'errors.invalid_choice').optional()),
});

/** Thrown with a field and a locale key when the period is not a valid one. */
/** A period that is not one: a field error like any other (400), naming the field and its locale key. */
export class StatsRangeError extends ValidationError {
  constructor(field: 'from' | 'to', code: string) {
    super([{ field, code, message: translate('en', code) }]);
  }
}

/**
 * The period [from, to) of whole local days. Days are checked as real dates
 * (2026-02-30 is refused); to must not come before from; at most MAX_DAYS.
 */
export function resolveRange(q: { from?: string; to?: string }, timeZone: string, now = new Date(), defaultDays = DEFAULT_DAYS): StatsRange {
  const today = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
  const parse = (s: string, field: 'from' | 'to') => {
    const d = DateTime.fromISO(s, { zone: timeZone });
    if (!d.isValid || d.toISODate() !== s) throw new StatsRangeError(field, 'stats.errors.date');
    return d.startOf('day');
  };
  const last = q.to ? parse(q.to, 'to') : today;
  const first = q.from ? parse(q.from, 'from') : last.minus({ days: defaultDays - 1 });
  if (last < first) throw new StatsRangeError('to', 'stats.errors.to_before_from');
  if (last.diff(first, 'days').days + 1 > MAX_DAYS) throw new StatsRangeError('from', 'stats.errors.too_long');
  return {
    fromDay: first.toISODate()!,
    toDay: last.toISODate()!,
    from: first.toJSDate(),
    to: last.plus({ days: 1 }).startOf('day').toJSDate(),
    timeZone,
  };
}

/** Adds the filter's conditions on a cases table (aliased `alias`) to a query. */
export function whereCases<Q extends Knex.QueryBuilder>(q: Q, f: Omit<StatsFilter, 'range'>, alias = 'c'): Q {
  if (f.channel) q.where(`${alias}.channel`, f.channel);
  if (f.categoryId !== undefined) q.where(`${alias}.category_id`, f.categoryId);
  if (f.departmentId !== undefined) q.where(`${alias}.department_id`, f.departmentId);
  if (f.agentId !== undefined) q.where(`${alias}.assignee_id`, f.agentId);
  return q;
}
