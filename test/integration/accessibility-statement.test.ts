import { strict as assert } from 'node:assert';
import { DIGG_URL, FAQ_ARTICLE, LAST_REVIEWED } from '../../server/accessibility/routes.js';
import { DESCRIPTION_MAX, PAGE_MAX } from '../../server/accessibility/service.js';
import { translate } from '../../server/platform/i18n.js';
import { csrfFrom, rowCounts, startTestApp, type TestApp } from '../support/harness.js';

/**
 * The accessibility statement that DOS-lagen requires, as a browser without
 * JavaScript uses it: the statement in Swedish, English and Arabic, the link
 * to it in the footer, and its form, whose report becomes a case in the queue.
 */

type Lang = 'sv' | 'en' | 'ar';
const LANGS: Lang[] = ['sv', 'en', 'ar'];
const REVIEWED_TEXT: Record<Lang, string> = { sv: '29 november 2026', en: '29 November 2026', ar: '29 نوفمبر 2026' };

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
const tx = (lang: Lang, key: string, vars: Record<string, unknown> = {}) => html(translate(lang, key, vars));

function contains(page: string, text: string, what = 'the page'): void {
  if (!page.includes(text)) assert.fail(`${what} does not contain ${JSON.stringify(text)}:\n${section(page, 'main').slice(0, 2000)}`);
}

/** An element's inner HTML: <main> or <footer> (the layout has links of its own). */
function section(page: string, tag: 'main' | 'footer'): string {
  const start = page.indexOf(`<${tag}`);
  const end = page.indexOf(`</${tag}>`);
  assert.ok(start >= 0 && end > start, `the page has a <${tag}>`);
  return page.slice(start, end);
}

interface CaseView {
  id: number;
  reference: string;
  status: string;
  channel: string;
  subject: string;
  language: string;
  resident_token: string;
  category: string;
  resident_name: string;
  resident_email: string | null;
  resident_phone: string | null;
}

