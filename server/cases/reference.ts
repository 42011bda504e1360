import type { Request } from 'express';
import { NotFoundError } from '../platform/errors.js';

/** A whole case reference, as in URLs and forms: SC-2026-000123. */
export const REFERENCE_PATTERN = /^SC-\d{4}-\d{6,}$/;

/** The :reference of a route; anything that cannot be one is a 404 without a query. */
export function referenceParam(req: Request): string {
  const ref = String(req.params.reference);
  if (!REFERENCE_PATTERN.test(ref)) throw new NotFoundError(`No case ${ref}`);
  return ref;
}

const yearFormat = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric' });

export function formatReference(number: number, at = new Date()): string {
  return `SC-${yearFormat.format(at)}-${String(number).padStart(6, '0')}`;
}

/**
 * Case numbers come from a PostgreSQL sequence, taken a block at a time so a
 * busy intake does not pay a round trip per case. Numbers are unique and
 * rising per instance; a restart may leave a gap, which is harmless.
 */
export function createReferenceAllocator(take: (count: number) => Promise<number[]>, blockSize = 20) {
  let pool: number[] = [];
  let refill: Promise<void> | undefined;

  async function fill(): Promise<void> {
    pool.push(...(await take(blockSize)));
  }

  return {
    async next(): Promise<string> {
      while (!pool.length) {
        refill ??= fill().finally(() => {
          refill = undefined;
        });
        await refill;
      }
      return formatReference(pool.shift()!);
    },
  };
}

export type ReferenceAllocator = ReturnType<typeof createReferenceAllocator>;
