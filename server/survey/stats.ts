import type { StatsFilter } from '../stats/filter.js';
import { SURVEY_QUESTIONS, type SurveyCounts, type SurveyQuestion, type SurveyStore } from './store.js';

/** One question's result over a period. */
export interface SurveyIndex {
  /** SKR's index, 0 to 100 with one decimal; null when nobody answered the question. */
  index: number | null;
  /** Answers to this question (each question is optional, so they differ). */
  responses: number;
  /** How many gave each grade: [n1, n2, n3, n4, n5]. */
  distribution: [number, number, number, number, number];
}

/** The survey's results for a statistics filter. */
export interface SurveyIndices extends Record<SurveyQuestion, SurveyIndex> {
  /** Invitations made in the period (by created_at), with the same filters. */
  invited: number;
  /** Surveys answered in the period (by answered_at): what the indices are computed from. */
  answered: number;
  /**
   * The share 0..1 of the period's invitations that have been answered (at
   * any time, so a late answer still counts for its invitation); null
   * without invitations. Not answered / invited: those two count different
   * surveys when a period's edges cut between invitation and answer.
   */
  responseRate: number | null;
}

/**
 * SKR's servicemätning index of one question: each answer counts 5 = 100,
 * 4 = 75, 3 = 50, 2 = 25, 1 = 0, and the index is their mean, rounded to one
 * decimal (halves up). Computed in integers: the mean is 25 * sum(grade - 1) / n.
 */
export function surveyIndex(counts: readonly number[]): SurveyIndex {
  if (counts.length !== 5 || counts.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new RangeError('surveyIndex takes five counts (grades 1 to 5), whole and not negative');
  }
  const distribution = [...counts] as SurveyIndex['distribution'];
  const responses = distribution.reduce((a, b) => a + b, 0);
  if (responses === 0) return { index: null, responses, distribution };
  const points = distribution.reduce((sum, n, i) => sum + n * i, 0);
  // Tenths of the index: 250 * points / responses, rounded half up.
  const numerator = 250 * points;
  const whole = Math.floor(numerator / responses);
  const rest = numerator - whole * responses;
  const tenths = 2 * rest >= responses ? whole + 1 : whole;
  return { index: tenths / 10, responses, distribution };
}

/** The indices and counts from the stored sums. */
export function indicesFrom(c: SurveyCounts): SurveyIndices {
  const perQuestion = Object.fromEntries(SURVEY_QUESTIONS.map((q) => [q, surveyIndex(c.distributions[q])])) as Record<SurveyQuestion, SurveyIndex>;
  return {
    ...perQuestion,
    invited: c.invited,
    answered: c.answered,
    responseRate: c.invited ? c.invitedAnswered / c.invited : null,
  };
}

/** The survey's part of the statistics: `indices(filter)`. */
export function createSurveyStats(deps: { store: Pick<SurveyStore, 'counts'> }) {
  return {
    indices: async (filter: StatsFilter): Promise<SurveyIndices> => indicesFrom(await deps.store.counts(filter)),
  };
}
