import { strict as assert } from 'node:assert';
import { FEEDBACK_COMMENT_MAX } from '../../server/faq/feedback.js';
import { translate } from '../../server/platform/i18n.js';
import { csrfFrom, startTestApp, type TestApp } from '../support/harness.js';
import { countOf } from './helpers.js';

/**
 * The residents' FAQ as a browser without JavaScript uses it: the start
 * page, search, categories and articles in Swedish, English and Arabic, and
 * "Did this help?" with its checks, on the seeded articles.
 */

type Lang = 'sv' | 'en' | 'ar';
const LANGS: Lang[] = ['sv', 'en', 'ar'];

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
const tx = (lang: Lang, key: string, vars: Record<string, unknown> = {}) => html(translate(lang, key, vars));

function contains(page: string, text: string, what = 'the page'): void {
  if (!page.includes(text)) assert.fail(`${what} does not contain ${JSON.stringify(text)}:\n${main(page).slice(0, 1500)}`);
}

/** The page's <main>: the layout around it holds scripts and links of its own. */
function main(page: string): string {
  const start = page.indexOf('<main');
  const end = page.indexOf('</main>');
  assert.ok(start >= 0 && end > start, 'the page has a <main>');
  return page.slice(start, end);
}

const ATTEFALL = { category: 'bygglov', slug: 'behover-jag-bygglov-for-attefallshus' };
/** Published in Swedish and English, not in Arabic. */
const NO_ARABIC = { category: 'bygglov', slug: 'hur-ansoker-jag-om-bygglov' };
const COST = { category: 'bygglov', slug: 'vad-kostar-bygglov' };
const url = (a: { category: string; slug: string }) => `/fragor/${a.category}/${a.slug}`;
/** A query inside a sentence is isolated (FSI … PDI), so it keeps its direction in Arabic. */
const bdi = (q: string) => `\u2068${q}\u2069`;

