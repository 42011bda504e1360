import type { Request, Response } from 'express';
import { UnauthorizedError, type ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { clearCookie, cookieNames, setCookie, setPageLanguage } from '../platform/http.js';
import { STAFF_LANGUAGES, translate } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
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
        renderLogin(req, res, 200, { loggedOut: req.query.utloggad === '1' });
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
        const result = email && password ? await auth.signIn(email, password) : { ok: false as const, locked: false };
        if (!result.ok) {
          // The same answer whether the account exists, is inactive or not: a lock is shown alike for all.
          return renderLogin(req, res, 401, { email, failed: true, locked: result.locked });
        }
        const { user } = result;
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
    ...accountRoutes(s),
  ];
}

const PASSWORD_FIELDS = ['current_password', 'new_password', 'repeat_password'] as const;

/** The signed-in user's own account: for now, changing the password. */
function accountRoutes(s: Services): RouteDef[] {
  const { auth, config } = s;
  const names = cookieNames(config);

  const render = (req: Request, res: Response, status: number, error?: ValidationError) => {
    const lang = setPageLanguage(req, res, req.ctx.lang, STAFF_LANGUAGES);
    const { errors, errorList } = errorSummary(error, lang, PASSWORD_FIELDS);
    res.status(status).render('agent/account', {
      lang,
      title: translate(lang, error ? 'account.title_error' : 'account.title'),
      done: req.query.klart === 'losenord' && !error,
      errors,
      errorList,
    });
  };

  return [
    {
      method: 'get',
      path: '/agent/konto',
      access: 'agent',
      summary: 'My account: change my password',
      handler: (req, res) => render(req, res, 200),
    },
    {
      method: 'post',
      path: '/agent/konto',
      access: 'agent',
      summary: 'Change my password: ends my other sessions and keeps this one under a new id',
      handler: async (req, res) => {
        const session = req.ctx.session;
        if (!session || !req.ctx.sessionToken) throw new UnauthorizedError();
        const body = (req.body ?? {}) as Record<string, unknown>;
        // Only the form's fields; passwords are never echoed back into the form.
        const input = Object.fromEntries(PASSWORD_FIELDS.map((f) => [f, body[f]]));
        await orRerender(
          async () => {
            const { token } = await auth.changePassword(session, input);
            setCookie(res, config, names.session, token);
            res.redirect(303, '/agent/konto?klart=losenord');
          },
          (error) => render(req, res, 400, error),
        );
      },
    },
  ];
}
