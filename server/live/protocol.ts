import { z } from 'zod';
import { hasRole, type Role } from '../auth/roles.js';
import { REFERENCE_PATTERN } from '../cases/reference.js';

/**
 * The live workspace's wire protocol, shared by the server and the browser
 * script (which imports only the types). Every client event is validated
 * against these schemas and answered through its acknowledgement with either
 * `{ ok: true, … }` or `{ ok: false, error, message }`.
 */

export const PRESENCE_STATUSES = ['available', 'busy', 'break'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

const eventId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const reference = z.string().regex(REFERENCE_PATTERN, 'not a case reference');

export const clientEvents = {
  /**
   * What this page follows, and the last event id it has seen (from the page's
   * data-live-cursor, then from the messages). Everything after `since` that
   * the socket may see is sent, in order, before the acknowledgement.
   */
  subscribe: z
    .strictObject({ since: eventId.optional(), queue: z.boolean().optional(), case: reference.optional(), board: z.boolean().optional() })
    // `board`: the live board's figures (event `board`), for staff and wallboards; a board-only page may leave `since` out.
    .refine((s) => s.since !== undefined || (s.board === true && !s.queue && s.case === undefined), {
      path: ['since'],
      message: 'since is required (only a subscription to the board alone may leave it out)',
    }),
  /** The agent has the reply box of a case in use (or stopped). */
  typing: z.strictObject({ case: reference, typing: z.boolean() }),
  /** The agent's own status. */
  presence: z.strictObject({ status: z.enum(PRESENCE_STATUSES) }),
} as const;

export type ClientEventName = keyof typeof clientEvents;
export type SubscribeRequest = z.infer<typeof clientEvents.subscribe>;

/** Every client → server event the server handles; anything else is answered with unknown_event. */
export const CLIENT_EVENT_NAMES = Object.keys(clientEvents) as ClientEventName[];

/**
 * Who may send a client event, by connection kind. The hub refuses anything
 * else with a `forbidden` acknowledgement before the handler runs, and the
 * authorization tests derive their expectations from this same table.
 * - staff: the least role of a signed-in user or a full-scope API token;
 * - resident: 'own-case' (a resident's link, about that one case only) or false;
 * - wallboard: 'board' (a wallboard key, following the live board alone) or false.
 */
export interface ClientEventAccess {
  staff: Role;
  resident: 'own-case' | false;
  wallboard: 'board' | false;
}

export const clientEventAccess: Record<ClientEventName, ClientEventAccess> = {
  subscribe: { staff: 'agent', resident: 'own-case', wallboard: 'board' },
  typing: { staff: 'agent', resident: false, wallboard: false },
  presence: { staff: 'agent', resident: false, wallboard: false },
};

/** Whether a connection may send the event at all (a subscription's contents are checked by the hub). */
export function mayUseClientEvent(name: ClientEventName, who: { kind: 'staff' | 'resident'; wallboard?: boolean; role?: Role }): boolean {
  const rule = clientEventAccess[name];
  if (who.kind === 'resident') return rule.resident !== false;
  if (who.wallboard) return rule.wallboard !== false;
  return who.role !== undefined && hasRole(who.role, rule.staff);
}

export type ErrorCode = 'invalid' | 'too_large' | 'rate_limited' | 'forbidden' | 'not_found' | 'reload' | 'unknown_event' | 'internal';
export type Ack<T = Record<string, never>> = ({ ok: true } & T) | { ok: false; error: ErrorCode; message: string };

/** A queue row as the queue partial rendered it, with what the page needs to place or drop it. */
export interface LiveRow {
  html: string;
  status: string;
  channel: string;
  category: string;
  createdAt: string;
  /** Its place in the queue (when it wants attention): rows are ordered by this, then by id. */
  queueAt: string;
  assigneeId: number | null;
}

/**
 * One committed case event, as one audience sees it. `scope` says which of the
 * socket's subscriptions it belongs to; a socket can get the same event once
 * per scope, and shows each (id, scope) once.
 */
export type LiveMessage =
  | { scope: 'queue'; id: number; reference: string; type: string; row: LiveRow | null }
  | { scope: 'case'; id: number; reference: string; type: string; entry: string | null; details: string | null; actorId: number | null; kind: string | null }
  | { scope: 'user'; id: number; reference: string; type: string; notice: string }
  | { scope: 'resident'; id: number; reference: string; type: string; entry: string | null; status: string | null; statusHtml: string | null };

export interface QueueCounts {
  /** Cases nobody has taken yet. */
  waiting: number;
  /** All cases not yet resolved. */
  active: number;
  byChannel: Record<string, number>;
  byCategory: { slug: string; name: string; count: number }[];
  oldest: { reference: string; since: string } | null;
}

export interface Viewer {
  userId: number;
  name: string;
  typing: boolean;
}

export interface AgentPresence {
  userId: number;
  name: string;
  role: string;
  status: PresenceStatus;
  since: string;
  online: boolean;
}

/**
 * The live board: what is waiting now and what happened so far today (the
 * local day in the statistics time zone). GET /api/v1/stats/live answers it;
 * the socket's `board` event carries it with the page's texts.
 */
export interface LiveBoardSnapshot {
  /** When it was computed. */
  at: string;
  /** Today, the local date (YYYY-MM-DD), and its zone. */
  day: string;
  timeZone: string;
  waiting: {
    total: number;
    /** Every channel, 0 included. */
    byChannel: { channel: string; count: number }[];
    /** Topics with something waiting, most first. */
    byCategory: { slug: string; nameSv: string; nameEn: string; count: number }[];
    /** The case that has waited longest (since it wanted attention). */
    oldest: { reference: string; since: string; waitSeconds: number } | null;
  };
  /** Active staff by their status, and how many of them have the workspace open now. */
  agents: Record<PresenceStatus, { total: number; connected: number }>;
  today: {
    /** Cases that arrived today. */
    contacts: number;
    /** Of those, resolved at the first contact; the share is of contacts (null with none). */
    answeredDirectly: number;
    answeredDirectlyShare: number | null;
    byChannel: { channel: string; contacts: number; answeredDirectly: number }[];
  };
  /** Calls offered today: answered, abandoned (ended unanswered), still in the queue. */
  phone: {
    offered: number;
    answered: number;
    abandoned: number;
    inQueue: number;
    /** Answered at most targetSeconds after being offered. */
    answeredWithinTarget: number;
    /** answeredWithinTarget / offered (null with no calls), beside the goal. */
    serviceLevel: number | null;
    targetSeconds: number;
    goal: number;
  };
  /** Pending callbacks due now, and due later today. */
  callbacks: { dueNow: number; laterToday: number };
}

/** The board as a page shows it, in its language: each figure's text by its data-figure key, and the topic rows. */
export interface BoardView {
  figures: Record<string, string>;
  categories: { slug: string; name: string; count: string }[];
  snapshot: LiveBoardSnapshot;
}

/** Server → client events and their payloads. */
export interface ServerEvents {
  live: (m: LiveMessage) => void;
  counts: (c: QueueCounts) => void;
  /** The live board, at most about once a second while something changes (board subscribers only). */
  board: (b: BoardView) => void;
  viewers: (v: { reference: string; viewers: Viewer[] }) => void;
  presence: (p: { agents: AgentPresence[] }) => void;
  /** A call this agent has just answered: who is calling, with their earlier cases and callbacks (only to that agent). */
  caller: (c: { callId: string; caller: string; html: string }) => void;
  /** Every message up to this event id has been sent to this socket: resume from here. */
  cursor: (id: number) => void;
  /** An event sent without an acknowledgement callback failed. */
  failure: (f: { event: string; ok: false; error: ErrorCode; message: string }) => void;
}
