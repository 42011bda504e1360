import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { AttachmentService, IncomingFile, PreparedAttachment } from '../attachments/service.js';
import type { AuthUser } from '../auth/roles.js';
import type { AuthStore } from '../auth/store.js';
import { bareMessageId, type MailComposer } from '../mail/compose.js';
import type { MailStore } from '../mail/store.js';
import type { OrganisationService } from '../organisation/service.js';
import type { OrganisationStore } from '../organisation/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import type { CaseEventBus } from '../platform/events.js';
import { translate, type Language } from '../platform/i18n.js';
import { parseOrThrow, toFieldErrors } from '../platform/validation.js';
import type { ResidentStore } from '../residents/store.js';
import { personnummerForTopic } from '../privacy/personnummer-field.js';
import {
  ACTIVE_STATUSES,
  assertTransition,
  canTransition,
  ConflictErrorForClosed,
  statusAfterResidentMessage,
  type CaseStatus,
  type Channel,
} from './lifecycle.js';
import type { ReferenceAllocator } from './reference.js';
import {
  caseUpdateSchema,
  followUpSchema,
  forwardSchema,
  newCaseSchema,
  noteSchema,
  queueQuerySchema,
  replySchema,
} from './schemas.js';
import { caseCreatedEvent, createCaseChanger, recordForward, recordResidentMessage, statusPatch, type CaseResolvedHook } from './change.js';
import { createIntakeWriter } from './intake-writer.js';
import type { CaseRow, CaseStore, InsertedCase } from './store.js';
import type { WorkingTime } from '../stats/working-time.js';

export interface CaseServiceDeps {
  db: Knex;
  cases: CaseStore;
  residents: ResidentStore;
  users: Pick<AuthStore, 'findActiveUser'>;
  organisation: OrganisationStore;
  topics: Pick<OrganisationService, 'activeCategory'>;
  attachments: AttachmentService;
  mail: MailStore;
  composer: MailComposer;
  bus: CaseEventBus;
  /** Shared with every other writer of new cases, so one process hands out one run of numbers. */
  references: ReferenceAllocator;
  /** The statistics calendar: a change that answers or resolves a case writes its working-time metrics. */
  workingTime: WorkingTime;
  /** Told of each agent reply inside its transaction (the FAQ records the articles it links to). */
  replyUses?: { record(trx: Knex.Transaction, reply: { caseId: number; messageId: number; userId: number; body: string }): Promise<unknown> };
  /** Told of each change that resolves a case, inside its transaction (the service survey). */
  surveys?: CaseResolvedHook;
}

export interface CreatedCase {
  id: number;
  reference: string;
  token: string;
  statusUrl: string;
  status: CaseStatus;
  createdAt: Date;
}

/** 256 random bits: a resident's private link to their case. */
export const newResidentToken = () => randomBytes(32).toString('base64url');

export const subjectFrom = (message: string) => {
  const firstLine = message.split(/\r?\n/).find((l) => l.trim()) ?? message;
  return firstLine.trim().length > 80 ? `${firstLine.trim().slice(0, 77)}…` : firstLine.trim();
};

