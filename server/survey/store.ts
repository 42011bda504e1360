import type { Knex } from 'knex';
import type { Channel } from '../cases/lifecycle.js';
import { whereCases, type StatsFilter } from '../stats/filter.js';

/** The three questions, in the order the form asks them (SKR: bemötande, enkelhet, tydlighet). */
export const SURVEY_QUESTIONS = ['treatment', 'ease', 'clarity'] as const;
export type SurveyQuestion = (typeof SURVEY_QUESTIONS)[number];
export type SurveyAnswers = Partial<Record<SurveyQuestion, number>>;

export interface SurveyRow {
  id: number;
  case_id: number;
  token_hash: string;
  language: string;
  channel: Channel;
  category_id: number;
  department_id: number | null;
  assignee_id: number | null;
  created_at: Date;
  expires_at: Date;
  answered_at: Date | null;
  treatment: number | null;
  ease: number | null;
  clarity: number | null;
}

export type NewSurvey = Pick<SurveyRow, 'case_id' | 'token_hash' | 'language' | 'channel' | 'category_id' | 'department_id' | 'assignee_id' | 'expires_at'>;

/** A survey as its page needs it: never the answers or the case. */
export type SurveyState = Pick<SurveyRow, 'language' | 'expires_at' | 'answered_at'> & { expired: boolean };

/** How many answered each question with 1, 2, 3, 4 and 5, and the counts behind the response rate. */
export interface SurveyCounts {
  distributions: Record<SurveyQuestion, [number, number, number, number, number]>;
  /** Surveys answered in the period. */
  answered: number;
  /** Invitations made in the period. */
  invited: number;
  /** Of those invitations, the ones answered (at any time). */
  invitedAnswered: number;
}

const num = (v: unknown) => Number(v ?? 0);

/** The SQL of the service survey: invitations, answers and their sums. */
export function createSurveyStore(db: Knex) {
  return {
    /** The resident's address, and whether mail to it is known not to arrive. On the resolving change's transaction. */
    async residentAddress(trx: Knex.Transaction, residentId: number): Promise<{ email: string | null; failing: boolean; protected: boolean } | undefined> {
      const row = await trx('residents')
        .where({ id: residentId })
        .first<{ email: string | null; email_failing_at: Date | null; protected_identity: boolean } | undefined>('email', 'email_failing_at', 'protected_identity');
      return row && { email: row.email, failing: row.email_failing_at !== null, protected: row.protected_identity === true };
    },

    /** Writes the invitation unless the case has one already; true when this call wrote it. */
    async insertOnce(trx: Knex.Transaction, row: NewSurvey): Promise<boolean> {
      const { rows } = await trx.raw<{ rows: { id: number }[] }>(
        `INSERT INTO service_surveys (case_id, token_hash, language, channel, category_id, department_id, assignee_id, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (case_id) DO NOTHING
         RETURNING id`,
        [row.case_id, row.token_hash, row.language, row.channel, row.category_id, row.department_id, row.assignee_id, row.expires_at],
      );
      return rows.length === 1;
    },

    async findState(tokenHash: string): Promise<SurveyState | undefined> {
      const row = await db('service_surveys')
        .where({ token_hash: tokenHash })
        .first<(Omit<SurveyState, 'expired'> & { expired: boolean }) | undefined>('language', 'expires_at', 'answered_at', db.raw('expires_at <= now() AS expired'));
      return row && { ...row, expired: Boolean(row.expired) };
    },

    /**
     * Records the answers once: only while unanswered and open, in one
     * statement, so two sends at once write one answer. False when nothing
     * was written (unknown, answered or expired: ask findState which).
     */
    async answer(tokenHash: string, answers: SurveyAnswers): Promise<boolean> {
      const updated = await db('service_surveys')
        .where({ token_hash: tokenHash })
        .whereNull('answered_at')
        .andWhereRaw('expires_at > now()')
        .update({ answered_at: db.fn.now(), treatment: answers.treatment ?? null, ease: answers.ease ?? null, clarity: answers.clarity ?? null });
      return updated === 1;
    },

    /** The answers given in the period and the invitations made in it, with the same filters. */
    async counts(f: StatsFilter): Promise<SurveyCounts> {
      const grades = SURVEY_QUESTIONS.flatMap((q) => [1, 2, 3, 4, 5].map((g) => `count(*) FILTER (WHERE ${q} = ${g}) AS ${q}_${g}`));
      const answeredQ = whereCases(
        db('service_surveys as s')
          .where('s.answered_at', '>=', f.range.from)
          .andWhere('s.answered_at', '<', f.range.to)
          .select(db.raw('count(*) AS answered'), ...grades.map((g) => db.raw(g))),
        f,
        's',
      );
      const invitedQ = whereCases(
        db('service_surveys as s')
          .where('s.created_at', '>=', f.range.from)
          .andWhere('s.created_at', '<', f.range.to)
          .select(db.raw('count(*) AS invited'), db.raw('count(s.answered_at) AS invited_answered')),
        f,
        's',
      );
      const [a, i] = (await Promise.all([answeredQ.first(), invitedQ.first()])) as [Record<string, unknown>, Record<string, unknown>];
      const distributions = Object.fromEntries(
        SURVEY_QUESTIONS.map((q) => [q, [1, 2, 3, 4, 5].map((g) => num(a[`${q}_${g}`]))]),
      ) as SurveyCounts['distributions'];
      return { distributions, answered: num(a.answered), invited: num(i.invited), invitedAnswered: num(i.invited_answered) };
    },
  };
}

export type SurveyStore = ReturnType<typeof createSurveyStore>;
