import { randomToken, sha256 } from '../auth/service.js';
import { z } from 'zod';
import type { CaseResolvedHook, ChangeContext } from '../cases/change.js';
import { withheldEvent } from '../cases/change.js';
import type { CaseRow } from '../cases/store.js';
import type { Config } from '../config.js';
import type { MailComposer } from '../mail/compose.js';
import { AppError, NotFoundError } from '../platform/errors.js';
import { isLanguage, type Language } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';
import type { StatsFilter } from '../stats/filter.js';
import { createSurveyStats, type SurveyIndices } from './stats.js';
import { SURVEY_QUESTIONS, type SurveyAnswers, type SurveyStore } from './store.js';

/** A survey link is 32 random bytes in base64url, like a resident's case link: anything else is not worth a query. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const isSurveyToken = (token: unknown): token is string => typeof token === 'string' && TOKEN.test(token);

/** The survey's link has passed its last day: nothing more is recorded. */
export class SurveyClosedError extends AppError {
  constructor() {
    super('The survey has closed', 410, 'survey_closed');
  }
}

/** The survey was answered already: answers are given once and not changed. */
export class SurveyAnsweredError extends AppError {
  constructor() {
    super('The survey has been answered already', 409, 'survey_answered');
  }
}

const GRADES = ['1', '2', '3', '4', '5'] as const;
const grade = z.preprocess((v) => (v === '' ? undefined : v), z.enum(GRADES, 'survey.errors.scale').transform(Number).optional());

/** The form: each question optional, at least one answered, nothing else. */
export const surveyAnswerSchema = z
  .strictObject({ treatment: grade, ease: grade, clarity: grade })
  .refine((a) => SURVEY_QUESTIONS.some((q) => a[q] !== undefined), { path: ['answers'], message: 'survey.errors.none' });

export function parseSurveyAnswers(input: unknown): SurveyAnswers {
  return parseOrThrow(surveyAnswerSchema, input);
}

export interface SurveyServiceDeps {
  config: Pick<Config, 'survey' | 'publicUrl' | 'intake' | 'organisation'>;
  store: SurveyStore;
  composer: Pick<MailComposer, 'survey'>;
}

/**
 * The optional service survey (SKR's servicemätning). When a case is
 * resolved for the first time, the resident is mailed a link to three
 * questions; the answers are kept without the resident's words and read only
 * as sums (indices per question, SKR's formula).
 */
export function createSurveyService(deps: SurveyServiceDeps) {
  const { config, store, composer } = deps;
  // Our own addresses never get a survey (a case from a forwarded or looped mail).
  const ours = new Set([...config.intake.addresses, config.organisation.email].map((a) => a.toLowerCase()));
  const stats = createSurveyStats({ store });

  const caseResolved: CaseResolvedHook['caseResolved'] = async (tx: ChangeContext, c: CaseRow) => {
    if (!config.survey.enabled) return;
    const address = await store.residentAddress(tx.trx, c.resident_id);
    // No address, or one that bounces: nowhere to send it.
    if (!address?.email || address.failing || ours.has(address.email.toLowerCase())) return;
    // Protected identity: no invitation at all (not counted as one either), and the timeline says why.
    if (address.protected) {
      await tx.event(withheldEvent('survey'));
      return;
    }
    const token = randomToken(32);
    const language = isLanguage(c.language) ? c.language : 'sv';
    const written = await store.insertOnce(tx.trx, {
      case_id: c.id,
      token_hash: sha256(token),
      language,
      channel: c.channel,
      category_id: c.category_id,
      department_id: c.department_id,
      assignee_id: c.assignee_id,
      expires_at: new Date(Date.now() + config.survey.validDays * 86_400_000),
    });
    // A case resolved again after a reopen has had its invitation.
    if (!written) return;
    await tx.queueMail(composer.survey({ id: c.id, reference: c.reference, language }, address.email, `${config.publicUrl}/enkat/${token}`, config.survey.validDays));
  };

  /** The survey behind a link; a link of the wrong shape is not looked up. */
  async function find(token: string) {
    if (!isSurveyToken(token)) throw new NotFoundError('No such survey');
    const survey = await store.findState(sha256(token));
    if (!survey) throw new NotFoundError('No such survey');
    return survey;
  }

  return {
    /** The hook the case changers call when a change resolves a case. */
    caseResolved,

    /** What the survey page shows: open, answered or closed, and the case's language. */
    async view(token: string): Promise<{ state: 'open' | 'answered' | 'closed'; language: Language }> {
      const s = await find(token);
      const state = s.answered_at ? 'answered' : s.expired ? 'closed' : 'open';
      return { state, language: isLanguage(s.language) ? s.language : 'sv' };
    },

    /**
     * Records the answers once. Refused with nothing written: invalid answers
     * (ValidationError), an unknown link (404), an answered survey (409), a
     * closed one (410).
     */
    async answer(token: string, input: unknown): Promise<SurveyAnswers> {
      const s = await find(token);
      if (s.answered_at) throw new SurveyAnsweredError();
      if (s.expired) throw new SurveyClosedError();
      const answers = parseSurveyAnswers(input);
      if (await store.answer(sha256(token), answers)) return answers;
      // Answered or closed between the look and the write.
      const now = await find(token);
      throw now.answered_at ? new SurveyAnsweredError() : new SurveyClosedError();
    },

    /** The indices of the answers given in the filter's period, with the invitation counts. */
    indices: (filter: StatsFilter): Promise<SurveyIndices> => stats.indices(filter),
  };
}

export type SurveyService = ReturnType<typeof createSurveyService>;
