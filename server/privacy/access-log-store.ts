import type { Knex } from 'knex';

export interface AccessLogEntry {
  id: number;
  user_id: number | null;
  user_name: string | null;
  user_email: string | null;
  token_id: number | null;
  action: string;
  case_id: number | null;
  case_reference: string | null;
  target: string | null;
  detail: Record<string, unknown>;
  created_at: Date;
}

export interface AccessLogInsert {
  userId: number | null;
  tokenId?: number | null;
  action: string;
  caseId?: number | null;
  caseReference?: string | null;
  target?: string | null;
  detail?: Record<string, unknown>;
}

export interface AccessLogQuery {
  fromUtc?: Date;
  toUtc?: Date;
  userId?: number;
  action?: string;
  caseReference?: string;
  /** Entries older than this id (keyset paging, newest first). */
  beforeId?: number;
  limit: number;
}

/** The access log: written for every view and export, read only by managers and admins. */
export function createAccessLogStore(db: Knex) {
  return {
    async insert(e: AccessLogInsert, trx: Knex | Knex.Transaction = db): Promise<void> {
      await trx('access_log').insert({
        user_id: e.userId,
        token_id: e.tokenId ?? null,
        action: e.action,
        case_id: e.caseId ?? null,
        case_reference: e.caseReference ?? null,
        target: e.target ?? null,
        detail: JSON.stringify(e.detail ?? {}),
      });
    },

    async search(q: AccessLogQuery): Promise<AccessLogEntry[]> {
      const rows = await db('access_log as l')
        .leftJoin('users as u', 'u.id', 'l.user_id')
        .modify((b) => {
          if (q.fromUtc) b.where('l.created_at', '>=', q.fromUtc);
          if (q.toUtc) b.where('l.created_at', '<', q.toUtc);
          if (q.userId) b.where('l.user_id', q.userId);
          if (q.action) b.where('l.action', q.action);
          if (q.caseReference) b.where('l.case_reference', q.caseReference);
          if (q.beforeId) b.where('l.id', '<', q.beforeId);
        })
        .orderBy('l.id', 'desc')
        .limit(q.limit)
        .select('l.*', 'u.name as user_name', 'u.email as user_email');
      return rows.map((r: AccessLogEntry & { detail: unknown }) => ({ ...r, id: Number(r.id), case_id: r.case_id === null ? null : Number(r.case_id), detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown> }));
    },

    /** The actions that occur in the log, for the search form's choice. */
    async actions(): Promise<string[]> {
      const rows = await db('access_log').distinct('action').orderBy('action');
      return rows.map((r: { action: string }) => r.action);
    },
  };
}

export type AccessLogStore = ReturnType<typeof createAccessLogStore>;
