import { z } from 'zod';
import { HOURS_PER_WEEK, type StaffingParams } from './erlang-c.js';

/**
 * Input of the staffing form and of the staffing API. People type percentages
 * (80 % within 20 s, 30 % shrinkage); `toStaffingParams` turns them into the
 * fractions erlang-c.ts works with. Messages are locale keys, as elsewhere.
 */

export const AHT_SECONDS_MAX = 36_000;
export const TARGET_SECONDS_MAX = 86_400;
export const SHRINKAGE_PERCENT_MAX = 90;
/** Far above any municipal service center (hundreds of calls a day), low enough to stay sane. */
export const ARRIVALS_PER_HOUR_MAX = 100_000;

/**
 * Values to prefill the form with, not applied by the schema: 80 % within
 * 20 s is the common default and about 30 % shrinkage the usual planning
 * figure (contact-center-research.md 5.2).
 */
export const STAFFING_DEFAULTS = { targetSeconds: 20, targetServiceLevel: 80, shrinkage: 30 } as const;

/**
 * A number from a form field or JSON. Form text is trimmed and may use a
 * decimal comma ("12,5"); an empty field counts as not given.
 */
const toNumberInput = (v: unknown) => {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') return v;
  const t = v.trim();
  return t === '' ? undefined : Number(t.replace(',', '.'));
};

/** Missing says "required"; text that is no number, or another type, says "wrong type". */
const number = () => z.number({ error: (issue) => (issue.input === undefined ? 'errors.required' : 'errors.invalid_type') });

const numberField = (min: number, max: number, opts: { int?: boolean } = {}) =>
  z.preprocess(toNumberInput, (opts.int ? number().int('errors.invalid_type') : number()).min(min, 'errors.invalid').max(max, 'errors.invalid'));

const arrivalsSchema = number().min(0, 'errors.invalid').max(ARRIVALS_PER_HOUR_MAX, 'errors.invalid');

export const staffingInputSchema = z
  .object({
    /** Average handling time in seconds (talk plus wrap-up). */
    ahtSeconds: numberField(1, AHT_SECONDS_MAX),
    /** Answer-time target in seconds: the 20 of "80 % within 20 s". */
    targetSeconds: numberField(1, TARGET_SECONDS_MAX, { int: true }),
    /** Share to answer within the target, in percent: the 80 of "80 % within 20 s". */
    targetServiceLevel: numberField(1, 100),
    /** Share of paid time not on the phones, in percent. */
    shrinkage: numberField(0, SHRINKAGE_PERCENT_MAX),
    /** Optional: one entered arrival rate (calls per hour) instead of the history. */
    arrivalsPerHour: z.preprocess(toNumberInput, arrivalsSchema.optional()),
    /** Optional: 168 entered arrival rates, Monday 00–01 first, instead of the history. */
    arrivalsByHourOfWeek: z.preprocess(
      (v) => (v === null || v === '' ? undefined : Array.isArray(v) ? v.map(toNumberInput) : v),
      z.array(arrivalsSchema, 'errors.invalid_type').length(HOURS_PER_WEEK, 'errors.invalid').optional(),
    ),
  })
  // Runs even when other fields are wrong, so every error is reported at once.
  .refine((v) => v.arrivalsPerHour === undefined || v.arrivalsByHourOfWeek === undefined, {
    path: ['arrivalsByHourOfWeek'],
    message: 'errors.invalid',
    when: () => true,
  })
  .meta({ id: 'StaffingInput' });

export type StaffingInput = z.output<typeof staffingInputSchema>;

/** The parsed percentages as the fractions agentsNeeded and weeklyStaffing take. */
export function toStaffingParams(input: StaffingInput): Omit<StaffingParams, 'arrivalsPerHour'> {
  return {
    ahtSeconds: input.ahtSeconds,
    targetSeconds: input.targetSeconds,
    targetServiceLevel: input.targetServiceLevel / 100,
    shrinkage: input.shrinkage / 100,
  };
}
