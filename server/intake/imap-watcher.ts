import { ImapFlow, type ImapFlowOptions, type SearchObject } from 'imapflow';
import type { Config } from '../config.js';
import type { Logger } from '../platform/logger.js';
import type { InboundStore } from './inbound-store.js';
import { rawHeaderField } from './raw-headers.js';

/**
 * Intake from an existing mailbox (IMAP_URL): each message is stored raw in
 * inbound_messages by (mailbox, UIDVALIDITY, UID) and Message-ID, and only
 * once it is stored is it marked \Seen and the mailbox position advanced.
 * A crash, a dropped connection or a restart at any point therefore fetches
 * a message again rather than losing it, and the store recognises it as a
 * duplicate rather than keeping it twice.
 *
 * New mail is noticed through IDLE ('exists' events), with a poll every
 * IMAP_POLL_MS as a fallback. Errors are logged and the connection is rebuilt
 * with backoff; nothing here ever rejects into the process.
 *
 * The first time a mailbox is watched (no saved position), and after its
 * UIDVALIDITY changed (the mailbox was recreated or migrated), the watcher
 * adopts it: it takes the messages that are not \Seen and treats the ones
 * already read as history, so connecting a mailbox with years of read mail
 * does not turn that history into cases. What it stored itself it marked
 * \Seen, and anything fetched again is recognised by its Message-ID.
 */

/** How many messages one FETCH asks for; a batch is stored, marked \Seen and recorded before the next. */
const BATCH = 20;
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** How long stop() lets a running sync finish before it cuts the connection. */
const STOP_GRACE_MS = 10_000;
const LOGOUT_TIMEOUT_MS = 5000;
/** Idle this long after the last command before IDLE starts, so new mail is pushed to us promptly. */
const AUTO_IDLE_DELAY_MS = 250;
/** IDLE is restarted this often; servers end IDLE after 30 minutes. */
const MAX_IDLE_MS = 10 * 60_000;

export interface ImapWatcher {
  /** Connects and starts watching. Resolves after the first connection attempt; never rejects for IMAP errors. */
  start(): Promise<void>;
  /** Lets a running batch finish, logs out and stops reconnecting. */
  stop(): Promise<void>;
  /** Fetches what is new now (on the watching connection, or a short-lived one); resolves to how many messages were newly stored. */
  syncNow(): Promise<number>;
}

/** Where to connect, from an imap:// or imaps:// URL with the user and password in it. */
export function imapConnectionOptions(url: string): ImapFlowOptions {
  const u = new URL(url);
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new Error('IMAP_URL must be an imap:// or imaps:// URL');
  const secure = u.protocol === 'imaps:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error('IMAP_URL has no host');
  const user = decodeURIComponent(u.username);
  if (!user) throw new Error('IMAP_URL has no user (imap://user:password@host)');
  return {
    host,
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    ...(secure ? { servername: host } : {}),
    auth: { user, pass: decodeURIComponent(u.password) },
    clientInfo: { name: 'servicecenter' },
    autoIdleDelay: AUTO_IDLE_DELAY_MS,
    maxIdleTime: MAX_IDLE_MS,
    connectionTimeout: 30_000,
  };
}

/** The Return-Path header (the envelope sender the delivering server saw): '' for <>, null when there is none. */
export function returnPathOf(raw: Buffer): string | null {
  const value = rawHeaderField(raw, 'return-path');
  if (value === null) return null;
  const inside = /<([^<>]*)>/.exec(value);
  // Lower-cased like the SMTP listener's MAIL FROM, so both sources read the same.
  const address = (inside ? inside[1]! : value).trim().toLowerCase();
  return address.length <= 320 ? address : null;
}

