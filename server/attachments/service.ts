import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { ValidationError } from '../platform/errors.js';
import type { AttachmentRow, AttachmentStore } from './store.js';

/** A file as received, before it is checked: a temporary path and what the client claimed. */
export interface IncomingFile {
  path: string;
  originalname: string;
  size: number;
}

/** A checked file moved into storage, waiting for its database row. */
export type PreparedAttachment = Omit<AttachmentRow, 'id' | 'case_id' | 'message_id' | 'created_at'>;

interface FileType {
  contentType: string;
  extensions: string[];
  matches(head: Buffer): boolean;
}

const startsWith = (bytes: number[]) => (head: Buffer) => bytes.every((b, i) => head[i] === b);
const ZIP = startsWith([0x50, 0x4b, 0x03, 0x04]);

/**
 * What residents may send: documents and photos. The type is decided by the
 * file's own first bytes and its extension together, never by the client's
 * Content-Type, and it is what we later serve it as.
 */
const FILE_TYPES: FileType[] = [
  { contentType: 'application/pdf', extensions: ['pdf'], matches: startsWith([0x25, 0x50, 0x44, 0x46]) },
  { contentType: 'image/jpeg', extensions: ['jpg', 'jpeg'], matches: startsWith([0xff, 0xd8, 0xff]) },
  { contentType: 'image/png', extensions: ['png'], matches: startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { contentType: 'image/heic', extensions: ['heic', 'heif'], matches: (h) => h.subarray(4, 8).toString('latin1') === 'ftyp' },
  { contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extensions: ['docx'], matches: ZIP },
  { contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extensions: ['xlsx'], matches: ZIP },
  { contentType: 'application/vnd.oasis.opendocument.text', extensions: ['odt'], matches: ZIP },
  { contentType: 'application/msword', extensions: ['doc'], matches: startsWith([0xd0, 0xcf, 0x11, 0xe0]) },
  { contentType: 'text/plain; charset=utf-8', extensions: ['txt'], matches: (h) => !h.includes(0) },
];

/** Public ids are 16 random bytes in base64url (22 characters). */
const PUBLIC_ID = /^[A-Za-z0-9_-]{16,64}$/;

export const ALLOWED_EXTENSIONS = FILE_TYPES.flatMap((t) => t.extensions);

/** Keeps the visible name (å, ä, ö included) but nothing that could be a path or a control character. */
export function safeFilename(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? '';
  // Multer hands over the raw header bytes as latin1; browsers send UTF-8.
  const decoded = Buffer.from(base, 'latin1').toString('utf8');
  const text = decoded.includes('\uFFFD') ? base : decoded;
  const cleaned = text
    .normalize('NFC')
    // Bidi overrides and isolates too: "faktura\u202Efdp.exe" would show as "fakturaexe.pdf".
    .replace(/[\u0000-\u001f\u007f-\u009f"<>|:*?\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^\.+/, '')
    .trim();
  return shorten(cleaned, 180) || 'bilaga';
}

/**
 * At most `max` characters, counted in code points (cutting inside a
 * surrogate pair leaves a string no header can encode), keeping the
 * extension: the type check reads it.
 */
function shorten(name: string, max: number): string {
  const chars = Array.from(name);
  if (chars.length <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 10 ? Array.from(name.slice(dot)) : [];
  return chars.slice(0, max - ext.length).join('').trimEnd() + ext.join('');
}

export function createAttachmentService(deps: { store: AttachmentStore; config: Pick<Config, 'uploads'> }) {
  const { store, config } = deps;
  const root = path.resolve(config.uploads.dir);

  async function sniff(file: IncomingFile): Promise<FileType | undefined> {
    const name = safeFilename(file.originalname);
    const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
    const handle = await open(file.path, 'r');
    try {
      const head = Buffer.alloc(Math.min(4096, file.size));
      await handle.read(head, 0, head.length, 0);
      return FILE_TYPES.find((t) => t.extensions.includes(ext) && t.matches(head));
    } finally {
      await handle.close();
    }
  }

  async function hashFile(p: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  return {
    /**
     * Checks every file and moves the good ones into storage. Any bad file
     * rejects the whole lot, and every temporary file is removed either way.
     */
    async prepare(files: IncomingFile[]): Promise<PreparedAttachment[]> {
      if (!files.length) return [];
      try {
        const prepared: PreparedAttachment[] = [];
        for (const file of files) {
          const filename = safeFilename(file.originalname);
          if (file.size === 0) {
            throw new ValidationError([{ field: 'attachments', code: 'errors.attachment_empty', message: `The file ${filename} is empty`, params: { name: filename } }]);
          }
          const type = await sniff(file);
          if (!type) {
            throw new ValidationError([
              {
                field: 'attachments',
                code: 'errors.attachment_type',
                message: `The file ${filename} is not an allowed type (${ALLOWED_EXTENSIONS.join(', ')})`,
                params: { name: filename, types: ALLOWED_EXTENSIONS.join(', ') },
              },
            ]);
          }
          const publicId = randomBytes(16).toString('base64url');
          const day = new Date().toISOString().slice(0, 10);
          const storageKey = `${day}/${publicId}`;
          prepared.push({ public_id: publicId, filename, content_type: type.contentType, size_bytes: file.size, sha256: await hashFile(file.path), storage_key: storageKey });
        }
        for (const [i, file] of files.entries()) {
          const target = this.pathOf(prepared[i]!.storage_key);
          await mkdir(path.dirname(target), { recursive: true });
          await rename(file.path, target);
        }
        return prepared;
      } finally {
        await Promise.all(files.map((f) => rm(f.path, { force: true })));
      }
    },

    /**
     * Files that came inside a mail: each is checked under the same rules as a
     * web upload, one by one. A file that fails them is not kept (the raw mail
     * still holds it) and is reported, so the case can say so.
     */
    async prepareEach(files: { filename: string; content: Buffer }[]): Promise<{ kept: (PreparedAttachment & { index: number })[]; refused: { filename: string; reason: string }[] }> {
      const kept: (PreparedAttachment & { index: number })[] = [];
      const refused: { filename: string; reason: string }[] = [];
      if (!files.length) return { kept, refused };
      const incoming = path.join(root, '.incoming');
      await mkdir(incoming, { recursive: true });
      for (const [index, f] of files.entries()) {
        const filename = safeFilename(f.filename);
        if (f.content.length > config.uploads.maxBytes) {
          refused.push({ filename, reason: 'too large' });
          continue;
        }
        const tmp = path.join(incoming, randomBytes(12).toString('hex'));
        await writeFile(tmp, f.content);
        try {
          const [one] = await this.prepare([{ path: tmp, originalname: Buffer.from(filename, 'utf8').toString('latin1'), size: f.content.length }]);
          if (one) kept.push({ ...one, index });
        } catch (err) {
          refused.push({ filename, reason: err instanceof ValidationError ? 'type not allowed' : String((err as Error).message) });
        }
      }
      return { kept, refused };
    },

    /** Removes stored files whose database rows were never written (the transaction failed). */
    async discard(prepared: PreparedAttachment[]): Promise<void> {
      await Promise.all(prepared.map((p) => rm(this.pathOf(p.storage_key), { force: true })));
    },

    pathOf(storageKey: string): string {
      const full = path.resolve(root, storageKey);
      if (!full.startsWith(root + path.sep)) throw new Error('storage key escapes the attachment folder');
      return full;
    },

    async exists(row: AttachmentRow): Promise<boolean> {
      try {
        return (await stat(this.pathOf(row.storage_key))).isFile();
      } catch {
        return false;
      }
    },

    // A link's id comes from the URL: anything that is not an id of ours (a NUL byte, a path) is simply not found.
    findByPublicId: (publicId: string) => (PUBLIC_ID.test(publicId) ? store.findByPublicId(publicId) : Promise.resolve(undefined)),
    listForCase: (caseId: number) => store.listForCase(caseId),
    listForMessages: (messageIds: number[]) => store.listForMessages(messageIds),
    insertMany: store.insertMany,
  };
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;
