import type { FeedEventRow } from '../cases/store.js';
import type { Logger } from '../platform/logger.js';

/**
 * Follows the case event log of this database, in id order, and hands each
 * batch of newly committed events to `deliver`. Every instance runs one; it
 * is woken when this process commits an event, when another instance says it
 * did, and by a slow timer for writers that say nothing (the CLI, another
 * process). Because event ids become visible in order, reading "after the
 * last id delivered" never skips an event, and `delivered` is a position up
 * to which every event has been sent to every room that existed when it was
 * sent.
 *
 * `deliver` must do its I/O in `prepare` and send synchronously in `send`:
 * nothing can then join a room between the two halves of one batch unnoticed.
 */
export function createEventFeed<P>(deps: {
  read(afterId: number, limit: number): Promise<FeedEventRow[]>;
  lastId(): Promise<number>;
  /** Whether any page follows events here now; if not, a batch is passed over without any work. */
  listening(): boolean;
  prepare(events: FeedEventRow[]): Promise<P>;
  send(prepared: P): void;
  pollMs: number;
  logger: Logger;
  batchSize?: number;
}) {
  const batchSize = deps.batchSize ?? 200;
  let delivered = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;

  async function drain(): Promise<void> {
    do {
      again = false;
      for (;;) {
        const events = await deps.read(delivered, batchSize);
        if (!events.length) break;
        if (!deps.listening()) {
          // Nobody to tell: a page that subscribes later replays these from the log.
          delivered = events[events.length - 1]!.id;
          if (events.length < batchSize) break;
          continue;
        }
        const prepared = await deps.prepare(events);
        deps.send(prepared);
        delivered = events[events.length - 1]!.id;
        if (events.length < batchSize) break;
      }
    } while (again && !stopped);
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((err: unknown) => deps.logger.error({ err }, 'live feed could not read the event log; retrying on the next wake'))
      .finally(() => {
        running = undefined;
        if (again) wake();
      });
  }

  return {
    /** Starts after the last event already in the log: pages rendered from now on carry their own position. */
    async start(): Promise<void> {
      delivered = await deps.lastId();
      stopped = false;
      timer = setInterval(wake, deps.pollMs);
      timer.unref();
    },
    wake,
    /** Every event up to this id has been sent. */
    get delivered(): number {
      return delivered;
    },
    /** Resolves when the events committed so far have been sent (tests, shutdown). */
    async idle(): Promise<void> {
      wake();
      while (running) await running;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await running;
    },
  };
}

export type EventFeed = ReturnType<typeof createEventFeed>;
