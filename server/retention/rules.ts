import { z } from 'zod';
import { ValidationError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';

/**
 * Retention (gallring): what the rules say, in one place the service, the
 * admin page and the CLI share.
 *
 * A rule names one topic or one department and keeps a finished case
 * (closed, or resolved and never closed) keep_days after it finished. When a
 * case matches both a topic rule and a department rule, the longer keep
 * wins: each rule states how long the municipality must keep such records
 * (its document management plan, arkivlagen and the public-records duty of
 * offentlighetsprincipen), so removing a case before the longest of them is
 * up would break the stricter duty, while keeping it longer breaks none.
 */

/** What a removed case's text is replaced with: visible, so nobody mistakes it for an empty case. */
export const REMOVED_TEXT = '[gallrad]';

export const MAX_KEEP_DAYS = 36_500;

export interface RuleRow {
  id: number;
  category_id: number | null;
  department_id: number | null;
  keep_days: number;
  description: string;
  active: boolean;
  created_by: number | null;
  created_at: Date;
  /** Joined: the topic's or department's slug and names. */
  category_slug: string | null;
  category_name_sv: string | null;
  category_name_en: string | null;
  department_slug: string | null;
  department_name: string | null;
  created_by_name: string | null;
}

/** A rule as it reads in the run record and the CLI (Swedish, as the records are kept). */
export function ruleText(r: Pick<RuleRow, 'id' | 'keep_days' | 'description' | 'category_slug' | 'category_name_sv' | 'department_slug' | 'department_name'>): string {
  const target = r.category_slug ? `ämnet ${r.category_name_sv ?? r.category_slug} (${r.category_slug})` : `förvaltningen ${r.department_name ?? r.department_slug} (${r.department_slug})`;
  const base = `Regel ${r.id}: ärenden i ${target} gallras ${r.keep_days} dagar efter att de avslutats`;
  return r.description ? `${base} – ${r.description}` : base;
}

const slug = z.string().trim().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'admin.retention.errors.slug');

/** A new rule: exactly one of category and department, by slug. */
export const newRuleSchema = z
  .object({
    category: slug.optional(),
    department: slug.optional(),
    days: z.preprocess(
      (v) => (typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : v === '' || v === undefined ? undefined : typeof v === 'number' ? v : NaN),
      z.number('admin.retention.errors.days').int('admin.retention.errors.days').min(1, 'admin.retention.errors.days').max(MAX_KEEP_DAYS, 'admin.retention.errors.days'),
    ),
    description: z.preprocess((v) => (v === undefined || v === null ? '' : v), z.string().trim().max(500, 'admin.retention.errors.description')),
  })
  .strict();

export type NewRule = z.output<typeof newRuleSchema>;

export function parseNewRule(input: unknown): NewRule {
  const rule = parseOrThrow(newRuleSchema, input);
  if (Boolean(rule.category) === Boolean(rule.department)) {
    throw new ValidationError([{ field: 'target', code: 'admin.retention.errors.target', message: 'Name exactly one topic (--category) or one department (--department)' }]);
  }
  return rule;
}

/** The admin form names its target as "category:slug" or "department:slug" in one select. */
export function ruleFromForm(body: Record<string, unknown> | undefined): NewRule {
  const b = body ?? {};
  const target = typeof b.target === 'string' ? b.target : '';
  const m = /^(category|department):(.+)$/.exec(target);
  const fieldErrors = [];
  if (!m) fieldErrors.push({ field: 'target', code: 'admin.retention.errors.target', message: 'Choose a topic or a department' });
  try {
    return parseNewRule({ ...(m ? { [m[1]!]: m[2] } : {}), days: b.days, description: b.description });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const rest = err.fields.filter((f) => !(m === null && f.field === 'target')).map((f) => (f.field === 'category' || f.field === 'department' ? { ...f, field: 'target' } : f));
    throw new ValidationError([...fieldErrors, ...rest]);
  }
}

/** A legal hold's reason: required, one line of up to 500 characters. */
export const holdSchema = z
  .object({
    reason: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string('agent.legal_hold.errors.reason').min(1, 'agent.legal_hold.errors.reason').max(500, 'agent.legal_hold.errors.reason_long')),
  })
  .strip();

/**
 * The event payload keys kept when a case is removed: codes, ids, counts and
 * times that the timeline and the statistics read, never text a person
 * wrote or a resident's contact details. Anything else (subject, note,
 * phone, recipients, diagnostic, a hold's reason, call ids) is dropped.
 * toName and departmentName are the municipality's own staff and units, kept
 * with the user and department rows anyway, so the timeline still says who
 * handled the case.
 */
export const KEPT_EVENT_KEYS = [
  'channel',
  'category',
  'from',
  'to',
  'toName',
  'reason',
  'via',
  'departmentId',
  'departmentName',
  'source',
  'result',
  'attempt',
  'of',
  'attempts',
  'windowStart',
  'windowEnd',
  'nextAttemptAt',
  'linkedCaseId',
  'callback',
  'form',
  'outcome',
  'action',
  'status',
  'rule_id',
] as const;

/** A raw telephony event keeps what describes the call, not who called. */
export const KEPT_CALL_EVENT_KEYS = ['id', 'type', 'callId', 'at', 'queue', 'agent', 'extension', 'outcome'] as const;
