import type { AttachmentRow } from '../attachments/store.js';
import type { CaseStore, FeedEventRow, QueueRow } from '../cases/store.js';
import { describeEvent } from '../cases/timeline.js';
import { LANGUAGES, STAFF_LANGUAGES, translate, type Language } from '../platform/i18n.js';
import type { Views } from '../platform/views.js';
import { maskPersonnummer } from '../privacy/personnummer.js';
import type { LiveMessage, LiveRow } from './protocol.js';
import { waitingFor } from '../queue/service.js';

/**
 * Who a live message is for. A socket belongs to one audience per
 * subscription, and each audience is one Socket.IO room per language, so a
 * message is rendered once per room, not once per socket.
 */
export type Audience =
  | { scope: 'queue'; lang: Language }
  | { scope: 'case'; caseId: number; lang: Language }
  | { scope: 'resident'; caseId: number; lang: Language }
  | { scope: 'user'; userId: number; lang: Language };

export function roomOf(a: Audience): string {
  switch (a.scope) {
    case 'queue':
      return `queue:${a.lang}`;
    case 'case':
      return `case:${a.caseId}:${a.lang}`;
    case 'resident':
      return `resident:${a.caseId}:${a.lang}`;
    case 'user':
      return `user:${a.userId}:${a.lang}`;
  }
}

/** Events that change what the details panel (agent) or the status line (resident) shows. */
const CHANGES_DETAILS = new Set(['status.changed', 'assignment.changed', 'case.forwarded', 'identity.protected', 'identity.unprotected']);

/** Everything a batch of events needs from the database, fetched once before anything is sent. */
export interface PreparedBatch {
  events: FeedEventRow[];
  rows: Map<number, QueueRow>;
  summaries: Map<number, Record<string, unknown>>;
  files: Map<number, AttachmentRow[]>;
}

/**
 * Turns committed case events into what each audience sees, with the same
 * partials the pages are rendered with: a queue row, a timeline entry, the
 * details panel, a resident's conversation entry, a notice for one agent.
 * Internal events never produce anything for a resident.
 */
