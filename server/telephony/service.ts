import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { CallbackService } from '../callbacks/service.js';
import type { CallbackStore } from '../callbacks/store.js';
import type { CaseStore } from '../cases/store.js';
import type { Config } from '../config.js';
import type { LiveHub } from '../live/hub.js';
import { ValidationError } from '../platform/errors.js';
import type { Language } from '../platform/i18n.js';
import type { Logger } from '../platform/logger.js';
import type { ProtectedIdentity } from '../privacy/protected-identity.js';
import type { Views } from '../platform/views.js';
import { callEventSchema, MISSED_OUTCOMES, parseCallEvents, type CallEvent, type CallOutcome } from './schemas.js';
import type { CallEventRow, CallLogRow, CallPatch, CallRow, CallState, CallStore } from './store.js';

/** How many earlier cases and callbacks the caller card shows. */
export const CALLER_HISTORY_LIMIT = 5;
const LOG_PAGE_MAX = 200;

export interface ReceiveResult {
  /** Events stored by this request. */
  accepted: number;
  /** Events whose id was already known: acknowledged, nothing changed. */
  duplicates: number;
  /** Callback cases created for missed calls by this request. */
  callbacks: number;
}

/** What a call's events say, taken together in the order they happened. */
export interface CallProjection {
  state: CallState;
  caller: string | null;
  queue: string | null;
  outcome: CallOutcome | null;
  offeredAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** Who has the call: the last answered event's agent e-mail and extension. */
  agent: string | null;
  extension: string | null;
}

/**
 * Folds a call's events (sorted by time) into its state, so the order they
 * arrived in does not matter: an `ended` that came before its `answered`
 * still ends the call with answered_at set, and an `offered` that came last
 * still gives the caller, the queue and the start. A call whose offered
 * event never came is dated by its first event.
 */
export function projectCall(rows: Pick<CallEventRow, 'type' | 'occurred_at' | 'payload'>[]): CallProjection | undefined {
  const events = rows.flatMap((r) => {
    const parsed = callEventSchema.safeParse(r.payload);
    return parsed.success ? [{ ...parsed.data, when: new Date(r.occurred_at) }] : [];
  });
  if (!events.length) return undefined;
  const ofType = (t: CallEvent['type']) => events.filter((e) => e.type === t);
  const offered = ofType('call.offered');
  const answered = ofType('call.answered');
  const ended = ofType('call.ended');
  // The offered event is the authority on who called and where; later events may repeat it.
  const pick = (key: 'caller' | 'queue'): string | null => {
    const from = [...offered, ...answered, ...ended].find((e) => e[key] !== undefined);
    const v = from?.[key];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  };
  const end = ended[0];
  const last = answered.at(-1);
  return {
    state: end ? 'ended' : answered.length ? 'answered' : 'offered',
    caller: pick('caller'),
    queue: pick('queue'),
    outcome: end?.outcome ?? null,
    offeredAt: (offered[0] ?? events[0]!).when,
    answeredAt: answered[0]?.when ?? null,
    endedAt: end?.when ?? null,
    agent: last?.agent ?? null,
    extension: last?.extension ?? null,
  };
}

/** A call nobody answered, from a number we can call back, that has no callback yet. */
export function needsCallback(c: CallRow): boolean {
  return c.state === 'ended' && c.outcome !== null && MISSED_OUTCOMES.includes(c.outcome) && c.answered_at === null && Boolean(c.caller) && c.callback_id === null;
}

const secondsBetween = (from: Date | null, to: Date | null) =>
  from && to ? Math.max(0, Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000)) : null;

/** Wait: until answered, or until the caller gave up. Talk: from answered to ended. */
export function callDurations(c: Pick<CallRow, 'offered_at' | 'answered_at' | 'ended_at'>): { waitSeconds: number | null; talkSeconds: number | null } {
  return {
    waitSeconds: secondsBetween(c.offered_at, c.answered_at ?? c.ended_at),
    talkSeconds: secondsBetween(c.answered_at, c.ended_at),
  };
}

export function encodeLogCursor(c: { offered_at: Date | null; id: number }): string {
  return Buffer.from(`${new Date(c.offered_at ?? 0).toISOString()}|${c.id}`).toString('base64url');
}

export function decodeLogCursor(cursor: string): { offeredAt: Date; id: number } {
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offeredAt = m ? new Date(m[1]!) : undefined;
  if (!m || !offeredAt || Number.isNaN(offeredAt.getTime())) {
    throw new ValidationError([{ field: 'cursor', code: 'errors.cursor_invalid', message: 'The cursor is not one this API gave out' }]);
  }
  return { offeredAt, id: Number(m[2]) };
}

interface AnsweredCall {
  callId: string;
  caller: string | null;
  queue: string | null;
  agentId: number;
  answeredAt: Date;
}

/**
 * Calls reported by the telephony platform: every event is stored once, the
 * call is projected from all its events, the answering agent sees who is
 * calling, and a call nobody answered leaves a callback.
 */
