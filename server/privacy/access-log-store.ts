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
    /**
     * One statement, so recording a view costs one round trip: the case's id
     * or reference is looked up when only the other is known, and an entry
     * about a case whose resident has protected identity says so
     * (detail.protected), as it was when the access happened.
     */
    async insert(e: AccessLogInsert, trx: Knex | Knex.Transaction = db): Promise<void> {
      const detail = JSON.stringify(e.detail ?? {});
      const caseId = e.caseId ?? null;
      const reference = e.caseReference ?? null;
      const key = caseId !== null ? { column: 'id', value: caseId } : reference !== null ? { column: 'reference', value: reference } : undefined;
      await trx('access_log').insert({
        user_id: e.userId,
        token_id: e.tokenId ?? null,
        action: e.action,
        case_id: caseId ?? (reference === null ? null : trx.raw('(SELECT id FROM cases WHERE reference = ?)', [reference])),
        case_reference: reference ?? (caseId === null ? null : trx.raw('(SELECT reference FROM cases WHERE id = ?)', [caseId])),
        target: e.target ?? null,
        detail: key
          ? trx.raw(
              `?::jsonb || CASE WHEN EXISTS (SELECT 1 FROM cases c JOIN residents r ON r.id = c.resident_id WHERE c.${key.column} = ? AND r.protected_identity) THEN '{"protected": true}'::jsonb ELSE '{}'::jsonb END`,
              [detail, key.value],
            )
          : detail,
      });
    },

    /** Newest first; the next page goes on after `beforeId` (keyset on created_at and id, as the index has them). */
    async search(q: AccessLogQuery): Promise<AccessLogEntry[]> {
      const rows = await db('access_log as l')
        .leftJoin('users as u', 'u.id', 'l.user_id')
        .modify((b) => {
          if (q.fromUtc) b.where('l.created_at', '>=', q.fromUtc);
          if (q.toUtc) b.where('l.created_at', '<', q.toUtc);
          if (q.userId) b.where('l.user_id', q.userId);
          if (q.action) b.where('l.action', q.action);
          if (q.caseReference) b.where('l.case_reference', q.caseReference);
          // created_at has microseconds a JS Date would lose: the cursor is the row's id, its time read here.
          if (q.beforeId) b.whereRaw('(l.created_at, l.id) < (SELECT created_at, id FROM access_log WHERE id = ?)', [q.beforeId]);
        })
        .orderBy([
          { column: 'l.created_at', order: 'desc' },
          { column: 'l.id', order: 'desc' },
        ])
        .limit(q.limit)
        .select('l.*', 'u.name as user_name', 'u.email as user_email');
      return rows.map((r: AccessLogEntry & { detail: unknown }) => ({
        ...r,
        id: Number(r.id),
        case_id: r.case_id === null ? null : Number(r.case_id),
        detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>,
      }));
    },
  };
}

export type AccessLogStore = ReturnType<typeof createAccessLogStore>;
