import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'socket.io';
import type { AuthUser } from '../auth/roles.js';
import { hasRole } from '../auth/roles.js';
import type { AuthService } from '../auth/service.js';
import type { CaseStore, FeedEventRow } from '../cases/store.js';
import type { Config } from '../config.js';
import type { CaseEventBus } from '../platform/events.js';
import { cookieNames } from '../platform/http.js';
import { DEFAULT_LANGUAGE, isLanguage, staffLanguage, STAFF_LANGUAGES, type Language } from '../platform/i18n.js';
import type { Logger } from '../platform/logger.js';
import { createRealtimeServer, eventBudget, guardedEvent, type RealtimeServer } from '../platform/realtime.js';
import type { PresenceService } from '../presence/service.js';
import { describeCounts, type QueueService, type QueueSnapshot } from '../queue/service.js';
import { parse as parseCookies } from 'cookie';
import { describeBoard, type LiveBoard } from '../stats/live-board.js';
import { createEventFeed } from './feed.js';
import { roomOf, type Audience, type LiveRenderer, type PreparedBatch } from './messages.js';
import { clientEvents, mayUseClientEvent, type Ack, type ClientEventName, type BoardView, type LiveBoardSnapshot, type LiveMessage, type QueueCounts, type Viewer } from './protocol.js';

interface SocketData {
  kind: 'staff' | 'resident';
  lang: Language;
  user?: AuthUser;
  /** The session the socket rides on (absent for API tokens and residents). */
  sessionId?: string;
  /** The API token the socket rides on (a token in the handshake, or a wallboard's cookie). */
  tokenId?: number;
  /** A wallboard (a TV's key): it may follow the live board and nothing else. */
  wallboard?: boolean;
  /** The resident's case. */
  caseId?: number;
  rooms: string[];
  viewing?: { caseId: number; reference: string };
  typing: boolean;
}

type LiveSocket = Socket & { data: SocketData };

const RESIDENT_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** The live board is computed at most this often, however much happens. */
const BOARD_MIN_INTERVAL_MS = 1_000;
/** …and at least this often while a board is open (waits grow, callbacks fall due, the day turns). */
const BOARD_REFRESH_MS = 15_000;

class HandshakeError extends Error {}

/**
 * The live workspace: pushes every committed case event to the pages that
 * follow it, in order, rendered with the pages' own partials; catches a
 * reconnecting page up from the last event id it saw; tells agents who else
 * is on a case and managers who is available. Authorization happens at the
 * handshake (session, API token or a resident's link) and again at every
 * subscription.
 */
