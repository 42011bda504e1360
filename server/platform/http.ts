import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as cookie from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import type { AuthUser } from '../auth/roles.js';
import type { SessionContext } from '../auth/service.js';
import type { Config } from '../config.js';
import { AppError } from './errors.js';
import { DEFAULT_LANGUAGE, isLanguage, LANGUAGE_NAMES, LANGUAGES, STAFF_LANGUAGES, type Language } from './i18n.js';

export interface RequestContext {
  lang: Language;
  /** How the reader chose the language: ?lang= on this request, or the cookie from an earlier one; unset when nobody chose. */
  langChosen?: 'query' | 'cookie';
  user?: AuthUser;
  session?: SessionContext;
  /** How the user was recognised: a browser session or a bearer API token. */
  authVia?: 'session' | 'token';
  /** The bearer token's scope: a 'wallboard' token may only read the live board. */
  tokenScope?: 'full' | 'wallboard';
  /** The bearer token's id, for the access log. */
  tokenId?: number;
  /** The raw session cookie value, so login can retire it. */
  sessionToken?: string;
  csrfSecret?: string;
  csrfToken?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    ctx: RequestContext;
    /** The JSON body's bytes as received, for signatures over the body (set by the /api JSON parser). */
    rawBody?: Buffer;
  }
}

// Express matches routes without regard to case, so /API/v1/… is an API request too.
export const isApiRequest = (req: Request) => /^\/api\//i.test(req.originalUrl);

export function cookieNames(config: Pick<Config, 'cookieSecure'>) {
  // The __Host- prefix pins a cookie to this origin and path when served over HTTPS.
  const prefix = config.cookieSecure ? '__Host-' : '';
  return { session: `${prefix}sc_session`, csrf: `${prefix}sc_csrf`, lang: 'sc_lang', wallboard: `${prefix}sc_wallboard` };
}

export function readCookies(req: Request): Record<string, string | undefined> {
  return cookie.parse(req.headers.cookie ?? '');
}

export function setCookie(res: Response, config: Pick<Config, 'cookieSecure'>, name: string, value: string, maxAgeSeconds?: number): void {
  res.append(
    'Set-Cookie',
    cookie.serialize(name, value, {
      httpOnly: true,
      secure: config.cookieSecure,
      sameSite: 'lax',
      path: '/',
      ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
    }),
  );
}

export function clearCookie(res: Response, config: Pick<Config, 'cookieSecure'>, name: string): void {
  setCookie(res, config, name, '', 0);
}

/** Chooses the reader's language: ?lang= (remembered in a cookie), then the cookie, then Swedish. */
export function languageMiddleware(config: Pick<Config, 'cookieSecure'>): RequestHandler {
  const names = cookieNames(config);
  return (req, res, next) => {
    const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    const saved = readCookies(req)[names.lang];
    let lang: Language = DEFAULT_LANGUAGE;
    let langChosen: RequestContext['langChosen'];
    if (isLanguage(asked)) {
      lang = asked;
      langChosen = 'query';
      if (asked !== saved) setCookie(res, config, names.lang, asked, 365 * 24 * 3600);
    } else if (isLanguage(saved)) {
      lang = saved;
      langChosen = 'cookie';
    }
    req.ctx = { ...(req.ctx ?? {}), lang, ...(langChosen ? { langChosen } : {}) };
    res.locals.lang = lang;
    next();
  };
}

/**
 * The language a page is rendered in and the links to it in the others.
 * Residents have every language; staff (`offered` STAFF_LANGUAGES) Swedish
 * and English, so a language they cannot have falls back to Swedish.
 */
export function setPageLanguage(req: Request, res: Response, lang: Language, offered: readonly Language[] = req.ctx.user ? STAFF_LANGUAGES : LANGUAGES): Language {
  const used = offered.includes(lang) ? lang : DEFAULT_LANGUAGE;
  req.ctx.lang = used;
  res.locals.lang = used;
  res.locals.otherLanguages = languageLinks(req.path, req.query, used, offered);
  return used;
}

/** Links to this same page in the other languages, keeping its query (such as ?amne=). */
export function languageLinks(pathname: string, query: Record<string, unknown>, current: string, offered: readonly Language[] = LANGUAGES) {
  return offered
    .filter((code) => code !== current)
    .map((code) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (k !== 'lang' && typeof v === 'string') params.set(k, v);
      params.set('lang', code);
      return { code, name: LANGUAGE_NAMES[code], href: `${pathname}?${params.toString()}` };
    });
}

export function csrfTokenFor(secret: string, sessionSecret: string): string {
  return createHmac('sha256', sessionSecret).update(`csrf:${secret}`).digest('base64url');
}

/**
 * Synchronizer tokens derived from a per-session secret (or, for residents
 * without a session, a per-browser secret in an HttpOnly cookie). The token in
 * the form is an HMAC of that secret, so a forged or copied token fails.
 */
export function csrfContext(config: Pick<Config, 'cookieSecure' | 'sessionSecret'>): RequestHandler {
  const names = cookieNames(config);
  return (req, res, next) => {
    let secret = req.ctx.session?.csrfSecret;
    if (!secret) {
      secret = readCookies(req)[names.csrf];
      if (!secret || !/^[A-Za-z0-9_-]{32,64}$/.test(secret)) {
        secret = randomSecret();
        setCookie(res, config, names.csrf, secret);
      }
    }
    req.ctx.csrfSecret = secret;
    req.ctx.csrfToken = csrfTokenFor(secret, config.sessionSecret);
    res.locals.csrfToken = req.ctx.csrfToken;
    next();
  };
}

const randomSecret = () => randomBytes(32).toString('base64url');

export function verifyCsrf(config: Pick<Config, 'sessionSecret'>): RequestHandler {
  return (req, _res, next) => {
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token');
    const secret = req.ctx.csrfSecret;
    if (typeof sent !== 'string' || !secret || !safeEqual(sent, csrfTokenFor(secret, config.sessionSecret))) {
      next(new CsrfError());
      return;
    }
    next();
  };
}

export class CsrfError extends AppError {
  constructor() {
    super('The form has expired or did not come from this site (CSRF check failed). Reload the page and try again.', 403, 'csrf_failed');
  }
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

