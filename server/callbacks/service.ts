import { z } from 'zod';
import type { AuthUser } from '../auth/roles.js';
import type { OpeningHours } from '../calendar/opening-hours.js';
import type { CaseChanger, CaseOpener, ChangeContext } from '../cases/change.js';
import { statusPatch } from '../cases/change.js';
import { newResidentToken } from '../cases/service.js';
import type { ReferenceAllocator } from '../cases/reference.js';
import { phoneSchema, slugSchema, text } from '../cases/schemas.js';
import type { CaseRow, CaseStore } from '../cases/store.js';
import type { Config } from '../config.js';
import type { MailComposer } from '../mail/compose.js';
import type { OrganisationService } from '../organisation/service.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { isLanguage, translate } from '../platform/i18n.js';
import { parseOrThrow, toFieldErrors } from '../platform/validation.js';
import { CALLBACK_RESULTS, type CallbackRow, type CallbackSource, type CallbackStore } from './store.js';

export interface Slot {
  start: Date;
  end: Date;
}

const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), text().trim().max(max, 'errors.too_long').optional());

/** A resident asks to be called: on the web form or through the API. */
export const callbackRequestSchema = z
  .object({
    name: text('errors.name_required').trim().min(1, 'errors.name_required').max(200, 'errors.too_long'),
    phone: z.preprocess((v) => (v === '' || v === undefined ? null : v), phoneSchema.nullable()).refine((v) => v !== null, 'errors.phone_required'),
    email: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
      z.email({ error: (i) => (typeof i.input === 'string' ? 'errors.email_invalid' : 'errors.invalid_type') }).max(254, 'errors.too_long').optional(),
    ),
    category: z.preprocess((v) => (v === '' ? undefined : v), text('errors.category_required').pipe(slugSchema)),
    slot: text('errors.slot_required').trim().min(1, 'errors.slot_required').max(40, 'errors.slot_unavailable'),
    message: optionalText(2000),
    language: z.preprocess((v) => (isLanguage(v) ? v : undefined), z.string().optional()),
  })
  .meta({ id: 'CallbackRequest' });

/** One attempt to call back. `resolve`: the call settled the question. */
export const callbackAttemptSchema = z
  .object({
    result: z.enum(CALLBACK_RESULTS, 'errors.invalid_choice'),
    note: optionalText(2000),
    resolve: z.preprocess((v) => v === true || v === 'true' || v === '1' || v === 'on', z.boolean()).optional(),
  })
  .meta({ id: 'CallbackAttempt' });

/**
 * Callbacks ("bli uppringd"): a resident asks on the web, an agent books one
 * for a caller, or a missed call leaves one. Each is a case in the one queue,
 * placed at the start of its window; agents record each attempt, and after
 * the last one (or a wrong number) the callback has failed.
 */
