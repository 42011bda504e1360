/**
 * A small RFC 4180 reader with ; as the separator, as our CSV exports write
 * them. By default a cell's leading apostrophe (our formula guard) is taken
 * off, so cells read back as the page shows them; pass false to see exactly
 * what a spreadsheet would get.
 */
export function parseCsv(text: string, stripApostrophe = true): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ';') (row.push(cell), (cell = ''));
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += ch;
  }
  if (cell || row.length) (row.push(cell), rows.push(row));
  return stripApostrophe ? rows.map((r) => r.map((c) => (c.startsWith("'") ? c.slice(1) : c))) : rows;
}
