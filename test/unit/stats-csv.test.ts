import { strict as assert } from 'node:assert';
import { csvCell, toCsv } from '../../server/stats/csv.js';

describe('CSV export: safe against formula injection', () => {
  it('puts an apostrophe before anything a spreadsheet would run', () => {
    for (const [given, expected] of [
      ['=1+1', "'=1+1"],
      ['+46 70 123', "'+46 70 123"],
      ['-2+3', "'-2+3"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\t=1', "'\t=1"],
      ['\r=1', `"'\r=1"`],
      ['  =cmd|\' /C calc\'!A0', `'  =cmd|' /C calc'!A0`],
      ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
      ['-Anna', "'-Anna"],
    ]) {
      assert.equal(csvCell(given!), expected, given);
    }
  });

  it('leaves numbers as we format them, and ordinary text, alone', () => {
    for (const v of ['0', '-3', '1 234', '12,5', '85,3 %', '85.3%', '–', 'Anna Andersson', 'v. 47 2026', '2026-11-01', '08–09']) {
      assert.equal(csvCell(v), v, v);
    }
  });

  it('quotes separators, quotes and line breaks', () => {
    assert.equal(csvCell('a;b'), '"a;b"');
    assert.equal(csvCell('a,b'), 'a,b', 'the separator is ;');
    assert.equal(csvCell('say "hej"'), '"say ""hej"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
  });

  it('writes a byte order mark, a header and CRLF lines', () => {
    assert.equal(toCsv(['Dag', 'Antal'], [['2026-11-01', '3']]), '\uFEFFDag;Antal\r\n2026-11-01;3\r\n');
  });
});
