import { createHash, createHmac, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { z } from 'zod';
import type { Config } from '../config.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { parseOrThrow } from '../platform/validation.js';
import { hasRole, ROLES, TOKEN_SCOPES, type AuthUser, type Role, type TokenScope } from './roles.js';
import type { ApiTokenRow, AuthStore } from './store.js';

export const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/**
 * argon2id; by default 64 MiB, t=3, p=4, as OWASP suggests (PASSWORD_HASH_*
 * can only raise or lower the cost, never change the algorithm). Each hash
 * carries its own parameters, so a changed cost applies to new passwords and
 * every stored hash still verifies.
 */
export const hashPassword = (password: string, cost: Config['passwordHash']) =>
  argon2.hash(password, { type: argon2.argon2id, memoryCost: cost.memoryKiB, timeCost: cost.timeCost, parallelism: 4 });

export const newUserSchema = z.object({
  email: z.email('errors.email_invalid').max(254, 'errors.too_long'),
  name: z.string().trim().min(1, 'errors.required').max(200, 'errors.too_long'),
  role: z.enum(ROLES, 'errors.invalid_choice'),
  password: z.string().min(12, 'errors.password_short').max(200, 'errors.too_long'),
});

/** The longest password anyone can have (newUserSchema); longer input is not worth hashing. */
const PASSWORD_MAX = 200;

/**
 * A signed-in user changing their own password. The repeat must match, and
 * the new one must differ from the current one; the current one is checked
 * last, by the service, as a sign-in attempt.
 */
export const passwordChangeSchema = z
  .object({
    current_password: z.string('errors.required').min(1, 'errors.required').max(PASSWORD_MAX, 'errors.too_long'),
    new_password: z.string('errors.required').min(1, 'errors.required').min(12, 'errors.password_short').max(PASSWORD_MAX, 'errors.too_long'),
    repeat_password: z.string('errors.required').min(1, 'errors.required').max(PASSWORD_MAX, 'errors.too_long'),
  })
  .superRefine((v, ctx) => {
    if (v.new_password !== v.repeat_password) ctx.addIssue({ code: 'custom', path: ['repeat_password'], message: 'account.errors.mismatch' });
    if (v.new_password === v.current_password) ctx.addIssue({ code: 'custom', path: ['new_password'], message: 'account.errors.same_as_current' });
  });

/** The key sign-in attempts are counted under: the e-mail as typed, trimmed and in lower case, known account or not. */
export const emailKeyOf = (email: string) => email.trim().toLowerCase();

/** How a sign-in attempt went; `locked`: refused (or now locked) for too many failures, whatever the password. */
export type SignInResult = { ok: true; user: AuthUser } | { ok: false; locked: boolean };

/** Who an API token acts for, and what it may do. */
export interface ApiTokenIdentity {
  user: AuthUser;
  scope: TokenScope;
  tokenId: number;
}

export interface SessionContext {
  sessionId: string;
  csrfSecret: string;
  user: AuthUser;
}

export function createAuthService(deps: {
  store: AuthStore;
  config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours' | 'passwordHash' | 'loginLockout' | 'sessionSecret'>;
  logger?: Pick<Logger, 'warn'>;
}) {
  const { store, config, logger } = deps;
  // Verifying against a real hash for unknown e-mails keeps the answer time the
  // same whether or not an account exists.
  const dummyHash = hashPassword(randomToken(), config.passwordHash);

  const idleSince = () => new Date(Date.now() - config.sessionIdleMinutes * 60_000);
  const endedListeners = new Set<(sessionId: string) => void>();
  const toAuthUser = (u: AuthUser): AuthUser => ({ id: u.id, email: u.email, name: u.name, role: u.role });
  /**
   * The user of this request (its session or token, read just now): with
   * the protected-identity permission, so a request needs no second query
   * for it. Only here: a user object kept longer would carry a stale value.
   */
  const toRequestUser = (u: AuthUser & { sees_protected?: boolean }): AuthUser => ({ ...toAuthUser(u), seesProtected: u.sees_protected === true });

  /** Tells the live workspace which sessions ended, so their sockets close at once. */
  function sessionsEnded(ids: Iterable<string>): void {
    for (const id of ids) for (const l of endedListeners) l(id);
  }

  /** A new session row's values: the cookie value is shown once, only its hash is stored. */
  function newSession() {
    const token = randomToken();
    return { token, id: sha256(token), csrfSecret: randomToken(), expiresAt: new Date(Date.now() + config.sessionMaxHours * 3_600_000) };
  }

  /** argon2id against the account's hash, or a dummy one, so the time does not tell whether the account exists. */
  async function checkPassword(user: { active: boolean; password_hash: string } | undefined, password: string): Promise<boolean> {
    const hash = user?.active ? user.password_hash : await dummyHash;
    try {
      return (await argon2.verify(hash, password)) && user?.active === true;
    } catch {
      return false;
    }
  }

  /**
   * A sign-in attempt counted per e-mail key before the password is looked at,
   * so that parallel attempts cannot slip past the threshold (see
   * store.takeLoginAttempt). Unknown and inactive accounts are counted and
   * locked the same way, so the answer never tells whether one exists.
   */
  async function attempt(email: string, password: string): Promise<SignInResult> {
    const key = emailKeyOf(email);
    // No account has a longer address (newUserSchema), nor a longer password: not counted, not hashed.
    if (!key || key.length > 254 || !password || password.length > PASSWORD_MAX) {
      await checkPassword(undefined, password.slice(0, PASSWORD_MAX));
      return { ok: false, locked: false };
    }
    const limits = config.loginLockout;
    const n = await store.takeLoginAttempt(key, limits);
    if (n === undefined) return { ok: false, locked: true };
    const user = await store.findUserByEmail(key);
    if (await checkPassword(user, password)) {
      await store.clearLoginFailures(key);
      return { ok: true, user: toAuthUser(user!) };
    }
    const locked = n >= limits.threshold;
    if (locked) {
      // Keyed, so the log can tell attempts on one address apart without holding the address.
      const emailHash = createHmac('sha256', config.sessionSecret).update(`login:${key}`).digest('hex').slice(0, 16);
      logger?.warn({ emailHash, failures: n, lockedMinutes: limits.minutes }, 'sign-in locked for an e-mail address after repeated failures');
    }
    return { ok: false, locked };
  }

  /** The user and scope of a working token (not revoked, user active); callers must honour the scope. */
  async function authenticateApiToken(token: string): Promise<ApiTokenIdentity | undefined> {
    const found = await store.findUserByApiToken(sha256(token));
    if (!found) return undefined;
    // Like sessions: "last used" to the minute, without a write on every call.
    if (!found.lastUsedAt || Date.now() - new Date(found.lastUsedAt).getTime() > 60_000) await store.touchApiToken(found.tokenId);
    return { user: toRequestUser(found.user), scope: found.scope, tokenId: found.tokenId };
  }

  return {
    async createUser(input: unknown): Promise<AuthUser> {
      const u = parseOrThrow(newUserSchema, input);
      if (await store.findUserByEmail(u.email)) throw new ConflictError(`A user with e-mail ${u.email} already exists`, 'user_exists');
      const row = await store.insertUser({ email: u.email, name: u.name, role: u.role, passwordHash: await hashPassword(u.password, config.passwordHash) });
      return toAuthUser(row);
    },

    /** A sign-in attempt, counted against the per-account lockout (LOGIN_LOCKOUT_*). */
    signIn: attempt,

    /**
     * The signed-in user changes their own password: the current one is
     * checked as a sign-in attempt (a wrong one counts toward the lockout),
     * then in one transaction the hash changes, every session of the user ends
     * and this one continues under a new id. Answers the new cookie value.
     */
    async changePassword(session: SessionContext, input: unknown): Promise<{ token: string }> {
      const v = parseOrThrow(passwordChangeSchema, input);
      const result = await attempt(session.user.email, v.current_password);
      if (!result.ok) {
        const code = result.locked ? 'login.locked' : 'account.errors.current_wrong';
        throw new ValidationError([{ field: 'current_password', code, message: result.locked ? 'Too many attempts: wait a while and try again' : 'The current password is wrong' }]);
      }
      if (result.user.id !== session.user.id) throw new UnauthorizedError();
      const next = newSession();
      const ended = await store.replacePassword(session.user.id, await hashPassword(v.new_password, config.passwordHash), next);
      // The user was deactivated in between: nothing changed, and this session is no longer valid.
      if (!ended.length) throw new UnauthorizedError();
      sessionsEnded(ended);
      return { token: next.token };
    },

    /** A new session with a new id and CSRF secret: the id is never reused across a login. */
    async startSession(user: AuthUser, previousToken?: string): Promise<{ token: string; session: SessionContext }> {
      if (previousToken) {
        // Whatever the browser held before (planted, or someone else's) ends here, with its sockets.
        const previousId = sha256(previousToken);
        await store.deleteSession(previousId);
        sessionsEnded([previousId]);
      }
      const { token, id: sessionId, csrfSecret, expiresAt } = newSession();
      await store.insertSession({ id: sessionId, userId: user.id, csrfSecret, expiresAt });
      return { token, session: { sessionId, csrfSecret, user } };
    },

    async resumeSession(token: string): Promise<SessionContext | undefined> {
      const id = sha256(token);
      const row = await store.findLiveSession(id, idleSince());
      if (!row) return undefined;
      // Touch at most once a minute to keep writes off the hot path.
      if (Date.now() - new Date(row.last_seen_at).getTime() > 60_000) await store.touchSession(id);
      return { sessionId: id, csrfSecret: row.csrf_secret, user: toRequestUser(row.user) };
    },

    async endSession(token: string): Promise<void> {
      const id = sha256(token);
      await store.deleteSession(id);
      sessionsEnded([id]);
    },

    /** Of these session ids, those still live; the live workspace drops connections of the others. */
    async liveSessions(ids: string[]): Promise<Set<string>> {
      return new Set(await store.liveSessionIds(ids, idleSince()));
    },

    /** Told the id of every session ended (sign-out, sign-in over it, password change or reset, deactivation), so its live connections close at once. */
    onSessionEnded(listener: (sessionId: string) => void): () => void {
      endedListeners.add(listener);
      return () => endedListeners.delete(listener);
    },

    authenticateApiToken,

    /**
     * A TV's key to the wallboard (from /tavla?nyckel= or its cookie): any
     * working token, of either scope, whose user is at least an agent.
     */
    async authenticateWallboard(token: unknown): Promise<ApiTokenIdentity | undefined> {
      if (typeof token !== 'string' || token.length === 0 || token.length > 200) return undefined;
      const found = await authenticateApiToken(token);
      return found && hasRole(found.user.role, 'agent') ? found : undefined;
    },

    /** Of these token ids, those that still work; the live workspace drops connections of the others. */
    async liveApiTokens(ids: number[]): Promise<Set<number>> {
      return new Set(await store.liveApiTokenIds(ids));
    },

    /** The API tokens of the user with this e-mail, newest first. */
    async listApiTokens(email: string): Promise<ApiTokenRow[]> {
      const user = await store.findUserByEmail(email);
      if (!user) throw new NotFoundError(`No user with e-mail ${email}`);
      return store.apiTokensOfUser(user.id);
    },

    /** Revokes one token at once (a wallboard's open connection closes within a minute). */
    async revokeApiToken(id: number): Promise<void> {
      if (!(await store.revokeApiToken(id))) throw new NotFoundError(`No API token ${id} that is still in use`);
    },

    async createApiToken(email: string, name = '', scope: TokenScope = 'full'): Promise<string> {
      if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) {
        throw new ValidationError([{ field: 'scope', code: 'errors.invalid_choice', message: `the scope is one of ${TOKEN_SCOPES.join(', ')}; got "${String(scope)}"` }]);
      }
      const user = await store.findUserByEmail(email);
      if (!user || !user.active) throw new NotFoundError(`No active user with e-mail ${email}`);
      const token = `sc_${randomToken(32)}`;
      await store.insertApiToken({ userId: user.id, tokenHash: sha256(token), name, scope });
      return token;
    },

    async setRole(userId: number, role: Role): Promise<void> {
      if (!(await store.updateUser(userId, { role }))) throw new NotFoundError('No such user');
    },

    async setActive(userId: number, active: boolean): Promise<void> {
      if (!(await store.updateUser(userId, { active }))) throw new NotFoundError('No such user');
      // A deactivated user is out everywhere: sessions end and API tokens are revoked for good.
      if (!active) {
        sessionsEnded(await store.deleteSessionsOfUser(userId));
        await store.revokeApiTokensOfUser(userId);
      }
    },

    async setPassword(userId: number, password: string): Promise<void> {
      parseOrThrow(newUserSchema.pick({ password: true }), { password });
      if (!(await store.updateUser(userId, { password_hash: await hashPassword(password, config.passwordHash) }))) throw new NotFoundError('No such user');
      sessionsEnded(await store.deleteSessionsOfUser(userId));
    },

    /**
     * The extension the telephony platform names when this user answers a
     * call: digits, one user each; empty clears it.
     */
    async setPhoneExtension(userId: number, input: unknown): Promise<void> {
      const value = typeof input === 'string' ? input.trim() : input === undefined || input === null ? '' : undefined;
      if (value === undefined || (value !== '' && !/^[0-9]{1,12}$/.test(value))) {
        throw new ValidationError([{ field: 'phone_extension', code: 'telephony.extension.invalid', message: 'An extension is 1 to 12 digits (or empty for none)' }]);
      }
      const extension = value || null;
      const taken = (holder: { name: string }) =>
        new ValidationError([
          { field: 'phone_extension', code: 'telephony.extension.taken', message: `Extension ${extension} already belongs to ${holder.name}`, params: { extension: extension!, name: holder.name } },
        ]);
      const holder = extension ? await store.findUserByExtension(extension) : undefined;
      if (holder && holder.id !== userId) throw taken(holder);
      let updated;
      try {
        updated = await store.updateUser(userId, { phone_extension: extension });
      } catch (err) {
        // Two admins giving the same extension at once: the unique index lets one through.
        const again = extension && (err as { code?: string }).code === '23505' ? await store.findUserByExtension(extension) : undefined;
        if (again) throw taken(again);
        throw err;
      }
      if (!updated) throw new NotFoundError('No such user');
    },

    listUsers: () => store.listUsers(),
    listActiveAgents: () => store.listActiveAgents(),
    countUsers: () => store.countUsers(),
    async pruneSessions(): Promise<number> {
      await store.pruneLoginFailures(Math.max(config.loginLockout.windowMinutes, config.loginLockout.minutes));
      return store.deleteExpiredSessions(idleSince());
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
