import { strict as assert } from 'node:assert';
import type supertest from 'supertest';
import type { CaseRow } from '../../server/cases/store.js';
import type { OutboxRow } from '../../server/mail/store.js';
import { translate } from '../../server/platform/i18n.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, newCase, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, type LiveClient } from '../support/live-client.js';
import { deliver, INTAKE, plainMail } from '../support/smtp-client.js';

/**
 * Arabic for residents: their pages right to left with Arabic texts, the
 * language remembered on the case (its pages and mails follow it, and the
 * resident can change it on the case page), and staff pages that stay in
 * Swedish or English whatever the browser chose.
 */

let seq = 0;
const uniqueEmail = () => `arabic.${Date.now().toString(36)}.${++seq}@example.com`;

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');
const ar = (key: string, vars: Record<string, unknown> = {}) => html(translate('ar', key, vars));

function assertArabicPage(res: { text: string }, ...keys: string[]): void {
  assert.match(res.text, /<html lang="ar" dir="rtl">/, 'an Arabic page, right to left');
  for (const key of keys) assert.ok(res.text.includes(ar(key)), `shows ${key} in Arabic: ${translate('ar', key)}`);
  assert.ok(!res.text.includes(html(translate('sv', 'nav.skip'))), 'not the Swedish skip link');
}

const langCookie = (res: { headers: Record<string, unknown> }) => ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sc_lang='));

