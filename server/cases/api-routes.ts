import { limitPerWindow } from '../platform/rate-limit.js';
import { maskPersonnummer } from '../privacy/personnummer.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import type { CaseRow, QueueRow } from './store.js';
import { referenceParam } from './reference.js';
import type { Request } from 'express';
import { accessorOf } from '../privacy/access-log.js';
import { isProtected, payloadWithoutContact } from '../privacy/protected-identity.js';


const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/** A case in a list: outside text masked, as in the queue page (only the single-case answer has it in full). */
export function toApiQueueItem(r: QueueRow) {
  return {
    reference: r.reference,
    status: r.status,
    channel: r.channel,
    category: r.category,
    subject: maskPersonnummer(r.subject),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name } : null,
    department: r.department_name,
    // Protected identity: never the name in a list, whoever asks (GET /api/v1/cases/{reference} has it for those allowed, logged).
    residentName: r.resident_protected ? null : maskPersonnummer(r.resident_name),
    protectedIdentity: r.resident_protected === true,
  };
}

/** `showProtected`: the reader may see a protected resident's details (and the showing has been logged). */
export function toApiCase(c: CaseRow & Record<string, unknown>, opts: { showProtected?: boolean } = {}) {
  const hide = isProtected(c) && !opts.showProtected;
  return {
    reference: c.reference,
    status: c.status,
    channel: c.channel,
    category: c.category as string,
    subject: c.subject,
    language: c.language,
    createdAt: iso(c.created_at),
    updatedAt: iso(c.updated_at),
    firstResponseAt: iso(c.first_response_at),
    resolvedAt: iso(c.resolved_at),
    closedAt: iso(c.closed_at),
    resolvedAtFirstContact: c.resolved_at_first_contact,
    legalHold: c.legal_hold === true,
    assignee: c.assignee_id ? { id: c.assignee_id, name: (c.assignee_name as string | null) ?? null } : null,
    department: c.department_slug ? { slug: c.department_slug as string, name: c.department_name as string } : null,
    resident: hide
      ? { name: null, email: null, phone: null, protectedIdentity: true }
      : { name: c.resident_name as string, email: (c.resident_email as string | null) ?? null, phone: (c.resident_phone as string | null) ?? null, protectedIdentity: isProtected(c) },
    personnummer: hide ? null : (c.personnummer ?? null),
  };
}

/** The JSON API for integrations and scripts; the same services as the pages. */
export function caseApiRoutes(s: Services): RouteDef[] {
  const { cases, organisation, config } = s;
  const intakeLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'contact requests');


  /**
   * A case in full, as every API answer about one case gives it (a read, or
   * the case after a change): each is a view of the case, recorded before the
   * answer goes.
   */
  const detail = async (req: Request, ref: string) => {
    const view = await cases.getForAgent(ref);
    await s.accessLog.record(accessorOf(req), 'case.view', { caseId: view.case.id, caseReference: view.case.reference });
    const access = await s.protectedIdentity.contactAccess(accessorOf(req), view.case, 'api');
    const hide = !access.shown;
    return {
      ...toApiCase(view.case, { showProtected: access.shown }),
      messages: view.timeline
        .filter((e) => e.message_id)
        .map((e) => ({
          id: e.message_id,
          kind: e.message_kind,
          internal: e.message_kind === 'note',
          author: e.actor_type === 'resident' ? null : { id: e.actor_id, name: e.actor_name },
          body: e.message_body,
          createdAt: iso(e.created_at),
          attachments: view.attachments
            .filter((a) => a.message_id === e.message_id)
            .map((a) => ({ id: a.public_id, filename: a.filename, contentType: a.content_type, size: a.size_bytes, url: `/agent/attachments/${a.public_id}` })),
        })),
      events: view.timeline.map((e) => ({
        id: e.id,
        type: e.type,
        actor: e.actor_type === 'user' ? { type: 'user', id: e.actor_id, name: e.actor_name } : { type: e.actor_type },
        internal: e.internal,
        payload: hide ? payloadWithoutContact(e.payload) : e.payload,
        createdAt: iso(e.created_at),
      })),
    };
  };

  return [
    {
      method: 'post',
      path: '/api/v1/cases',
      access: 'public',
      before: [intakeLimit],
      summary: 'Create a case (as a resident would with the form)',
      handler: async (req, res) => {
        const created = await cases.createCase(req.body ?? {}, { channel: 'api', language: req.ctx.lang });
        res.status(201).location(`/api/v1/cases/${created.reference}`).json({
          reference: created.reference,
          status: created.status,
          statusUrl: created.statusUrl,
          createdAt: created.createdAt.toISOString(),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/cases',
      access: 'agent',
      summary: 'The queue, oldest first, with keyset pagination',
      handler: async (req, res) => {
        const result = await cases.listQueue(req.query);
        res.json({ items: result.items.map(toApiQueueItem), next: result.next });
      },
    },
    {
      method: 'get',
      path: '/api/v1/cases/:reference',
      access: 'agent',
      summary: 'A case with its messages and events',
      handler: async (req, res) => {
        res.json(await detail(req, referenceParam(req)));
      },
    },
    {
      method: 'patch',
      path: '/api/v1/cases/:reference',
      access: 'agent',
      summary: 'Change status and/or assignment',
      handler: async (req, res) => {
        const ref = referenceParam(req);
        await cases.update(ref, req.ctx.user!, req.body ?? {});
        res.json(await detail(req, ref));
      },
    },
    {
      method: 'post',
      path: '/api/v1/cases/:reference/replies',
      access: 'agent',
      summary: 'Reply to the resident (mailed, and shown on their page)',
      handler: async (req, res) => {
        const ref = referenceParam(req);
        await cases.reply(ref, req.ctx.user!, req.body ?? {});
        res.status(201).json(await detail(req, ref));
      },
    },
    {
      method: 'post',
      path: '/api/v1/cases/:reference/notes',
      access: 'agent',
      summary: 'Add an internal note',
      handler: async (req, res) => {
        const ref = referenceParam(req);
        await cases.addNote(ref, req.ctx.user!, req.body ?? {});
        res.status(201).json(await detail(req, ref));
      },
    },
    {
      method: 'post',
      path: '/api/v1/cases/:reference/forward',
      access: 'agent',
      summary: 'Forward to a department with a handover note',
      handler: async (req, res) => {
        const ref = referenceParam(req);
        await cases.forward(ref, req.ctx.user!, req.body ?? {});
        res.json(await detail(req, ref));
      },
    },
    {
      method: 'get',
      path: '/api/v1/categories',
      access: 'public',
      summary: 'The topics a case can have',
      handler: async (_req, res) => {
        const rows = await organisation.listCategories({ activeOnly: true });
        res.json({ items: rows.map((c) => ({ slug: c.slug, name: { sv: c.name_sv, en: c.name_en }, asksPersonnummer: c.asks_personnummer })) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/departments',
      access: 'agent',
      summary: 'The departments a case can be forwarded to',
      handler: async (_req, res) => {
        const rows = await organisation.listDepartments({ activeOnly: true });
        res.json({ items: rows.map((d) => ({ slug: d.slug, name: d.name })) });
      },
    },
  ];
}