export function createLiveRenderer(deps: { views: Views; cases: Pick<CaseStore, 'queueRowsByIds' | 'caseSummaries'>; attachments: { listForMessages(messageIds: number[]): Promise<AttachmentRow[]> } }) {
  const { views, cases, attachments } = deps;

  function residentSees(e: FeedEventRow): boolean {
    if (e.internal) return false;
    return e.message_kind === 'resident' || e.message_kind === 'reply' || e.type === 'status.changed';
  }

  /** The agents an event is news for: the assignee when the resident writes, the new assignee when handed a case. */
  function noticeFor(e: FeedEventRow, lang: Language): { userId: number; text: string } | undefined {
    if (e.type === 'message.received' && e.case_assignee_id !== null) {
      return { userId: e.case_assignee_id, text: translate(lang, 'live.notice.resident_replied', { reference: e.reference }) };
    }
    const to = e.payload?.to;
    if (e.type === 'assignment.changed' && typeof to === 'number' && to !== e.actor_id && e.actor_id !== null) {
      return { userId: to, text: translate(lang, 'live.notice.assigned', { reference: e.reference, actor: e.actor_name ?? '' }) };
    }
    return undefined;
  }

  return {
    async prepare(events: FeedEventRow[]): Promise<PreparedBatch> {
      const caseIds = [...new Set(events.map((e) => e.case_id))];
      const detailIds = [...new Set(events.filter((e) => CHANGES_DETAILS.has(e.type) || residentSees(e)).map((e) => e.case_id))];
      const messageIds = events.flatMap((e) => (e.message_id !== null ? [e.message_id] : []));
      // One query each, however many events the batch holds.
      const [rows, summaries, attached] = await Promise.all([cases.queueRowsByIds(caseIds), cases.caseSummaries(detailIds), attachments.listForMessages(messageIds)]);
      const files = new Map<number, AttachmentRow[]>();
      for (const f of attached) files.set(f.case_id, [...(files.get(f.case_id) ?? []), f]);
      return { events, rows: new Map(rows.map((r) => [r.id, r])), summaries: new Map(summaries.map((c) => [c.id, c as Record<string, unknown>])), files };
    },

    /** The audiences an event concerns, in every language (the caller keeps those with listeners). */
    audiencesOf(e: FeedEventRow): Audience[] {
      const out: Audience[] = [];
      // Staff pages are in Swedish or English; residents' pages in any of their languages.
      for (const lang of STAFF_LANGUAGES) {
        out.push({ scope: 'queue', lang }, { scope: 'case', caseId: e.case_id, lang });
        const notice = noticeFor(e, lang);
        if (notice) out.push({ scope: 'user', userId: notice.userId, lang });
      }
      if (residentSees(e)) for (const lang of LANGUAGES) out.push({ scope: 'resident', caseId: e.case_id, lang });
      return out;
    },

    /** What one audience sees of one event; renders partials, no I/O. */
    render(batch: PreparedBatch, e: FeedEventRow, a: Audience): LiveMessage | undefined {
      const base = { id: e.id, reference: e.reference, type: e.type };
      const lang = a.lang;
      switch (a.scope) {
        case 'queue': {
          const r = batch.rows.get(e.case_id);
          return { scope: 'queue', ...base, row: r ? queueRow(r, lang) : null };
        }
        case 'case': {
          if (a.caseId !== e.case_id) return undefined;
          const files = e.message_id !== null ? (batch.files.get(e.case_id) ?? []).filter((f) => f.message_id === e.message_id) : [];
          // A room is shared by everyone on the case, so a protected resident's details never ride a push (the page shows them, logged, to those allowed).
          const hideContact = batch.rows.get(e.case_id)?.resident_protected === true;
          const entry = views.partial('timeline-entry', { ...e, ...describeEvent(e, lang, { hideContact }), files, lang });
          const c = CHANGES_DETAILS.has(e.type) ? batch.summaries.get(e.case_id) : undefined;
          const details = c ? views.partial('case-details', { c, categoryName: lang === 'en' ? c.category_name_en : c.category_name_sv, lang }) : null;
          return { scope: 'case', ...base, entry, details, actorId: e.actor_id, kind: e.message_kind };
        }
        case 'resident': {
          if (a.caseId !== e.case_id || !residentSees(e)) return undefined;
          const c = batch.summaries.get(e.case_id);
          let entry: string | null = null;
          if (e.message_kind === 'resident' || e.message_kind === 'reply') {
            const token = String(c?.resident_token ?? '');
            const files = (batch.files.get(e.case_id) ?? [])
              .filter((f) => f.message_id === e.message_id)
              .map((f) => ({ ...f, url: `/arende/${token}/bilagor/${f.public_id}` }));
            entry = views.partial('conversation-entry', { ...e, fromResident: e.message_kind === 'resident', files, lang });
          }
          const status = e.type === 'status.changed' && c ? String(c.status) : null;
          const statusHtml = status ? views.partial('resident-status', { status, lang }) : null;
          return { scope: 'resident', ...base, entry, status, statusHtml };
        }
        case 'user': {
          const notice = noticeFor(e, lang);
          // A notice is a notification, not the case view: names in it are masked like any outside text.
          return notice && notice.userId === a.userId ? { scope: 'user', ...base, notice: maskPersonnummer(notice.text) } : undefined;
        }
      }
    },
  };

  function queueRow(r: QueueRow, lang: Language): LiveRow {
    return {
      html: views.partial('case-row', { ...r, ...waitingFor(r), lang }),
      status: r.status,
      channel: r.channel,
      category: r.category,
      createdAt: new Date(r.created_at).toISOString(),
      queueAt: new Date(r.queue_at).toISOString(),
      assigneeId: r.assignee_id,
    };
  }
}

export type LiveRenderer = ReturnType<typeof createLiveRenderer>;
