import { DateTime } from 'luxon';
import { z } from 'zod';
import { REFERENCE_PATTERN } from '../cases/reference.js';
import { hasKey, translate } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';
import { resolveRange } from '../stats/filter.js';
import { csvLine } from '../stats/csv.js';
import { ACCESS_ACTIONS, type AccessAction } from './access-log.js';
import type { AccessLogEntry, AccessLogQuery, AccessLogStore } from './access-log-store.js';

export const ACCESS_LOG_PAGE_SIZE = 100;
/** The period the page opens on: the last week, today included. */
export const ACCESS_LOG_DEFAULT_DAYS = 7;
/** Rows read per query while the CSV is written. */
const EXPORT_BATCH = 1000;

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const id = (code: string) => z.preprocess(emptyToUndefined, z.coerce.number(code).int(code).min(1, code).max(Number.MAX_SAFE_INTEGER, code).optional());

const filterSchema = z.object({
  from: z.preprocess(emptyToUndefined, z.string('stats.errors.date').regex(/^\d{4}-\d{2}-\d{2}$/, 'stats.errors.date').optional()),
  to: z.preprocess(emptyToUndefined, z.string('stats.errors.date').regex(/^\d{4}-\d{2}-\d{2}$/, 'stats.errors.date').optional()),
  user: id('errors.invalid_choice'),
  action: z.preprocess(emptyToUndefined, z.enum(ACCESS_ACTIONS, 'errors.invalid_choice').optional()),
  case: z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toUpperCase()) : v),
    z.string('access_log.errors.case').regex(REFERENCE_PATTERN, 'access_log.errors.case').optional(),
  ),
  before: id('errors.cursor_invalid'),
});

/** The search as asked (the period resolved to whole local days) and as the store reads it. */
export interface AccessLogFilter {
  from: string;
  to: string;
  user?: number;
  action?: AccessAction;
  case?: string;
  before?: number;
  query: Omit<AccessLogQuery, 'limit' | 'beforeId'>;
}

/**
 * Reads the page's query (?from=&to=&user=&action=&case=&before=): local
 * dates in the service's time zone, both included (default the last seven
 * days); a user's id; one of ACCESS_ACTIONS; a case reference (any case);
 * `before`, the id of the last row of the previous page.
 */
export function parseAccessLogFilter(input: unknown, timeZone: string, now = new Date()): AccessLogFilter {
  const q = parseOrThrow(filterSchema, input ?? {});
  const range = resolveRange({ from: q.from, to: q.to }, timeZone, now, ACCESS_LOG_DEFAULT_DAYS);
  return {
    from: range.fromDay,
    to: range.toDay,
    ...(q.user ? { user: q.user } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.case ? { case: q.case } : {}),
    ...(q.before ? { before: q.before } : {}),
    query: { fromUtc: range.from, toUtc: range.to, userId: q.user, action: q.action, caseReference: q.case },
  };
}

/** The filter as query parameters (no `before`): for links, the CSV and the log's own detail. */
export function filterParams(f: AccessLogFilter): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ from: f.from, to: f.to, user: f.user, action: f.action, case: f.case }).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)]),
  );
}

/** An action as people read it; an action the locale does not know (yet) as its code. */
export function actionLabel(action: string, lang: string): string {
  return hasKey(lang, `access_log.action.${action}`) ? translate(lang, `access_log.action.${action}`) : action;
}

/** Who did it, in words: the user, and the API key or the command line when that was the way. */
export function accessorLabel(e: AccessLogEntry, lang: string): { name: string; email: string; via: string } {
  const via =
    e.token_id !== null ? translate(lang, 'access_log.via_token', { id: String(e.token_id) }) : e.detail.via === 'cli' ? translate(lang, 'access_log.via_cli') : '';
  return { name: e.user_name ?? (e.user_id === null ? '' : `#${e.user_id}`), email: e.user_email ?? '', via };
}

/** The entry's detail as a short text (protected identity first, in words). */
export function detailText(e: AccessLogEntry, lang: string): string {
  const parts: string[] = [];
  if (e.detail.protected === true) parts.push(translate(lang, 'access_log.protected'));
  for (const [k, v] of Object.entries(e.detail)) {
    if (k === 'protected' || (k === 'via' && v === 'cli')) continue;
    parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.join('; ');
}

export function localTime(d: Date, timeZone: string): string {
  return DateTime.fromJSDate(new Date(d), { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** The access log's search and its CSV, read newest first with keyset paging. */
export function createAccessLogSearch(deps: { store: AccessLogStore; timeZone: string }) {
  const { store, timeZone } = deps;
  return {
    parse: (input: unknown, now?: Date) => parseAccessLogFilter(input, timeZone, now),

    /** One page: up to ACCESS_LOG_PAGE_SIZE entries and the cursor of the next page, if there is one. */
    async page(f: AccessLogFilter): Promise<{ entries: AccessLogEntry[]; next?: number }> {
      const rows = await store.search({ ...f.query, beforeId: f.before, limit: ACCESS_LOG_PAGE_SIZE + 1 });
      const entries = rows.slice(0, ACCESS_LOG_PAGE_SIZE);
      return rows.length > ACCESS_LOG_PAGE_SIZE ? { entries, next: entries[entries.length - 1]!.id } : { entries };
    },

    /**
     * The whole filtered result as CSV lines, read a batch at a time. The
     * first batch is read before `beforeWrite` runs (which records the
     * export), so the file never lists its own entry.
     */
    async *csv(f: AccessLogFilter, lang: string, beforeWrite: () => Promise<void>): AsyncGenerator<string> {
      const t = (k: string) => translate(lang, `access_log.csv.${k}`, { zone: timeZone });
      let batch = await store.search({ ...f.query, limit: EXPORT_BATCH });
      await beforeWrite();
      yield `\uFEFF${csvLine([t('time'), t('user'), t('email'), t('via'), t('action'), t('action_code'), t('case'), t('target'), t('detail')])}\r\n`;
      for (;;) {
        yield batch
          .map((e) => {
            const who = accessorLabel(e, lang);
            return `${csvLine([localTime(e.created_at, timeZone), who.name, who.email, who.via, actionLabel(e.action, lang), e.action, e.case_reference ?? '', e.target ?? '', JSON.stringify(e.detail)])}\r\n`;
          })
          .join('');
        if (batch.length < EXPORT_BATCH) return;
        batch = await store.search({ ...f.query, beforeId: batch[batch.length - 1]!.id, limit: EXPORT_BATCH });
      }
    },
  };
}

export type AccessLogSearch = ReturnType<typeof createAccessLogSearch>;
