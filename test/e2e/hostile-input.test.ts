import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { routeTable } from '../../server/app.js';
import type { Config } from '../../server/config.js';
import { translate } from '../../server/platform/i18n.js';
import { signedHeaders } from '../../server/telephony/signature.js';
import { pdfBytes } from '../fixtures/files.js';
import { postMultipart } from '../fixtures/multipart.js';
import { ALL_PAYLOADS, visibleForm, XSS_CORPUS, XSS_MAIL_HTML } from '../fixtures/xss-corpus.js';
import { csrfFrom, newCase } from '../support/harness.js';
import { deliver, INTAKE } from '../support/smtp-client.js';
import { launchBrowser, serveTestApp, signIn, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The XSS corpus sent in through every door (the resident's web form, the
 * JSON API, mail over real SMTP, callbacks, registered contacts, telephony
 * events, staff and topic names), then every page that shows it opened in
 * Chromium: no payload ever runs (no dialog, no flag set, no script blocked
 * by the CSP, which would mean markup got through), and the text is shown as
 * text. HTML mail is sanitized, so for it only "nothing runs" is checked.
 */
const SECRET = 'hostile-input-e2e-telephony-secret-0123456789';
const N = XSS_CORPUS.length;
const payload = (i: number) => XSS_CORPUS[i % N]!.text;

interface Sent {
  reference: string;
  token?: string;
  channel: 'web' | 'api' | 'email';
  subject?: string;
  /** Texts the case view must show as written. */
  texts: string[];
}

/** Reads what the page let run: the flag, CSP violations (recorded by an init script) and the dialogs seen. */
async function ranNothing(page: Page, dialogs: string[], where: string): Promise<void> {
  await page.waitForTimeout(50);
  const state = await page.evaluate(() => {
    const w = window as unknown as { __xss?: unknown; __csp?: string[] };
    return { xss: w.__xss ?? null, csp: w.__csp ?? [] };
  });
  assert.equal(state.xss, null, `${where}: a payload set window.__xss`);
  assert.deepEqual(state.csp, [], `${where}: the CSP had to block something, so markup got into the page`);
  assert.deepEqual(dialogs, [], `${where}: a payload opened a dialog`);
}

async function assertShows(page: Page, texts: string[], where: string): Promise<void> {
  const shown = visibleForm(await page.evaluate(() => document.body.innerText));
  for (const text of texts) assert.ok(shown.includes(visibleForm(text)), `${where}: shows ${JSON.stringify(text)} as text`);
}

describe('hostile input in the browser: the XSS corpus on every page that shows it', function () {
  this.timeout(120_000);
  let app: ServedApp;
  let browser: BrowserSession;
  const dialogs: string[] = [];
  const sent: Sent[] = [];
  let topicName: string;
  let departmentName: string;
  let adminName: string;

  before(async () => {
    app = await serveTestApp({ demo: true, telephony: { secret: SECRET, maxSkewSeconds: 300 } } as Partial<Config>);
    topicName = payload(1);
    departmentName = payload(2);
    // An admin typed these names.
    await app.services.organisation.createDepartment({ slug: 'xss-avd', name: departmentName, email: '' });
    await app.services.organisation.createCategory({ slug: 'xss-amne', name_sv: topicName, name_en: topicName, department: 'xss-avd' });
    const port = await app.startSmtp();
    const pdf = pdfBytes();

    for (let i = 0; i < N; i++) {
      const subject = payload(i);
      const name = payload(i + 7);
      const email = `boende.${i}.${randomBytes(3).toString('hex')}@example.com`;
      const category = i % 4 === 0 ? 'xss-amne' : 'bygglov';
      const channel = (['web', 'api', 'email'] as const)[i % 3]!;
      if (channel === 'web') {
        const client = app.request();
        const page = await client.get('/kontakt').expect(200);
        const res = await postMultipart(
          client,
          '/kontakt',
          { _csrf: csrfFrom(page.text), category, name, email, phone: '', subject, message: ALL_PAYLOADS },
          [{ filename: `${payload(i + 3)}.pdf`, content: pdf }],
        ).expect(303);
        const token = /^\/kvitto\/(.+)$/.exec(res.headers.location!)![1]!;
        const row = await app.db('cases').where({ resident_token: token }).first();
        sent.push({ reference: row.reference, token, channel, subject, texts: [subject, name, ...XSS_CORPUS.map((p) => p.text)] });
      } else if (channel === 'api') {
        const res = await app.request().post('/api/v1/cases').send(newCase({ category, name, email, subject, message: ALL_PAYLOADS })).expect(201);
        sent.push({ reference: res.body.reference, token: String(res.body.statusUrl).split('/arende/')[1], channel, subject, texts: [subject, name, ...XSS_CORPUS.map((p) => p.text)] });
      } else {
        const b = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
        const boundary = `alt${randomBytes(6).toString('hex')}`;
        const mixed = `mix${randomBytes(6).toString('hex')}`;
        const raw = [
          `From: ${b(name)} <${email}>`,
          `To: ${INTAKE}`,
          `Subject: ${b(subject)}`,
          'Date: Sat, 28 Nov 2026 10:00:00 +0100',
          `Message-ID: <${randomBytes(8).toString('hex')}@mail.example.com>`,
          'MIME-Version: 1.0',
          `Content-Type: multipart/mixed; boundary="${mixed}"`,
          '',
          `--${mixed}`,
          `Content-Type: multipart/alternative; boundary="${boundary}"`,
          '',
          `--${boundary}`,
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: base64',
          '',
          Buffer.from(ALL_PAYLOADS, 'utf8').toString('base64'),
          `--${boundary}`,
          'Content-Type: text/html; charset=utf-8',
          'Content-Transfer-Encoding: base64',
          '',
          Buffer.from(XSS_MAIL_HTML, 'utf8').toString('base64'),
          `--${boundary}--`,
          `--${mixed}`,
          'Content-Type: application/pdf',
          `Content-Disposition: attachment; filename*=UTF-8''${encodeURIComponent(`${payload(i + 3)}.pdf`)}`,
          'Content-Transfer-Encoding: base64',
          '',
          pdf.toString('base64'),
          `--${mixed}--`,
          '',
        ].join('\r\n');
        const r = await deliver(port, raw, { from: email, to: [INTAKE] });
        assert.equal(r.code, 250, r.response);
        await app.intakeIdle();
        const resident = await app.db('residents').where({ email }).first();
        assert.ok(resident, `mail ${i} became a case`);
        const row = await app.db('cases').where({ resident_id: resident.id }).first();
        sent.push({ reference: row.reference, token: row.resident_token, channel, subject, texts: [subject, name, ...XSS_CORPUS.map((p) => p.text)] });
      }
    }

    // Staff write the corpus back: replies, notes and forward notes, under a hostile name.
    const agent = await app.loginAs('agent', payload(5));
    for (const c of sent.slice(0, 3)) {
      const api = (url: string, body: Record<string, unknown>) => agent.agent.post(`/api/v1/cases/${c.reference}/${url}`).set('X-CSRF-Token', agent.csrf).send(body);
      (await api('replies', { body: ALL_PAYLOADS })).ok || assert.fail('reply');
      (await api('notes', { body: ALL_PAYLOADS })).ok || assert.fail('note');
      (await api('forward', { department: 'xss-avd', note: ALL_PAYLOADS })).ok || assert.fail('forward');
    }
    // A callback asked for on the API, a contact an agent registered, and a call from the telephony platform.
    const slots = (await app.request().get('/api/v1/callbacks/slots').expect(200)).body.slots as { start: string }[];
    assert.ok(slots.length, 'callback slots are offered');
    const callback = await app
      .request()
      .post('/api/v1/callbacks')
      .send({ name: payload(9), phone: '070-123 45 67', category: 'bygglov', slot: slots[0]!.start, message: ALL_PAYLOADS.slice(0, 2000) });
    assert.equal(callback.status, 201, callback.text);
    sent.push({ reference: callback.body.reference, channel: 'api', texts: [payload(9)] });
    const contact = await agent.agent
      .post('/api/v1/contacts')
      .set('X-CSRF-Token', agent.csrf)
      .send({ channel: 'phone', category: 'bygglov', summary: ALL_PAYLOADS.slice(0, 4000), name: payload(10), phone: '070-765 43 21', outcome: 'answered' });
    assert.equal(contact.status, 201, contact.text);
    sent.push({ reference: contact.body.reference, channel: 'api', texts: [payload(10)] });
    const call = JSON.stringify({ id: 'xss-1', type: 'call.offered', callId: 'xss-call', at: new Date().toISOString(), caller: '+46701234567', queue: payload(1).slice(0, 100) });
    const tel = await app.request().post('/api/v1/telephony/events').set(signedHeaders(SECRET, call)).set('Content-Type', 'application/json').send(call);
    assert.equal(tel.status, 200, tel.text);
    await app.mailIdle();

    browser = await launchBrowser();
    await browser.context.addInitScript({
      content: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')), true);`,
    });
    browser.page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    await browser.context.route('**/*', (route) => (route.request().url().startsWith(app.baseUrl) ? route.continue() : route.abort()));
    adminName = payload(3);
    await signIn(app, browser, 'admin', adminName);
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the queue shows every subject as text, on first load and in a live push, and runs nothing', async () => {
    const { page } = browser;
    await page.goto(`${app.baseUrl}/agent?status=all&limit=100`);
    await ranNothing(page, dialogs, 'the queue');
    await assertShows(page, sent.filter((s) => s.subject).map((s) => s.subject!), 'the queue');
    await page.goto(`${app.baseUrl}/agent?limit=100`);
    await page.waitForFunction((text) => document.getElementById('live-connection')?.textContent === text, translate('sv', 'live.connection.connected'));
    const pushed = await app.request().post('/api/v1/cases').send(newCase({ subject: payload(0), name: payload(8), message: ALL_PAYLOADS })).expect(201);
    await page.waitForSelector(`#case-${pushed.body.reference}`, { timeout: 10_000 });
    await ranNothing(page, dialogs, 'the queue after a live push');
    assert.equal(visibleForm(await page.locator(`#case-${pushed.body.reference} td`).nth(1).innerText()), visibleForm(payload(0)));
  });

  it('every case view shows the text as written, the HTML mail sanitized, and runs nothing', async () => {
    const { page } = browser;
    for (const c of sent) {
      await page.goto(`${app.baseUrl}/agent/cases/${c.reference}`);
      for (const summary of await page.locator('details.mail-html-wrap > summary').all()) await summary.click();
      await ranNothing(page, dialogs, `case ${c.reference} (${c.channel})`);
      await assertShows(page, c.texts, `case ${c.reference} (${c.channel})`);
      const html = await page.evaluate(() => ({
        dangerous: document.querySelectorAll('.mail-html script, .mail-html iframe, .mail-html object, .mail-html svg, .mail-html form, .mail-html base, .mail-html meta, .mail-html style, .mail-html [onerror], .mail-html [onclick], .mail-html [ontoggle], .mail-html [style]').length,
        jsLinks: [...document.querySelectorAll('a')].filter((a) => /^\s*(javascript|data|vbscript):/i.test(a.getAttribute('href') ?? '')).length,
        base: document.querySelectorAll('base').length,
      }));
      assert.deepEqual(html, { dangerous: 0, jsLinks: 0, base: 0 }, `case ${c.reference}`);
    }
  });

  it("the resident's case page and receipt show the text and run nothing", async () => {
    const { page } = browser;
    for (const c of sent.filter((s) => s.token).slice(0, 12)) {
      await page.goto(`${app.baseUrl}/arende/${c.token}`);
      await ranNothing(page, dialogs, `resident page of ${c.reference}`);
      await assertShows(page, [c.texts[0]!, ...(c.channel === 'email' ? [] : XSS_CORPUS.map((p) => p.text))], `resident page of ${c.reference}`);
      if (c.channel === 'web') {
        await page.goto(`${app.baseUrl}/kvitto/${c.token}`);
        await ranNothing(page, dialogs, `receipt of ${c.reference}`);
      }
    }
  });

  it('staff pages with names, topics, calls and statistics, the demo outbox, and search or the access log where they exist, run nothing', async () => {
    const { page } = browser;
    const routes = new Set(routeTable(app.services).map((r) => `${r.method} ${r.path}`));
    const pages: [string, string[]][] = [
      ['/agent/samtal', [payload(1).slice(0, 100)]],
      ['/agent/statistik', [adminName]],
      ['/agent/statistik?category=xss-amne', [topicName]],
      ['/agent/statistik/live', []],
      ['/agent/agents', [payload(5)]],
      ['/admin/users', [payload(5), adminName]],
      ['/admin/categories', [topicName]],
      ['/admin/departments', [departmentName]],
      ['/kontakt', [topicName]],
      ['/', [topicName]],
      ['/demo/outbox', []],
    ];
    if (routes.has('get /agent/sok')) pages.push(['/agent/sok?q=alert', []]);
    if (routes.has('get /agent/atkomstlogg')) pages.push(['/agent/atkomstlogg', [payload(5)]]);
    for (const [url, texts] of pages) {
      const res = await page.goto(`${app.baseUrl}${url}`);
      assert.ok(res && res.status() < 400, `${url}: ${res?.status()}`);
      await ranNothing(page, dialogs, url);
      await assertShows(page, texts, url);
    }
    // The outgoing acknowledgements and replies as the demo shows them.
    const mails = await app.db('mail_outbox').orderBy('id').limit(4).select('id');
    assert.ok(mails.length >= 2);
    for (const m of mails) {
      await page.goto(`${app.baseUrl}/demo/outbox/${m.id}`);
      await ranNothing(page, dialogs, `demo mail ${m.id}`);
    }
  });
});
