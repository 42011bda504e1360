import { z } from 'zod';
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
  subscribe: z.strictObject({ since: eventId, queue: z.boolean().optional(), case: reference.optional() }),
  /** The agent has the reply box of a case in use (or stopped). */
  typing: z.strictObject({ case: reference, typing: z.boolean() }),
  /** The agent's own status. */
  presence: z.strictObject({ status: z.enum(PRESENCE_STATUSES) }),
} as const;

export type ClientEventName = keyof typeof clientEvents;
export type SubscribeRequest = z.infer<typeof clientEvents.subscribe>;

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

/** Server → client events and their payloads. */
export interface ServerEvents {
  live: (m: LiveMessage) => void;
  counts: (c: QueueCounts) => void;
  viewers: (v: { reference: string; viewers: Viewer[] }) => void;
  presence: (p: { agents: AgentPresence[] }) => void;
  /** A call this agent has just answered: who is calling, with their earlier cases and callbacks (only to that agent). */
  caller: (c: { callId: string; caller: string; html: string }) => void;
  /** Every message up to this event id has been sent to this socket: resume from here. */
  cursor: (id: number) => void;
  /** An event sent without an acknowledgement callback failed. */
  failure: (f: { event: string; ok: false; error: ErrorCode; message: string }) => void;
}
