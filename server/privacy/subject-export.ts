import { createReadStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { strToU8, Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { z } from 'zod';
import type { AttachmentService } from '../attachments/service.js';
import type { AttachmentRow } from '../attachments/store.js';
import { phoneSchema } from '../cases/schemas.js';
import { translate } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';
import type { Views } from '../platform/views.js';
import type { Subject, SubjectData, SubjectExportStore } from './subject-export-store.js';

type Row = Record<string, unknown>;

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (blank(v) ? undefined : v), schema.optional());

/** The form and the CLI: one e-mail address or one phone number, never both, never neither. */
const subjectSchema = z
  .object({
    email: optional(
      z.preprocess(
        (v) => (typeof v === 'string' ? v.trim() : v),
        z.email({ error: (i) => (typeof i.input === 'string' ? 'errors.email_invalid' : 'errors.invalid_type') }).max(254, 'errors.too_long'),
      ),
    ),
    phone: optional(phoneSchema),
  })
  .superRefine((v, ctx) => {
    if (v.email && v.phone) ctx.addIssue({ code: 'custom', path: ['email'], message: 'subject_export.errors.both' });
    if (!v.email && !v.phone) ctx.addIssue({ code: 'custom', path: ['email'], message: 'subject_export.errors.one' });
  });

export function parseSubject(input: unknown): Subject {
  const v = parseOrThrow(subjectSchema, input ?? {});
  // Addresses are matched without regard to case: the export names the one address, however it was typed.
  return v.email ? { email: v.email.toLowerCase() } : { phone: v.phone! };
}

/** What the person was asked about, as the access log's target and the file name show it. */
export const describeSubject = (s: Subject) => s.email ?? s.phone!;

/** One file of the ZIP: text made here, or an attachment read from storage. */
type Entry = { name: string; mtime: Date } & ({ text: string } | { path: string });

/** A prepared export: the file's entries, ready to be written, and what it holds (for the log and the page). */
export interface SubjectExport {
  subject: Subject;
  generatedAt: Date;
  caseCount: number;
  fileCount: number;
  /** Some resident found has a protected identity: only a permitted user may take the export out. */
  protectedIdentity: boolean;
  entries: Entry[];
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A name that is safe as one path segment inside the ZIP, whatever the sender
 * called the file: no directories (../../etc/passwd is "passwd"), no control
 * or reserved characters, no leading dots, not too long, never empty.
 */
export function zipSafeName(name: string): string {
  const last = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.' && p !== '..').pop() ?? '';
  let cleaned = last
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f"<>|:*?\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .trim();
  if (WINDOWS_RESERVED.test(cleaned)) cleaned = `_${cleaned}`;
  if (cleaned.length > 120) {
    const dot = cleaned.lastIndexOf('.');
    const ext = dot > 0 && cleaned.length - dot <= 10 ? cleaned.slice(dot) : '';
    cleaned = cleaned.slice(0, 120 - ext.length) + ext;
  }
  return cleaned || 'bilaga';
}

/** "name.pdf", then "name (2).pdf", "name (3).pdf"… for files that would share a name in one folder (case-insensitively). */
function uniqueName(name: string, taken: Set<string>): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  let candidate = name;
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/** A row as JSON shows it: bytes left out (the files come as files), everything else as stored. */
function plain(row: Row): Row {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => !(v instanceof Uint8Array)));
}

const byCase = (rows: Row[]) => {
  const map = new Map<number, Row[]>();
  for (const r of rows) map.set(Number(r.case_id), [...(map.get(Number(r.case_id)) ?? []), r]);
  return map;
};

/**
 * The data-subject export (registerutdrag, GDPR article 15): everything
 * stored about one e-mail address or phone number, in one ZIP file with a
 * readable summary in Swedish (sammanstallning.html), every field as JSON
 * (data.json) and every attachment under bilagor/<case>/. The ZIP is streamed:
 * attachments are read one at a time, never all held in memory.
 */