describe('accessibility statement (/tillganglighet)', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  /** A visitor's browser on the statement: its cookies and the form's CSRF token. */
  async function visitor(lang: Lang = 'sv') {
    const agent = t.request();
    const page = await agent.get(`/tillganglighet?lang=${lang}`).expect(200);
    return { agent, csrf: csrfFrom(page.text) };
  }

  async function caseByToken(token: string): Promise<CaseView> {
    const row = await t
      .db('cases as c')
      .join('categories as k', 'k.id', 'c.category_id')
      .join('residents as r', 'r.id', 'c.resident_id')
      .where('c.resident_token', token)
      .first<CaseView | undefined>('c.id', 'c.reference', 'c.status', 'c.channel', 'c.subject', 'c.language', 'c.resident_token', 'k.slug as category', 'r.name as resident_name', 'r.email as resident_email', 'r.phone as resident_phone');
    assert.ok(row, 'the case exists');
    return row;
  }

  async function messagesOf(caseId: number): Promise<{ kind: string; body: string }[]> {
    return t.db('messages').where({ case_id: caseId }).orderBy('id').select('kind', 'body');
  }

  const tokenFrom = (location: string | undefined) => {
    const m = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(location ?? '');
    assert.ok(m, `redirected to the receipt, not ${location}`);
    return m[1]!;
  };

  describe('the statement', () => {
    for (const lang of LANGS) {
      it(`in ${lang}: language and direction, scope, status, review date, contacts, Digg and the form`, async () => {
        const res = await t.request().get(`/tillganglighet?lang=${lang}`).expect(200).expect('Content-Type', /html/);
        contains(res.text, `<html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}">`);
        const main = section(res.text, 'main');
        contains(main, `<h1>${tx(lang, 'accessibility.title')}</h1>`);
        contains(res.text, `<title>${tx(lang, 'accessibility.title')} – `);
        const { organisation, publicUrl } = t.config;
        contains(main, html(organisation.name), 'who runs it');
        contains(main, html(publicUrl), 'the address it covers');
        contains(main, tx(lang, 'accessibility.status.exceptions'), 'the compliance status');
        // The review date, machine-readable and in the reader's language.
        contains(main, `<time datetime="${LAST_REVIEWED}">${REVIEWED_TEXT[lang]}</time>`);
        // Phone and e-mail of the organisation; in Arabic kept left to right.
        const ltr = (v: string) => (lang === 'ar' ? `<span dir="ltr">${html(v)}</span>` : html(v));
        contains(main, ltr(organisation.phone), 'the phone number');
        contains(main, `<a href="mailto:${html(organisation.email)}">${ltr(organisation.email)}</a>`, 'the e-mail address');
        // The supervisory authority and its web address.
        contains(main, tx(lang, 'accessibility.enforcement.text'));
        assert.match(main, new RegExp(`<a href="${DIGG_URL.replace(/[.]/g, '\\.')}" hreflang="sv">[^<]*${ltr('www.digg.se').replace(/[.]/g, '\\.')}`), 'a link to digg.se');
        contains(main, `<a href="${FAQ_ARTICLE}">${tx(lang, 'accessibility.contact.faq')}</a>`);
        // The report form: CSRF token, the three fields, optional e-mail.
        contains(main, '<form method="post" action="/tillganglighet" novalidate>');
        assert.ok(csrfFrom(main), 'the form carries a CSRF token');
        assert.match(main, new RegExp(`<input id="f-page" name="page" type="text" value=""[^>]* maxlength="${PAGE_MAX}"`));
        assert.match(main, new RegExp(`<textarea id="f-description" name="description" rows="6" maxlength="${DESCRIPTION_MAX}" aria-required="true"`));
        assert.match(main, /<input id="f-email" name="email" type="email" value="" autocomplete="email"/);
        assert.doesNotMatch(main, /id="f-email"[^>]*aria-required/, 'the e-mail address is optional');
        contains(main, `<button type="submit">${tx(lang, 'accessibility.report.submit')}</button>`);
      });
    }

    it('the FAQ article it links to exists', async () => {
      await t.request().get(FAQ_ARTICLE).expect(200);
    });

    it('the footer of every page links to it: a resident page in each language, the statement itself and a staff page', async () => {
      for (const lang of LANGS) {
        const footer = section((await t.request().get(`/kontakt?lang=${lang}`).expect(200)).text, 'footer');
        contains(footer, `<a href="/tillganglighet">${tx(lang, 'accessibility.footer_link')}</a>`, `the footer in ${lang}`);
      }
      const own = section((await t.request().get('/tillganglighet').expect(200)).text, 'footer');
      contains(own, `<a href="/tillganglighet" aria-current="page">${tx('sv', 'accessibility.footer_link')}</a>`, 'the footer on the statement');
      const staff = await t.loginAs('agent');
      const agentPage = section((await staff.agent.get('/agent').expect(200)).text, 'footer');
      contains(agentPage, `<a href="/tillganglighet">${tx('sv', 'accessibility.footer_link')}</a>`, 'the footer on a staff page');
    });
  });

  describe('reporting a problem', () => {
    it('with an e-mail address: exactly one case in the queue on the "other" topic, an acknowledgement, then the receipt', async () => {
      const { agent, csrf } = await visitor('sv');
      const before = await rowCounts(t.db);
      const description = 'Knappen "Skicka" går inte att nå med tangentbordet.\r\nJag använder skärmläsaren NVDA.';
      const res = await agent
        .post('/tillganglighet')
        .type('form')
        .send({ _csrf: csrf, page: '/kontakt', description, email: 'Astrid.Lind@example.com' })
        .expect(303);
      const token = tokenFrom(res.headers.location);

      const after = await rowCounts(t.db);
      assert.deepEqual(after, { ...before, cases: before.cases + 1, case_events: before.case_events + 1, messages: before.messages + 1, residents: before.residents + 1, mail_outbox: before.mail_outbox + 1 });
      const c = await caseByToken(token);
      assert.equal(c.subject, 'Tillgänglighet: /kontakt');
      assert.equal(c.category, t.config.intake.category);
      assert.equal(c.category, 'ovrigt');
      assert.equal(c.channel, 'web');
      assert.equal(c.status, 'new');
      assert.equal(c.language, 'sv');
      assert.equal(c.resident_email, 'Astrid.Lind@example.com');
      assert.equal(c.resident_name, 'Astrid.Lind');
      assert.deepEqual(await messagesOf(c.id), [{ kind: 'resident', body: 'Sida: /kontakt\n\nKnappen "Skicka" går inte att nå med tangentbordet.\nJag använder skärmläsaren NVDA.' }]);
      const ack = await t.db('mail_outbox').where({ case_id: c.id }).first<{ kind: string; to_address: string }>('kind', 'to_address');
      assert.deepEqual({ ...ack }, { kind: 'acknowledgement', to_address: 'Astrid.Lind@example.com' });

      // In the agents' queue like any other contact.
      const queue = await t.services.cases.listQueue({ status: 'new', limit: 100 });
      assert.ok(queue.items.some((r) => r.reference === c.reference), 'the case is in the queue');

      // The receipt is the thank-you: its case number and private link.
      const receipt = await agent.get(res.headers.location!).expect(200);
      contains(receipt.text, `<h1>${tx('sv', 'receipt.title')}</h1>`);
      contains(receipt.text, c.reference);
      contains(receipt.text, `/arende/${token}`);
    });

    it('a resident we already know by the address keeps their name: the form asks for none', async () => {
      const email = `karin.${Date.now()}@example.com`;
      await t.services.cases.createCase({ name: 'Karin Lindqvist', email, category: 'ovrigt', message: 'En tidigare fråga' }, { channel: 'web' });
      const { agent, csrf } = await visitor('sv');
      const res = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, page: '/fragor', description: 'Bilden saknar alternativtext.', email }).expect(303);
      const c = await caseByToken(tokenFrom(res.headers.location));
      assert.equal(c.resident_email, email);
      assert.equal(c.resident_name, 'Karin Lindqvist');
    });

    it('without an e-mail address, in Arabic: an anonymous resident, no mail, the message in Arabic and the subject in Swedish', async () => {
      const { agent, csrf } = await visitor('ar');
      const before = await rowCounts(t.db);
      const res = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, page: '', description: 'لا أستطيع قراءة النص بسبب التباين الضعيف.', email: '  ' }).expect(303);
      const c = await caseByToken(tokenFrom(res.headers.location));
      assert.deepEqual(await rowCounts(t.db), { ...before, cases: before.cases + 1, case_events: before.case_events + 1, messages: before.messages + 1, residents: before.residents + 1 });
      assert.equal(c.subject, 'Tillgänglighet: ingen sida angiven');
      assert.equal(c.language, 'ar');
      assert.equal(c.category, 'ovrigt');
      assert.equal(c.resident_email, null);
      assert.equal(c.resident_phone, null);
      assert.equal(c.resident_name, translate('sv', 'contacts.unnamed'));
      assert.equal((await messagesOf(c.id))[0]!.body, `${translate('ar', 'accessibility.case.page_line', { page: translate('ar', 'accessibility.case.no_page') })}\n\nلا أستطيع قراءة النص بسبب التباين الضعيف.`);
      const receipt = await agent.get(res.headers.location!).expect(200);
      contains(receipt.text, '<html lang="ar" dir="rtl">');
      contains(receipt.text, tx('ar', 'receipt.not_mailed'));
    });

    it('a whole web address, and the longest page address and description, are taken', async () => {
      const { agent, csrf } = await visitor();
      const url = 'https://servicecenter.borlange.se/fragor/sok?q=bygglov&lang=en';
      const first = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, page: url, description: 'Sökrutan saknar etikett.' }).expect(303);
      assert.equal((await caseByToken(tokenFrom(first.headers.location))).subject, `Tillgänglighet: ${url}`);

      const longPage = `/${'a'.repeat(PAGE_MAX - 1)}`;
      const longest = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, page: longPage, description: 'x'.repeat(DESCRIPTION_MAX) }).expect(303);
      const c = await caseByToken(tokenFrom(longest.headers.location));
      assert.ok(c.subject.length <= 200 && c.subject.startsWith('Tillgänglighet: /aaa') && c.subject.endsWith('…'), `a long page address is shortened in the subject: ${c.subject.length}`);
      assert.equal((await messagesOf(c.id))[0]!.body, `Sida: ${longPage}\n\n${'x'.repeat(DESCRIPTION_MAX)}`, 'the message keeps all of it');
    });

    it('ignores fields the form does not have: no other topic, name, phone or status', async () => {
      const { agent, csrf } = await visitor();
      const res = await agent
        .post('/tillganglighet')
        .type('form')
        .send({ _csrf: csrf, description: 'Bilden saknar alternativtext.', category: 'bygglov', name: 'Mallory', phone: '070-123 45 67', subject: 'Annat', status: 'closed', language: 'en' })
        .expect(303);
      const c = await caseByToken(tokenFrom(res.headers.location));
      assert.deepEqual(
        { category: c.category, name: c.resident_name, phone: c.resident_phone, subject: c.subject, status: c.status, language: c.language },
        { category: 'ovrigt', name: translate('sv', 'contacts.unnamed'), phone: null, subject: 'Tillgänglighet: ingen sida angiven', status: 'new', language: 'sv' },
      );
    });
  });

  describe('refused reports write nothing', () => {
    const cases: { what: string; body: Record<string, string>; field: 'page' | 'description' | 'email'; message: (lang: Lang) => string }[] = [
      { what: 'an empty description', body: { page: '/kontakt', description: '' }, field: 'description', message: (l) => tx(l, 'accessibility.report.errors.description_required') },
      { what: 'a description of only spaces and control characters', body: { description: ' \u0007 \r\n ' }, field: 'description', message: (l) => tx(l, 'accessibility.report.errors.description_required') },
      { what: 'no description field at all', body: { page: '/kontakt' }, field: 'description', message: (l) => tx(l, 'accessibility.report.errors.description_required') },
      { what: 'a description one character too long', body: { description: 'x'.repeat(DESCRIPTION_MAX + 1) }, field: 'description', message: (l) => tx(l, 'errors.too_long', { max: DESCRIPTION_MAX }) },
      { what: 'a page that is neither a path nor a web address', body: { page: 'kontaktformuläret', description: 'Fungerar inte.' }, field: 'page', message: (l) => tx(l, 'accessibility.report.errors.page_invalid') },
      { what: 'a javascript: address as the page', body: { page: 'javascript:alert(1)', description: 'Fungerar inte.' }, field: 'page', message: (l) => tx(l, 'accessibility.report.errors.page_invalid') },
      { what: 'a page address one character too long', body: { page: `/${'a'.repeat(PAGE_MAX)}`, description: 'Fungerar inte.' }, field: 'page', message: (l) => tx(l, 'errors.too_long', { max: PAGE_MAX }) },
      { what: 'an e-mail address that is not one', body: { description: 'Fungerar inte.', email: 'astrid.example.com' }, field: 'email', message: (l) => tx(l, 'errors.email_invalid') },
    ];

    for (const c of cases) {
      it(`${c.what}: 400 with the error summary, the answers kept`, async () => {
        const lang: Lang = c.field === 'email' ? 'ar' : 'sv';
        const { agent, csrf } = await visitor(lang);
        const before = await rowCounts(t.db);
        const res = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, ...c.body }).expect(400);
        assert.deepEqual(await rowCounts(t.db), before, 'nothing was written');
        const main = section(res.text, 'main');
        contains(res.text, `<title>${tx(lang, 'accessibility.title_error')} – `);
        contains(main, 'class="error-summary" role="alert"');
        contains(main, `<li><a href="#f-${c.field}">${c.message(lang)}</a></li>`, 'the error summary');
        contains(main, `<p class="field-error" id="f-${c.field}-error">`, 'the error at the field');
        assert.match(main, new RegExp(`id="f-${c.field}"[^>]* aria-invalid="true"`));
        for (const [field, value] of Object.entries(c.body)) {
          if (field === 'description') contains(main, `>${html(value)}</textarea>`, 'the description kept');
          else contains(main, `name="${field}" type="${field === 'email' ? 'email' : 'text'}" value="${html(value)}"`, `the ${field} kept`);
        }
        assert.ok(csrfFrom(main), 'the form can be sent again');
      });
    }

    it('every problem at once, in the order of the form', async () => {
      const { agent, csrf } = await visitor();
      const before = await rowCounts(t.db);
      const res = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, page: 'startsidan', description: '', email: 'nej' }).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
      const links = [...section(res.text, 'main').matchAll(/<li><a href="#f-([a-z]+)">/g)].map((m) => m[1]);
      assert.deepEqual(links, ['page', 'description', 'email']);
    });

    it('repeated fields are refused, not joined', async () => {
      const { agent, csrf } = await visitor();
      const before = await rowCounts(t.db);
      await agent.post('/tillganglighet').type('form').send(`_csrf=${encodeURIComponent(csrf)}&description=ett&description=tv%C3%A5`).expect(400);
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('without a CSRF token, or with a wrong one: 403', async () => {
      const { agent, csrf } = await visitor();
      const before = await rowCounts(t.db);
      await agent.post('/tillganglighet').type('form').send({ description: 'Fungerar inte.' }).expect(403);
      await agent.post('/tillganglighet').type('form').send({ _csrf: `${csrf.slice(0, -2)}xx`, description: 'Fungerar inte.' }).expect(403);
      // A token from another browser is not this one's.
      await t.request().post('/tillganglighet').type('form').send({ _csrf: csrf, description: 'Fungerar inte.' }).expect(403);
      assert.deepEqual(await rowCounts(t.db), before);
    });
  });
});

describe('accessibility reports are rate-limited per client', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ config: { rateLimits: { intakePerWindow: 2, loginPerWindow: 0, windowMs: 60_000 } } });
  });
  after(() => t.close());

  it('answers 429 after the limit and writes nothing then; reading the statement is not limited', async () => {
    const agent = t.request();
    const csrf = csrfFrom((await agent.get('/tillganglighet').expect(200)).text);
    await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, description: 'Ett.' }).expect(303);
    await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, description: 'Två.' }).expect(303);
    const before = await rowCounts(t.db);
    const res = await agent.post('/tillganglighet').type('form').send({ _csrf: csrf, description: 'Tre.' }).expect(429);
    contains(res.text, tx('sv', 'errors.page.429.title'));
    assert.deepEqual(await rowCounts(t.db), before);
    await agent.get('/tillganglighet').expect(200);
  });
});
