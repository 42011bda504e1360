import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/** The FAQ as JSON: the search, for the contact form's suggestions and other sites, and one article, for agents' replies. */
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
    {
      method: 'get',
      path: '/api/v1/faq/articles/:category/:slug',
      access: 'public',
      summary: 'One published FAQ article, in a language or else in Swedish',
      handler: async (req, res) => {
        res.json(await s.faqReplies.articleFromInput({ ...req.query, category: req.params.category, slug: req.params.slug }));
      },
    },
  ];
}