export function createCallbackService(deps: {
  config: Config;
  cases: CaseStore;
  callbacks: CallbackStore;
  hours: OpeningHours;
  open: CaseOpener;
  change: CaseChanger;
  composer: MailComposer;
  topics: Pick<OrganisationService, 'activeCategory'>;
  references: ReferenceAllocator;
}) {
  const { config, cases, callbacks, hours, open, change, composer, topics, references } = deps;

  function slots(now = new Date()): Slot[] {
    return hours.slots(now, config.callbacks.daysAhead, config.callbacks.slotMinutes);
  }

  /** One of the windows on offer now; anything else (the past, a closed day, a made-up time) is refused. */
  function slotStartingAt(start: string, now = new Date()): Slot {
    const at = Date.parse(start);
    const slot = Number.isNaN(at) ? undefined : slots(now).find((s) => s.start.getTime() === at);
    if (!slot) throw new ValidationError([{ field: 'slot', code: 'errors.slot_unavailable', message: 'That time is not one we offer: choose one of the listed times' }]);
    return slot;
  }

  /** The first window from now: for a caller who wants to be called as soon as we can. */
  function soonest(now = new Date()): Slot {
    const start = hours.nextOpening(now);
    return slots(start)[0] ?? { start, end: new Date(start.getTime() + config.callbacks.slotMinutes * 60_000) };
  }

  /**
   * Puts a callback on the case being written: in the queue at the start of
   * its window, untaken, with a callback.requested event.
   */
  async function schedule(
    tx: ChangeContext,
    s: { phone: string; window: Slot; source: CallbackSource; callId?: string | null; actor?: { id: number } },
  ): Promise<CallbackRow> {
    const cb = await callbacks.insert(tx.trx, {
      case_id: tx.current.id,
      phone: s.phone,
      window_start: s.window.start,
      window_end: s.window.end,
      max_attempts: config.callbacks.maxAttempts,
      next_attempt_at: s.window.start,
      source: s.source,
      call_id: s.callId ?? null,
    });
    await tx.update({ queue_at: s.window.start, assignee_id: null });
    await tx.event({
      type: 'callback.requested',
      actorType: s.actor ? 'user' : s.source === 'telephony' ? 'system' : 'resident',
      actorId: s.actor?.id ?? null,
      payload: { phone: s.phone, windowStart: s.window.start.toISOString(), windowEnd: s.window.end.toISOString(), source: s.source, callId: s.callId ?? null },
    });
    return cb;
  }

  /** A new phone case whose one purpose is the callback: opened and scheduled in one transaction. */
  async function openCallbackCase(c: {
    reference: string;
    category: { id: number; slug: string };
    subject: string;
    body: string;
    language: string;
    token: string;
    resident: { name: string; email?: string | null; phone: string };
    window: Slot;
    source: CallbackSource;
    callId?: string;
    ack?: ReturnType<MailComposer['acknowledgement']>;
  }): Promise<string> {
    const { case: opened } = await open(
      {
        reference: c.reference,
        channel: 'phone',
        categoryId: c.category.id,
        subject: c.subject,
        language: c.language,
        token: c.token,
        body: c.body,
        payload: { channel: 'phone', category: c.category.slug, subject: c.subject, callback: true, ...(c.callId ? { callId: c.callId } : {}) },
        ack: c.ack,
        resident: c.resident,
      },
      undefined,
      (tx) => schedule(tx, { phone: c.resident.phone, window: c.window, source: c.source, callId: c.callId ?? null }).then(() => undefined),
    );
    return opened.reference;
  }

  return {
    slots,
    slotStartingAt,
    soonest,
    schedule,

    /** A resident's request: a new case with its callback, and a confirmation by mail when an address is given. */
    async request(input: unknown, opts: { lang: string }) {
      const parsed = callbackRequestSchema.safeParse(input);
      const fields = parsed.success ? [] : toFieldErrors(parsed.error);
      // Checked on what was given even when another field is wrong, so every problem is reported at once.
      const given = (input ?? {}) as Record<string, unknown>;
      const has = (name: string) => !fields.some((f) => f.field === name);
      const slug = parsed.success ? parsed.data.category : has('category') && typeof given.category === 'string' ? given.category.trim().toLowerCase() : undefined;
      const category = slug ? await topics.activeCategory(slug) : undefined;
      if (slug && !category) fields.push({ field: 'category', code: 'errors.category_unknown', message: translate('en', 'errors.category_unknown') });
      let window: Slot | undefined;
      if (has('slot') && typeof given.slot === 'string') {
        try {
          window = slotStartingAt(given.slot.trim());
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          fields.push(...err.fields);
        }
      }
      if (fields.length || !parsed.success || !category || !window) throw new ValidationError(fields);
      const v = parsed.data;
      const phone = v.phone!;
      const language = v.language ?? opts.lang;
      const token = newResidentToken();
      const subject = translate(language, 'callbacks.subject', { topic: language === 'en' ? category.name_en : category.name_sv });
      const reference = await references.next();
      const ack = v.email
        ? composer.acknowledgement({ id: 0, reference, subject, language, resident_token: token }, v.email, v.name, undefined, { phone, window })
        : undefined;
      const body = v.message ?? translate(language, 'callbacks.no_message');
      const resident = { name: v.name, email: v.email ?? null, phone };
      await openCallbackCase({ reference, category, subject, body, language, token, resident, window, source: 'web', ...(ack ? { ack } : {}) });
      return { reference, token, statusUrl: composer.statusUrl(token), window, phone };
    },

    /**
     * A call that was never answered (abandoned, busy, no answer) leaves a
     * callback, once per call: a repeated report of the same call finds the
     * one already made. Anonymous callers leave nothing to call back.
     */
    async forMissedCall(call: { callId: string; caller: string | null; queue: string | null; endedAt: Date; categorySlug: string }): Promise<{ reference: string; created: boolean } | undefined> {
      const parsed = call.caller ? phoneSchema.safeParse(call.caller) : undefined;
      if (!parsed?.success) return undefined;
      const phone = parsed.data;
      const existing = await callbacks.findByCallId(call.callId);
      if (existing) return { reference: (await cases.findById(existing.case_id))!.reference, created: false };
      const category = await topics.activeCategory(call.categorySlug);
      if (!category) throw new Error(`The topic for missed calls (${call.categorySlug}) does not exist or is inactive`);
      const window = soonest(call.endedAt > new Date() ? call.endedAt : new Date());
      const language = 'sv';
      const subject = translate(language, 'callbacks.missed_subject', { phone });
      try {
        const reference = await openCallbackCase({
          reference: await references.next(),
          category,
          subject,
          body: translate(language, 'callbacks.missed_body', { phone, queue: call.queue ?? '–', at: call.endedAt.toISOString() }),
          language,
          token: newResidentToken(),
          resident: { name: translate(language, 'contacts.unnamed'), phone },
          window,
          source: 'telephony',
          callId: call.callId,
        });
        return { reference, created: true };
      } catch (err) {
        // Two reports of the same missed call at once: the unique call_id lets one through.
        const again = await callbacks.findByCallId(call.callId);
        if (again) return { reference: (await cases.findById(again.case_id))!.reference, created: false };
        throw err;
      }
    },

    async forCase(caseId: number) {
      const cb = await callbacks.findByCase(caseId);
      return cb ? { ...cb, attemptsMade: await callbacks.attempts(cb.id) } : undefined;
    },

    listPending: (limit = 50) => callbacks.listPending(limit),

    /**
     * One attempt. Reached: the callback is done, and the case resolved if the
     * call settled it (else it stays with the agent). No answer or busy: back
     * in the queue after the pause, within opening hours, until the last
     * attempt. Wrong number, or the last attempt: the callback has failed and
     * the case is resolved with that outcome.
     */
    async recordAttempt(reference: string, actor: AuthUser, input: unknown): Promise<CaseRow> {
      const v = parseOrThrow(callbackAttemptSchema, input);
      return change(
        (trx) => cases.lockByReference(trx, reference),
        async (tx) => {
          const c = tx.current;
          const cb = await callbacks.findByCase(c.id, tx.trx);
          if (!cb) throw new NotFoundError(`Case ${reference} has no callback`);
          if (cb.status !== 'pending') throw new ConflictError(`The callback is already ${cb.status}`, 'callback_done');
          const now = new Date();
          const attempt = cb.attempts + 1;
          await callbacks.insertAttempt(tx.trx, { callback_id: cb.id, user_id: actor.id, result: v.result, note: v.note ?? '' });
          const done = v.result === 'reached';
          const failed = !done && (v.result === 'wrong_number' || attempt >= cb.max_attempts);
          const next = done || failed ? null : hours.nextOpening(new Date(now.getTime() + config.callbacks.retryMinutes * 60_000));
          await callbacks.update(tx.trx, cb.id, {
            attempts: attempt,
            ...(done ? { status: 'completed', outcome: 'reached', completed_at: now } : {}),
            ...(failed ? { status: 'failed', outcome: v.result, completed_at: now } : {}),
            ...(next ? { next_attempt_at: next } : {}),
          });
          await tx.event({
            type: 'callback.attempted',
            actorType: 'user',
            actorId: actor.id,
            payload: { result: v.result, attempt, of: cb.max_attempts, note: v.note ?? null, nextAttemptAt: next?.toISOString() ?? null },
          });
          if (done || failed) {
            await tx.event({ type: done ? 'callback.completed' : 'callback.failed', actorType: 'user', actorId: actor.id, payload: { attempts: attempt, result: v.result } });
          }
          const to = failed || (done && v.resolve) ? 'resolved' : next ? 'new' : c.status === 'new' ? 'open' : c.status;
          const patch: Partial<CaseRow> = {};
          if (to !== c.status) {
            await tx.event({ type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: c.status, to, reason: next ? 'callback_retry' : failed ? 'callback_failed' : 'callback' } });
            Object.assign(patch, to === 'new' ? { status: 'new' } : statusPatch(c, to, now));
          }
          if (done && !c.first_response_at) patch.first_response_at = now;
          // A retry goes back to the queue for whoever is free then; otherwise the case stays with the caller's agent.
          const assignee = next ? null : actor.id;
          if (assignee !== c.assignee_id) {
            await tx.event({ type: 'assignment.changed', actorType: 'user', actorId: actor.id, payload: { from: c.assignee_id, to: assignee, toName: assignee ? actor.name : null } });
            patch.assignee_id = assignee;
          }
          if (next) patch.queue_at = next;
          await tx.update(patch);
        },
      );
    },
  };
}

export type CallbackService = ReturnType<typeof createCallbackService>;
