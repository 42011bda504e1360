import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { TooManyRequestsError } from './errors.js';

/**
 * A per-address limit; 0 turns it off (for a benchmark or a trusted
 * integration in front of us). The answer is the usual error page or JSON.
 */
export function limitPerWindow(limit: number, windowMs: number, what: string): RequestHandler {
  if (limit <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new TooManyRequestsError(`Too many ${what} from this address; please wait a while and try again`)),
  });
}
