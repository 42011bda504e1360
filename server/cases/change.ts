import type { Knex } from 'knex';
import type { AttachmentService, PreparedAttachment } from '../attachments/service.js';
import type { MailStore, NewOutboxMail } from '../mail/store.js';
import { NotFoundError } from '../platform/errors.js';
import type { CaseEventBus, CommittedCaseEvent } from '../platform/events.js';
import type { MailComposer } from '../mail/compose.js';
import { assertTransition, statusAfterResidentMessage, type CaseStatus } from './lifecycle.js';
import type { ResidentStore } from '../residents/store.js';
import type { WorkingTime } from '../stats/working-time.js';
import type { CaseEventRow, CaseRow, CaseStore, InsertedCase, MailFields, NewCaseEvent, NewCaseRow } from './store.js';

/** The changer found no case to change (nothing of the change was written). */
export class NoCaseToChangeError extends NotFoundError {}

export interface ChangeContext {
  trx: Knex.Transaction;
  current: CaseRow;
  event(e: NewCaseEvent): Promise<CaseEventRow>;
  /** Several events in one statement: write the case first and these last, and the commit-order lock is held briefly. */
  events(es: NewCaseEvent[]): Promise<CaseEventRow[]>;
  /** Writes the patch; one that sets or clears first_response_at or resolved_at also writes the working-time metrics derived from them. */
  update(patch: Partial<CaseRow>): Promise<CaseRow>;
  queueMail(m: NewOutboxMail): Promise<void>;
}

/**
 * Told inside the transaction when a change resolves a case, after the
 * change's own writes: the service survey invites the resident then.
 */
export interface CaseResolvedHook {
  caseResolved(tx: ChangeContext, resolved: CaseRow): Promise<void>;
}

type ChangeDeps = { db: Knex; cases: CaseStore; mail: Pick<MailStore, 'enqueue'>; bus: CaseEventBus; workingTime: WorkingTime; surveys?: CaseResolvedHook };

/** What a change wrote, to publish once it has committed. */
interface Written {
  events: CaseEventRow[];
  updated: CaseRow;
  mailQueued: boolean;
}

function changeContext(trx: Knex.Transaction, current: CaseRow, deps: ChangeDeps, w: Written): ChangeContext {
  return {
    trx,
    current,
    async event(e) {
      const row = await deps.cases.insertEvent(trx, current.id, e);
      w.events.push(row);
      return row;
    },
    async events(es) {
      const rows = await deps.cases.insertEvents(trx, current.id, es);
      w.events.push(...rows);
      return rows;
    },
    async update(patch) {
      w.updated = await deps.cases.updateCase(trx, current.id, { ...patch, ...deps.workingTime.metricsPatch(w.updated, patch) });
      return w.updated;
    },
    async queueMail(m) {
      if ((await deps.mail.enqueue(trx, m)) === 'withheld') {
        // Protected identity: said on the timeline (staff only), so nobody wonders why no mail went.
        w.events.push(await deps.cases.insertEvent(trx, current.id, withheldEvent(m.kind)));
        return;
      }
      w.mailQueued = true;
    },
  };
}

/** The timeline's note that an automatic mail was not sent because the resident has protected identity. */
export function withheldEvent(kind: string): NewCaseEvent {
  return { type: 'mail.withheld', actorType: 'system', internal: true, payload: { kind, reason: 'protected_identity' } };
}

async function afterWrites(tx: ChangeContext, deps: ChangeDeps, w: Written): Promise<void> {
  if (deps.surveys && w.updated.status === 'resolved' && tx.current.status !== 'resolved') await deps.surveys.caseResolved(tx, w.updated);
}

function publish(bus: CaseEventBus, w: Written, first: CommittedCaseEvent[] = []): void {
  bus.publish([...first, ...w.events.map((e) => toCommitted(e, w.updated.reference))]);
  if (w.mailQueued) bus.mailQueued();
}

/**
 * One change to one case, as every writer of an existing case makes it: lock
 * the row, let `fn` write the case and its events through the context, commit,
 * then publish the events (and wake the outbox if mail was queued). Nothing
 * is published for a change that rolled back.
 */
