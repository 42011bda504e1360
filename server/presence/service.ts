import type { AuthUser } from '../auth/roles.js';
import { NotFoundError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import { clientEvents, type AgentPresence, type PresenceStatus } from '../live/protocol.js';
import type { PresenceStore } from './store.js';

/**
 * Agents say whether they are available, busy or on a break; managers see it
 * live, with whether each one is signed in to the workspace right now.
 */
export function createPresenceService(deps: { store: PresenceStore }) {
  const { store } = deps;
  const listeners = new Set<() => void>();
  return {
    async set(user: AuthUser, input: unknown): Promise<PresenceStatus> {
      const { status } = parseOrThrow(clientEvents.presence, input);
      const row = await store.set(user.id, status);
      if (!row) throw new NotFoundError('No such active user');
      for (const l of listeners) l();
      return row.presence;
    },

    async statusOf(userId: number): Promise<PresenceStatus> {
      return (await store.get(userId))?.presence ?? 'available';
    },

    /** Every active user's status; `online` holds the ids with a live connection. */
    async list(online: ReadonlySet<number>): Promise<AgentPresence[]> {
      return (await store.listActive()).map((r) => ({
        userId: r.id,
        name: r.name,
        role: r.role,
        status: r.presence,
        since: new Date(r.presence_changed_at).toISOString(),
        online: online.has(r.id),
      }));
    },

    /** Called after every change, so the live workspace can tell managers. */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type PresenceService = ReturnType<typeof createPresenceService>;
