import { strict as assert } from 'node:assert';
import { translate } from '../../server/platform/i18n.js';
import { startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { apiUser, countOf } from './helpers.js';

/**
 * The FAQ as agents use it: one article as JSON, the FAQ panel on the case
 * page (searched in the resident's language, working without JavaScript),
 * and the articles a reply links to recorded with the reply, in its
 * transaction.
 */

let seq = 0;
const unique = () => `${Date.now().toString(36)}${++seq}`;

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
const unescape = (s: string) =>
  s.replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');

const ARTICLE = '/api/v1/faq/articles';
/** Published in sv, en and ar. */
const TRANSLATED = { category: 'bygglov', slug: 'vad-kostar-bygglov' };
/** Published in sv and en only. */
const NO_ARABIC = { category: 'bygglov', slug: 'behover-jag-bygglov-for-fasad-fonster-eller-solceller' };

interface PanelResult {
  category: string;
  slug: string;
  href: string;
  title: string;
  note: boolean;
  copy: string;
}

/** The FAQ panel's results as the page renders them. */
function panelResults(page: string): PanelResult[] {
  const panel = /<section aria-labelledby="faq-title"[\s\S]*?<\/section>/.exec(page)?.[0];
  assert.ok(panel, 'the page has the FAQ panel');
  return [...panel.matchAll(/<li class="agent-faq-result" data-category="([^"]+)" data-slug="([^"]+)">([\s\S]*?)<\/li>/g)].map((m) => {
    const body = m[3]!;
    const link = /<h3><a href="([^"]+)" target="_blank" rel="noopener">([^<]+?) <span/.exec(body);
    assert.ok(link, `a result links its article: ${body}`);
    return {
      category: m[1]!,
      slug: m[2]!,
      href: unescape(link[1]!),
      title: unescape(link[2]!),
      note: body.includes('class="agent-faq-note"'),
      copy: unescape((/<div class="agent-faq-copy">([\s\S]*?)<\/div>/.exec(body)?.[1] ?? '').replace(/<br>/g, '\n')),
    };
  });
}

