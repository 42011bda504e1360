import type { Request, RequestHandler } from 'express';
import { AppError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { localizeFieldErrors } from '../platform/validation.js';
import type { Services } from '../services.js';
import type { CallLogRow } from './store.js';
import { SIGNATURE_HEADER, TelephonyNotConfiguredError, TIMESTAMP_HEADER, verifySignature } from './signature.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** A call as the API shows it. */
export function toApiCall(c: CallLogRow & { waitSeconds: number | null; talkSeconds: number | null }) {
  return {
    callId: c.call_id,
    // Protected identity: a list shows nobody the number (the case page shows it, logged, to those allowed).
    caller: c.caller_protected ? null : c.caller,
    callerProtected: c.caller_protected === true,
    queue: c.queue,
    state: c.state,
    outcome: c.outcome,
    offeredAt: iso(c.offered_at),
    answeredAt: iso(c.answered_at),
    endedAt: iso(c.ended_at),
    agent: c.agent_id ? { id: c.agent_id, name: c.agent_name } : null,
    extension: c.extension,
    waitSeconds: c.waitSeconds,
    talkSeconds: c.talkSeconds,
    callback: c.callback_reference ? { reference: c.callback_reference } : null,
  };
}

/** "4 min 05 s" / "45 s": a duration for the call log. */
function describeSeconds(s: number | null, lang: string): string {
  if (s === null) return '–';
  const min = Math.floor(s / 60);
  const sec = s % 60;
  return min ? translate(lang, 'calls.min_sec', { min, sec: String(sec).padStart(2, '0') }) : translate(lang, 'calls.sec', { sec });
}

/**
 * The telephony platform's signed events (the signature is their
 * authentication, checked before anything else, a session cookie or API
 * token notwithstanding), and the call log for agents.
 */
export function telephonyRoutes(s: Services): RouteDef[] {
  const { config, telephony } = s;

  const signed: RequestHandler = (req, _res, next) => {
    const secret = config.telephony.secret;
    if (!secret) return next(new TelephonyNotConfiguredError());
    // Only a JSON body is kept byte for byte (req.rawBody), and only that can be verified.
    if (req.rawBody === undefined && req.get('content-type') && !req.is('application/json')) {
      return next(new AppError('Send the events as JSON, with Content-Type: application/json', 415, 'unsupported_media_type'));
    }
    verifySignature({
      secret,
      timestamp: req.get(TIMESTAMP_HEADER),
      signature: req.get(SIGNATURE_HEADER),
      body: req.rawBody ?? Buffer.alloc(0),
      maxSkewSeconds: config.telephony.maxSkewSeconds,
    });
    next();
  };

  const logPage = (req: Request) => telephony.log({ cursor: req.query.cursor, limit: req.query.limit });

  return [
    {
      method: 'post',
      path: '/api/v1/telephony/events',
      access: 'public',
      summary: 'Call events from the telephony platform (HMAC-signed)',
      before: [signed],
      handler: async (req, res) => {
        if (!req.rawBody) {
          throw new ValidationError([{ field: '_', code: 'errors.invalid_type', message: 'Send the events as JSON with Content-Type: application/json' }]);
        }
        res.json(await telephony.receive(req.body));
      },
    },
    {
      method: 'get',
      path: '/api/v1/telephony/calls',
      access: 'agent',
      summary: 'The call log, newest first (keyset pagination)',
      handler: async (req, res) => {
        const page = await logPage(req);
        res.json({ items: page.items.map(toApiCall), next: page.next });
      },
    },
    {
      method: 'get',
      path: '/agent/samtal',
      access: 'agent',
      summary: 'The call log',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        let page;
        let error: string | undefined;
        try {
          page = await logPage(req);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          error = Object.values(localizeFieldErrors(err.fields, lang)).join(' ');
          page = await telephony.log({});
          res.status(400);
        }
        const limit = typeof req.query.limit === 'string' && !error ? req.query.limit : undefined;
        const link = (cursor?: string) => {
          const params = new URLSearchParams();
          if (limit) params.set('limit', limit);
          if (cursor) params.set('cursor', cursor);
          const q = params.toString();
          return `/agent/samtal${q ? `?${q}` : ''}`;
        };
        res.render('agent/calls', {
          lang,
          title: translate(lang, 'calls.title'),
          error,
          calls: page.items.map((c) => ({ ...c, wait: describeSeconds(c.waitSeconds, lang), talk: describeSeconds(c.talkSeconds, lang) })),
          nextUrl: page.next ? link(page.next) : undefined,
          firstUrl: typeof req.query.cursor === 'string' && req.query.cursor ? link() : undefined,
        });
      },
    },
  ];
}
