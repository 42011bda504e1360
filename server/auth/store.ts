import type { Knex } from 'knex';
import type { AuthUser, Role, TokenScope } from './roles.js';

export interface UserRow extends AuthUser {
  password_hash: string;
  active: boolean;
  created_at: Date;
  /** The telephony platform's extension for this user (digits), if any. */
  phone_extension?: string | null;
  /** May see the name and contact details of residents with protected identity (granted on /admin/users). */
  sees_protected?: boolean;
}

export interface SessionRow {
  id: string;
  user_id: number;
  csrf_secret: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

const USER_COLUMNS = ['id', 'email', 'name', 'role', 'active', 'created_at', 'phone_extension', 'sees_protected'] as const;

export function createAuthStore(db: Knex) {
  return {
    async findUserByEmail(email: string): Promise<UserRow | undefined> {
      return db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first();
    },
    async findUserById(id: number): Promise<UserRow | undefined> {
      return db<UserRow>('users').where({ id }).first();
    },
    async findActiveUser(id: number): Promise<Pick<UserRow, 'id' | 'name'> | undefined> {
      return db('users').where({ id, active: true }).first('id', 'name');
    },
    async listUsers(): Promise<Omit<UserRow, 'password_hash'>[]> {
      return db('users').select(USER_COLUMNS).orderBy([{ column: 'active', order: 'desc' }, 'name']);
    },
    async listActiveAgents(): Promise<Pick<UserRow, 'id' | 'name' | 'role'>[]> {
      return db('users').select('id', 'name', 'role').where({ active: true }).orderBy('name');
    },
    async insertUser(u: { email: string; name: string; role: Role; passwordHash: string }): Promise<UserRow> {
      const [row] = await db('users')
        .insert({ email: u.email, name: u.name, role: u.role, password_hash: u.passwordHash })
        .returning('*');
      return row as UserRow;
    },
    async updateUser(id: number, patch: Partial<{ name: string; role: Role; active: boolean; password_hash: string; phone_extension: string | null }>): Promise<UserRow | undefined> {
      const [row] = await db('users').where({ id }).update({ ...patch, updated_at: db.fn.now() }).returning('*');
      return row as UserRow | undefined;
    },
    async findUserByExtension(extension: string): Promise<Pick<UserRow, 'id' | 'name'> | undefined> {
      return db('users').where({ phone_extension: extension }).first('id', 'name');
    },
    async countUsers(): Promise<number> {
      const row = await db('users').count<{ count: string | number }[]>('* as count').first();
      return Number(row?.count ?? 0);
    },

    async insertSession(s: { id: string; userId: number; csrfSecret: string; expiresAt: Date }): Promise<void> {
      await db('sessions').insert({ id: s.id, user_id: s.userId, csrf_secret: s.csrfSecret, expires_at: s.expiresAt });
    },
    /** Which of these sessions are still live (not ended, expired or idle, user active); touches nothing. */
    async liveSessionIds(ids: string[], idleSince: Date): Promise<string[]> {
      if (!ids.length) return [];
      const rows = await db('sessions as s')
        .join('users as u', 'u.id', 's.user_id')
        .whereIn('s.id', ids)
        .andWhere('s.expires_at', '>', db.fn.now())
        .andWhere('s.last_seen_at', '>', idleSince)
        .andWhere('u.active', true)
        .select<{ id: string }[]>('s.id');
      return rows.map((r) => r.id);
    },

    async findLiveSession(id: string, idleSince: Date): Promise<(SessionRow & { user: UserRow }) | undefined> {
      const row = await db('sessions as s')
        .join('users as u', 'u.id', 's.user_id')
        .where('s.id', id)
        .andWhere('s.expires_at', '>', db.fn.now())
        .andWhere('s.last_seen_at', '>', idleSince)
        .andWhere('u.active', true)
        .first('s.*', 'u.email', 'u.name', 'u.role', 'u.sees_protected');
      if (!row) return undefined;
      const { email, name, role, sees_protected, ...session } = row as SessionRow & { email: string; name: string; role: Role; sees_protected: boolean };
      return { ...session, user: { id: session.user_id, email, name, role, sees_protected } as UserRow };
    },
    async touchSession(id: string): Promise<void> {
      await db('sessions').where({ id }).update({ last_seen_at: db.fn.now() });
    },
    async deleteSession(id: string): Promise<void> {
      await db('sessions').where({ id }).delete();
    },
    /** Ends every session of the user; answers the ended ids so their live connections can close. */
    async deleteSessionsOfUser(userId: number): Promise<string[]> {
      const rows: { id: string }[] = await db('sessions').where({ user_id: userId }).delete().returning('id');
      return rows.map((r) => r.id);
    },

    /**
     * A new password and a fresh start for sessions, in one transaction: the
     * hash changes, every session of the user ends (answered, to close their
     * sockets) and the one given is started instead.
     */
    async replacePassword(userId: number, passwordHash: string, next: { id: string; csrfSecret: string; expiresAt: Date }): Promise<string[]> {
      return db.transaction(async (trx) => {
        const updated = await trx('users').where({ id: userId, active: true }).update({ password_hash: passwordHash, updated_at: trx.fn.now() });
        if (!updated) return [];
        const rows: { id: string }[] = await trx('sessions').where({ user_id: userId }).delete().returning('id');
        await trx('sessions').insert({ id: next.id, user_id: userId, csrf_secret: next.csrfSecret, expires_at: next.expiresAt });
        return rows.map((r) => r.id);
      });
    },

    /**
     * Takes a sign-in attempt for an e-mail key, in one statement so parallel
     * attempts cannot race: answers the attempt's number within the window, or
     * undefined when the key is locked (the attempt is refused uncounted). The
     * attempt that reaches the threshold sets the lock itself, before its
     * password is checked, so none beyond it is ever checked; a later success
     * clears it (clearLoginFailures). A lock that has run out, or a last
     * attempt older than the window, starts the count again.
     */
    async takeLoginAttempt(emailKey: string, limits: { threshold: number; minutes: number; windowMinutes: number }): Promise<number | undefined> {
      const fresh = `(f.locked_until IS NOT NULL OR f.updated_at <= now() - (?::int * interval '1 minute'))`;
      const result = await db.raw<{ rows: { failures: number }[] }>(
        `INSERT INTO login_failures AS f (email_key, failures, locked_until, updated_at)
         VALUES (?, 1, CASE WHEN 1 >= ?::int THEN now() + (?::int * interval '1 minute') END, now())
         ON CONFLICT (email_key) DO UPDATE SET
           failures = CASE WHEN ${fresh} THEN 1 ELSE f.failures + 1 END,
           locked_until = CASE WHEN (CASE WHEN ${fresh} THEN 1 ELSE f.failures + 1 END) >= ?::int THEN now() + (?::int * interval '1 minute') END,
           updated_at = now()
         WHERE f.locked_until IS NULL OR f.locked_until <= now()
         RETURNING failures`,
        [emailKey, limits.threshold, limits.minutes, limits.windowMinutes, limits.windowMinutes, limits.threshold, limits.minutes],
      );
      const row = result.rows[0];
      return row ? Number(row.failures) : undefined;
    },
    async clearLoginFailures(emailKey: string): Promise<void> {
      await db('login_failures').where({ email_key: emailKey }).delete();
    },
    /** Forgets counts that can no longer lock anything (no lock in force, last attempt outside the window). */
    async pruneLoginFailures(windowMinutes: number): Promise<number> {
      return db('login_failures')
        .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', db.fn.now()))
        .andWhere('updated_at', '<=', db.raw(`now() - (?::int * interval '1 minute')`, [windowMinutes]))
        .delete();
    },
    async revokeApiTokensOfUser(userId: number): Promise<void> {
      await db('api_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
    },
    async deleteExpiredSessions(idleSince: Date): Promise<number> {
      return db('sessions').where('expires_at', '<', db.fn.now()).orWhere('last_seen_at', '<', idleSince).delete();
    },

    /** A user's API tokens, newest first (never their secrets: only a hash is stored). */
    async apiTokensOfUser(userId: number): Promise<ApiTokenRow[]> {
      return db('api_tokens').where({ user_id: userId }).orderBy('id', 'desc').select('id', 'name', 'scope', 'created_at', 'last_used_at', 'revoked_at');
    },

    /** Revokes one token; false when there is no such token or it was revoked already. */
    async revokeApiToken(id: number): Promise<boolean> {
      const n = await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
      return n > 0;
    },

    async insertApiToken(t: { userId: number; tokenHash: string; name: string; scope: TokenScope }): Promise<number> {
      const [row] = await db('api_tokens').insert({ user_id: t.userId, token_hash: t.tokenHash, name: t.name, scope: t.scope }).returning('id');
      return (row as { id: number }).id;
    },
    async findUserByApiToken(tokenHash: string): Promise<{ tokenId: number; lastUsedAt: Date | null; scope: TokenScope; user: UserRow } | undefined> {
      const row = await db('api_tokens as t')
        .join('users as u', 'u.id', 't.user_id')
        .where('t.token_hash', tokenHash)
        .whereNull('t.revoked_at')
        .andWhere('u.active', true)
        .first('t.id as token_id', 't.last_used_at as token_last_used_at', 't.scope as token_scope', 'u.*');
      if (!row) return undefined;
      const { token_id, token_last_used_at, token_scope, ...user } = row as UserRow & { token_id: number; token_last_used_at: Date | null; token_scope: TokenScope };
      return { tokenId: token_id, lastUsedAt: token_last_used_at, scope: token_scope, user };
    },
    /** Which of these tokens still work (not revoked, user active); touches nothing. */
    async liveApiTokenIds(ids: number[]): Promise<number[]> {
      if (!ids.length) return [];
      const rows = await db('api_tokens as t')
        .join('users as u', 'u.id', 't.user_id')
        .whereIn('t.id', ids)
        .whereNull('t.revoked_at')
        .andWhere('u.active', true)
        .select<{ id: number }[]>('t.id');
      return rows.map((r) => Number(r.id));
    },
    async touchApiToken(id: number): Promise<void> {
      await db('api_tokens').where({ id }).update({ last_used_at: db.fn.now() });
    },
  };
}

export type AuthStore = ReturnType<typeof createAuthStore>;

export interface ApiTokenRow {
  id: number;
  name: string;
  scope: TokenScope;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
