import type { AuthUser } from '../auth/roles.js';
import { createCaseChanger, NoCaseToChangeError, statusPatch } from '../cases/change.js';
import type { CaseRow, CaseStore } from '../cases/store.js';
import type { MailStore } from '../mail/store.js';
import type { CaseEventBus } from '../platform/events.js';
import type { WorkingTime } from '../stats/working-time.js';
import type { Language } from '../platform/i18n.js';
import type { Knex } from 'knex';
import type { QueueCounts } from '../live/protocol.js';
import type { QueueStore, WaitingCount } from './store.js';

export interface QueueSnapshot {
  waiting: WaitingCount[];
  oldest: { reference: string; queue_at: Date } | undefined;
  active: number;
}

/** The queue as a whole: taking the next case, and what is waiting. */
export function createQueueService(deps: { db: Knex; queue: QueueStore; cases: CaseStore; mail: Pick<MailStore, 'enqueue'>; bus: CaseEventBus; workingTime: WorkingTime }) {
  const { queue } = deps;
  const change = createCaseChanger(deps);

  return {
    /**
     * Claims the oldest case nobody has taken, for `actor`: assigned and
     * opened in one change. However many agents press at once, each case goes
     * to one of them. Undefined when nothing is waiting.
     */
    async takeNext(actor: AuthUser): Promise<CaseRow | undefined> {
      try {
        return await change(
          (trx) => queue.lockNextWaiting(trx),
          async (tx) => {
            const c = tx.current;
            const at = new Date();
            // The case first, the events last in one statement: every event writer queues on one
            // lock from its first event to its commit, so that stretch is kept short.
            await tx.update({ ...statusPatch(c, 'open', at), assignee_id: actor.id });
            await tx.events([
              { type: 'assignment.changed', actorType: 'user', actorId: actor.id, payload: { from: null, to: actor.id, toName: actor.name, via: 'take_next' } },
              { type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: c.status, to: 'open' } },
            ]);
          },
        );
      } catch (err) {
        if (err instanceof NoCaseToChangeError) return undefined;
        throw err;
      }
    },

    /** What is waiting now; `describeCounts` puts it in an agent's language. */
    async snapshot(): Promise<QueueSnapshot> {
      const [waiting, oldest, active] = await Promise.all([queue.waitingCounts(), queue.oldestWaiting(), queue.activeCount()]);
      return { waiting, oldest, active };
    },
  };
}

export type QueueService = ReturnType<typeof createQueueService>;

/** Waiting and active counts, per channel and topic, and the oldest waiting case. */
export function describeCounts(s: QueueSnapshot, lang: Language): QueueCounts {
  const byChannel: Record<string, number> = {};
  const byCategory = new Map<string, { slug: string; name: string; count: number }>();
  for (const w of s.waiting) {
    byChannel[w.channel] = (byChannel[w.channel] ?? 0) + w.count;
    const entry = byCategory.get(w.category) ?? { slug: w.category, name: lang === 'en' ? w.category_name_en : w.category_name_sv, count: 0 };
    entry.count += w.count;
    byCategory.set(w.category, entry);
  }
  return {
    waiting: s.waiting.reduce((n, w) => n + w.count, 0),
    active: s.active,
    byChannel,
    byCategory: [...byCategory.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    oldest: s.oldest ? { reference: s.oldest.reference, since: new Date(s.oldest.queue_at).toISOString() } : null,
  };
}

/** How long a queue row has waited, in whole minutes; a callback not yet due has not started waiting. */
export function waitingFor(row: { queue_at: Date }, now = Date.now()): { waitingMinutes: number; notYetDue: boolean } {
  const since = new Date(row.queue_at).getTime();
  return since > now ? { waitingMinutes: 0, notYetDue: true } : { waitingMinutes: Math.round((now - since) / 60_000), notYetDue: false };
}
