import { strict as assert } from 'node:assert';
import { findArticleLinks, MAX_LINKS_PER_REPLY } from '../../server/faq/reply-uses.js';

const BASE = 'https://servicecenter.borlange.se';
const links = (body: string, base = BASE) => findArticleLinks(body, base).map((l) => `${l.category}/${l.slug}`);

describe('findArticleLinks: the FAQ articles a reply links to', () => {
  it('finds an absolute link on the configured address', () => {
    assert.deepEqual(links(`Hej!\n\nLäs mer: ${BASE}/fragor/bygglov/vad-kostar-bygglov\n\nVänliga hälsningar`), ['bygglov/vad-kostar-bygglov']);
  });

  it('finds a relative link, at the start of a line or after a space or bracket', () => {
    assert.deepEqual(links('/fragor/bygglov/nar-far-jag-borja-bygga'), ['bygglov/nar-far-jag-borja-bygga']);
    assert.deepEqual(links('Se (/fragor/forskoleplats/vad-kostar-forskolan) och <"/fragor/forsorjningsstod/vad-ar-riksnormen">'), [
      'forskoleplats/vad-kostar-forskolan',
      'forsorjningsstod/vad-ar-riksnormen',
    ]);
  });

  it('ends the link at the sentence: trailing punctuation is not part of the slug', () => {
    for (const end of ['.', ',', '!', '?', ':', ';', ')', ').', '».', '"', '”', '’.', ']']) {
      assert.deepEqual(links(`Läs ${BASE}/fragor/bygglov/vad-kostar-bygglov${end} Tack`), ['bygglov/vad-kostar-bygglov'], `followed by ${end}`);
      assert.deepEqual(links(`Läs /fragor/bygglov/vad-kostar-bygglov${end}`), ['bygglov/vad-kostar-bygglov'], `followed by ${end} at the end`);
    }
  });

  it('ignores a query string, a fragment and a closing slash', () => {
    assert.deepEqual(links(`${BASE}/fragor/bygglov/vad-kostar-bygglov?lang=ar`), ['bygglov/vad-kostar-bygglov']);
    assert.deepEqual(links(`${BASE}/fragor/bygglov/hur-ansoker-jag-om-bygglov?lang=en#kontakt.`), ['bygglov/hur-ansoker-jag-om-bygglov']);
    assert.deepEqual(links('/fragor/bygglov/nar-far-jag-borja-bygga/ och mer'), ['bygglov/nar-far-jag-borja-bygga']);
  });

  it('ignores other hosts, other schemes and other ports', () => {
    assert.deepEqual(links('https://evil.example/fragor/bygglov/vad-kostar-bygglov'), []);
    assert.deepEqual(links(`${BASE}.evil.example/fragor/bygglov/vad-kostar-bygglov`), []);
    assert.deepEqual(links('http://servicecenter.borlange.se/fragor/bygglov/vad-kostar-bygglov'), [], 'http is not the configured https');
    assert.deepEqual(links('http://localhost:30001/fragor/bygglov/x', 'http://localhost:3000'), []);
    assert.deepEqual(links('https://www.borlange.se/sv/fragor/bygglov/vad-kostar-bygglov'), [], 'a path on another site that happens to contain /fragor/');
  });

  it('does not take a longer path or a file name for an article', () => {
    assert.deepEqual(links('/fragor/bygglov/vad-kostar-bygglov/mer'), []);
    assert.deepEqual(links('/fragor/bygglov/vad-kostar-bygglov.html'), []);
    assert.deepEqual(links('/fragor/bygglov/Vad-Kostar'), [], 'slugs are lower case');
    assert.deepEqual(links('/fragor/bygglov/vadKostar'), []);
    assert.deepEqual(links('/fragor/bygglov'), [], 'a category page is not an article');
    assert.deepEqual(links('/fragor//vad-kostar-bygglov'), []);
  });

  it('lists each article once, in the order it first appears', () => {
    const body = [
      `${BASE}/fragor/bygglov/vad-kostar-bygglov`,
      '/fragor/forskoleplats/vad-kostar-forskolan',
      `${BASE}/fragor/bygglov/vad-kostar-bygglov?lang=en`,
      '/fragor/bygglov/vad-kostar-bygglov.',
    ].join('\n');
    assert.deepEqual(links(body), ['bygglov/vad-kostar-bygglov', 'forskoleplats/vad-kostar-forskolan']);
  });

  it('works with a base address that has a path or a trailing slash', () => {
    assert.deepEqual(links('https://kommun.example/sc/fragor/bygglov/x-y', 'https://kommun.example/sc/'), ['bygglov/x-y']);
    assert.deepEqual(links('https://kommun.example/fragor/bygglov/x-y', 'https://kommun.example/sc'), [], 'not under the base path');
  });

  it('finds nothing in a reply without links', () => {
    assert.deepEqual(links('Hej! Du behöver inte bygglov för ett attefallshus på 25 kvm. Vänliga hälsningar'), []);
    assert.deepEqual(links(''), []);
  });

  it(`stops after ${MAX_LINKS_PER_REPLY} different articles`, () => {
    const body = Array.from({ length: MAX_LINKS_PER_REPLY + 5 }, (_, i) => `/fragor/bygglov/artikel-${i}`).join('\n');
    const found = links(body);
    assert.equal(found.length, MAX_LINKS_PER_REPLY);
    assert.equal(found[0], 'bygglov/artikel-0');
  });
});
