/**
 * Turns a raw RFC 5322 message into what the mail processor needs: decoded
 * headers, a plain-text body, sanitized HTML, attachments and a loop/noise
 * classification. Pure functions: no database, no I/O besides parsing.
 *
 * Decisions worth knowing:
 * - Parsing is mailparser's simpleParser (charsets, quoted-printable, base64,
 *   RFC 2047/2231). Embedded message/rfc822 parts are never flattened into the
 *   body (`ignoreEmbedded`): each becomes an attachment, named
 *   "forwarded-message.eml" when the part has no file name.
 * - message/delivery-status parts are kept as attachments (`keepDeliveryStatus`)
 *   and parsed for the bounce classification.
 * - `cid:` links are kept in the HTML so the caller can rewrite them to its
 *   attachment URLs; the matching parts come back with `inline: true`.
 * - data: URLs are dropped everywhere, images included: they can carry SVG,
 *   hide content and bloat the stored HTML, and mail clients that embed images
 *   use cid: parts anyway. An <img> left without any source is removed.
 * - Remote (http/https) images are never loaded by default: `src` becomes
 *   `data-remote-src` and `hasRemoteImages` is true. With `allowRemoteImages`
 *   https images keep `src`; plain http ones stay in `data-remote-src`.
 *   `hasRemoteImages` reports that the HTML refers to remote images at all,
 *   whatever the option, so the UI knows whether to offer "show images".
 * - A multipart/report with report-type=disposition-notification (a read
 *   receipt) counts as an automatic reply.
 */
import { simpleParser, type AddressObject, type Attachment, type EmailAddress, type ParsedMail, type StructuredHeader } from 'mailparser';
import sanitizeHtml from 'sanitize-html';

export { splitQuoted, type QuotedSplit } from './quoted.js';

export interface InboundAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  contentId: string | null;
  inline: boolean;
}

export interface BounceInfo {
  originalMessageIds: string[];
  recipients: string[];
  action: string | null;
  status: string | null;
  diagnostic: string | null;
}

export interface MailClassification {
  autoReply: boolean;
  bulk: boolean;
  fromSystem: boolean;
  bounce: BounceInfo | null;
  /** true when no acknowledgement may be sent: autoReply, bulk, fromSystem, a bounce, or X-Auto-Response-Suppress */
  suppressAcknowledgement: boolean;
}

export interface InboundMail {
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  from: { address: string; name: string } | null;
  replyTo: string | null;
  to: string[];
  cc: string[];
  subject: string;
  date: Date | null;
  text: string;
  html: string | null;
  hasRemoteImages: boolean;
  attachments: InboundAttachment[];
  classification: MailClassification;
}

export class MailParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailParseError';
  }
}

export const MAX_SUBJECT_LENGTH = 300;

/** A case reference such as SC-2026-000123. Not global: safe to use with test(). */
export const REFERENCE_PATTERN = /\bSC-\d{4}-\d{6,}\b/i;

/** Case references in a subject, upper-cased, unique, in order of appearance. */
export function referencesInSubject(subject: string): string[] {
  const found = new Set<string>();
  for (const match of subject.matchAll(new RegExp(REFERENCE_PATTERN.source, 'gi'))) {
    found.add(match[0].toUpperCase());
  }
  return [...found];
}

// ---------------------------------------------------------------------------
// Parsing

