import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { translate } from '../../server/platform/i18n.js';
import { resolveRange, type StatsFilter } from '../../server/stats/filter.js';
import type { SurveyRow } from '../../server/survey/store.js';
import { csrfFrom, newCase, startTestApp, type TestApp } from '../support/harness.js';
import { apiUser, caseRow, countOf } from './helpers.js';

/**
 * The optional service survey: the invitation mailed in the transaction that
 * resolves a case, the resident's page at /enkat/:token (three questions,
 * 1 to 5, each optional, answered once), and SKR's indices over a period
 * with the statistics filters.
 */

type Lang = 'sv' | 'en' | 'ar';

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
const tx = (lang: Lang, key: string, vars: Record<string, unknown> = {}) => html(translate(lang, key, vars));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function contains(page: string, text: string, what = 'the page'): void {
  if (!page.includes(text)) assert.fail(`${what} does not contain ${JSON.stringify(text)}:\n${main(page).slice(0, 2000)}`);
}

function main(page: string): string {
  const start = page.indexOf('<main');
  const end = page.indexOf('</main>');
  assert.ok(start >= 0 && end > start, 'the page has a <main>');
  return page.slice(start, end);
}

const TOKEN_IN_LINK = /http:\/\/localhost:3000\/enkat\/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/;