export function createCaseChanger(deps: ChangeDeps) {
  const { db, cases, bus } = deps;
  return async function change(find: (trx: Knex.Transaction) => Promise<CaseRow | undefined>, fn: (tx: ChangeContext) => Promise<void>): Promise<CaseRow> {
    let w: Written | undefined;
    await db.transaction(async (trx) => {
      const current = await find(trx);
      if (!current) throw new NoCaseToChangeError('No such case');
      const written: Written = { events: [], updated: current, mailQueued: false };
      const tx = changeContext(trx, current, deps, written);
      await fn(tx);
      await afterWrites(tx, deps, written);
      if (written.events.length && written.updated === current) written.updated = await cases.updateCase(trx, current.id, {});
      w = written;
    });
    publish(bus, w!);
    return w!.updated;
  };
}

/** Who opened a case on the resident's behalf (an agent registering a call), if not the resident. */
export interface CaseOpenedBy {
  id: number;
  name: string;
}

/**
 * A new case with more to it than the first message, in one transaction:
 * the resident (found or created by e-mail, else by phone number), the case
 * and its case.created event, then whatever `fn` adds through the same
 * context as a change (a resolution, a forward, a callback). Published after
 * commit, case.created first.
 */
export function createCaseOpener(deps: ChangeDeps & { residents: ResidentStore }) {
  const { db, cases, residents, bus } = deps;
  return async function open(
    row: Omit<NewCaseRow, 'resident'> & { resident: { name: string; email?: string | null; phone?: string | null; nameIsGuess?: boolean } },
    openedBy: CaseOpenedBy | undefined,
    fn: (tx: ChangeContext) => Promise<void> = async () => undefined,
  ): Promise<{ case: CaseRow; created: InsertedCase }> {
    let w: Written | undefined;
    let created: InsertedCase | undefined;
    await db.transaction(async (trx) => {
      // A name made up from the address (nameIsGuess) must not replace a known resident's: found first, by the store.
      const resident =
        row.resident.email && !row.resident.nameIsGuess
          ? { name: row.resident.name, email: row.resident.email, phone: row.resident.phone ?? null }
          : { id: (await residents.findOrCreate(trx, row.resident)).id };
      [created] = await cases.insertNewCases(trx, [{ ...row, resident, ...(openedBy ? { actor: { type: 'user', id: openedBy.id } } : {}) }]);
      if (!created) throw new Error(`case ${row.reference} was not written`);
      const current = (await cases.lockById(trx, created.case_id))!;
      const written: Written = { events: [], updated: current, mailQueued: Boolean(row.ack) };
      const tx = changeContext(trx, current, deps, written);
      await fn(tx);
      await afterWrites(tx, deps, written);
      w = written;
    });
    publish(bus, w!, [caseCreatedEvent(created!, row.payload, openedBy)]);
    return { case: w!.updated, created: created! };
  };
}

export type CaseOpener = ReturnType<typeof createCaseOpener>;

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

/**
 * A case handed to a department with a note for them: on the timeline (the
 * note is internal), the status, and a mail to the department when it has
 * an address.
 */
export async function recordForward(
  tx: ChangeContext,
  deps: { composer: Pick<MailComposer, 'handover'>; mail: Pick<MailStore, 'threadFor'> },
  f: { department: { id: number; name: string; email: string | null }; note: string; actor: { id: number; name: string } },
): Promise<void> {
  const c = tx.current;
  assertTransition(c.status, 'forwarded');
  await tx.event({
    type: 'case.forwarded',
    actorType: 'user',
    actorId: f.actor.id,
    internal: true,
    payload: { from: c.status, departmentId: f.department.id, departmentName: f.department.name, note: f.note },
  });
  await tx.event({ type: 'status.changed', actorType: 'user', actorId: f.actor.id, payload: { from: c.status, to: 'forwarded' } });
  await tx.update({ status: 'forwarded', department_id: f.department.id, forward_count: c.forward_count + 1 });
  if (f.department.email) {
    const thread = await deps.mail.threadFor(tx.trx, c.id, f.department.email, { withResident: false });
    await tx.queueMail(deps.composer.handover(c, f.department.email, f.department.name, f.note, f.actor.name, thread));
  }
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
export function caseCreatedEvent(row: InsertedCase, payload: Record<string, unknown>, openedBy?: CaseOpenedBy): CommittedCaseEvent {
  return {
    id: row.event_id,
    caseId: row.case_id,
    reference: row.reference,
    type: 'case.created',
    actorType: openedBy ? 'user' : 'resident',
    actorId: openedBy?.id ?? null,
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
