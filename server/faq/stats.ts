import { z } from 'zod';
import { parseOrThrow } from '../platform/validation.js';
import type { FaqStatsStore, FeedbackRow } from './stats-store.js';

/** The periods a manager can choose, in days back from now. */
export const STAT_PERIODS = [7, 30, 90, 365] as const;
export const DEFAULT_PERIOD = 30;
/** A visit that opened a suggestion and has not sent the form after this long is a contact the FAQ saved. */
export const DEFLECTION_SETTLE_MS = 60 * 60 * 1000;
const TOP = 10;
const COMMENTS_PER_ARTICLE = 3;
const DAY_MS = 24 * 60 * 60 * 1000;

/** ?dagar= from the period form: empty means the default; anything but the offered periods is refused. */
export const statsQuerySchema = z.object({
  dagar: z.preprocess(
    (v) => (v === undefined || v === '' ? DEFAULT_PERIOD : v),
    z.coerce.number('errors.invalid_choice').refine((n) => (STAT_PERIODS as readonly number[]).includes(n), 'errors.invalid_choice'),
  ),
});

/** A part of a whole (0..1), or null when there is no whole. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** "40 %" or "40%": a share as the reader's language writes a percentage, to one decimal at most. */
export function formatPercent(value: number | null, lang: string): string {
  if (value === null) return '–';
  return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'sv-SE', { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

/**
 * Deflection over a period: of the visits that opened a suggestion, those
 * that sent the form anyway, those that did not within an hour (deflected),
 * and those still open (less than an hour ago). The rate is deflected among
 * the settled visits (deflected + submitted), so a visit still in progress
 * counts neither way.
 */
export function deflectionSummary(c: { opened: number; submitted: number; deflected: number }) {
  const pending = Math.max(0, c.opened - c.submitted - c.deflected);
  return { ...c, pending, rate: share(c.deflected, c.deflected + c.submitted) };
}

const withShares = (r: FeedbackRow) => ({ ...r, unhelpfulShare: share(r.unhelpful, r.total), helpfulShare: share(r.helpful, r.total) });

/** What managers see of how the FAQ is used: in replies, by readers, and on the contact form. */
export function createFaqStats(deps: { store: FaqStatsStore }) {
  const { store } = deps;

  async function overview(days: number, now = new Date()) {
    const since = new Date(now.getTime() - days * DAY_MS);
    const [replyUses, unhelpful, helpful, deflections] = await Promise.all([
      store.mostUsedInReplies(since, TOP),
      store.feedbackRanking(since, 'unhelpful', TOP),
      store.feedbackRanking(since, 'helpful', TOP),
      store.deflections(since, new Date(now.getTime() - DEFLECTION_SETTLE_MS)),
    ]);
    const comments = await store.unhelpfulComments(
      unhelpful.map((r) => r.article_id),
      since,
      COMMENTS_PER_ARTICLE,
    );
    return {
      days,
      since,
      until: now,
      replyUses,
      unhelpful: unhelpful.map((r) => ({ ...withShares(r), comments: comments.filter((c) => c.article_id === r.article_id) })),
      helpful: helpful.map(withShares),
      deflection: deflectionSummary(deflections),
    };
  }

  return {
    overview,
    /** Validates ?dagar= (400 with a field error) and answers the overview for that period. */
    overviewFromQuery: (query: unknown, now = new Date()) => overview(parseOrThrow(statsQuerySchema, query).dagar, now),
  };
}

export type FaqStats = ReturnType<typeof createFaqStats>;
