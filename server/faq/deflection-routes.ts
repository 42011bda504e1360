import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import { cookieNames, readCookies, verifyCsrf } from '../platform/http.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/**
 * The CSRF check of a resident's API call. Residents have no session, so the
 * /api middleware leaves them unchecked; their page's token is an HMAC of the
 * per-browser secret in the CSRF cookie, and the call must send it as
 * X-CSRF-Token. A signed-in user's page uses their session's secret.
 */
function residentCsrf(config: Pick<Config, 'cookieSecure' | 'sessionSecret'>): RequestHandler {
  const check = verifyCsrf(config);
  const cookie = cookieNames(config).csrf;
  return (req, res, next) => {
    req.ctx.csrfSecret = req.ctx.session?.csrfSecret ?? readCookies(req)[cookie];
    check(req, res, next);
  };
}

/** Recording which FAQ suggestions residents open from the contact form. */
export function faqDeflectionRoutes(s: Services): RouteDef[] {
  const { config, faqDeflection } = s;
  // Opening suggestions is cheaper and more frequent than sending the form: a few per question.
  const limit = limitPerWindow(config.rateLimits.intakePerWindow * 5, config.rateLimits.windowMs, 'recorded suggestions');
  return [
    {
      method: 'post',
      path: '/api/v1/faq/deflections',
      access: 'public',
      before: [limit, residentCsrf(config)],
      summary: 'Record that a resident opened a suggested FAQ article from the contact form',
      handler: async (req, res) => {
        // JSON only: the form parser would otherwise take a urlencoded body too.
        const recorded = await faqDeflection.recordOpen(req.is('application/json') ? req.body : undefined, req.ctx.lang);
        res.status(recorded.first ? 201 : 200).json(recorded);
      },
    },
  ];
}
