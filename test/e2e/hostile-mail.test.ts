import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deliver } from '../support/smtp-client.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, launchBrowser, serveTestApp, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The hostile messages of the mail corpus, delivered over SMTP, shown to an
 * agent in Chromium with the HTML view open, and with remote images allowed:
 * no script runs, no dialog opens, no fake overlay appears, and without the
 * agent's consent no remote image is fetched.
 */
const DIR = path.resolve(import.meta.dirname, '../fixtures/mail');
const INTAKE = 'kontaktcenter@borlange.example';
const MANIFEST = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { file: string | null; hostile?: boolean; envelopeFrom?: string | null }[];
const HOSTILE = MANIFEST.filter((e) => e.hostile && e.file);

describe('hostile mail in the agent’s browser', function () {
  this.timeout(180_000);
  let app: ServedApp;
  let agent: BrowserSession;
  const references: string[] = [];
  const remoteRequests: string[] = [];
  const dialogs: string[] = [];

  before(async () => {
    app = await serveTestApp();
    const port = await app.startSmtp();
    for (const entry of HOSTILE) {
      const unique = `x${randomBytes(5).toString('hex')}`;
      const raw = Buffer.from(readFileSync(path.join(DIR, entry.file!), 'latin1').replace(/\{\{([A-Z_]+)\}\}/g, (m, n: string) => (n === 'UNIQUE' ? unique : n === 'INTAKE' ? INTAKE : m)), 'latin1');
      const from = (entry.envelopeFrom ?? `hostile.${unique}@example.com`).replace('{{UNIQUE}}', unique);
      const r = await deliver(port, raw, { from, to: [INTAKE] });
      assert.equal(r.code, 250, `${entry.file}: ${r.response}`);
    }
    await app.intakeIdle();
    const rows = await app.db('inbound_messages as i').join('cases as c', 'c.id', 'i.case_id').where('i.outcome', 'created').select('c.reference');
    references.push(...rows.map((r: { reference: string }) => r.reference));

    const email = `agent.${randomBytes(3).toString('hex')}@test.example`;
    await app.services.auth.createUser({ email, name: 'Agent Hostile', role: 'agent', password: TEST_PASSWORD });
    agent = await launchBrowser();
    agent.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await agent.context.route('**/*', (route) => {
      const url = route.request().url();
      if (!url.startsWith(app.baseUrl)) {
        remoteRequests.push(url);
        return route.abort();
      }
      return route.continue();
    });
    await agent.page.goto(`${app.baseUrl}/login`);
    await agent.page.fill('#f-email', email);
    await agent.page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([agent.page.waitForURL(/\/agent/), agent.page.click('main button[type=submit]')]);
  });
  after(async () => {
    await agent?.close();
    await app?.stop();
  });

  it('every hostile message became a case', () => {
    assert.equal(references.length, HOSTILE.length);
  });

  it('the case pages run nothing from the mail, open no dialog, fetch nothing remote, and stay accessible', async () => {
    const page = agent.page;
    for (const reference of references) {
      await page.goto(`${app.baseUrl}/agent/cases/${reference}`);
      // Open every HTML view, as an agent reading the mail would.
      for (const summary of await page.locator('details.mail-html-wrap > summary').all()) await summary.click();
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => ({
        xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
        overlay: document.body.innerText.includes('SESSION-EXPIRED-OVERLAY')
          ? [...document.querySelectorAll('.mail-html *')].some((el) => getComputedStyle(el).position === 'fixed')
          : false,
        scripts: document.querySelectorAll('.mail-html script, .mail-html iframe, .mail-html svg, .mail-html form, .mail-html [onerror], .mail-html [onclick]').length,
        jsLinks: [...document.querySelectorAll('.mail-html a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      }));
      assert.deepEqual(state, { xss: null, overlay: false, scripts: 0, jsLinks: 0 }, reference);
      await assertAccessible(page, `case ${reference} with the mail's HTML shown`);
    }
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(remoteRequests, [], 'nothing fetched from outside without consent');
  });

  it('the mail quarantine page, with a message in it, passes axe and works with the keyboard', async () => {
    const port = await app.startSmtp();
    assert.equal((await deliver(port, Buffer.from([0, 1, 2, 0xff, 0, 10, 10]), { from: 'garbage@example.com', to: [INTAKE] })).code, 250);
    await app.intakeIdle();
    const email = `admin.${randomBytes(3).toString('hex')}@test.example`;
    await app.services.auth.createUser({ email, name: 'Admin Karantän', role: 'admin', password: TEST_PASSWORD });
    const admin = await launchBrowser();
    try {
      const page = admin.page;
      await page.goto(`${app.baseUrl}/login?next=/admin/mail`);
      await page.fill('#f-email', email);
      await page.fill('#f-password', TEST_PASSWORD);
      await Promise.all([page.waitForURL((u) => u.pathname === '/admin/mail'), page.keyboard.press('Enter')]);
      assert.ok(await page.locator('text=Behandla igen').first().isVisible());
      await assertAccessible(page, 'the mail quarantine');
      // Keyboard: focus the first "Inget ärende" button and press Enter.
      const discard = page.getByRole('button', { name: /Inget ärende/ }).first();
      await discard.focus();
      await Promise.all([page.waitForURL(/klart=discard/), page.keyboard.press('Enter')]);
      await assertAccessible(page, 'the mail quarantine after a discard');
    } finally {
      await admin.close();
    }
  });

  it('remote images load only after the agent asks for them, and still nothing runs', async () => {
    const page = agent.page;
    const withImages = await app.db('messages as m').join('cases as c', 'c.id', 'm.case_id').whereLike('m.body_html', '%data-remote-src%').first('c.reference');
    assert.ok(withImages, 'a hostile message with remote images');
    await page.goto(`${app.baseUrl}/agent/cases/${withImages.reference}`);
    await page.waitForTimeout(300);
    for (const summary of await page.locator('details.mail-html-wrap > summary').all()) await summary.click();
    await page.waitForTimeout(300);
    assert.deepEqual(remoteRequests, [], 'blocked before consent, even with the HTML open');
    const consent = page.getByRole('link', { name: 'Visa externa bilder' }).first();
    const href = await consent.getAttribute('href');
    assert.match(String(href), /bilder=1/);
    await page.goto(new URL(String(href), page.url()).toString());
    await page.waitForTimeout(500);
    assert.ok((remoteRequests as string[]).some((u) => u.startsWith('https://')), 'requested after consent (the test network refuses them)');
    assert.deepEqual(dialogs, []);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss ?? null), null);
  });
});
