import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { IncomingFile } from '../attachments/service.js';
import type { AttachmentRow } from '../attachments/store.js';
import type { Config } from '../config.js';
import { AppError, ValidationError } from './errors.js';
import { translate } from './i18n.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set when the multipart upload itself was refused (too large, too many files). */
    uploadError?: ValidationError;
  }
}

/**
 * Parses a multipart form with files written to a temporary folder, within the
 * configured limits. A refused upload becomes a field error on the form rather
 * than an error page, so the resident keeps what they wrote.
 */
/** The most a text field of a multipart form may hold: past it, that field is refused as too long. */
const FIELD_SIZE_MAX = 200 * 1024;

export function uploadMiddleware(config: Pick<Config, 'dataDir' | 'uploads'>, field = 'attachments', fieldLimits: Record<string, number> = {}): RequestHandler {
  const tmp = path.join(config.dataDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const parser = multer({
    dest: tmp,
    limits: { fileSize: config.uploads.maxBytes, files: config.uploads.maxFiles, fields: 50, fieldSize: FIELD_SIZE_MAX, parts: 100 },
  }).array(field, Math.max(config.uploads.maxFiles, 0));
  return (req, res, next) => {
    parser(req, res, (err: unknown) => {
      // A form with more fields or parts than any of ours has is not a resident's mistake: refused whole, as the urlencoded parser does.
      if (err instanceof multer.MulterError && TOO_MANY_PARTS.has(err.code)) {
        req.files = [];
        return next(new AppError('The form has too many fields', 413, 'payload_too_large'));
      }
      if (err instanceof multer.MulterError) {
        req.uploadError = uploadError(err, config.uploads, fieldLimits);
        req.files = [];
        return next();
      }
      // A body the multipart parser cannot read (a NUL byte in a part header, no boundary, cut off) is the client's error.
      if (err instanceof Error && MALFORMED_MULTIPART.test(err.message)) {
        req.files = [];
        return next(new AppError('The form data could not be read (malformed multipart body)', 400, 'invalid_form'));
      }
      next(err);
    });
  };
}

export function filesOf(req: Request): IncomingFile[] {
  return Array.isArray(req.files) ? (req.files as IncomingFile[]) : [];
}

/**
 * Removes the request's temporary upload files. A refused request (failed
 * CSRF check, invalid form, closed case, unknown link) must not leave them in
 * the tmp folder; a kept file was already moved out, so this is a no-op then.
 */
export async function discardUploads(req: Request): Promise<void> {
  const files = filesOf(req);
  if (!files.length) return;
  req.files = [];
  await Promise.all(files.map((f) => rm(f.path, { force: true }).catch(() => undefined)));
}

/** Files are only ever downloaded, typed as we detected them, never rendered inline. */
export function sendAttachment(res: Response, row: AttachmentRow, filePath: string): void {
  res.attachment(row.filename);
  res.type(row.content_type);
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-store',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  res.sendFile(filePath, { dotfiles: 'deny', headers: { 'Content-Type': row.content_type } });
}

/** What busboy says about a body it cannot parse (as opposed to a failing disk). */
const MALFORMED_MULTIPART = /^(Malformed |Unexpected end of (form|file)|Multipart: Boundary not found|Unsupported content type|Missing Content-Type)/;

const TOO_MANY_PARTS = new Set<string>(['LIMIT_FIELD_COUNT', 'LIMIT_PART_COUNT', 'LIMIT_FIELD_KEY']);

export function uploadError(err: multer.MulterError, limits?: { maxBytes: number; maxFiles: number }, fieldLimits: Record<string, number> = {}): ValidationError {
  // A text field over the multipart cap (a 1 MB subject, or phone) is that field's error, not the files'.
  if (err.code === 'LIMIT_FIELD_VALUE' && err.field) {
    const params = { max: String(Object.hasOwn(fieldLimits, err.field) ? fieldLimits[err.field] : FIELD_SIZE_MAX) };
    return new ValidationError([{ field: err.field, code: 'errors.too_long', message: translate('en', 'errors.too_long', params), params }]);
  }
  const code =
    err.code === 'LIMIT_FILE_SIZE'
      ? 'errors.attachment_too_large'
      : err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE'
        ? 'errors.attachment_too_many'
        : 'errors.attachment_invalid';
  const params = limits ? { max: describeSize(limits.maxBytes), count: String(limits.maxFiles) } : { max: '', count: '' };
  return new ValidationError([{ field: 'attachments', code, message: translate('en', code, params), params }]);
}

/** A size as people read it: 10 MB, 2.5 MB, 500 kB. */
export function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}
