import type { Knex } from 'knex';

export const CALLBACK_RESULTS = ['reached', 'no_answer', 'busy', 'wrong_number'] as const;
export type CallbackResult = (typeof CALLBACK_RESULTS)[number];
export type CallbackStatus = 'pending' | 'completed' | 'failed' | 'cancelled';
export type CallbackSource = 'web' | 'agent' | 'telephony';

export interface CallbackRow {
  id: number;
  case_id: number;
  phone: string;
  window_start: Date;
  window_end: Date;
  status: CallbackStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date;
  source: CallbackSource;
  call_id: string | null;
  outcome: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export interface CallbackAttemptRow {
  id: number;
  callback_id: number;
  user_id: number;
  user_name: string;
  result: CallbackResult;
  note: string;
  attempted_at: Date;
}

/** A callback as the dashboard lists it. */
export interface OpenCallbackRow extends CallbackRow {
  reference: string;
  resident_name: string;
  /** Protected identity: the number is for those allowed to see it. */
  resident_protected: boolean;
  category_name_sv: string;
  category_name_en: string;
  assignee_id: number | null;
  assignee_name: string | null;
}

export function createCallbackStore(db: Knex) {
  return {
    async insert(
      trx: Knex.Transaction,
      row: Pick<CallbackRow, 'case_id' | 'phone' | 'window_start' | 'window_end' | 'max_attempts' | 'next_attempt_at' | 'source' | 'call_id'>,
    ): Promise<CallbackRow> {
      const [inserted] = await trx('callbacks').insert(row).returning('*');
      return inserted as CallbackRow;
    },

    async findByCase(caseId: number, conn: Knex = db): Promise<CallbackRow | undefined> {
      return conn<CallbackRow>('callbacks').where({ case_id: caseId }).first();
    },

    async findByCallId(callId: string, conn: Knex = db): Promise<CallbackRow | undefined> {
      return conn<CallbackRow>('callbacks').where({ call_id: callId }).first();
    },

    async update(trx: Knex.Transaction, id: number, patch: Partial<CallbackRow>): Promise<CallbackRow> {
      const [row] = await trx('callbacks').where({ id }).update(patch).returning('*');
      return row as CallbackRow;
    },

    async insertAttempt(trx: Knex.Transaction, a: { callback_id: number; user_id: number; result: CallbackResult; note: string }): Promise<void> {
      await trx('callback_attempts').insert(a);
    },

    async attempts(callbackId: number): Promise<CallbackAttemptRow[]> {
      return db('callback_attempts as a')
        .join('users as u', 'u.id', 'a.user_id')
        .where('a.callback_id', callbackId)
        .orderBy('a.id')
        .select('a.*', 'u.name as user_name');
    },

    /** Pending callbacks, the first due first (the partial index callbacks_due_idx). */
    async listPending(limit: number): Promise<OpenCallbackRow[]> {
      return db('callbacks as cb')
        .join('cases as c', 'c.id', 'cb.case_id')
        .join('residents as r', 'r.id', 'c.resident_id')
        .join('categories as cat', 'cat.id', 'c.category_id')
        .leftJoin('users as u', 'u.id', 'c.assignee_id')
        .where('cb.status', 'pending')
        .orderBy([{ column: 'cb.next_attempt_at' }, { column: 'cb.id' }])
        .limit(limit)
        .select('cb.*', 'c.reference', 'r.name as resident_name', 'r.protected_identity as resident_protected', 'cat.name_sv as category_name_sv', 'cat.name_en as category_name_en', 'c.assignee_id', 'u.name as assignee_name');
    },

    /** A caller's callbacks, newest first, matched by number however it was written. */
    async byPhone(phone: string, limit: number): Promise<(CallbackRow & { reference: string })[]> {
      return db('callbacks as cb')
        .join('cases as c', 'c.id', 'cb.case_id')
        .whereRaw('cb.phone_key = sc_phone_key(?)', [phone])
        .orderBy('cb.id', 'desc')
        .limit(limit)
        .select('cb.*', 'c.reference');
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
