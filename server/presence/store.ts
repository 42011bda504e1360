import type { Knex } from 'knex';
import type { PresenceStatus } from '../live/protocol.js';

export interface PresenceRow {
  id: number;
  name: string;
  role: string;
  presence: PresenceStatus;
  presence_changed_at: Date;
}

export function createPresenceStore(db: Knex) {
  return {
    /** The new status and a line in its history, together. */
    async set(userId: number, status: PresenceStatus): Promise<PresenceRow | undefined> {
      return db.transaction(async (trx) => {
        const [row] = await trx('users')
          .where({ id: userId, active: true })
          .update({ presence: status, presence_changed_at: trx.fn.now() })
          .returning(['id', 'name', 'role', 'presence', 'presence_changed_at']);
        if (row) await trx('presence_log').insert({ user_id: userId, status });
        return row as PresenceRow | undefined;
      });
    },

    async get(userId: number): Promise<PresenceRow | undefined> {
      return db('users').where({ id: userId }).first('id', 'name', 'role', 'presence', 'presence_changed_at');
    },

    async listActive(): Promise<PresenceRow[]> {
      return db('users').where({ active: true }).orderBy('name').select('id', 'name', 'role', 'presence', 'presence_changed_at');
    },
  };
}

export type PresenceStore = ReturnType<typeof createPresenceStore>;
