/**
 * Splits a plain-text e-mail reply into the new part and the quoted history,
 * so the timeline can show what the resident wrote and collapse the rest.
 *
 * Recognised starts of quoted history:
 * - a trailing block of lines starting with ">" (the earliest line from which
 *   every non-empty line is quoted, so interleaved answers stay in the body);
 * - attribution lines, possibly wrapped over up to three lines:
 *   "On <date>, <name> wrote:" (Gmail, Apple Mail, Thunderbird),
 *   "Den <datum> skrev <namn>:" (Swedish Gmail) and "<datum> skrev <namn>:"
 *   (Swedish Apple Mail), "Am <Datum> schrieb <Name>:" (German);
 * - Outlook separators "-----Original Message-----",
 *   "-----Ursprungligt meddelande-----", "-----Originalmeddelande-----";
 * - an Outlook header block: "From:" followed within a few lines by at least two
 *   of "Sent:"/"Date:", "To:", "Subject:" (Swedish "Från:", "Skickat:"/"Datum:",
 *   "Till:", "Ämne:"), optionally in *bold* and preceded by a line of underscores.
 *
 * Pure function; line endings are normalised to "\n".
 */

export interface QuotedSplit {
  body: string;
  quoted: string | null;
}

const SEPARATOR = /^\s*-{2,}\s*(?:original message|ursprungligt meddelande|originalmeddelande|opprinnelig melding|oprindelig meddelelse)\s*-{2,}\s*$/i;
const UNDERSCORE_RULE = /^\s*_{8,}\s*$/;

// Attribution lines, tested on one to three joined lines that start a line.
// The part before the verb must carry a date (a year or a clock time), which
// keeps prose such as "Jag skrev till er 3 gånger:" in the body.
const ATTRIBUTION: RegExp[] = [
  /^\s*On\s(.{4,300})\bwrote\s*:\s*$/i,
  /^\s*Den\s(.{4,300})\bskrev\s.{1,300}:\s*$/i,
  /^\s*((?:(?:mån|tis|ons|tor|fre|lör|sön)[a-zåäö]*\.?\s+)?\d.{2,300})\bskrev\s.{1,300}:\s*$/i,
  /^\s*Am\s(.{4,300})\bschrieb\s.{1,300}:\s*$/i,
];
const DATEISH = /\b(?:19|20)\d{2}\b|\b\d{1,2}[:.]\d{2}\b/;

const HEADER_FROM = /^\s*\*?\s*(?:from|från)\s*:\s*\*?\s*\S/i;
const HEADER_FIELDS: Array<[string, RegExp]> = [
  ['sent', /^\s*\*?\s*(?:sent|date|skickat|datum)\s*:\s*\*?/i],
  ['to', /^\s*\*?\s*(?:to|till)\s*:\s*\*?/i],
  ['subject', /^\s*\*?\s*(?:subject|ämne|amne)\s*:\s*\*?/i],
];
const HEADER_OTHER = /^\s*\*?\s*(?:cc|kopia|bcc|hemlig kopia|reply-to|svara till|importance|prioritet)\s*:/i;

function isQuoteLine(line: string): boolean {
  return /^\s*>/.test(line);
}

function attributionAt(lines: string[], i: number): boolean {
  const first = lines[i];
  if (first === undefined || !first.trim() || isQuoteLine(first)) return false;
  let joined = '';
  for (let n = 0; n < 3 && i + n < lines.length; n++) {
    const line = lines[i + n] ?? '';
    if (n > 0 && (!line.trim() || isQuoteLine(line))) break;
    joined = n === 0 ? line : `${joined} ${line.trim()}`;
    if (joined.length > 400) break;
    for (const re of ATTRIBUTION) {
      const m = re.exec(joined);
      if (m && DATEISH.test(m[1] ?? '')) return true;
    }
  }
  return false;
}

function headerBlockAt(lines: string[], i: number): boolean {
  if (!HEADER_FROM.test(lines[i] ?? '')) return false;
  const seen = new Set<string>();
  for (let j = i + 1, inspected = 0; j < lines.length && inspected < 8; j++) {
    const line = lines[j] ?? '';
    if (!line.trim()) continue;
    inspected++;
    const field = HEADER_FIELDS.find(([, re]) => re.test(line));
    if (field) seen.add(field[0]);
    else if (!HEADER_OTHER.test(line)) break;
    if (seen.size >= 2) return true;
  }
  return false;
}

/** Index of the first line of quoted history, or -1. */
function quoteStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (SEPARATOR.test(line)) return i;
    if (attributionAt(lines, i)) return i;
    if (headerBlockAt(lines, i)) {
      // Outlook puts a rule of underscores above the header block.
      let k = i - 1;
      while (k >= 0 && !(lines[k] ?? '').trim()) k--;
      return k >= 0 && UNDERSCORE_RULE.test(lines[k] ?? '') ? k : i;
    }
  }
  return -1;
}

/** Earliest line from which every non-empty line is quoted with ">", or -1. */
function trailingQuoteBlock(lines: string[]): number {
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    if (!line.trim()) continue;
    if (isQuoteLine(line)) start = i;
    else break;
  }
  return start;
}

export function splitQuoted(text: string): QuotedSplit {
  const normalised = text.replace(/\r\n?/g, '\n');
  const lines = normalised.split('\n');
  const candidates = [quoteStart(lines), trailingQuoteBlock(lines)].filter((i) => i >= 0);
  if (!candidates.length) return { body: normalised.trim(), quoted: null };
  const start = Math.min(...candidates);
  const body = lines.slice(0, start).join('\n').trim();
  const quoted = lines.slice(start).join('\n').trim();
  if (!body || !quoted) return { body: normalised.trim(), quoted: null };
  return { body, quoted };
}
