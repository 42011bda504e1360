import type { Knex } from 'knex';
import type { AttachmentService, PreparedAttachment } from '../attachments/service.js';
import type { MailStore, NewOutboxMail } from '../mail/store.js';
import { NotFoundError } from '../platform/errors.js';
import type { CaseEventBus, CommittedCaseEvent } from '../platform/events.js';
import { statusAfterResidentMessage, type CaseStatus } from './lifecycle.js';
import type { CaseEventRow, CaseRow, CaseStore, InsertedCase, MailFields, NewCaseEvent } from './store.js';

/** The changer found no case to change (nothing of the change was written). */
export class NoCaseToChangeError extends NotFoundError {}

export interface ChangeContext {
  trx: Knex.Transaction;
  current: CaseRow;
  event(e: NewCaseEvent): Promise<CaseEventRow>;
  /** Several events in one statement: write the case first and these last, and the commit-order lock is held briefly. */
  events(es: NewCaseEvent[]): Promise<CaseEventRow[]>;
  update(patch: Partial<CaseRow>): Promise<CaseRow>;
  queueMail(m: NewOutboxMail): Promise<void>;
}

/**
 * One change to one case, as every writer of an existing case makes it: lock
 * the row, let `fn` write the case and its events through the context, commit,
 * then publish the events (and wake the outbox if mail was queued). Nothing
 * is published for a change that rolled back.
 */
export function createCaseChanger(deps: { db: Knex; cases: CaseStore; mail: Pick<MailStore, 'enqueue'>; bus: CaseEventBus }) {
  const { db, cases, mail, bus } = deps;
  return async function change(find: (trx: Knex.Transaction) => Promise<CaseRow | undefined>, fn: (tx: ChangeContext) => Promise<void>): Promise<CaseRow> {
    const written: CaseEventRow[] = [];
    let updated: CaseRow | undefined;
    let mailQueued = false;
    await db.transaction(async (trx) => {
      const current = await find(trx);
      if (!current) throw new NoCaseToChangeError('No such case');
      updated = current;
      const tx: ChangeContext = {
        trx,
        current,
        async event(e) {
          const row = await cases.insertEvent(trx, current.id, e);
          written.push(row);
          return row;
        },
        async events(es) {
          const rows = await cases.insertEvents(trx, current.id, es);
          written.push(...rows);
          return rows;
        },
        async update(patch) {
          updated = await cases.updateCase(trx, current.id, patch);
          return updated;
        },
        async queueMail(m) {
          await mail.enqueue(trx, m);
          mailQueued = true;
        },
      };
      await fn(tx);
      if (!written.length) return;
      if (updated === current) updated = await cases.updateCase(trx, current.id, {});
    });
    bus.publish(written.map((e) => toCommitted(e, updated!.reference)));
    if (mailQueued) bus.mailQueued();
    return updated!;
  };
}

export type CaseChanger = ReturnType<typeof createCaseChanger>;

/**
 * What a resident's new message does to their case, whether it came through
 * their link or by mail: the message and its files on the timeline, and a
 * case that waited on them or was resolved opened again. A closed case is
 * refused, unless `reopenClosed` (a mail reply soon after closing) opens it.
 */
export async function recordResidentMessage(
  tx: ChangeContext,
  deps: { cases: CaseStore; attachments: Pick<AttachmentService, 'insertMany'> },
  m: { channel: 'web' | 'email'; body: string; attachments: PreparedAttachment[]; mail?: MailFields; reopenClosed?: boolean },
): Promise<void> {
  const c = tx.current;
  const next: CaseStatus = c.status === 'closed' && m.reopenClosed ? 'open' : statusAfterResidentMessage(c.status);
  const ev = await tx.event({ type: 'message.received', actorType: 'resident', payload: { channel: m.channel } });
  const messageId = await deps.cases.insertMessage(tx.trx, { caseId: c.id, eventId: ev.id, kind: 'resident', channel: m.channel, body: m.body, ...(m.mail ?? {}) });
  if (m.attachments.length) {
    await deps.attachments.insertMany(tx.trx, m.attachments.map((a) => ({ ...a, case_id: c.id, message_id: messageId })));
  }
  const patch: Partial<CaseRow> = { resident_message_count: c.resident_message_count + 1 };
  if (next !== c.status) {
    await tx.event({ type: 'status.changed', actorType: 'resident', payload: { from: c.status, to: next, reason: 'resident_reply' } });
    Object.assign(patch, { status: next }, reopenPatch(c), c.status === 'closed' ? { closed_at: null, reopen_count: c.reopen_count + 1 } : {});
  }
  await tx.update(patch);
}

/** The metric columns a status change sets, so statistics never rescan events. */
export function statusPatch(c: CaseRow, to: CaseStatus, at: Date): Partial<CaseRow> {
  const patch: Partial<CaseRow> = { status: to };
  if (to === 'resolved') {
    patch.resolved_at = at;
    patch.resolved_at_first_contact =
      // One answer settled it: exactly one reply, no follow-up, never forwarded or reopened.
      c.agent_reply_count === 1 && c.resident_message_count <= 1 && c.forward_count === 0 && c.reopen_count === 0;
  }
  if (to === 'closed') patch.closed_at = at;
  if (c.status === 'resolved' && to === 'open') Object.assign(patch, reopenPatch(c));
  return patch;
}

export function reopenPatch(c: CaseRow): Partial<CaseRow> {
  return c.status === 'resolved' ? { resolved_at: null, resolved_at_first_contact: null, reopen_count: c.reopen_count + 1 } : {};
}

/** The first event of a new case as written by insertNewCases, for publishing once committed. */
export function caseCreatedEvent(row: InsertedCase, payload: Record<string, unknown>): CommittedCaseEvent {
  return {
    id: row.event_id,
    caseId: row.case_id,
    reference: row.reference,
    type: 'case.created',
    actorType: 'resident',
    actorId: null,
    internal: false,
    payload,
    createdAt: row.event_created_at,
  };
}

export function toCommitted(e: CaseEventRow, reference: string): CommittedCaseEvent {
  return {
    id: e.id,
    caseId: e.case_id,
    reference,
    type: e.type,
    actorType: e.actor_type,
    actorId: e.actor_id,
    internal: e.internal,
    payload: e.payload,
    createdAt: e.created_at,
  };
}
