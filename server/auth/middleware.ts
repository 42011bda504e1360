import type { Request, RequestHandler } from 'express';
import type { Config } from '../config.js';
import { ForbiddenError, UnauthorizedError } from '../platform/errors.js';
import { cookieNames, isApiRequest, readCookies } from '../platform/http.js';
import { hasRole, type Role } from './roles.js';
import type { AuthService } from './service.js';

/**
 * Recognises the user from the session cookie, or from a bearer token on the
 * API (with the token's scope: see requireRole).
 */
export function authenticate(auth: AuthService, config: Pick<Config, 'cookieSecure'>): RequestHandler {
  const names = cookieNames(config);
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (header && isApiRequest(req)) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const found = match?.[1] ? await auth.authenticateApiToken(match[1]) : undefined;
      if (!found) throw new UnauthorizedError('Invalid or revoked API token');
      req.ctx.user = found.user;
      req.ctx.authVia = 'token';
      req.ctx.tokenScope = found.scope;
      req.ctx.tokenId = found.tokenId;
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
 * A wallboard-scoped token (a TV's) reads the live board and nothing else:
 * every route refuses it with 403 unless the route says it serves wallboards.
 */
function refuseWallboardToken(req: Request, allowed: boolean): void {
  if (req.ctx.tokenScope === 'wallboard' && !allowed) throw new ForbiddenError('A wallboard token may only read the live board (GET /api/v1/stats/live)');
}

/** For routes open to anyone: a wallboard token is still refused there. */
export const refuseWallboard: RequestHandler = (req, _res, next) => {
  refuseWallboardToken(req, false);
  next();
};

/**
 * Every staff route names the least role it needs. Pages send the visitor to
 * the login form; the API answers 401/403 in JSON. `wallboard`: a
 * wallboard-scoped token may use the route too (only the live board does).
 */
export function requireRole(role: Role, opts: { wallboard?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const user = req.ctx.user;
    if (!user) {
      if (isApiRequest(req) || req.method !== 'GET') throw new UnauthorizedError();
      return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    refuseWallboardToken(req, opts.wallboard === true);
    if (!hasRole(user.role, role)) throw new ForbiddenError(`This needs the ${role} role`);
    res.locals.user = user;
    res.locals.isEditor = hasRole(user.role, 'editor');
    res.locals.isManager = hasRole(user.role, 'manager');
    res.locals.isAdmin = hasRole(user.role, 'admin');
    next();
  };
}
