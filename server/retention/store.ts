import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { CaseEventRow, CaseRow } from '../cases/store.js';
import { KEPT_CALL_EVENT_KEYS, KEPT_EVENT_KEYS, REMOVED_TEXT, type RuleRow } from './rules.js';

/** A finished case that an active rule says may go, with the rule that decided it. */
export interface DueCase {
  id: number;
  reference: string;
  category_slug: string;
  category_name_sv: string;
  category_name_en: string;
  finished_at: Date;
  legal_hold: boolean;
  rule_id: number;
  keep_days: number;
}

export interface RunRow {
  id: number;
  rule_id: number;
  rule_text: string;
  trigger: 'schedule' | 'cli';
  case_count: number;
  started_at: Date;
  finished_at: Date;
}

export interface RemovedCase {
  caseId: number;
  reference: string;
  ruleId: number;
  storageKeys: string[];
  event: CaseEventRow;
}

/**
 * The cases an active rule says may go at `now`: finished (resolved or
 * closed), not yet removed, matched by topic or by department, and finished
 * before now minus the LONGEST keep of the rules that match (see rules.ts).
 * Held cases are included and marked, so a dry run can show them; the
 * removal skips them. `caseId` narrows it to one case (the recheck under the
 * row lock). The first condition lets the planner walk
 * cases_finished_retention_idx up to the shortest keep of any rule.
 */
function dueCasesQuery(conn: Knex, now: Date, caseId?: number) {
  return conn.raw<{ rows: DueCase[] }>(
    `WITH matched AS (
       SELECT c.id, c.reference, c.category_id, c.legal_hold, coalesce(c.closed_at, c.resolved_at) AS finished_at, r.id AS rule_id, r.keep_days,
              row_number() OVER (PARTITION BY c.id ORDER BY r.keep_days DESC, (r.category_id IS NOT NULL) DESC, r.id) AS rank
       FROM cases c
       JOIN retention_rules r ON r.active AND (r.category_id = c.category_id OR r.department_id = c.department_id)
       WHERE c.status IN ('resolved', 'closed') AND c.anonymized_at IS NULL
         AND coalesce(c.closed_at, c.resolved_at) < CAST(? AS timestamptz) - (SELECT min(keep_days) FROM retention_rules WHERE active) * interval '1 day'
         ${caseId === undefined ? '' : 'AND c.id = ?'}
     )
     SELECT m.id, m.reference, m.finished_at, m.legal_hold, m.rule_id, m.keep_days,
            cat.slug AS category_slug, cat.name_sv AS category_name_sv, cat.name_en AS category_name_en
     FROM matched m JOIN categories cat ON cat.id = m.category_id
     WHERE m.rank = 1 AND m.finished_at < CAST(? AS timestamptz) - m.keep_days * interval '1 day'
     ORDER BY m.finished_at, m.id`,
    caseId === undefined ? [now.toISOString(), now.toISOString()] : [now.toISOString(), caseId, now.toISOString()],
  );
}

