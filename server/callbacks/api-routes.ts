import { toApiCase } from '../cases/api-routes.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import type { CallbackRow } from './store.js';
import { referenceParam } from '../cases/reference.js';
import { accessorOf } from '../privacy/access-log.js';
import { isProtected } from '../privacy/protected-identity.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toApiCallback(cb: CallbackRow & { reference?: string }) {
  return {
    ...(cb.reference ? { reference: cb.reference } : {}),
    phone: cb.phone,
    status: cb.status,
    source: cb.source,
    window: { start: iso(cb.window_start), end: iso(cb.window_end) },
    attempts: cb.attempts,
    maxAttempts: cb.max_attempts,
    nextAttemptAt: cb.status === 'pending' ? iso(cb.next_attempt_at) : null,
    outcome: cb.outcome,
    completedAt: iso(cb.completed_at),
  };
}

/** Callbacks as JSON: residents ask for one (public, rate limited), agents list them and record attempts. */
export function callbackApiRoutes(s: Services): RouteDef[] {
  const { callbacks, cases, config } = s;
  const limit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'contact requests');
  return [
    {
      method: 'get',
      path: '/api/v1/callbacks/slots',
      access: 'public',
      summary: 'The times a resident can choose to be called, within opening hours',
      handler: (_req, res) => {
        res.json({ slots: callbacks.slots().map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() })) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/callbacks',
      access: 'public',
      before: [limit],
      summary: 'Ask to be called back (a new case in the queue at the chosen time)',
      handler: async (req, res) => {
        const r = await callbacks.request(req.body, { lang: req.ctx.lang });
        res.status(201).json({ reference: r.reference, statusUrl: r.statusUrl, phone: r.phone, window: { start: r.window.start.toISOString(), end: r.window.end.toISOString() } });
      },
    },
    {
      method: 'get',
      path: '/api/v1/callbacks',
      access: 'agent',
      summary: 'Pending callbacks, the first due first',
      handler: async (req, res) => {
        const items = [];
        for (const cb of await callbacks.listPending(200)) {
          if (!cb.resident_protected) {
            items.push({ ...toApiCallback(cb), protectedIdentity: false });
            continue;
          }
          // Protected identity: the number only for those allowed (each showing logged), else null to be called by one of them.
          const access = await s.protectedIdentity.contactAccess(accessorOf(req), { id: cb.case_id, reference: cb.reference, resident_protected: cb.resident_protected }, 'api');
          items.push({ ...toApiCallback(cb), ...(access.shown ? {} : { phone: null }), protectedIdentity: access.protected });
        }
        res.json({ items });
      },
    },
    {
      method: 'post',
      path: '/api/v1/cases/:reference/callback-attempts',
      access: 'agent',
      summary: 'Record an attempt to call back',
      handler: async (req, res) => {
        const ref = referenceParam(req);
        await callbacks.recordAttempt(ref, req.ctx.user!, req.body);
        const view = await cases.getForAgent(ref);
        const cb = await callbacks.forCase(view.case.id);
        const hidden = isProtected(view.case);
        res.status(201).json({ case: toApiCase(view.case), callback: cb ? { ...toApiCallback(cb), ...(hidden ? { phone: null } : {}) } : null });
      },
    },
  ];
}