export function createTelephonyService(deps: {
  config: Pick<Config, 'intake'>;
  db: Knex;
  logger: Logger;
  views: Views;
  calls: CallStore;
  cases: Pick<CaseStore, 'byPhone'>;
  callbackStore: Pick<CallbackStore, 'byPhone' | 'findByCallId'>;
  callbacks: Pick<CallbackService, 'forMissedCall'>;
  live: Pick<LiveHub, 'pushToUser' | 'boardChanged'>;
  protectedIdentity: Pick<ProtectedIdentity, 'callerAccess'>;
}) {
  const { config, db, logger, views, calls, cases, callbackStore, callbacks, live, protectedIdentity } = deps;

  async function resolveAgent(trx: Knex.Transaction, p: CallProjection): Promise<number | null> {
    if (p.agent) {
      const id = await calls.userIdByEmail(trx, p.agent);
      if (id) return id;
    }
    if (p.extension) return (await calls.userIdByExtension(trx, p.extension)) ?? null;
    return null;
  }

  /** Makes the callback for each missed call that has none yet; answers how many were made. */
  async function settleMissedCalls(callIds: string[]): Promise<number> {
    let created = 0;
    for (const call of await calls.findByCallIds(callIds)) {
      if (!needsCallback(call)) continue;
      const made = await callbacks.forMissedCall({
        callId: call.call_id,
        caller: call.caller,
        queue: call.queue,
        endedAt: new Date(call.ended_at!),
        categorySlug: config.intake.category,
      });
      if (!made) continue;
      const cb = await callbackStore.findByCallId(call.call_id);
      if (cb) await calls.setCallback(call.call_id, cb.id);
      if (made.created) created += 1;
    }
    return created;
  }

  /** Renders the caller card for the answering agent in each language of their pages, and sends it. */
  async function showCaller(a: AnsweredCall): Promise<void> {
    const [earlierCases, earlierCallbacks] = a.caller
      ? await Promise.all([cases.byPhone(a.caller, CALLER_HISTORY_LIMIT), callbackStore.byPhone(a.caller, CALLER_HISTORY_LIMIT)])
      : [[], []];
    // A call id is the platform's text: the card's element id is derived from it, never made of it.
    const cardId = `call-${createHash('sha256').update(a.callId).digest('hex').slice(0, 16)}`;
    // Protected identity: the number is not shown to an agent without the permission (and a showing to one with it is logged).
    const access = await protectedIdentity.callerAccess(a.agentId, a.caller, earlierCases);
    const caller = access.shown ? a.caller : null;
    live.pushToUser(a.agentId, 'caller', (lang: Language) => ({
      callId: a.callId,
      caller: caller ?? '',
      html: views.partial('caller-card', {
        lang,
        cardId,
        callId: a.callId,
        caller,
        protectedCaller: access.protected && !access.shown,
        queue: a.queue,
        answeredAt: a.answeredAt,
        cases: earlierCases,
        callbacks: earlierCallbacks,
        empty: earlierCases.length === 0 && earlierCallbacks.length === 0,
      }),
    }));
  }

  return {
    /**
     * One signed request: one event or a batch, validated as a whole (400
     * before anything is written), stored and projected in one transaction.
     * Calls are locked in call id order, so concurrent requests about the
     * same calls wait for each other instead of losing an update.
     */
    async receive(body: unknown): Promise<ReceiveResult> {
      const items = parseCallEvents(body);
      // Inserting in id order keeps two requests that share events from deadlocking on them.
      const ordered = [...items].sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
      const answered: AnsweredCall[] = [];
      const result = await db.transaction(async (trx) => {
        let accepted = 0;
        const changed = new Set<string>();
        for (const { event, raw } of ordered) {
          const isNew = await calls.insertEvent(trx, { event_id: event.id, call_id: event.callId, type: event.type, occurred_at: new Date(event.at), payload: raw });
          if (!isNew) continue;
          accepted += 1;
          changed.add(event.callId);
        }
        for (const callId of [...changed].sort()) {
          const before = await calls.lockCall(trx, callId);
          const p = projectCall(await calls.eventsOf(trx, callId));
          if (!p) continue;
          const agentId = p.answeredAt ? await resolveAgent(trx, p) : null;
          const patch: CallPatch = {
            state: p.state,
            caller: p.caller,
            queue: p.queue,
            outcome: p.outcome,
            offered_at: p.offeredAt,
            answered_at: p.answeredAt,
            ended_at: p.endedAt,
            agent_id: agentId,
            extension: p.extension,
          };
          await calls.updateCall(trx, before.id, patch);
          // A call that is over by the time we hear it was answered needs no card.
          if (agentId !== null && agentId !== before.agent_id && p.state === 'answered') {
            answered.push({ callId, caller: p.caller, queue: p.queue, agentId, answeredAt: p.answeredAt! });
          }
        }
        return { accepted, duplicates: items.length - accepted };
      });
      for (const a of answered) {
        await showCaller(a).catch((err: unknown) => logger.error({ err, callId: a.callId }, 'could not show the caller to the agent'));
      }
      // The live board counts today's calls.
      if (result.accepted) live.boardChanged();
      // Also for calls of duplicate events: a callback that failed to be made before is made now.
      const made = await settleMissedCalls([...new Set(items.map((i) => i.event.callId))]);
      return { ...result, callbacks: made };
    },

    /** The call log, newest first. */
    async log(q: { cursor?: unknown; limit?: unknown }): Promise<{ items: (CallLogRow & { waitSeconds: number | null; talkSeconds: number | null })[]; next: string | null }> {
      const limit = q.limit === undefined || q.limit === '' ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > LOG_PAGE_MAX) {
        throw new ValidationError([{ field: 'limit', code: 'errors.invalid', message: `limit must be a whole number from 1 to ${LOG_PAGE_MAX}` }]);
      }
      if (q.cursor !== undefined && (typeof q.cursor !== 'string' || q.cursor.length > 200)) {
        throw new ValidationError([{ field: 'cursor', code: 'errors.cursor_invalid', message: 'The cursor is not one this API gave out' }]);
      }
      const before = typeof q.cursor === 'string' && q.cursor !== '' ? decodeLogCursor(q.cursor) : undefined;
      const rows = await calls.listLog({ limit: limit + 1, ...(before ? { before } : {}) });
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({ ...r, ...callDurations(r) })),
        next: rows.length > limit ? encodeLogCursor(page.at(-1)!) : null,
      };
    },
  };
}

export type TelephonyService = ReturnType<typeof createTelephonyService>;