export function createLiveHub(deps: {
  config: Config;
  logger: Logger;
  auth: AuthService;
  cases: CaseStore;
  queue: QueueService;
  presence: PresenceService;
  renderer: LiveRenderer;
  bus: CaseEventBus;
  board: Pick<LiveBoard, 'snapshot'>;
}) {
  const { config, logger, auth, cases, queue, presence, renderer, bus, board } = deps;
  let rt: RealtimeServer | undefined;
  const cleanups: (() => void)[] = [];
  const timers: NodeJS.Timeout[] = [];

  const localRooms = () => rt!.io.of('/').adapter.rooms;
  const hasQueueRoom = () => STAFF_LANGUAGES.some((l) => localRooms().has(`queue:${l}`));
  const hasBoardRoom = () => STAFF_LANGUAGES.some((l) => localRooms().has(`board:${l}`));

  const feed = createEventFeed<{ batch: PreparedBatch | undefined; snapshot: QueueSnapshot | undefined }>({
    read: (after, limit) => cases.eventsAfter(after, { limit }),
    lastId: () => cases.lastEventId(),
    // Every subscribed socket is in "synced" (joined with its rooms, in the same turn); a wallboard only in its board room.
    listening: () => localRooms().has('synced') || hasBoardRoom(),
    prepare: async (events) => {
      // Only wallboards listening: they need to know that something happened, not the rows and summaries.
      if (!localRooms().has('synced')) return { batch: undefined, snapshot: undefined };
      const [batch, snapshot] = await Promise.all([renderer.prepare(events), hasQueueRoom() ? queue.snapshot() : undefined]);
      return { batch, snapshot };
    },
    send: ({ batch, snapshot }) => {
      const io = rt!.io;
      const rooms = localRooms();
      // Every instance follows the log itself, so each updates its own boards.
      scheduleBoard();
      // Prepared for the boards alone: a socket that joined since catches up from its own cursor.
      if (!batch) return;
      for (const e of batch.events) {
        for (const a of renderer.audiencesOf(e)) {
          const room = roomOf(a);
          if (!rooms.has(room)) continue;
          const m = renderer.render(batch, e, a);
          if (m) io.local.to(room).emit('live', m);
        }
      }
      if (snapshot) for (const lang of STAFF_LANGUAGES) if (rooms.has(`queue:${lang}`)) io.local.to(`queue:${lang}`).emit('counts', describeCounts(snapshot, lang));
    },
    pollMs: config.live.pollMs,
    logger,
  });

  /** Replays what the audiences missed after `since`, then joins their rooms in the same turn. */
  async function catchUp(socket: LiveSocket, audiences: Audience[], since: number): Promise<{ cursor: number } | 'reload'> {
    let from = since;
    for (;;) {
      const target = feed.delivered;
      if (from >= target) break;
      const read = await cases.eventsAfter(from, { limit: config.live.maxCatchUp + 1 });
      if (read.length > config.live.maxCatchUp && read[read.length - 1]!.id <= target) return 'reload';
      // Everything up to target is in `read` now; later events reach the rooms after the join.
      const events = read.filter((e) => e.id <= target);
      if (events.length) send(socket, await renderer.prepare(events), events, audiences);
      from = target;
    }
    // No await between the check above and the join: the feed sends nothing in between.
    const rooms = [...audiences.map(roomOf), 'synced'];
    socket.data.rooms = rooms;
    socket.join(rooms);
    return { cursor: feed.delivered };
  }

  function send(socket: LiveSocket, batch: PreparedBatch, events: FeedEventRow[], audiences: Audience[]) {
    for (const e of events) {
      for (const a of audiences) {
        const m: LiveMessage | undefined = renderer.render(batch, e, a);
        if (m) socket.emit('live', m);
      }
    }
  }

  async function viewersOf(caseId: number): Promise<Viewer[]> {
    const sockets = await rt!.io.in(`viewers:${caseId}`).fetchSockets();
    const byUser = new Map<number, Viewer>();
    for (const s of sockets) {
      const d = s.data as SocketData;
      if (!d.user) continue;
      const v = byUser.get(d.user.id) ?? { userId: d.user.id, name: d.user.name, typing: false };
      v.typing ||= d.typing;
      byUser.set(d.user.id, v);
    }
    return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async function announceViewers(c: { caseId: number; reference: string }): Promise<Viewer[]> {
    const viewers = await viewersOf(c.caseId);
    rt!.io.to(`viewers:${c.caseId}`).emit('viewers', { reference: c.reference, viewers });
    return viewers;
  }

  let boardTimer: NodeJS.Timeout | undefined;
  let boardLast = 0;
  let boardBusy = false;
  let boardAgain = false;
  let boardWakePending = false;

  let boardCache: { at: number; snapshot: Promise<LiveBoardSnapshot> } | undefined;
  /** The board now; pages subscribing together (a room of TVs after a restart) share one computation a second. */
  function boardSnapshot(fresh = false): Promise<LiveBoardSnapshot> {
    if (fresh || !boardCache || Date.now() - boardCache.at >= BOARD_MIN_INTERVAL_MS) {
      const snapshot = board.snapshot();
      boardCache = { at: Date.now(), snapshot };
      snapshot.catch(() => {
        if (boardCache?.snapshot === snapshot) boardCache = undefined;
      });
    }
    return boardCache.snapshot;
  }

  /** The board in a page's language, for a subscribe's answer. */
  async function boardView(lang: Language): Promise<BoardView> {
    return describeBoard(await boardSnapshot(), lang);
  }

  /**
   * The boards on this instance are recomputed once, at most every
   * BOARD_MIN_INTERVAL_MS however many changes come, and only while one is open.
   */
  function scheduleBoard(): void {
    if (!rt || boardTimer || !hasBoardRoom()) return;
    boardTimer = setTimeout(
      () => {
        boardTimer = undefined;
        void pushBoard();
      },
      Math.max(0, boardLast + BOARD_MIN_INTERVAL_MS - Date.now()),
    );
  }

  async function pushBoard(): Promise<void> {
    if (boardBusy) {
      boardAgain = true;
      return;
    }
    boardBusy = true;
    boardLast = Date.now();
    try {
      if (!rt || !hasBoardRoom()) return;
      const snapshot = await boardSnapshot(true);
      for (const lang of STAFF_LANGUAGES) {
        const room = `board:${lang}`;
        if (rt && localRooms().has(room)) rt.io.local.to(room).emit('board', describeBoard(snapshot, lang));
      }
    } catch (err) {
      logger.warn({ err }, 'could not update the live board');
    } finally {
      boardBusy = false;
      if (boardAgain) {
        boardAgain = false;
        scheduleBoard();
      }
    }
  }

  /** Something the board shows changed here (presence, a call, a connection): this instance's boards and the others'. */
  function boardChanged(): void {
    scheduleBoard();
    if (!rt || !config.live.redisUrl || boardWakePending) return;
    boardWakePending = true;
    setImmediate(() => {
      boardWakePending = false;
      rt?.io.serverSideEmit('board:wake');
    });
  }

  let presencePending: NodeJS.Timeout | undefined;
  /** Managers get the whole list again, at most every 300 ms however many agents come and go (and the boards their counts). */
  function announcePresence(): void {
    boardChanged();
    if (presencePending || !rt) return;
    presencePending = setTimeout(() => {
      presencePending = undefined;
      void presenceList()
        .then((agents) => rt?.io.to('managers').emit('presence', { agents }))
        .catch((err: unknown) => logger.warn({ err }, 'could not announce presence'));
    }, 300);
  }

  /** Users with a live connection on any instance. */
  async function onlineUserIds(): Promise<Set<number>> {
    const online = new Set<number>();
    if (!rt) return online;
    for (const s of await rt.io.in('staff').fetchSockets()) {
      const u = (s.data as SocketData).user;
      if (u) online.add(u.id);
    }
    return online;
  }

  const presenceList = async () => presence.list(await onlineUserIds());

  async function identify(socket: LiveSocket): Promise<SocketData> {
    const h = socket.handshake;
    const given = (h.auth ?? {}) as Record<string, unknown>;
    const cookies = parseCookies(h.headers.cookie ?? '');
    const names = cookieNames(config);
    const chosen: Language | undefined = isLanguage(given.lang) ? given.lang : isLanguage(cookies[names.lang]) ? (cookies[names.lang] as Language) : undefined;
    // Staff pages are Swedish and English; a resident's page of their case is in the case's language unless they chose one.
    const base = { lang: staffLanguage(chosen ?? DEFAULT_LANGUAGE) as Language, rooms: [], typing: false };
    if (given.residentToken !== undefined) {
      if (typeof given.residentToken !== 'string' || !RESIDENT_TOKEN.test(given.residentToken)) throw new HandshakeError('invalid resident link');
      const c = await cases.findByToken(given.residentToken);
      if (!c) throw new HandshakeError('unknown resident link');
      return { ...base, lang: chosen ?? (isLanguage(c.language) ? c.language : DEFAULT_LANGUAGE), kind: 'resident', caseId: c.id };
    }
    if (given.token !== undefined) {
      const found = typeof given.token === 'string' && given.token.length < 200 ? await auth.authenticateApiToken(given.token) : undefined;
      if (!found) throw new HandshakeError('invalid or revoked API token');
      return { ...base, kind: 'staff', user: found.user, tokenId: found.tokenId, ...(found.scope === 'wallboard' ? { wallboard: true } : {}) };
    }
    const token = cookies[names.session];
    const session = token ? await auth.resumeSession(token) : undefined;
    if (session) return { ...base, kind: 'staff', user: session.user, sessionId: session.sessionId };
    // A TV that opened /tavla?nyckel=…: its cookie holds the token, good for the board alone.
    const key = cookies[names.wallboard];
    if (key !== undefined) {
      const found = await auth.authenticateWallboard(key);
      if (!found) throw new HandshakeError('invalid or revoked wallboard key: open /tavla?nyckel=… again');
      return { ...base, kind: 'staff', user: found.user, tokenId: found.tokenId, wallboard: true };
    }
    throw new HandshakeError('unauthorized: sign in first');
  }

  function onConnection(socket: LiveSocket): void {
    const d = socket.data;
    const budget = eventBudget(config.live.eventsPer10s);
    const ok = <R extends Record<string, unknown>>(r: R): Ack<R> => ({ ok: true, ...r });
    const forbidden = { ok: false as const, error: 'forbidden' as const, message: 'Not allowed for this connection' };
    // The protocol's table says who may send each event (the authorization tests read the same table).
    const mayUse = (name: ClientEventName) => mayUseClientEvent(name, { kind: d.kind, wallboard: d.wallboard === true, role: d.user?.role });
    // A wallboard is nobody at work: it joins no staff room and counts as nobody's connection.
    if (d.kind === 'staff' && !d.wallboard) {
      socket.join(['staff', ...(d.sessionId ? [`session:${d.sessionId}`] : []), ...(hasRole(d.user!.role, 'manager') ? ['managers'] : [])]);
      announcePresence();
    }

    guardedEvent(socket, 'subscribe', clientEvents.subscribe, budget, logger, async (input) => {
      if (!mayUse('subscribe')) return forbidden;
      if (d.wallboard) {
        if (!input.board || input.queue || input.case !== undefined) return forbidden;
        for (const r of d.rooms) void socket.leave(r);
        d.rooms = [`board:${d.lang}`];
        socket.join(d.rooms);
        return ok({ cursor: feed.delivered, board: await boardView(d.lang) });
      }
      // A staff socket is at least an agent (mayUse above): the board is for staff sockets.
      if (input.board && d.kind !== 'staff') return forbidden;
      const audiences: Audience[] = [];
      let viewing: SocketData['viewing'];
      if (d.kind === 'resident') {
        if (input.queue || input.case) return forbidden;
        audiences.push({ scope: 'resident', caseId: d.caseId!, lang: d.lang });
      } else {
        audiences.push({ scope: 'user', userId: d.user!.id, lang: d.lang });
        if (input.queue) audiences.push({ scope: 'queue', lang: d.lang });
        if (input.case) {
          const c = await cases.findByReference(input.case);
          if (!c) return { ok: false, error: 'not_found', message: `No case ${input.case}` };
          audiences.push({ scope: 'case', caseId: c.id, lang: d.lang });
          viewing = { caseId: c.id, reference: c.reference };
        }
      }
      for (const r of d.rooms) void socket.leave(r);
      const before = d.viewing;
      if (before && before.caseId !== viewing?.caseId) {
        void socket.leave(`viewers:${before.caseId}`);
        d.viewing = undefined;
        d.typing = false;
        await announceViewers(before);
      }
      const result = await catchUp(socket, audiences, input.since ?? feed.delivered);
      if (result === 'reload') return { ok: false, error: 'reload', message: 'Too much was missed; reload the page' };
      const reply: { cursor: number; counts?: QueueCounts; viewers?: Viewer[]; board?: BoardView } = { cursor: result.cursor };
      if (input.board) {
        const room = `board:${d.lang}`;
        d.rooms.push(room);
        socket.join(room);
        reply.board = await boardView(d.lang);
      }
      if (viewing) {
        d.viewing = viewing;
        socket.join(`viewers:${viewing.caseId}`);
        reply.viewers = await announceViewers(viewing);
      }
      if (input.queue) reply.counts = describeCounts(await queue.snapshot(), d.lang);
      if (d.kind === 'staff' && hasRole(d.user!.role, 'manager')) socket.emit('presence', { agents: await presenceList() });
      return ok(reply);
    });

    guardedEvent(socket, 'typing', clientEvents.typing, budget, logger, async (input) => {
      if (!mayUse('typing')) return forbidden;
      if (d.viewing?.reference !== input.case) return { ok: false, error: 'invalid', message: 'Subscribe to the case before typing on it' };
      if (d.typing !== input.typing) {
        d.typing = input.typing;
        await announceViewers(d.viewing);
      }
      return ok({});
    });

    guardedEvent(socket, 'presence', clientEvents.presence, budget, logger, async (input) => {
      if (!mayUse('presence')) return forbidden;
      return ok({ status: await presence.set(d.user!, input) });
    });

    socket.onAny((name: unknown, ...args: unknown[]) => {
      // Own keys only: 'toString' or 'constructor' are no events (`in` would see them on the prototype and leave them unanswered).
      if (typeof name === 'string' && Object.hasOwn(clientEvents, name)) return;
      const ack = args[args.length - 1];
      if (budget.take() === 'disconnect') return void socket.disconnect(true);
      const failure = { ok: false, error: 'unknown_event', message: `There is no event ${String(name).slice(0, 50)}` };
      if (typeof ack === 'function') (ack as (a: unknown) => void)(failure);
    });

    socket.on('disconnect', () => {
      if (d.viewing) void announceViewers(d.viewing).catch(() => undefined);
      if (d.kind === 'staff' && !d.wallboard) announcePresence();
    });
  }

  /**
   * Connections of sessions that ended or idled out, and of API tokens
   * revoked since (a wallboard's too), are closed once a minute (sign-out
   * closes them at once).
   */
  async function dropDeadSessions(): Promise<void> {
    if (!rt) return;
    const sockets = [...rt.io.of('/').sockets.values()] as LiveSocket[];
    const ids = [...new Set(sockets.map((s) => s.data.sessionId).filter((id): id is string => Boolean(id)))];
    const tokenIds = [...new Set(sockets.map((s) => s.data.tokenId).filter((id): id is number => id !== undefined))];
    if (!ids.length && !tokenIds.length) return;
    const [live, liveTokens] = await Promise.all([ids.length ? auth.liveSessions(ids) : new Set<string>(), tokenIds.length ? auth.liveApiTokens(tokenIds) : new Set<number>()]);
    for (const s of sockets) {
      if ((s.data.sessionId && !live.has(s.data.sessionId)) || (s.data.tokenId !== undefined && !liveTokens.has(s.data.tokenId))) s.disconnect(true);
    }
  }

  let cursorSent = 0;
  return {
    feed,
    get io() {
      return rt?.io;
    },

    /** Starts Socket.IO on the HTTP server and follows the event log. */
    async attach(http: HttpServer): Promise<void> {
      rt = await createRealtimeServer(http, { config, logger });
      const io = rt.io;
      io.use((socket, next) => {
        identify(socket as LiveSocket)
          .then((data) => {
            socket.data = data;
            next();
          })
          .catch((err: unknown) => {
            if (!(err instanceof HandshakeError)) logger.error({ err }, 'live handshake failed');
            next(new Error(err instanceof HandshakeError ? err.message : 'handshake failed'));
          });
      });
      io.on('connection', (socket) => onConnection(socket as LiveSocket));
      await feed.start();
      const remote = Boolean(config.live.redisUrl);
      // Other instances wake this one's feed after their commits; the event itself comes from the log.
      if (remote) io.on('feed:wake', () => feed.wake());
      if (remote) io.on('board:wake', () => scheduleBoard());
      let wakePending = false;
      cleanups.push(
        bus.subscribe(() => {
          feed.wake();
          if (!remote || wakePending) return;
          wakePending = true;
          setImmediate(() => {
            wakePending = false;
            rt?.io.serverSideEmit('feed:wake');
          });
        }),
        presence.onChange(announcePresence),
        auth.onSessionEnded((sessionId) => rt?.io.in(`session:${sessionId}`).disconnectSockets(true)),
      );
      timers.push(
        setInterval(() => void dropDeadSessions().catch((err: unknown) => logger.warn({ err }, 'could not check live sessions')), 60_000),
        setInterval(scheduleBoard, BOARD_REFRESH_MS),
        // A page that hears nothing for a while still moves its resume point forward.
        setInterval(() => {
          if (feed.delivered !== cursorSent) {
            cursorSent = feed.delivered;
            rt?.io.local.to('synced').emit('cursor', cursorSent);
          }
        }, 5_000),
      );
      for (const t of timers) t.unref();
    },

    onlineUserIds,

    /** Something the live board shows changed outside the case event log (a call, say): the boards update within a second. */
    boardChanged,

    /** Closes connections whose session ended or whose API token was revoked (runs every minute by itself). */
    dropDeadConnections: dropDeadSessions,

    /**
     * Something for one agent's pages only, on whichever instance they are
     * connected, rendered in each page's language (e.g. a caller's history
     * when they answer a call). Not from the event log: a page that is not
     * connected at that moment does not get it later.
     */
    pushToUser(userId: number, event: 'caller', build: (lang: Language) => unknown): void {
      if (!rt) return;
      for (const lang of STAFF_LANGUAGES) rt.io.to(`user:${userId}:${lang}`).emit(event, build(lang));
    },

    /** The position a page rendered now can resume from: read it before the page's data. */
    cursor: () => cases.lastEventId(),

    async close(): Promise<void> {
      for (const c of cleanups.splice(0)) c();
      for (const t of timers.splice(0)) clearInterval(t);
      if (presencePending) clearTimeout(presencePending);
      if (boardTimer) clearTimeout(boardTimer);
      boardTimer = undefined;
      await feed.stop();
      await rt?.close();
      rt = undefined;
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;
