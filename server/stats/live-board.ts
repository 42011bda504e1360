import { DateTime } from 'luxon';
import { CHANNELS } from '../cases/lifecycle.js';
import type { Config } from '../config.js';
import { PRESENCE_STATUSES, type BoardView, type LiveBoardSnapshot } from '../live/protocol.js';
import { translate } from '../platform/i18n.js';
import type { PresenceService } from '../presence/service.js';
import type { LiveBoardStore } from './live-board-store.js';

/**
 * Today in the statistics time zone: [from, to) from local midnight to the
 * next, 23 or 25 hours on the days daylight saving time begins or ends.
 */
export function localDay(now: Date, timeZone: string): { day: string; from: Date; to: Date } {
  const start = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
  return { day: start.toISODate()!, from: start.toJSDate(), to: start.plus({ days: 1 }).startOf('day').toJSDate() };
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/**
 * The live board for managers, agents and the TV wallboard: what waits now,
 * who is at work, and how today has gone so far. Computed from what waits
 * and from today's rows only (see live-board-store.ts); the live workspace
 * recomputes it as things happen and pushes it to open boards.
 */
export function createLiveBoard(deps: {
  config: Pick<Config, 'calendar' | 'stats'>;
  store: LiveBoardStore;
  presence: Pick<PresenceService, 'list'>;
  /** Users with the live workspace open now (on any instance). */
  online: () => Promise<ReadonlySet<number>>;
}) {
  const { config, store, presence, online } = deps;
  const timeZone = config.calendar.timeZone;
  const { serviceLevelSeconds: targetSeconds, serviceLevelGoal: goal } = config.stats;

  return {
    async snapshot(now = new Date()): Promise<LiveBoardSnapshot> {
      const today = localDay(now, timeZone);
      const [waiting, oldest, arrivals, calls, callbacks, agents] = await Promise.all([
        store.waiting(now),
        store.oldest(now),
        store.arrivals(today.from, today.to),
        store.calls(today.from, today.to, targetSeconds),
        store.callbacks(now, today.to),
        online().then((ids) => presence.list(ids)),
      ]);

      const waitingBy = (channel: string) => waiting.filter((w) => w.channel === channel).reduce((sum, w) => sum + w.count, 0);
      const byCategory = new Map<string, { slug: string; nameSv: string; nameEn: string; count: number }>();
      for (const w of waiting) {
        const c = byCategory.get(w.category) ?? { slug: w.category, nameSv: w.name_sv, nameEn: w.name_en, count: 0 };
        c.count += w.count;
        byCategory.set(w.category, c);
      }
      const arrivalsOf = (channel: string) => arrivals.find((a) => a.channel === channel) ?? { contacts: 0, direct: 0 };
      const contacts = arrivals.reduce((sum, a) => sum + a.contacts, 0);
      const direct = arrivals.reduce((sum, a) => sum + a.direct, 0);
      const since = oldest ? new Date(oldest.queue_at) : undefined;

      return {
        at: now.toISOString(),
        day: today.day,
        timeZone,
        waiting: {
          total: waiting.reduce((sum, w) => sum + w.count, 0),
          byChannel: CHANNELS.map((channel) => ({ channel, count: waitingBy(channel) })),
          byCategory: [...byCategory.values()].sort((a, b) => b.count - a.count || a.slug.localeCompare(b.slug)),
          oldest: oldest && since ? { reference: oldest.reference, since: since.toISOString(), waitSeconds: Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000)) } : null,
        },
        agents: Object.fromEntries(
          PRESENCE_STATUSES.map((status) => {
            const of = agents.filter((a) => a.status === status);
            return [status, { total: of.length, connected: of.filter((a) => a.online).length }];
          }),
        ) as LiveBoardSnapshot['agents'],
        today: {
          contacts,
          answeredDirectly: direct,
          answeredDirectlyShare: share(direct, contacts),
          byChannel: CHANNELS.map((channel) => ({ channel, contacts: arrivalsOf(channel).contacts, answeredDirectly: arrivalsOf(channel).direct })),
        },
        phone: {
          offered: calls.offered,
          answered: calls.answered,
          abandoned: calls.abandoned,
          inQueue: calls.in_queue,
          answeredWithinTarget: calls.within_target,
          serviceLevel: share(calls.within_target, calls.offered),
          targetSeconds,
          goal,
        },
        callbacks: { dueNow: callbacks.due_now, laterToday: callbacks.later_today },
      };
    },
  };
}

