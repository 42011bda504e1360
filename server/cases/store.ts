import type { Knex } from 'knex';
import type { NewOutboxMail } from '../mail/store.js';
import { preparedQuery } from '../platform/sql.js';
import type { CaseStatus, Channel } from './lifecycle.js';

export interface CaseRow {
  id: number;
  reference: string;
  status: CaseStatus;
  channel: Channel;
  category_id: number;
  department_id: number | null;
  assignee_id: number | null;
  resident_id: number;
  subject: string;
  language: string;
  resident_token: string;
  /** Twelve digits, shown in full only in the case view (everywhere else masked, if at all). */
  personnummer: string | null;
  created_at: Date;
  updated_at: Date;
  /** When the case wants attention: created_at, or when a callback is due. The queue goes by it. */
  queue_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  resolved_at_first_contact: boolean | null;
  /** Working-time metrics (server/stats/working-time.ts), written with the timestamps above by the case changer. */
  first_response_working_s: number | null;
  resolution_working_s: number | null;
  first_response_working_days: number | null;
  agent_reply_count: number;
  resident_message_count: number;
  forward_count: number;
  reopen_count: number;
}

export interface MailFields {
  html: string | null;
  mailMessageId: string | null;
  inboundMessageId: number | null;
}

export interface MailThreadCandidate {
  id: number;
  reference: string;
  status: CaseStatus;
  closed_at: Date | null;
  resident_email: string | null;
  participants: string[];
  matchedBy: 'reference' | 'message-id';
}

export interface CaseEventRow {
  id: number;
  case_id: number;
  type: string;
  actor_type: 'resident' | 'user' | 'system';
  actor_id: number | null;
  payload: Record<string, unknown>;
  internal: boolean;
  created_at: Date;
}

export interface NewCaseEvent {
  type: string;
  actorType: 'resident' | 'user' | 'system';
  actorId?: number | null;
  payload?: Record<string, unknown>;
  internal?: boolean;
}

export interface QueueFilter {
  statuses: readonly CaseStatus[];
  channel?: Channel;
  categoryId?: number;
  assigneeId?: number;
  after?: { queueAt: Date; id: number };
  limit: number;
}

export interface QueueRow {
  id: number;
  reference: string;
  status: CaseStatus;
  channel: Channel;
  category: string;
  category_name_sv: string;
  category_name_en: string;
  subject: string;
  created_at: Date;
  queue_at: Date;
  updated_at: Date;
  assignee_id: number | null;
  assignee_name: string | null;
  department_name: string | null;
  resident_name: string;
  /** Protected identity (skyddad identitet): the name and contact details are shown only to those allowed. */
  resident_protected: boolean;
  /** Set when the case is a callback. */
  callback_status: string | null;
  callback_due_at: Date | null;
  callback_attempts: number | null;
  callback_max_attempts: number | null;
}

export interface TimelineRow extends CaseEventRow {
  actor_name: string | null;
  message_id: number | null;
  message_kind: 'resident' | 'reply' | 'note' | null;
  message_body: string | null;
  message_html: string | null;
  message_channel: string | null;
}

/** A committed event as the live feed reads it. */
export interface FeedEventRow extends TimelineRow {
  reference: string;
  case_assignee_id: number | null;
}

/** The names that come with a case in a queue row and in a summary (see withNames). */
const NAMES = [
  'cat.slug as category',
  'cat.name_sv as category_name_sv',
  'cat.name_en as category_name_en',
  'r.name as resident_name',
  'r.protected_identity as resident_protected',
  'u.name as assignee_name',
  'd.name as department_name',
] as const;

