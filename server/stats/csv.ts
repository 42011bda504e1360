/**
 * CSV for spreadsheets, safe against formula injection: a cell that a
 * spreadsheet would read as a formula (one starting with = + - @, a tab or a
 * carriage return, after any leading spaces) gets a leading apostrophe, as
 * OWASP recommends, unless it is a plain number as we format them ("-3",
 * "12,5", "85,3 %"). Names of agents, topics and departments are typed by
 * people, so this matters.
 *
 * Cells are separated by semicolons (Swedish Excel reads a comma as the
 * decimal sign) and quoted when they hold a semicolon, a quote or a line
 * break; lines end in CRLF (RFC 4180) and the file starts with a UTF-8 byte
 * order mark so that Excel reads å, ä and ö.
 */
export const CSV_SEPARATOR = ';';
const BOM = '\uFEFF';
const FORMULA_START = /^[\s\u00a0]*[=+\-@\t\r]/;
// A number as Intl writes it in sv-SE or en-GB: a sign, digits with spaces or separators, a decimal part, a percent.
const PLAIN_NUMBER = /^[-\u2212]?\d[\d\s\u00a0\u202f.,]*(\s?%)?$/;

export function csvCell(value: string): string {
  let v = value;
  if (FORMULA_START.test(v) && !PLAIN_NUMBER.test(v)) v = `'${v}`;
  return /[";\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(CSV_SEPARATOR);
}

/** A whole file: a header line, then the rows. */
export function toCsv(header: string[], rows: string[][]): string {
  return BOM + [header, ...rows].map(csvLine).join('\r\n') + '\r\n';
}
