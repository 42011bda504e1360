import { serialize } from 'cookie';
import type { Request, Response } from 'express';
import { hasRole } from '../auth/roles.js';
import { CHANNELS } from '../cases/lifecycle.js';
import { PRESENCE_STATUSES, type BoardView } from '../live/protocol.js';
import { clearCookie, cookieNames, readCookies, setPageLanguage } from '../platform/http.js';
import { STAFF_LANGUAGES, translate, type Language } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import { describeBoard } from './live-board.js';

/** A TV keeps its wallboard cookie as long as browsers allow (400 days); the token itself decides. */
const WALLBOARD_COOKIE_SECONDS = 400 * 24 * 3600;

/** What the live board partial renders: the figures, and rows for the fixed channels and statuses. */
function boardModel(view: BoardView, lang: Language) {
  const f = view.figures;
  return {
    ...view,
    targetSeconds: view.snapshot.phone.targetSeconds,
    channels: CHANNELS.map((c) => ({
      label: translate(lang, `channel.${c}`),
      waitingKey: `waiting_${c}`,
      waiting: f[`waiting_${c}`],
      contactsKey: `contacts_${c}`,
      contacts: f[`contacts_${c}`],
      directKey: `direct_${c}`,
      direct: f[`direct_${c}`],
    })),
    statuses: PRESENCE_STATUSES.map((s) => ({
      label: translate(lang, `presence.status.${s}`),
      key: `agents_${s}`,
      total: f[`agents_${s}`],
      connectedKey: `agents_${s}_connected`,
      connected: f[`agents_${s}_connected`],
    })),
  };
}

type Refusal = 'missing' | 'invalid' | 'revoked' | 'malformed';

/**
 * The live board: JSON for the API (a wallboard token may read it), a page
 * for staff, and the TV wallboard /tavla. The TV is let in by an API token
 * given once as ?nyckel=, kept in an HttpOnly cookie, or by a staff session.
 */
export function statsLiveRoutes(s: Services): RouteDef[] {
  const { liveBoard, live, auth, config } = s;
  const names = cookieNames(config);

  async function page(lang: Language) {
    // The cursor before the figures: a page rendered now resumes from here.
    const liveCursor = await live.cursor();
    const snapshot = await liveBoard.snapshot();
    return { lang, liveCursor, day: snapshot.day, board: boardModel(describeBoard(snapshot, lang), lang), pageScript: true };
  }

  function refuse(res: Response, lang: Language, why: Refusal): void {
    res.status(why === 'malformed' ? 400 : 401).render('stats/wallboard-unauthorized', {
      layout: 'wallboard',
      lang,
      title: translate(lang, 'stats.wallboard.refused.title'),
      message: translate(lang, `stats.wallboard.refused.${why}`),
      publicUrl: config.publicUrl.replace(/\/$/, ''),
    });
  }

  /** Whether the TV may see the board: a staff session, else the wallboard cookie's token (cleared when it no longer works). */
  async function wallboardAllowed(req: Request, res: Response): Promise<true | Refusal> {
    const user = req.ctx.user;
    if (user && req.ctx.authVia === 'session' && hasRole(user.role, 'agent')) return true;
    const key = readCookies(req)[names.wallboard];
    if (key === undefined) return 'missing';
    if (await auth.authenticateWallboard(key)) return true;
    clearCookie(res, config, names.wallboard);
    return 'revoked';
  }

  return [
    {
      method: 'get',
      path: '/api/v1/stats/live',
      access: 'agent',
      wallboard: true,
      summary: 'The live board: waiting now, agents by status, today so far (a wallboard token may read it)',
      handler: async (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json(await liveBoard.snapshot());
      },
    },
    {
      method: 'get',
      path: '/agent/statistik/live',
      access: 'agent',
      summary: 'The live board',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        res.render('stats/live', { ...(await page(lang)), title: translate(lang, 'stats.live.title') });
      },
    },
    {
      // Public in the table: the handler checks the TV's key (or a staff session) itself.
      method: 'get',
      path: '/tavla',
      access: 'public',
      summary: 'The TV wallboard (a wallboard key once as ?nyckel=, then its cookie; or a staff session)',
      handler: async (req, res) => {
        const lang = setPageLanguage(req, res, req.ctx.lang, STAFF_LANGUAGES);
        res.setHeader('Cache-Control', 'no-store');
        const given = req.query.nyckel;
        if (given !== undefined) {
          if (typeof given !== 'string') return refuse(res, lang, 'malformed');
          if (!(await auth.authenticateWallboard(given))) return refuse(res, lang, 'invalid');
          // The key leaves the address bar (and the history) at once; the cookie carries it from now on.
          res.append(
            'Set-Cookie',
            serialize(names.wallboard, given, { httpOnly: true, secure: config.cookieSecure, sameSite: 'strict', path: '/', maxAge: WALLBOARD_COOKIE_SECONDS }),
          );
          return res.redirect(303, '/tavla');
        }
        const allowed = await wallboardAllowed(req, res);
        if (allowed !== true) return refuse(res, lang, allowed);
        res.render('stats/wallboard', { ...(await page(lang)), layout: 'wallboard', title: translate(lang, 'stats.wallboard.title') });
      },
    },
  ];
}