export function createCaseStore(db: Knex) {
  /** A case joined to its topic, resident, assignee and department, whose names a queue row and a summary both show (NAMES). */
  const withNames = () =>
    db('cases as c')
      .join('categories as cat', 'cat.id', 'c.category_id')
      .join('residents as r', 'r.id', 'c.resident_id')
      .leftJoin('users as u', 'u.id', 'c.assignee_id')
      .leftJoin('departments as d', 'd.id', 'c.department_id');

  /** What a queue row shows, one definition for the queue page and live updates. */
  const queueRows = () =>
    withNames()
      .leftJoin('callbacks as cb', 'cb.case_id', 'c.id')
      .select(
        'cb.status as callback_status',
        'cb.next_attempt_at as callback_due_at',
        'cb.attempts as callback_attempts',
        'cb.max_attempts as callback_max_attempts',
        'c.id',
        'c.reference',
        'c.status',
        'c.channel',
        'c.subject',
        'c.created_at',
        'c.queue_at',
        'c.updated_at',
        'c.assignee_id',
        ...NAMES,
      );

  const timelineRows = () =>
    db('case_events as e')
      .leftJoin('users as u', 'u.id', 'e.actor_id')
      .leftJoin('messages as m', 'm.event_id', 'e.id')
      .select('e.*', 'u.name as actor_name', 'm.id as message_id', 'm.kind as message_kind', 'm.body as message_body', 'm.body_html as message_html', 'm.channel as message_channel');

  /** A whole case with its topic, resident, assignee and department. */
  const summaries = () => withNames().select('c.*', ...NAMES, 'r.email as resident_email', 'r.phone as resident_phone', 'd.slug as department_slug');

  return {
    insertNewCases,

    /** Reserves `count` case numbers from the sequence. */
    async takeCaseNumbers(count: number): Promise<number[]> {
      const { rows } = await db.raw<{ rows: { n: number | string }[] }>(`SELECT nextval('case_number_seq') AS n FROM generate_series(1, ?)`, [count]);
      return rows.map((r) => Number(r.n)).sort((a, b) => a - b);
    },

    async insertEvent(trx: Knex.Transaction, caseId: number, e: NewCaseEvent): Promise<CaseEventRow> {
      const [row] = await this.insertEvents(trx, caseId, [e]);
      return row!;
    },

    /** Several events in one statement, in the given order. */
    async insertEvents(trx: Knex.Transaction, caseId: number, events: NewCaseEvent[]): Promise<CaseEventRow[]> {
      const rows = events.map((e) => ({
        case_id: caseId,
        type: e.type,
        actor_type: e.actorType,
        actor_id: e.actorId ?? null,
        payload: JSON.stringify(e.payload ?? {}),
        internal: e.internal ?? false,
      }));
      const inserted = (await trx('case_events').insert(rows).returning('*')) as CaseEventRow[];
      return inserted.sort((a, b) => a.id - b.id);
    },

    async insertMessage(
      trx: Knex.Transaction,
      m: { caseId: number; eventId: number; kind: 'resident' | 'reply' | 'note'; authorId?: number | null; channel: string; body: string } & Partial<MailFields>,
    ): Promise<number> {
      const [row] = await trx('messages')
        .insert({
          case_id: m.caseId,
          event_id: m.eventId,
          kind: m.kind,
          author_id: m.authorId ?? null,
          channel: m.channel,
          body: m.body,
          body_html: m.html ?? null,
          mail_message_id: m.mailMessageId ?? null,
          inbound_message_id: m.inboundMessageId ?? null,
        })
        .returning('id');
      return (row as { id: number }).id;
    },

    /** What a message that came by mail carries besides its text. */
    async setMailFields(trx: Knex.Transaction, messageId: number, f: MailFields): Promise<void> {
      await trx('messages').where({ id: messageId }).update({ body_html: f.html, mail_message_id: f.mailMessageId, inbound_message_id: f.inboundMessageId });
    },

    async setLinkedCase(trx: Knex.Transaction, caseId: number, linkedCaseId: number): Promise<void> {
      await trx('cases').where({ id: caseId }).update({ linked_case_id: linkedCaseId });
    },

    async lockById(trx: Knex.Transaction, id: number): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases').where({ id }).forUpdate().first();
    },

    /**
     * Cases a mail may belong to: named by reference in its subject, or whose
     * mail (ours or the resident's) it answers by Message-ID. With the people
     * allowed to write to each: the resident and the case's participants.
     */
    async findCasesForMail(f: { references: string[]; messageIds: string[] }): Promise<MailThreadCandidate[]> {
      if (!f.references.length && !f.messageIds.length) return [];
      // Message-IDs are compared with and without their angle brackets.
      const bothForms = [...f.messageIds, ...f.messageIds.map((i) => `<${i}>`)];
      const rows = (await db('cases as c')
        .join('residents as r', 'r.id', 'c.resident_id')
        .where((q) => {
          if (f.references.length) q.orWhereIn('c.reference', f.references);
          if (bothForms.length) {
            q.orWhereIn('c.id', db('mail_outbox').select('case_id').whereIn('message_id', bothForms));
            q.orWhereIn('c.id', db('messages').select('case_id').whereIn('mail_message_id', bothForms));
          }
        })
        .select(
          'c.id',
          'c.reference',
          'c.status',
          'c.closed_at',
          'r.email as resident_email',
          db.raw('(SELECT coalesce(array_agg(p.email), ARRAY[]::text[]) FROM case_participants p WHERE p.case_id = c.id) AS participants'),
        )
        .orderBy('c.id', 'desc')) as (Omit<MailThreadCandidate, 'matchedBy'> & { participants: string[] | string })[];
      return rows.map((r) => ({
        ...r,
        // pg parses text[]; a driver that does not hands over the literal {a,b}.
        participants: Array.isArray(r.participants) ? r.participants : String(r.participants ?? '').replace(/^\{|\}$/g, '').split(',').filter(Boolean),
        matchedBy: f.references.includes(r.reference) ? 'reference' : 'message-id',
      }));
    },

    async updateCase(trx: Knex.Transaction, id: number, patch: Partial<CaseRow> & Record<string, unknown>): Promise<CaseRow> {
      const [row] = await trx('cases').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
      return row as CaseRow;
    },

    /** Locks the case row for the rest of the transaction, so changes to one case happen one at a time. */
    async lockByReference(trx: Knex.Transaction, reference: string): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases').where({ reference }).forUpdate().first();
    },

    async lockByToken(trx: Knex.Transaction, token: string): Promise<CaseRow | undefined> {
      return trx<CaseRow>('cases').where({ resident_token: token }).forUpdate().first();
    },

    async findById(id: number): Promise<CaseRow | undefined> {
      return db<CaseRow>('cases').where({ id }).first();
    },

    /** A caller's cases, newest first, matched by the resident's phone number however it was written. */
    async byPhone(phone: string, limit: number): Promise<(QueueRow & { resident_phone: string })[]> {
      return queueRows()
        .select('r.phone as resident_phone')
        .whereRaw('r.phone_key = sc_phone_key(?)', [phone])
        .orderBy('c.id', 'desc')
        .limit(limit);
    },

    async findByReference(reference: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('cases').where({ reference }).first();
    },

    async findByToken(token: string): Promise<CaseRow | undefined> {
      return db<CaseRow>('cases').where({ resident_token: token }).first();
    },

    async listQueue(f: QueueFilter): Promise<QueueRow[]> {
      return this.queueQuery(f);
    },

    /** The queue query itself, so its plan can be checked (tests assert it walks an index, never sorts). */
    queueQuery(f: QueueFilter): Knex.QueryBuilder {
      const q = queueRows()
        .whereIn('c.status', f.statuses as CaseStatus[])
        .orderBy([{ column: 'c.queue_at' }, { column: 'c.id' }])
        .limit(f.limit);
      if (f.channel) q.andWhere('c.channel', f.channel);
      // By id, not by joined slug, so the planner can walk cases_category_idx in order.
      if (f.categoryId !== undefined) q.andWhere('c.category_id', f.categoryId);
      if (f.assigneeId !== undefined) q.andWhere('c.assignee_id', f.assigneeId);
      if (f.after) q.andWhereRaw('(c.queue_at, c.id) > (?, ?)', [f.after.queueAt, f.after.id]);
      return q;
    },

    /** Queue rows of the given cases, whatever their status (live updates re-render changed rows). */
    async queueRowsByIds(ids: number[]): Promise<QueueRow[]> {
      return ids.length ? queueRows().whereIn('c.id', ids) : [];
    },

    async timeline(caseId: number, opts: { includeInternal: boolean }): Promise<TimelineRow[]> {
      const q = timelineRows().where('e.case_id', caseId).orderBy('e.id');
      if (!opts.includeInternal) q.andWhere('e.internal', false);
      return q;
    },

    /**
     * Committed events after `afterId` in id order, each with its case's
     * reference and current assignee: the feed of live pushes and of a
     * reconnecting client's catch-up. Ids become visible in order (see the
     * live_workspace migration), so nothing below the last id read is missed.
     */
    async eventsAfter(afterId: number, opts: { limit: number; caseId?: number }): Promise<FeedEventRow[]> {
      const q = timelineRows()
        .join('cases as c', 'c.id', 'e.case_id')
        .select('c.reference', 'c.assignee_id as case_assignee_id')
        .where('e.id', '>', afterId)
        .orderBy('e.id')
        .limit(opts.limit);
      if (opts.caseId !== undefined) q.andWhere('e.case_id', opts.caseId);
      return q;
    },

    /** The first reply on the case after `afterId` by someone other than `authorId`, if any. */
    async replyByOtherAfter(trx: Knex.Transaction, caseId: number, afterId: number, authorId: number): Promise<{ actor_name: string | null } | undefined> {
      return trx('case_events as e')
        .leftJoin('users as u', 'u.id', 'e.actor_id')
        .where({ 'e.case_id': caseId, 'e.type': 'reply.sent' })
        .andWhere('e.id', '>', afterId)
        .andWhereRaw('e.actor_id IS DISTINCT FROM ?', [authorId])
        .orderBy('e.id')
        .first('u.name as actor_name');
    },

    async lastEventId(): Promise<number> {
      const row = await db('case_events').max<{ max: number | string | null }>('id as max').first();
      return Number(row?.max ?? 0);
    },

    async caseSummary(caseId: number) {
      return summaries().where('c.id', caseId).first();
    },

    /** The summaries of several cases in one query (a batch of live pushes). */
    async caseSummaries(ids: number[]): Promise<(CaseRow & Record<string, unknown>)[]> {
      return ids.length ? summaries().whereIn('c.id', ids) : [];
    },
  };
}