describe('FAQ pages (/fragor)', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  async function version(a: { category: string; slug: string }, lang: Lang) {
    return t.db('faq_versions as v')
      .join('faq_articles as a', 'a.id', 'v.article_id')
      .where({ 'a.category': a.category, 'a.slug': a.slug, 'v.lang': lang, 'v.status': 'published' })
      .first<{ article_id: number; title: string; summary: string } | undefined>('v.article_id', 'v.title', 'v.summary');
  }

  async function articleId(a: { category: string; slug: string }): Promise<number> {
    const row = await t.db('faq_articles').where(a).first<{ id: number }>('id');
    assert.ok(row, `article ${a.category}/${a.slug}`);
    return row.id;
  }

  /** A published article (and draft versions) written straight into the database. */
  async function insertArticle(slug: string, versions: { lang: Lang; status: 'draft' | 'published' | 'archived'; title: string; summary?: string; body_md?: string }[]) {
    const [row] = await t.db('faq_articles').insert({ category: 'servicecenter', slug }).returning('id');
    const id = (row as { id: number }).id;
    await t.db('faq_versions').insert(versions.map((v, i) => ({ article_id: id, version: i + 1, summary: '', body_md: '', ...v })));
    return id;
  }

  describe('the start page', () => {
    for (const lang of LANGS) {
      it(`shows the search form, the four categories and the popular questions (${lang})`, async () => {
        const res = await t.request().get(`/fragor?lang=${lang}`).expect(200);
        contains(res.text, `<html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}">`);
        const m = main(res.text);
        contains(m, `<h1>${tx(lang, 'faq.index.title')}</h1>`);
        contains(m, '<form method="get" action="/fragor/sok" role="search"');
        contains(m, `<label for="f-q">${tx(lang, 'faq.search.label')}</label>`);
        contains(m, '<input id="f-q" name="q" type="search"');
        for (const c of ['bygglov', 'forsorjningsstod', 'forskoleplats', 'servicecenter']) {
          contains(m, `<a href="/fragor/${c}">`);
          contains(m, `<strong>${tx(lang, `faq.categories.${c}.name`)}</strong>`);
          contains(m, `<span>${tx(lang, `faq.categories.${c}.description`)}</span>`);
        }
        contains(m, tx(lang, 'faq.index.popular'));
        const popular = await version(ATTEFALL, lang);
        assert.ok(popular, `the attefall article is published in ${lang}`);
        contains(m, `<a href="${url(ATTEFALL)}">${html(popular.title)}</a>`, 'the popular list');
        // Only popular articles are listed there.
        const notPopular = await version(NO_ARABIC, 'sv');
        assert.ok(!m.includes(`href="${url(NO_ARABIC)}"`), `${notPopular?.title} is not popular`);
        contains(m, '<a href="/kontakt">');
      });
    }

    it('is linked from the resident navigation and the home page', async () => {
      const home = await t.request().get('/').expect(200);
      contains(home.text, `<a href="/fragor">${tx('sv', 'faq.nav')}</a>`, 'the navigation');
      const nav = home.text.slice(home.text.indexOf('<nav'), home.text.indexOf('</nav>'));
      assert.ok(nav.indexOf('href="/fragor"') < nav.indexOf('href="/kontakt"'), 'FAQ comes before the contact form in the navigation');
      const m = main(home.text);
      contains(m, tx('sv', 'faq.home.heading'));
      for (const c of ['bygglov', 'forsorjningsstod', 'forskoleplats', 'servicecenter']) contains(m, `<a href="/fragor/${c}">${tx('sv', `faq.categories.${c}.name`)}</a>`);
      const fragor = await t.request().get('/fragor').expect(200);
      contains(fragor.text, `<a href="/fragor" aria-current="page">${tx('sv', 'faq.nav')}</a>`);
    });
  });

  describe('a category', () => {
    it('lists its published articles in Swedish and English', async () => {
      for (const lang of ['sv', 'en'] as const) {
        const res = await t.request().get(`/fragor/bygglov?lang=${lang}`).expect(200);
        const m = main(res.text);
        contains(m, `<h1>${tx(lang, 'faq.categories.bygglov.name')}</h1>`);
        contains(m, `<nav class="breadcrumbs" aria-label="${tx(lang, 'faq.breadcrumbs')}">`);
        const links = [...m.matchAll(/<li>\s*<a href="\/fragor\/bygglov\/([a-z0-9-]+)"/g)].map((x) => x[1]);
        assert.ok(links.length >= 10, `at least 10 bygglov articles, got ${links.length}`);
        const v = await version(NO_ARABIC, lang);
        contains(m, `<a href="${url(NO_ARABIC)}">${html(v!.title)}</a>`);
        contains(m, '<a href="/kontakt?amne&#x3D;bygglov">');
      }
    });

    it('in Arabic, marks the articles shown in Swedish', async () => {
      const res = await t.request().get('/fragor/bygglov?lang=ar').expect(200);
      contains(res.text, '<html lang="ar" dir="rtl">');
      const m = main(res.text);
      const sv = await version(NO_ARABIC, 'sv');
      contains(m, `<a href="${url(NO_ARABIC)}" lang="sv" dir="ltr">${html(sv!.title)}</a> <span class="faq-lang-note">(${tx('ar', 'faq.in_swedish')})</span>`);
      const ar = await version(ATTEFALL, 'ar');
      contains(m, `<a href="${url(ATTEFALL)}">${html(ar!.title)}</a>`);
    });

    it('answers 404 for a category that does not exist', async () => {
      for (const path of ['/fragor/okand', '/fragor/Bygglov', '/fragor/gator-och-trafik']) {
        const res = await t.request().get(path);
        assert.equal(res.status, 404, path);
        contains(res.text, tx('sv', 'errors.page.404.title'));
      }
    });
  });

  describe('an article', () => {
    it('shows the title, summary, body, department, review date, breadcrumbs and a way to contact us (sv)', async () => {
      const res = await t.request().get(url(COST)).expect(200);
      const m = main(res.text);
      const v = await version(COST, 'sv');
      contains(res.text, `<title>${html(v!.title)} – `);
      contains(m, `<h1>${html(v!.title)}</h1>`);
      contains(m, `<p class="lead">${html(v!.summary)}</p>`);
      contains(m, '<div class="faq-body">');
      assert.match(m, /<div class="faq-body">\s*<(p|h2|ul)>/, 'the Markdown body is rendered as HTML');
      contains(m, `<nav class="breadcrumbs" aria-label="${tx('sv', 'faq.breadcrumbs')}">`);
      contains(m, `<li><a href="/fragor">${tx('sv', 'faq.index.title')}</a></li>`);
      contains(m, `<li><a href="/fragor/bygglov">${tx('sv', 'faq.categories.bygglov.name')}</a></li>`);
      contains(m, `<span aria-current="page">${html(v!.title)}</span>`);
      contains(m, `<dt>${tx('sv', 'faq.article.department')}</dt>`);
      contains(m, '<dd>Samhällsbyggnadsförvaltningen</dd>');
      const a = await t.db('faq_articles').where(COST).first();
      const reviewed = a.reviewed_at instanceof Date ? a.reviewed_at : new Date(String(a.reviewed_at));
      assert.match(m, new RegExp(`<dt>${tx('sv', 'faq.article.reviewed')}</dt>\\s*<dd><time datetime="\\d{4}-\\d{2}-\\d{2}">[^<]*${reviewed.getFullYear()}</time></dd>`));
      contains(m, `<a href="/kontakt?amne&#x3D;bygglov">${tx('sv', 'faq.contact.link')}</a>`);
      contains(m, `<form method="post" action="${url(COST)}/omdome"`);
      assert.ok(!m.includes('faq-fallback'), 'no fallback notice in Swedish');
    });

    it('in English and in Arabic when translated: the text in that language, no notice', async () => {
      for (const lang of ['en', 'ar'] as const) {
        const res = await t.request().get(`${url(ATTEFALL)}?lang=${lang}`).expect(200);
        const v = await version(ATTEFALL, lang);
        const m = main(res.text);
        contains(m, `<h1>${html(v!.title)}</h1>`);
        contains(m, '<article class="faq-article">');
        assert.ok(!m.includes('faq-fallback'), `no fallback notice in ${lang}`);
        contains(m, `<dd lang="sv">Samhällsbyggnadsförvaltningen</dd>`, 'the Swedish department name is marked as Swedish');
        contains(m, tx(lang, 'faq.feedback.question'));
      }
    });

    it('without Arabic text: a notice, and the Swedish text marked lang="sv" dir="ltr"', async () => {
      const res = await t.request().get(`${url(NO_ARABIC)}?lang=ar`).expect(200);
      contains(res.text, '<html lang="ar" dir="rtl">');
      const m = main(res.text);
      contains(m, `<div class="notice notice--info faq-fallback"><p>${tx('ar', 'faq.article.fallback')}</p></div>`);
      const v = await version(NO_ARABIC, 'sv');
      contains(m, `<article class="faq-article" lang="sv" dir="ltr">\n  <h1>${html(v!.title)}</h1>`);
      contains(m, `<span aria-current="page" lang="sv" dir="ltr">${html(v!.title)}</span>`);
      contains(m, tx('ar', 'faq.feedback.question'), 'the page around the text stays in Arabic');
    });

    it('answers 404 for an article that does not exist', async () => {
      for (const path of ['/fragor/bygglov/finns-inte', '/fragor/forskoleplats/vad-kostar-bygglov']) {
        const res = await t.request().get(path);
        assert.equal(res.status, 404, path);
      }
    });

    it('links between articles go to /fragor/…, and the short /faq/… addresses lead to the same page', async () => {
      const body = await t.request().get(url(NO_ARABIC)).expect(200);
      assert.match(body.text, /href="\/fragor\/bygglov\/[a-z0-9-]+"/, 'the shipped articles link to each other');
      assert.doesNotMatch(body.text, /href="\/faq\//);
      const res = await t.request().get(`/faq/${COST.category}/${COST.slug}?lang=en`).expect(301);
      assert.equal(res.headers.location, `${url(COST)}?lang=en`);
      assert.equal((await t.request().get('/faq/bygglov').expect(301)).headers.location, '/fragor/bygglov');
      assert.equal((await t.request().get('/faq').expect(301)).headers.location, '/fragor');
      await t.request().get('/faq/okand/x').expect(404);
      await t.request().get('/faq/bygglov/..%2F..%2Fadmin').expect(404);
    });
  });

  describe('hostile addresses', () => {
    const HOSTILE = [
      '/fragor/..%2F..%2Fetc%2Fpasswd',
      '/fragor/bygglov/..%2F..%2Fadmin',
      '/fragor/bygglov/..',
      `/fragor/bygglov/${'a'.repeat(400)}`,
      `/fragor/${'b'.repeat(400)}`,
      '/fragor/bygglov/vad%00kostar',
      '/fragor/%00',
      '/fragor/bygglov/Vad-Kostar-Bygglov',
      '/fragor/BYGGLOV/vad-kostar-bygglov',
      '/fragor/bygglov/-borjar-med-streck',
      "/fragor/bygglov/x'%20OR%201%3D1--",
      '/fragor/bygglov/%E0%A4%A',
      '/fragor/bygglov/vad-kostar-bygglov/omdome',
    ];

    it('answer 404 or 400, never 500, and ask the database nothing about the FAQ', async () => {
      const queries: string[] = [];
      const listen = (q: { sql: string }) => queries.push(q.sql);
      t.db.on('query', listen);
      try {
        for (const path of HOSTILE) {
          const res = await t.request().get(path);
          assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
        }
      } finally {
        t.db.off('query', listen);
      }
      const faqQueries = queries.filter((sql) => /faq_/.test(sql));
      assert.deepEqual(faqQueries, [], 'no FAQ query for an address that cannot name an article');
    });

    it('answer 404 or 400 to feedback sent to them, and write nothing', async () => {
      const agent = t.request();
      const page = await agent.get(url(COST)).expect(200);
      const csrf = csrfFrom(page.text);
      const before = await countOf(t.db, 'faq_feedback');
      for (const path of HOSTILE.filter((p) => !p.endsWith('/omdome'))) {
        const res = await agent.post(`${path}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja' });
        assert.ok([400, 404].includes(res.status), `${path}/omdome: ${res.status}`);
      }
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
    });
  });

  describe('unpublished articles', () => {
    it('an article with only a draft is not shown, listed or found', async () => {
      const slug = 'utkast-som-inte-ar-publicerat';
      await insertArticle(slug, [{ lang: 'sv', status: 'draft', title: 'Hemligt utkast om zzqqxx', summary: 'Inte klart än zzqqxx' }]);
      await t.request().get(`/fragor/servicecenter/${slug}`).expect(404);
      await t.request().get(`/fragor/servicecenter/${slug}?lang=en`).expect(404);
      const list = await t.request().get('/fragor/servicecenter').expect(200);
      assert.ok(!list.text.includes(slug), 'not listed in its category');
      const search = await t.request().get('/fragor/sok').query({ q: 'zzqqxx' }).expect(200);
      assert.ok(!search.text.includes(slug), 'not found by search');
      contains(main(search.text), tx('sv', 'faq.search.none', { q: bdi('zzqqxx') }));
    });

    it('an archived version is not shown; the published one is', async () => {
      const slug = 'arkiverad-och-publicerad';
      await insertArticle(slug, [
        { lang: 'sv', status: 'archived', title: 'Gammal rubrik' },
        { lang: 'sv', status: 'published', title: 'Ny rubrik' },
        { lang: 'en', status: 'draft', title: 'English draft' },
      ]);
      const sv = main((await t.request().get(`/fragor/servicecenter/${slug}`).expect(200)).text);
      contains(sv, '<h1>Ny rubrik</h1>');
      assert.ok(!sv.includes('Gammal rubrik'));
      const en = main((await t.request().get(`/fragor/servicecenter/${slug}?lang=en`).expect(200)).text);
      contains(en, tx('en', 'faq.article.fallback'), 'an English draft is not shown: the Swedish text is');
      assert.ok(!en.includes('English draft'));
    });
  });

  describe('search (/fragor/sok)', () => {
    it('finds the bygglov articles for "bygglovet", with the count announced', async () => {
      const res = await t.request().get('/fragor/sok').query({ q: 'bygglovet' }).expect(200);
      const m = main(res.text);
      contains(res.text, `<title>${tx('sv', 'faq.search.title_for', { q: bdi('bygglovet') })} – `);
      const found = [...m.matchAll(/<a href="\/fragor\/([a-z]+)\/([a-z0-9-]+)">/g)].map((x) => x[1]);
      assert.ok(found.length >= 3, `several results, got ${found.length}`);
      assert.ok(found.slice(0, 3).every((c) => c === 'bygglov'), `bygglov articles first: ${found.join(', ')}`);
      const count = new RegExp(`<p role="status" class="faq-count">(\\d+) svar på ”${bdi('bygglovet')}”.</p>`).exec(m);
      assert.ok(count, 'the count in a status message');
      assert.equal(Number(count[1]), found.length);
      contains(m, `<input id="f-q" name="q" type="search" value="bygglovet"`);
      contains(m, `${tx('sv', 'faq.search.category')} ${tx('sv', 'faq.categories.bygglov.name')}`);
    });

    it('searches in the reader\'s language (en and ar)', async () => {
      const en = main((await t.request().get('/fragor/sok').query({ q: 'building permit', lang: 'en' }).expect(200)).text);
      assert.match(en, /<p role="status" class="faq-count">\d+ answers? for “\u2068building permit\u2069”.<\/p>/);
      contains(en, 'href="/fragor/bygglov/');
      const title = (await version(ATTEFALL, 'ar'))!.title;
      const word = title.split(/[\s؟?،,.]+/).sort((a, b) => b.length - a.length)[0]!;
      const ar = await t.request().get('/fragor/sok').query({ q: word, lang: 'ar' }).expect(200);
      contains(ar.text, '<html lang="ar" dir="rtl">');
      contains(main(ar.text), `<a href="${url(ATTEFALL)}">${html(title)}</a>`, `a search for ${word}`);
    });

    it('says so when nothing is found, with a link to the contact form', async () => {
      const res = await t.request().get('/fragor/sok').query({ q: 'xyzzyplugh' }).expect(200);
      const m = main(res.text);
      assert.match(m, new RegExp(`<div role="status" class="faq-count">\\s*<p>${tx('sv', 'faq.search.none', { q: bdi('xyzzyplugh') })}</p>`));
      contains(m, '<a href="/kontakt">');
      contains(m, '<a href="/fragor">');
    });

    it('an empty or too long query comes back with the error summary (400)', async () => {
      for (const [q, message] of [
        ['', tx('sv', 'faq.search.errors.empty')],
        ['   ', tx('sv', 'faq.search.errors.empty')],
        ['a'.repeat(201), tx('sv', 'faq.search.errors.too_long', { max: 200 })],
      ] as const) {
        const res = await t.request().get('/fragor/sok').query({ q }).expect(400);
        const m = main(res.text);
        contains(m, 'class="error-summary" role="alert"');
        contains(m, `<li><a href="#f-q">${message}</a></li>`);
        contains(m, `<p class="field-error" id="f-q-error"><span class="visually-hidden">${tx('sv', 'form.error_prefix')}</span> ${message}</p>`);
        contains(m, 'aria-invalid="true"');
        assert.ok(!m.includes('faq-count'), 'no results');
      }
      const en = await t.request().get('/fragor/sok?q=&lang=en').expect(400);
      contains(main(en.text), tx('en', 'faq.search.errors.empty'));
    });

    it('without a query shows the form without errors; odd queries are 400, not 500', async () => {
      const res = await t.request().get('/fragor/sok').expect(200);
      assert.ok(!res.text.includes('error-summary'));
      contains(main(res.text), '<input id="f-q" name="q" type="search" value=""');
      await t.request().get('/fragor/sok?q=a&q=b').expect(400);
      await t.request().get('/fragor/sok?q[x]=1').expect((r) => assert.ok([200, 400].includes(r.status), String(r.status)));
      await t.request().get('/fragor/sok?q=%00').expect((r) => assert.ok([200, 400].includes(r.status), String(r.status)));
      await t.request().get('/fragor/sok').query({ q: "bygg' & | ! :* ( ) \\" }).expect(200);
    });

    it('shows what was typed as text, never as markup', async () => {
      const res = await t.request().get('/fragor/sok').query({ q: '<script>alert(1)</script>"><img src=x onerror=alert(1)>' }).expect(200);
      const m = main(res.text);
      assert.ok(!/<script|<img/i.test(m), 'the query is escaped');
      contains(m, '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    });
  });

  describe('"Did this help?"', () => {
    /** An agent (a browser) that has read the article; its form's token. */
    async function reader(a: { category: string; slug: string }, lang: Lang = 'sv') {
      const agent = t.request();
      const page = await agent.get(`${url(a)}?lang=${lang}`).expect(200);
      return { agent, csrf: csrfFrom(page.text) };
    }

    async function lastFeedback() {
      return t.db('faq_feedback').orderBy('id', 'desc').first();
    }

    it('yes: stored with the language, then back to the article with thanks', async () => {
      const { agent, csrf } = await reader(COST);
      const before = await countOf(t.db, 'faq_feedback');
      const res = await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja', comment: '' }).expect(303);
      assert.equal(res.headers.location, `${url(COST)}?tack=ja#omdome`);
      assert.equal(await countOf(t.db, 'faq_feedback'), before + 1);
      const row = await lastFeedback();
      assert.deepEqual({ article_id: row.article_id, lang: row.lang, helpful: row.helpful, comment: row.comment }, { article_id: await articleId(COST), lang: 'sv', helpful: true, comment: '' });
      const back = await agent.get(`${url(COST)}?tack=ja`).expect(200);
      const m = main(back.text);
      assert.match(m, new RegExp(`<div class="notice" role="status">\\s*<p>${tx('sv', 'faq.feedback.thanks_ja')}</p>`));
      assert.ok(!m.includes('/omdome"'), 'the form is replaced by the thanks');
    });

    it('no, with a comment, in English: the comment trimmed and the language kept', async () => {
      const { agent, csrf } = await reader(ATTEFALL, 'en');
      const res = await agent
        .post(`${url(ATTEFALL)}/omdome`)
        .type('form')
        .send({ _csrf: csrf, helpful: 'nej', comment: '  I could not find the size limit.\r\nPlease add it.  ' })
        .expect(303);
      assert.equal(res.headers.location, `${url(ATTEFALL)}?tack=nej#omdome`);
      const row = await lastFeedback();
      assert.deepEqual(
        { article_id: row.article_id, lang: row.lang, helpful: row.helpful, comment: row.comment },
        { article_id: await articleId(ATTEFALL), lang: 'en', helpful: false, comment: 'I could not find the size limit.\nPlease add it.' },
      );
      const back = main((await agent.get(`${url(ATTEFALL)}?tack=nej`).expect(200)).text);
      contains(back, tx('en', 'faq.feedback.thanks_nej'));
      contains(back, `${tx('en', 'faq.feedback.still_need_help')} <a href="/kontakt?amne&#x3D;bygglov">`);
    });

    it('read in Arabic: stored as ar when translated, as sv when the text shown was Swedish', async () => {
      const a = await reader(ATTEFALL, 'ar');
      await a.agent.post(`${url(ATTEFALL)}/omdome`).type('form').send({ _csrf: a.csrf, helpful: 'ja' }).expect(303);
      assert.equal((await lastFeedback()).lang, 'ar');
      const b = await reader(NO_ARABIC, 'ar');
      await b.agent.post(`${url(NO_ARABIC)}/omdome`).type('form').send({ _csrf: b.csrf, helpful: 'nej' }).expect(303);
      const row = await lastFeedback();
      assert.deepEqual({ article_id: row.article_id, lang: row.lang, helpful: row.helpful }, { article_id: await articleId(NO_ARABIC), lang: 'sv', helpful: false });
    });

    it('a comment of exactly the maximum is taken; control characters are dropped', async () => {
      const { agent, csrf } = await reader(COST);
      const comment = 'å'.repeat(FEEDBACK_COMMENT_MAX);
      await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'nej', comment }).expect(303);
      assert.equal((await lastFeedback()).comment, comment);
      await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'nej', comment: 'a\u0000b\u0007c' }).expect(303);
      assert.equal((await lastFeedback()).comment, 'abc');
    });

    it('without a choice: 400 with the error summary, the comment kept, nothing written', async () => {
      const { agent, csrf } = await reader(COST);
      const before = await countOf(t.db, 'faq_feedback');
      const res = await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, comment: 'Saknar pris för altan' }).expect(400);
      const m = main(res.text);
      const message = tx('sv', 'faq.feedback.errors.helpful');
      contains(m, 'class="error-summary" role="alert"');
      contains(m, `<li><a href="#f-helpful-ja">${message}</a></li>`);
      contains(m, `<p class="field-error" id="f-helpful-error"><span class="visually-hidden">${tx('sv', 'form.error_prefix')}</span> ${message}</p>`);
      contains(m, '>Saknar pris för altan</textarea>');
      contains(m, `<h1>${html((await version(COST, 'sv'))!.title)}</h1>`, 'the article is shown again');
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
      // Not one of the choices either.
      const odd = await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'kanske' }).expect(400);
      contains(main(odd.text), `<li><a href="#f-helpful-ja">${message}</a></li>`);
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
    });

    it('a comment over the maximum: 400 with the error, the choice kept, nothing written', async () => {
      const { agent, csrf } = await reader(COST, 'en');
      const before = await countOf(t.db, 'faq_feedback');
      const res = await agent
        .post(`${url(COST)}/omdome`)
        .type('form')
        .send({ _csrf: csrf, helpful: 'nej', comment: 'x'.repeat(FEEDBACK_COMMENT_MAX + 1) })
        .expect(400);
      const m = main(res.text);
      const message = tx('en', 'errors.too_long', { max: FEEDBACK_COMMENT_MAX });
      contains(m, `<li><a href="#f-comment">${message}</a></li>`);
      contains(m, 'id="f-comment" name="comment" rows="4" maxlength="2000" aria-invalid="true"');
      contains(m, '<input type="radio" id="f-helpful-nej" name="helpful" value="nej" checked>');
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
    });

    it('without or with a wrong CSRF token: 403, nothing written', async () => {
      const { agent, csrf } = await reader(COST);
      const before = await countOf(t.db, 'faq_feedback');
      await agent.post(`${url(COST)}/omdome`).type('form').send({ helpful: 'ja' }).expect(403);
      await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: `${csrf.slice(0, -2)}xx`, helpful: 'ja' }).expect(403);
      // A token from another browser is not this one's.
      await t.request().post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja' }).expect(403);
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
    });

    it('for an unknown or unpublished article: 404, nothing written', async () => {
      const slug = 'bara-ett-utkast-for-omdome';
      await insertArticle(slug, [{ lang: 'sv', status: 'draft', title: 'Utkast' }]);
      const { agent, csrf } = await reader(COST);
      const before = await countOf(t.db, 'faq_feedback');
      await agent.post(`/fragor/servicecenter/${slug}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja' }).expect(404);
      await agent.post('/fragor/bygglov/finns-inte/omdome').type('form').send({ _csrf: csrf, helpful: 'ja' }).expect(404);
      assert.equal(await countOf(t.db, 'faq_feedback'), before);
    });
  });

  describe('Markdown with hostile payloads in a published article', () => {
    it('is served inert: no script, no handler, no javascript: link', async () => {
      const payload = [
        '# <script>alert(1)</script> Rubrik',
        '<script>alert(2)</script>',
        '<img src=x onerror=alert(3)>',
        '[a](javascript:alert(4)) [b](JAVASCRIPT:alert(5)) [c](jav&#x61;script:alert(6)) [d](vbscript:msgbox(7)) [e](data:text/html;base64,PHNjcmlwdD4=)',
        '[f][ref] <javascript:alert(8)>',
        '[g](https://example.se "x\\" onmouseover=\\"alert(9)")',
        '`<script>alert(10)</script>`',
        '```\n<img src=x onerror=alert(11)>\n```',
        '[ref]: javascript:alert(12)',
      ].join('\n\n');
      const slug = 'fientlig-markdown';
      await insertArticle(slug, [{ lang: 'sv', status: 'published', title: '<script>alert(13)</script> Titel', summary: '<img src=x onerror=alert(14)>', body_md: payload }]);
      const res = await t.request().get(`/fragor/servicecenter/${slug}`).expect(200);
      const m = main(res.text);
      assert.ok(!/<script/i.test(m), 'no <script> element');
      assert.ok(!/<img/i.test(m), 'no <img> element');
      assert.ok(!/<[^>]+\son[a-z]+\s*=/i.test(m), 'no event handler attribute');
      assert.ok(!/href\s*=\s*"\s*(javascript|vbscript|data|jav&)/i.test(m), 'no dangerous link');
      assert.ok(!/<[^>]+\stitle=/i.test(m), 'no title attribute from a link title');
      contains(m, '<h1>&lt;script&gt;alert(13)&lt;/script&gt; Titel</h1>');
      contains(m, '<a href="https://example.se" rel="noopener noreferrer">g</a>');
      contains(m, '<code>&lt;script&gt;alert(10)&lt;/script&gt;</code>');
      contains(res.text, '<title>&lt;script&gt;alert(13)&lt;/script&gt; Titel – ');
    });
  });
});

describe('FAQ feedback is rate-limited per client', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ config: { rateLimits: { intakePerWindow: 2, loginPerWindow: 0, windowMs: 60_000 } } });
  });
  after(() => t.close());

  it('answers 429 after the limit, and writes nothing then', async () => {
    const agent = t.request();
    const csrf = csrfFrom((await agent.get(url(COST)).expect(200)).text);
    await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja' }).expect(303);
    await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'nej' }).expect(303);
    const before = await countOf(t.db, 'faq_feedback');
    const res = await agent.post(`${url(COST)}/omdome`).type('form').send({ _csrf: csrf, helpful: 'ja' }).expect(429);
    contains(res.text, tx('sv', 'errors.page.429.title'));
    assert.equal(await countOf(t.db, 'faq_feedback'), before);
    // Reading is not limited.
    await agent.get(url(COST)).expect(200);
  });
});