export type LiveBoard = ReturnType<typeof createLiveBoard>;

const locale = (lang: string) => (lang === 'en' ? 'en-GB' : 'sv-SE');
const formats = new Map<string, { number: Intl.NumberFormat; percent: Intl.NumberFormat; time: Intl.DateTimeFormat; dayTime: Intl.DateTimeFormat; clock: Intl.DateTimeFormat }>();
function formatsFor(lang: string, timeZone: string) {
  const key = `${lang}|${timeZone}`;
  let f = formats.get(key);
  if (!f) {
    f = {
      number: new Intl.NumberFormat(locale(lang)),
      percent: new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 0 }),
      time: new Intl.DateTimeFormat(locale(lang), { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      // A wait that began on an earlier day: the weekday and date too.
      dayTime: new Intl.DateTimeFormat(locale(lang), { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      clock: new Intl.DateTimeFormat(locale(lang), { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }),
    };
    formats.set(key, f);
  }
  return f;
}

/** "12 min", "2 h 05 min": how long the oldest case has waited. */
export function describeWait(seconds: number, lang: string): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return translate(lang, 'stats.live.duration.minutes', { min: minutes });
  return translate(lang, 'stats.live.duration.hours', { h: Math.floor(minutes / 60), min: String(minutes % 60).padStart(2, '0') });
}

/**
 * The board's figures as a page in `lang` shows them, each under the key its
 * element carries (data-figure): the page is rendered from this, and a live
 * update puts the same texts in the same places.
 */
export function describeBoard(s: LiveBoardSnapshot, lang: string): BoardView {
  const f = formatsFor(lang, s.timeZone);
  const num = (v: number) => f.number.format(v);
  const pct = (v: number | null) => (v === null ? translate(lang, 'stats.live.none') : f.percent.format(v));
  const figures: Record<string, string> = {
    updated: f.clock.format(new Date(s.at)),
    waiting: num(s.waiting.total),
    oldest_case: s.waiting.oldest?.reference ?? translate(lang, 'stats.live.none'),
    oldest_wait: s.waiting.oldest ? describeWait(s.waiting.oldest.waitSeconds, lang) : translate(lang, 'stats.live.none'),
    oldest_since: s.waiting.oldest ? (localDay(new Date(s.waiting.oldest.since), s.timeZone).day !== s.day ? f.dayTime : f.time).format(new Date(s.waiting.oldest.since)) : translate(lang, 'stats.live.none'),
    contacts: num(s.today.contacts),
    direct: num(s.today.answeredDirectly),
    direct_share: pct(s.today.answeredDirectlyShare),
    calls_offered: num(s.phone.offered),
    calls_answered: num(s.phone.answered),
    calls_abandoned: num(s.phone.abandoned),
    calls_in_queue: num(s.phone.inQueue),
    calls_within: num(s.phone.answeredWithinTarget),
    service_level: pct(s.phone.serviceLevel),
    service_level_goal: pct(s.phone.goal),
    callbacks_due: num(s.callbacks.dueNow),
    callbacks_later: num(s.callbacks.laterToday),
  };
  for (const c of s.waiting.byChannel) figures[`waiting_${c.channel}`] = num(c.count);
  for (const c of s.today.byChannel) {
    figures[`contacts_${c.channel}`] = num(c.contacts);
    figures[`direct_${c.channel}`] = num(c.answeredDirectly);
  }
  for (const status of PRESENCE_STATUSES) {
    figures[`agents_${status}`] = num(s.agents[status].total);
    figures[`agents_${status}_connected`] = num(s.agents[status].connected);
  }
  return {
    figures,
    categories: s.waiting.byCategory.map((c) => ({ slug: c.slug, name: lang === 'en' ? c.nameEn : c.nameSv, count: num(c.count) })),
    snapshot: s,
  };
}
