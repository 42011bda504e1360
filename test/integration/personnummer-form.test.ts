import { strict as assert } from 'node:assert';
import type supertest from 'supertest';
import { translate } from '../../server/platform/i18n.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';

/**
 * A topic asks for a personnummer only when an admin has said it should
 * (categories.asks_personnummer; the seed says so for Försörjningsstöd only).
 * The web form shows the field, naming those topics; the web form and the API
 * take a real number (10 or 12 digits, "-" or "+", the check digit, a
 * samordningsnummer too) with such a topic and keep it as twelve digits, and
 * refuse any number with another topic, writing nothing. The case view shows
 * it in full; the queue never shows it.
 */

let seq = 0;
const uniqueEmail = () => `pnr-form.${Date.now().toString(36)}.${++seq}@example.com`;
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');

function formFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    category: 'forsorjningsstod',
    name: 'Eva Ek',
    personnummer: '',
    email: uniqueEmail(),
    phone: '',
    subject: 'Ansökan om försörjningsstöd',
    message: 'Hej, jag vill ansöka om försörjningsstöd för december.',
    ...overrides,
  };
}

async function submit(client: supertest.Agent, fields: Record<string, string>, status: number) {
  const page = await client.get('/kontakt').expect(200);
  return postMultipart(client, '/kontakt', { _csrf: csrfFrom(page.text), ...fields }, []).expect(status);
}

const storedFor = async (t: TestApp, location: string | undefined) => {
  const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(location ?? '')?.[1];
  assert.ok(token, `a receipt, got ${location}`);
  return t.db('cases').where({ resident_token: token }).first('reference', 'personnummer');
};