export type CaseStore = ReturnType<typeof createCaseStore>;

export interface NewCaseRow {
  /** An existing resident (phone-only contacts), or an e-mail to upsert the resident by. */
  resident: { name: string; email: string; phone: string | null } | { id: number };
  reference: string;
  channel: Channel;
  categoryId: number;
  subject: string;
  language: string;
  token: string;
  body: string;
  payload: Record<string, unknown>;
  ack: NewOutboxMail | undefined;
  /** Twelve digits, given with a topic that asks for one (server/privacy/personnummer-field.ts). */
  personnummer?: string | null;
  /** Who opened it when not the resident: an agent registering a call or a visit. */
  actor?: { type: 'user'; id: number };
}

export interface InsertedCase {
  reference: string;
  case_id: number;
  created_at: Date;
  event_id: number;
  event_created_at: Date;
  message_id: number;
}

/**
 * New cases in one statement: for each, the resident (upserted by e-mail),
 * the case, its first event, its first message and the acknowledgement mail.
 * The rows travel as one JSON parameter, so the prepared statement is the
 * same for one case or a hundred, and a single statement is all-or-nothing.
 * Two cases in one call must not share an e-mail address (an upsert cannot
 * touch the same row twice); the intake writer sees to that.
 */
async function insertNewCases(conn: Knex, items: NewCaseRow[]): Promise<InsertedCase[]> {
  const input = items.map((p) => ({
    ref: p.reference,
    name: 'id' in p.resident ? null : p.resident.name,
    email: 'id' in p.resident ? null : p.resident.email,
    phone: 'id' in p.resident ? null : p.resident.phone,
    resident_id: 'id' in p.resident ? p.resident.id : null,
    channel: p.channel,
    category_id: p.categoryId,
    subject: p.subject,
    language: p.language,
    token: p.token,
    actor_type: p.actor?.type ?? 'resident',
    actor_id: p.actor?.id ?? null,
    payload: p.payload,
    body: p.body,
    ack_kind: p.ack?.kind ?? null,
    ack_to: p.ack?.to_address ?? null,
    ack_subject: p.ack?.subject ?? null,
    ack_text: p.ack?.text_body ?? null,
    ack_message_id: p.ack?.message_id ?? null,
    ack_html: p.ack?.html_body ?? null,
    ack_in_reply_to: p.ack?.in_reply_to ?? null,
    ack_references: p.ack?.references_header ?? null,
    ack_auto_submitted: p.ack?.auto_submitted ?? null,
    personnummer: p.personnummer ?? null,
  }));
  return preparedQuery<InsertedCase>(
    conn,
    `WITH input AS (
       SELECT * FROM json_to_recordset(CAST(? AS json)) AS t(
         ref text, name text, email text, phone text, resident_id bigint, channel text, category_id integer,
         subject text, language text, token text, actor_type text, actor_id integer, payload jsonb, body text,
         ack_kind text, ack_to text, ack_subject text, ack_text text, ack_message_id text,
         ack_html text, ack_in_reply_to text, ack_references text, ack_auto_submitted text, personnummer text)),
     r AS (
       INSERT INTO residents (name, email, phone)
       SELECT name, email, phone FROM input WHERE email IS NOT NULL
       ON CONFLICT ((lower(email))) WHERE email IS NOT NULL
       DO UPDATE SET name = excluded.name, phone = coalesce(excluded.phone, residents.phone), updated_at = now()
       RETURNING id, lower(email) AS email_key),
     c AS (
       INSERT INTO cases (reference, status, channel, category_id, resident_id, subject, language, resident_token, resident_message_count, personnummer)
       SELECT i.ref, 'new', i.channel, i.category_id, coalesce(i.resident_id, r.id), i.subject, i.language, i.token, 1, i.personnummer
       FROM input i LEFT JOIN r ON r.email_key = lower(i.email)
       RETURNING id, reference, created_at),
     e AS (
       INSERT INTO case_events (case_id, type, actor_type, actor_id, payload)
       SELECT c.id, 'case.created', i.actor_type, i.actor_id, i.payload FROM c JOIN input i ON i.ref = c.reference
       RETURNING id, case_id, created_at),
     m AS (
       INSERT INTO messages (case_id, event_id, kind, channel, body)
       SELECT e.case_id, e.id, 'resident', i.channel, i.body FROM e JOIN c ON c.id = e.case_id JOIN input i ON i.ref = c.reference
       RETURNING id, case_id),
     -- Protected identity (skyddad identitet): no automatic receipt to the resident, a note on the timeline instead.
     -- Reads residents as before this statement; the upsert above never changes the flag.
     withheld AS (
       SELECT i.ref FROM input i
       WHERE i.ack_to IS NOT NULL AND i.ack_auto_submitted IS NOT NULL
         AND EXISTS (SELECT 1 FROM residents x WHERE x.protected_identity
                     AND (x.id = i.resident_id OR lower(x.email) = lower(i.email) OR lower(x.email) = lower(i.ack_to)))),
     o AS (
       INSERT INTO mail_outbox (case_id, kind, to_address, subject, text_body, message_id, html_body, in_reply_to, references_header, auto_submitted)
       SELECT c.id, i.ack_kind, i.ack_to, i.ack_subject, i.ack_text, i.ack_message_id, i.ack_html, i.ack_in_reply_to, i.ack_references, i.ack_auto_submitted
       FROM c JOIN input i ON i.ref = c.reference
       WHERE i.ack_to IS NOT NULL AND i.ref NOT IN (SELECT ref FROM withheld)),
     -- Reads e, so the note comes after case.created.
     w AS (
       INSERT INTO case_events (case_id, type, actor_type, payload, internal)
       SELECT e.case_id, 'mail.withheld', 'system', jsonb_build_object('kind', i.ack_kind, 'reason', 'protected_identity'), true
       FROM e JOIN c ON c.id = e.case_id JOIN input i ON i.ref = c.reference
       WHERE i.ref IN (SELECT ref FROM withheld))
     SELECT c.reference, c.id AS case_id, c.created_at, e.id AS event_id, e.created_at AS event_created_at, m.id AS message_id
     FROM c JOIN e ON e.case_id = c.id JOIN m ON m.case_id = c.id`,
    [JSON.stringify(input)],
  );
}
