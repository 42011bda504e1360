import type { Express, RequestHandler } from 'express';
import type { Role } from '../auth/roles.js';
import { refuseWallboard, requireRole } from '../auth/middleware.js';

/**
 * Who may call a route:
 * - public: anyone;
 * - resident-link: anyone holding a case's private link (the handler checks the token);
 * - a role: a signed-in user (or API token) with at least that role.
 */
export type Access = 'public' | 'resident-link' | Role;

export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  access: Access;
  /** Middleware that must run before the CSRF check, such as a multipart parser. */
  before?: RequestHandler[];
  handler: RequestHandler;
  /** Shown in the route table and used by the OpenAPI document for API routes. */
  summary?: string;
  /** A wallboard-scoped API token may call it (only the live board); every other route refuses one with 403. */
  wallboard?: boolean;
}

export interface RouteGuards {
  /** CSRF check for browser forms (unsafe methods outside /api). */
  formCsrf: RequestHandler;
  /** CSRF check for API calls made with a session cookie rather than a token. */
  apiCsrf: RequestHandler;
}

const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

/** Every route is declared in one table: its method, path, access and handler. */
export function mountRoutes(app: Express, routes: RouteDef[], guards: RouteGuards): void {
  for (const r of routes) {
    const chain: RequestHandler[] = [];
    chain.push(r.access !== 'public' && r.access !== 'resident-link' ? requireRole(r.access, { wallboard: r.wallboard === true }) : refuseWallboard);
    chain.push(...(r.before ?? []));
    if (UNSAFE.has(r.method)) chain.push(r.path.startsWith('/api/') ? guards.apiCsrf : guards.formCsrf);
    chain.push(r.handler);
    app[r.method](r.path, ...chain);
  }
}
