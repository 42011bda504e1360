import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/** The FAQ search as JSON, for the contact form's suggestions and for other sites. */
export function faqApiRoutes(s: Services): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/api/v1/faq/search',
      access: 'public',
      summary: 'Search the published FAQ articles in one language',
      handler: async (req, res) => {
        res.json(await s.faq.searchFromInput(req.query));
      },
    },
  ];
}
