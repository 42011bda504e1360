import type { Knex } from 'knex';
import type { CaseStatus, Channel } from './lifecycle.js';

export interface CaseRow {
  id: number;
  reference: string;
  status: CaseStatus;
  channel: Channel;
  category_id: number;
  department_id: number | null;
  assignee_id: number | null;
  resident_id: number;
  subject: string;
  language: string;
  resident_token: string;
  created_at: Date;
  updated_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  resolved_at_first_contact: boolean | null;
  agent_reply_count: number;
  resident_message_count: number;
  forward_count: number;
  reopen_count: number;
}

export interface CaseEventRow {
  id: number;
  case_id: number;
  type: string;
  actor_type: 'resident' | 'user' | 'system';
  actor_id: number | null;
  payload: Record<string, unknown>;
  internal: boolean;
  created_at: Date;
}

export interface NewCaseEvent {
  type: string;
  actorType: 'resident' | 'user' | 'system';
  actorId?: number | null;
  payload?: Record<string, unknown>;
  internal?: boolean;
}

export interface QueueFilter {
  statuses: readonly CaseStatus[];
  channel?: Channel;
  categorySlug?: string;
  assigneeId?: number;
  after?: { createdAt: Date; id: number };
  limit: number;
}

export interface QueueRow {
  id: number;
  reference: string;
  status: CaseStatus;
  channel: Channel;
  category: string;
  category_name_sv: string;
  category_name_en: string;
  subject: string;
  created_at: Date;
  updated_at: Date;
  assignee_id: number | null;
  assignee_name: string | null;
  department_name: string | null;
  resident_name: string;
}

export interface TimelineRow extends CaseEventRow {
  actor_name: string | null;
  message_id: number | null;
  message_kind: 'resident' | 'reply' | 'note' | null;
  message_body: string | null;
}

export function createCaseStore(db: Knex) {
  return {
    async nextCaseNumber(trx: Knex.Transaction): Promise<number> {
      const { rows } = await trx.raw<{ rows: { n: number }[] }>(`select nextval('case_number_seq') as n`);
      return Number(rows[0]!.n);
    },

    async insertCase(trx: Knex.Transaction, row: Omit<CaseRow, 'id' | 'updated_at' | 'first_response_at' | 'resolved_at' | 'closed_at' | 'resolved_at_first_contact' | 'agent_reply_count' | 'resident_message_count' | 'forward_count' | 'reopen_count' | 'department_id' | 'assignee_id'> & Partial<Pick<CaseRow, 'department_id' | 'resident_message_count'>>): Promise<CaseRow> {
      const [inserted] = await trx('cases').insert(row).returning('*');
      return inserted as CaseRow;
    },

    async insertEvent(trx: Knex.Transaction, caseId: number, e: NewCaseEvent): Promise<CaseEventRow> {
      const [row] = await trx('case_events')
        .insert({
          case_id: caseId,
          type: e.type,
          actor_type: e.actorType,
          actor_id: e.actorId ?? null,
          payload: JSON.stringify(e.payload ?? {}),
          internal: e.internal ?? false,
        })
        .returning('*');
      return row as CaseEventRow;
    },

    async insertMessage(trx: Knex.Transaction, m: { caseId: number; eventId: number; kind: 'resident' | 'reply' | 'note'; authorId?: number | null; channel: string; body: string }): Promise<number> {
      const [row] = await trx('messages')
        .insert({ case_id: m.caseId, event_id: m.eventId, kind: m.kind, author_id: m.authorId ?? null, channel: m.channel, body: m.body })
        .returning('id');
      return (row as { id: number }).id;
    },

    async updateCase(trx: Knex.Transaction, id: number, patch: Partial<CaseRow> & Record<string, unknown>): Promise<CaseRow> {
      const [row] = await trx('cases').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
      return row as CaseRow;
    },

    /** Locks the case row for the rest of the transaction, so changes to one case happen one at a time. */
    async lockByReference(trx: Knex.Transaction, reference: string): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases').where({ reference }).forUpdate().first();
    },

    async lockByToken(trx: Knex.Transaction, token: string): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases').where({ resident_token: token }).forUpdate().first();
    },

    async findByReference(reference: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('cases').where({ reference }).first();
    },

    async findByToken(token: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('cases').where({ resident_token: token }).first();
    },

    async listQueue(f: QueueFilter): Promise<QueueRow[]> {
      const q = db('cases as c')
        .join('categories as cat', 'cat.id', 'c.category_id')
        .join('residents as r', 'r.id', 'c.resident_id')
        .leftJoin('users as u', 'u.id', 'c.assignee_id')
        .leftJoin('departments as d', 'd.id', 'c.department_id')
        .select(
          'c.id',
          'c.reference',
          'c.status',
          'c.channel',
          'cat.slug as category',
          'cat.name_sv as category_name_sv',
          'cat.name_en as category_name_en',
          'c.subject',
          'c.created_at',
          'c.updated_at',
          'c.assignee_id',
          'u.name as assignee_name',
          'd.name as department_name',
          'r.name as resident_name',
        )
        .whereIn('c.status', f.statuses as CaseStatus[])
        .orderBy([{ column: 'c.created_at' }, { column: 'c.id' }])
        .limit(f.limit);
      if (f.channel) q.andWhere('c.channel', f.channel);
      if (f.categorySlug) q.andWhere('cat.slug', f.categorySlug);
      if (f.assigneeId !== undefined) q.andWhere('c.assignee_id', f.assigneeId);
      if (f.after) q.andWhereRaw('(c.created_at, c.id) > (?, ?)', [f.after.createdAt, f.after.id]);
      return q;
    },

    async timeline(caseId: number, opts: { includeInternal: boolean }): Promise<TimelineRow[]> {
      const q = db('case_events as e')
        .leftJoin('users as u', 'u.id', 'e.actor_id')
        .leftJoin('messages as m', 'm.event_id', 'e.id')
        .select('e.*', 'u.name as actor_name', 'm.id as message_id', 'm.kind as message_kind', 'm.body as message_body')
        .where('e.case_id', caseId)
        .orderBy('e.id');
      if (!opts.includeInternal) q.andWhere('e.internal', false);
      return q;
    },

    async caseSummary(caseId: number) {
      return db('cases as c')
        .join('categories as cat', 'cat.id', 'c.category_id')
        .join('residents as r', 'r.id', 'c.resident_id')
        .leftJoin('users as u', 'u.id', 'c.assignee_id')
        .leftJoin('departments as d', 'd.id', 'c.department_id')
        .where('c.id', caseId)
        .first(
          'c.*',
          'cat.slug as category',
          'cat.name_sv as category_name_sv',
          'cat.name_en as category_name_en',
          'r.name as resident_name',
          'r.email as resident_email',
          'r.phone as resident_phone',
          'u.name as assignee_name',
          'd.name as department_name',
          'd.slug as department_slug',
        );
    },
  };
}

export type CaseStore = ReturnType<typeof createCaseStore>;