describe('the service survey', function () {
  this.timeout(60_000);
  let t: TestApp;
  let auth: { Authorization: string };
  let agentId: number;

  before(async () => {
    t = await startTestApp({ config: { survey: { enabled: true, validDays: 30 } } });
    const api = await apiUser(t, 'agent', 'Agnes Agent');
    auth = api.auth;
    agentId = api.user.id;
  });
  after(() => t.close());

  const setStatus = (reference: string, status: string, extra: Record<string, unknown> = {}) =>
    t.request().patch(`/api/v1/cases/${reference}`).set(auth).send({ status, ...extra }).expect(200);

  async function newCaseVia(overrides: Record<string, unknown> = {}) {
    const body = newCase(overrides);
    const res = await t.request().post('/api/v1/cases').set(auth).send(body).expect(201);
    const c = await caseRow(t.db, res.body.reference as string);
    return { reference: c.reference, caseId: c.id, email: body.email as string | undefined };
  }

  const surveysOf = (caseId: number) => t.db<SurveyRow>('service_surveys').where({ case_id: caseId });
  const surveyMailsOf = (caseId: number) => t.db('mail_outbox').where({ case_id: caseId, kind: 'survey' }).orderBy('id');

  /** A case resolved with an invitation; answers the link's token from the mail. */
  async function invited(overrides: Record<string, unknown> = {}) {
    const c = await newCaseVia(overrides);
    await setStatus(c.reference, 'resolved');
    const [mail] = await surveyMailsOf(c.caseId);
    assert.ok(mail, 'a survey mail was queued');
    const token = TOKEN_IN_LINK.exec(mail.text_body)?.[1];
    assert.ok(token, `the mail has the link:\n${mail.text_body}`);
    return { ...c, token, mail };
  }

  /** A browser on the survey page: its cookies and the form's CSRF token. */
  async function reader(token: string, query = '') {
    const agent = t.request();
    const page = await agent.get(`/enkat/${token}${query}`).expect(200);
    return { agent, csrf: csrfFrom(page.text), page };
  }

  const row = async (token: string) => t.db<SurveyRow>('service_surveys').where({ token_hash: sha256(token) }).first();

  describe('the invitation', () => {
    it('resolving a case with an e-mail address writes one invitation and queues one mail, in Swedish, with the link', async () => {
      const c = await newCaseVia();
      await setStatus(c.reference, 'resolved', { assigneeId: agentId });
      const rows = await surveysOf(c.caseId);
      assert.equal(rows.length, 1, 'one invitation');
      const mails = await surveyMailsOf(c.caseId);
      assert.equal(mails.length, 1, 'one survey mail');
      const [s, mail] = [rows[0]!, mails[0]];

      const kase = await caseRow(t.db, c.reference);
      assert.equal(s.language, 'sv');
      assert.equal(s.channel, kase.channel);
      assert.equal(s.category_id, kase.category_id);
      assert.equal(s.department_id, kase.department_id);
      assert.equal(s.assignee_id, agentId, 'the assignee at the time of resolving');
      assert.equal(s.answered_at, null);
      assert.deepEqual([s.treatment, s.ease, s.clarity], [null, null, null]);
      const days = (new Date(s.expires_at).getTime() - new Date(s.created_at).getTime()) / 86_400_000;
      assert.ok(Math.abs(days - 30) < 0.01, `open for SURVEY_VALID_DAYS (${days})`);

      assert.equal(mail.to_address, c.email);
      assert.equal(mail.subject, translate('sv', 'survey.email.subject', { reference: c.reference }));
      assert.equal(mail.auto_submitted, 'auto-generated');
      assert.equal(mail.in_reply_to, null);
      const token = TOKEN_IN_LINK.exec(mail.text_body)?.[1];
      assert.ok(token, 'the text has the link');
      assert.ok(mail.html_body.includes(`href="http://localhost:3000/enkat/${token}"`), 'the HTML has the link');
      assert.ok(mail.html_body.includes('<html lang="sv" dir="ltr">'));
      assert.ok(mail.text_body.includes(translate('sv', 'survey.email.ask')));

      // Only the token's hash is kept; no column holds the token itself.
      assert.equal(s.token_hash, sha256(token));
      assert.ok(!Object.values(s).some((v) => String(v).includes(token)), 'the token is not stored');
    });

    it('in the case language: an Arabic case gets an Arabic mail, right to left', async () => {
      const { caseId, reference, mail } = await invited({ language: 'ar' });
      assert.equal((await surveysOf(caseId))[0]!.language, 'ar');
      assert.equal(mail.subject, translate('ar', 'survey.email.subject', { reference: `\u2068${reference}\u2069` }));
      assert.ok(mail.html_body.includes('<html lang="ar" dir="rtl">'));
      assert.ok(mail.text_body.includes(translate('ar', 'survey.email.ask')));
      assert.match(mail.text_body, /\u2066http:\/\/localhost:3000\/enkat\/[A-Za-z0-9_-]{43}\u2069/, 'the link kept left to right');
    });

    it('resolved, reopened and resolved again: still one invitation and one mail', async () => {
      const { reference, caseId } = await invited();
      await setStatus(reference, 'open');
      await setStatus(reference, 'resolved');
      await setStatus(reference, 'closed');
      assert.equal((await surveysOf(caseId)).length, 1);
      assert.equal((await surveyMailsOf(caseId)).length, 1);
    });

    it('resolving by a reply invites too, in the same change as the reply', async () => {
      const c = await newCaseVia();
      await t.request().post(`/api/v1/cases/${c.reference}/replies`).set(auth).send({ body: 'Nej, du behöver inget bygglov.', status: 'resolved' }).expect(201);
      assert.equal((await surveysOf(c.caseId)).length, 1);
      const kinds = (await t.db('mail_outbox').where({ case_id: c.caseId }).orderBy('id').select('kind')).map((r: { kind: string }) => r.kind);
      assert.deepEqual(kinds, ['acknowledgement', 'reply', 'survey']);
    });

    it('a callback that settled the question resolves its case and invites the resident (the shared case changer)', async () => {
      const slot = t.services.callbacks.slots()[0]!;
      const email = `greta.${Date.now()}@example.com`;
      const res = await t.request().post('/api/v1/callbacks').send({ name: 'Greta Gran', phone: '070-123 45 67', email, category: 'forsorjningsstod', slot: slot.start.toISOString() }).expect(201);
      const c = await caseRow(t.db, res.body.reference as string);
      await t.request().post(`/api/v1/cases/${c.reference}/callback-attempts`).set(auth).send({ result: 'reached', resolve: true }).expect(201);
      const rows = await surveysOf(c.id);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.channel, 'phone');
      const mails = await surveyMailsOf(c.id);
      assert.deepEqual(mails.map((m: { to_address: string }) => m.to_address), [email]);
    });

    it('no e-mail address (a phone number only): no invitation, no mail', async () => {
      const c = await newCaseVia({ email: undefined, phone: '070-123 45 67' });
      await setStatus(c.reference, 'resolved');
      assert.equal((await surveysOf(c.caseId)).length, 0);
      assert.equal(await countOf(t.db, 'mail_outbox', { case_id: c.caseId }), 0);
    });

    it('an address that bounces, or one of our own: no invitation, no mail', async () => {
      const bouncing = await newCaseVia();
      await t.db('residents').whereRaw('lower(email) = lower(?)', [bouncing.email!]).update({ email_failing_at: new Date(), email_failure: '550 no such user' });
      await setStatus(bouncing.reference, 'resolved');
      const ours = await newCaseVia({ email: t.config.intake.addresses[0] });
      await setStatus(ours.reference, 'resolved');
      for (const c of [bouncing, ours]) {
        assert.equal((await surveysOf(c.caseId)).length, 0);
        assert.equal((await surveyMailsOf(c.caseId)).length, 0);
      }
    });

    it('a refused resolve writes no invitation', async () => {
      const c = await newCaseVia();
      await setStatus(c.reference, 'resolved');
      await setStatus(c.reference, 'closed');
      const before = await countOf(t.db, 'service_surveys');
      await t.request().patch(`/api/v1/cases/${c.reference}`).set(auth).send({ status: 'resolved' }).expect(409);
      assert.equal(await countOf(t.db, 'service_surveys'), before);
    });

    it('with the survey turned off (the default): nothing is written or sent', async () => {
      const off = await startTestApp();
      try {
        assert.equal(off.config.survey.enabled, false);
        const api = await apiUser(off, 'agent');
        const res = await off.request().post('/api/v1/cases').set(api.auth).send(newCase()).expect(201);
        await off.request().patch(`/api/v1/cases/${res.body.reference}`).set(api.auth).send({ status: 'resolved' }).expect(200);
        assert.equal(await countOf(off.db, 'service_surveys'), 0);
        assert.equal(await countOf(off.db, 'mail_outbox', { kind: 'survey' }), 0);
        assert.equal(await countOf(off.db, 'mail_outbox'), 1, 'only the acknowledgement');
      } finally {
        await off.close();
      }
    });
  });

  describe('the page', () => {
    it('shows three questions with a 1 to 5 scale, labelled at the ends, in the case language (sv)', async () => {
      const { token } = await invited();
      const res = await t.request().get(`/enkat/${token}`).expect(200);
      assert.equal(res.headers['cache-control'], 'no-store');
      contains(res.text, '<html lang="sv" dir="ltr">');
      const m = main(res.text);
      contains(m, `<h1>${tx('sv', 'survey.title')}</h1>`);
      contains(m, `<form method="post" action="/enkat/${token}"`);
      contains(m, 'name="_csrf"');
      for (const q of ['treatment', 'ease', 'clarity']) {
        contains(m, `<legend>${tx('sv', `survey.questions.${q}.legend`)}</legend>`);
        for (const g of [1, 2, 3, 4, 5]) contains(m, `<input type="radio" id="f-${q}-${g}" name="${q}" value="${g}">`);
        contains(m, `<label for="f-${q}-1">1 – ${tx('sv', `survey.questions.${q}.low`)}</label>`);
        contains(m, `<label for="f-${q}-3">3</label>`);
        contains(m, `<label for="f-${q}-5">5 – ${tx('sv', `survey.questions.${q}.high`)}</label>`);
      }
      assert.equal((m.match(/type="radio"/g) ?? []).length, 15);
      assert.ok(!m.includes('<textarea'), 'no free text');
    });

    it('an Arabic case: in Arabic, right to left; the reader may choose English', async () => {
      const { token } = await invited({ language: 'ar' });
      const ar = await t.request().get(`/enkat/${token}`).expect(200);
      contains(ar.text, '<html lang="ar" dir="rtl">');
      contains(main(ar.text), `<h1>${tx('ar', 'survey.title')}</h1>`);
      contains(main(ar.text), `<label for="f-ease-5">5 – ${tx('ar', 'survey.questions.ease.high')}</label>`);
      const en = await t.request().get(`/enkat/${token}?lang=en`).expect(200);
      contains(en.text, '<html lang="en" dir="ltr">');
      contains(main(en.text), `<h1>${tx('en', 'survey.title')}</h1>`);
      contains(main(en.text), `<legend>${tx('en', 'survey.questions.treatment.legend')}</legend>`);
    });

    it('an unknown link: 404', async () => {
      await t.request().get(`/enkat/${'A'.repeat(43)}`).expect(404);
    });

    it('a link of the wrong shape never reaches the database', async () => {
      const queries: string[] = [];
      const listen = (q: { sql: string }) => queries.push(q.sql);
      t.db.on('query', listen);
      try {
        const { agent, csrf } = await reader((await invited()).token);
        queries.length = 0;
        const bad = ['..%2F..%2Fetc%2Fpasswd', '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', 'A'.repeat(44), 'A'.repeat(42), `${'A'.repeat(42)}%3D`, `${'A'.repeat(42)}'`];
        for (const b of bad) {
          await agent.get(`/enkat/${b}`).expect(404);
          await agent.post(`/enkat/${b}`).type('form').send({ _csrf: csrf, treatment: '5' }).expect(404);
        }
        assert.deepEqual(queries.filter((q) => q.includes('service_surveys')), [], 'no query on the surveys');
        // The listener does see the lookups of a link of the right shape.
        await agent.get(`/enkat/${'B'.repeat(43)}`).expect(404);
        assert.ok(queries.some((q) => q.includes('service_surveys')), 'a well-formed link is looked up');
      } finally {
        t.db.off('query', listen);
      }
    });
  });

  describe('answering', () => {
    it('records the answers once, then shows the thanks; the same link afterwards says it is answered', async () => {
      const { token } = await invited();
      const { agent, csrf } = await reader(token);
      const res = await agent.post(`/enkat/${token}`).type('form').send({ _csrf: csrf, treatment: '5', ease: '4', clarity: '2' }).expect(303);
      assert.equal(res.headers.location, `/enkat/${token}?tack=1`);
      const s = (await row(token))!;
      assert.deepEqual([s.treatment, s.ease, s.clarity], [5, 4, 2]);
      assert.ok(s.answered_at);

      const thanks = await agent.get(res.headers.location!).expect(200);
      contains(main(thanks.text), `<h1>${tx('sv', 'survey.thanks.title')}</h1>`);
      assert.ok(!main(thanks.text).includes('<form'), 'no form after answering');
      const again = await t.request().get(`/enkat/${token}`).expect(200);
      contains(main(again.text), `<h1>${tx('sv', 'survey.answered.title')}</h1>`);
      contains(main(again.text), tx('sv', 'survey.answered.text'));

      // A second answer is refused, and the first stays as it was.
      const second = await agent.post(`/enkat/${token}`).type('form').send({ _csrf: csrf, treatment: '1' }).expect(409);
      contains(main(second.text), `<h1>${tx('sv', 'survey.answered.title')}</h1>`);
      assert.deepEqual(await row(token), s);
    });

    it('one question is enough; the others stay empty', async () => {
      const { token } = await invited();
      const { agent, csrf } = await reader(token);
      await agent.post(`/enkat/${token}`).type('form').send({ _csrf: csrf, treatment: '', ease: '3' }).expect(303);
      const s = (await row(token))!;
      assert.deepEqual([s.treatment, s.ease, s.clarity], [null, 3, null]);
    });

    describe('bad answers: 400, the error summary names the problem, nothing is written', () => {
      let token: string;
      let form: Awaited<ReturnType<typeof reader>>;
      before(async () => {
        token = (await invited({ language: 'en' })).token;
        form = await reader(token, '?lang=en');
      });

      async function refused(body: Record<string, unknown>, message: string, href: string, lang: Lang = 'en') {
        const before = await row(token);
        const res = await form.agent.post(`/enkat/${token}`).type('form').send({ _csrf: form.csrf, ...body }).expect(400);
        const m = main(res.text);
        contains(m, 'class="error-summary"');
        contains(m, `<a href="${href}">${html(message)}</a>`, 'the error summary');
        contains(res.text, `<title>${tx(lang, 'survey.title_error')}`);
        assert.deepEqual(await row(token), before, 'nothing written');
        return m;
      }

      const scale = translate('en', 'survey.errors.scale');
      it('0, 6 and "x" are not on the scale', async () => {
        await refused({ treatment: '0' }, scale, '#f-treatment-1');
        await refused({ ease: '6' }, scale, '#f-ease-1');
        const m = await refused({ clarity: 'x', treatment: '4' }, scale, '#f-clarity-1');
        contains(m, '<p class="field-error" id="f-clarity-error">', 'the error at the question');
        contains(m, '<input type="radio" id="f-treatment-4" name="treatment" value="4" checked>', 'a valid choice stays chosen');
      });

      it('a grade given twice, or a very long value', async () => {
        await refused({ treatment: ['1', '2'] }, scale, '#f-treatment-1');
        await refused({ ease: '5'.repeat(5000) }, scale, '#f-ease-1');
        await refused({ clarity: '3.0' }, scale, '#f-clarity-1');
      });

      it('no answer at all', async () => {
        const none = translate('en', 'survey.errors.none');
        await refused({}, none, '#f-treatment-1');
        await refused({ treatment: '', ease: '', clarity: '' }, none, '#f-treatment-1');
      });

      it('a field the form does not have', async () => {
        await refused({ treatment: '5', comment: 'Mitt personnummer är …' }, translate('en', 'errors.unknown_field'), '#f-treatment-1');
      });

      it('in the reader\'s language (Swedish)', async () => {
        const sv = await reader(token, '?lang=sv');
        const before = await row(token);
        const res = await sv.agent.post(`/enkat/${token}`).type('form').send({ _csrf: sv.csrf, ease: '9' }).expect(400);
        contains(main(res.text), `<a href="#f-ease-1">${tx('sv', 'survey.errors.scale')}</a>`);
        assert.deepEqual(await row(token), before);
      });

      it('a body larger than the form parser takes: 413, nothing written', async () => {
        const before = await row(token);
        await form.agent.post(`/enkat/${token}`).type('form').send({ _csrf: form.csrf, treatment: '5', padding: 'x'.repeat(250_000) }).expect(413);
        assert.deepEqual(await row(token), before);
      });

      it('still unanswered after all that', async () => {
        const s = (await row(token))!;
        assert.equal(s.answered_at, null);
      });
    });

    it('without or with a wrong CSRF token: 403, nothing written', async () => {
      const { token } = await invited();
      const { agent, csrf } = await reader(token);
      await agent.post(`/enkat/${token}`).type('form').send({ treatment: '5' }).expect(403);
      await agent.post(`/enkat/${token}`).type('form').send({ _csrf: `${csrf.slice(0, -2)}xx`, treatment: '5' }).expect(403);
      await t.request().post(`/enkat/${token}`).type('form').send({ _csrf: csrf, treatment: '5' }).expect(403);
      assert.equal((await row(token))!.answered_at, null);
    });

    it('is rate limited like the other resident forms', async () => {
      const limited = await startTestApp({ config: { survey: { enabled: true, validDays: 30 }, rateLimits: { ...t.config.rateLimits, intakePerWindow: 2 } } });
      try {
        const api = await apiUser(limited, 'agent');
        const created = await limited.request().post('/api/v1/cases').set(api.auth).send(newCase()).expect(201);
        await limited.request().patch(`/api/v1/cases/${created.body.reference}`).set(api.auth).send({ status: 'resolved' }).expect(200);
        const mail = await limited.db('mail_outbox').where({ kind: 'survey' }).first<{ text_body: string }>('text_body');
        const token = TOKEN_IN_LINK.exec(mail.text_body)![1]!;
        const client = limited.request();
        const csrf = csrfFrom((await client.get(`/enkat/${token}`).expect(200)).text);
        const send = (body: Record<string, string>) => client.post(`/enkat/${token}`).type('form').send({ _csrf: csrf, ...body });
        await send({ treatment: '0' }).expect(400);
        await send({}).expect(400);
        const res = await send({ treatment: '5' }).expect(429);
        contains(res.text, tx('sv', 'errors.page.429.title'));
        assert.equal((await limited.db('service_surveys').first<SurveyRow>()).answered_at, null, 'nothing written');
      } finally {
        await limited.close();
      }
    });

    it('an expired link: the page says the survey has closed (410), and an answer is refused', async () => {
      const { token } = await invited({ language: 'ar' });
      const { agent, csrf } = await reader(token);
      await t.db('service_surveys')
        .where({ token_hash: sha256(token) })
        .update({ created_at: new Date(Date.now() - 31 * 86_400_000), expires_at: new Date(Date.now() - 86_400_000) });
      const page = await t.request().get(`/enkat/${token}`).expect(410);
      contains(page.text, '<html lang="ar" dir="rtl">');
      contains(main(page.text), `<h1>${tx('ar', 'survey.closed.title')}</h1>`);
      contains(main(page.text), tx('ar', 'survey.closed.text', { days: 30 }));
      assert.ok(!main(page.text).includes('<form method="post"'), 'no form');
      const before = await row(token);
      const res = await agent.post(`/enkat/${token}`).type('form').send({ _csrf: csrf, treatment: '5' }).expect(410);
      contains(main(res.text), `<h1>${tx('ar', 'survey.closed.title')}</h1>`);
      assert.deepEqual(await row(token), before);
    });
  });

  describe('the indices', () => {
    const TZ = 'Europe/Stockholm';
    const filter = (from: string, to: string, f: Omit<StatsFilter, 'range'> = {}): StatsFilter => ({ range: resolveRange({ from, to }, TZ), ...f });
    let X: number;
    let Y: number;
    let D1: number;
    let D2: number;
    let U1: number;
    let U2: number;

    /**
     * Seven surveys around 10 March 2024 (Stockholm is UTC+1 then): local
     * midnight of the 10th is 2024-03-09T23:00Z.
     */
    before(async () => {
      const cat = async (slug: string) => (await t.db('categories').where({ slug }).first<{ id: number }>('id')).id;
      const dep = async (slug: string) => (await t.db('departments').where({ slug }).first<{ id: number }>('id')).id;
      [X, Y, D1, D2] = [await cat('bygglov'), await cat('forskoleplats'), await dep('samhallsbyggnad'), await dep('utbildning')];
      U1 = (await apiUser(t, 'agent', 'Ulla Ett')).user.id;
      U2 = (await apiUser(t, 'agent', 'Urban Två')).user.id;
      const rows: Partial<SurveyRow>[] = [
        // A: answered at local midnight of the 10th, so on the 10th.
        { channel: 'web', category_id: X, department_id: D1, assignee_id: U1, created_at: new Date('2024-03-05T09:00:00Z'), answered_at: new Date('2024-03-09T23:00:00.000Z'), treatment: 5, ease: 4, clarity: 5 },
        // B: the last millisecond of the 9th.
        { channel: 'email', category_id: X, department_id: null, assignee_id: U2, created_at: new Date('2024-03-09T10:00:00Z'), answered_at: new Date('2024-03-09T22:59:59.999Z'), treatment: 1, ease: 1, clarity: null },
        // C, D: during the 10th, D in its last millisecond.
        { channel: 'web', category_id: Y, department_id: D2, assignee_id: U1, created_at: new Date('2024-03-10T08:00:00Z'), answered_at: new Date('2024-03-10T12:00:00Z'), treatment: 4, ease: null, clarity: 3 },
        { channel: 'phone', category_id: Y, department_id: D1, assignee_id: U2, created_at: new Date('2024-03-10T09:00:00Z'), answered_at: new Date('2024-03-10T22:59:59.999Z'), treatment: 3, ease: 2, clarity: 1 },
        // E: local midnight of the 11th.
        { channel: 'web', category_id: X, department_id: D1, assignee_id: U1, created_at: new Date('2024-03-10T10:00:00Z'), answered_at: new Date('2024-03-10T23:00:00.000Z'), treatment: 2, ease: 2, clarity: 2 },
        // F, G: not answered; G invited at local midnight of the 10th.
        { channel: 'web', category_id: X, department_id: D1, assignee_id: U1, created_at: new Date('2024-03-10T11:00:00Z'), answered_at: null },
        { channel: 'email', category_id: Y, department_id: null, assignee_id: U2, created_at: new Date('2024-03-09T23:00:00.000Z'), answered_at: null },
      ];
      for (const [i, r] of rows.entries()) {
        const c = await newCaseVia();
        await t.db('service_surveys').insert({
          case_id: c.caseId,
          token_hash: sha256(`indices-${i}`),
          language: 'sv',
          expires_at: new Date(r.created_at!.getTime() + 30 * 86_400_000),
          treatment: null,
          ease: null,
          clarity: null,
          ...r,
        });
      }
    });

    const indices = (f: StatsFilter) => t.services.surveys.indices(f);

    it('one day: the answers given that day, with distributions, and the invitations made that day', async () => {
      const r = await indices(filter('2024-03-10', '2024-03-10'));
      assert.equal(r.answered, 3, 'A, C and D');
      assert.deepEqual(r.treatment, { index: 75, responses: 3, distribution: [0, 0, 1, 1, 1] });
      assert.deepEqual(r.ease, { index: 50, responses: 2, distribution: [0, 1, 0, 1, 0] });
      assert.deepEqual(r.clarity, { index: 50, responses: 3, distribution: [1, 0, 1, 0, 1] });
      assert.equal(r.invited, 5, 'C, D, E, F and G');
      assert.equal(r.responseRate, 0.6, 'C, D and E of them answered');
    });

    it('the edges: local midnight belongs to the day it starts', async () => {
      const ninth = await indices(filter('2024-03-09', '2024-03-09'));
      assert.equal(ninth.answered, 1, 'B only');
      assert.deepEqual(ninth.treatment, { index: 0, responses: 1, distribution: [1, 0, 0, 0, 0] });
      assert.equal(ninth.clarity.index, null);
      assert.equal(ninth.invited, 1, 'B (G was invited at midnight, on the 10th)');
      const eleventh = await indices(filter('2024-03-11', '2024-03-11'));
      assert.equal(eleventh.answered, 1, 'E only');
      assert.equal(eleventh.treatment.index, 25);
      assert.equal(eleventh.invited, 0);
      assert.equal(eleventh.responseRate, null);
      const none = await indices(filter('2024-03-12', '2024-03-20'));
      assert.deepEqual([none.answered, none.invited, none.treatment.index, none.treatment.responses], [0, 0, null, 0]);
    });

    it('by channel', async () => {
      const r = await indices(filter('2024-03-09', '2024-03-11', { channel: 'web' }));
      assert.equal(r.answered, 3, 'A, C and E');
      assert.deepEqual(r.treatment, { index: 66.7, responses: 3, distribution: [0, 1, 0, 1, 1] });
      assert.equal(r.invited, 3, 'C, E and F (A was invited on the 5th)');
      assert.equal(r.responseRate, 2 / 3);
    });

    it('by category', async () => {
      const r = await indices(filter('2024-03-09', '2024-03-11', { categoryId: X }));
      assert.equal(r.answered, 3, 'A, B and E');
      assert.equal(r.treatment.index, 41.7);
      assert.equal(r.ease.index, 33.3);
      assert.deepEqual(r.clarity, { index: 62.5, responses: 2, distribution: [0, 1, 0, 0, 1] });
    });

    it('by department', async () => {
      const r = await indices(filter('2024-03-09', '2024-03-11', { departmentId: D1 }));
      assert.equal(r.answered, 3, 'A, D and E');
      assert.equal(r.treatment.index, 58.3);
      const d2 = await indices(filter('2024-03-09', '2024-03-11', { departmentId: D2 }));
      assert.deepEqual([d2.answered, d2.treatment.index, d2.ease.index, d2.clarity.index], [1, 75, null, 50]);
    });

    it('by agent', async () => {
      const r = await indices(filter('2024-03-09', '2024-03-11', { agentId: U2 }));
      assert.equal(r.answered, 2, 'B and D');
      assert.deepEqual(r.treatment, { index: 25, responses: 2, distribution: [1, 0, 1, 0, 0] });
      assert.equal(r.ease.index, 12.5);
      assert.deepEqual(r.clarity, { index: 0, responses: 1, distribution: [1, 0, 0, 0, 0] });
      assert.equal(r.invited, 3, 'B, D and G');
    });

    it('filters together', async () => {
      const r = await indices(filter('2024-03-10', '2024-03-10', { channel: 'web', agentId: U1, categoryId: X, departmentId: D1 }));
      assert.equal(r.answered, 1, 'A');
      assert.equal(r.treatment.index, 100);
      assert.equal(r.invited, 2, 'E and F');
      assert.equal(r.responseRate, 0.5);
    });
  });
});
