import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError, ValidationError } from '../platform/errors.js';
import { migrateLatest } from '../platform/migrate.js';
import { inCliWords, type CliCommand, type CliValues } from '../platform/cli-command.js';
import { CLI_ACCESSOR } from './access-log.js';
import { describeSubject, parseSubject } from './subject-export.js';
import type { Subject } from './subject-export-store.js';

type Values = CliValues;

/** The options checked before the database is opened, in the CLI's own words. */
function exportOptions(v: Values): { subject: Subject; out: string } {
  if (typeof v.out !== 'string' || v.out.trim() === '') throw new ValidationError([{ field: 'out', code: 'errors.required', message: 'the file to write is required, such as --out registerutdrag.zip' }]);
  const subject = inCliWords(
    () => parseSubject({ email: v.email, phone: v.phone }),
    (f) =>
      f.code === 'subject_export.errors.one' || f.code === 'subject_export.errors.both'
        ? 'give exactly one of --email ADDRESS and --phone NUMBER'
        : f.field === 'phone'
          ? `a phone number of digits, such as 070-123 45 67; got "${String(v.phone)}"`
          : `an e-mail address such as namn@exempel.se; got "${String(v.email)}"`,
  );
  return { subject, out: path.resolve(v.out) };
}

export const privacyCommands: Record<string, CliCommand> = {
  'privacy:export': {
    usage:
      'privacy:export --email E | --phone P --out FILE\n' +
      '                               the data-subject export (registerutdrag): everything stored about that address or number, as one ZIP file\n' +
      '                               (recorded in the access log as done from the command line; FILE must not exist)',
    options: { email: { type: 'string' }, phone: { type: 'string' }, out: { type: 'string' } },
    check: exportOptions,
    async run(s, v) {
      const { subject, out } = exportOptions(v);
      if (existsSync(out)) throw new AppError(`${out} exists already: choose another --out (nothing was written)`, 409, 'file_exists');
      await migrateLatest(s.db);
      const target = describeSubject(subject);
      const exp = await s.subjectExport.prepare(subject);
      await s.accessLog.record(CLI_ACCESSOR, 'subject.export', { target, detail: exp ? { found: true, cases: exp.caseCount, files: exp.fileCount } : { found: false } });
      if (!exp) throw new AppError(`Nothing is stored about ${target}: no file was written.`, 404, 'not_found');
      // Written beside the target and renamed when whole: a failed export leaves no half file. Personal data: owner-only.
      const partial = `${out}.${randomBytes(6).toString('hex')}.part`;
      try {
        await s.subjectExport.write(exp, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
        await rename(partial, out);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return `Registerutdrag for ${target}: ${exp.caseCount} case(s), ${exp.fileCount} attachment(s), written to ${out}`;
    },
  },
};