export function createSubjectExport(deps: { store: SubjectExportStore; attachments: AttachmentService; views: Views; timeZone: string }) {
  const { store, attachments, views, timeZone } = deps;

  function summary(subject: Subject, data: SubjectData, files: Map<number, string | null>, generatedAt: Date): string {
    const lang = 'sv';
    const messages = byCase(data.messages);
    const atts = byCase(data.attachments);
    const surveys = byCase(data.surveys);
    const callbacks = byCase(data.callbacks);
    const participants = byCase(data.participants);
    const kind = (m: Row) =>
      m.kind === 'resident'
        ? translate(lang, 'subject_export.summary.from_resident')
        : m.kind === 'reply'
          ? translate(lang, 'subject_export.summary.reply', { name: String(m.author_name ?? '') })
          : translate(lang, 'subject_export.summary.note', { name: String(m.author_name ?? '') });
    return views.template('privacy/summary')({
      lang,
      generatedAt,
      timeZone,
      subject,
      residents: data.residents,
      cases: data.cases.map((c) => ({
        ...c,
        statusLabel: translate(lang, `status.${String(c.status)}`),
        channelLabel: translate(lang, `channel.${String(c.channel)}`),
        participants: participants.get(Number(c.id)) ?? [],
        messages: (messages.get(Number(c.id)) ?? []).map((m) => ({ ...m, who: kind(m) })),
        files: (atts.get(Number(c.id)) ?? []).map((a) => ({ ...a, path: files.get(Number(a.id)) ?? null })),
        survey: surveys.get(Number(c.id))?.[0],
        callback: callbacks.get(Number(c.id))?.[0],
      })),
      callbacks: data.callbacks,
      calls: data.calls,
      mail: data.mail,
      inbound: data.inbound,
    });
  }

  function json(subject: Subject, data: SubjectData, files: Map<number, string | null>, generatedAt: Date): string {
    const messages = byCase(data.messages);
    const events = byCase(data.events);
    const atts = byCase(data.attachments);
    const surveys = byCase(data.surveys);
    const participants = byCase(data.participants);
    const attempts = new Map<number, Row[]>();
    for (const a of data.callbackAttempts) attempts.set(Number(a.callback_id), [...(attempts.get(Number(a.callback_id)) ?? []), a]);
    const callEvents = new Map<string, Row[]>();
    for (const e of data.callEvents) callEvents.set(String(e.call_id), [...(callEvents.get(String(e.call_id)) ?? []), e]);
    const doc = {
      export: {
        kind: 'registerutdrag (GDPR art. 15)',
        generatedAt: generatedAt.toISOString(),
        subject,
        timeZone,
        notes: [
          'Times are UTC (ISO 8601).',
          "A case's private link (resident_token) and a survey's key are left out: they are keys to act as the person, not data about them.",
          'Attachments are in bilagor/<case reference>/; each attachment below names its file (null when it is missing from storage).',
        ],
      },
      residents: data.residents.map(plain),
      cases: data.cases.map((c) => ({
        ...plain(c),
        participants: (participants.get(Number(c.id)) ?? []).map(plain),
        messages: (messages.get(Number(c.id)) ?? []).map(plain),
        events: (events.get(Number(c.id)) ?? []).map(plain),
        attachments: (atts.get(Number(c.id)) ?? []).map((a) => ({ ...plain(a), file: files.get(Number(a.id)) ?? null })),
        surveyAnswers: (surveys.get(Number(c.id)) ?? []).map(plain),
      })),
      callbacks: data.callbacks.map((cb) => ({ ...plain(cb), attempts: (attempts.get(Number(cb.id)) ?? []).map(plain) })),
      calls: data.calls.map((call) => ({ ...plain(call), events: (callEvents.get(String(call.call_id)) ?? []).map(plain) })),
      mailSent: data.mail.map(plain),
      mailReceived: data.inbound.map(plain),
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }

  return {
    parse: parseSubject,

    /** Reads everything about the person; undefined when nothing at all is stored (no empty file is made). */
    async prepare(subject: Subject, generatedAt = new Date()): Promise<SubjectExport | undefined> {
      const data = await store.gather(subject);
      const found = data.residents.length + data.cases.length + data.calls.length + data.callbacks.length + data.mail.length + data.inbound.length;
      if (!found) return undefined;

      const references = new Map(data.cases.map((c) => [Number(c.id), String(c.reference)]));
      const taken = new Map<number, Set<string>>();
      const files = new Map<number, string | null>();
      const fileEntries: Entry[] = [];
      for (const a of data.attachments) {
        const row = a as unknown as AttachmentRow;
        // A file missing from storage is named in data.json as missing rather than failing the whole export.
        const where = await attachments.exists(row).then((ok) => (ok ? attachments.pathOf(row.storage_key) : null));
        if (!where) {
          files.set(Number(a.id), null);
          continue;
        }
        const caseId = Number(a.case_id);
        const folder = zipSafeName(references.get(caseId) ?? `arende-${caseId}`);
        const seen = taken.get(caseId) ?? new Set<string>();
        taken.set(caseId, seen);
        const name = `bilagor/${folder}/${uniqueName(zipSafeName(String(a.filename)), seen)}`;
        files.set(Number(a.id), name);
        fileEntries.push({ name, path: where, mtime: new Date(a.created_at as Date) });
      }

      return {
        subject,
        generatedAt,
        caseCount: data.cases.length,
        fileCount: fileEntries.length,
        protectedIdentity: data.residents.some((r) => r.protected_identity === true),
        entries: [
          { name: 'sammanstallning.html', text: summary(subject, data, files, generatedAt), mtime: generatedAt },
          { name: 'data.json', text: json(subject, data, files, generatedAt), mtime: generatedAt },
          ...fileEntries,
        ],
      };
    },

    /** The download's name: no address in it (file names end up in logs and download folders). */
    filename(exp: SubjectExport): string {
      return `registerutdrag-${exp.generatedAt.toISOString().slice(0, 10)}.zip`;
    },

    /** Writes the ZIP to `out` (a response or a file), with back-pressure; rejects if reading or writing fails. */
    async write(exp: SubjectExport, out: Writable): Promise<void> {
      await pipeline(Readable.from(zipChunks(exp.entries)), out);
    },
  };
}

async function* zipChunks(entries: Entry[]): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else ready.push(chunk);
  });
  const take = function* (): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length) yield ready.shift()!;
  };
  for (const e of entries) {
    if ('text' in e) {
      const file = new ZipDeflate(e.name, { level: 6 });
      file.mtime = e.mtime;
      zip.add(file);
      file.push(strToU8(e.text), true);
      yield* take();
      continue;
    }
    // Attachments are PDFs, photos and office files, compressed already: stored as they are.
    const file = new ZipPassThrough(e.name);
    file.mtime = e.mtime;
    zip.add(file);
    for await (const chunk of createReadStream(e.path)) {
      file.push(chunk as Buffer, false);
      yield* take();
    }
    file.push(new Uint8Array(0), true);
    yield* take();
  }
  zip.end();
  yield* take();
}

export type SubjectExportService = ReturnType<typeof createSubjectExport>;
