import { z } from 'zod';
import { LANGUAGES } from '../platform/i18n.js';
import { CHANNELS, STATUSES } from './lifecycle.js';
import { PERSONNUMMER_MAX } from '../privacy/personnummer-field.js';

/** Empty form fields arrive as "": treat them as not given. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

export const MESSAGE_MAX = 10_000;
export const NAME_MAX = 200;
export const SUBJECT_MAX = 200;
export const EMAIL_MAX = 254;

const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

/** A string field: missing says `missingKey`, a number or object says "wrong type". */
export const text = (missingKey = 'errors.required') =>
  z.string({ error: (issue) => (issue.input === undefined || issue.input === null ? missingKey : 'errors.invalid_type') });

export const phoneSchema = z
  .string('errors.invalid_type')
  .trim()
  .regex(/^\+?[0-9][0-9 ()-]{5,22}$/, 'errors.phone_invalid')
  .transform((v) => v.replace(/[\s()-]/g, ''));

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A choice among existing short names (a topic, a department). */
export const slugSchema = text().trim().toLowerCase().regex(SLUG_PATTERN, 'errors.invalid_choice');
/** A new short name typed by an admin. */
export const newSlugSchema = text().trim().toLowerCase().regex(SLUG_PATTERN, 'errors.slug_invalid');

export const newCaseSchema = z
  .object({
    name: text('errors.name_required').trim().min(1, 'errors.name_required').max(NAME_MAX, 'errors.too_long'),
    email: optional(z.preprocess(trimmed, z.email({ error: (i) => (typeof i.input === 'string' ? 'errors.email_invalid' : 'errors.invalid_type') }).max(EMAIL_MAX, 'errors.too_long'))),
    phone: optional(phoneSchema),
    category: z.preprocess((v) => (v === '' ? undefined : v), text('errors.category_required').pipe(slugSchema)),
    // A subject is one line: line breaks and control characters become spaces.
    subject: optional(z.preprocess((v) => (typeof v === 'string' ? v.replace(/[\u0000-\u001f\u007f]+/g, ' ') : v), text().trim().max(SUBJECT_MAX, 'errors.too_long'))),
    message: text('errors.message_required').trim().min(1, 'errors.message_required').max(MESSAGE_MAX, 'errors.too_long'),
    language: optional(z.enum(LANGUAGES, 'errors.invalid_choice')),
    // Checked against the topic by the case service (server/privacy/personnummer-field.ts): only a topic that asks takes one.
    personnummer: optional(
      text()
        .trim()
        .max(PERSONNUMMER_MAX, 'errors.too_long')
        .meta({ description: 'Only for a topic that asks for one (see GET /api/v1/categories, asksPersonnummer): 10 or 12 digits, "-" or "+" before the last four; a samordningsnummer is taken too. Refused for any other topic.', example: '19121212-1212' }),
    ),
  })
  // Runs even when other fields are wrong, so every error is reported at once.
  .refine((v) => Boolean(v.email || v.phone), { path: ['email'], message: 'errors.contact_required', when: () => true })
  .meta({ id: 'NewCase' });
export type NewCaseInput = z.output<typeof newCaseSchema>;

export const followUpSchema = z.object({
  message: text('errors.message_required').trim().min(1, 'errors.message_required').max(MESSAGE_MAX, 'errors.too_long'),
});

export const replySchema = z
  .object({
    body: text('errors.required').trim().min(1, 'errors.required').max(MESSAGE_MAX * 2, 'errors.too_long'),
    status: optional(z.enum(['open', 'waiting', 'resolved'], 'errors.invalid_choice')),
    /**
     * The last case event the author had seen. A colleague's reply after it
     * refuses this one (409), so two agents do not answer the resident twice.
     */
    seenEventId: optional(z.coerce.number('errors.invalid_type').int('errors.invalid_type').min(0, 'errors.invalid_type').max(Number.MAX_SAFE_INTEGER, 'errors.invalid_type')),
  })
  .meta({ id: 'Reply' });

export const noteSchema = z
  .object({ body: text('errors.required').trim().min(1, 'errors.required').max(MESSAGE_MAX * 2, 'errors.too_long') })
  .meta({ id: 'Note' });

export const caseUpdateSchema = z
  .object({
    status: optional(z.enum(STATUSES, 'errors.invalid_choice')),
    assigneeId: z.preprocess(
      (v) => (v === '' || v === 'none' ? null : v),
      z.union([z.coerce.number('errors.invalid_choice').int('errors.invalid_choice').positive('errors.invalid_choice'), z.null()]).optional(),
    ),
  })
  .refine((v) => v.status !== undefined || v.assigneeId !== undefined, { message: 'errors.nothing_to_change', path: ['status'] })
  .meta({ id: 'CaseUpdate' });

export const forwardSchema = z
  .object({
    department: z.preprocess((v) => (v === '' ? undefined : v), text('errors.department_required').pipe(slugSchema)),
    note: text('errors.required').trim().min(1, 'errors.required').max(MESSAGE_MAX, 'errors.too_long'),
  })
  .meta({ id: 'Forward' });

export const queueQuerySchema = z.object({
  status: optional(z.enum([...STATUSES, 'active', 'all'], 'errors.invalid_choice')),
  channel: optional(z.enum(CHANNELS, 'errors.invalid_choice')),
  category: optional(slugSchema),
  cursor: optional(z.string().max(200, 'errors.too_long')),
  limit: optional(z.coerce.number('errors.invalid_type').int().min(1, 'errors.invalid').max(100, 'errors.too_long')),
});
export type QueueQuery = z.output<typeof queueQuerySchema>;