describe('personnummer: asked for only where a topic is configured to', function () {
  this.timeout(30_000);
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t?.close());

  describe('the seed', () => {
    it('turns it on for the financial assistance topic only', async () => {
      const asking = await t.db('categories').where({ asks_personnummer: true }).pluck('slug');
      assert.deepEqual(asking, ['forsorjningsstod']);
    });
  });

  describe('the web form', () => {
    it('has an optional field whose hint names the topics that ask, marked for the script to hide for others', async () => {
      const page = await t.request().get('/kontakt').expect(200);
      assert.match(page.text, /<div class="personnummer-field" data-personnummer-field data-topics="forsorjningsstod">/);
      assert.match(page.text, /<label for="f-personnummer">Personnummer<\/label>/, 'labelled, and not marked required');
      assert.match(page.text, /<input id="f-personnummer" name="personnummer" type="text" value="" maxlength="20" spellcheck="false" aria-describedby="f-personnummer-hint">/);
      assert.ok(page.text.includes(html(translate('sv', 'form.personnummer.hint', { topics: 'Försörjningsstöd' }))), 'the hint says which topic it is for');
      const en = await t.request().get('/kontakt?lang=en').expect(200);
      assert.ok(en.text.includes(html(translate('en', 'form.personnummer.hint', { topics: 'Financial assistance' }))));
    });

    it('a valid number with a topic that asks: the case keeps it as twelve digits, in every written form', async () => {
      const forms: [string, string][] = [
        ['19121212-1212', '191212121212'],
        ['121212-1212', '201212121212'],
        ['1212121212', '201212121212'],
        ['191212121212', '191212121212'],
        ['121212+1212', '191212121212'], // "+": a hundred years or older
        [' 701063-2391 ', '197010632391'], // a samordningsnummer, with stray spaces
      ];
      for (const [written, normalized] of forms) {
        const res = await submit(t.request(), formFields({ personnummer: written }), 303);
        const c = await storedFor(t, res.headers.location);
        assert.equal(c.personnummer, normalized, written);
      }
    });

    it('no number with a topic that asks is fine: it is optional', async () => {
      const res = await submit(t.request(), formFields(), 303);
      assert.equal((await storedFor(t, res.headers.location)).personnummer, null);
    });

    it('a number with a topic that does not ask: 400 with the field error, the form as it was, and nothing written', async () => {
      const before = await rowCounts(t.db);
      const res = await submit(t.request(), formFields({ category: 'bygglov', personnummer: '19121212-1212' }), 400);
      assert.deepEqual(await rowCounts(t.db), before);
      const message = html(translate('sv', 'errors.personnummer_not_asked'));
      assert.ok(res.text.includes(`<li><a href="#f-personnummer">${message}</a></li>`), 'the summary links the field');
      assert.ok(res.text.includes(`<p class="field-error" id="f-personnummer-error"><span class="visually-hidden">${translate('sv', 'form.error_prefix')}</span> ${message}</p>`));
      assert.match(res.text, /<input id="f-personnummer" name="personnummer" type="text" value="19121212-1212"[^>]* aria-invalid="true" aria-describedby="f-personnummer-hint f-personnummer-error">/);
      assert.match(res.text, /id="topic-bygglov" name="category" value="bygglov" checked/);
    });

    it('a wrong check digit, an impossible date or a wrong shape: 400 with the specific error and nothing written', async () => {
      const cases: [string, string][] = [
        ['19121212-1213', 'errors.personnummer_invalid'], // check digit
        ['19121312-1212', 'errors.personnummer_invalid'], // month 13
        ['701093-2391', 'errors.personnummer_invalid'], // a samordningsnummer's day past 91
        ['1912-1212', 'errors.personnummer_format'],
        ['19121212+1212', 'errors.personnummer_format'], // twelve digits never take "+"
        ['121212 1212', 'errors.personnummer_format'],
        ['ÅÅMMDD-NNNN', 'errors.personnummer_format'],
      ];
      for (const [written, code] of cases) {
        const before = await rowCounts(t.db);
        const res = await submit(t.request(), formFields({ personnummer: written }), 400);
        assert.deepEqual(await rowCounts(t.db), before, written);
        assert.ok(res.text.includes(`<li><a href="#f-personnummer">${html(translate('sv', code))}</a></li>`), `${written}: ${code}`);
      }
      // Too long is refused before anything else is looked at.
      const long = await submit(t.request(), formFields({ personnummer: '1'.repeat(21) }), 400);
      assert.ok(long.text.includes('<li><a href="#f-personnummer">'));
    });

    it('the case view shows it in full with the case details; the queue row does not show it', async () => {
      const res = await submit(t.request(), formFields({ personnummer: '121212-1212' }), 303);
      const c = await storedFor(t, res.headers.location);
      const agent = await t.loginAs('agent');
      const view = await agent.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.match(view.text, /<dt>Personnummer<\/dt><dd data-personnummer>20121212-1212<\/dd>/);
      const queue = await agent.agent.get('/agent?status=all').expect(200);
      const row = new RegExp(`<tr id="case-${c.reference}"[\\s\\S]*?</tr>`).exec(queue.text)?.[0];
      assert.ok(row);
      assert.ok(!/1212/.test(row), row);
      // The resident's own page does not repeat it.
      const token = /^\/kvitto\/(.+)$/.exec(res.headers.location!)![1]!;
      const own = await t.request().get(`/arende/${token}`).expect(200);
      assert.ok(!own.text.includes('1212-1212'));
    });
  });

  describe('the API', () => {
    it('takes a number with a topic that asks: 201, twelve digits, in the single-case answer only', async () => {
      const res = await t.request().post('/api/v1/cases').send(newCase({ category: 'forsorjningsstod', personnummer: '701063-2391' })).expect(201);
      const agent = await t.loginAs('agent');
      const one = await agent.agent.get(`/api/v1/cases/${res.body.reference}`).expect(200);
      assert.equal(one.body.personnummer, '197010632391');
      const list = await agent.agent.get('/api/v1/cases?status=all&limit=100').expect(200);
      const item = list.body.items.find((i: { reference: string }) => i.reference === res.body.reference);
      assert.ok(item);
      assert.ok(!('personnummer' in item), 'a list item carries no personnummer');
      const topics = await t.request().get('/api/v1/categories').expect(200);
      assert.deepEqual(
        topics.body.items.filter((c: { asksPersonnummer: boolean }) => c.asksPersonnummer).map((c: { slug: string }) => c.slug),
        ['forsorjningsstod'],
      );
    });

    it('refuses a number with a topic that does not ask, a wrong one and a wrong type, with the field error and nothing written', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ category: 'bygglov', personnummer: '19121212-1212' }, 'errors.personnummer_not_asked'],
        [{ category: 'forsorjningsstod', personnummer: '19121212-1213' }, 'errors.personnummer_invalid'],
        [{ category: 'forsorjningsstod', personnummer: '12-12' }, 'errors.personnummer_format'],
        [{ category: 'forsorjningsstod', personnummer: 191212121212 }, 'errors.invalid_type'],
      ];
      for (const [fields, code] of cases) {
        const before = await rowCounts(t.db);
        const res = await t.request().post('/api/v1/cases').send(newCase(fields)).expect(400);
        assert.deepEqual(await rowCounts(t.db), before, JSON.stringify(fields));
        assert.equal(res.body.error, 'validation_failed');
        const err = res.body.errors.find((e: { field: string }) => e.field === 'personnummer');
        assert.equal(err?.code, code, JSON.stringify(res.body));
        assert.equal(res.body.fields.personnummer, translate('en', code));
      }
      // Every problem at once: a wrong number is reported with the other fields' errors.
      const res = await t.request().post('/api/v1/cases').send(newCase({ category: 'bygglov', personnummer: '19121212-1212', name: '' })).expect(400);
      assert.deepEqual(Object.keys(res.body.fields).sort(), ['name', 'personnummer']);
    });

    it('is described in the OpenAPI document', async () => {
      const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
      const schemas = doc.components.schemas;
      assert.equal(schemas.NewCase.properties.personnummer.type, 'string');
      assert.equal(schemas.NewCase.properties.personnummer.maxLength, 20);
      assert.ok(!(schemas.NewCase.required ?? []).includes('personnummer'));
      assert.ok(JSON.stringify(schemas).includes('"personnummer"'), 'the single-case answer names it');
    });
  });

  describe('the admin topics page', () => {
    const categoryId = async (slug: string) => Number((await t.db('categories').where({ slug }).first('id')).id);
    const asks = async (slug: string) => Boolean((await t.db('categories').where({ slug }).first('asks_personnummer')).asks_personnummer);
    const formOf = (c: { name_sv: string; name_en: string; sort_order: number }, extra: Record<string, string> = {}) => ({
      name_sv: c.name_sv,
      name_en: c.name_en,
      description_sv: '',
      description_en: '',
      department: '',
      sort_order: String(c.sort_order),
      active: 'true',
      ...extra,
    });

    it('has a labelled checkbox per topic, ticked where the topic asks', async () => {
      const admin = await t.loginAs('admin');
      const page = await admin.agent.get('/admin/categories').expect(200);
      const pnr = await categoryId('forsorjningsstod');
      const bygg = await categoryId('bygglov');
      assert.match(page.text, new RegExp(`<input type="checkbox" id="cat-${pnr}-asks_personnummer" name="asks_personnummer" value="on" aria-describedby="cat-${pnr}-asks_personnummer-hint" checked>`));
      assert.match(page.text, new RegExp(`<input type="checkbox" id="cat-${bygg}-asks_personnummer" name="asks_personnummer" value="on" aria-describedby="cat-${bygg}-asks_personnummer-hint">`));
      assert.match(page.text, new RegExp(`<label for="cat-${bygg}-asks_personnummer">${html(translate('sv', 'admin.categories.asks_personnummer'))}</label>`));
    });

    it('an admin turns it on and off; the form and the API follow at once', async () => {
      const admin = await t.loginAs('admin');
      const id = await categoryId('bygglov');
      const topic = await t.db('categories').where({ id }).first();
      await admin.agent.post(`/admin/categories/${id}`).type('form').send({ _csrf: admin.csrf, ...formOf(topic, { asks_personnummer: 'on' }) }).expect(303);
      assert.equal(await asks('bygglov'), true);
      const page = await t.request().get('/kontakt').expect(200);
      assert.match(page.text, /data-topics="bygglov forsorjningsstod"/);
      await t.request().post('/api/v1/cases').send(newCase({ category: 'bygglov', personnummer: '19121212-1212' })).expect(201);

      // Unticked, the box is not sent: that turns it off.
      await admin.agent.post(`/admin/categories/${id}`).type('form').send({ _csrf: admin.csrf, ...formOf(topic) }).expect(303);
      assert.equal(await asks('bygglov'), false);
      await t.request().post('/api/v1/cases').send(newCase({ category: 'bygglov', personnummer: '19121212-1212' })).expect(400);
    });

    it('a new topic can ask from the start', async () => {
      const admin = await t.loginAs('admin');
      await admin.agent
        .post('/admin/categories')
        .type('form')
        .send({ _csrf: admin.csrf, slug: 'bostadsbidrag', name_sv: 'Bostadsanpassning', name_en: 'Home adaptation', description_sv: '', description_en: '', department: '', asks_personnummer: 'on' })
        .expect(303);
      assert.equal(await asks('bostadsbidrag'), true);
    });

    it('without any topic that asks, the form has no field', async () => {
      const admin = await t.loginAs('admin');
      for (const slug of ['forsorjningsstod', 'bostadsbidrag']) {
        const id = await categoryId(slug);
        const topic = await t.db('categories').where({ id }).first();
        await admin.agent.post(`/admin/categories/${id}`).type('form').send({ _csrf: admin.csrf, ...formOf(topic) }).expect(303);
      }
      const page = await t.request().get('/kontakt').expect(200);
      assert.ok(!page.text.includes('name="personnummer"'));
      assert.ok(!page.text.includes('data-personnummer-field'));
      // Restored for any test after this one.
      const id = await categoryId('forsorjningsstod');
      const topic = await t.db('categories').where({ id }).first();
      await admin.agent.post(`/admin/categories/${id}`).type('form').send({ _csrf: admin.csrf, ...formOf(topic, { asks_personnummer: 'on' }) }).expect(303);
      assert.equal(await asks('forsorjningsstod'), true);
    });

    it('only admins: an agent, an editor and a manager are refused, and nothing changes', async () => {
      const id = await categoryId('bygglov');
      const topic = await t.db('categories').where({ id }).first();
      for (const role of ['agent', 'editor', 'manager'] as const) {
        const user = await t.loginAs(role);
        await user.agent.get('/admin/categories').expect(403);
        await user.agent.post(`/admin/categories/${id}`).type('form').send({ _csrf: user.csrf, ...formOf(topic, { asks_personnummer: 'on' }) }).expect(403);
        assert.equal(await asks('bygglov'), false, role);
      }
      const anonymous = t.request();
      const login = await anonymous.get('/login').expect(200);
      const res = await anonymous.post(`/admin/categories/${id}`).type('form').send({ _csrf: csrfFrom(login.text), ...formOf(topic, { asks_personnummer: 'on' }) });
      assert.ok([302, 303, 401, 403].includes(res.status), `anonymous: ${res.status}`);
      assert.equal(await asks('bygglov'), false);
    });
  });
});
