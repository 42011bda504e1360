import { strict as assert } from 'node:assert';
import { findPersonnummer, hasPersonnummer, maskPersonnummer } from '../../server/privacy/personnummer.js';

/**
 * Personnummer and samordningsnummer in free text (server/privacy/personnummer.ts).
 * Numbers from Skatteverket's descriptions: 640823-3234 (the worked check-digit
 * example) and 701063-2391 (a samordningsnummer: born 3 October 1970, day + 60).
 */
describe('personnummer in free text', () => {
  it('finds every written form of a valid number, with its century', () => {
    const cases: [string, string, 'personnummer' | 'samordningsnummer'][] = [
      ['640823-3234', '196408233234', 'personnummer'],
      ['6408233234', '196408233234', 'personnummer'],
      ['19640823-3234', '196408233234', 'personnummer'],
      ['196408233234', '196408233234', 'personnummer'],
      ['640823+3234', '186408233234', 'personnummer'],
      ['701063-2391', '197010632391', 'samordningsnummer'],
      ['197010632391', '197010632391', 'samordningsnummer'],
    ];
    for (const [written, normalized, kind] of cases) {
      const text = `Mitt nummer är ${written}, tack.`;
      const found = findPersonnummer(text);
      assert.equal(found.length, 1, written);
      assert.equal(found[0]!.text, written);
      assert.equal(found[0]!.normalized, normalized, written);
      assert.equal(found[0]!.kind, kind, written);
      assert.equal(text.slice(found[0]!.start, found[0]!.end), written);
    }
  });

  it('leaves alone what only looks like one', () => {
    for (const text of [
      '640823-3235', // wrong check digit
      '641323-3234', // month 13
      '640832-3234', // day 32
      '19640823+3234', // twelve digits never take "+"
      '16408233234', // eleven digits
      '1964082332345', // thirteen digits
      '6408233234567', // part of a longer run
      'SC-2026-001234', // a case reference
      '070-123 45 67', // a phone number
      '+46 70 123 45 67',
      'Belopp 12 500 kr, faktura 2026-11-29',
      '',
    ]) {
      assert.deepEqual(findPersonnummer(text), [], text);
      assert.equal(hasPersonnummer(text), false, text);
      assert.equal(maskPersonnummer(text), text, text);
    }
  });

  it('masks each number in place, keeping its shape and the rest of the text', () => {
    assert.equal(maskPersonnummer('Jag heter Eva, 640823-3234. Min son: 197010632391.'), 'Jag heter Eva, ••••••-••••. Min son: ••••••••••••.');
    assert.equal(maskPersonnummer('رقمي 640823-3234 شكرا'), 'رقمي ••••••-•••• شكرا');
    assert.equal(maskPersonnummer('640823-3234\n6408233234'), '••••••-••••\n••••••••••');
    assert.equal(maskPersonnummer('(640823+3234)'), '(••••••+••••)');
  });
});
