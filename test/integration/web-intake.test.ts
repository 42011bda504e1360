import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type supertest from 'supertest';
import type { AuthUser } from '../../server/auth/roles.js';
import type { CaseRow } from '../../server/cases/store.js';
import { translate } from '../../server/platform/i18n.js';
import { VIEWS_DIR } from '../../server/platform/views.js';
import { filesUnder, pdfBytes } from '../fixtures/files.js';
import { postMultipart, type UploadFile } from '../fixtures/multipart.js';
import { csrfFrom, newCase, rowCounts, startTestApp, TEST_PASSWORD, type TestApp } from '../support/harness.js';

/**
 * The resident's side, as a browser uses it: pages with forms, a cookie jar,
 * the CSRF token from the page, multipart posts and redirects.
 */

const EN_LOCALE = path.join(VIEWS_DIR, 'locales', 'en.json');

let seq = 0;
const uniqueEmail = () => `resident.${Date.now().toString(36)}.${++seq}@example.com`;

function formFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    category: 'bygglov',
    name: 'Sara Öberg',
    email: uniqueEmail(),
    phone: '',
    subject: 'Attefallshus på tomten',
    message: 'Behöver jag bygglov för ett attefallshus på 25 kvm?\nTomten ligger i Hagalund.',
    ...overrides,
  };
}

/** Opens the form like a browser and sends it with the page's token: `submitContact(…).expect(303)`. */
function submitContact(client: supertest.Agent, fields: Record<string, string>, files: UploadFile[] = []) {
  return {
    async expect(status: number) {
      const page = await client.get('/kontakt').expect(200);
      return postMultipart(client, '/kontakt', { _csrf: csrfFrom(page.text), ...fields }, files).expect(status);
    },
  };
}

function tokenFrom(location: string | undefined): string {
  const m = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(location ?? '');
  assert.ok(m, `redirects to a receipt, got ${location}`);
  return m[1]!;
}

async function caseByToken(t: TestApp, token: string): Promise<CaseRow> {
  const row = await t.db<CaseRow>('cases').where({ resident_token: token }).first();
  assert.ok(row, 'the case exists');
  return row;
}

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');

