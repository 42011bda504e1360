import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Ack, ErrorCode } from '../live/protocol.js';
import { AppError, ValidationError } from './errors.js';
import type { Logger } from './logger.js';

/** The largest client event payload accepted (JSON); bigger ones get a too_large acknowledgement. */
export const MAX_EVENT_BYTES = 4096;
/** Anything bigger than this is cut off by Socket.IO itself: the connection closes. */
const MAX_PACKET_BYTES = 64 * 1024;

/**
 * A browser connecting from another site is refused before the handshake
 * (cross-site WebSocket hijacking rides on the session cookie). Clients that
 * send no Origin are not browsers; they still need a session or a token.
 */
export function sameOrigin(req: IncomingMessage, publicUrl: string): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  const ours = new URL(publicUrl);
  // The host the request came to counts too (a proxy, a second name), but never over a weaker scheme.
  return o.origin === ours.origin || (o.host === req.headers.host && o.protocol === ours.protocol);
}

export interface RealtimeServer {
  io: Server;
  close(): Promise<void>;
}

/** Socket.IO on the HTTP server, sharing rooms through Redis when REDIS_URL is set. */
export async function createRealtimeServer(http: HttpServer, deps: { config: Config; logger: Logger }): Promise<RealtimeServer> {
  const { config, logger } = deps;
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: MAX_PACKET_BYTES,
    allowRequest: (req, callback) => callback(sameOrigin(req, config.publicUrl) ? null : 'origin not allowed', sameOrigin(req, config.publicUrl)),
    cors: undefined,
    connectionStateRecovery: undefined,
  });
  const clients: { quit(): Promise<unknown> }[] = [];
  if (config.live.redisUrl) {
    const pub = createClient({ url: config.live.redisUrl });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on('error', (err: unknown) => logger.warn({ err }, 'redis connection error'));
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: config.live.redisChannel }));
    clients.push(pub, sub);
    logger.info({ channel: config.live.redisChannel }, 'live events shared through Redis');
  }
  return {
    io,
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
      await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
    },
  };
}

/**
 * Client events per socket per 10 seconds: over the limit an event is refused
 * with rate_limited, and a client that keeps flooding is disconnected.
 */
export function eventBudget(perTenSeconds: number) {
  let tokens = perTenSeconds;
  let refused = 0;
  let last = Date.now();
  return {
    take(): 'ok' | 'refused' | 'disconnect' {
      const now = Date.now();
      tokens = Math.min(perTenSeconds, tokens + ((now - last) / 10_000) * perTenSeconds);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        refused = 0;
        return 'ok';
      }
      return ++refused > perTenSeconds * 2 ? 'disconnect' : 'refused';
    },
  };
}

const fail = (error: ErrorCode, message: string): Ack => ({ ok: false, error, message });

/**
 * Registers a client event with everything every event needs: a budget, a
 * size cap, schema validation, and an acknowledgement for every outcome. A
 * handler's own errors become an error acknowledgement, never a crash.
 */
export function guardedEvent<S extends z.ZodType, R extends Record<string, unknown>>(
  socket: Socket,
  name: string,
  schema: S,
  budget: ReturnType<typeof eventBudget>,
  logger: Logger,
  handler: (input: z.output<S>) => Promise<Ack<R>> | Ack<R>,
): void {
  socket.on(name, async (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (a: Ack<R> | Ack) => void) : (a: Ack<R> | Ack) => socket.emit('failure', { event: name, ...a });
    const payload = typeof last === 'function' ? args.slice(0, -1) : args;
    const spent = budget.take();
    if (spent === 'disconnect') return void socket.disconnect(true);
    if (spent === 'refused') return ack(fail('rate_limited', 'Too many events; slow down'));
    if (payload.length !== 1) return ack(fail('invalid', `${name} takes exactly one object`));
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(payload[0]) ?? '');
    } catch {
      return ack(fail('invalid', 'The payload is not JSON'));
    }
    if (size > MAX_EVENT_BYTES) return ack(fail('too_large', `The payload is ${size} bytes; at most ${MAX_EVENT_BYTES} are accepted`));
    const parsed = schema.safeParse(payload[0]);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ');
      return ack(fail('invalid', detail));
    }
    try {
      ack(await handler(parsed.data));
    } catch (err) {
      if (err instanceof ValidationError) return ack(fail('invalid', err.message));
      if (err instanceof AppError && err.status === 404) return ack(fail('not_found', err.message));
      if (err instanceof AppError && (err.status === 401 || err.status === 403)) return ack(fail('forbidden', err.message));
      logger.error({ err, event: name }, 'live event failed');
      ack(fail('internal', 'Something went wrong on our side'));
    }
  });
}