export function createRetentionStore(db: Knex) {
  const rules = () =>
    db('retention_rules as r')
      .leftJoin('categories as cat', 'cat.id', 'r.category_id')
      .leftJoin('departments as d', 'd.id', 'r.department_id')
      .leftJoin('users as u', 'u.id', 'r.created_by')
      .select(
        'r.*',
        'cat.slug as category_slug',
        'cat.name_sv as category_name_sv',
        'cat.name_en as category_name_en',
        'd.slug as department_slug',
        'd.name as department_name',
        'u.name as created_by_name',
      );

  return {
    async listRules(opts: { activeOnly?: boolean } = {}): Promise<RuleRow[]> {
      const q = rules().orderBy([{ column: 'r.active', order: 'desc' }, { column: 'r.id' }]);
      if (opts.activeOnly) q.where('r.active', true);
      return q;
    },

    async findRule(id: number): Promise<RuleRow | undefined> {
      return rules().where('r.id', id).first();
    },

    async findCategoryId(slug: string): Promise<number | undefined> {
      return (await db('categories').where({ slug }).first('id'))?.id as number | undefined;
    },

    async findDepartmentId(slug: string): Promise<number | undefined> {
      return (await db('departments').where({ slug }).first('id'))?.id as number | undefined;
    },

    /** Throws the unique violation (23505) when the topic or department already has an active rule. */
    async insertRule(r: { category_id: number | null; department_id: number | null; keep_days: number; description: string; created_by: number | null }): Promise<number> {
      const [row] = await db('retention_rules').insert(r).returning('id');
      return (row as { id: number }).id;
    },

    /** True when the rule was active and is not any more. */
    async deactivateRule(id: number): Promise<boolean> {
      return (await db('retention_rules').where({ id, active: true }).update({ active: false })) > 0;
    },

    async dueCases(now: Date): Promise<DueCase[]> {
      return (await dueCasesQuery(db, now)).rows;
    },

    async listRuns(limit: number): Promise<RunRow[]> {
      return db('retention_runs').orderBy([{ column: 'finished_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
    },

    /** One record per active rule of a run, in one statement; the table keeps them as written. */
    async insertRuns(rows: Omit<RunRow, 'id' | 'finished_at'>[]): Promise<void> {
      if (rows.length) await db('retention_runs').insert(rows);
    },

    /**
     * Removes one case's personal data in one transaction, or nothing: the
     * case row is locked first and the rule checked again under the lock, so
     * two runs at once remove each case once, and a case that was held,
     * reopened or already removed meanwhile is left alone (undefined).
     * Stored files are named for removal after the commit.
     */
    async removeCase(caseId: number, now: Date): Promise<RemovedCase | undefined> {
      return db.transaction(async (trx) => {
        const c = await trx<CaseRow>('cases').where({ id: caseId }).forUpdate().first();
        if (!c) return undefined;
        const [due] = (await dueCasesQuery(trx, now, caseId)).rows;
        if (!due || due.legal_hold) return undefined;

        const files = (await trx('attachments').where({ case_id: caseId }).select('storage_key')) as { storage_key: string }[];
        await trx('attachments').where({ case_id: caseId }).delete();
        const inbound = trx('inbound_messages')
          .where({ case_id: caseId })
          .orWhereIn('id', trx('messages').where({ case_id: caseId }).whereNotNull('inbound_message_id').select('inbound_message_id'))
          .select('id');
        const inboundIds = ((await inbound) as { id: number }[]).map((r) => r.id);
        await trx('messages').where({ case_id: caseId }).delete();
        // The search index's copies go in the same transaction (the index loop would catch up later; the law does not wait).
        await trx('search_texts').where({ case_id: caseId }).whereIn('kind', ['message', 'subject']).delete();
        if (inboundIds.length) {
          // Another case's message may name the same raw mail (a reply that opened a linked case): it keeps its text, not the link.
          await trx('messages').whereIn('inbound_message_id', inboundIds).update({ inbound_message_id: null });
          await trx('inbound_messages').whereIn('id', inboundIds).delete();
        }
        await trx('mail_outbox').where({ case_id: caseId }).delete();
        await trx('case_participants').where({ case_id: caseId }).delete();

        const callbacks = trx('callbacks').where({ case_id: caseId });
        await trx('callback_attempts').whereIn('callback_id', callbacks.clone().select('id')).update({ note: '' });
        const callIds = (
          (await trx('calls')
            .whereIn('callback_id', callbacks.clone().select('id'))
            .orWhereIn('call_id', callbacks.clone().whereNotNull('call_id').select('call_id'))
            .select('call_id')) as { call_id: string }[]
        ).map((r) => r.call_id);
        if (callIds.length) {
          await trx('calls').whereIn('call_id', callIds).update({ caller: null });
          await trx.raw(
            `UPDATE call_events SET payload = (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(payload) WHERE key = ANY(CAST(? AS text[])))
             WHERE call_id = ANY(CAST(? AS text[]))`,
            [[...KEPT_CALL_EVENT_KEYS], callIds],
          );
        }
        // NOT NULL: the number becomes empty, which has no phone key and matches no caller.
        await callbacks.clone().update({ phone: '' });

        // Events stay (the timeline's order, live catch-up and the audit trail count on them), with only codes and ids in them.
        await trx.raw(
          `UPDATE case_events SET payload = (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(payload)
                                             WHERE key = ANY(CAST(? AS text[])) AND jsonb_typeof(value) IN ('string', 'number', 'boolean', 'null'))
           WHERE case_id = ?`,
          [[...KEPT_EVENT_KEYS], caseId],
        );
        await trx('cases')
          .where({ id: caseId })
          .update({
            subject: REMOVED_TEXT,
            personnummer: null,
            legal_hold_reason: null,
            anonymized_at: now,
            // The resident's old link would open the emptied case: it opens nothing now.
            resident_token: randomBytes(24).toString('base64url'),
          });

        // Locked before it is read, so two cases of one resident removed at once still see each other's removal.
        await trx('residents').where({ id: c.resident_id }).forUpdate().first('id');
        const live = await trx('cases').where({ resident_id: c.resident_id }).whereNull('anonymized_at').first('id');
        if (!live) {
          await trx('residents')
            .where({ id: c.resident_id })
            .update({ name: REMOVED_TEXT, email: null, phone: null, email_failing_at: null, email_failure: null, updated_at: trx.fn.now() });
          await trx('search_texts').where({ kind: 'name', source_id: c.resident_id }).delete();
        }

        const [event] = (await trx('case_events')
          .insert({ case_id: caseId, type: 'case.anonymized', actor_type: 'system', payload: JSON.stringify({ rule_id: due.rule_id }), internal: true })
          .returning('*')) as CaseEventRow[];
        return { caseId, reference: c.reference, ruleId: due.rule_id, storageKeys: files.map((f) => f.storage_key), event: event! };
      });
    },

    /** Places or lifts the hold under the case's row lock; the event is written in the same transaction. */
    async setLegalHold(
      reference: string,
      f: { hold: boolean; reason: string; actorId: number },
      check: (c: CaseRow & { legal_hold: boolean; anonymized_at: Date | null }) => void,
    ): Promise<{ case: CaseRow; event: CaseEventRow } | undefined> {
      return db.transaction(async (trx) => {
        const c = await trx('cases').where({ reference }).forUpdate().first();
        if (!c) return undefined;
        check(c);
        await trx('cases')
          .where({ id: c.id })
          .update({ legal_hold: f.hold, legal_hold_reason: f.hold ? f.reason : null, updated_at: trx.fn.now() });
        const [event] = (await trx('case_events')
          .insert({
            case_id: c.id,
            type: f.hold ? 'case.legal_hold_set' : 'case.legal_hold_lifted',
            actor_type: 'user',
            actor_id: f.actorId,
            payload: JSON.stringify({ holdReason: f.reason }),
            internal: true,
          })
          .returning('*')) as CaseEventRow[];
        return { case: c as CaseRow, event: event! };
      });
    },

    /** Claims the scheduled run of a local day; false when another instance (or an earlier start) has it. */
    async claimDay(runDate: string, instance: string): Promise<boolean> {
      const rows = await db('retention_schedule').insert({ run_date: runDate, instance }).onConflict('run_date').ignore().returning('run_date');
      return rows.length > 0;
    },

    async finishDay(runDate: string, error?: string): Promise<void> {
      await db('retention_schedule').where({ run_date: runDate }).update({ finished_at: db.fn.now(), error: error?.slice(0, 2000) ?? null });
    },
  };
}

export type RetentionStore = ReturnType<typeof createRetentionStore>;
