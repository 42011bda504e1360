import type { Knex } from 'knex';
import type { CallEventType, CallOutcome } from './schemas.js';

export type CallState = 'offered' | 'answered' | 'ended';

export interface CallRow {
  id: number;
  call_id: string;
  caller: string | null;
  caller_key: string | null;
  queue: string | null;
  state: CallState;
  outcome: CallOutcome | null;
  offered_at: Date | null;
  answered_at: Date | null;
  ended_at: Date | null;
  agent_id: number | null;
  extension: string | null;
  callback_id: number | null;
  updated_at: Date;
}

export interface CallEventRow {
  id: number;
  event_id: string;
  call_id: string;
  type: CallEventType;
  occurred_at: Date;
  payload: Record<string, unknown>;
  received_at: Date;
}

/** A call as the call log lists it. */
export interface CallLogRow extends CallRow {
  agent_name: string | null;
  callback_reference: string | null;
  /** The number is a protected resident's (skyddad identitet): the log never shows it. */
  caller_protected: boolean;
}

export type CallPatch = Partial<Pick<CallRow, 'caller' | 'queue' | 'state' | 'outcome' | 'offered_at' | 'answered_at' | 'ended_at' | 'agent_id' | 'extension'>>;

export function createCallStore(db: Knex) {
  return {
    /** Stores an event unless its id is known: answers whether it was new. */
    async insertEvent(trx: Knex.Transaction, e: { event_id: string; call_id: string; type: CallEventType; occurred_at: Date; payload: unknown }): Promise<boolean> {
      const rows = await trx('call_events')
        .insert({ ...e, payload: JSON.stringify(e.payload) })
        .onConflict('event_id')
        .ignore()
        .returning('id');
      return rows.length > 0;
    },

    /**
     * The call's row, created if new, locked until the transaction ends: two
     * requests about one call project it one after the other, the second
     * seeing the first one's events.
     */
    async lockCall(trx: Knex.Transaction, callId: string): Promise<CallRow> {
      const { rows } = await trx.raw<{ rows: CallRow[] }>(
        `INSERT INTO calls (call_id, state) VALUES (?, 'offered')
         ON CONFLICT (call_id) DO UPDATE SET call_id = EXCLUDED.call_id
         RETURNING *`,
        [callId],
      );
      return rows[0]!;
    },

    /** A call's events in the order they happened (offered before answered before ended at the same instant). */
    async eventsOf(trx: Knex.Transaction, callId: string): Promise<CallEventRow[]> {
      return trx<CallEventRow>('call_events')
        .where({ call_id: callId })
        .orderBy('occurred_at')
        .orderByRaw(`CASE type WHEN 'call.offered' THEN 0 WHEN 'call.answered' THEN 1 ELSE 2 END`)
        .orderBy('id');
    },

    async updateCall(trx: Knex.Transaction, id: number, patch: CallPatch): Promise<CallRow> {
      const [row] = await trx('calls').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
      return row as CallRow;
    },

    async setCallback(callId: string, callbackId: number): Promise<void> {
      await db('calls').where({ call_id: callId }).whereNull('callback_id').update({ callback_id: callbackId, updated_at: db.fn.now() });
    },

    async findByCallIds(callIds: string[]): Promise<CallRow[]> {
      if (!callIds.length) return [];
      return db<CallRow>('calls').whereIn('call_id', callIds);
    },

    /** The user an answered event names, by e-mail (any case) or by phone extension. */
    async userIdByEmail(trx: Knex.Transaction, email: string): Promise<number | undefined> {
      const row = await trx('users').whereRaw('lower(email) = lower(?)', [email]).first('id');
      return (row as { id: number } | undefined)?.id;
    },

    async userIdByExtension(trx: Knex.Transaction, extension: string): Promise<number | undefined> {
      const row = await trx('users').where({ phone_extension: extension }).first('id');
      return (row as { id: number } | undefined)?.id;
    },

    /** Active agents, editors and managers, who answer calls, with their extension if they have one (for the simulator). */
    async answeringAgents(): Promise<{ email: string; extension: string | null }[]> {
      return db('users').where({ active: true }).whereIn('role', ['agent', 'editor', 'manager']).orderBy('id').select('email', 'phone_extension as extension');
    },

    /**
     * The call log, newest first, one page after the keyset cursor
     * (offered_at, id) (the index calls_offered_idx). Asks one row more than
     * the page to know whether there is a next one.
     */
    async listLog(opts: { limit: number; before?: { offeredAt: Date; id: number } }): Promise<CallLogRow[]> {
      const q = db('calls as c')
        .leftJoin('users as u', 'u.id', 'c.agent_id')
        .leftJoin('callbacks as cb', 'cb.id', 'c.callback_id')
        .leftJoin('cases as k', 'k.id', 'cb.case_id')
        .whereNotNull('c.offered_at')
        .orderBy([
          { column: 'c.offered_at', order: 'desc' },
          { column: 'c.id', order: 'desc' },
        ])
        .limit(opts.limit)
        .select('c.*', 'u.name as agent_name', 'k.reference as callback_reference', db.raw('EXISTS (SELECT 1 FROM residents r WHERE r.protected_identity AND r.phone_key = c.caller_key) AS caller_protected'));
      if (opts.before) q.whereRaw('(c.offered_at, c.id) < (?, ?)', [opts.before.offeredAt, opts.before.id]);
      return q;
    },
  };
}

export type CallStore = ReturnType<typeof createCallStore>;