export function encodeCursor(row: { queue_at: Date; id: number }): string {
  return Buffer.from(`${new Date(row.queue_at).toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { queueAt: Date; id: number } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(\d{1,18})$/.exec(text);
  const queueAt = m ? new Date(m[1]!) : undefined;
  if (!m || !queueAt || Number.isNaN(queueAt.getTime())) {
    throw new ValidationError([{ field: 'cursor', code: 'errors.cursor_invalid', message: 'The cursor is not one this API gave out' }]);
  }
  return { queueAt, id: Number(m[2]) };
}

/** A colleague answered the resident after the author last looked: nothing is sent. */
export class ColleagueRepliedError extends ConflictError {
  constructor(readonly colleague: string) {
    super(`${colleague || 'A colleague'} replied to the resident after you opened the case; read that answer, then send yours again if it is still needed`, 'colleague_replied');
  }
}

export function createCaseService(deps: CaseServiceDeps) {
  const { db, cases, residents, users, organisation, topics, attachments, mail, composer, bus, references, replyUses } = deps;
  const intake = createIntakeWriter({ db, cases });

  const change = createCaseChanger({ db, cases, mail, bus, workingTime: deps.workingTime, surveys: deps.surveys });

  async function activeDepartmentBySlug(slug: string) {
    const dep = await organisation.findDepartmentBySlug(slug);
    if (!dep || !dep.active) {
      throw new ValidationError([{ field: 'department', code: 'errors.department_unknown', message: `There is no department "${slug}"` }]);
    }
    return dep;
  }

  // Inside a change this must use the change's transaction: the embedded database has one connection.
  async function residentEmailOf(trx: Knex.Transaction, c: CaseRow): Promise<string | null> {
    return (await residents.findById(trx, c.resident_id))?.email ?? null;
  }

  return {
    /** A new case from the web form or the API. Everything is written, or nothing. */
    async createCase(input: unknown, opts: { channel: Channel; files?: IncomingFile[]; language?: string }): Promise<CreatedCase> {
      // Report every problem at once: the schema's, and an unknown topic.
      const parsed = newCaseSchema.safeParse(input);
      const slug = parsed.success ? parsed.data.category : (input as { category?: unknown } | null)?.category;
      const category = typeof slug === 'string' && slug ? await topics.activeCategory(slug.trim().toLowerCase()) : undefined;
      const fieldErrors = parsed.success ? [] : toFieldErrors(parsed.error);
      if (!category && typeof slug === 'string' && slug && !fieldErrors.some((f) => f.field === 'category')) {
        fieldErrors.push({ field: 'category', code: 'errors.category_unknown', message: translate('en', 'errors.category_unknown') });
      }
      const rawPersonnummer = (input as { personnummer?: unknown } | null)?.personnummer;
      const personnummer = personnummerForTopic(parsed.success ? parsed.data.personnummer : typeof rawPersonnummer === 'string' ? rawPersonnummer : undefined, category);
      if (personnummer.error && !fieldErrors.some((f) => f.field === 'personnummer')) fieldErrors.push(personnummer.error);
      if (fieldErrors.length || !parsed.success || !category) throw new ValidationError(fieldErrors);
      const v = parsed.data;
      const prepared: PreparedAttachment[] = opts.files?.length ? await attachments.prepare(opts.files) : [];
      const language = v.language ?? opts.language ?? 'sv';
      const reference = await references.next();
      const token = newResidentToken();
      const subject = v.subject || subjectFrom(v.message);
      const ack = v.email
        ? composer.acknowledgement({ id: 0, reference, subject, language, resident_token: token }, v.email, v.name)
        : undefined;

      const payload = { channel: opts.channel, category: category.slug, subject, attachments: prepared.length };
      let created: InsertedCase;
      try {
        const fields = {
          reference,
          channel: opts.channel,
          categoryId: category.id,
          subject,
          language,
          token,
          body: v.message,
          payload,
          ack,
          personnummer: personnummer.value,
        };
        if (v.email && !prepared.length) {
          // The common case: batched with other new cases into one statement, atomic on its own.
          created = await intake.write({ ...fields, resident: { name: v.name, email: v.email, phone: v.phone ?? null } });
        } else {
          created = await db.transaction(async (trx) => {
            const resident = v.email
              ? { name: v.name, email: v.email, phone: v.phone ?? null }
              : { id: (await residents.findOrCreate(trx, { name: v.name, phone: v.phone ?? null })).id };
            const [row] = await cases.insertNewCases(trx, [{ ...fields, resident }]);
            if (!row) throw new Error(`case ${reference} was not written`);
            if (prepared.length) {
              await attachments.insertMany(trx, prepared.map((p) => ({ ...p, case_id: row.case_id, message_id: row.message_id })));
            }
            return row;
          });
        }
      } catch (err) {
        await attachments.discard(prepared);
        throw err;
      }
      bus.publish([caseCreatedEvent(created, payload)]);
      if (ack) bus.mailQueued();
      return { id: created.case_id, reference, token, statusUrl: composer.statusUrl(token), status: 'new', createdAt: created.created_at };
    },

    async listQueue(query: unknown) {
      const q = parseOrThrow(queueQuerySchema, query);
      const statuses: readonly CaseStatus[] =
        !q.status || q.status === 'active' ? ACTIVE_STATUSES : q.status === 'all' ? ['new', 'open', 'waiting', 'forwarded', 'resolved', 'closed'] : [q.status];
      const limit = q.limit ?? 25;
      let categoryId: number | undefined;
      if (q.category) {
        categoryId = (await organisation.findCategoryBySlug(q.category))?.id;
        if (categoryId === undefined) {
          throw new ValidationError([{ field: 'category', code: 'errors.category_unknown', message: translate('en', 'errors.category_unknown') }]);
        }
      }
      const rows = await cases.listQueue({
        statuses,
        ...(q.channel ? { channel: q.channel } : {}),
        ...(categoryId !== undefined ? { categoryId } : {}),
        ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
        limit: limit + 1,
      });
      const items = rows.slice(0, limit);
      const next = rows.length > limit ? encodeCursor(items[items.length - 1]!) : null;
      return { items, next, filter: { ...q, status: q.status ?? 'active' } };
    },

    /** Everything an agent sees on a case: details, the whole timeline and the files. */
    async getForAgent(reference: string) {
      const c = await cases.findByReference(reference);
      if (!c) throw new NotFoundError(`No case ${reference}`);
      const [summary, timeline, files] = await Promise.all([
        cases.caseSummary(c.id),
        cases.timeline(c.id, { includeInternal: true }),
        attachments.listForCase(c.id),
      ]);
      return { case: summary as CaseRow & Record<string, unknown>, timeline, attachments: files };
    },

    /** What the resident's private link shows: status and the conversation, never internal notes. */
    async getForResident(token: string) {
      const c = await cases.findByToken(token);
      if (!c) throw new NotFoundError('No such case');
      const [summary, timeline, files] = await Promise.all([
        cases.caseSummary(c.id),
        cases.timeline(c.id, { includeInternal: false }),
        attachments.listForCase(c.id),
      ]);
      const conversation = timeline.filter((e) => e.message_kind === 'resident' || e.message_kind === 'reply');
      const visibleMessageIds = new Set(conversation.map((e) => e.message_id));
      return {
        case: summary as CaseRow & Record<string, unknown>,
        conversation,
        attachments: files.filter((f) => f.message_id !== null && visibleMessageIds.has(f.message_id)),
      };
    },

    /**
     * The resident chose another language on their case page: the case's
     * pages and mail follow it from now on, and the timeline says so.
     * Nothing is written when it is the case's language already.
     */
    async setResidentLanguage(token: string, language: Language): Promise<CaseRow> {
      return change(
        (trx) => cases.lockByToken(trx, token),
        async (tx) => {
          const from = tx.current.language;
          if (from === language) return;
          await tx.update({ language });
          await tx.event({ type: 'language.changed', actorType: 'resident', payload: { from, to: language } });
        },
      );
    },

    /** A resident writes again through their link. Reopens a case that waited on them or was resolved. */
    async addResidentMessage(token: string, input: unknown, files: IncomingFile[] = []) {
      const v = parseOrThrow(followUpSchema, input);
      const existing = await cases.findByToken(token);
      if (!existing) throw new NotFoundError('No such case');
      statusAfterResidentMessage(existing.status); // refuses a closed case before files are kept
      const prepared = files.length ? await attachments.prepare(files) : [];
      try {
        return await change(
          (trx) => cases.lockByToken(trx, token),
          (tx) => recordResidentMessage(tx, { cases, attachments }, { channel: 'web', body: v.message, attachments: prepared }),
        );
      } catch (err) {
        await attachments.discard(prepared);
        throw err;
      }
    },

    /** An agent answers the resident: the reply is mailed and shows on the resident's page. */
    async reply(reference: string, actor: AuthUser, input: unknown) {
      const v = parseOrThrow(replySchema, input);
      return change(
        (trx) => cases.lockByReference(trx, reference),
        async (tx) => {
          const c = tx.current;
          if (c.status === 'closed') throw new ConflictErrorForClosed();
          if (v.seenEventId !== undefined) {
            const other = await cases.replyByOtherAfter(tx.trx, c.id, v.seenEventId, actor.id);
            if (other) throw new ColleagueRepliedError(other.actor_name ?? '');
          }
          // Unless told otherwise, a reply waits on the resident where that is a valid next step.
          const target = v.status ?? (c.status === 'waiting' || canTransition(c.status, 'waiting') ? 'waiting' : c.status);
          if (target !== c.status) assertTransition(c.status, target);
          const ev = await tx.event({ type: 'reply.sent', actorType: 'user', actorId: actor.id, payload: { channel: 'email' } });
          // Threaded on the resident's latest mail and our earlier mails to them; its Message-ID
          // is kept on the message, so the resident's answer to it finds the case.
          const email = await residentEmailOf(tx.trx, c);
          const mailed = email ? composer.reply(c, email, v.body, actor.name, await mail.threadFor(tx.trx, c.id, email, { withResident: true })) : undefined;
          const messageId = await cases.insertMessage(tx.trx, {
            caseId: c.id,
            eventId: ev.id,
            kind: 'reply',
            authorId: actor.id,
            channel: 'email',
            body: v.body,
            mailMessageId: mailed ? (bareMessageId(mailed.message_id) ?? null) : null,
          });
          await replyUses?.record(tx.trx, { caseId: c.id, messageId, userId: actor.id, body: v.body });
          const patch: Partial<CaseRow> = { agent_reply_count: c.agent_reply_count + 1 };
          if (!c.first_response_at) patch.first_response_at = ev.created_at;
          if (c.assignee_id === null) patch.assignee_id = actor.id;
          if (target !== c.status) {
            await tx.event({ type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: c.status, to: target } });
            Object.assign(patch, statusPatch({ ...c, agent_reply_count: c.agent_reply_count + 1 }, target, ev.created_at));
          }
          await tx.update(patch);
          if (mailed) await tx.queueMail(mailed);
        },
      );
    },

    /** An internal note: staff only, never shown or sent to the resident. */
    async addNote(reference: string, actor: AuthUser, input: unknown) {
      const v = parseOrThrow(noteSchema, input);
      return change(
        (trx) => cases.lockByReference(trx, reference),
        async (tx) => {
          const ev = await tx.event({ type: 'note.added', actorType: 'user', actorId: actor.id, internal: true });
          await cases.insertMessage(tx.trx, { caseId: tx.current.id, eventId: ev.id, kind: 'note', authorId: actor.id, channel: 'internal', body: v.body });
        },
      );
    },

    /** Status and/or assignment, as one change. Invalid transitions are refused (409) and nothing is written. */
    async update(reference: string, actor: AuthUser, input: unknown) {
      const v = parseOrThrow(caseUpdateSchema, input);
      let assignee: { id: number; name: string } | null | undefined;
      if (v.assigneeId !== undefined && v.assigneeId !== null) {
        const user = await users.findActiveUser(v.assigneeId);
        if (!user) throw new ValidationError([{ field: 'assigneeId', code: 'errors.assignee_unknown', message: 'There is no active user with that id' }]);
        assignee = user;
      } else if (v.assigneeId === null) {
        assignee = null;
      }
      return change(
        (trx) => cases.lockByReference(trx, reference),
        async (tx) => {
          const c = tx.current;
          const patch: Partial<CaseRow> = {};
          if (v.status !== undefined && v.status !== c.status) {
            assertTransition(c.status, v.status);
            const at = new Date();
            await tx.event({ type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: c.status, to: v.status } });
            Object.assign(patch, statusPatch(c, v.status, at));
          } else if (v.status !== undefined && v.assigneeId === undefined) {
            assertTransition(c.status, v.status); // same status: says "already …"
          }
          if (assignee !== undefined && (assignee?.id ?? null) !== c.assignee_id) {
            if (c.status === 'closed') throw new ConflictErrorForClosed();
            await tx.event({ type: 'assignment.changed', actorType: 'user', actorId: actor.id, payload: { from: c.assignee_id, to: assignee?.id ?? null, toName: assignee?.name ?? null } });
            patch.assignee_id = assignee?.id ?? null;
          }
          if (Object.keys(patch).length) await tx.update(patch);
        },
      );
    },

    /** Hands the case to a department with a note for them; the department is mailed if it has an address. */
    async forward(reference: string, actor: AuthUser, input: unknown) {
      const v = parseOrThrow(forwardSchema, input);
      const dep = await activeDepartmentBySlug(v.department);
      return change(
        (trx) => cases.lockByReference(trx, reference),
        (tx) => recordForward(tx, { composer, mail }, { department: dep, note: v.note, actor }),
      );
    },
  };
}