export async function parseInbound(raw: Buffer, envelopeFrom?: string | null): Promise<InboundMail> {
  assertLooksLikeMessage(raw);
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(withUtf8Header(raw), {
      keepCidLinks: true,
      ignoreEmbedded: true,
      keepDeliveryStatus: true,
      // An HTML-only message gets its text from the sanitized HTML (below),
      // the same content the agent sees, for every MIME layout.
      skipHtmlToText: true,
    });
  } catch (cause) {
    throw new MailParseError(`the message could not be parsed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (parsed.headerLines.every((h) => !h.line.includes(':'))) {
    throw new MailParseError('the message has no header fields');
  }

  const headers = new RawHeaders(parsed);
  const sanitized = typeof parsed.html === 'string' && parsed.html.trim() ? sanitizeMailHtml(parsed.html) : null;
  const html = sanitized?.html.trim() ? sanitized.html : null;

  let text = (parsed.text ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/^(?:[ \t]*\n)+/, '')
    .trimEnd();
  if (!text && html) text = htmlToPlainText(html);

  const from = firstMailbox(parsed.from);
  const attachments = toAttachments(parsed.attachments, html);
  const subject = cleanSubject(parsed.subject ?? '');

  return {
    messageId: firstMessageId(headers.first('message-id')),
    inReplyTo: messageIds(headers.all('in-reply-to').join(' ')),
    references: messageIds(headers.all('references').join(' ')),
    from,
    replyTo: firstMailbox(parsed.replyTo)?.address ?? null,
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    subject,
    date: parseDate(headers.first('date')),
    text,
    html,
    hasRemoteImages: sanitized?.hasRemoteImages ?? false,
    attachments,
    classification: classify(parsed, headers, from, subject, text, attachments, envelopeFrom),
  };
}

/** Refuses input that is not a message at all, before mailparser turns it into an empty one. */
function assertLooksLikeMessage(raw: Buffer): void {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new MailParseError('the message is empty');
  let start = 0;
  if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) start = 3;
  while (start < raw.length && (raw[start] === 0x0d || raw[start] === 0x0a)) start++;
  if (start >= raw.length) throw new MailParseError('the message is empty');
  const head = raw.subarray(start, Math.min(raw.length, start + 65_536)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headerSection = end >= 0 ? head.slice(0, end) : head;
  const lines = headerSection.split(/\r?\n/);
  // An mbox "From " separator line may precede the header.
  if (/^From \S/.test(lines[0] ?? '') && lines.length > 1) lines.shift();
  if (!/^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(lines[0] ?? '')) {
    throw new MailParseError('the input does not start with a header field: not an e-mail message');
  }
  if (headerSection.includes('\0')) {
    throw new MailParseError('the header section contains NUL bytes: not an e-mail message');
  }
}

/**
 * Header fields must be ASCII (RFC 2047 for anything else), but older mailers
 * send raw 8-bit ISO-8859-1/Windows-1252 in the header. mailparser reads the
 * header as UTF-8, which would turn "ä" into U+FFFD. When the top-level header
 * section is not valid UTF-8 it is transcoded from Windows-1252 (a superset of
 * ISO-8859-1's printable range); the body is left as it is.
 */
function withUtf8Header(raw: Buffer): Buffer {
  const limit = Math.min(raw.length, 1_048_576);
  let end = -1;
  for (let i = 0; i < limit - 1; i++) {
    if (raw[i] === 0x0a && (raw[i + 1] === 0x0a || (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a))) {
      end = i + 1;
      break;
    }
  }
  const header = raw.subarray(0, end >= 0 ? end : limit);
  if (!header.some((byte) => byte >= 0x80)) return raw;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(header);
    return raw;
  } catch {
    const transcoded = Buffer.from(decodeWindows1252(header), 'utf8');
    return Buffer.concat([transcoded, raw.subarray(header.length)]);
  }
}

// Windows-1252 0x80–0x9F (undefined positions kept as the C1 control). Written
// out because Node's TextDecoder('windows-1252') decodes as ISO-8859-1 on some
// Node versions.
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) out += byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_C1.charAt(byte - 0x80) : String.fromCharCode(byte);
  return out;
}

/** Raw (undecoded, unfolded) top-level header values, by lower-case name. */
class RawHeaders {
  private readonly values = new Map<string, string[]>();

  constructor(parsed: ParsedMail) {
    for (const { key, line } of parsed.headerLines) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const value = line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim();
      const list = this.values.get(key) ?? [];
      list.push(value);
      this.values.set(key, list);
    }
  }

  first(name: string): string | null {
    return this.values.get(name)?.[0] ?? null;
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

/** Message-IDs in a header value, without angle brackets, unique, in order. */
function messageIds(value: string | null): string[] {
  if (!value) return [];
  const withoutComments = value.replace(/\([^()]*\)/g, ' ');
  const bracketed = [...withoutComments.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  const ids = bracketed.length ? bracketed : withoutComments.split(/[\s,]+/).filter((token) => token.includes('@'));
  return [...new Set(ids.map((id) => id.trim()).filter(Boolean))];
}

function firstMessageId(value: string | null): string | null {
  return messageIds(value)[0] ?? null;
}

function parseDate(value: string | null): Date | null {
  if (!value) return null;
  const date = new Date(value.replace(/\([^()]*\)/g, ' ').trim());
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Decoded subject on one line: controls become spaces, whitespace collapsed, at most 300 characters. */
function cleanSubject(subject: string): string {
  const oneLine = subject
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(oneLine);
  return chars.length > MAX_SUBJECT_LENGTH ? chars.slice(0, MAX_SUBJECT_LENGTH).join('').trimEnd() : oneLine;
}

function cleanName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
}

function mailboxes(header: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  if (!header) return [];
  const out: EmailAddress[] = [];
  const walk = (list: EmailAddress[]) => {
    for (const entry of list) {
      if (entry.group) walk(entry.group);
      else if (entry.address) out.push(entry);
    }
  };
  for (const object of Array.isArray(header) ? header : [header]) walk(object.value);
  return out;
}

function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

function firstMailbox(header: AddressObject | AddressObject[] | undefined): { address: string; name: string } | null {
  const first = mailboxes(header).find((m) => m.address && m.address.includes('@')) ?? mailboxes(header)[0];
  if (!first?.address) return null;
  return { address: normaliseAddress(first.address), name: cleanName(first.name ?? '') };
}

function addressList(header: AddressObject | AddressObject[] | undefined): string[] {
  return [...new Set(mailboxes(header).map((m) => normaliseAddress(m.address ?? '')).filter(Boolean))];
}

// ---------------------------------------------------------------------------
// Attachments

const EXTENSIONS: Record<string, string> = {
  'message/rfc822': 'eml',
  'message/global': 'eml',
  'message/delivery-status': 'txt',
  'message/global-delivery-status': 'txt',
  'text/rfc822-headers': 'txt',
  'message/global-headers': 'txt',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/calendar': 'ics',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

const DEFAULT_NAMES: Record<string, string> = {
  'message/rfc822': 'forwarded-message.eml',
  'message/global': 'forwarded-message.eml',
  'message/delivery-status': 'delivery-status.txt',
  'message/global-delivery-status': 'delivery-status.txt',
  'text/rfc822-headers': 'original-headers.txt',
  'message/global-headers': 'original-headers.txt',
};

/** A file name without directories, control characters or surrounding dots, at most 200 characters. */
function cleanFilename(name: string | undefined): string {
  if (!name) return '';
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  const chars = Array.from(cleaned);
  if (chars.length <= 200) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 10 ? cleaned.slice(dot) : '';
  return chars.slice(0, 200 - ext.length).join('') + ext;
}

function toAttachments(parts: Attachment[], html: string | null): InboundAttachment[] {
  const referenced = new Set<string>();
  if (html) {
    for (const m of html.matchAll(/\bsrc="cid:([^"]+)"/gi)) referenced.add(decodeEntities(m[1] ?? '').toLowerCase());
  }
  const used = new Set<string>();
  let counter = 0;
  return parts.map((part) => {
    const contentType = (part.contentType || 'application/octet-stream').toLowerCase();
    const contentId = part.cid ? part.cid.trim() || null : part.contentId ? part.contentId.replace(/^<|>$/g, '').trim() || null : null;
    let filename = cleanFilename(part.filename);
    if (!filename) {
      counter++;
      const fallback = DEFAULT_NAMES[contentType];
      if (fallback) filename = fallback;
      else {
        const ext = EXTENSIONS[contentType];
        const stem = contentType.startsWith('image/') ? 'image' : 'attachment';
        filename = `${stem}-${counter}${ext ? `.${ext}` : ''}`;
      }
    }
    filename = uniqueName(filename, used);
    const disposition = (part.contentDisposition ?? '').toLowerCase();
    const inline =
      contentId !== null && (referenced.has(contentId.toLowerCase()) || (part.related === true && disposition !== 'attachment'));
    return { filename, contentType, content: part.content, contentId, inline };
  });
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}

// ---------------------------------------------------------------------------
// Classification

const AUTO_REPLY_SUBJECT =
  /^(?:(?:re|sv|aw|vs|fw|fwd|vb)\s*:\s*)*(?:automatic reply|automatiskt svar|auto(?:matic)?[ -]?(?:reply|response|svar)|autosvar|frånvaro\w*|out of (?:the )?office|abwesenheit\w*|réponse automatique|fraværsmelding|ikke til stede)\b/i;

const SYSTEM_LOCAL_PARTS = new Set(['mailer-daemon', 'postmaster']);

function isSystemAddress(address: string | null | undefined): boolean {
  if (!address) return false;
  const local = address.trim().replace(/^<|>$/g, '').split('@')[0]?.toLowerCase() ?? '';
  return SYSTEM_LOCAL_PARTS.has(local);
}

function headerWord(value: string): string {
  return value.replace(/\([^()]*\)/g, ' ').split(';')[0]?.trim().toLowerCase() ?? '';
}

function classify(
  parsed: ParsedMail,
  headers: RawHeaders,
  from: { address: string; name: string } | null,
  subject: string,
  text: string,
  attachments: InboundAttachment[],
  envelopeFrom: string | null | undefined,
): MailClassification {
  const names = headers.names();
  const precedence = headers.all('precedence').map(headerWord);

  const strongAutoReply =
    headers.all('auto-submitted').some((v) => headerWord(v) !== 'no' && headerWord(v) !== '') ||
    ['x-autoreply', 'x-autorespond', 'x-autoreply-from', 'x-autogenerated', 'x-precedence'].some((name) =>
      headers.all(name).some((v) => {
        const word = headerWord(v);
        if (name === 'x-precedence') return word === 'auto_reply';
        return word !== 'no' && word !== 'false';
      }),
    ) ||
    precedence.includes('auto_reply');
  const knownAutoReplyHeader = names.some(
    (name) => name.startsWith('x-ms-exchange-generated-message') || name === 'x-ms-exchange-inbox-rules-loop',
  );
  const contentType = parsed.headers.get('content-type') as StructuredHeader | undefined;
  const reportType = contentType?.value.toLowerCase() === 'multipart/report' ? (contentType.params['report-type'] ?? '').toLowerCase() : '';
  const readReceipt = reportType === 'disposition-notification';
  const autoReply = strongAutoReply || (knownAutoReplyHeader && AUTO_REPLY_SUBJECT.test(subject)) || readReceipt;

  const bulk = precedence.some((p) => p === 'bulk' || p === 'junk' || p === 'list') || names.some((name) => name.startsWith('list-'));

  const returnPaths = headers.all('return-path');
  const nullSender =
    returnPaths.some((v) => /^<\s*>$/.test(v.replace(/\([^()]*\)/g, '').trim()) || v.trim() === '') ||
    (envelopeFrom !== undefined && envelopeFrom !== null && /^<?\s*>?$/.test(envelopeFrom.trim()));
  const fromSystem =
    nullSender ||
    isSystemAddress(from?.address) ||
    isSystemAddress(envelopeFrom) ||
    returnPaths.some((v) => isSystemAddress(v.replace(/\([^()]*\)/g, '').trim()));

  let bounce: BounceInfo | null = null;
  if (reportType === 'delivery-status' || attachments.some((a) => isDeliveryStatus(a.contentType))) {
    bounce = standardBounce(attachments);
  } else if (fromSystem && looksLikeBounce(subject, text, attachments)) {
    bounce = nonStandardBounce(text, attachments);
  }

  return {
    autoReply,
    bulk,
    fromSystem,
    bounce,
    // X-Auto-Response-Suppress asks us not to answer automatically; on its own it
    // does not make the mail an auto-reply (case systems of other authorities set it).
    suppressAcknowledgement: autoReply || bulk || fromSystem || bounce !== null || headers.has('x-auto-response-suppress'),
  };
}

function isDeliveryStatus(contentType: string): boolean {
  return contentType === 'message/delivery-status' || contentType === 'message/global-delivery-status';
}

function isOriginalMessage(contentType: string): boolean {
  return ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers', 'message/rfc822-headers'].includes(contentType);
}

/** Header fields of a block of "Name: value" lines, unfolded, in order. */
function fieldsOf(block: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const line of block.replace(/\r\n?/g, '\n').replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (m) fields.push([(m[1] ?? '').toLowerCase(), (m[2] ?? '').trim()]);
  }
  return fields;
}

function headerSectionOf(content: Buffer): string {
  const text = decodeText(content);
  const end = text.search(/\r?\n\r?\n/);
  return end >= 0 ? text.slice(0, end) : text;
}

function decodeText(content: Buffer): string {
  const utf8 = content.toString('utf8');
  return utf8.includes('\ufffd') ? content.toString('latin1') : utf8;
}

function originalIdsFrom(attachments: InboundAttachment[]): string[] {
  const ids: string[] = [];
  for (const a of attachments) {
    if (!isOriginalMessage(a.contentType)) continue;
    for (const [name, value] of fieldsOf(headerSectionOf(a.content))) {
      if (name === 'message-id') ids.push(...messageIds(value));
    }
  }
  return ids;
}

function stripType(value: string): string {
  // "rfc822; anna@example.se" → "anna@example.se", "smtp; 550 ..." → "550 ..."
  const m = /^[A-Za-z0-9-]+\s*;\s*(.*)$/.exec(value);
  return (m ? (m[1] ?? '') : value).trim();
}

function standardBounce(attachments: InboundAttachment[]): BounceInfo {
  const recipients: string[] = [];
  const groups: Array<Map<string, string>> = [];
  for (const a of attachments) {
    if (!isDeliveryStatus(a.contentType)) continue;
    const blocks = decodeText(a.content).replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/);
    for (const block of blocks) {
      const fields = new Map<string, string>();
      for (const [name, value] of fieldsOf(block)) if (!fields.has(name)) fields.set(name, value);
      if (fields.has('final-recipient') || fields.has('original-recipient') || fields.has('action')) groups.push(fields);
    }
  }
  for (const g of groups) {
    const recipient = stripType(g.get('final-recipient') ?? g.get('original-recipient') ?? '')
      .replace(/^<|>$/g, '')
      .toLowerCase();
    if (recipient) recipients.push(recipient);
  }
  const chosen = groups.find((g) => (g.get('action') ?? '').toLowerCase() === 'failed') ?? groups[0];
  const diagnostic = chosen?.get('diagnostic-code');
  return {
    originalMessageIds: [...new Set(originalIdsFrom(attachments))],
    recipients: [...new Set(recipients)],
    action: chosen?.get('action')?.toLowerCase() || null,
    status: chosen?.get('status')?.split(/\s/)[0] || null,
    diagnostic: diagnostic ? stripType(diagnostic).slice(0, 1000) || null : null,
  };
}

const BOUNCE_SUBJECT =
  /undeliver|undelivered|not delivered|delivery (?:status notification|failure|failed|has failed|problem)|returned mail|mail delivery (?:failed|failure|system|subsystem)|failure notice|could not be delivered|olevererbar|kunde inte levereras|ej levererat|leveransfel|inte levererat|unzustellbar|non remis/i;

function looksLikeBounce(subject: string, text: string, attachments: InboundAttachment[]): boolean {
  if (BOUNCE_SUBJECT.test(subject)) return true;
  if (attachments.some((a) => isOriginalMessage(a.contentType))) return true;
  return /^\s*Message-ID\s*:/im.test(text) && BOUNCE_SUBJECT.test(text.slice(0, 4000));
}

function nonStandardBounce(text: string, attachments: InboundAttachment[]): BounceInfo {
  const ids = [...originalIdsFrom(attachments)];
  for (const m of text.matchAll(/^[ \t>]*Message-ID[ \t]*:[ \t]*(.+)$/gim)) ids.push(...messageIds(m[1] ?? ''));

  const recipients: string[] = [];
  const addressLine = /^\s*<?([^\s<>@"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?\s*:?\s*$/;
  const postfixLine = /^\s*<([^\s<>@"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>\s*:\s+\S/;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (const line of lines) {
    const m = addressLine.exec(line) ?? postfixLine.exec(line);
    const address = m?.[1]?.toLowerCase();
    if (address && !isSystemAddress(address)) recipients.push(address);
  }
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? null;
  const diagnosticLine = lines.find((line) => /\b[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\b)?/.test(line) && /[A-Za-z]/.test(line));
  const diagnostic = diagnosticLine ? diagnosticLine.trim().slice(0, 1000) : null;
  const failed = (status ?? '').startsWith('5') || (diagnostic !== null && /\b5\d\d\b/.test(diagnostic));
  return {
    originalMessageIds: [...new Set(ids)],
    recipients: [...new Set(recipients)],
    action: failed ? 'failed' : null,
    status,
    diagnostic,
  };
}

// ---------------------------------------------------------------------------
// HTML

const ALLOWED_TAGS = [
  'p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'strike', 'sub', 'sup', 'small',
  'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th',
  'a', 'img', 'hr',
];

// Elements dropped together with their content (sanitize-html keeps the text of
// other disallowed elements).
const DROP_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'select', 'noscript', 'noembed', 'noframes', 'template', 'title', 'head',
  'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'xmp', 'plaintext', 'button', 'audio', 'video',
  'canvas', 'map',
];

const DIMENSION = /^\d{1,4}%?$/;

/** URL text as a browser would read it: no whitespace or control characters. */
function compactUrl(value: string): string {
  return value.replace(/[\u0000-\u0020\u007f-\u009f]+/g, '');
}

export function sanitizeMailHtml(html: string, opts: { allowRemoteImages?: boolean } = {}): { html: string; hasRemoteImages: boolean } {
  const allowRemote = opts.allowRemoteImages === true;
  let hasRemoteImages = false;

  const cleaned = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'rel', 'target'],
      img: ['src', 'alt', 'width', 'height', 'data-remote-src'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['cid', 'https', 'http'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    allowedClasses: {},
    allowedStyles: {},
    allowVulnerableTags: false,
    disallowedTagsMode: 'discard',
    nonTextTags: DROP_WITH_CONTENT,
    transformTags: {
      a: (tagName, attribs) => {
        const out: Record<string, string> = {};
        const href = attribs.href !== undefined ? compactUrl(attribs.href) : '';
        if (/^(?:https?:\/\/|mailto:)/i.test(href)) {
          out.href = href;
          out.rel = 'noopener noreferrer nofollow';
          out.target = '_blank';
        }
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const out: Record<string, string> = {};
        if (attribs.alt !== undefined) out.alt = attribs.alt;
        if (attribs.width !== undefined && DIMENSION.test(attribs.width.trim())) out.width = attribs.width.trim();
        if (attribs.height !== undefined && DIMENSION.test(attribs.height.trim())) out.height = attribs.height.trim();
        // Stored mail keeps a blocked remote image in data-remote-src: sanitizing it
        // again (as the agent view does) treats that like the image's source.
        const src = compactUrl(attribs.src ?? attribs['data-remote-src'] ?? '');
        if (/^cid:\S+/i.test(src)) {
          out.src = src;
        } else {
          const remote = /^\/\//.test(src) ? `https:${src}` : src;
          let url: URL | null = null;
          try {
            url = /^https?:/i.test(remote) ? new URL(remote) : null;
          } catch {
            url = null;
          }
          if (url && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) {
            hasRemoteImages = true;
            if (allowRemote && url.protocol === 'https:') out.src = url.href;
            else out['data-remote-src'] = url.href;
          }
        }
        return { tagName, attribs: out };
      },
      td: keepSpans,
      th: keepSpans,
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src && !frame.attribs['data-remote-src'],
  });

  return { html: cleaned.trim(), hasRemoteImages };
}

function keepSpans(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const out: Record<string, string> = {};
  for (const name of ['colspan', 'rowspan']) {
    const value = attribs[name]?.trim();
    if (value && /^\d{1,3}$/.test(value)) out[name] = value;
  }
  return { tagName, attribs: out };
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'quot') return '"';
    if (lower === 'apos') return "'";
    if (lower === 'nbsp') return '\u00a0';
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** A plain-text rendering of sanitized HTML, for messages without a text part. */
export function htmlToPlainText(html: string): string {
  const text = html
    .replace(/\r\n?|\n/g, ' ')
    // Links keep their target, as "label <https://…>", so the agent sees where they lead.
    .replace(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi, (_whole, attributes: string, inner: string) => {
      const href = /\bhref="([^"]*)"/.exec(attributes)?.[1];
      if (!href) return inner;
      const target = decodeEntities(href);
      const label = decodeEntities(inner.replace(/<[^>]*>/g, '')).trim();
      const shown = target.replace(/^mailto:/i, '');
      return label === target || label === shown ? inner : `${inner} &lt;${href.replace(/^mailto:/i, '')}&gt;`;
    })
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/(?:td|th)>/gi, '\t')
    .replace(/<\/?(?:p|div|h[1-6]|ul|ol|li|tr|table|blockquote|pre|hr|caption|thead|tbody|tfoot)\b[^>]*>/gi, '\n')
    .replace(/<hr\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