describe('Arabic for residents', function () {
  this.timeout(30_000);
  let t: TestApp;
  let agent: SignedIn;

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Amal Agent');
  });
  after(async () => {
    await t?.close();
  });

  const caseByToken = async (token: string) => (await t.db<CaseRow>('cases').where({ resident_token: token }).first())!;
  const outboxOf = (caseId: number) => t.db<OutboxRow>('mail_outbox').where({ case_id: caseId }).orderBy('id');

  /** The contact form in Arabic, sent like a browser: the case's private token. */
  async function submitInArabic(client: supertest.Agent, fields: Record<string, string> = {}): Promise<string> {
    const page = await client.get('/kontakt?lang=ar').expect(200);
    const res = await postMultipart(client, '/kontakt', {
      _csrf: csrfFrom(page.text),
      category: 'bygglov',
      name: 'سارة أحمد',
      email: uniqueEmail(),
      phone: '070-123 45 67',
      subject: 'سؤال عن رخصة بناء',
      message: 'هل أحتاج إلى رخصة بناء لبيت صغير في حديقتي؟',
      ...fields,
    }).expect(303);
    const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(res.headers.location ?? '')?.[1];
    assert.ok(token, `redirects to the receipt, got ${res.headers.location}`);
    return token;
  }

  describe('the resident pages in Arabic', () => {
    it('home: lang="ar" dir="rtl", Arabic texts and topics, links to Swedish and English, numbers kept left to right', async () => {
      const res = await t.request().get('/?lang=ar').expect(200);
      assertArabicPage(res, 'home.heading', 'home.lead', 'home.other_ways', 'nav.contact');
      assert.match(langCookie(res) ?? '', /^sc_lang=ar;/, 'the choice is remembered in this browser');
      assert.ok(res.text.includes(`<strong>${html(translate('ar', 'topic.bygglov.name'))}</strong>`), 'topics are named in Arabic');
      assert.match(res.text, /hreflang="sv"/);
      assert.match(res.text, /hreflang="en"/);
      assert.doesNotMatch(res.text, /hreflang="ar"/, 'no link to the language the page is in');
      const phone = t.config.organisation.phone;
      assert.ok(res.text.includes(`<span dir="ltr">${html(phone)}</span>`), 'the phone number reads left to right');
      assert.ok(res.text.includes(`<span dir="ltr">${html(t.config.organisation.email)}</span>`), 'and the address');
    });

    it('/kontakt: the form in Arabic; sent empty, the error summary and field errors in Arabic', async () => {
      const client = t.request();
      const page = await client.get('/kontakt?lang=ar').expect(200);
      assertArabicPage(page, 'form.title', 'form.lead', 'form.topic.legend', 'form.name.label', 'form.email.label', 'form.message.label', 'form.submit');
      assert.ok(page.text.includes(html(translate('ar', 'topic.forskoleplats.name'))), 'topic choices in Arabic');
      const res = await postMultipart(client, '/kontakt', { _csrf: csrfFrom(page.text), category: '', name: '', email: 'inte-en-adress', phone: '', subject: '', message: '' }).expect(400);
      assertArabicPage(res, 'form.error_summary_title', 'errors.category_required', 'errors.name_required', 'errors.email_invalid', 'errors.message_required', 'form.error_prefix');
    });

    it('a case sent from the Arabic form is kept in Arabic; the receipt and the case page are Arabic, with the case number left to right', async () => {
      const client = t.request();
      const token = await submitInArabic(client);
      const c = await caseByToken(token);
      assert.equal(c.language, 'ar');

      const receipt = await client.get(`/kvitto/${token}`).expect(200);
      assertArabicPage(receipt, 'receipt.title', 'receipt.reference', 'receipt.link_label', 'receipt.mailed', 'receipt.next', 'receipt.view_case');
      assert.ok(receipt.text.includes(`<strong><span dir="ltr">${c.reference}</span></strong>`), 'the case number is isolated left to right');
      assert.ok(receipt.text.includes(`<span dir="ltr">${t.config.publicUrl}/arende/${token}</span>`), 'and the link');

      const page = await client.get(`/arende/${token}`).expect(200);
      assertArabicPage(page, 'case.status', 'case.topic', 'case.conversation', 'case.you', 'case.reply.title', 'case.reply.submit', 'status.new', 'status_help.new');
      assert.ok(page.text.includes(`<h1>${html(translate('ar', 'case.title', { reference: 'X' })).replace('X', `<span dir="ltr">${c.reference}</span>`)}</h1>`), 'the heading keeps the case number left to right');
      assert.ok(page.text.includes(html(translate('ar', 'topic.bygglov.name'))), 'the topic in Arabic');
      assert.match(page.text, /<div class="body" dir="auto">هل أحتاج/, 'each message takes its own direction');
    });

    it('/ring-upp: the callback form in Arabic, and a booked callback is kept in Arabic with its confirmation mail', async () => {
      const client = t.request();
      const page = await client.get('/ring-upp?lang=ar').expect(200);
      assertArabicPage(page, 'callbacks.form.title', 'callbacks.form.lead', 'callbacks.form.topic', 'callbacks.form.slot', 'callbacks.form.submit');
      const email = uniqueEmail();
      const slot = t.services.callbacks.slots()[0]!;
      const res = await client
        .post('/ring-upp')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), category: 'forsorjningsstod', name: 'أحمد حسن', phone: '070-555 66 77', email, slot: slot.start.toISOString(), message: '' })
        .expect(303);
      const token = /^\/kvitto\/(.+)$/.exec(res.headers.location ?? '')![1]!;
      const c = await caseByToken(token);
      assert.equal(c.language, 'ar', 'the callback case remembers the language');
      const receipt = await client.get(`/kvitto/${token}`).expect(200);
      assertArabicPage(receipt, 'receipt.callback_title', 'receipt.callback_next');
      assert.ok(receipt.text.includes('<span dir="ltr">070-555 66 77</span>'), 'the number we call reads left to right');
      const [ack] = await outboxOf(c.id);
      assert.ok(ack, 'a confirmation mail');
      assert.match(ack.html_body!, /<html lang="ar" dir="rtl">/);
      assert.ok(ack.html_body!.includes('<strong dir="ltr">070-555 66 77</strong>'), 'the number in the mail reads left to right');
      assert.ok(ack.text_body.includes('\u2066070-555 66 77\u2069'), 'and in the text part, with Unicode isolates');
      assert.ok(ack.text_body.includes(translate('ar', 'email.ack.greeting', { name: 'أحمد حسن' })));
    });

    it('an error page in Arabic: 404 for an unknown page and for an unknown case link', async () => {
      const client = t.request();
      await client.get('/?lang=ar').expect(200);
      const missing = await client.get('/finns-inte').expect(404);
      assertArabicPage(missing, 'errors.page.404.title', 'errors.page.404.text', 'errors.page.back');
      const unknownCase = await client.get(`/arende/${'x'.repeat(43)}`).expect(404);
      assertArabicPage(unknownCase, 'errors.page.404.title');
    });
  });

  describe('mail in the case’s language', () => {
    it('the acknowledgement of an Arabic web case: Arabic subject, text and HTML with dir="rtl"; an agent’s reply goes out in Arabic too', async () => {
      const token = await submitInArabic(t.request(), { name: 'ليلى' });
      const c = await caseByToken(token);
      const [ack] = await outboxOf(c.id);
      assert.ok(ack);
      assert.equal(ack.subject, translate('ar', 'email.ack.subject', { reference: `\u2068${c.reference}\u2069` }));
      assert.match(ack.html_body!, /^<!DOCTYPE html>\s*<html lang="ar" dir="rtl">/);
      assert.match(ack.html_body!, /<div role="article" aria-label="[^"]*" lang="ar" dir="rtl"/);
      for (const key of ['email.ack.thanks', 'email.ack.received', 'email.ack.follow', 'email.ack.link_private', 'email.signature.regards']) {
        const text = translate('ar', key, { organisation: t.config.organisation.name });
        assert.ok(ack.text_body.includes(text), `text part: ${key}`);
        assert.ok(ack.html_body!.includes(html(text)), `HTML part: ${key}`);
      }
      assert.ok(ack.text_body.includes(translate('ar', 'email.ack.greeting', { name: 'ليلى' })));
      assert.ok(ack.html_body!.includes(`<strong dir="ltr">${c.reference}</strong>`), 'the case number reads left to right');
      assert.ok(ack.html_body!.includes(`<a href="${t.config.publicUrl}/arende/${token}" style="color:#00509e;"><span dir="ltr">`), 'and the link');
      assert.doesNotMatch(ack.text_body, /Hej|Tack för/, 'no Swedish');

      await agent.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: agent.csrf, body: 'نعم، تحتاج إلى إشعار.\nHälsningar', status: 'waiting' }).expect(303);
      const reply = (await outboxOf(c.id)).find((m) => m.kind === 'reply');
      assert.ok(reply, 'the reply is mailed');
      assert.equal(reply.subject, translate('ar', 'email.reply.subject', { reference: `\u2068${c.reference}\u2069`, subject: `\u2068${c.subject}\u2069` }));
      assert.match(reply.html_body!, /<html lang="ar" dir="rtl">/);
      assert.ok(reply.html_body!.includes(html(translate('ar', 'email.reply.greeting'))));
      assert.ok(reply.html_body!.includes('border-right:4px solid'), 'the quote bar on the right, where the text starts');
      assert.ok(reply.text_body.includes(translate('ar', 'email.reply.intro', { reference: `\u2066${c.reference}\u2069` })));
      assert.ok(reply.text_body.includes('نعم، تحتاج إلى إشعار.'), 'with the agent’s text as written');
      assert.doesNotMatch(reply.text_body, /Du har fått svar/);
    });

    it('a Swedish case still gets Swedish mail, as before', async () => {
      const res = await t.request().post('/api/v1/cases').send(newCase({ email: uniqueEmail() })).expect(201);
      const c = (await t.db<CaseRow>('cases').where({ reference: res.body.reference }).first())!;
      const [ack] = await outboxOf(c.id);
      assert.equal(ack!.subject, translate('sv', 'email.ack.subject', { reference: c.reference }));
      assert.match(ack!.html_body!, /<html lang="sv" dir="ltr">/);
      assert.ok(ack!.text_body.startsWith('Hej Sara Öberg!'));
      assert.ok(ack!.html_body!.includes(`Ditt ärendenummer: <strong>${c.reference}</strong>`));
      assert.ok(!ack!.text_body.includes('\u2066'), 'no isolates where none are needed');
    });

    it('a mail written in Arabic makes an Arabic case with an Arabic acknowledgement; a Swedish mail stays Swedish', async () => {
      const port = await t.startSmtp();
      const from = uniqueEmail();
      const raw = plainMail({ from: `Omar <${from}>`, subject: 'سؤال عن الروضة', body: 'مرحبًا، متى يمكنني التقديم على مكان في الروضة لابني؟\nOmar' });
      assert.equal((await deliver(port, raw, { from, to: [INTAKE] })).code, 250);
      const swedish = uniqueEmail();
      assert.equal((await deliver(port, plainMail({ from: swedish, subject: 'Förskola', body: 'Hej, när kan jag söka förskoleplats? مرحبا' }), { from: swedish, to: [INTAKE] })).code, 250);
      await t.intakeIdle();
      const c = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', from).first('c.*');
      assert.ok(c, 'the mail made a case');
      assert.equal(c.language, 'ar');
      const [ack] = await outboxOf(c.id);
      assert.match(ack!.html_body!, /<html lang="ar" dir="rtl">/);
      assert.ok(ack!.text_body.includes(translate('ar', 'email.ack.received')));
      const sv = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', swedish).first('c.language');
      assert.equal(sv.language, 'sv', 'mostly Latin letters: Swedish');
    });

    it('a call an agent registers is Swedish, whatever language the agent’s page is in', async () => {
      const english = await t.loginAs('agent', 'Eve English');
      await english.agent.get('/agent?lang=en').expect(200);
      const res = await english.agent.post('/api/v1/contacts').set('X-CSRF-Token', english.csrf).send({ channel: 'phone', category: 'bygglov', summary: 'Frågade om altan', outcome: 'case' }).expect(201);
      const c = await t.db('cases').where({ reference: res.body.reference }).first('language');
      assert.equal(c.language, 'sv');
    });
  });

  describe('the case page follows the case’s language', () => {
    it('without a choice in this browser (no ?lang, no cookie) the case page and receipt are in the case’s language', async () => {
      const token = await submitInArabic(t.request());
      const fresh = t.request();
      const page = await fresh.get(`/arende/${token}`).expect(200);
      assertArabicPage(page, 'case.status');
      assert.equal(langCookie(page), undefined, 'nothing is chosen for the browser');
      assert.match(page.text, /hreflang="sv"/);
      assert.doesNotMatch(page.text, /hreflang="ar"/, 'the language links are those of the page');
      assertArabicPage(await fresh.get(`/kvitto/${token}`).expect(200), 'receipt.title');
      // A choice made in this browser wins over the case's language, and does not change it.
      const english = t.request();
      await english.get('/?lang=en').expect(200);
      const inEnglish = await english.get(`/arende/${token}`).expect(200);
      assert.match(inEnglish.text, /<html lang="en" dir="ltr">/);
      assert.equal((await caseByToken(token)).language, 'ar');
    });

    it('choosing a language on the case page makes it the case’s language, on the timeline, and the mails follow it', async () => {
      const token = await submitInArabic(t.request());
      const before = await caseByToken(token);
      const client = t.request();
      const page = await client.get(`/arende/${token}?lang=en`).expect(200);
      assert.match(page.text, /<html lang="en" dir="ltr">/);
      assert.equal((await caseByToken(token)).language, 'en');
      const events = await t.db('case_events').where({ case_id: before.id, type: 'language.changed' }).select('actor_type', 'payload');
      assert.equal(events.length, 1);
      assert.equal(events[0].actor_type, 'resident');
      assert.deepEqual(events[0].payload, { from: 'ar', to: 'en' });
      // The same choice again writes nothing.
      await client.get(`/arende/${token}?lang=en`).expect(200);
      assert.equal(await t.db('case_events').where({ case_id: before.id, type: 'language.changed' }).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count)), 1);

      const view = await agent.agent.get(`/agent/cases/${before.reference}`).expect(200);
      assert.ok(view.text.includes(html(translate('sv', 'timeline.language.changed', { actor: translate('sv', 'timeline.actor.resident'), language: translate('sv', 'language_name.en') }))), 'the agent sees the change');
      assert.ok(view.text.includes(`<dd>${translate('sv', 'language_name.en')}</dd>`), 'and the case’s language by name');

      await agent.agent.post(`/agent/cases/${before.reference}/reply`).type('form').send({ _csrf: agent.csrf, body: 'Yes, you need to notify us.', status: 'waiting' }).expect(303);
      const reply = (await outboxOf(before.id)).find((m) => m.kind === 'reply')!;
      assert.match(reply.html_body!, /<html lang="en" dir="ltr">/);
      assert.equal(reply.subject, translate('en', 'email.reply.subject', { reference: before.reference, subject: before.subject }));

      // And back to Arabic: a new link opened anywhere reads Arabic again.
      await t.request().get(`/arende/${token}?lang=ar`).expect(200);
      assert.equal((await caseByToken(token)).language, 'ar');
      assertArabicPage(await t.request().get(`/arende/${token}`).expect(200), 'case.status');
      // The receipt's language links are the case's too.
      await t.request().get(`/kvitto/${token}?lang=sv`).expect(200);
      assert.equal((await caseByToken(token)).language, 'sv');
      assert.equal(await t.db('case_events').where({ case_id: before.id, type: 'language.changed' }).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count)), 3);
    });

    it('a signed-in user opening a resident link with ?lang does not change the case', async () => {
      const token = await submitInArabic(t.request());
      const page = await agent.agent.get(`/arende/${token}?lang=en`).expect(200);
      assert.match(page.text, /<html lang="en"/);
      assert.equal((await caseByToken(token)).language, 'ar');
      await agent.agent.get('/agent?lang=sv').expect(200);
    });

    it('?lang on an unknown case link changes nothing and is a 404', async () => {
      await t.request().get(`/arende/${'A'.repeat(43)}?lang=en`).expect(404);
    });
  });

  describe('staff pages stay Swedish or English', () => {
    it('a signed-in user whose browser chose Arabic gets Swedish staff pages, with links to English only', async () => {
      const me = await t.loginAs('agent', 'Sami Staff');
      await me.agent.get('/?lang=ar').expect(200);
      const queue = await me.agent.get('/agent').expect(200);
      assert.match(queue.text, /<html lang="sv" dir="ltr">/);
      assert.ok(queue.text.includes(html(translate('sv', 'queue.title'))));
      assert.match(queue.text, /<a href="\/agent\?lang&#x3D;en" lang="en" hreflang="en">English<\/a>/, 'a link to English');
      assert.doesNotMatch(queue.text, /hreflang="ar"/, 'no Arabic for staff');
      assert.doesNotMatch(queue.text, /hreflang="sv"/, 'the page is Swedish already');
      const token = await submitInArabic(t.request());
      const c = await caseByToken(token);
      const casePage = await me.agent.get(`/agent/cases/${c.reference}?lang=ar`).expect(200);
      assert.match(casePage.text, /<html lang="sv" dir="ltr">/);
      assert.ok(casePage.text.includes(`<dd>${translate('sv', 'language_name.ar')}</dd>`), 'the agent sees that the case is in Arabic');
      const english = await me.agent.get('/agent?lang=en').expect(200);
      assert.match(english.text, /<html lang="en" dir="ltr">/);
      assert.match(english.text, /hreflang="sv"/);
      assert.doesNotMatch(english.text, /hreflang="ar"/);
    });

    it('the sign-in page is Swedish for a browser that chose Arabic', async () => {
      const client = t.request();
      await client.get('/?lang=ar').expect(200);
      const login = await client.get('/login').expect(200);
      assert.match(login.text, /<html lang="sv" dir="ltr">/);
      assert.doesNotMatch(login.text, /hreflang="ar"/);
    });

    it('a staff socket asking for Arabic gets Swedish pushes; a resident socket without a choice gets the case’s language', async () => {
      const baseUrl = await t.listen();
      const open: LiveClient[] = [];
      try {
        const token = await submitInArabic(t.request());
        const c = await caseByToken(token);
        const staff = await connectLive(baseUrl, { cookie: cookieHeader(agent.agent as never, baseUrl), auth: { lang: 'ar' } });
        open.push(staff);
        assert.ok((await staff.request('subscribe', { since: await t.services.live.cursor(), case: c.reference, queue: true })).ok);
        const resident = await connectLive(baseUrl, { auth: { residentToken: token } });
        open.push(resident);
        assert.ok((await resident.request('subscribe', { since: await t.services.live.cursor() })).ok);

        await agent.agent.post(`/agent/cases/${c.reference}/status`).type('form').send({ _csrf: agent.csrf, status: 'open' }).expect(303);
        const toStaff = await staff.waitFor((m) => m.scope === 'case' && m.type === 'status.changed', 'the status change on the case view');
        if (toStaff.scope === 'case') assert.ok(toStaff.entry?.includes(html(translate('sv', 'status.open'))), `Swedish for staff: ${toStaff.entry}`);
        const row = await staff.waitFor((m) => m.scope === 'queue' && m.type === 'status.changed', 'the queue row');
        if (row.scope === 'queue') {
          assert.ok(row.row?.html.includes(html(translate('sv', 'status.open'))), 'the queue row’s status in Swedish');
          assert.ok(!row.row?.html.includes(ar('status.open')), 'not in Arabic');
        }
        const toResident = await resident.waitFor((m) => m.scope === 'resident' && m.type === 'status.changed', 'the status on the resident page');
        if (toResident.scope === 'resident') assert.ok(toResident.statusHtml?.includes(ar('status.open')), `Arabic for the resident: ${toResident.statusHtml}`);
      } finally {
        for (const s of open) s.close();
      }
    });
  });
});
