import type { Knex } from 'knex';

export interface ResidentRow {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
}

export function createResidentStore() {
  return {
    /** A bounce says mail to this address does not arrive; agents see it, and can correct the address. */
    async markEmailFailing(trx: Knex.Transaction, email: string, failure: string): Promise<number> {
      return trx('residents')
        .whereRaw('lower(email) = lower(?)', [email])
        .update({ email_failing_at: trx.fn.now(), email_failure: failure.slice(0, 500), updated_at: trx.fn.now() });
    },

    async findById(trx: Knex.Transaction, id: number): Promise<ResidentRow | undefined> {
      return trx<ResidentRow>('residents').where({ id }).first('id', 'name', 'email', 'phone');
    },

    /**
     * One resident per e-mail address (or, without one, per phone number): a
     * new contact from a known address joins that resident's cases. The name
     * given replaces the one on file, unless `nameIsGuess` (a name made up
     * from the address, for a form that asks for none): then a known
     * resident keeps theirs.
     */
    async findOrCreate(trx: Knex.Transaction, r: { name: string; email?: string | null; phone?: string | null; nameIsGuess?: boolean }): Promise<ResidentRow> {
      const email = r.email ?? null;
      const phone = r.phone ?? null;
      if (email) {
        const { rows } = await trx.raw<{ rows: ResidentRow[] }>(
          `INSERT INTO residents (name, email, phone) VALUES (?, ?, ?)
           ON CONFLICT ((lower(email))) WHERE email IS NOT NULL
           DO UPDATE SET name = CASE WHEN ? THEN residents.name ELSE excluded.name END, phone = coalesce(excluded.phone, residents.phone), updated_at = now()
           RETURNING id, name, email, phone`,
          [r.name, email, phone, r.nameIsGuess === true],
        );
        const row = rows[0];
        return row as ResidentRow;
      }
      // The same number however it was written (070-…, +46 70 …): compared by its key.
      const existing = phone ? await trx<ResidentRow>('residents').whereRaw('phone_key = sc_phone_key(?)', [phone]).whereNull('email').orderBy('id').first('id', 'name', 'email', 'phone') : undefined;
      if (existing) {
        await trx('residents').where({ id: existing.id }).update({ name: r.name, updated_at: trx.fn.now() });
        return { ...existing, name: r.name };
      }
      const [row] = await trx('residents').insert({ name: r.name, email: null, phone }).returning(['id', 'name', 'email', 'phone']);
      return row as ResidentRow;
    },
  };
}

export type ResidentStore = ReturnType<typeof createResidentStore>;
