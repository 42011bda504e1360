import { strict as assert } from 'node:assert';
import { translate } from '../../server/platform/i18n.js';
import { signedHeaders } from '../../server/telephony/signature.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, launchBrowser, serveTestApp, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Telephony in Chromium: an agent on the dashboard answers a call and the
 * caller card appears live in the caller panel, readable and reachable with
 * the keyboard; the call log and the extension field on the users page pass
 * axe-core in both languages.
 */

const SECRET = 'telephony-e2e-secret-0123456789-abcdefghij';
const sv = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);

describe('browser (Chromium): telephony', function () {
  this.timeout(120_000);
  let app: ServedApp;
  let browser: BrowserSession;
  const scriptErrors: string[] = [];
  const url = (p: string) => `${app.baseUrl}${p}`;

  async function send(body: unknown): Promise<void> {
    const raw = JSON.stringify(body);
    const res = await fetch(url('/api/v1/telephony/events'), { method: 'POST', headers: { 'Content-Type': 'application/json', ...signedHeaders(SECRET, raw) }, body: raw });
    assert.equal(res.status, 200, await res.text());
  }

  async function signIn(email: string): Promise<void> {
    const { page } = browser;
    await browser.context.clearCookies();
    await page.goto(url('/login'));
    await page.fill('#f-email', email);
    await page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  }

  before(async () => {
    app = await serveTestApp({ telephony: { secret: SECRET, maxSkewSeconds: 300 } });
    browser = await launchBrowser();
    browser.page.on('pageerror', (err) => scriptErrors.push(`${browser.page.url()}: ${err.message}`));
  });
  afterEach(() => {
    assert.deepEqual(scriptErrors.splice(0), [], 'no script errors in the pages');
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows the caller card live on the answering agent’s dashboard', async () => {
    const agent = await app.services.auth.createUser({ email: 'telefon@e2e.example', name: 'Tove Telefon', role: 'agent', password: TEST_PASSWORD });
    await app.services.auth.setPhoneExtension(agent.id, '2040');
    const earlier = await app.services.cases.createCase(
      { name: 'Rolf Ringer', phone: '070-444 55 66', category: 'bygglov', subject: 'Bygglov för carport', message: 'Behöver jag bygglov för en carport?' },
      { channel: 'phone' },
    );
    await signIn('telefon@e2e.example');
    const { page } = browser;
    await page.waitForFunction((text) => document.getElementById('live-connection')?.textContent === text, sv('live.connection.connected'));
    assert.equal(await page.locator('#caller-panel').isVisible(), true, 'the script shows the caller panel');
    assert.equal(await page.locator('#caller-panel-empty').innerText(), sv('telephony.panel.empty'));

    const now = Date.now();
    await send({
      events: [
        { id: 'e2e-1:o', type: 'call.offered', callId: 'e2e-1', at: new Date(now - 30_000).toISOString(), caller: '+46704445566', queue: 'vaxel' },
        { id: 'e2e-1:a', type: 'call.answered', callId: 'e2e-1', at: new Date(now - 2_000).toISOString(), extension: '2040' },
      ],
    });
    const card = page.locator('#caller-cards article.caller-card');
    await card.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#caller-cards h3').innerText(), sv('telephony.card.title', { caller: '+46704445566' }));
    assert.ok((await card.innerText()).includes('Bygglov för carport'));
    assert.equal(await page.locator('#caller-panel-empty').isVisible(), false);
    await assertAccessible(page, 'the dashboard with a caller card');

    // The earlier case is a keyboard press away.
    await tabTo(page, (f) => f.href === `/agent/cases/${earlier.reference}`, 'the earlier case in the caller card');
    await Promise.all([page.waitForURL(url(`/agent/cases/${earlier.reference}`)), page.keyboard.press('Enter')]);
  });

  for (const lang of ['sv', 'en'] as const) {
    it(`the call log and the extension field pass axe (${lang})`, async () => {
      await app.services.auth.createUser({ email: `admin-${lang}@e2e.example`, name: 'Ada Admin', role: 'admin', password: TEST_PASSWORD });
      await send({
        events: [
          { id: `log-${lang}:o`, type: 'call.offered', callId: `log-${lang}`, at: new Date(Date.now() - 600_000).toISOString(), caller: '070-123 00 00', queue: 'vaxel' },
          { id: `log-${lang}:e`, type: 'call.ended', callId: `log-${lang}`, at: new Date(Date.now() - 500_000).toISOString(), outcome: 'abandoned' },
        ],
      });
      await signIn(`admin-${lang}@e2e.example`);
      const { page } = browser;
      const res = await page.goto(url(`/agent/samtal?lang=${lang}`));
      assert.equal(res?.status(), 200);
      assert.equal(await page.locator('table caption').innerText(), translate(lang, 'calls.caption'));
      assert.ok((await page.locator('table tbody tr').count()) >= 1);
      await assertAccessible(page, `the call log (${lang})`);

      await page.goto(url('/admin/users'));
      const field = page.locator('input[name="phone_extension"]').first();
      await field.fill('12-34');
      await Promise.all([page.waitForURL(/\/admin\/users\/\d+\/extension$/), field.press('Enter')]);
      assert.ok((await page.locator('.field-error').first().innerText()).includes(translate(lang, 'telephony.extension.invalid')));
      await assertAccessible(page, `admin: users with an extension error (${lang})`);
    });
  }
});
