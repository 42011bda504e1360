import type { Request, Response } from 'express';
import { clearCookie, cookieNames, setCookie, setPageLanguage } from '../platform/http.js';
import { STAFF_LANGUAGES, translate } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/** Only local paths: ?next= must never send someone to another site. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/agent';
}

export function authRoutes(s: Services): RouteDef[] {
  const { auth, config } = s;
  const names = cookieNames(config);
  const loginLimit = limitPerWindow(config.rateLimits.loginPerWindow, config.rateLimits.windowMs, 'login attempts');

  const renderLogin = (req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) => {
    // The sign-in is a staff page: Swedish or English, whatever a resident chose in this browser.
    const lang = setPageLanguage(req, res, req.ctx.lang, STAFF_LANGUAGES);
    res.status(status).render('auth/login', {
      lang,
      title: translate(lang, 'login.title'),
      next: safeNext(req.query.next ?? req.body?.next),
      ...extra,
    });
  };

  return [
    {
      method: 'get',
      path: '/login',
      access: 'public',
      summary: 'Staff sign-in form',
      handler: (req, res) => {
        if (req.ctx.user) return res.redirect(303, safeNext(req.query.next));
        renderLogin(req, res, 200);
      },
    },
    {
      method: 'post',
      path: '/login',
      access: 'public',
      before: [loginLimit],
      summary: 'Sign in',
      handler: async (req, res) => {
        const email = typeof req.body?.email === 'string' ? req.body.email.trim() : '';
        const password = typeof req.body?.password === 'string' ? req.body.password : '';
        const user = email && password ? await auth.verifyCredentials(email, password) : undefined;
        if (!user) {
          // The same answer whether the account exists or not.
          return renderLogin(req, res, 401, { email, failed: true });
        }
        const { token } = await auth.startSession(user, req.ctx.sessionToken);
        setCookie(res, config, names.session, token);
        res.redirect(303, safeNext(req.body?.next));
      },
    },
    {
      method: 'post',
      path: '/logout',
      access: 'agent',
      summary: 'Sign out',
      handler: async (req, res) => {
        if (req.ctx.sessionToken) await auth.endSession(req.ctx.sessionToken);
        clearCookie(res, config, names.session);
        res.redirect(303, '/login?utloggad=1');
      },
    },
  ];
}
