/**
 * One header field of a raw message, read without parsing the whole message:
 * for the Message-ID before storing, the Return-Path of IMAP mail, and the
 * quarantine list. Only the header block is read (up to the first blank line,
 * at most 64 kB); folded lines are unfolded; bytes are read as latin1, so a
 * broken message can never make this throw. The first occurrence wins.
 */
export function rawHeaderField(raw: Buffer, name: string): string | null {
  const crlf = raw.indexOf('\r\n\r\n');
  const end = crlf >= 0 ? crlf : raw.indexOf('\n\n');
  const head = raw.subarray(0, Math.min(end >= 0 ? end : raw.length, 64 * 1024)).toString('latin1');
  const escaped = name.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped}:[ \\t]*((?:.|\\r?\\n[ \\t])*)`, 'im').exec(head);
  return m ? (m[1] ?? '').replace(/\r?\n[ \t]+/g, ' ').trim() : null;
}
