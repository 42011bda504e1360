import { createRequire } from 'node:module';

// The package is CommonJS whose types declare an ES default export: required, it is the class itself.
const Personnummer = createRequire(import.meta.url)('personnummer') as typeof import('personnummer').default;

/**
 * Swedish personal identity numbers (personnummer) and coordination numbers
 * (samordningsnummer: the day of birth + 60) in free text, from any channel.
 *
 * A candidate is 10 or 12 digits, with or without a "-" (or "+", used from
 * the year a person turns 100) before the last four, and no digit right
 * before or after it. It counts only if it is a real one: a valid date (or
 * date + 60) and the right check digit (Luhn over YYMMDDNNN), as checked by
 * the `personnummer` package (MIT, the common spec of personnummer/*), so a
 * case number, an amount or most phone numbers are left alone.
 *
 * Why a library: the date rules (leap years, the century from the
 * separator), the check digit and coordination numbers are easy to get
 * almost right; that package is small, dependency-free and follows the spec
 * its sister packages in other languages share.
 */
export interface PersonnummerMatch {
  /** Where it stands in the text: text.slice(start, end) is the match. */
  start: number;
  end: number;
  /** As written. */
  text: string;
  /** Twelve digits with the century, YYYYMMDDNNNC. */
  normalized: string;
  kind: 'personnummer' | 'samordningsnummer';
}

const CANDIDATE = /(?<![\d])(\d{8}|\d{6})([-+]?)(\d{4})(?![\d])/g;

/** Every personnummer and samordningsnummer in the text, in order. */
export function findPersonnummer(text: string): PersonnummerMatch[] {
  const out: PersonnummerMatch[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    const [written, date, separator, last] = m as unknown as [string, string, string, string];
    // Twelve digits carry their century and no "+"; only a ten-digit number uses "+" (100 years or older).
    if (date.length === 8 && separator === '+') continue;
    if (date.length === 8 && !/^(18|19|20)/.test(date)) continue;
    const value = `${date}${separator || (date.length === 6 ? '-' : '')}${last}`;
    if (!Personnummer.valid(value)) continue;
    const parsed = Personnummer.parse(value);
    out.push({
      start: m.index!,
      end: m.index! + written.length,
      text: written,
      normalized: parsed.format(true),
      kind: parsed.isCoordinationNumber() ? 'samordningsnummer' : 'personnummer',
    });
  }
  return out;
}

/** Whether the text holds one. */
export function hasPersonnummer(text: string): boolean {
  return findPersonnummer(text).length > 0;
}

/** The mask that stands in for a number: the same shape, no digits ("••••••-••••"). */
export function maskOf(m: Pick<PersonnummerMatch, 'text'>): string {
  return m.text.replace(/\d/g, '•');
}

/**
 * The text with every personnummer and samordningsnummer masked, for lists,
 * previews, notifications, search snippets and logs; everything else as it was.
 */
export function maskPersonnummer(text: string): string {
  const found = findPersonnummer(text);
  if (!found.length) return text;
  let out = '';
  let at = 0;
  for (const m of found) {
    out += text.slice(at, m.start) + maskOf(m);
    at = m.end;
  }
  return out + text.slice(at);
}

const ENCODED_SEPARATOR = /(?<!\d)(\d{8}|\d{6})(%2[BbDd])(\d{4})(?!\d)/g;

/**
 * A URL (a request's path and query) for a log, masked: as text, and with a
 * separator sent percent-encoded ("%2D", "%2B"), which a reader of the log
 * would still read as a number.
 */
export function maskPersonnummerInUrl(url: string): string {
  return maskPersonnummer(url).replace(ENCODED_SEPARATOR, (written, date: string, separator: string, last: string) =>
    hasPersonnummer(`${date}${separator.toUpperCase() === '%2B' ? '+' : '-'}${last}`) ? `${'•'.repeat(date.length)}${separator}${'•'.repeat(last.length)}` : written,
  );
}
