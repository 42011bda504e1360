import { io, type Socket } from 'socket.io-client';
import type { Ack, LiveMessage, PresenceStatus, QueueCounts, ServerEvents, SubscribeRequest, Viewer } from '../../../server/live/protocol.js';
import { byId } from './dom.js';

export interface Subscribed {
  cursor: number;
  counts?: QueueCounts;
  viewers?: Viewer[];
}

/** Client → server events, each answered through its acknowledgement. */
export interface ClientEvents {
  subscribe: (req: SubscribeRequest, ack: (a: Ack<Subscribed>) => void) => void;
  typing: (p: { case: string; typing: boolean }, ack: (a: Ack) => void) => void;
  presence: (p: { status: PresenceStatus }, ack: (a: Ack) => void) => void;
}

export type LiveSocket = Socket<ServerEvents, ClientEvents>;

export interface LiveOptions {
  /** The page root: data-live-cursor is the last event the server-rendered page includes. */
  root: HTMLElement;
  /** What this page follows (the cursor is added on every subscribe). */
  follow: Omit<SubscribeRequest, 'since'>;
  auth?: Record<string, string>;
  onMessage(m: LiveMessage): void;
  onSubscribed?(s: Subscribed): void;
}

const ACK_TIMEOUT_MS = 15_000;
const RETRY_MS = 5_000;
/** A page that was reloaded for 'reload' this recently is not reloaded again (no reload loop). */
const RELOAD_GUARD_MS = 30_000;
const RELOAD_KEY = 'sc-live-reloaded-at';

/** Whether a reload is allowed now (and if so, remembers it): storage that is off allows it. */
function mayReload(): boolean {
  try {
    const last = Number(sessionStorage.getItem(RELOAD_KEY));
    if (Date.now() - last < RELOAD_GUARD_MS) return false;
    sessionStorage.setItem(RELOAD_KEY, String(Date.now()));
  } catch {
    // No storage: reload; the server sends 'reload' only when much was missed.
  }
  return true;
}

type LineState = 'connecting' | 'connected' | 'reconnecting' | 'off';

/** The connection line: a short text in a polite status region. */
class ConnectionLine {
  private readonly el = byId('live-connection');
  private state: LineState | undefined;

  set(state: LineState): void {
    if (!this.el || state === this.state) return;
    this.state = state;
    this.el.hidden = false;
    this.el.dataset.state = state;
    this.el.textContent = this.el.dataset[`text${state[0]!.toUpperCase()}${state.slice(1)}`] ?? '';
  }
}

/**
 * One socket per page. On every (re)connect it subscribes again from the
 * highest event id it knows, so nothing is missed across a dropped
 * connection, and shows each (event id, scope) once.
 */
export class LiveConnection {
  readonly socket: LiveSocket;
  private readonly line = new ConnectionLine();
  private readonly seen = new Set<string>();
  /** Events up to this id are already in the server-rendered page. */
  private readonly pageCursor: number;
  private cursor: number;
  private retry: number | undefined;

  constructor(private readonly opts: LiveOptions) {
    const fromPage = Number(opts.root.dataset.liveCursor);
    this.pageCursor = Number.isSafeInteger(fromPage) && fromPage >= 0 ? fromPage : 0;
    this.cursor = this.pageCursor;
    this.line.set('connecting');
    this.socket = io({ ...(opts.auth ? { auth: opts.auth } : {}) }) as LiveSocket;
    this.socket.on('live', (m) => this.receive(m));
    this.socket.on('connect', () => void this.subscribe());
    this.socket.on('disconnect', (reason) => {
      this.line.set('reconnecting');
      // The server let go of us on purpose (a restart, say): socket.io does not retry by itself then.
      if (reason === 'io server disconnect') this.later(() => this.socket.connect());
    });
    this.socket.on('connect_error', () => {
      // A refused handshake (signed out, say) is not retried by socket.io; a network error is.
      this.line.set(this.socket.active ? 'reconnecting' : 'off');
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  private receive(m: LiveMessage): void {
    if (!m || typeof m.id !== 'number') return;
    if (m.id > this.cursor) this.cursor = m.id;
    const key = `${m.id}:${m.scope}`;
    if (m.id <= this.pageCursor || this.seen.has(key)) return;
    this.seen.add(key);
    try {
      this.opts.onMessage(m);
    } catch (err) {
      // One message the page cannot show must not stop the ones after it.
      console.error('live: could not show event', m.id, err);
    }
  }

  private later(fn: () => void): void {
    window.clearTimeout(this.retry);
    this.retry = window.setTimeout(fn, RETRY_MS);
  }

  private async subscribe(): Promise<void> {
    window.clearTimeout(this.retry);
    const socket = this.socket;
    let ack: Ack<Subscribed>;
    try {
      ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', { ...this.opts.follow, since: this.cursor });
    } catch {
      // No answer: try again on this connection (a new connection subscribes by itself).
      if (socket.connected) this.later(() => void this.subscribe());
      return;
    }
    if (ack.ok) {
      if (ack.cursor > this.cursor) this.cursor = ack.cursor;
      this.line.set('connected');
      this.opts.onSubscribed?.(ack);
      return;
    }
    if (ack.error === 'reload') {
      if (mayReload()) {
        location.reload();
        return;
      }
    } else if (ack.error === 'rate_limited' || ack.error === 'internal') {
      this.line.set('reconnecting');
      this.later(() => void this.subscribe());
      return;
    }
    console.error('live: subscribe refused', ack.error, ack.message);
    this.line.set('off');
    socket.disconnect();
  }
}