describe('FAQ for agents', function () {
  this.timeout(60_000);
  let t: TestApp;
  let agent: SignedIn;

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Anna Agent');
  });
  after(() => t.close());

  async function publishedTitle(category: string, slug: string, lang: string): Promise<string | undefined> {
    const row = await t
      .db('faq_versions as v')
      .join('faq_articles as a', 'a.id', 'v.article_id')
      .where({ 'a.category': category, 'a.slug': slug, 'v.lang': lang, 'v.status': 'published' })
      .first('v.title');
    return row?.title as string | undefined;
  }

  async function articleId(category: string, slug: string): Promise<number> {
    const row = await t.db('faq_articles').where({ category, slug }).first('id');
    assert.ok(row, `article ${category}/${slug}`);
    return Number(row.id);
  }

  /** An article with only a draft: not published in any language. */
  async function draftArticle(): Promise<{ category: string; slug: string }> {
    const slug = `utkast-${unique()}`;
    const [row] = await t.db('faq_articles').insert({ category: 'bygglov', slug }).returning('id');
    await t.db('faq_versions').insert({ article_id: (row as { id: number }).id, lang: 'sv', version: 1, status: 'draft', title: 'Ett utkast om bygglov', body_md: 'Inte klart.' });
    return { category: 'bygglov', slug };
  }

  async function newCase(language: 'sv' | 'en' | 'ar' = 'sv') {
    return t.services.cases.createCase(
      {
        name: 'Karin Lindqvist',
        email: `karin.${unique()}@example.com`,
        category: 'bygglov',
        subject: `Bygglov ${unique()}`,
        message: 'Vad kostar ett bygglov?',
        language,
      },
      { channel: 'web' },
    );
  }

  describe('GET /api/v1/faq/articles/:category/:slug', () => {
    it('answers a Swedish article with its HTML, its plain text and its absolute address', async () => {
      const res = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}`).expect('Content-Type', /json/).expect(200);
      const a = res.body;
      assert.deepEqual(Object.keys(a).sort(), ['category', 'fallback', 'html', 'lang', 'requestedLang', 'slug', 'summary', 'text', 'title', 'url']);
      assert.deepEqual({ category: a.category, slug: a.slug, lang: a.lang, requestedLang: a.requestedLang, fallback: a.fallback }, { ...TRANSLATED, lang: 'sv', requestedLang: 'sv', fallback: false });
      assert.equal(a.title, await publishedTitle(TRANSLATED.category, TRANSLATED.slug, 'sv'));
      assert.equal(a.url, `${t.config.publicUrl}/fragor/bygglov/vad-kostar-bygglov`);
      assert.match(a.html, /^<(p|h2|ul)>/);
      assert.ok(a.text.length > 50, 'the text has the body');
      assert.doesNotMatch(a.text, /<[a-z/]/, 'the text has no markup');
      // Read in a mail program: the site's own links are absolute.
      assert.ok(a.text.includes(`(${t.config.publicUrl}/kontakt)`), a.text);
      assert.doesNotMatch(a.text, /\(\/[^/]/);
      assert.match(a.html, /href="\/kontakt"/, 'the HTML keeps them as they are');
      assert.doesNotMatch(a.html, /<script|on[a-z]+=/i);
      // ?lang=sv is the same as none.
      const sv = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}?lang=sv`).expect(200);
      assert.deepEqual(sv.body, a);
    });

    it('answers the English version, linked in English', async () => {
      const res = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}`).query({ lang: 'en' }).expect(200);
      assert.equal(res.body.lang, 'en');
      assert.equal(res.body.fallback, false);
      assert.equal(res.body.title, await publishedTitle(TRANSLATED.category, TRANSLATED.slug, 'en'));
      assert.equal(res.body.url, `${t.config.publicUrl}/fragor/bygglov/vad-kostar-bygglov?lang=en`);
    });

    it('answers the Arabic version where there is one, and the Swedish one (fallback) where there is none', async () => {
      const ar = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}?lang=ar`).expect(200);
      assert.deepEqual([ar.body.lang, ar.body.requestedLang, ar.body.fallback], ['ar', 'ar', false]);
      assert.equal(ar.body.title, await publishedTitle(TRANSLATED.category, TRANSLATED.slug, 'ar'));

      assert.equal(await publishedTitle(NO_ARABIC.category, NO_ARABIC.slug, 'ar'), undefined, 'the article has no Arabic version');
      const res = await t.request().get(`${ARTICLE}/${NO_ARABIC.category}/${NO_ARABIC.slug}?lang=ar`).expect(200);
      assert.deepEqual([res.body.lang, res.body.requestedLang, res.body.fallback], ['sv', 'ar', true]);
      assert.equal(res.body.title, await publishedTitle(NO_ARABIC.category, NO_ARABIC.slug, 'sv'));
      assert.equal(res.body.url, `${t.config.publicUrl}/fragor/${NO_ARABIC.category}/${NO_ARABIC.slug}?lang=ar`, 'the page opens in Arabic around the Swedish text');
    });

    it('404 for an unknown or unpublished article', async () => {
      const unknown = await t.request().get(`${ARTICLE}/bygglov/finns-inte-${unique()}`).expect('Content-Type', /json/).expect(404);
      assert.equal(unknown.body.error, 'not_found');
      const draft = await draftArticle();
      await t.request().get(`${ARTICLE}/${draft.category}/${draft.slug}`).expect(404);
      await t.request().get(`${ARTICLE}/${draft.category}/${draft.slug}?lang=en`).expect(404);
      // Another category's slug is not found under this one.
      await t.request().get(`${ARTICLE}/forskoleplats/${TRANSLATED.slug}`).expect(404);
    });

    it('400 with a field error for a bad language, category or slug', async () => {
      const lang = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}?lang=de`).expect(400);
      assert.deepEqual(Object.keys(lang.body.fields), ['lang']);
      const twice = await t.request().get(`${ARTICLE}/${TRANSLATED.category}/${TRANSLATED.slug}?lang=sv&lang=en`).expect(400);
      assert.deepEqual(Object.keys(twice.body.fields), ['lang']);
      const category = await t.request().get(`${ARTICLE}/ovrigt/${TRANSLATED.slug}`).expect(400);
      assert.deepEqual(Object.keys(category.body.fields), ['category']);

      const hostile = [
        '..%2F..%2Fetc%2Fpasswd',
        '%2E%2E',
        "x'%20OR%20'1'%3D'1",
        '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
        'Vad-Kostar-Bygglov',
        '-borjar-med-streck',
        'a'.repeat(200),
        '%00',
        'bygg%C3%A5v',
      ];
      for (const slug of hostile) {
        const res = await t.request().get(`${ARTICLE}/bygglov/${slug}`).expect('Content-Type', /json/);
        assert.equal(res.status, 400, `slug ${slug}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.deepEqual(Object.keys(res.body.fields), ['slug'], slug);
        assert.equal(res.body.fields.slug, translate('en', 'errors.slug_invalid'));
        assert.doesNotMatch(JSON.stringify(res.body), /<script/);
      }
    });

    it('is in the OpenAPI document', async () => {
      const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
      const get = doc.paths['/api/v1/faq/articles/{category}/{slug}']?.get;
      assert.ok(get, 'the path is documented');
      assert.deepEqual(get.parameters.map((p: { name: string }) => p.name), ['category', 'slug', 'lang']);
      assert.deepEqual(get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/FaqArticle' });
      assert.deepEqual(Object.keys(doc.components.schemas.FaqArticle.properties).sort(), ['category', 'fallback', 'html', 'lang', 'requestedLang', 'slug', 'summary', 'text', 'title', 'url']);
      assert.deepEqual(Object.keys(get.responses).sort(), ['200', '400', '404']);
    });
  });

  describe('the FAQ panel on the case page', () => {
    it('is on the page, empty until the agent searches', async () => {
      const c = await newCase('sv');
      const page = await agent.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.match(page.text, /<form method="get" action="\/agent\/cases\/SC-[0-9-]+#faq"/);
      assert.ok(page.text.includes(`<label for="f-faq">${html(translate('sv', 'agent_faq.search_label'))}</label>`));
      assert.deepEqual(panelResults(page.text), []);
    });

    it('?faq= shows up to 5 articles in a Swedish case, each with its text and link to copy', async () => {
      const c = await newCase('sv');
      const page = await agent.agent.get(`/agent/cases/${c.reference}`).query({ faq: 'bygglov' }).expect(200);
      const results = panelResults(page.text);
      assert.ok(results.length >= 3 && results.length <= 5, `${results.length} results`);
      for (const r of results) {
        assert.equal(r.title, await publishedTitle(r.category, r.slug, 'sv'), `${r.category}/${r.slug} in Swedish`);
        assert.equal(r.href, `/fragor/${r.category}/${r.slug}`);
        assert.equal(r.note, false);
        assert.ok(r.copy.startsWith(`${r.title}\n\n`), 'the text to copy starts with the title');
        assert.ok(r.copy.endsWith(`\n\nLäs mer: ${t.config.publicUrl}/fragor/${r.category}/${r.slug}`), r.copy.slice(-120));
      }
      assert.ok(page.text.includes(`role="status">${html(translate('sv', 'agent_faq.count', { n: results.length }))}</p>`), 'the count is said');
      assert.match(page.text, /<input id="f-faq" name="faq" type="search" value="bygglov"/);
    });

    it('an English case gets the English articles, with "Read more"', async () => {
      const c = await newCase('en');
      const page = await agent.agent.get(`/agent/cases/${c.reference}?faq=bygglov`).expect(200);
      const results = panelResults(page.text);
      assert.ok(results.length >= 3, `${results.length} results`);
      for (const r of results) {
        const en = await publishedTitle(r.category, r.slug, 'en');
        assert.ok(en, `${r.category}/${r.slug} has an English version`);
        assert.equal(r.title, en);
        assert.notEqual(r.title, await publishedTitle(r.category, r.slug, 'sv'));
        assert.equal(r.href, `/fragor/${r.category}/${r.slug}?lang=en`);
        assert.ok(r.copy.endsWith(`\n\nRead more: ${t.config.publicUrl}/fragor/${r.category}/${r.slug}?lang=en`), r.copy.slice(-120));
      }
      assert.match(page.text, /data-lang="en"/);
      // The page itself stays in the agent's language.
      assert.ok(page.text.includes(html(translate('sv', 'agent_faq.hint', { language: translate('sv', 'agent_faq.language.en') }))));
    });

    it('an Arabic case gets Arabic articles, and Swedish ones marked as only in Swedish', async () => {
      const c = await newCase('ar');
      const page = await agent.agent.get(`/agent/cases/${c.reference}?faq=bygglov`).expect(200);
      const results = panelResults(page.text);
      assert.equal(results.length, 5);
      for (const r of results) {
        const ar = await publishedTitle(r.category, r.slug, 'ar');
        assert.equal(r.title, ar ?? (await publishedTitle(r.category, r.slug, 'sv')), `${r.category}/${r.slug}`);
        assert.equal(r.note, ar === undefined, `${r.category}/${r.slug} says whether it is only in Swedish`);
        assert.ok(r.copy.includes(`${translate('ar', 'agent_faq.read_more', { url: `${t.config.publicUrl}/fragor/${r.category}/${r.slug}?lang=ar` })}`));
      }
      assert.ok(results.some((r) => r.note) && results.some((r) => !r.note), 'both kinds are listed');
      assert.ok(page.text.includes(html(translate('sv', 'agent_faq.only_swedish'))));
    });

    it('a search that finds nothing says so; one too long is refused with a field error', async () => {
      const c = await newCase('sv');
      const none = await agent.agent.get(`/agent/cases/${c.reference}?faq=${encodeURIComponent('xqzvw!!')}`).expect(200);
      assert.deepEqual(panelResults(none.text), []);
      assert.ok(none.text.includes(`role="status">${html(translate('sv', 'agent_faq.none'))}</p>`));

      const long = await agent.agent.get(`/agent/cases/${c.reference}`).query({ faq: 'bygglov '.repeat(40) }).expect(400);
      assert.match(long.text, /<p class="field-error" id="f-faq-error">/);
      assert.match(long.text, /aria-describedby="f-faq-hint f-faq-error" aria-invalid="true"/);
      assert.deepEqual(panelResults(long.text), []);
    });

    it('someone not signed in does not reach the results', async () => {
      const c = await newCase('sv');
      const res = await t.request().get(`/agent/cases/${c.reference}?faq=bygglov`).expect(303);
      assert.match(String(res.headers.location), /^\/login\?next=/);
      assert.doesNotMatch(res.text, /agent-faq/);
      const title = (await publishedTitle(TRANSLATED.category, TRANSLATED.slug, 'sv'))!;
      assert.ok(!res.text.includes(html(title)));
    });
  });

  describe('recording the articles a reply links to', () => {
    const uses = (caseId: number) => t.db('faq_reply_uses').where({ case_id: caseId }).orderBy('article_id');
    const replies = (caseId: number) => t.db('messages').where({ case_id: caseId, kind: 'reply' }).orderBy('id');

    function bodyWithTwoLinks(): string {
      return [
        'Hej Karin!',
        '',
        `Läs mer: ${t.config.publicUrl}/fragor/bygglov/vad-kostar-bygglov`,
        '',
        'Och när du får börja bygga: /fragor/bygglov/nar-far-jag-borja-bygga.',
        `Samma igen, på engelska: ${t.config.publicUrl}/fragor/bygglov/vad-kostar-bygglov?lang=en`,
      ].join('\n');
    }

    it('a reply through the case page records each linked article once, with the reply, its case and its author', async () => {
      const c = await newCase('sv');
      await agent.agent
        .post(`/agent/cases/${c.reference}/reply`)
        .type('form')
        .send({ _csrf: agent.csrf, body: bodyWithTwoLinks(), status: 'waiting' })
        .expect(303);
      const [reply] = await replies(c.id);
      assert.ok(reply, 'the reply is written');
      const rows = await uses(c.id);
      const expected = [await articleId('bygglov', 'vad-kostar-bygglov'), await articleId('bygglov', 'nar-far-jag-borja-bygga')].sort((a, b) => a - b);
      assert.deepEqual(rows.map((r) => Number(r.article_id)), expected);
      for (const r of rows) {
        assert.equal(Number(r.message_id), Number(reply.id));
        assert.equal(Number(r.case_id), c.id);
        assert.equal(r.user_id, agent.user.id);
        // now() is the transaction's start: the same instant as the reply's message.
        assert.equal(new Date(r.created_at).getTime(), new Date(reply.created_at).getTime(), 'written in the reply’s transaction');
      }
    });

    it('a reply through the JSON API records the same way, per reply', async () => {
      const c = await newCase('en');
      const api = await apiUser(t, 'agent');
      const first = await t.request().post(`/api/v1/cases/${c.reference}/replies`).set(api.auth).send({ body: bodyWithTwoLinks() }).expect(201);
      const replyIds = first.body.messages.filter((m: { kind: string }) => m.kind === 'reply').map((m: { id: number }) => Number(m.id));
      assert.equal(replyIds.length, 1);
      let rows = await uses(c.id);
      assert.equal(rows.length, 2);
      assert.ok(rows.every((r) => Number(r.message_id) === replyIds[0] && r.user_id === api.user.id));

      // A second reply with one of the links is another use.
      await t.request().post(`/api/v1/cases/${c.reference}/replies`).set(api.auth).send({ body: 'Se även /fragor/bygglov/nar-far-jag-borja-bygga' }).expect(201);
      rows = await uses(c.id);
      assert.equal(rows.length, 3);
      const second = (await replies(c.id))[1]!;
      assert.deepEqual(
        rows.filter((r) => Number(r.message_id) === Number(second.id)).map((r) => Number(r.article_id)),
        [await articleId('bygglov', 'nar-far-jag-borja-bygga')],
      );
    });

    it('links to unknown, unpublished or foreign articles record nothing, and the reply is still sent', async () => {
      const c = await newCase('sv');
      const draft = await draftArticle();
      const body = [
        `${t.config.publicUrl}/fragor/bygglov/finns-inte-${unique()}`,
        `/fragor/${draft.category}/${draft.slug}`,
        'https://evil.example/fragor/bygglov/vad-kostar-bygglov',
        `${t.config.publicUrl}/fragor/ovrigt/vad-kostar-bygglov`,
      ].join('\n');
      await agent.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: agent.csrf, body }).expect(303);
      assert.equal((await replies(c.id)).length, 1);
      assert.equal((await uses(c.id)).length, 0);
    });

    it('a refused reply records nothing', async () => {
      const c = await newCase('sv');
      // Invalid input: refused before anything is written.
      const page = await agent.agent
        .post(`/agent/cases/${c.reference}/reply`)
        .type('form')
        .send({ _csrf: agent.csrf, body: bodyWithTwoLinks(), status: 'closed' })
        .expect(400);
      assert.match(page.text, /id="f-reply-status-error"/);
      const api = await apiUser(t, 'agent');
      await t.request().post(`/api/v1/cases/${c.reference}/replies`).set(api.auth).send({ body: bodyWithTwoLinks(), status: 'nonsense' }).expect(400);
      assert.equal((await replies(c.id)).length, 0);
      assert.equal((await uses(c.id)).length, 0);
    });

    it('a reply that fails after its links were recorded leaves none of them (one transaction)', async () => {
      const c = await newCase('sv');
      const before = await countOf(t.db, 'faq_reply_uses');
      // The reply's mail is queued last, after the uses: refusing it fails the whole reply.
      await t.db.raw(`CREATE FUNCTION faq_agent_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await t.db.raw(`CREATE TRIGGER faq_agent_test_refuse BEFORE INSERT ON mail_outbox FOR EACH ROW WHEN (NEW.case_id = ${c.id}) EXECUTE FUNCTION faq_agent_test_refuse()`);
      try {
        const api = await apiUser(t, 'agent');
        await t.request().post(`/api/v1/cases/${c.reference}/replies`).set(api.auth).send({ body: bodyWithTwoLinks() }).expect(500);
        await agent.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: agent.csrf, body: bodyWithTwoLinks() }).expect(500);
      } finally {
        await t.db.raw('DROP TRIGGER faq_agent_test_refuse ON mail_outbox');
        await t.db.raw('DROP FUNCTION faq_agent_test_refuse()');
      }
      assert.equal((await replies(c.id)).length, 0, 'no reply was written');
      assert.equal((await uses(c.id)).length, 0);
      assert.equal(await countOf(t.db, 'faq_reply_uses'), before);

      // The same reply goes through once the mail can be queued.
      await agent.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: agent.csrf, body: bodyWithTwoLinks() }).expect(303);
      assert.equal((await uses(c.id)).length, 2);
    });
  });
});
