import { toApiCase } from '../cases/api-routes.js';
import { ValidationError } from '../platform/errors.js';
import type { Language } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import { describeCounts } from './service.js';

/** Taking the next case and saying one's status: a form for the pages, JSON for the API. */
export function queueRoutes(s: Services): RouteDef[] {
  const { queue, presence, cases, live } = s;

  return [
    {
      method: 'post',
      path: '/agent/take-next',
      access: 'agent',
      summary: 'Take the oldest waiting case',
      handler: async (req, res) => {
        const taken = await queue.takeNext(req.ctx.user!);
        if (!taken) return res.redirect(303, '/agent?tomt=1');
        res.redirect(303, `/agent/cases/${taken.reference}?klart=taken`);
      },
    },
    {
      method: 'post',
      path: '/agent/presence',
      access: 'agent',
      summary: 'Set my status (available, busy, on a break)',
      handler: async (req, res) => {
        try {
          const status = await presence.set(req.ctx.user!, { status: req.body?.status });
          res.redirect(303, `/agent?narvaro=${status}#presence-title`);
        } catch (err) {
          if (err instanceof ValidationError) return res.redirect(303, '/agent?statusfel=1#presence-title');
          throw err;
        }
      },
    },
    {
      method: 'post',
      path: '/api/v1/queue/take-next',
      access: 'agent',
      summary: 'Take the oldest waiting case (204 when none waits)',
      handler: async (req, res) => {
        const taken = await queue.takeNext(req.ctx.user!);
        if (!taken) return res.status(204).end();
        const view = await cases.getForAgent(taken.reference);
        res.json(toApiCase(view.case));
      },
    },
    {
      method: 'get',
      path: '/api/v1/queue/counts',
      access: 'agent',
      summary: 'What is waiting now, per channel and topic',
      handler: async (req, res) => {
        res.json(describeCounts(await queue.snapshot(), req.ctx.lang as Language));
      },
    },
    {
      method: 'put',
      path: '/api/v1/me/presence',
      access: 'agent',
      summary: 'Set my status',
      handler: async (req, res) => {
        res.json({ status: await presence.set(req.ctx.user!, req.body) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/presence',
      access: 'manager',
      summary: "Agents' status and whether they are connected",
      handler: async (_req, res) => {
        res.json({ agents: await presence.list(await live.onlineUserIds()) });
      },
    },
  ];
}
