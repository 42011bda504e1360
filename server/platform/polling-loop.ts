import type { Logger } from './logger.js';

/**
 * A background job that runs when kicked (right after a commit that gave it
 * work) and on a slow timer (for retries and anything missed). One run at a
 * time; a kick during a run makes it go round once more. stop() waits for the
 * run in progress, so nothing is cut off half-way.
 */
export function createPollingLoop(opts: { name: string; pollMs: number; logger: Logger; run: (isStopped: () => boolean) => Promise<void> }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  const isStopped = () => stopped;

  async function loop(): Promise<void> {
    do {
      again = false;
      await opts.run(isStopped);
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = loop()
      .catch((err: unknown) => opts.logger.warn({ err }, `${opts.name}: run failed; will retry`))
      .finally(() => {
        running = undefined;
      });
  }

  function schedule(): void {
    timer = setTimeout(() => {
      kick();
      if (!stopped) schedule();
    }, opts.pollMs);
    timer.unref();
  }

  return {
    start(): void {
      stopped = false;
      schedule();
      kick();
    },
    kick,
    /** Resolves once no run is in progress. */
    async idle(): Promise<void> {
      while (running) await running;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      while (running) await running;
    },
  };
}

export type PollingLoop = ReturnType<typeof createPollingLoop>;
