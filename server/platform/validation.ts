import { z } from 'zod';
import { type AppError, ValidationError, type FieldError } from './errors.js';
import { hasKey, translate } from './i18n.js';

/**
 * Schemas carry locale keys as their messages (for example "errors.required"),
 * so the same schema serves the API (English text) and the pages (the
 * reader's language).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(toFieldErrors(result.error));
}

export function toFieldErrors(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.map(String).join('.') : '_';
    if (seen.has(field)) continue;
    seen.add(field);
    // A schema's message is kept when it is a locale key of any area (errors.*, stats.errors.*, …).
    const code = issue.message.startsWith('errors.') || hasKey('sv', issue.message) ? issue.message : keyForIssue(issue);
    const params = limitsOf(issue);
    out.push({ field, code, message: translate('en', code, params), params });
  }
  return out;
}

function keyForIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'errors.required' : 'errors.invalid_type';
    case 'too_big':
      return 'errors.too_long';
    case 'too_small':
      return 'errors.required';
    case 'unrecognized_keys':
      return 'errors.unknown_field';
    case 'invalid_value':
      return 'errors.invalid_choice';
    default:
      return 'errors.invalid';
  }
}

function limitsOf(issue: z.core.$ZodIssue): Record<string, string> {
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    return { max: String((issue as { maximum?: unknown }).maximum ?? ''), min: String((issue as { minimum?: unknown }).minimum ?? '') };
  }
  return {};
}

/** A form's error summary: each field's message, and the list that links to the fields. */
export interface ErrorSummary {
  errors: Record<string, string>;
  errorList: { href: string; message: string }[];
}

/**
 * A form's errors for its page: each field's message in the reader's
 * language, and the error summary's list in the form's order (`fields`),
 * each item linking to its field (`#<prefix>-<field>`). An error about a field
 * the form does not show links to `fallback` (default: the first field);
 * `anchor` names the target itself where a field's id is not prefix-field.
 */
export function errorSummary(
  error: ValidationError | undefined,
  lang: string,
  fields: readonly string[],
  opts: { prefix?: string; fallback?: string; anchor?: (field: string) => string | undefined } = {},
): ErrorSummary {
  if (!error) return { errors: {}, errorList: [] };
  const errors = localizeFieldErrors(error.fields, lang);
  const order = (f: string) => (fields.includes(f) ? fields.indexOf(f) : fields.length);
  const target = (f: string) => opts.anchor?.(f) ?? `${opts.prefix ?? 'f'}-${fields.includes(f) ? f : (opts.fallback ?? fields[0])}`;
  const errorList = [...error.fields].sort((a, b) => order(a.field) - order(b.field)).map((f) => ({ href: `#${target(f.field)}`, message: errors[f.field]! }));
  return { errors, errorList };
}

/** Re-labels field errors for a page in the reader's language. */
export function localizeFieldErrors(fields: FieldError[], lang: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) out[f.field] = translate(lang, f.code, f.params ?? {});
  return out;
}

/**
 * A refused change in the reader's language: the locale's text for the error
 * code when there is one (with the transition spelled out), else the message.
 */
export function describeError(err: AppError, lang: string): string {
  const e = err as AppError & { from?: string; to?: string; colleague?: string };
  if (err.code === 'colleague_replied') return translate(lang, 'errors.colleague_replied', { colleague: e.colleague || translate(lang, 'errors.a_colleague') });
  if (err.code === 'invalid_transition' && e.from && e.to) {
    return translate(lang, 'errors.invalid_transition_detail', { from: translate(lang, `status.${e.from}`), to: translate(lang, `status.${e.to}`) });
  }
  return hasKey(lang, `errors.${err.code}`) ? translate(lang, `errors.${err.code}`) : err.message;
}
