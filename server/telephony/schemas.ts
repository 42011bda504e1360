import { z } from 'zod';
import { ValidationError, type FieldError } from '../platform/errors.js';

export const CALL_EVENT_TYPES = ['call.offered', 'call.answered', 'call.ended'] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];
export const CALL_OUTCOMES = ['completed', 'abandoned', 'busy', 'no_answer'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
/** Outcomes of a call nobody answered: the caller is owed a callback. */
export const MISSED_OUTCOMES: readonly CallOutcome[] = ['abandoned', 'busy', 'no_answer'];
export const MAX_EVENTS_PER_REQUEST = 100;

/*
 * The messages are English sentences for the platform's developers (this
 * endpoint has no readers in other languages); the field error codes stay
 * the usual locale keys.
 */
const isMissing = (input: unknown) => input === undefined;

/** A platform's id: a string, or a whole number (kept as its decimal string). */
const idString = (name: string) =>
  z.preprocess(
    (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v),
    z
      .string({ error: (i) => (isMissing(i.input) ? `${name} is required` : `${name} must be a string`) })
      .trim()
      .min(1, `${name} must not be empty`)
      .max(200, `${name} must be at most 200 characters`),
  );

const optionalText = (name: string, max: number) =>
  z
    .string({ error: () => `${name} must be a string or null` })
    .trim()
    .max(max, `${name} must be at most ${max} characters`)
    .nullable()
    .optional();

/** One event from the telephony platform. Unknown properties are ignored (and kept in the stored payload). */
export const callEventSchema = z
  .object({
    id: idString('id').meta({ description: "The platform's own id for this event (a string; a whole number is taken too). A repeated id is acknowledged as a duplicate and changes nothing." }),
    type: z
      .enum(CALL_EVENT_TYPES, { error: (i) => (isMissing(i.input) ? 'type is required' : `type must be one of ${CALL_EVENT_TYPES.join(', ')}`) })
      .meta({ description: 'What happened to the call' }),
    callId: idString('callId').meta({ description: 'The call this event is about: the same for all events of one call' }),
    at: z.iso
      .datetime({
        offset: true,
        error: (i) => (isMissing(i.input) ? 'at is required' : 'at must be an ISO 8601 date-time with a time zone, such as 2026-11-30T09:15:00Z'),
      })
      .meta({ description: 'When it happened (events are ordered by this, not by arrival)', example: '2026-11-30T09:15:00+01:00' }),
    caller: z
      .string({ error: () => 'caller must be a phone number, or null for an anonymous caller' })
      .trim()
      .max(40, 'caller must be at most 40 characters')
      .regex(/^(\+?[0-9][0-9 ()-]*)?$/, 'caller must be a phone number (digits, an optional leading +, spaces, dashes), or null for an anonymous caller')
      .nullable()
      .optional()
      .meta({ description: "The caller's number; null (or empty) when the caller is anonymous", example: '+46701234567' }),
    queue: optionalText('queue', 100).meta({ description: 'The queue the call came in on', example: 'vaxel' }),
    agent: z
      .email({ error: (i) => (i.input === null ? 'agent must be an e-mail address or left out' : 'agent must be the e-mail address of a user') })
      .max(254, 'agent must be at most 254 characters')
      .nullable()
      .optional()
      .meta({ description: 'call.answered: the e-mail address of the user who answered' }),
    extension: z
      .preprocess(
        (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v),
        z.string({ error: () => 'extension must be digits' }).regex(/^[0-9]{1,12}$/, 'extension must be 1–12 digits').nullable().optional(),
      )
      .meta({ description: "call.answered: the extension that answered (a user's phone extension)", example: '1042' }),
    outcome: z
      .enum(CALL_OUTCOMES, { error: () => `outcome must be one of ${CALL_OUTCOMES.join(', ')}` })
      .optional()
      .meta({ description: 'call.ended: how the call ended' }),
  })
  .superRefine((e, ctx) => {
    if (e.type === 'call.ended' && !e.outcome) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: `outcome is required for call.ended: one of ${CALL_OUTCOMES.join(', ')}` });
    }
    if (e.type !== 'call.ended' && e.outcome) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'outcome belongs to call.ended events only' });
    }
  })
  .meta({ id: 'CallEvent' });

export type CallEvent = z.output<typeof callEventSchema>;

export const callEventBatchSchema = z
  .object({
    events: z
      .array(callEventSchema, { error: () => 'events must be an array of events' })
      .min(1, 'events must hold at least one event')
      .max(MAX_EVENTS_PER_REQUEST, `events may hold at most ${MAX_EVENTS_PER_REQUEST} events per request`),
  })
  .meta({ id: 'CallEventBatch' });

function codeOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message.endsWith(' is required') ? 'errors.required' : 'errors.invalid_type';
    case 'too_big':
      return 'errors.too_long';
    case 'too_small':
      return 'errors.required';
    case 'invalid_value':
      return 'errors.invalid_choice';
    default:
      return 'errors.invalid';
  }
}

/** One error per field, with the schema's own (specific, English) message and the usual code. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out = new Map<string, FieldError>();
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.map(String).join('.') : '_';
    if (!out.has(field)) out.set(field, { field, code: codeOf(issue), message: issue.message });
  }
  return [...out.values()];
}

/**
 * The events of a request body: one event, or `{ events: [...] }` with up to
 * 100. Every event must be valid or none is taken (400 with a message per
 * field, such as `events.3.outcome`). `raw` is each event as sent, to store.
 */
export function parseCallEvents(body: unknown): { event: CallEvent; raw: Record<string, unknown> }[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([
      { field: '_', code: 'errors.invalid_type', message: 'The body must be one event object, or { "events": [ … ] } with up to 100 events, as JSON' },
    ]);
  }
  if ('events' in body) {
    const parsed = callEventBatchSchema.safeParse(body);
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    const raws = (body as { events: Record<string, unknown>[] }).events;
    return parsed.data.events.map((event, i) => ({ event, raw: raws[i]! }));
  }
  const parsed = callEventSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
  return [{ event: parsed.data, raw: body as Record<string, unknown> }];
}
