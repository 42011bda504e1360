import type { Knex } from 'knex';

type Row = Record<string, unknown>;

/** Who the export is about: an e-mail address (any case) or a phone number (any spelling). */
export type Subject = { email: string; phone?: undefined } | { phone: string; email?: undefined };

/** Everything stored about one person, as rows (the service shapes them into the file). */
export interface SubjectData {
  residents: Row[];
  cases: Row[];
  participants: Row[];
  messages: Row[];
  events: Row[];
  attachments: Row[];
  callbacks: Row[];
  callbackAttempts: Row[];
  calls: Row[];
  callEvents: Row[];
  surveys: Row[];
  mail: Row[];
  inbound: Row[];
}

/** `lower(column) IN (?, …)` for the given (lower-case) values; false for none. */
const lowerIn = (column: string, values: string[]) => (values.length ? `lower(${column}) IN (${values.map(() => '?').join(', ')})` : 'false');

/** What the resident's private link and the survey's key are: keys to act as the person, not data about them. */
const CASE_SECRET_COLUMNS = ['resident_token'];

/**
 * The SQL of the data-subject export (registerutdrag). The person is found by
 * e-mail (case-insensitive, as the residents index has it) or by phone key
 * (sc_phone_key: the same number however written), and from there:
 * - their resident rows; for an e-mail, also residents without an e-mail who
 *   gave the same number (phone contacts), never another person's e-mail row;
 * - cases they are the resident of, a participant in (e-mail copies), or
 *   whose callback went to their number;
 * - everything of those cases, and calls, callbacks and mail matched by their
 *   number or address even without a case.
 */
export function createSubjectExportStore(db: Knex) {
  return {
    async gather(subject: Subject): Promise<SubjectData> {
      const direct: Row[] = subject.email
        ? await db('residents').whereRaw('lower(email) = lower(?)', [subject.email]).orderBy('id')
        : await db('residents').whereRaw('phone_key = sc_phone_key(?)', [subject.phone!]).orderBy('id');
      const phoneKeys = new Set<string>(direct.map((r) => r.phone_key).filter((k): k is string => typeof k === 'string'));
      if (subject.phone) {
        const { rows } = await db.raw<{ rows: { key: string | null }[] }>('SELECT sc_phone_key(?) AS key', [subject.phone]);
        if (rows[0]?.key) phoneKeys.add(rows[0].key);
      }
      const emails = new Set<string>(direct.map((r) => r.email).filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase()));
      if (subject.email) emails.add(subject.email.toLowerCase());
      const keys = [...phoneKeys];
      const mails = [...emails];

      const directIds = new Set(direct.map((r) => Number(r.id)));
      const phoneOnly: Row[] =
        subject.email && keys.length ? await db('residents').whereIn('phone_key', keys).whereNull('email').orderBy('id') : [];
      const residents = [...direct, ...phoneOnly.filter((r) => !directIds.has(Number(r.id)))];
      const residentIds = residents.map((r) => Number(r.id));

      const caseIdRows: { id: number }[] = await db
        .select('id')
        .from('cases')
        .whereIn('resident_id', residentIds.length ? residentIds : [-1])
        .union((u) => u.select('case_id as id').from('case_participants').whereRaw(lowerIn('email', mails), mails))
        .union((u) => u.select('case_id as id').from('callbacks').whereIn('phone_key', keys.length ? keys : ['']));
      const caseIds = [...new Set(caseIdRows.map((r) => Number(r.id)))];
      const ids = caseIds.length ? caseIds : [-1];

      const cases: Row[] = (
        await db('cases as c')
          .join('categories as cat', 'cat.id', 'c.category_id')
          .leftJoin('departments as d', 'd.id', 'c.department_id')
          .leftJoin('users as u', 'u.id', 'c.assignee_id')
          .whereIn('c.id', ids)
          .orderBy([{ column: 'c.created_at' }, { column: 'c.id' }])
          .select('c.*', 'cat.slug as category', 'cat.name_sv as category_name', 'd.name as department_name', 'u.name as assignee_name')
      ).map((c: Row) => Object.fromEntries(Object.entries(c).filter(([k]) => !CASE_SECRET_COLUMNS.includes(k))));

      const [participants, messages, events, attachments] = await Promise.all([
        db('case_participants').whereIn('case_id', ids).orderBy(['case_id', 'added_at', 'email']),
        db('messages as m')
          .leftJoin('users as u', 'u.id', 'm.author_id')
          .whereIn('m.case_id', ids)
          .orderBy([{ column: 'm.case_id' }, { column: 'm.created_at' }, { column: 'm.id' }])
          .select('m.*', 'u.name as author_name'),
        db('case_events as e')
          .leftJoin('users as u', 'u.id', 'e.actor_id')
          .whereIn('e.case_id', ids)
          .orderBy([{ column: 'e.case_id' }, { column: 'e.id' }])
          .select('e.*', 'u.name as actor_name'),
        db('attachments').whereIn('case_id', ids).orderBy(['case_id', 'id']),
      ]);

      const callbacks: Row[] = await db('callbacks')
        .whereIn('case_id', ids)
        .orWhereIn('phone_key', keys.length ? keys : [''])
        .orderBy('id');
      const callbackIds = callbacks.map((c) => Number(c.id));
      const [callbackAttempts, calls] = await Promise.all([
        db('callback_attempts').whereIn('callback_id', callbackIds.length ? callbackIds : [-1]).orderBy('id'),
        db('calls')
          .whereIn('caller_key', keys.length ? keys : [''])
          .orWhereIn('callback_id', callbackIds.length ? callbackIds : [-1])
          .orderBy('id'),
      ]);
      const callIds = calls.map((c: Row) => String(c.call_id));
      const [callEvents, surveys, mail, inbound] = await Promise.all([
        db('call_events').whereIn('call_id', callIds.length ? callIds : ['']).orderBy(['occurred_at', 'id']),
        // The survey's key is left out for the same reason as the case's link.
        db('service_surveys')
          .whereIn('case_id', ids)
          .orderBy('id')
          .select('id', 'case_id', 'language', 'channel', 'created_at', 'expires_at', 'answered_at', 'treatment', 'ease', 'clarity'),
        db('mail_outbox').whereRaw(lowerIn('to_address', mails), mails).orderBy('id'),
        // Metadata only: the raw message holds other recipients' headers too, and the case's messages hold its text.
        db('inbound_messages')
          .whereIn('case_id', ids)
          .orWhereRaw(lowerIn('envelope_from', mails), mails)
          .orderBy('id')
          .select('id', 'source', 'recipient', 'envelope_from', 'message_id', 'size_bytes', 'sha256', 'status', 'outcome', 'case_id', 'received_at', 'processed_at'),
      ]);

      return { residents, cases, participants, messages, events, attachments, callbacks, callbackAttempts, calls, callEvents, surveys, mail, inbound };
    },
  };
}

export type SubjectExportStore = ReturnType<typeof createSubjectExportStore>;
