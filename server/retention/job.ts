import { hostname } from 'node:os';
import { DateTime } from 'luxon';
import type { Logger } from '../platform/logger.js';
import type { RetentionService } from './service.js';
import type { RetentionStore } from './store.js';

/**
 * The daily retention run, once a day at RETENTION_RUN_AT local time
 * (TIME_ZONE). Every instance looks once a minute; the first to find the
 * day due claims it with a row (retention_schedule), so one instance runs it
 * however many share the database, and an instance started after the run
 * time still runs a day nobody has run yet. No connection is held while it
 * waits or runs (each case is its own short transaction).
 */
export function createRetentionJob(deps: {
  service: RetentionService;
  store: RetentionStore;
  logger: Logger;
  config: { retention: { runAt: string }; calendar: { timeZone: string } };
  instance?: string;
  checkEveryMs?: number;
}) {
  const { service, store, logger, config } = deps;
  const instance = (deps.instance ?? `${hostname()}:${process.pid}`).slice(0, 200);
  const [hour, minute] = config.retention.runAt.split(':').map(Number) as [number, number];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  // The last day this instance tried to claim: after that, nothing to ask the database until tomorrow.
  let triedDay: string | undefined;

  /** The local day whose run is due at `now`, or undefined before today's run time. */
  function dueDay(now: Date): string | undefined {
    const local = DateTime.fromJSDate(now, { zone: config.calendar.timeZone });
    const runAt = local.set({ hour, minute, second: 0, millisecond: 0 });
    return local >= runAt ? local.toISODate()! : undefined;
  }

  /** Runs the day's retention if it is due and nobody has claimed it; true when this call ran it. */
  async function tick(now = new Date()): Promise<boolean> {
    const day = dueDay(now);
    if (!day || day === triedDay) return false;
    const claimed = await store.claimDay(day, instance);
    // Set once the database answered: a claim that failed to reach it is tried again next minute.
    triedDay = day;
    if (!claimed) return false;
    try {
      await service.run({ trigger: 'schedule', now });
      await store.finishDay(day);
    } catch (err) {
      logger.error({ err, day }, 'retention: the scheduled run failed; cases not reached are left for the next day');
      await store.finishDay(day, String((err as Error)?.message ?? err)).catch(() => undefined);
    }
    return true;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => logger.warn({ err }, 'retention: could not check the schedule'))
        .finally(() => {
          running = undefined;
          if (timer) schedule();
        });
    }, deps.checkEveryMs ?? 60_000);
    timer.unref();
  }

  return {
    dueDay,
    tick,
    start(): void {
      if (timer) return;
      schedule();
    },
    /** Waits for a run in progress, so a stop never leaves a case half-removed (each case is one transaction anyway). */
    async stop(): Promise<void> {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      while (running) await running;
    },
  };
}

export type RetentionJob = ReturnType<typeof createRetentionJob>;
