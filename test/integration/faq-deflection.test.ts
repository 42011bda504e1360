import { strict as assert } from 'node:assert';
import type supertest from 'supertest';
import type { FaqDeflectionRow } from '../../server/faq/deflection-store.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, startTestApp, type TestApp } from '../support/harness.js';
import { countOf } from './helpers.js';

/**
 * Deflection on the contact form: each rendering carries a visit token, an
 * opened suggestion is recorded with it (POST /api/v1/faq/deflections, CSRF
 * checked against the resident's cookie), and sending the form marks the visit
 * with the new case. Nothing the resident typed is stored with the visit.
 */

const RECORD = '/api/v1/faq/deflections';
const ATTEFALL = { category: 'bygglov', slug: 'behover-jag-bygglov-for-attefallshus' };
const COST = { category: 'bygglov', slug: 'vad-kostar-bygglov' };

/** A resident's browser on the contact form: its cookies, the page's CSRF token and visit token. */
interface FormVisit {
  client: supertest.Agent;
  csrf: string;
  visit: string;
  html: string;
}

function visitFrom(html: string): string {
  const m = /<input type="hidden" name="faq_visit" value="([^"]*)">/.exec(html);
  assert.ok(m, 'the contact form has a faq_visit field');
  return m[1]!;
}

let seq = 0;
function formFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    category: 'bygglov',
    name: 'Sara Öberg',
    email: `sara.${Date.now().toString(36)}.${++seq}@example.com`,
    phone: '',
    subject: 'Attefallshus',
    message: 'Behöver jag bygglov för ett attefallshus på 25 kvm?',
    ...overrides,
  };
}

