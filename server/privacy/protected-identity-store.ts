import type { Knex } from 'knex';

/**
 * The SQL of protected identity (skyddad identitet): the flag on a resident
 * and the permission on a user to see such a resident's contact details.
 */
export function createProtectedIdentityStore(db: Knex) {
  return {
    async seesProtected(userId: number): Promise<boolean> {
      const row = await db('users').where({ id: userId }).first<{ sees_protected: boolean } | undefined>('sees_protected');
      return row?.sees_protected === true;
    },

    /** False when there is no such user. */
    async setSeesProtected(userId: number, value: boolean): Promise<boolean> {
      const n = await db('users').where({ id: userId }).update({ sees_protected: value, updated_at: db.fn.now() });
      return n > 0;
    },

    /** The case's resident and their flag, read on the change's transaction (the case row is locked). */
    async residentOfCase(trx: Knex.Transaction, caseId: number): Promise<{ id: number; protected_identity: boolean }> {
      return trx('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('c.id', caseId).first('r.id', 'r.protected_identity');
    },

    async setResidentProtected(trx: Knex.Transaction, residentId: number, value: boolean): Promise<void> {
      await trx('residents').where({ id: residentId }).update({ protected_identity: value, updated_at: trx.fn.now() });
    },

    /** Whether a number belongs to a resident with protected identity, however it was written. */
    async phoneIsProtected(phone: string): Promise<boolean> {
      const row = await db('residents').whereRaw('phone_key = sc_phone_key(?)', [phone]).andWhere('protected_identity', true).first('id');
      return Boolean(row);
    },
  };
}

export type ProtectedIdentityStore = ReturnType<typeof createProtectedIdentityStore>;
