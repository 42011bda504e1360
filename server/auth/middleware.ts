import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import { ForbiddenError, UnauthorizedError } from '../platform/errors.js';
import { cookieNames, isApiRequest, readCookies } from '../platform/http.js';
import { hasRole, type Role } from './roles.js';
import type { AuthService } from './service.js';

/** Recognises the user from the session cookie, or from a bearer token on the API. */
export function authenticate(auth: AuthService, config: Pick<Config, 'cookieSecure'>): RequestHandler {
  const names = cookieNames(config);
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (header && isApiRequest(req)) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const user = match?.[1] ? await auth.authenticateApiToken(match[1]) : undefined;
      if (!user) throw new UnauthorizedError('Invalid or revoked API token');
      req.ctx.user = user;
      req.ctx.authVia = 'token';
      return next();
    }
    const token = readCookies(req)[names.session];
    if (token) {
      req.ctx.sessionToken = token;
      const session = await auth.resumeSession(token);
      if (session) {
        req.ctx.session = session;
        req.ctx.user = session.user;
        req.ctx.authVia = 'session';
      }
    }
    next();
  };
}

/**
 * Every staff route names the least role it needs. Pages send the visitor to
 * the login form; the API answers 401/403 in JSON.
 */
export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    const user = req.ctx.user;
    if (!user) {
      if (isApiRequest(req) || req.method !== 'GET') throw new UnauthorizedError();
      return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    if (!hasRole(user.role, role)) throw new ForbiddenError(`This needs the ${role} role`);
    res.locals.user = user;
    res.locals.isEditor = hasRole(user.role, 'editor');
    res.locals.isManager = hasRole(user.role, 'manager');
    res.locals.isAdmin = hasRole(user.role, 'admin');
    next();
  };
}
