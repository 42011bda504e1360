import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/** Quick registration for scripts and telephony integrations: the same service as the page. */
export function contactApiRoutes(s: Services): RouteDef[] {
  return [
    {
      method: 'post',
      path: '/api/v1/contacts',
      access: 'agent',
      summary: 'Register a phone call or a visit (answered, forwarded, callback or case)',
      handler: async (req, res) => {
        res.status(201).json(await s.contacts.register(req.ctx.user!, req.body, { lang: req.ctx.lang }));
      },
    },
  ];
}
