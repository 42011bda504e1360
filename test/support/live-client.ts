import { io, type Socket } from 'socket.io-client';
import type { Role } from '../../server/auth/roles.js';
import type { Ack, LiveMessage, QueueCounts, Viewer } from '../../server/live/protocol.js';
import type { SignedIn } from './harness.js';

/** A signed-in browser's cookie header, taken from a supertest agent's jar. */
export function cookieHeader(agent: { jar: { getCookies(access: unknown): { toValueString(): string }[] } }, url: string): string {
  const u = new URL(url);
  return agent.jar
    .getCookies({ domain: u.hostname, path: '/', secure: false, script: false })
    .map((c) => c.toValueString())
    .join('; ');
}

export interface LiveClient {
  socket: Socket;
  /** Every `live` message received, in order. */
  messages: LiveMessage[];
  counts: QueueCounts[];
  viewers: { reference: string; viewers: Viewer[] }[];
  /** Emits and waits for the acknowledgement. */
  request<T extends Record<string, unknown> = Record<string, unknown>>(event: string, ...args: unknown[]): Promise<Ack<T>>;
  /** Resolves when a received message satisfies the predicate (already received ones count). */
  waitFor(predicate: (m: LiveMessage) => boolean, what: string, timeoutMs?: number): Promise<LiveMessage>;
  close(): void;
}

/**
 * A socket.io-client connection as a page makes it. Options: the cookie of a
 * signed-in agent, a handshake `auth` object, or an Origin header.
 */
export async function connectLive(
  baseUrl: string,
  opts: { cookie?: string; auth?: Record<string, unknown>; origin?: string; reconnection?: boolean } = {},
): Promise<LiveClient> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin) headers.origin = opts.origin;
  const socket = io(baseUrl, {
    transports: ['websocket'],
    extraHeaders: headers,
    auth: opts.auth ?? {},
    reconnection: opts.reconnection ?? false,
    forceNew: true,
    timeout: 5000,
  });
  const client = liveClient(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return client;
}

function liveClient(socket: Socket): LiveClient {
  const messages: LiveMessage[] = [];
  const counts: QueueCounts[] = [];
  const viewers: { reference: string; viewers: Viewer[] }[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('live', (m: LiveMessage) => {
    messages.push(m);
    notify();
  });
  socket.on('counts', (c: QueueCounts) => {
    counts.push(c);
    notify();
  });
  socket.on('viewers', (v: { reference: string; viewers: Viewer[] }) => {
    viewers.push(v);
    notify();
  });
  return {
    socket,
    messages,
    counts,
    viewers,
    request(event, ...args) {
      return socket.timeout(10_000).emitWithAck(event, ...args);
    },
    waitFor(predicate, what, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; got ${messages.length} message(s): ${messages.map((m) => `${m.id}:${m.scope}:${m.type}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      socket.disconnect();
    },
  };
}

/** A new signed-in user of the role with a connected live socket (as their browser would have). */
export async function staffSocket(
  t: { loginAs(role: Role, name?: string): Promise<SignedIn> },
  baseUrl: string,
  role: Role = 'agent',
  name?: string,
): Promise<SignedIn & { client: LiveClient; cookie: string }> {
  const signedIn = await t.loginAs(role, name);
  const cookie = cookieHeader(signedIn.agent as never, baseUrl);
  return { ...signedIn, cookie, client: await connectLive(baseUrl, { cookie }) };
}

/** Polls a condition (for state that arrives by socket); fails with `what` after the timeout. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The connection error a refused handshake gives. */
export async function refusedHandshake(baseUrl: string, opts: Parameters<typeof connectLive>[1]): Promise<Error> {
  try {
    const c = await connectLive(baseUrl, opts);
    c.close();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the handshake was accepted');
}
