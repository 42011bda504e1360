import type { RequestHandler } from 'express';
import { AppError } from './errors.js';

/**
 * No body of ours nests deeper than a few levels. A body nested thousands of
 * levels deep fits easily under the size limit and is parsed fine, but any
 * later recursive walk over it (a schema library, JSON.stringify in a log or
 * a jsonb column) can overflow the stack: it is refused right after parsing.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether a parsed JSON value nests objects and arrays at most `limit` levels deep (walked without recursion). */
export function withinDepth(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return true;
}

export function jsonDepthGuard(limit = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (req.body === null || typeof req.body !== 'object' || withinDepth(req.body, limit)) return next();
    next(new AppError(`The JSON body is nested too deeply (at most ${limit} levels)`, 400, 'json_too_deep'));
  };
}
