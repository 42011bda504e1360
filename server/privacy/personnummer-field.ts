import type { FieldError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import { findPersonnummer } from './personnummer.js';

/**
 * The personnummer a resident may give with a case, for a topic configured to
 * ask for one (categories.asks_personnummer), from the web form and the API.
 *
 * The shapes people write (10 or 12 digits, "-" or "+" before the last four,
 * or none) are the only ones taken; whether it is a real number (a date or a
 * samordningsnummer's date + 60, and the check digit) is decided by the same
 * detection that masks numbers in free text, so the two can never disagree.
 */
// Twelve digits carry their century, so only ten take "+" (the year a person turns 100).
const WRITTEN = /^(?:\d{6}[-+]?|\d{8}-?)\d{4}$/;

/** At most this long as typed, before anything else is looked at. */
export const PERSONNUMMER_MAX = 20;

export type PersonnummerCheck = { normalized: string } | { code: 'errors.personnummer_format' | 'errors.personnummer_invalid' };

/** A typed value, checked: twelve digits (YYYYMMDDNNNC) or the reason it is refused. */
export function checkPersonnummer(value: string): PersonnummerCheck {
  const v = value.trim();
  if (!WRITTEN.test(v)) return { code: 'errors.personnummer_format' };
  const [found] = findPersonnummer(v);
  if (!found || found.start !== 0 || found.end !== v.length) return { code: 'errors.personnummer_invalid' };
  return { normalized: found.normalized };
}

/** Twelve stored digits as people read them: YYYYMMDD-NNNN. */
export function formatPersonnummer(normalized: unknown): string {
  const s = typeof normalized === 'string' ? normalized : '';
  return /^\d{12}$/.test(s) ? `${s.slice(0, 8)}-${s.slice(8)}` : s;
}

const fieldError = (code: string): FieldError => ({ field: 'personnummer', code, message: translate('en', code) });

/**
 * What a new case keeps of the `personnummer` it was sent with: nothing when
 * none was given; the normalized number when its topic asks for one; a field
 * error when the topic does not ask (a number is never kept where no one
 * asked for it) or when the number is not a real one. `topic` is undefined
 * when the topic itself is wrong: then only the number's own shape is checked.
 */
export function personnummerForTopic(value: string | undefined, topic: { asks_personnummer?: boolean } | undefined): { value: string | null; error?: FieldError } {
  if (value === undefined || value.trim() === '') return { value: null };
  if (topic && !topic.asks_personnummer) return { value: null, error: fieldError('errors.personnummer_not_asked') };
  const checked = checkPersonnummer(value);
  return 'normalized' in checked ? { value: checked.normalized } : { value: null, error: fieldError(checked.code) };
}
