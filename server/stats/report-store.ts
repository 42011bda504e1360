import type { Knex } from 'knex';
import type { StatsFilter } from './filter.js';
import { deflectionCounts } from '../faq/stats-store.js';

/**
 * The SQL of the history report. Every query reads one period through an
 * index on the time column it is about (cases by arrival or by resolve, calls
 * by offer, callbacks by request), so a report costs what its period holds,
 * not what the whole history holds. Counts come back as numbers; times in
 * working seconds (the per-case metric columns), percentiles computed by
 * PostgreSQL (percentile_cont: the median of 2 values is their mean).
 */

type Sql = { sql: string; bindings: unknown[] };

/** The filter's conditions on cases aliased `c`, as SQL with bindings. */
function caseConditions(f: StatsFilter): Sql {
  const parts: string[] = [];
  const bindings: unknown[] = [];
  if (f.channel) (parts.push('c.channel = ?'), bindings.push(f.channel));
  if (f.categoryId !== undefined) (parts.push('c.category_id = ?'), bindings.push(f.categoryId));
  if (f.departmentId !== undefined) (parts.push('c.department_id = ?'), bindings.push(f.departmentId));
  if (f.agentId !== undefined) (parts.push('c.assignee_id = ?'), bindings.push(f.agentId));
  return { sql: parts.map((p) => ` AND ${p}`).join(''), bindings };
}

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export interface ArrivalDayRow {
  day: string;
  channel: string;
  count: number;
}

export interface ArrivalSummary {
  arrivals: number;
  answered: number;
  firstResponseMedianS: number | null;
  firstResponseP90S: number | null;
  /** E-mail and web arrivals, and those answered within 1 and 2 working days, and those decided (in time or late). */
  writtenTotal: number;
  writtenWithin1: number;
  writtenWithin2: number;
  writtenDecided1: number;
  writtenDecided2: number;
  phoneTotal: number;
  phoneDirect: number;
  resolvedDirect: number;
}

export interface ResolutionSummary {
  resolved: number;
  medianS: number | null;
  p90S: number | null;
}

export interface CallSummary {
  offered: number;
  answered: number;
  abandoned: number;
  within60: number;
  withinTarget: number;
  avgAnswerS: number | null;
}

export interface CallbackSummary {
  requested: number;
  completed: number;
  completedInTime: number;
  failed: number;
  cancelled: number;
  pending: number;
}

export interface AgentRow {
  agent_id: number;
  name: string;
  cases: number;
  answered: number;
  first_response_median_s: number | null;
  resolved_direct: number;
  resolved: number;
  resolution_median_s: number | null;
  calls_answered: number;
}

export interface DepartmentRow {
  department_id: number;
  name: string;
  cases: number;
  resolved: number;
  resolution_median_s: number | null;
}