describe('FAQ deflection: suggestions opened from the contact form', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  async function openForm(client = t.request(), query = ''): Promise<FormVisit> {
    const res = await client.get(`/kontakt${query}`).expect(200);
    return { client, csrf: csrfFrom(res.text), visit: visitFrom(res.text), html: res.text };
  }

  /** Records an open as the page's script does; `csrf: null` sends no CSRF header. */
  const record = (v: FormVisit, body: unknown, csrf: string | null = v.csrf) => {
    const req = v.client.post(RECORD);
    return csrf === null ? req.send(body as object) : req.set('X-CSRF-Token', csrf).send(body as object);
  };

  const row = (token: string) => t.db<FaqDeflectionRow>('faq_deflections').where({ token }).first();
  const articleId = async (a: { category: string; slug: string }) => ((await t.db('faq_articles').where(a).first('id')) as { id: number }).id;

  function sendForm(v: FormVisit, fields: Record<string, string>) {
    return postMultipart(v.client, '/kontakt', { _csrf: v.csrf, faq_visit: v.visit, ...fields });
  }

  async function caseIdFromReceipt(location: string | undefined): Promise<number> {
    const m = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(location ?? '');
    assert.ok(m, `redirects to a receipt, got ${location}`);
    const c = await t.db('cases').where({ resident_token: m[1] }).first('id');
    assert.ok(c, 'the case exists');
    return Number(c.id);
  }

  describe('the contact form', () => {
    it('carries a new random visit token on each rendering, and the suggestion region, hidden', async () => {
      const a = await openForm();
      const b = await openForm();
      assert.match(a.visit, /^[A-Za-z0-9_-]{22}$/);
      assert.match(b.visit, /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(a.visit, b.visit);
      assert.match(a.html, /<div class="faq-suggest" data-faq-suggest[^>]*>/);
      assert.match(a.html, /<p class="visually-hidden" role="status" aria-live="polite"[^>]*data-faq-suggest-status><\/p>/);
      assert.match(a.html, /<section class="faq-suggest-box" aria-labelledby="faq-suggest-heading" hidden data-faq-suggest-box>/);
      assert.ok(a.html.includes('Kanske finns svaret här'));
      assert.ok(a.html.includes('<script src="/static/js/live.js" defer></script>'), 'the page loads the script');
      // The region comes right after the message field, before the files.
      const message = a.html.indexOf('id="f-message"');
      const region = a.html.indexOf('data-faq-suggest');
      const files = a.html.indexOf('id="f-attachments"');
      assert.ok(message < region && region < files, 'message field, suggestions, files');
    });

    it('has the texts in English and Arabic too', async () => {
      const en = await openForm(t.request(), '?lang=en');
      assert.ok(en.html.includes('Perhaps the answer is here'));
      assert.ok(en.html.includes('data-count-other="{count} suggested answers"'));
      const ar = await openForm(t.request(), '?lang=ar');
      assert.ok(ar.html.includes('ربما تجد الإجابة هنا'));
    });
  });

  describe('POST /api/v1/faq/deflections', () => {
    it('records the first open with its article, and counts the next ones on the same visit', async () => {
      const v = await openForm();
      const first = await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
      assert.deepEqual(first.body, { openedCount: 1, first: true });
      const r1 = await row(v.visit);
      assert.ok(r1, 'the visit has a row');
      assert.equal(r1.lang, 'sv');
      assert.equal(r1.first_article_id, await articleId(ATTEFALL));
      assert.equal(r1.opened_count, 1);
      assert.equal(r1.submitted_at, null);
      assert.equal(r1.case_id, null);

      const second = await record(v, { token: v.visit, ...COST }).expect(200);
      assert.deepEqual(second.body, { openedCount: 2, first: false });
      const r2 = await row(v.visit);
      assert.equal(r2!.opened_count, 2);
      assert.equal(r2!.first_article_id, await articleId(ATTEFALL), 'the first article stays');
      assert.ok(new Date(r2!.last_opened_at).getTime() >= new Date(r1.opened_at).getTime());
      assert.deepEqual(Object.keys(r2!).sort(), ['case_id', 'first_article_id', 'lang', 'last_opened_at', 'opened_at', 'opened_count', 'submitted_at', 'token']);
    });

    it("records the page's language", async () => {
      const v = await openForm(t.request(), '?lang=en');
      await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
      assert.equal((await row(v.visit))!.lang, 'en');
    });

    it('works from a signed-in user\'s browser too (their session\'s CSRF token)', async () => {
      const me = await t.loginAs('agent');
      const v = await openForm(me.agent);
      assert.equal(v.csrf, me.csrf);
      await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
    });

    describe('refuses, writing nothing', () => {
      let before: number;
      beforeEach(async () => {
        before = await countOf(t.db, 'faq_deflections');
      });
      afterEach(async () => {
        assert.equal(await countOf(t.db, 'faq_deflections'), before, 'nothing was written');
      });

      it('403 without the CSRF header', async () => {
        const v = await openForm();
        const res = await record(v, { token: v.visit, ...ATTEFALL }, null).expect(403);
        assert.equal(res.body.error, 'csrf_failed');
      });

      it('403 with a wrong CSRF header', async () => {
        const v = await openForm();
        const res = await record(v, { token: v.visit, ...ATTEFALL }, `${v.csrf.slice(0, -2)}xx`).expect(403);
        assert.equal(res.body.error, 'csrf_failed');
      });

      it("403 with another browser's token, and without the CSRF cookie", async () => {
        const mine = await openForm();
        const theirs = await openForm();
        await record(mine, { token: mine.visit, ...ATTEFALL }, theirs.csrf).expect(403);
        // A page's token is worth nothing without the browser's cookie.
        const res = await t.request().post(RECORD).set('X-CSRF-Token', mine.csrf).send({ token: mine.visit, ...ATTEFALL }).expect(403);
        assert.equal(res.body.error, 'csrf_failed');
      });

      it('400 for a token that is not a visit token', async () => {
        const v = await openForm();
        for (const token of ['short', `${v.visit}x`, `${v.visit.slice(0, 21)}!`, 'a'.repeat(43)]) {
          const res = await record(v, { token, ...ATTEFALL }).expect(400);
          assert.equal(res.body.error, 'validation_failed');
          assert.deepEqual(Object.keys(res.body.fields), ['token'], token);
          assert.equal(res.body.errors[0].code, 'deflection.errors.token_invalid');
          assert.match(res.body.fields.token, /Reload the contact form/);
        }
      });

      it('404 for an article that does not exist, or is not published', async () => {
        const v = await openForm();
        const res = await record(v, { token: v.visit, category: 'bygglov', slug: 'finns-inte' }).expect(404);
        assert.equal(res.body.error, 'not_found');
        // The right slug in the wrong category is another article, which does not exist.
        await record(v, { token: v.visit, category: 'forskoleplats', slug: ATTEFALL.slug }).expect(404);
        const [draft] = await t.db('faq_articles').insert({ category: 'bygglov', slug: 'bara-ett-utkast' }).returning('id');
        await t.db('faq_versions').insert({ article_id: (draft as { id: number }).id, lang: 'sv', version: 1, status: 'draft', title: 'Utkast' });
        await record(v, { token: v.visit, category: 'bygglov', slug: 'bara-ett-utkast' }).expect(404);
      });

      it('400 with a message per missing or wrong field', async () => {
        const v = await openForm();
        const empty = await record(v, {}).expect(400);
        assert.deepEqual(Object.keys(empty.body.fields).sort(), ['category', 'slug', 'token']);
        for (const f of empty.body.errors) assert.equal(f.code, 'errors.required', f.field);

        const wrong = await record(v, { token: v.visit, category: 'parkering', slug: 'Stora Bokstäver' }).expect(400);
        assert.deepEqual(Object.fromEntries(wrong.body.errors.map((e: { field: string; code: string }) => [e.field, e.code])), {
          category: 'errors.invalid_choice',
          slug: 'deflection.errors.slug_invalid',
        });
        assert.match(wrong.body.fields.slug, /short name has only lower-case letters/);

        const types = await record(v, { token: 42, category: ATTEFALL.category, slug: ['x'] }).expect(400);
        assert.deepEqual(Object.fromEntries(types.body.errors.map((e: { field: string; code: string }) => [e.field, e.code])), {
          token: 'errors.invalid_type',
          slug: 'errors.invalid_type',
        });

        const extra = await record(v, { token: v.visit, ...ATTEFALL, message: 'Behöver jag bygglov?' }).expect(400);
        assert.equal(extra.body.errors[0].code, 'errors.unknown_field', 'the text the resident typed is not taken');
      });

      it('400 for a body that is not a JSON object', async () => {
        const v = await openForm();
        const text = await v.client.post(RECORD).set('X-CSRF-Token', v.csrf).type('text/plain').send(JSON.stringify({ token: v.visit, ...ATTEFALL })).expect(400);
        assert.deepEqual(Object.keys(text.body.fields), ['body']);
        assert.equal(text.body.errors[0].code, 'deflection.errors.body_json');
        const form = await v.client.post(RECORD).set('X-CSRF-Token', v.csrf).type('form').send({ token: v.visit, ...ATTEFALL }).expect(400);
        assert.equal(form.body.errors[0].code, 'deflection.errors.body_json');
        const array = await record(v, [{ token: v.visit, ...ATTEFALL }]).expect(400);
        assert.equal(array.body.errors[0].code, 'deflection.errors.body_json');
        const broken = await v.client.post(RECORD).set('X-CSRF-Token', v.csrf).type('json').send('{"token": ').expect(400);
        assert.equal(broken.body.error, 'invalid_json');
      });
    });

    it('is in the OpenAPI document', async () => {
      const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
      const post = doc.paths[RECORD].post;
      assert.ok(post, 'POST documented');
      assert.deepEqual(post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/FaqDeflectionOpen' });
      assert.deepEqual(Object.keys(doc.components.schemas.FaqDeflectionOpen.properties).sort(), ['category', 'slug', 'token']);
      assert.deepEqual([...doc.components.schemas.FaqDeflectionOpen.required].sort(), ['category', 'slug', 'token']);
      for (const status of ['200', '201', '400', '403', '404', '429']) assert.ok(post.responses[status], status);
    });
  });

  describe('sending the contact form', () => {
    it('marks a visit that opened a suggestion with the new case', async () => {
      const v = await openForm();
      await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
      const res = await sendForm(v, formFields()).expect(303);
      const caseId = await caseIdFromReceipt(res.headers.location);
      const r = await row(v.visit);
      assert.ok(r!.submitted_at instanceof Date, 'submitted_at is set');
      assert.equal(Number(r!.case_id), caseId);
      assert.equal(r!.opened_count, 1);
    });

    it('marks it the same way for a form with a file (the case written in its own transaction)', async () => {
      const v = await openForm();
      await record(v, { token: v.visit, ...COST }).expect(201);
      const res = await postMultipart(v.client, '/kontakt', { _csrf: v.csrf, faq_visit: v.visit, ...formFields({ email: '', phone: '070-123 45 67' }) }, [
        { filename: 'ritning.txt', content: Buffer.from('En enkel ritning\n'), contentType: 'text/plain' },
      ]).expect(303);
      assert.equal(Number((await row(v.visit))!.case_id), await caseIdFromReceipt(res.headers.location));
    });

    it('writes nothing for a visit that opened no suggestion, or a token that is not one', async () => {
      const before = await countOf(t.db, 'faq_deflections');
      const v = await openForm();
      await sendForm(v, formFields()).expect(303);
      await postMultipart(v.client, '/kontakt', { _csrf: v.csrf, faq_visit: 'not a token', ...formFields() }).expect(303);
      await postMultipart(v.client, '/kontakt', { _csrf: v.csrf, ...formFields() }).expect(303);
      assert.equal(await countOf(t.db, 'faq_deflections'), before);
      assert.equal(await row(v.visit), undefined);
    });

    it('does not mark the visit when the form comes back with errors, and keeps its token for the next try', async () => {
      const v = await openForm();
      await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
      const failed = await sendForm(v, formFields({ message: '' })).expect(400);
      assert.equal(visitFrom(failed.text), v.visit, 'the re-rendered form keeps the visit');
      const r = await row(v.visit);
      assert.equal(r!.submitted_at, null);
      assert.equal(r!.case_id, null);

      const sent = await sendForm(v, formFields()).expect(303);
      assert.equal(Number((await row(v.visit))!.case_id), await caseIdFromReceipt(sent.headers.location));
    });

    it('a form sent again with the same visit keeps the first case', async () => {
      const v = await openForm();
      await record(v, { token: v.visit, ...ATTEFALL }).expect(201);
      const first = await caseIdFromReceipt((await sendForm(v, formFields()).expect(303)).headers.location);
      await sendForm(v, formFields()).expect(303);
      assert.equal(Number((await row(v.visit))!.case_id), first);
    });

    it('gives a new token to a form sent back with a bad one', async () => {
      const v = await openForm();
      const failed = await postMultipart(v.client, '/kontakt', { _csrf: v.csrf, faq_visit: '<script>', ...formFields({ name: '' }) }).expect(400);
      assert.match(visitFrom(failed.text), /^[A-Za-z0-9_-]{22}$/);
    });
  });
});

describe('FAQ deflection: the recording is rate-limited per address', function () {
  this.timeout(60_000);
  let t: TestApp;
  before(async () => {
    // Five times the contact form's limit: here 5 in the window.
    t = await startTestApp({ config: { rateLimits: { intakePerWindow: 1, loginPerWindow: 0, windowMs: 60_000 } } });
  });
  after(() => t.close());

  it('answers 429 after too many, before looking at the request', async () => {
    const client = t.request();
    const page = await client.get('/kontakt').expect(200);
    const csrf = csrfFrom(page.text);
    const token = visitFrom(page.text);
    for (let i = 1; i <= 5; i++) await client.post(RECORD).set('X-CSRF-Token', csrf).send({ token, ...ATTEFALL }).expect(i === 1 ? 201 : 200);
    const res = await client.post(RECORD).set('X-CSRF-Token', csrf).send({ token, ...ATTEFALL }).expect(429);
    assert.equal(res.body.error, 'rate_limited');
    assert.equal((await t.db('faq_deflections').where({ token }).first()).opened_count, 5);
  });
});
