import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../platform/errors.js';

/**
 * Requests from the telephony platform are signed with a shared secret:
 * `X-Telephony-Signature: sha256=<hex>` is HMAC-SHA256(secret,
 * `${timestamp}.${raw body}`) with `X-Telephony-Timestamp` in unix seconds.
 * The timestamp is inside the signature, so a captured request can be
 * replayed only within the allowed skew (and its event ids are then
 * duplicates anyway).
 */
export const TIMESTAMP_HEADER = 'X-Telephony-Timestamp';
export const SIGNATURE_HEADER = 'X-Telephony-Signature';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;

export class SignatureError extends AppError {
  constructor(message: string, code: 'signature_missing' | 'signature_invalid' | 'timestamp_invalid') {
    super(message, 401, code);
  }
}

export class TelephonyNotConfiguredError extends AppError {
  constructor() {
    super('Telephony events are not configured on this server: set TELEPHONY_SECRET (at least 32 characters)', 503, 'telephony_not_configured');
  }
}

function digest(secret: string, timestamp: string, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** The signature header value for a body sent at `timestamp` (unix seconds). */
export function sign(secret: string, timestamp: number | string, body: Buffer | string): string {
  return `sha256=${digest(secret, String(timestamp), body).toString('hex')}`;
}

/** The two headers a signed request carries. */
export function signedHeaders(secret: string, body: Buffer | string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: sign(secret, timestamp, body) };
}

/**
 * Throws a SignatureError (401) unless the request is signed with the secret
 * and its timestamp is within ±maxSkewSeconds of now. The digests are
 * compared in constant time.
 */
export function verifySignature(r: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer;
  maxSkewSeconds: number;
  now?: number;
}): void {
  if (!r.timestamp || !r.signature) {
    throw new SignatureError(`The request is not signed: send the ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} headers`, 'signature_missing');
  }
  if (!TIMESTAMP_PATTERN.test(r.timestamp)) throw new SignatureError(`${TIMESTAMP_HEADER} must be unix time in whole seconds`, 'timestamp_invalid');
  const sent = SIGNATURE_PATTERN.exec(r.signature.trim());
  if (!sent) throw new SignatureError(`${SIGNATURE_HEADER} must look like sha256=<64 hex digits>`, 'signature_invalid');
  const expected = digest(r.secret, r.timestamp, r.body);
  if (!timingSafeEqual(Buffer.from(sent[1]!, 'hex'), expected)) {
    throw new SignatureError('The signature does not match the body and timestamp (wrong secret, or the body was changed)', 'signature_invalid');
  }
  const skew = Math.abs((r.now ?? Date.now()) / 1000 - Number(r.timestamp));
  if (skew > r.maxSkewSeconds) {
    throw new SignatureError(`Stale or future timestamp: ${TIMESTAMP_HEADER} must be within ${r.maxSkewSeconds} seconds of the server's clock`, 'timestamp_invalid');
  }
}
