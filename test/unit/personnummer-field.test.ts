import { strict as assert } from 'node:assert';
import { checkPersonnummer, formatPersonnummer, personnummerForTopic } from '../../server/privacy/personnummer-field.js';
import { Views } from '../../server/platform/views.js';

/** The personnummer a case may be given (server/privacy/personnummer-field.ts) and the template helpers that show it. */
describe('personnummer as a form field', () => {
  it('takes the written forms and keeps twelve digits', () => {
    for (const [written, normalized] of [
      ['19121212-1212', '191212121212'],
      ['191212121212', '191212121212'],
      ['121212-1212', '201212121212'],
      ['121212+1212', '191212121212'],
      ['701063-2391', '197010632391'],
      ['  640823-3234\t', '196408233234'],
    ] as const) {
      assert.deepEqual(checkPersonnummer(written), { normalized }, written);
    }
  });

  it('tells a wrong shape from a number that does not exist', () => {
    for (const written of ['', '1912-1212', '19121212+1212', '121212 1212', '1212121212121', 'abcdefghij', '19121212–1212']) {
      assert.deepEqual(checkPersonnummer(written), { code: 'errors.personnummer_format' }, written);
    }
    for (const written of ['19121212-1213', '121312-1212', '701093-2391', '17121212-1212']) {
      assert.deepEqual(checkPersonnummer(written), { code: 'errors.personnummer_invalid' }, written);
    }
  });

  it('is kept only for a topic that asks; a topic that does not ask refuses any number, even a wrong one', () => {
    assert.deepEqual(personnummerForTopic(undefined, { asks_personnummer: false }), { value: null });
    assert.deepEqual(personnummerForTopic('  ', { asks_personnummer: true }), { value: null });
    assert.deepEqual(personnummerForTopic('121212-1212', { asks_personnummer: true }), { value: '201212121212' });
    assert.equal(personnummerForTopic('121212-1212', { asks_personnummer: false }).error?.code, 'errors.personnummer_not_asked');
    assert.equal(personnummerForTopic('nonsense', { asks_personnummer: false }).error?.code, 'errors.personnummer_not_asked');
    assert.equal(personnummerForTopic('121212-1213', undefined).error?.code, 'errors.personnummer_invalid', 'an unknown topic: the number itself is still checked');
  });

  it('templates: {{masked}} masks outside text, {{personnummer}} writes a stored number for the case view', () => {
    const views = new Views();
    const render = (source: string, data: Record<string, unknown>) => views.hbs.compile(source)(data);
    assert.equal(render('{{masked s}}', { s: 'Ansökan 19121212-1212 <b>' }), 'Ansökan ••••••••-•••• &lt;b&gt;', 'masked and still escaped');
    assert.equal(render('{{masked s}}', {}), '');
    assert.equal(render('{{personnummer p}}', { p: '191212121212' }), '19121212-1212');
    assert.equal(formatPersonnummer(null), '');
  });
});