describe('web intake: the resident pages', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  describe('start page and form', () => {
    it('GET / lists the seeded topics, each linking to the form', async () => {
      const res = await t.request().get('/').expect(200).expect('Content-Type', /text\/html/);
      for (const [slug, name] of [
        ['bygglov', 'Bygglov'],
        ['forsorjningsstod', 'Försörjningsstöd'],
        ['forskoleplats', 'Förskoleplats'],
        ['ovrigt', 'Övrigt'],
      ] as const) {
        assert.ok(res.text.includes(`href="/kontakt?amne=${slug}"`), `links the topic ${slug}`);
        assert.ok(res.text.includes(`<strong>${name}</strong>`), `names the topic ${name}`);
      }
      assert.match(res.text, /<html lang="sv"/);
    });

    it('GET /kontakt?amne=bygglov preselects that topic and no other', async () => {
      const res = await t.request().get('/kontakt?amne=bygglov').expect(200);
      assert.match(res.text, /id="topic-bygglov" name="category" value="bygglov" checked/);
      assert.equal((res.text.match(/ checked/g) ?? []).length, 1);
      assert.doesNotMatch(res.text, /id="topic-ovrigt"[^>]* checked/);
      csrfFrom(res.text); // the form carries a token
    });

    it('GET /kontakt without a topic preselects none', async () => {
      const res = await t.request().get('/kontakt').expect(200);
      assert.doesNotMatch(res.text, /name="category"[^>]* checked/);
    });
  });

  describe('submitting the form', () => {
    let token: string;
    let fields: Record<string, string>;

    it('POST /kontakt → 303 to the receipt, with one case, event, message, resident and acknowledgement written', async () => {
      const client = t.request();
      const before = await rowCounts(t.db);
      fields = formFields();
      const res = await submitContact(client, fields).expect(303);
      token = tokenFrom(res.headers.location);
      const after = await rowCounts(t.db);
      assert.deepEqual(after, {
        ...before,
        cases: before.cases + 1,
        case_events: before.case_events + 1,
        messages: before.messages + 1,
        residents: before.residents + 1,
        mail_outbox: before.mail_outbox + 1,
      });
      const c = await caseByToken(t, token);
      assert.equal(c.status, 'new');
      assert.equal(c.channel, 'web');
      assert.equal(c.subject, fields.subject);
      assert.equal(c.language, 'sv');
      const msg = await t.db('messages').where({ case_id: c.id }).first();
      assert.equal(msg.body, fields.message!.trim());
      const mail = await t.db('mail_outbox').where({ case_id: c.id }).first();
      assert.equal(mail.to_address, fields.email);
      assert.equal(mail.kind, 'acknowledgement');
    });

    it('the receipt shows the reference and the private link, and is not cached', async () => {
      const c = await caseByToken(t, token);
      const res = await t.request().get(`/kvitto/${token}`).expect(200);
      assert.match(res.text, new RegExp(`<strong>${c.reference}</strong>`));
      const link = `http://localhost:3000/arende/${token}`;
      assert.ok(res.text.includes(`href="${link}"`), 'links the case page');
      assert.ok(res.text.includes(`>${link}</a>`), 'shows the link as text to copy');
      assert.ok(res.text.includes(html(translate('sv', 'receipt.mailed'))), 'says that a confirmation was mailed');
      assert.match(String(res.headers['cache-control']), /no-store/);
    });

    it('the resident page shows the status, topic, subject and the message', async () => {
      const c = await caseByToken(t, token);
      const res = await t.request().get(`/arende/${token}`).expect(200);
      assert.ok(res.text.includes(`Ärende ${c.reference}`));
      assert.match(res.text, /<span class="status status--new">Ny<\/span>/);
      assert.ok(res.text.includes('<dd>Bygglov</dd>'));
      assert.ok(res.text.includes(html(fields.subject!)));
      assert.ok(res.text.includes('Behöver jag bygglov för ett attefallshus på 25 kvm?<br>Tomten ligger i Hagalund.'));
      assert.match(String(res.headers['cache-control']), /no-store/);
    });

    it('a follow-up POST /arende/<token> adds a message: 303 back, shown on the page', async () => {
      const client = t.request();
      const page = await client.get(`/arende/${token}`).expect(200);
      const c = await caseByToken(t, token);
      const before = await rowCounts(t.db);
      const res = await postMultipart(client, `/arende/${token}`, { _csrf: csrfFrom(page.text), message: 'Jag glömde: huset blir 3,5 meter högt.' }).expect(303);
      assert.equal(res.headers.location, `/arende/${token}?skickat=1#conversation`);
      const after = await rowCounts(t.db);
      assert.equal(after.messages, before.messages + 1);
      assert.equal(after.case_events, before.case_events + 1);
      assert.equal(after.cases, before.cases);
      const events = await t.db('case_events').where({ case_id: c.id }).orderBy('id');
      assert.deepEqual(events.map((e) => e.type), ['case.created', 'message.received']);
      const shown = await client.get(res.headers.location!).expect(200);
      assert.ok(shown.text.includes(html(translate('sv', 'case.sent'))));
      assert.ok(shown.text.includes('Jag glömde: huset blir 3,5 meter högt.'));
      const row = await caseByToken(t, token);
      assert.equal(row.resident_message_count, 2);
    });
  });

  describe('refused submissions write nothing', () => {
    it('missing fields → 400, the form again with the error summary and the values kept', async () => {
      const client = t.request();
      const before = await rowCounts(t.db);
      const res = await submitContact(client, formFields({ name: '', message: '   ', email: '', phone: '', subject: 'Min <rubrik>' })).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.match(res.text, /class="error-summary"/);
      assert.ok(res.text.includes('Det finns fel i formuläret'));
      // Each error in the summary links to its field, and the field shows it too.
      for (const field of ['name', 'message', 'email']) {
        const linked = new RegExp(`<li><a href="#f-${field}">([^<]+)</a></li>`).exec(res.text);
        assert.ok(linked, `the summary links the ${field} field`);
        const shown = new RegExp(`<p class="field-error" id="f-${field}-error"><span class="visually-hidden">[^<]*</span> ([^<]+)</p>`).exec(res.text);
        assert.ok(shown, `the ${field} field shows its error`);
        assert.equal(shown[1], linked[1], 'the same text in both places');
        assert.match(res.text, new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`));
      }
      assert.ok(res.text.includes(translate('sv', 'errors.contact_required')));
      assert.doesNotMatch(res.text, /id="f-subject"[^>]*aria-invalid/, 'the subject was fine');
      // What was written is kept (escaped), the chosen topic still chosen.
      assert.ok(res.text.includes(`value="${html('Min <rubrik>')}"`));
      assert.match(res.text, /id="topic-bygglov" name="category" value="bygglov" checked/);
      // The answer is a form again, with a fresh token.
      csrfFrom(res.text);
    });

    it('an invalid e-mail → 400 with the field error and the other values kept', async () => {
      const before = await rowCounts(t.db);
      const res = await submitContact(t.request(), formFields({ email: 'inte-en-adress', name: 'Per Persson' })).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.ok(res.text.includes(`<li><a href="#f-email">${html(translate('sv', 'errors.email_invalid'))}</a></li>`));
      assert.ok(res.text.includes('value="Per Persson"'));
      assert.ok(res.text.includes('value="inte-en-adress"'));
    });

    it('no topic chosen → 400 with the topic error linking to the first choice', async () => {
      const before = await rowCounts(t.db);
      const res = await submitContact(t.request(), formFields({ category: '' })).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.ok(res.text.includes(`<li><a href="#topic-bygglov">${html(translate('sv', 'errors.category_required'))}</a></li>`), 'links the first topic');
    });

    it('an unknown category → 400 and nothing written', async () => {
      const before = await rowCounts(t.db);
      const res = await submitContact(t.request(), formFields({ category: 'finns-inte' })).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.ok(res.text.includes(html(translate('sv', 'errors.category_unknown'))));
    });

    it('no CSRF token → 403 and nothing written', async () => {
      const client = t.request();
      await client.get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      const res = await postMultipart(client, '/kontakt', formFields()).expect(403);
      assert.ok(res.text.includes(html(translate('sv', 'errors.page.403.title'))));
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('a forged CSRF token → 403 and nothing written', async () => {
      const client = t.request();
      await client.get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      await postMultipart(client, '/kontakt', { _csrf: randomBytes(32).toString('base64url'), ...formFields() }).expect(403);
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it("another browser's CSRF token → 403 and nothing written", async () => {
      const mine = t.request();
      const theirs = t.request();
      await mine.get('/kontakt').expect(200);
      const theirPage = await theirs.get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      await postMultipart(mine, '/kontakt', { _csrf: csrfFrom(theirPage.text), ...formFields() }).expect(403);
      assert.deepEqual(await rowCounts(t.db), before);
      // The token is good in the browser it belongs to.
      await postMultipart(theirs, '/kontakt', { _csrf: csrfFrom(theirPage.text), ...formFields() }).expect(303);
    });

    it('a token without its cookie (a cross-site post) → 403', async () => {
      const page = await t.request().get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      await postMultipart(t.request(), '/kontakt', { _csrf: csrfFrom(page.text), ...formFields() }).expect(403);
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('a refused post with a file leaves no temporary file behind', async () => {
      const tmp = path.join(t.dataDir, 'tmp');
      const pdf: UploadFile = { filename: 'ritning.pdf', content: pdfBytes(), contentType: 'application/pdf' };
      const before = await rowCounts(t.db);
      // Failing validation, failing CSRF and an unknown topic, each with a file attached.
      await submitContact(t.request(), formFields({ name: '' }), [pdf]).expect(400);
      const client = t.request();
      await client.get('/kontakt').expect(200);
      await postMultipart(client, '/kontakt', { _csrf: 'forged', ...formFields() }, [pdf]).expect(403);
      await submitContact(t.request(), formFields({ category: 'finns-inte' }), [pdf]).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.deepEqual(filesUnder(tmp), [], 'temporary uploads are removed');
      assert.deepEqual(filesUnder(t.config.uploads.dir), [], 'nothing was stored');
    });
  });

  describe('the private link', () => {
    it("another resident's link (a random 43-character token) → 404", async () => {
      const res = await t.request().get(`/arende/${randomBytes(32).toString('base64url')}`).expect(404);
      assert.ok(res.text.includes(html(translate('sv', 'errors.page.404.title'))));
      await t.request().get(`/kvitto/${randomBytes(32).toString('base64url')}`).expect(404);
    });

    it('a malformed token → 404', async () => {
      for (const bad of ['abc', 'x'.repeat(44), `${'a'.repeat(42)}!`, '..%2F..%2Fetc%2Fpasswd']) {
        await t.request().get(`/arende/${bad}`).expect(404);
      }
      await t.request().get('/kvitto/abc').expect(404);
    });

    it('a follow-up through a malformed or unknown link → 404 and nothing written', async () => {
      const client = t.request();
      const page = await client.get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      const pdf: UploadFile = { filename: 'bilaga.pdf', content: pdfBytes(), contentType: 'application/pdf' };
      await postMultipart(client, '/arende/abc', { _csrf: csrfFrom(page.text), message: 'Hej' }, [pdf]).expect(404);
      await postMultipart(client, `/arende/${randomBytes(32).toString('base64url')}`, { _csrf: csrfFrom(page.text), message: 'Hej' }, [pdf]).expect(404);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.deepEqual(filesUnder(path.join(t.dataDir, 'tmp')), [], 'temporary uploads are removed');
    });

    it('an empty follow-up → 400 on the case page with the field error, nothing written', async () => {
      const res0 = await submitContact(t.request(), formFields()).expect(303);
      const token = tokenFrom(res0.headers.location);
      const client = t.request();
      const page = await client.get(`/arende/${token}`).expect(200);
      const before = await rowCounts(t.db);
      const res = await postMultipart(client, `/arende/${token}`, { _csrf: csrfFrom(page.text), message: '  ' }).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.match(res.text, /<li><a href="#f-message">[^<]+<\/a><\/li>/);
      assert.match(res.text, /id="f-message"[^>]*aria-invalid="true"/);
    });

    it('a follow-up on a closed case → 409 with a clear message and nothing written', async () => {
      const res0 = await submitContact(t.request(), formFields()).expect(303);
      const token = tokenFrom(res0.headers.location);
      const c = await caseByToken(t, token);
      const agent: AuthUser = await t.services.auth.createUser({ email: `closer.${++seq}@test.example`, name: 'Closer', role: 'agent', password: TEST_PASSWORD });
      await t.services.cases.update(c.reference, agent, { status: 'resolved' });
      await t.services.cases.update(c.reference, agent, { status: 'closed' });

      const client = t.request();
      const page = await client.get(`/arende/${token}`).expect(200);
      assert.match(page.text, /status--closed/);
      assert.ok(page.text.includes(html(translate('sv', 'case.closed_note'))));
      assert.doesNotMatch(page.text, new RegExp(`action="/arende/${token}"`), 'no reply form on a closed case');
      // A page opened before the case was closed still has its token: any page of this browser gives it.
      const form = await client.get('/kontakt').expect(200);
      const before = await rowCounts(t.db);
      const res = await postMultipart(client, `/arende/${token}`, { _csrf: csrfFrom(form.text), message: 'En sak till' }, [
        { filename: 'bilaga.pdf', content: pdfBytes(), contentType: 'application/pdf' },
      ]).expect(409);
      assert.deepEqual(await rowCounts(t.db), before);
      assert.ok(res.text.includes(html(translate('sv', 'case.closed_note'))), 'says the case is closed');
      assert.ok(res.text.includes('href="/kontakt"'), 'points to a new question');
      assert.ok(!res.text.includes('En sak till<'), 'the message was not added to the conversation');
      assert.deepEqual(filesUnder(path.join(t.dataDir, 'tmp')), [], 'the refused file is not kept');
      assert.deepEqual(filesUnder(t.config.uploads.dir), []);
    });
  });

  describe('language', () => {
    it('?lang=en sets a cookie and renders <html lang="en">; the cookie keeps it; ?lang=sv switches back', async () => {
      const client = t.request();
      const res = await client.get('/?lang=en').expect(200);
      const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      const langCookie = setCookie.find((c) => c.startsWith('sc_lang='));
      assert.ok(langCookie, 'sets the language cookie');
      assert.match(langCookie, /^sc_lang=en;/);
      assert.match(langCookie, /Max-Age=\d+/);
      assert.match(res.text, /<html lang="en"/);
      if (existsSync(EN_LOCALE)) {
        const en = JSON.parse(readFileSync(EN_LOCALE, 'utf8')) as { home?: { heading?: string } };
        if (en.home?.heading) assert.ok(res.text.includes(html(en.home.heading)), 'shows the English heading');
        if (en.home?.heading) assert.ok(!res.text.includes(html(translate('sv', 'home.heading'))), 'and not the Swedish one');
      }
      // The language link offers Swedish now.
      assert.match(res.text, /hreflang="sv"/);

      const again = await client.get('/kontakt').expect(200);
      assert.match(again.text, /<html lang="en"/, 'the cookie keeps the language');
      const topicsEn = await client.get('/').expect(200);
      assert.ok(topicsEn.text.includes('<strong>Building permits</strong>'), 'topics are named in English');

      const back = await client.get('/?lang=sv').expect(200);
      assert.match(back.text, /<html lang="sv"/);
      assert.ok(back.text.includes(html(translate('sv', 'home.heading'))));
    });

    it('an unknown language is ignored', async () => {
      const res = await t.request().get('/?lang=xx').expect(200);
      assert.match(res.text, /<html lang="sv"/);
      assert.ok(!([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => c.startsWith('sc_lang=')));
    });

    it('a case sent from an English page is kept in English', async () => {
      const client = t.request();
      await client.get('/?lang=en').expect(200);
      const res = await submitContact(client, formFields()).expect(303);
      const c = await caseByToken(t, tokenFrom(res.headers.location));
      assert.equal(c.language, 'en');
    });
  });
});

describe('web intake: rate limits', () => {
  const limited = { rateLimits: { intakePerWindow: 2, loginPerWindow: 0, windowMs: 60_000 } };

  it('the 3rd POST /kontakt from the same address → 429, and nothing written', async () => {
    const t = await startTestApp({ config: limited });
    try {
      const client = t.request();
      await submitContact(client, formFields()).expect(303);
      await submitContact(client, formFields()).expect(303);
      const before = await rowCounts(t.db);
      const res = await submitContact(client, formFields()).expect(429);
      assert.ok(res.text.includes(html(translate('sv', 'errors.page.429.title'))));
      assert.deepEqual(await rowCounts(t.db), before);
      // Reading pages is not limited.
      await client.get('/kontakt').expect(200);
    } finally {
      await t.close();
    }
  });

  it('the 3rd POST /api/v1/cases from the same address → 429 in JSON, and nothing written', async () => {
    const t = await startTestApp({ config: limited });
    try {
      await t.request().post('/api/v1/cases').send(newCase()).expect(201);
      await t.request().post('/api/v1/cases').send(newCase()).expect(201);
      const before = await rowCounts(t.db);
      const res = await t.request().post('/api/v1/cases').send(newCase()).expect(429).expect('Content-Type', /json/);
      assert.equal(res.body.error, 'rate_limited');
      assert.deepEqual(await rowCounts(t.db), before);
    } finally {
      await t.close();
    }
  });
});
