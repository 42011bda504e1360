import { z } from 'zod';
import { hasRole, type AuthUser } from '../auth/roles.js';
import type { CaseChanger } from '../cases/change.js';
import type { CaseStore } from '../cases/store.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import type { AccessLog, Accessor } from './access-log.js';
import type { ProtectedIdentityStore } from './protected-identity-store.js';

/**
 * What the viewer of a case may see of its resident. `shown`: the name and
 * contact details (always, unless the resident is protected and the viewer
 * lacks the permission). `canMark`: the viewer may set or clear the flag.
 */
export interface ContactAccess {
  protected: boolean;
  shown: boolean;
  canMark: boolean;
}

/** A case as read with its resident (a summary, a queue row). */
interface WithResident {
  resident_protected?: unknown;
}

/** Where contact details of a protected resident were shown, for the access log's detail. */
export type ShownVia = 'case_page' | 'api' | 'caller_card';

const markSchema = z.object({
  protect: z.enum(['true', 'false'], { error: 'errors.invalid_choice' }),
  confirm: z.literal('on', { error: 'agent.protected.confirm_required' }),
});

/** Keys of event payloads that carry an address or a number (a callback's phone, a bounce's recipients and its report). */
const CONTACT_KEYS = new Set(['phone', 'recipients', 'diagnostic', 'email', 'name', 'to']);

export function isProtected(c: object | undefined): boolean {
  return (c as WithResident | undefined)?.resident_protected === true;
}

/** The case without its resident's name and contact details, for a viewer who may not see them. */
export function withoutContact<T extends Record<string, unknown>>(c: T): T {
  return { ...c, resident_name: null, resident_email: null, resident_phone: null, personnummer: null };
}

/** An event's payload without the contact details some events carry. */
export function payloadWithoutContact(payload: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload ?? {}).filter(([k]) => !CONTACT_KEYS.has(k)));
}

/**
 * Protected identity (skyddad identitet): a flag on a resident that hides
 * their name and contact details from staff without the sees_protected
 * permission, stops automatic mail to them (server/mail/store.ts, the new-case
 * statement in server/cases/store.ts, the survey) and logs every showing of
 * the details to someone allowed.
 */
export function createProtectedIdentity(deps: { store: ProtectedIdentityStore; cases: Pick<CaseStore, 'lockByReference'>; change: CaseChanger; accessLog: AccessLog }) {
  const { store, cases, change, accessLog } = deps;

  return {
    seesProtected: (userId: number): Promise<boolean> => store.seesProtected(userId),

    /**
     * What this viewer may see of the case's resident; a showing of a
     * protected resident's details is written to the access log before the
     * answer goes (a showing that cannot be logged fails instead).
     */
    async contactAccess(who: Accessor, c: { id: number; reference: string; resident_protected?: unknown }, via: ShownVia): Promise<ContactAccess> {
      const prot = isProtected(c);
      // The command line has no user, so no permission: it sees what an agent without one sees.
      const user = 'user' in who ? who.user : undefined;
      // The permission matters for a protected resident, and on the case page (whether to offer the mark form):
      // an API answer about anyone else needs no lookup.
      const sees = user && (prot || via === 'case_page') ? (user.seesProtected ?? (await store.seesProtected(user.id))) : false;
      const canMark = sees || (user !== undefined && hasRole(user.role, 'admin'));
      if (prot && sees) await accessLog.record(who, 'case.protected_contact', { caseId: c.id, caseReference: c.reference, detail: { via } });
      return { protected: prot, shown: !prot || sees, canMark };
    },

    /**
     * Whether the answering agent may see a caller, and the cases that show
     * them: a number of a protected resident is hidden from an agent without
     * the permission, and logged for one with it.
     */
    async callerAccess(agentId: number, caller: string | null, cases: { id: number; reference: string }[]): Promise<{ protected: boolean; shown: boolean }> {
      const prot = caller ? (await store.phoneIsProtected(caller)) || cases.some(isProtected) : false;
      if (!prot) return { protected: false, shown: true };
      const sees = await store.seesProtected(agentId);
      if (sees) {
        const shownCases = cases.filter(isProtected);
        for (const c of shownCases.length ? shownCases : [undefined]) {
          await accessLog.store.insert({ userId: agentId, action: 'case.protected_contact', caseId: c?.id ?? null, caseReference: c?.reference ?? null, detail: { via: 'caller_card' satisfies ShownVia } });
        }
      }
      return { protected: true, shown: sees };
    },

    /**
     * Marks the case's resident as protected, or removes the mark, with an
     * internal event on the case in the same transaction. Only for users with
     * the permission, and admins; anyone else is refused with nothing written.
     */
    async mark(reference: string, user: AuthUser, input: unknown): Promise<void> {
      if (!hasRole(user.role, 'admin') && !(user.seesProtected ?? (await store.seesProtected(user.id)))) {
        throw new ForbiddenError('Only users allowed to see protected identities, and admins, can change the mark');
      }
      const v = parseOrThrow(markSchema, input);
      const protect = v.protect === 'true';
      await change(
        (trx) => cases.lockByReference(trx, reference),
        async (tx) => {
          const resident = await store.residentOfCase(tx.trx, tx.current.id);
          if (resident.protected_identity === protect) {
            throw new ConflictError(protect ? 'The resident is already marked as protected' : 'The resident is not marked as protected', 'protected_unchanged');
          }
          await store.setResidentProtected(tx.trx, resident.id, protect);
          await tx.event({ type: protect ? 'identity.protected' : 'identity.unprotected', actorType: 'user', actorId: user.id, internal: true, payload: {} });
        },
      );
    },

    /** An admin grants or removes the permission (admins too need it to see protected details). */
    async setPermission(userId: number, input: unknown): Promise<void> {
      const value = input === 'true' ? true : input === 'false' ? false : undefined;
      if (value === undefined) throw new ValidationError([{ field: 'sees_protected', code: 'errors.invalid_choice', message: 'sees_protected is true or false' }]);
      if (!(await store.setSeesProtected(userId, value))) throw new NotFoundError('No such user');
    },
  };
}

export type ProtectedIdentity = ReturnType<typeof createProtectedIdentity>;
