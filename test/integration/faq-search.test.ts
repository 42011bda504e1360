import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedReferenceData } from '../../server/demo/seed.js';
import { faqOpenApi } from '../../server/faq/openapi.js';
import { FaqFileError, parseArticleFile, readArticles, seedFaq } from '../../server/faq/seed.js';
import { toSearchQuery } from '../../server/faq/service.js';
import { FAQ_CATEGORIES } from '../../server/faq/store.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { countOf } from './helpers.js';

interface Item {
  slug: string;
  category: string;
  title: string;
  summary: string;
  score: number;
}

const SEARCH = '/api/v1/faq/search';

describe('FAQ search (GET /api/v1/faq/search)', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  async function search(q: string, lang = 'sv', limit?: number): Promise<Item[]> {
    const res = await t
      .request()
      .get(SEARCH)
      .query({ q, lang, ...(limit ? { limit } : {}) })
      .expect(200);
    assert.ok(Array.isArray(res.body.items), 'items is a list');
    return res.body.items as Item[];
  }

  const show = (items: Item[]) => items.map((i) => `${i.category}/${i.slug} ${i.score}`).join('\n  ');

  function assertInTop(items: Item[], n: number, match: (i: Item) => boolean, what: string) {
    assert.ok(items.slice(0, n).some(match), `${what} in the top ${n}; got:\n  ${show(items)}`);
  }

  describe('the seeded content', () => {
    it('every shipped article is published in Swedish and English, and some in Arabic', async () => {
      const files = readArticles();
      assert.equal(await countOf(t.db, 'faq_articles'), files.length);
      const perLang = await t.db('faq_versions').where({ status: 'published' }).groupBy('lang').select('lang').count<{ lang: string; n: string }[]>({ n: '*' });
      const n = Object.fromEntries(perLang.map((r) => [r.lang, Number(r.n)]));
      assert.equal(n.sv, files.length);
      assert.equal(n.en, files.length);
      assert.ok((n.ar ?? 0) >= 10, `Arabic versions: ${n.ar}`);
      for (const category of ['bygglov', 'forsorjningsstod', 'forskoleplats']) {
        assert.ok((await countOf(t.db, 'faq_articles', { category })) >= 10, `at least 10 articles in ${category}`);
      }
      const attefall = await t.db('faq_articles').where({ category: 'bygglov', slug: 'behover-jag-bygglov-for-attefallshus' }).first();
      const department = await t.db('departments').where({ id: attefall.department_id }).first();
      assert.equal(department.slug, 'samhallsbyggnad');
      assert.equal(attefall.popular, true);
    });

    it('every link in the shipped articles leads to a page of the site or an article that exists, at its /fragor address', () => {
      const articles = readArticles();
      const known = new Set(articles.map((a) => `${a.category}/${a.slug}`));
      const links = articles.flatMap((a) => a.versions.flatMap((v) => [...v.body_md.matchAll(/\]\((\/[^)\s]*)\)/g)].map((m) => ({ from: `${a.category}/${a.slug}.${v.lang}`, href: m[1]! }))));
      assert.ok(links.length > 50, `the articles link to each other (${links.length} links)`);
      const pages = new Set(['/kontakt', '/ring-upp', '/fragor']);
      const broken = links.filter((l) => {
        if (pages.has(l.href)) return false;
        const m = /^\/fragor\/([a-z]+)\/([a-z0-9-]+)(#[\w-]*)?$/.exec(l.href);
        return !m || !known.has(`${m[1]}/${m[2]}`);
      });
      assert.deepEqual(broken.map((l) => `${l.from} → ${l.href}`), []);
    });

    it('seeding again adds nothing', async () => {
      const before = { a: await countOf(t.db, 'faq_articles'), v: await countOf(t.db, 'faq_versions') };
      assert.equal(await seedFaq(t.db), 0);
      assert.equal(await t.services.faq.seed(), 0);
      assert.deepEqual({ a: await countOf(t.db, 'faq_articles'), v: await countOf(t.db, 'faq_versions') }, before);
    });

    it('an installation that has topics but no FAQ gets the FAQ on its next start', async () => {
      const before = { a: await countOf(t.db, 'faq_articles'), v: await countOf(t.db, 'faq_versions') };
      await t.db('faq_articles').delete();
      assert.equal(await countOf(t.db, 'faq_versions'), 0);
      // A malformed file stops the seeding before anything is written, naming the file.
      const bad = mkdtempSync(path.join(tmpdir(), 'sc-faq-bad-'));
      try {
        mkdirSync(path.join(bad, 'bygglov'));
        writeFileSync(path.join(bad, 'bygglov', 'trasig.sv.md'), 'title: no front matter\n');
        await assert.rejects(seedFaq(t.db, bad), (err: unknown) => err instanceof FaqFileError && err.message.includes('trasig.sv.md'));
        assert.equal(await countOf(t.db, 'faq_articles'), 0);
      } finally {
        rmSync(bad, { recursive: true, force: true });
      }
      assert.equal(await seedReferenceData(t.services), true);
      assert.deepEqual({ a: await countOf(t.db, 'faq_articles'), v: await countOf(t.db, 'faq_versions') }, before);
      assert.equal(await seedReferenceData(t.services), false);
      assert.ok((await search('attefallshus')).length > 0);
    });

    it('one published version per article and language, enforced by the database', async () => {
      const v = await t.db('faq_versions').where({ status: 'published', lang: 'sv' }).first();
      await assert.rejects(
        t.db('faq_versions').insert({ article_id: v.article_id, lang: 'sv', version: 99, status: 'published', title: 'Dubblett' }),
        /faq_versions_published_idx|duplicate key/,
      );
      // A draft beside it is fine, and is not searched.
      await t.db('faq_versions').insert({ article_id: v.article_id, lang: 'sv', version: 2, status: 'draft', title: 'Zyxwvutsord utkast', keywords: 'zyxwvutsord' });
      assert.deepEqual(await search('zyxwvutsord'), []);
      await t.db('faq_versions').where({ article_id: v.article_id, lang: 'sv', version: 2 }).delete();
    });
  });

  describe('Swedish', () => {
    it('"attefallshus" finds the attefallshus article first', async () => {
      const items = await search('attefallshus');
      assert.equal(items[0]?.slug, 'behover-jag-bygglov-for-attefallshus', show(items));
    });

    for (const q of ['bygglov', 'bygglovet', 'bygglovsansökan', 'Bygglovsansökan?']) {
      it(`"${q}" finds bygglov articles in the top 3`, async () => {
        const items = await search(q);
        assert.ok(items.length >= 3, show(items));
        assert.ok(
          items.slice(0, 3).every((i) => i.category === 'bygglov'),
          `all of the top 3 are bygglov articles:\n  ${show(items)}`,
        );
      });
    }

    it('inflections: "förskolan" and "förskoleplatsen" find preschool articles', async () => {
      for (const q of ['förskolan', 'förskoleplatsen']) {
        const items = await search(q);
        assert.equal(items[0]?.category, 'forskoleplats', `${q}:\n  ${show(items)}`);
      }
      assertInTop(await search('förskoleplatsen'), 3, (i) => i.slug === 'hur-ansoker-jag-om-forskoleplats' || i.slug === 'hur-sager-jag-upp-forskoleplatsen', 'an article about the place');
    });

    it('a question in plain words finds its article', async () => {
      assertInTop(await search('hur ansöker jag om bygglov'), 3, (i) => i.slug === 'hur-ansoker-jag-om-bygglov', 'hur-ansoker-jag-om-bygglov');
      assertInTop(await search('vad kostar förskolan'), 3, (i) => i.slug === 'vad-kostar-forskolan', 'vad-kostar-forskolan');
    });

    it('typos: "atefalshus" and "försörjningstöd"', async () => {
      assertInTop(await search('atefalshus'), 3, (i) => i.slug === 'behover-jag-bygglov-for-attefallshus', 'the attefallshus article');
      const items = await search('försörjningstöd');
      assert.equal(items[0]?.category, 'forsorjningsstod', show(items));
      assertInTop(items, 3, (i) => i.category === 'forsorjningsstod', 'a försörjningsstöd article');
    });

    it('typos that no article lists as a keyword are found by trigram similarity', async () => {
      const expected: [string, (i: Item) => boolean][] = [
        ['förskolplatsen', (i) => i.category === 'forskoleplats'],
        ['försörjninsstöd', (i) => i.category === 'forsorjningsstod'],
        ['atefallshuset', (i) => i.slug === 'behover-jag-bygglov-for-attefallshus'],
        ['riksnormn', (i) => i.slug === 'vad-ar-riksnormen'],
        ['överklga', (i) => i.slug.startsWith('hur-overklagar-jag')],
      ];
      for (const [q, match] of expected) {
        const rows = await t.db('faq_versions').where({ status: 'published', lang: 'sv' }).whereRaw('search_text ILIKE ?', [`%${q}%`]);
        assert.equal(rows.length, 0, `"${q}" is not itself a keyword`);
        const items = await search(q);
        assert.ok(items[0] && match(items[0]), `${q}:\n  ${show(items)}`);
      }
    });

    it('prefix while typing: "attef" and "försörj" put the right category first', async () => {
      const attef = await search('attef');
      assert.equal(attef[0]?.slug, 'behover-jag-bygglov-for-attefallshus', show(attef));
      const forsorj = await search('försörj');
      assert.equal(forsorj[0]?.category, 'forsorjningsstod', show(forsorj));
      const half = await search('hur ansöker jag om förskolep');
      assert.equal(half[0]?.category, 'forskoleplats', show(half));
    });

    it('results are ranked best first and limited', async () => {
      const items = await search('bygglov', 'sv', 4);
      assert.equal(items.length, 4);
      for (let i = 1; i < items.length; i++) assert.ok(items[i - 1]!.score >= items[i]!.score, show(items));
      for (const i of items) {
        assert.equal(typeof i.title, 'string');
        assert.equal(typeof i.summary, 'string');
        assert.ok(i.summary.length > 0);
      }
    });

    it('a word that is in no article finds nothing', async () => {
      assert.deepEqual(await search('qwxzvbnmk'), []);
    });
  });

  describe('English and Arabic', () => {
    it('"preschool place" finds the preschool articles, in English', async () => {
      const items = await search('preschool place', 'en');
      assert.equal(items[0]?.category, 'forskoleplats', show(items));
      assert.match(items[0]!.title, /preschool/i);
      assertInTop(items, 3, (i) => i.slug === 'hur-ansoker-jag-om-forskoleplats' || i.slug === 'hur-lang-tid-tar-det-att-fa-forskoleplats', 'an article about getting a place');
    });

    it('"building permit cost" finds bygglov articles', async () => {
      const items = await search('building permit cost', 'en');
      assert.equal(items[0]?.category, 'bygglov', show(items));
    });

    it('an Arabic query finds the Arabic article', async () => {
      const items = await search('مكان في الروضة', 'ar');
      assert.equal(items[0]?.category, 'forskoleplats', show(items));
      assert.match(items[0]!.title, /الروضة/);
      const help = await search('المساعدة المعيشية', 'ar');
      assert.equal(help[0]?.category, 'forsorjningsstod', show(help));
    });

    it('only the requested language is searched', async () => {
      const en = await search('attefallshus', 'en');
      const sv = await search('attefallshus', 'sv');
      assert.notEqual(en[0]?.title, sv[0]?.title);
      assert.match(en[0]!.title, /[A-Za-z]/);
    });
  });

  describe('hostile and bad input', () => {
    const hostile = [
      'bygglov & | ! :* (',
      "bygglov' | !",
      '"bygglov"',
      '((( )))',
      '!!!',
      '&&&|||',
      ':*',
      "'",
      '\\',
      '<script>alert(1)</script>',
      'a:* & b:*',
      'bygglov <-> attefallshus',
      'é',
      '%_%',
      '🙂🙂',
      'x'.repeat(200),
      Array.from({ length: 60 }, (_, i) => `ord${i}`).join(' ').slice(0, 200),
    ];
    for (const q of hostile) {
      it(`${JSON.stringify(q.slice(0, 40))} answers 200 with a list`, async () => {
        const res = await t.request().get(SEARCH).query({ q, lang: 'sv' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(Array.isArray(res.body.items));
      });
    }

    it('operators are taken as words: "bygglov & | ! :* (" still finds bygglov', async () => {
      const items = await search('bygglov & | ! :* (');
      assert.equal(items[0]?.category, 'bygglov', show(items));
    });

    it('refuses a missing, empty or too long q, and a bad lang or limit, with field errors', async () => {
      const cases: [Record<string, string>, string[]][] = [
        [{}, ['q']],
        [{ q: '' }, ['q']],
        [{ q: '   ' }, ['q']],
        [{ q: 'x'.repeat(201) }, ['q']],
        [{ q: 'bygglov', lang: 'de' }, ['lang']],
        [{ q: 'bygglov', limit: '0' }, ['limit']],
        [{ q: 'bygglov', limit: '21' }, ['limit']],
        [{ q: 'bygglov', limit: 'ten' }, ['limit']],
        [{ q: 'bygglov', limit: '2.5' }, ['limit']],
        [{ lang: 'xx', limit: '-1' }, ['lang', 'limit', 'q']],
      ];
      for (const [query, fields] of cases) {
        const res = await t.request().get(SEARCH).query(query);
        assert.equal(res.status, 400, `${JSON.stringify(query)} → ${res.status}`);
        assert.equal(res.body.error, 'validation_failed');
        assert.deepEqual(Object.keys(res.body.fields).sort(), fields, JSON.stringify(res.body));
      }
      const repeated = await t.request().get(`${SEARCH}?q=a&q=b`);
      assert.equal(repeated.status, 400);
      assert.deepEqual(Object.keys(repeated.body.fields), ['q']);
    });

    it('the sanitizer passes words only to to_tsquery', () => {
      const q = toSearchQuery("bygg'lov & | ! :* ( förskol", 'sv', 10)!;
      assert.equal(q.anyQuery, "'bygg' | 'lov' | 'förskol':*");
      assert.equal(q.text, 'bygg lov förskol');
      assert.equal(toSearchQuery('&|!():*', 'sv', 10), undefined);
    });
  });

  describe('articles and categories', () => {
    it('getArticle answers the language asked for, or Swedish and says so', async () => {
      const en = await t.services.faq.getArticle('bygglov', 'hur-ansoker-jag-om-bygglov', 'en');
      assert.equal(en.lang, 'en');
      assert.equal(en.fallback, false);
      assert.ok(en.bodyMd.length > 100);
      const ar = await t.services.faq.getArticle('bygglov', 'hur-ansoker-jag-om-bygglov', 'ar');
      assert.equal(ar.lang, 'sv');
      assert.equal(ar.requestedLang, 'ar');
      assert.equal(ar.fallback, true);
      const arOwn = await t.services.faq.getArticle('bygglov', 'behover-jag-bygglov-for-attefallshus', 'ar');
      assert.equal(arOwn.lang, 'ar');
      await assert.rejects(t.services.faq.getArticle('bygglov', 'finns-inte', 'sv'), /No FAQ article/);
    });

    it('listCategory lists every article of the category, popular first', async () => {
      const list = await t.services.faq.listCategory('forskoleplats', 'ar');
      assert.equal(list.length, await countOf(t.db, 'faq_articles', { category: 'forskoleplats' }));
      assert.ok(list.some((a) => a.lang === 'ar' && !a.fallback));
      assert.ok(list.some((a) => a.lang === 'sv' && a.fallback));
      const firstNotPopular = list.findIndex((a) => !a.popular);
      assert.ok(firstNotPopular === -1 || list.slice(firstNotPopular).every((a) => !a.popular));
      await assert.rejects(t.services.faq.listCategory('nope', 'sv'), /No FAQ category/);
    });

    it("listAll gives every category's list, one category after the other", async () => {
      for (const lang of ['sv', 'en', 'ar'] as const) {
        const each = await Promise.all(FAQ_CATEGORIES.map((c) => t.services.faq.listCategory(c, lang)));
        assert.deepEqual(await t.services.faq.listAll(lang), each.flat(), lang);
      }
    });

    it('the start page /fragor reads its articles in at most 2 queries', async () => {
      // The outbox worker polls the same database meanwhile: paused, so only the page's queries are counted.
      await t.services.mail.worker.stop();
      const queries: string[] = [];
      const count = (q: { sql: string }) => queries.push(q.sql);
      t.db.on('query', count);
      try {
        for (const lang of ['sv', 'ar']) {
          queries.length = 0;
          await t.request().get('/fragor').query({ lang }).expect(200);
          assert.ok(queries.length <= 2, `${lang}: ${queries.length} queries:\n${queries.join('\n')}`);
        }
      } finally {
        t.db.removeListener('query', count);
        t.services.mail.worker.start();
      }
    });
  });

  it('the OpenAPI part describes the search', () => {
    const part = faqOpenApi();
    const get = (part.paths['/api/v1/faq/search'] as { get: { parameters: { name: string }[] } }).get;
    assert.deepEqual(get.parameters.map((p) => p.name), ['q', 'lang', 'limit']);
    assert.ok(part.schemas.FaqSearchResult && part.schemas.FaqSearchResponse);
  });
});

