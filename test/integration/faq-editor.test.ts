import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { routeTable } from '../../server/app.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createFaqEditor, isDue, localDate, monthsBefore } from '../../server/faq/editor.js';
import { createFaqEditorStore } from '../../server/faq/editor-store.js';
import { renderMarkdown } from '../../server/faq/markdown.js';
import { formatPercent } from '../../server/faq/stats.js';
import { NotFoundError } from '../../server/platform/errors.js';
import { translate } from '../../server/platform/i18n.js';
import { startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { countOf, createCase } from './helpers.js';

const sv = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
/** Handlebars escapes these in text; compare page text with the same escaping. */
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');

interface VersionRow {
  id: number;
  article_id: number;
  lang: string;
  version: number;
  status: string;
  title: string;
  body_md: string;
  created_by: number | null;
}

/**
 * Every opening tag in the page: none may carry an event handler, a
 * javascript: address, or be a script that is not one of our own files.
 */
function assertNoLiveScript(page: string, where: string) {
  for (const m of page.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>/g)) {
    const [tag, name, attrs = ''] = m as unknown as [string, string, string | undefined];
    assert.doesNotMatch(attrs, /\son[a-z]+\s*=/i, `${where}: an event handler attribute in ${tag}`);
    assert.doesNotMatch(attrs, /(href|src|action|formaction)\s*=\s*["']?\s*(javascript|vbscript|data):/i, `${where}: a script address in ${tag}`);
    if (name.toLowerCase() === 'script') assert.match(attrs, /^\s+src="\/static\/js\/[a-z-]+\.js"( defer)?$/, `${where}: an inline or foreign script: ${tag}`);
    assert.notEqual(name.toLowerCase(), 'img', `${where}: an image in ${tag}`);
    assert.notEqual(name.toLowerCase(), 'iframe', `${where}: an iframe in ${tag}`);
  }
}

describe('FAQ editor (/redaktor) and the FAQ statistics', function () {
  this.timeout(120_000);
  let t: TestApp;
  let agent: SignedIn;
  let editor: SignedIn;
  let manager: SignedIn;
  let admin: SignedIn;
  let seeded: { id: number; category: string; slug: string };
  let seededVersion: number;
  let departmentId: number;
  let n = 0;
  const uniqueSlug = (what: string) => `${what}-${Date.now().toString(36)}-${++n}`;

  before(async () => {
    t = await startTestApp();
    [agent, editor, manager, admin] = [await t.loginAs('agent'), await t.loginAs('editor', 'Erik Redaktör'), await t.loginAs('manager', 'Maria Chef'), await t.loginAs('admin')];
    seeded = await t.db('faq_articles').where({ category: 'bygglov' }).orderBy('id').first('id', 'category', 'slug');
    seededVersion = (await t.db('faq_versions').where({ article_id: seeded.id, lang: 'sv', status: 'published' }).first('id')).id;
    departmentId = (await t.db('departments').orderBy('id').first('id')).id;
  });
  after(() => t?.close());

  const versionsOf = (articleId: number, lang = 'sv') => t.db<VersionRow>('faq_versions').where({ article_id: articleId, lang }).orderBy('version');
  const published = async (articleId: number, lang = 'sv') => (await versionsOf(articleId, lang)).filter((v) => v.status === 'published');
  const tableCounts = async () => ({ articles: await countOf(t.db, 'faq_articles'), versions: await countOf(t.db, 'faq_versions') });

  /** Creates an article through the form; answers its id. */
  async function createArticle(me: SignedIn, fields: Record<string, string> = {}): Promise<{ id: number; slug: string }> {
    const slug = fields.slug ?? uniqueSlug('test');
    const res = await me.agent
      .post('/redaktor/artiklar')
      .type('form')
      .send({ _csrf: me.csrf, category: 'bygglov', slug, department_id: String(departmentId), title: 'En testfråga', summary: 'Kort om saken.', keywords: 'test', body_md: 'Första stycket.', ...fields });
    assert.equal(res.status, 303, res.text);
    const m = /^\/redaktor\/artiklar\/(\d+)\?sprak=sv&klart=created$/.exec(res.headers.location ?? '');
    assert.ok(m, `redirected to the new article, not ${res.headers.location}`);
    return { id: Number(m[1]), slug };
  }

  /** Sends one language's form with an action; answers the response. */
  function sendText(me: SignedIn, id: number, lang: string, action: string, fields: Record<string, string>) {
    return me.agent
      .post(`/redaktor/artiklar/${id}/text/${lang}`)
      .type('form')
      .send({ _csrf: me.csrf, action, summary: '', keywords: '', body_md: '', ...fields });
  }

  /** The version the article page's form is based on (its hidden `base`). */
  async function baseOf(me: SignedIn, id: number, lang = 'sv'): Promise<string> {
    const page = await me.agent.get(`/redaktor/artiklar/${id}?sprak=${lang}`).expect(200);
    const m = /name="base" value="(\d*)"/.exec(page.text);
    assert.ok(m, 'the form has a base field');
    return m[1]!;
  }

  describe('who may use it', () => {
    /** Every /redaktor route and the statistics page, with real ids in the path. */
    const concrete = () =>
      routeTable(t.services)
        .filter((r) => r.path.startsWith('/redaktor') || r.path === '/agent/faq-statistik')
        .map((r) => ({
          ...r,
          url: r.path.replace(':id', String(seeded.id)).replace(':lang', 'sv').replace(':versionId', String(seededVersion)),
        }));

    it('has the editor routes in the route table, each needing the editor role (statistics: manager)', () => {
      const routes = concrete();
      assert.ok(routes.length >= 12, `found ${routes.length} routes`);
      for (const r of routes) assert.equal(r.access, r.path === '/agent/faq-statistik' ? 'manager' : 'editor', `${r.method} ${r.path}`);
    });

    it('an agent gets 403 on every /redaktor route and the statistics, GET and POST, and nothing is written', async () => {
      const before = await tableCounts();
      const reviewed = (await t.db('faq_articles').where({ id: seeded.id }).first('reviewed_at', 'updated_at')) as unknown;
      for (const r of concrete()) {
        const req = agent.agent[r.method](r.url);
        const res = r.method === 'get' ? await req : await req.type('form').send({ _csrf: agent.csrf, action: 'publish', title: 'Hackad', slug: 'hackad', category: 'bygglov' });
        assert.equal(res.status, 403, `agent: ${r.method.toUpperCase()} ${r.url} answered ${res.status}`);
      }
      assert.deepEqual(await tableCounts(), before);
      assert.deepEqual(await t.db('faq_articles').where({ id: seeded.id }).first('reviewed_at', 'updated_at'), reviewed);
    });

    it('an anonymous visitor is sent to the login page (GET) or refused with 401 (POST)', async () => {
      for (const r of concrete()) {
        const res = await t.request()[r.method](r.url).type('form').send({});
        if (r.method === 'get') {
          assert.equal(res.status, 303, `GET ${r.url}`);
          assert.equal(res.headers.location, `/login?next=${encodeURIComponent(r.url)}`);
        } else {
          assert.equal(res.status, 401, `${r.method.toUpperCase()} ${r.url}`);
        }
      }
    });

    it('an editor, a manager and an admin may open every editor page', async () => {
      const gets = concrete().filter((r) => r.method === 'get' && r.path.startsWith('/redaktor'));
      for (const me of [editor, manager, admin]) {
        for (const r of gets) {
          const res = await me.agent.get(r.url);
          assert.equal(res.status, 200, `${me.user.role}: GET ${r.url} answered ${res.status}`);
        }
        const home = await me.agent.get('/redaktor').expect(200);
        assert.match(home.text, /<a href="\/redaktor" aria-current="page">/, 'the staff nav links the editor pages');
      }
    });

    it('a manager and an admin may also write: create, review, publish', async () => {
      const byManager = await createArticle(manager);
      await manager.agent.post(`/redaktor/artiklar/${byManager.id}/granskad`).type('form').send({ _csrf: manager.csrf }).expect(303);
      const base = await baseOf(admin, byManager.id);
      await sendText(admin, byManager.id, 'sv', 'publish', { title: 'Publicerad av admin', base }).expect(303);
      const row = await t.db('faq_articles').where({ id: byManager.id }).first();
      assert.equal(row.updated_by, admin.user.id);
      assert.equal((await published(byManager.id))[0]?.title, 'Publicerad av admin');
    });

    it('the agents page does not link the editor pages or the statistics for an agent', async () => {
      const page = await agent.agent.get('/agent').expect(200);
      assert.doesNotMatch(page.text, /href="\/redaktor"/);
      assert.doesNotMatch(page.text, /href="\/agent\/faq-statistik"/);
      const forEditor = await editor.agent.get('/agent').expect(200);
      assert.match(forEditor.text, /href="\/redaktor"/);
      assert.doesNotMatch(forEditor.text, /href="\/agent\/faq-statistik"/);
      const forManager = await manager.agent.get('/agent').expect(200);
      assert.match(forManager.text, /href="\/agent\/faq-statistik"/);
    });

    it('a manager and an admin see the statistics; an editor and an agent get 403', async () => {
      await manager.agent.get('/agent/faq-statistik').expect(200);
      await admin.agent.get('/agent/faq-statistik').expect(200);
      await editor.agent.get('/agent/faq-statistik').expect(403);
      await agent.agent.get('/agent/faq-statistik').expect(403);
    });

    it('a form without its CSRF token is refused (403) and writes nothing', async () => {
      const before = await tableCounts();
      const res = await editor.agent
        .post('/redaktor/artiklar')
        .type('form')
        .send({ category: 'bygglov', slug: uniqueSlug('csrf'), title: 'Utan token', body_md: 'x' });
      assert.equal(res.status, 403);
      const wrong = await editor.agent.post(`/redaktor/artiklar/${seeded.id}/text/sv`).type('form').send({ _csrf: 'forged', action: 'publish', title: 'Förfalskad' });
      assert.equal(wrong.status, 403);
      const unpublish = await editor.agent.post(`/redaktor/artiklar/${seeded.id}/avpublicera/sv`).type('form').send({});
      assert.equal(unpublish.status, 403);
      assert.deepEqual(await tableCounts(), before);
      assert.equal((await published(seeded.id)).length, 1);
    });

    it('an id that is not a number, or no article, is a 404', async () => {
      for (const url of ['/redaktor/artiklar/abc', '/redaktor/artiklar/1.5', '/redaktor/artiklar/-1', '/redaktor/artiklar/0', '/redaktor/artiklar/99999999', '/redaktor/artiklar/99999999999999999999', '/redaktor/artiklar/99999999/versioner', `/redaktor/artiklar/${seeded.id}/versioner/abc`, `/redaktor/artiklar/${seeded.id}/versioner/99999999`, `/redaktor/artiklar/${seeded.id}/avpublicera/de`]) {
        const res = await editor.agent.get(url);
        assert.equal(res.status, 404, `GET ${url} answered ${res.status}`);
      }
      // A version of another article is not this article's.
      const other = await t.db('faq_versions').whereNot({ article_id: seeded.id }).first('id');
      await editor.agent.get(`/redaktor/artiklar/${seeded.id}/versioner/${other.id}`).expect(404);
      await editor.agent.post(`/redaktor/artiklar/${seeded.id}/versioner/${other.id}/aterstall`).type('form').send({ _csrf: editor.csrf }).expect(404);
      await sendText(editor, seeded.id, 'de', 'draft', { title: 'Tyska' }).expect(404);
      await sendText(editor, 99999999, 'sv', 'draft', { title: 'Ingen artikel' }).expect(404);
      // Also when the form has errors or is only previewed: there is no article to show it on.
      for (const [action, fields] of [['preview', { title: 'Ingen artikel' }], ['publish', { title: '' }], ['delete', { title: 'Ingen artikel' }]] as const) {
        await sendText(editor, 99999999, 'sv', action, fields).expect(404);
      }
      for (const department_id of ['', 'x', '99999']) {
        await editor.agent.post('/redaktor/artiklar/99999999/installningar').type('form').send({ _csrf: editor.csrf, department_id }).expect(404);
      }
      await editor.agent.post('/redaktor/artiklar/abc/granskad').type('form').send({ _csrf: editor.csrf }).expect(404);
    });
  });

  describe('writing, publishing and versions', () => {
    const WORD = 'kvastfeningsbod';
    const NEW_WORD = 'snigelhotellet';
    let article: { id: number; slug: string };

    it('a new article is a Swedish draft: not on the public pages and not found by search', async () => {
      article = await createArticle(editor, { title: `Får jag bygga en ${WORD}?`, keywords: WORD, body_md: `En ${WORD} är ett litet förråd.` });
      const row = await t.db('faq_articles').where({ id: article.id }).first();
      assert.equal(row.category, 'bygglov');
      assert.equal(row.department_id, departmentId);
      assert.equal(row.updated_by, editor.user.id);
      const versions = await versionsOf(article.id);
      assert.deepEqual(
        versions.map((v) => [v.version, v.status, v.created_by]),
        [[1, 'draft', editor.user.id]],
      );
      await assert.rejects(t.services.faq.getArticle('bygglov', article.slug), NotFoundError);
      assert.ok(!(await t.services.faq.search(WORD)).some((r) => r.slug === article.slug), 'a draft is not searchable');
      await t.request().get(`/fragor/bygglov/${article.slug}`).expect(404);

      const page = await editor.agent.get(`/redaktor/artiklar/${article.id}?sprak=sv&klart=created`).expect(200);
      assert.ok(page.text.includes(html(sv('editor.done.created'))));
      assert.ok(page.text.includes(html(`${sv('editor.lang.sv')}`)));
      const list = await editor.agent.get('/redaktor').expect(200);
      const rowHtml = list.text.split('<tr>').find((r) => r.includes(`/redaktor/artiklar/${article.id}"`));
      assert.ok(rowHtml, 'the new article is in the list');
      assert.ok(rowHtml.includes(`${sv('editor.lang.sv')}: ${html(sv('editor.state.draft'))}`), rowHtml);
      assert.ok(rowHtml.includes(`${sv('editor.lang.en')}: ${sv('editor.state.missing')}`), rowHtml);
    });

    it('saving the draft again rewrites it in place; a draft from a stale form becomes a new version', async () => {
      const base = await baseOf(editor, article.id);
      assert.equal(base, String((await versionsOf(article.id))[0]!.id));
      await sendText(editor, article.id, 'sv', 'draft', { title: `Får jag bygga en ${WORD}?`, keywords: WORD, body_md: `En ${WORD} är ett litet förråd i trädgården.`, base }).expect(303);
      let versions = await versionsOf(article.id);
      assert.equal(versions.length, 1, 'the draft was updated, not copied');
      assert.match(versions[0]!.body_md, /trädgården/);
      // A colleague saved a newer draft meanwhile: a form based on an older one does not overwrite it.
      await sendText(manager, article.id, 'sv', 'draft', { title: 'Kollegans utkast', base: '' }).expect(303);
      versions = await versionsOf(article.id);
      assert.deepEqual(versions.map((v) => [v.version, v.status, v.title]), [
        [1, 'draft', `Får jag bygga en ${WORD}?`],
        [2, 'draft', 'Kollegans utkast'],
      ]);
      await sendText(editor, article.id, 'sv', 'draft', { title: `Får jag bygga en ${WORD}?`, keywords: WORD, body_md: `En ${WORD} är ett litet förråd.`, base }).expect(303);
      versions = await versionsOf(article.id);
      assert.equal(versions.length, 3, 'the stale form made a new version');
      assert.equal(versions[1]!.title, 'Kollegans utkast', "the colleague's draft is untouched");
      assert.equal((await t.db('faq_articles').where({ id: article.id }).first()).updated_by, editor.user.id);
    });

    it('publish makes the text public and searchable at once', async () => {
      const base = await baseOf(editor, article.id);
      const res = await sendText(editor, article.id, 'sv', 'publish', { title: `Får jag bygga en ${WORD}?`, summary: 'Om små förråd.', keywords: WORD, body_md: `En ${WORD} är ett litet förråd.`, base });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, `/redaktor/artiklar/${article.id}?sprak=sv&klart=published`);
      const pub = await published(article.id);
      assert.equal(pub.length, 1);
      assert.equal(pub[0]!.version, 3);
      const a = await t.services.faq.getArticle('bygglov', article.slug);
      assert.equal(a.title, `Får jag bygga en ${WORD}?`);
      assert.equal(a.version, 3);
      const hits = await t.services.faq.search(WORD);
      assert.equal(hits[0]?.slug, article.slug, `search finds the published article first: ${JSON.stringify(hits)}`);
      const pageRes = await t.request().get(`/fragor/bygglov/${article.slug}`).expect(200);
      assert.ok(pageRes.text.includes(WORD));
    });

    it('edit and publish again: the old version is archived, exactly one is published, search follows', async () => {
      const base = await baseOf(editor, article.id);
      assert.equal(base, '', 'the form edits the published text: a save makes a new version');
      await sendText(editor, article.id, 'sv', 'draft', { title: `Får jag bygga ett ${NEW_WORD}?`, keywords: NEW_WORD, body_md: `Ett ${NEW_WORD} är ett litet förråd.`, base }).expect(303);
      // The draft waits: the public text is still the old one.
      assert.equal((await t.services.faq.getArticle('bygglov', article.slug)).title, `Får jag bygga en ${WORD}?`);
      const list = await editor.agent.get('/redaktor').expect(200);
      const rowHtml = list.text.split('<tr>').find((r) => r.includes(`/redaktor/artiklar/${article.id}"`))!;
      assert.ok(rowHtml.includes(`${sv('editor.lang.sv')}: ${html(sv('editor.state.published_draft'))}`), rowHtml);

      const draftBase = await baseOf(editor, article.id);
      await sendText(editor, article.id, 'sv', 'publish', { title: `Får jag bygga ett ${NEW_WORD}?`, keywords: NEW_WORD, body_md: `Ett ${NEW_WORD} är ett litet förråd.`, base: draftBase }).expect(303);
      const versions = await versionsOf(article.id);
      assert.deepEqual(
        versions.map((v) => [v.version, v.status]),
        [
          [1, 'draft'],
          [2, 'draft'],
          [3, 'archived'],
          [4, 'published'],
        ],
      );
      assert.equal((await t.services.faq.getArticle('bygglov', article.slug)).title, `Får jag bygga ett ${NEW_WORD}?`);
      assert.equal((await t.services.faq.search(NEW_WORD))[0]?.slug, article.slug);
      assert.ok(!(await t.services.faq.search(WORD)).some((r) => r.slug === article.slug), 'the archived text is no longer searched');
    });

    it('English and Arabic are written and published on their own; Arabic fields are right to left', async () => {
      const ar = await editor.agent.get(`/redaktor/artiklar/${article.id}?sprak=ar`).expect(200);
      assert.match(ar.text, /<textarea id="f-body_md" name="body_md"[^>]* lang="ar" dir="rtl"/);
      assert.match(ar.text, /<a href="\/redaktor\/artiklar\/\d+\?sprak=ar" aria-current="page">/);
      await sendText(editor, article.id, 'en', 'publish', { title: 'May I build a tool shed?', body_md: 'A small shed.', base: '' }).expect(303);
      assert.equal((await t.services.faq.getArticle('bygglov', article.slug, 'en')).title, 'May I build a tool shed?');
      assert.equal((await published(article.id, 'sv')).length, 1, 'Swedish is untouched');
      // A 100,000-character Arabic body is more than 200 kB as a form: the editor's form still takes it.
      const body = 'ب'.repeat(100_000);
      await sendText(editor, article.id, 'ar', 'draft', { title: 'هل أحتاج إلى ترخيص؟', body_md: body, base: '' }).expect(303);
      const [arDraft] = await versionsOf(article.id, 'ar');
      assert.equal(arDraft?.body_md.length, 100_000);
    });

    it('the versions page lists every version; an old one is shown rendered and can be restored as a draft', async () => {
      const page = await editor.agent.get(`/redaktor/artiklar/${article.id}/versioner`).expect(200);
      for (const status of ['draft', 'published', 'archived']) assert.ok(page.text.includes(sv(`editor.status.${status}`)), status);
      assert.ok(page.text.includes('Erik Redaktör'), 'who saved it');
      const archived = (await versionsOf(article.id)).find((v) => v.status === 'archived')!;
      const one = await editor.agent.get(`/redaktor/artiklar/${article.id}/versioner/${archived.id}`).expect(200);
      assert.ok(one.text.includes(`<p>En ${WORD} är ett litet förråd.</p>`), 'the Markdown is rendered');

      const before = (await versionsOf(article.id)).length;
      const res = await editor.agent.post(`/redaktor/artiklar/${article.id}/versioner/${archived.id}/aterstall`).type('form').send({ _csrf: editor.csrf });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, `/redaktor/artiklar/${article.id}?sprak=sv&klart=restored`);
      const versions = await versionsOf(article.id);
      assert.equal(versions.length, before + 1);
      const restored = versions.at(-1)!;
      assert.deepEqual([restored.status, restored.title, restored.body_md], ['draft', archived.title, archived.body_md]);
      assert.equal((await published(article.id)).length, 1);
      assert.equal((await t.services.faq.getArticle('bygglov', article.slug)).title, `Får jag bygga ett ${NEW_WORD}?`, 'restoring does not publish');
      // The editor's form now holds the restored draft.
      const form = await editor.agent.get(`/redaktor/artiklar/${article.id}?sprak=sv`).expect(200);
      assert.ok(form.text.includes(`name="base" value="${restored.id}"`));
      assert.ok(form.text.includes(`>\n${html(restored.body_md)}</textarea>`), 'the draft is in the textarea as stored');
      assert.ok(form.text.includes(html(archived.title)));
    });

    it('unpublishing asks first, then archives the language: the article leaves the public pages', async () => {
      const confirm = await editor.agent.get(`/redaktor/artiklar/${article.id}/avpublicera/sv`).expect(200);
      assert.ok(confirm.text.includes(html(sv('editor.unpublish.confirm', { lang: sv('editor.lang_word.sv') }))));
      assert.equal((await published(article.id)).length, 1, 'asking changes nothing');
      await manager.agent.post(`/redaktor/artiklar/${article.id}/avpublicera/sv`).type('form').send({ _csrf: manager.csrf }).expect(303);
      assert.equal((await published(article.id)).length, 0);
      assert.equal((await t.db('faq_articles').where({ id: article.id }).first()).updated_by, manager.user.id);
      // Again: nothing is published, so nothing changes and no "done" is claimed.
      const again = await editor.agent.post(`/redaktor/artiklar/${article.id}/avpublicera/sv`).type('form').send({ _csrf: editor.csrf }).expect(303);
      assert.equal(again.headers.location, `/redaktor/artiklar/${article.id}?sprak=sv`);
      assert.equal((await t.db('faq_articles').where({ id: article.id }).first()).updated_by, manager.user.id);
      const nothing = await editor.agent.get(`/redaktor/artiklar/${article.id}/avpublicera/sv`).expect(200);
      assert.ok(nothing.text.includes(html(sv('editor.unpublish.nothing', { lang: sv('editor.lang_word.sv') }))));
      await assert.rejects(t.services.faq.getArticle('bygglov', article.slug), NotFoundError);
      assert.ok(!(await t.services.faq.search(NEW_WORD)).some((r) => r.slug === article.slug));
      const english = await t.services.faq.getArticle('bygglov', article.slug, 'en');
      assert.equal(english.lang, 'en', 'English is still published');
    });

    it('the settings change the owning department and the popular flag', async () => {
      const other = (await t.db('departments').whereNot({ id: departmentId }).first('id')).id;
      await editor.agent.post(`/redaktor/artiklar/${article.id}/installningar`).type('form').send({ _csrf: editor.csrf, department_id: String(other), popular: 'on' }).expect(303);
      let row = await t.db('faq_articles').where({ id: article.id }).first();
      assert.deepEqual([row.department_id, row.popular, row.updated_by], [other, true, editor.user.id]);
      await editor.agent.post(`/redaktor/artiklar/${article.id}/installningar`).type('form').send({ _csrf: editor.csrf, department_id: '' }).expect(303);
      row = await t.db('faq_articles').where({ id: article.id }).first();
      assert.deepEqual([row.department_id, row.popular], [null, false]);
      const bad = await editor.agent.post(`/redaktor/artiklar/${article.id}/installningar`).type('form').send({ _csrf: editor.csrf, department_id: '99999' });
      assert.equal(bad.status, 400);
      assert.ok(bad.text.includes(html(sv('errors.department_unknown'))));
      assert.equal((await t.db('faq_articles').where({ id: article.id }).first()).department_id, null);
    });
  });

  describe('review dates', () => {
    it('the due list has the never-reviewed and the long-unreviewed articles, most overdue first; marking reviewed takes one off', async () => {
      const never = await createArticle(editor, { title: 'Aldrig granskad' });
      const old = await createArticle(editor, { title: 'Granskad 2019' });
      const older = await createArticle(editor, { title: 'Granskad 2018' });
      const fresh = await createArticle(editor, { title: 'Granskad nyss' });
      await t.db('faq_articles').where({ id: old.id }).update({ reviewed_at: '2019-05-01' });
      await t.db('faq_articles').where({ id: older.id }).update({ reviewed_at: '2018-01-15' });
      await t.db('faq_articles').where({ id: fresh.id }).update({ reviewed_at: t.services.faqEditor.today() });

      const page = await editor.agent.get('/redaktor?visa=granskas').expect(200);
      const at = (id: number) => page.text.indexOf(`href="/redaktor/artiklar/${id}"`);
      assert.ok(at(never.id) > 0 && at(older.id) > 0 && at(old.id) > 0, 'the overdue articles are listed');
      assert.equal(at(fresh.id), -1, 'a freshly reviewed article is not due');
      assert.ok(at(never.id) < at(older.id) && at(older.id) < at(old.id), 'never reviewed first, then the oldest review');
      assert.ok(page.text.includes(html(sv('editor.index.due_lead', { months: 12, cutoff: t.services.faqEditor.reviewCutoff() }))));

      const res = await editor.agent.post(`/redaktor/artiklar/${older.id}/granskad`).type('form').send({ _csrf: editor.csrf });
      assert.equal(res.status, 303);
      const row = await t.db('faq_articles').where({ id: older.id }).first(t.db.raw(`to_char(reviewed_at, 'YYYY-MM-DD') AS reviewed_at`), 'updated_by');
      assert.deepEqual([row.reviewed_at, row.updated_by], [localDate(new Date(), 'Europe/Stockholm'), editor.user.id]);
      const after = await editor.agent.get('/redaktor?visa=granskas').expect(200);
      assert.ok(!after.text.includes(`href="/redaktor/artiklar/${older.id}"`), 'marked reviewed: off the due list');
      assert.ok(after.text.includes(`href="/redaktor/artiklar/${old.id}"`));
    });

    it('FAQ_REVIEW_MONTHS sets how old a review may be', async () => {
      assert.equal(loadConfig({ NODE_ENV: 'test' }, { sessionSecret: randomBytes(32).toString('hex') }).faqReviewMonths, 12);
      assert.equal(loadConfig({ NODE_ENV: 'test', FAQ_REVIEW_MONTHS: '3' }, { sessionSecret: randomBytes(32).toString('hex') }).faqReviewMonths, 3);
      for (const bad of ['0', '-1', 'tolv', '1.5', '121']) {
        assert.throws(() => loadConfig({ NODE_ENV: 'test', FAQ_REVIEW_MONTHS: bad }, { sessionSecret: randomBytes(32).toString('hex') }), ConfigError, bad);
      }
      const a = await createArticle(editor, { title: 'Granskad för två månader sedan' });
      const now = new Date();
      const twoMonthsAgo = monthsBefore(localDate(now, 'Europe/Stockholm'), 2);
      await t.db('faq_articles').where({ id: a.id }).update({ reviewed_at: twoMonthsAgo });
      const strict = createFaqEditor({ db: t.db, store: createFaqEditorStore(t.db), config: { ...t.config, faqReviewMonths: 1 } });
      assert.ok((await strict.listArticles({ due: true })).some((r) => r.id === a.id), 'due after one month');
      assert.ok(!(await t.services.faqEditor.listArticles({ due: true })).some((r) => r.id === a.id), 'not due after twelve');
    });

    it('months are counted on the calendar, to the end of a shorter month', () => {
      assert.equal(monthsBefore('2026-11-28', 12), '2025-11-28');
      assert.equal(monthsBefore('2026-03-31', 1), '2026-02-28');
      assert.equal(monthsBefore('2028-03-31', 1), '2028-02-29');
      assert.equal(monthsBefore('2026-01-15', 1), '2025-12-15');
      assert.equal(isDue(null, '2025-11-28'), true);
      assert.equal(isDue('2025-11-27', '2025-11-28'), true);
      assert.equal(isDue('2025-11-28', '2025-11-28'), false);
      assert.equal(localDate(new Date('2026-06-30T22:30:00Z'), 'Europe/Stockholm'), '2026-07-01');
    });
  });

  describe('bad input', () => {
    it('an empty title, a bad slug, a taken slug and a too long body re-render the form with errors and write nothing', async () => {
      const before = await tableCounts();
      const cases: { fields: Record<string, string>; field: string; message: string }[] = [
        { fields: { title: '   ' }, field: 'title', message: sv('errors.required') },
        { fields: { slug: 'Inte En Slug!' }, field: 'slug', message: sv('errors.slug_invalid') },
        { fields: { slug: '-borjar-med-streck' }, field: 'slug', message: sv('errors.slug_invalid') },
        { fields: { slug: 'a'.repeat(120) }, field: 'slug', message: sv('errors.slug_invalid') },
        { fields: { slug: seeded.slug }, field: 'slug', message: sv('editor.errors.slug_taken') },
        { fields: { category: 'hundar' }, field: 'category', message: sv('errors.invalid_choice') },
        { fields: { department_id: 'x' }, field: 'department_id', message: sv('errors.invalid_choice') },
        { fields: { title: 'x'.repeat(301) }, field: 'title', message: sv('errors.too_long', { max: 300 }) },
        { fields: { summary: 'x'.repeat(2001) }, field: 'summary', message: sv('errors.too_long', { max: 2000 }) },
        { fields: { body_md: 'x'.repeat(100_001) }, field: 'body_md', message: sv('errors.too_long', { max: 100000 }) },
        { fields: { body_md: 'nul \u0000 tecken' }, field: 'body_md', message: sv('errors.invalid') },
      ];
      for (const c of cases) {
        const values = { category: 'bygglov', slug: uniqueSlug('fel'), department_id: '', title: 'En rubrik', body_md: 'Text', ...c.fields };
        const res = await editor.agent.post('/redaktor/artiklar').type('form').send({ _csrf: editor.csrf, ...values });
        assert.equal(res.status, 400, `${JSON.stringify(c.fields).slice(0, 80)} answered ${res.status}`);
        assert.match(res.text, /class="error-summary"/);
        assert.ok(res.text.includes(`<li><a href="#f-${c.field}">${html(c.message)}</a></li>`), `the summary links ${c.field} to "${c.message}"`);
        assert.match(res.text, new RegExp(`id="f-${c.field}"[^>]*aria-invalid="true"`), `${c.field} is marked invalid`);
        if (c.field !== 'body_md' && c.field !== 'title') assert.ok(res.text.includes('value="En rubrik"'), 'what was typed comes back');
      }
      // The same slug in another category is a different address.
      await createArticle(editor, { category: 'forskoleplats', slug: seeded.slug });
      const after = await tableCounts();
      assert.deepEqual(after, { articles: before.articles + 1, versions: before.versions + 1 });
    });

    it("an article's text with errors re-renders that language's form and writes nothing", async () => {
      const before = await tableCounts();
      const updated = (await t.db('faq_articles').where({ id: seeded.id }).first('updated_at')).updated_at;
      for (const action of ['draft', 'publish', 'preview']) {
        const res = await sendText(editor, seeded.id, 'en', action, { title: '', body_md: 'Body kept\r\n\r\n- a point\r\n\r\n    code' });
        assert.equal(res.status, 400);
        assert.ok(res.text.includes(`<li><a href="#f-title">${html(sv('errors.required'))}</a></li>`));
        assert.ok(res.text.includes('>\nBody kept\r\n\r\n- a point\r\n\r\n    code</textarea>'), 'the text comes back exactly as written');
        assert.match(res.text, /<textarea id="f-body_md" name="body_md"[^>]* lang="en"/);
      }
      const tooLong = await sendText(editor, seeded.id, 'sv', 'publish', { title: 'Rubrik', body_md: 'y'.repeat(100_001) });
      assert.equal(tooLong.status, 400);
      assert.ok(tooLong.text.includes(html(sv('errors.too_long', { max: 100000 }))));
      const noAction = await sendText(editor, seeded.id, 'sv', 'delete', { title: 'Rubrik' });
      assert.equal(noAction.status, 400);
      assert.ok(noAction.text.includes(`<li><a href="#f-title">${html(sv('editor.errors.action'))}</a></li>`), 'the summary links the form to the message');
      assert.deepEqual(await tableCounts(), before);
      assert.deepEqual((await t.db('faq_articles').where({ id: seeded.id }).first('updated_at')).updated_at, updated);
      assert.equal((await published(seeded.id)).length, 1);
    });
  });

  describe('publishing at the same time', () => {
    it('two drafts of one article and language published at once leave exactly one published', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await createArticle(editor);
        const [first] = await versionsOf(a.id);
        await sendText(editor, a.id, 'sv', 'draft', { title: 'Utkast två', base: '' }).expect(303);
        const second = (await versionsOf(a.id)).at(-1)!;
        assert.notEqual(first!.id, second.id);
        await Promise.all([
          t.services.faqEditor.publishVersion(a.id, first!.id, editor.user),
          t.services.faqEditor.publishVersion(a.id, second.id, manager.user),
        ]);
        const rows = await versionsOf(a.id);
        assert.equal(rows.filter((v) => v.status === 'published').length, 1, `round ${round}: ${JSON.stringify(rows.map((v) => v.status))}`);
        assert.equal(rows.filter((v) => v.status === 'archived').length, 1, 'the one published first was archived by the second');
      }
    });

    it('many editors pressing Publish on one language at once: every request succeeds, one version is published', async () => {
      const a = await createArticle(editor);
      const base = await baseOf(editor, a.id);
      const writers = [editor, manager, admin, editor, manager, admin];
      const results = await Promise.all(writers.map((me, i) => sendText(me, a.id, 'sv', 'publish', { title: `Samtidig ${i}`, body_md: `Text ${i}`, base })));
      assert.deepEqual(
        results.map((r) => r.status),
        writers.map(() => 303),
        results.map((r) => r.text.slice(0, 200)).join('\n'),
      );
      const rows = await versionsOf(a.id);
      const pub = rows.filter((v) => v.status === 'published');
      assert.equal(pub.length, 1, JSON.stringify(rows.map((v) => [v.version, v.status])));
      assert.equal(pub[0]!.version, Math.max(...rows.map((v) => v.version)), 'the last one to publish is the published one');
      assert.equal(new Set(rows.map((v) => v.version)).size, rows.length, 'version numbers are unique');
      assert.equal(rows.length, writers.length, 'each publish wrote its text once (the first into the draft)');
    });
  });

  describe('Markdown cannot put a script on a page', () => {
    const EVIL = [
      '<script>alert("body")</script>',
      '',
      '[klicka här](javascript:alert(1)) och [här](JAVASCRIPT:alert(2)) och [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '',
      '<img src=x onerror=alert(3)>',
      '',
      '![bild](https://evil.example/x.png" onerror="alert(4))',
      '',
      '<a href="javascript:alert(5)" onclick="alert(6)">länk</a>',
      '',
      '[ok](https://www.borlange.se)',
    ].join('\n');
    const TITLE = '<script>alert("title")</script> Rubrik med "citat"';
    let a: { id: number; slug: string };

    it('the preview renders the Markdown without any live script', async () => {
      a = await createArticle(editor, { title: 'XSS-test' });
      const res = await sendText(editor, a.id, 'sv', 'preview', { title: TITLE, summary: '<b onmouseover=alert(7)>sammanfattning</b>', body_md: EVIL, base: '' });
      assert.equal(res.status, 200);
      assert.match(res.text, /class="editor-preview"/);
      assert.ok(res.text.includes('<a href="https://www.borlange.se" rel="noopener noreferrer">ok</a>'), 'a safe link is kept');
      assertNoLiveScript(res.text, 'the preview');
      assert.equal((await versionsOf(a.id)).length, 1, 'a preview saves nothing');
    });

    it('published, the public page and the rendered article carry no live script', async () => {
      const base = await baseOf(editor, a.id);
      await sendText(editor, a.id, 'sv', 'publish', { title: TITLE, summary: '<b onmouseover=alert(7)>sammanfattning</b>', body_md: EVIL, base }).expect(303);
      const article = await t.services.faq.getArticle('bygglov', a.slug);
      assert.equal(article.bodyMd, EVIL, 'the source is kept as written');
      const rendered = renderMarkdown(article.bodyMd);
      assertNoLiveScript(rendered, 'renderMarkdown');
      assert.doesNotMatch(rendered, /<script/i);
      const page = await t.request().get(`/fragor/bygglov/${a.slug}`).expect(200);
      assertNoLiveScript(page.text, 'the public page');
      assert.doesNotMatch(page.text, /<script>alert/);
      for (const url of [`/redaktor/artiklar/${a.id}`, `/redaktor/artiklar/${a.id}/versioner`, '/redaktor']) {
        assertNoLiveScript((await editor.agent.get(url).expect(200)).text, url);
      }
      const v = (await published(a.id))[0]!;
      assertNoLiveScript((await editor.agent.get(`/redaktor/artiklar/${a.id}/versioner/${v.id}`).expect(200)).text, 'the version page');
    });
  });

  describe('FAQ statistics', () => {
    let articles: { id: number; title: string }[];
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms);
    const H = 3600_000;
    const D = 24 * H;

    before(async () => {
      const rows = await t.db('faq_articles as a')
        .join('faq_versions as v', 'v.article_id', 'a.id')
        .where({ 'v.lang': 'sv', 'v.status': 'published', 'a.category': 'forskoleplats' })
        .orderBy('a.id')
        .limit(3)
        .select('a.id', 'v.title');
      articles = rows as { id: number; title: string }[];
      assert.equal(articles.length, 3);
      const [A, B, C] = articles as [{ id: number; title: string }, { id: number; title: string }, { id: number; title: string }];
      const { reference } = await createCase(t);
      const caseId = (await t.db('cases').where({ reference }).first('id')).id;
      let message = 0;
      const use = (article: number, at: Date) => ({ article_id: article, case_id: caseId, message_id: ++message, created_at: at });
      await t.db('faq_reply_uses').insert([use(A.id, ago(H)), use(A.id, ago(2 * D)), use(A.id, ago(29 * D)), use(B.id, ago(3 * D)), use(A.id, ago(40 * D)), use(C.id, ago(40 * D)), use(C.id, ago(41 * D))]);
      const fb = (article: number, helpful: boolean, at: Date, comment = '', lang = 'sv') => ({ article_id: article, helpful, comment, lang, created_at: at });
      await t.db('faq_feedback').insert([
        fb(A.id, false, ago(2 * H), '<script>alert("kommentar")</script> Förstod inte'),
        fb(A.id, false, ago(5 * D), 'Svårt språk'),
        fb(A.id, false, ago(6 * D), 'Den äldsta kommentaren'),
        fb(A.id, false, ago(8 * D), 'Den fjärde, visas inte'),
        fb(A.id, true, ago(D)),
        fb(B.id, false, ago(D)),
        fb(B.id, true, ago(D)),
        fb(B.id, true, ago(2 * D)),
        fb(B.id, true, ago(3 * D)),
        fb(C.id, false, ago(100 * D), 'För gammal'),
        fb(C.id, true, ago(60 * D)),
      ]);
      const dfl = (openedAgo: number, submittedAfter: number | null) => ({
        token: randomBytes(16).toString('base64url'),
        opened_at: ago(openedAgo),
        last_opened_at: ago(openedAgo),
        submitted_at: submittedAfter === null ? null : new Date(now - openedAgo + submittedAfter),
      });
      await t.db('faq_deflections').insert([
        dfl(3 * H, null), // deflected
        dfl(2 * D, null), // deflected
        dfl(2 * H, 10 * 60_000), // submitted anyway
        dfl(10 * 60_000, null), // in progress
        dfl(20 * 60_000, 5 * 60_000), // submitted within minutes
        dfl(40 * D, null), // only in 90 and 365 days
        dfl(200 * D, 60_000), // only in 365 days
      ]);
    });

    const cell = (page: string, stat: string) => new RegExp(`data-stat="${stat}">([^<]*)<`).exec(page)?.[1];
    const rowOf = (page: string, tableId: string, articleId: number) => {
      const table = page.split(`id="${tableId}"`)[1]?.split('</table>')[0] ?? '';
      const row = table.split('<tr>').find((r) => r.includes(`href="/redaktor/artiklar/${articleId}"`));
      return row ? [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.trim()) : undefined;
    };

    it('counts the last 30 days by default: replies, unhelpful with share and comments, helpful, deflection', async () => {
      const [A, B, C] = articles as [{ id: number; title: string }, { id: number; title: string }, { id: number; title: string }];
      const o = await t.services.faqStats.overview(30, new Date(now));
      assert.deepEqual(o.replyUses.map((r) => [r.article_id, r.uses]), [[A.id, 3], [B.id, 1]]);
      assert.deepEqual(o.unhelpful.map((r) => [r.article_id, r.unhelpful, r.total]), [[A.id, 4, 5], [B.id, 1, 4]]);
      assert.deepEqual(o.unhelpful[0]!.comments.map((c) => c.comment), ['<script>alert("kommentar")</script> Förstod inte', 'Svårt språk', 'Den äldsta kommentaren']);
      assert.deepEqual(o.helpful.map((r) => [r.article_id, r.helpful, r.total]), [[B.id, 3, 4], [A.id, 1, 5]]);
      assert.deepEqual(o.deflection, { opened: 5, submitted: 2, deflected: 2, pending: 1, rate: 0.5 });
      assert.ok(!o.replyUses.some((r) => r.article_id === C.id));

      const page = await manager.agent.get('/agent/faq-statistik').expect(200);
      assert.match(page.text, /<option value="30" selected>/);
      assert.equal(cell(page.text, 'opened'), '5');
      assert.equal(cell(page.text, 'submitted'), '2');
      assert.equal(cell(page.text, 'deflected'), '2');
      assert.equal(cell(page.text, 'pending'), '1');
      assert.equal(cell(page.text, 'rate'), formatPercent(0.5, 'sv'));
      assert.deepEqual(rowOf(page.text, 'stats-replies', A.id), ['3']);
      assert.deepEqual(rowOf(page.text, 'stats-replies', B.id), ['1']);
      assert.equal(rowOf(page.text, 'stats-replies', C.id), undefined);
      const unhelpfulA = rowOf(page.text, 'stats-unhelpful', A.id)!;
      assert.deepEqual(unhelpfulA.slice(0, 3), ['4', formatPercent(0.8, 'sv'), '5']);
      assert.ok(unhelpfulA[3]!.includes('&lt;script&gt;alert(&quot;kommentar&quot;)&lt;/script&gt; Förstod inte'), 'the comment is escaped');
      assert.ok(unhelpfulA[3]!.includes('Den äldsta kommentaren'));
      assert.ok(!unhelpfulA[3]!.includes('Den fjärde'), 'at most three comments per article');
      assert.deepEqual(rowOf(page.text, 'stats-unhelpful', B.id)!.slice(0, 3), ['1', formatPercent(0.25, 'sv'), '4']);
      assert.deepEqual(rowOf(page.text, 'stats-helpful', B.id), ['3', formatPercent(0.75, 'sv'), '4']);
      assert.deepEqual(rowOf(page.text, 'stats-helpful', A.id), ['1', formatPercent(0.2, 'sv'), '5']);
      assert.ok(page.text.indexOf(`href="/redaktor/artiklar/${A.id}"`) < page.text.indexOf(`href="/redaktor/artiklar/${B.id}"`), 'the most used first');
      assert.doesNotMatch(page.text, /<script>alert/);
      assertNoLiveScript(page.text, 'the statistics');
      assert.equal(formatPercent(0.5, 'sv').replace(/\s/g, ' '), '50 %');
      assert.equal(formatPercent(2 / 3, 'en'), '66.7%');
    });

    it('the period filter widens and narrows what is counted', async () => {
      const [A, , C] = articles as [{ id: number; title: string }, { id: number; title: string }, { id: number; title: string }];
      const week = await manager.agent.get('/agent/faq-statistik?dagar=7').expect(200);
      assert.match(week.text, /<option value="7" selected>/);
      assert.equal(cell(week.text, 'opened'), '5');
      assert.deepEqual(rowOf(week.text, 'stats-replies', A.id), ['2']);
      assert.deepEqual(rowOf(week.text, 'stats-unhelpful', A.id)!.slice(0, 3), ['3', formatPercent(0.75, 'sv'), '4']);

      const quarter = await manager.agent.get('/agent/faq-statistik?dagar=90').expect(200);
      assert.equal(cell(quarter.text, 'opened'), '6');
      assert.equal(cell(quarter.text, 'deflected'), '3');
      assert.equal(cell(quarter.text, 'rate'), formatPercent(3 / 5, 'sv'));
      assert.deepEqual(rowOf(quarter.text, 'stats-replies', A.id), ['4']);
      assert.deepEqual(rowOf(quarter.text, 'stats-replies', C.id), ['2']);
      assert.deepEqual(rowOf(quarter.text, 'stats-helpful', C.id), ['1', formatPercent(1, 'sv'), '1']);

      const year = await manager.agent.get('/agent/faq-statistik?dagar=365').expect(200);
      assert.equal(cell(year.text, 'opened'), '7');
      assert.equal(cell(year.text, 'submitted'), '3');
      assert.deepEqual(rowOf(year.text, 'stats-unhelpful', C.id)!.slice(0, 3), ['1', formatPercent(0.5, 'sv'), '2']);
    });

    it('a period that is not offered is refused with an error, showing the default period', async () => {
      for (const bad of ['13', 'abc', '-30', '30.5']) {
        const res = await manager.agent.get(`/agent/faq-statistik?dagar=${bad}`);
        assert.equal(res.status, 400, bad);
        assert.ok(res.text.includes(`<li><a href="#f-dagar">${html(sv('errors.invalid_choice'))}</a></li>`), bad);
        assert.equal(cell(res.text, 'opened'), '5');
      }
    });
  });
});