export function createReportStore(db: Knex) {
  const raw = async <T>(sql: string, bindings: unknown[]): Promise<T[]> => (await db.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[])).rows;

  return {
    /** Arrivals per local day and channel. */
    async arrivalsByDay(f: StatsFilter): Promise<ArrivalDayRow[]> {
      const w = caseConditions(f);
      const rows = await raw<{ day: string; channel: string; count: string }>(
        `SELECT to_char(c.created_at AT TIME ZONE ?, 'YYYY-MM-DD') AS day, c.channel, count(*) AS count
           FROM cases c
          WHERE c.created_at >= ? AND c.created_at < ?${w.sql}
          GROUP BY 1, 2`,
        [f.range.timeZone, f.range.from, f.range.to, ...w.bindings],
      );
      return rows.map((r) => ({ day: r.day, channel: r.channel, count: num(r.count) }));
    },

    /** Arrivals per local ISO weekday (1 = Monday) and hour. */
    async arrivalsByHourOfWeek(f: StatsFilter): Promise<{ dow: number; hour: number; count: number }[]> {
      const w = caseConditions(f);
      const rows = await raw<{ dow: string; hour: string; count: string }>(
        `SELECT extract(isodow FROM t) AS dow, extract(hour FROM t) AS hour, count(*) AS count
           FROM (SELECT c.created_at AT TIME ZONE ? AS t
                   FROM cases c
                  WHERE c.created_at >= ? AND c.created_at < ?${w.sql}) a
          GROUP BY 1, 2`,
        [f.range.timeZone, f.range.from, f.range.to, ...w.bindings],
      );
      return rows.map((r) => ({ dow: num(r.dow), hour: num(r.hour), count: num(r.count) }));
    },

    /**
     * Over the cases that arrived in the period: first response in working
     * seconds, KKiK's written questions answered within 1 and 2 working days
     * (decided: answered in time, or the deadline passed by `decided1` /
     * `decided2`, the latest arrivals whose deadlines have passed), and
     * phone contacts resolved at the first contact.
     */
    async arrivalSummary(f: StatsFilter, decided1: Date, decided2: Date): Promise<ArrivalSummary> {
      const w = caseConditions(f);
      const [r] = await raw<Record<string, string | null>>(
        `SELECT count(*) AS arrivals,
                count(c.first_response_working_s) AS answered,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_response_working_s) AS fr_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY c.first_response_working_s) AS fr_p90,
                count(*) FILTER (WHERE c.channel IN ('email', 'web')) AS written_total,
                count(*) FILTER (WHERE c.channel IN ('email', 'web') AND c.first_response_working_days <= 1) AS written_1,
                count(*) FILTER (WHERE c.channel IN ('email', 'web') AND c.first_response_working_days <= 2) AS written_2,
                count(*) FILTER (WHERE c.channel IN ('email', 'web') AND (c.first_response_working_days <= 1 OR c.created_at <= ?)) AS decided_1,
                count(*) FILTER (WHERE c.channel IN ('email', 'web') AND (c.first_response_working_days <= 2 OR c.created_at <= ?)) AS decided_2,
                count(*) FILTER (WHERE c.channel = 'phone') AS phone_total,
                count(*) FILTER (WHERE c.channel = 'phone' AND c.resolved_at_first_contact) AS phone_direct,
                count(*) FILTER (WHERE c.resolved_at_first_contact) AS resolved_direct
           FROM cases c
          WHERE c.created_at >= ? AND c.created_at < ?${w.sql}`,
        [decided1, decided2, f.range.from, f.range.to, ...w.bindings],
      );
      return {
        arrivals: num(r!.arrivals),
        answered: num(r!.answered),
        firstResponseMedianS: numOrNull(r!.fr_median),
        firstResponseP90S: numOrNull(r!.fr_p90),
        writtenTotal: num(r!.written_total),
        writtenWithin1: num(r!.written_1),
        writtenWithin2: num(r!.written_2),
        writtenDecided1: num(r!.decided_1),
        writtenDecided2: num(r!.decided_2),
        phoneTotal: num(r!.phone_total),
        phoneDirect: num(r!.phone_direct),
        resolvedDirect: num(r!.resolved_direct),
      };
    },

    /** Cases resolved in the period (their last resolve), resolution time in working seconds. */
    async resolutionSummary(f: StatsFilter): Promise<ResolutionSummary> {
      const w = caseConditions(f);
      const [r] = await raw<Record<string, string | null>>(
        `SELECT count(*) AS resolved,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolution_working_s) AS median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY c.resolution_working_s) AS p90
           FROM cases c
          WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= ? AND c.resolved_at < ?${w.sql}`,
        [f.range.from, f.range.to, ...w.bindings],
      );
      return { resolved: num(r!.resolved), medianS: numOrNull(r!.median), p90S: numOrNull(r!.p90) };
    },

    /** Resolves per local day from `since` on (the backlog walks back from the open cases now). */
    async resolvesByDaySince(f: StatsFilter, since: Date): Promise<{ day: string; count: number }[]> {
      const w = caseConditions(f);
      const rows = await raw<{ day: string; count: string }>(
        `SELECT to_char(c.resolved_at AT TIME ZONE ?, 'YYYY-MM-DD') AS day, count(*) AS count
           FROM cases c
          WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= ?${w.sql}
          GROUP BY 1`,
        [f.range.timeZone, since, ...w.bindings],
      );
      return rows.map((r) => ({ day: r.day, count: num(r.count) }));
    },

    /** Arrivals per local day from `since` on (to now), all channels the filter allows. */
    async arrivalsByDaySince(f: StatsFilter, since: Date): Promise<{ day: string; count: number }[]> {
      const w = caseConditions(f);
      const rows = await raw<{ day: string; count: string }>(
        `SELECT to_char(c.created_at AT TIME ZONE ?, 'YYYY-MM-DD') AS day, count(*) AS count
           FROM cases c
          WHERE c.created_at >= ?${w.sql}
          GROUP BY 1`,
        [f.range.timeZone, since, ...w.bindings],
      );
      return rows.map((r) => ({ day: r.day, count: num(r.count) }));
    },

    /** Cases not yet resolved or closed, now (through the partial index of active cases). */
    async openNow(f: StatsFilter): Promise<number> {
      const w = caseConditions(f);
      const [r] = await raw<{ count: string }>(`SELECT count(*) AS count FROM cases c WHERE c.status IN ('new', 'open', 'waiting', 'forwarded')${w.sql}`, w.bindings);
      return num(r!.count);
    },

    /**
     * Calls offered in the period. Only the agent filter applies (a call has
     * no topic or department); the caller decides whether the others exclude calls.
     */
    async callSummary(f: StatsFilter, targetSeconds: number): Promise<CallSummary> {
      const agent = f.agentId !== undefined ? ' AND agent_id = ?' : '';
      const [r] = await raw<Record<string, string | null>>(
        `SELECT count(*) AS offered,
                count(answered_at) AS answered,
                count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
                count(*) FILTER (WHERE answered_at <= offered_at + interval '60 seconds') AS within_60,
                count(*) FILTER (WHERE answered_at <= offered_at + make_interval(secs => ?)) AS within_target,
                avg(extract(epoch FROM answered_at - offered_at)) AS avg_answer
           FROM calls
          WHERE offered_at >= ? AND offered_at < ?${agent}`,
        [targetSeconds, f.range.from, f.range.to, ...(f.agentId !== undefined ? [f.agentId] : [])],
      );
      return {
        offered: num(r!.offered),
        answered: num(r!.answered),
        abandoned: num(r!.abandoned),
        within60: num(r!.within_60),
        withinTarget: num(r!.within_target),
        avgAnswerS: numOrNull(r!.avg_answer),
      };
    },

    /** Callbacks asked for in the period, by how they ended; completed in time = within the resident's window. */
    async callbackSummary(f: StatsFilter): Promise<CallbackSummary> {
      const w = caseConditions(f);
      const [r] = await raw<Record<string, string | null>>(
        `SELECT count(*) AS requested,
                count(*) FILTER (WHERE b.status = 'completed') AS completed,
                count(*) FILTER (WHERE b.status = 'completed' AND b.completed_at <= b.window_end) AS in_time,
                count(*) FILTER (WHERE b.status = 'failed') AS failed,
                count(*) FILTER (WHERE b.status = 'cancelled') AS cancelled,
                count(*) FILTER (WHERE b.status = 'pending') AS pending
           FROM callbacks b
           JOIN cases c ON c.id = b.case_id
          WHERE b.created_at >= ? AND b.created_at < ?${w.sql}`,
        [f.range.from, f.range.to, ...w.bindings],
      );
      return {
        requested: num(r!.requested),
        completed: num(r!.completed),
        completedInTime: num(r!.in_time),
        failed: num(r!.failed),
        cancelled: num(r!.cancelled),
        pending: num(r!.pending),
      };
    },

    /** Per agent (the case's assignee): arrivals, first response, resolves in the period, calls answered. */
    async agents(f: StatsFilter): Promise<AgentRow[]> {
      const w = caseConditions(f);
      const agent = f.agentId !== undefined ? ' AND agent_id = ?' : '';
      const rows = await raw<Record<string, string | number | null>>(
        `WITH arrived AS (
           SELECT c.assignee_id AS agent_id, count(*) AS cases, count(c.first_response_working_s) AS answered,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_response_working_s) AS fr_median,
                  count(*) FILTER (WHERE c.resolved_at_first_contact) AS resolved_direct
             FROM cases c
            WHERE c.created_at >= ? AND c.created_at < ? AND c.assignee_id IS NOT NULL${w.sql}
            GROUP BY 1
         ), resolved AS (
           SELECT c.assignee_id AS agent_id, count(*) AS resolved,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolution_working_s) AS res_median
             FROM cases c
            WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= ? AND c.resolved_at < ? AND c.assignee_id IS NOT NULL${w.sql}
            GROUP BY 1
         ), answered_calls AS (
           SELECT agent_id, count(*) AS calls FROM calls
            WHERE offered_at >= ? AND offered_at < ? AND answered_at IS NOT NULL AND agent_id IS NOT NULL${agent}
            GROUP BY 1
         ), ids AS (SELECT agent_id FROM arrived UNION SELECT agent_id FROM resolved UNION SELECT agent_id FROM answered_calls)
         SELECT u.id AS agent_id, u.name, coalesce(a.cases, 0) AS cases, coalesce(a.answered, 0) AS answered, a.fr_median,
                coalesce(a.resolved_direct, 0) AS resolved_direct, coalesce(r.resolved, 0) AS resolved, r.res_median,
                coalesce(k.calls, 0) AS calls
           FROM ids JOIN users u ON u.id = ids.agent_id
           LEFT JOIN arrived a ON a.agent_id = ids.agent_id
           LEFT JOIN resolved r ON r.agent_id = ids.agent_id
           LEFT JOIN answered_calls k ON k.agent_id = ids.agent_id
          ORDER BY u.name, u.id`,
        [
          f.range.from, f.range.to, ...w.bindings,
          f.range.from, f.range.to, ...w.bindings,
          f.range.from, f.range.to, ...(f.agentId !== undefined ? [f.agentId] : []),
        ],
      );
      return rows.map((r) => ({
        agent_id: num(r.agent_id),
        name: String(r.name),
        cases: num(r.cases),
        answered: num(r.answered),
        first_response_median_s: numOrNull(r.fr_median),
        resolved_direct: num(r.resolved_direct),
        resolved: num(r.resolved),
        resolution_median_s: numOrNull(r.res_median),
        calls_answered: num(r.calls),
      }));
    },

    /** Per department the cases were forwarded to: arrivals in the period, resolves in the period. */
    async departments(f: StatsFilter): Promise<DepartmentRow[]> {
      const w = caseConditions(f);
      const rows = await raw<Record<string, string | number | null>>(
        `WITH arrived AS (
           SELECT c.department_id, count(*) AS cases FROM cases c
            WHERE c.created_at >= ? AND c.created_at < ? AND c.department_id IS NOT NULL${w.sql}
            GROUP BY 1
         ), resolved AS (
           SELECT c.department_id, count(*) AS resolved,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolution_working_s) AS res_median
             FROM cases c
            WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= ? AND c.resolved_at < ? AND c.department_id IS NOT NULL${w.sql}
            GROUP BY 1
         ), ids AS (SELECT department_id FROM arrived UNION SELECT department_id FROM resolved)
         SELECT d.id AS department_id, d.name, coalesce(a.cases, 0) AS cases, coalesce(r.resolved, 0) AS resolved, r.res_median
           FROM ids JOIN departments d ON d.id = ids.department_id
           LEFT JOIN arrived a ON a.department_id = ids.department_id
           LEFT JOIN resolved r ON r.department_id = ids.department_id
          ORDER BY d.name, d.id`,
        [f.range.from, f.range.to, ...w.bindings, f.range.from, f.range.to, ...w.bindings],
      );
      return rows.map((r) => ({
        department_id: num(r.department_id),
        name: String(r.name),
        cases: num(r.cases),
        resolved: num(r.resolved),
        resolution_median_s: numOrNull(r.res_median),
      }));
    },

    /**
     * The FAQ in the period: visits to the contact form that opened a
     * suggestion (deflected: settled by `settledBefore` without sending the
     * form), and article links in agents' replies. Filters do not apply: a
     * visit has no case, and the reply uses are counted for the whole centre.
     */
    async faq(f: StatsFilter, settledBefore: Date): Promise<{ opened: number; submitted: number; deflected: number; replyUses: number; casesWithUse: number }> {
      const d = await deflectionCounts(db, f.range, settledBefore);
      const [u] = await raw<Record<string, string>>(
        `SELECT count(*) AS uses, count(DISTINCT case_id) AS cases FROM faq_reply_uses WHERE created_at >= ? AND created_at < ?`,
        [f.range.from, f.range.to],
      );
      return { ...d, replyUses: num(u!.uses), casesWithUse: num(u!.cases) };
    },

    /** Topic and department ids by short name, and whether a user id is staff: for the filter. */
    async lookup(q: { category?: string; department?: string; agent?: number }) {
      const [category, department, agent] = await Promise.all([
        q.category ? db('categories').where({ slug: q.category }).first<{ id: number } | undefined>('id') : undefined,
        q.department ? db('departments').where({ slug: q.department }).first<{ id: number } | undefined>('id') : undefined,
        q.agent !== undefined ? db('users').where({ id: q.agent }).first<{ id: number } | undefined>('id') : undefined,
      ]);
      return { categoryId: category?.id, departmentId: department?.id, agentId: agent?.id };
    },

    /** The choices of the filter form. */
    async choices() {
      const [categories, departments, agents] = await Promise.all([
        db('categories').orderBy(['sort_order', 'name_sv']).select<{ slug: string; name_sv: string; name_en: string }[]>('slug', 'name_sv', 'name_en'),
        db('departments').orderBy('name').select<{ slug: string; name: string }[]>('slug', 'name'),
        db('users').orderBy('name').select<{ id: number; name: string; active: boolean }[]>('id', 'name', 'active'),
      ]);
      return { categories, departments, agents };
    },
  };
}

export type ReportStore = ReturnType<typeof createReportStore>;