export function createImapWatcher(deps: { config: Pick<Config, 'intake'>; store: InboundStore; onStored: () => void; logger: Logger }): ImapWatcher {
  const { config, store, onStored } = deps;
  const logger = deps.logger.child({ component: 'imap-intake' });
  const url = config.intake.imapUrl;
  if (!url) throw new Error('IMAP_URL is not set: there is no mailbox to watch');
  const options = imapConnectionOptions(url);
  const mailbox = config.intake.imapMailbox;
  // The mailbox is the service's address: its messages are recorded as delivered to the first intake address.
  const first = config.intake.addresses[0];
  if (!first) throw new Error('INTAKE_ADDRESSES is empty: IMAP intake needs the mailbox address');
  const recipient: string = first;
  const where = { host: options.host, port: options.port, user: options.auth?.user, mailbox };

  /** imapflow's own chatter, at debug and trace: the watcher logs what matters itself, with the error. */
  const imapLog = logger.child({ imap: true });
  const imapLogger = {
    debug: (o: object) => imapLog.trace(o),
    info: (o: object) => imapLog.debug(o),
    warn: (o: object) => imapLog.debug(o),
    error: (o: object) => imapLog.debug(o),
  };

  let stopped = true;
  let session: Promise<void> | undefined;
  /** The watching connection, once its mailbox is open. */
  let current: ImapFlow | undefined;
  /** Every connection not yet closed, so stop() can cut them. */
  const live = new Set<ImapFlow>();
  /** Set by 'exists' events: a sync is due. */
  let pending = false;
  let wake: (() => void) | undefined;
  /** Syncs run one at a time, whoever asks. */
  let queue: Promise<unknown> = Promise.resolve();

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for `ms`, or less when woken (new mail, a closed connection, stop); true when the full time passed. */
  function pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        if (wake === woken) wake = undefined;
        resolve(timedOut);
      };
      const woken = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      wake = woken;
    });
  }

  function newClient(): ImapFlow {
    const client = new ImapFlow({ ...options, logger: imapLogger });
    live.add(client);
    // Without a listener an 'error' event would throw; the session sees the close that follows.
    client.on('error', (err: Error) => logger.debug({ err }, 'IMAP connection error'));
    client.on('close', () => {
      live.delete(client);
      if (client === current) wake?.();
    });
    client.on('exists', (data: { count: number; prevCount: number }) => {
      if (client !== current) return;
      logger.debug({ mailbox, count: data.count, prevCount: data.prevCount }, 'new mail announced');
      pending = true;
      wake?.();
    });
    return client;
  }

  async function closeClient(client: ImapFlow): Promise<void> {
    if (client.usable) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([client.logout().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, LOGOUT_TIMEOUT_MS)))]);
      clearTimeout(timer);
    }
    try {
      client.close();
    } catch {
      // already closed
    }
    live.delete(client);
  }

  async function searchUids(client: ImapFlow, query: SearchObject): Promise<number[]> {
    const uids = await client.search(query, { uid: true });
    if (!uids) throw new Error(`IMAP SEARCH failed in ${mailbox}`);
    return uids.sort((a, b) => a - b);
  }

  function notifyStored(): void {
    try {
      onStored();
    } catch (err) {
      logger.error({ err }, 'onStored failed');
    }
  }

  /** Fetches, stores, marks \Seen and records position, batch by batch. Resolves to how many messages were new. */
  async function sync(client: ImapFlow, halted: () => boolean, reselect: boolean): Promise<number> {
    const lock = await client.getMailboxLock(mailbox, { description: 'intake sync' });
    try {
      // A session keeps seeing the mailbox it selected even after it was deleted and
      // recreated (Dovecot reports the old UIDVALIDITY until the next SELECT), so the
      // poll and syncNow select it again: that is how a new UIDVALIDITY is noticed.
      if (reselect) await client.mailboxOpen(mailbox);
      const box = client.mailbox;
      if (!box) throw new Error(`IMAP mailbox ${mailbox} is not open`);
      const uidvalidity = Number(box.uidValidity);
      const state = await store.imapState(mailbox);
      const adopting = !state || Number(state.uidvalidity) !== uidvalidity;

      let uids: number[];
      let highest = 0;
      if (!adopting) {
        const lastUid = Number(state.last_uid);
        // "n:*" always includes the newest message, even when its UID is below n.
        uids = (await searchUids(client, { uid: `${lastUid + 1}:*` })).filter((uid) => uid > lastUid);
      } else {
        // All first, then unread: anything arriving in between is unread and is taken.
        const all = await searchUids(client, { all: true });
        uids = await searchUids(client, { seen: false });
        highest = all.reduce((a, b) => Math.max(a, b), 0);
        const context = { mailbox, uidvalidity, messages: all.length, unread: uids.length };
        if (state) {
          logger.warn({ ...context, previousUidvalidity: Number(state.uidvalidity) }, 'IMAP mailbox UIDVALIDITY changed (recreated or migrated): taking its unread messages again; what was stored before is recognised by Message-ID');
        } else {
          logger.info(context, 'IMAP mailbox watched for the first time: taking its unread messages; messages already read are left as history');
        }
      }

      // imapflow ends a FETCH quietly, with fewer messages, when the connection or the
      // selected mailbox is gone, and reports a failed STORE as false: so both are checked
      // before the position moves, or messages past the break would be skipped.
      const stillSelected = (step: string) => {
        const now = client.mailbox;
        if (!client.usable || !now || now.path !== box.path || Number(now.uidValidity) !== uidvalidity) {
          throw new Error(`IMAP connection or mailbox ${mailbox} lost ${step}`);
        }
      };

      let stored = 0;
      for (let i = 0; i < uids.length && !halted(); i += BATCH) {
        const batch = uids.slice(i, i + BATCH);
        const kept: number[] = [];
        let fresh = 0;
        stillSelected('before FETCH');
        for await (const msg of client.fetch(batch, { uid: true, source: true }, { uid: true })) {
          if (!msg.source) throw new Error(`IMAP server sent no message source for UID ${msg.uid}`);
          const result = await store.store({
            source: 'imap',
            recipient,
            envelopeFrom: returnPathOf(msg.source),
            raw: msg.source,
            imap: { mailbox, uidvalidity, uid: msg.uid },
          });
          kept.push(msg.uid);
          if (!result.duplicate) fresh++;
        }
        // Only what is durably stored is marked read, and only then is the position moved past it.
        stillSelected('during FETCH');
        if (kept.length && !(await client.messageFlagsAdd(kept, ['\\Seen'], { uid: true }))) {
          throw new Error(`IMAP server did not mark stored messages \\Seen in ${mailbox} (UIDs ${kept.join(',')}); they stay unread and are fetched again`);
        }
        if (!adopting) await store.saveImapState(mailbox, uidvalidity, batch[batch.length - 1]!);
        stored += fresh;
        logger.debug({ mailbox, fetched: kept.length, stored: fresh }, 'IMAP batch stored');
        if (fresh) notifyStored();
      }
      // Adopting: the position is saved once every unread message is in, so an interrupted
      // adoption simply adopts again (what it stored is \Seen by then).
      if (adopting && !halted()) await store.saveImapState(mailbox, uidvalidity, Math.max(highest, uids[uids.length - 1] ?? 0));
      if (stored) logger.info({ mailbox, stored }, 'mail fetched over IMAP');
      return stored;
    } finally {
      lock.release();
    }
  }

  /** A sync on a connection; when it fails the connection is dropped (the session reconnects). */
  async function syncOn(client: ImapFlow, halted: () => boolean, reselect: boolean): Promise<number> {
    try {
      return await exclusive(() => sync(client, halted, reselect));
    } catch (err) {
      client.close();
      throw err;
    }
  }

  const backoff = (failures: number) => {
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };

  async function watch(ready: () => void): Promise<void> {
    let failures = 0;
    while (!stopped) {
      const client = newClient();
      let failure: unknown;
      try {
        await client.connect();
        if (!stopped) {
          await client.mailboxOpen(mailbox);
          current = client;
          logger.info(where, failures ? 'IMAP intake reconnected' : 'IMAP intake watching the mailbox');
          ready();
        }
        let polled = false;
        while (!stopped) {
          pending = false;
          await syncOn(client, () => stopped, polled);
          failures = 0;
          polled = !pending && !stopped && (await pause(config.intake.imapPollMs));
          if (!stopped && !client.usable) throw Object.assign(new Error('IMAP connection closed'), { closedByServer: true });
        }
      } catch (err) {
        failure = err;
      }
      if (current === client) current = undefined;
      await closeClient(client);
      if (stopped) break;
      failures++;
      const retryInMs = backoff(failures);
      const context = { ...where, failures, retryInMs };
      if ((failure as { closedByServer?: boolean } | undefined)?.closedByServer) logger.warn(context, 'IMAP connection closed; reconnecting');
      else logger.error({ err: failure, ...context }, 'IMAP intake failed; reconnecting');
      ready();
      await pause(retryInMs);
    }
    ready();
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      await new Promise<void>((resolve) => {
        session = watch(resolve).catch((err: unknown) => logger.error({ err }, 'IMAP intake stopped unexpectedly'));
      });
    },

    async stop() {
      stopped = true;
      wake?.();
      if (!session) return;
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const client of live) client.close();
          resolve();
        }, STOP_GRACE_MS);
        timer.unref();
      });
      await Promise.race([session, cut]);
      await session;
      clearTimeout(timer);
      session = undefined;
    },

    async syncNow() {
      try {
        const client = current?.usable ? current : undefined;
        if (client) return await syncOn(client, () => false, true);
        const temp = newClient();
        try {
          await temp.connect();
          await temp.mailboxOpen(mailbox);
          return await exclusive(() => sync(temp, () => false, false));
        } finally {
          await closeClient(temp);
        }
      } catch (err) {
        logger.error({ err, ...where }, 'IMAP intake sync failed');
        throw err;
      }
    },
  };
}

