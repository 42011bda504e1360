import type { Request } from 'express';
import type { Knex } from 'knex';
import type { AuthUser } from '../auth/roles.js';
import type { AccessLogInsert, AccessLogStore } from './access-log-store.js';

/** What was looked at or taken out. New actions are added here, so the search form can name them. */
export const ACCESS_ACTIONS = [
  'case.view', // a case's page or its API answer
  'case.attachment', // an attachment downloaded by staff
  'case.protected_contact', // a protected resident's contact details shown
  'stats.export', // a statistics table downloaded as CSV
  'access_log.search', // the access log itself searched
  'access_log.export', // the access log downloaded
  'subject.export', // everything about an e-mail address or phone number, in one file
  'intake.raw_mail', // a received mail downloaded as it arrived (quarantine)
] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

/**
 * Who did it: a signed-in user, or an API token acting for its user; or an
 * operator at the command line, who has no user (logged with user_id null and
 * detail.via 'cli').
 */
export type Accessor = { user: AuthUser; tokenId?: number | null } | { cli: true };

/** The command line (server/cli.ts): no user, so the entry says how it was done instead. */
export const CLI_ACCESSOR: Accessor = { cli: true };

/** The accessor of a request that passed requireRole (a user is signed in or holds a token). */
export function accessorOf(req: Request): Accessor {
  if (!req.ctx.user) throw new Error('accessorOf needs a signed-in request');
  return { user: req.ctx.user, tokenId: req.ctx.tokenId ?? null };
}

export function createAccessLog(deps: { store: AccessLogStore }) {
  const { store } = deps;
  return {
    /**
     * Records one access. Called before the answer is sent, so a view that
     * could not be recorded is not shown (the error propagates).
     */
    async record(who: Accessor, action: AccessAction, what: Omit<AccessLogInsert, 'userId' | 'tokenId' | 'action'> = {}, trx?: Knex | Knex.Transaction): Promise<void> {
      if ('cli' in who) await store.insert({ userId: null, tokenId: null, action, ...what, detail: { ...what.detail, via: 'cli' } }, trx);
      else await store.insert({ userId: who.user.id, tokenId: who.tokenId ?? null, action, ...what }, trx);
    },
    store,
  };
}

export type AccessLog = ReturnType<typeof createAccessLog>;