describe('FAQ article files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sc-faq-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const good = ['---', 'title: Titel', 'summary: Kort', 'keywords: a, b', 'department: samhallsbyggnad', 'reviewed: 2026-11-28', 'popular: true', '---', 'Text.'].join('\n');

  it('reads a well-formed file', () => {
    const a = parseArticleFile('/x/bygglov/en-fraga.sv.md', good, 'bygglov');
    assert.deepEqual({ slug: a.slug, lang: a.lang, title: a.title, popular: a.popular, reviewed: a.reviewed, body: a.body }, { slug: 'en-fraga', lang: 'sv', title: 'Titel', popular: true, reviewed: '2026-11-28', body: 'Text.' });
  });

  const bad: [string, string, string, RegExp][] = [
    ['no front matter', 'en-fraga.sv.md', 'Text only', /must start with a front matter/],
    ['unclosed', 'en-fraga.sv.md', '---\ntitle: T\nText', /not closed/],
    ['no title', 'en-fraga.sv.md', good.replace('title: Titel\n', ''), /no title/],
    ['bad line', 'en-fraga.sv.md', good.replace('summary: Kort', 'summary Kort'), /not "key: value"/],
    ['unknown field', 'en-fraga.sv.md', good.replace('popular: true', 'popular: true\nauthor: x'), /unknown field "author"/],
    ['bad date', 'en-fraga.sv.md', good.replace('2026-11-28', '2026-02-30'), /reviewed must be a date/],
    ['bad popular', 'en-fraga.sv.md', good.replace('popular: true', 'popular: ja'), /popular must be true or false/],
    ['no body', 'en-fraga.sv.md', good.replace('Text.', ''), /no body/],
    ['bad name', 'En Fråga.sv.md', good, /file name must be/],
    ['bad language', 'en-fraga.de.md', good, /file name must be/],
  ];
  for (const [what, name, text, message] of bad) {
    it(`refuses a file with ${what}, naming the file`, () => {
      mkdirSync(path.join(dir, 'bygglov'));
      writeFileSync(path.join(dir, 'bygglov', name), text);
      assert.throws(
        () => readArticles(dir),
        (err: unknown) => err instanceof FaqFileError && err.message.includes(path.join(dir, 'bygglov', name)) && message.test(err.message),
      );
    });
  }

  it('refuses an unknown category and an article without a Swedish version', () => {
    mkdirSync(path.join(dir, 'parkering'));
    writeFileSync(path.join(dir, 'parkering', 'en-fraga.sv.md'), good);
    assert.throws(() => readArticles(dir), /unknown category "parkering"/);
    rmSync(path.join(dir, 'parkering'), { recursive: true });
    mkdirSync(path.join(dir, 'bygglov'));
    writeFileSync(path.join(dir, 'bygglov', 'en-fraga.en.md'), good);
    assert.throws(() => readArticles(dir), /has no Swedish version/);
  });
});
