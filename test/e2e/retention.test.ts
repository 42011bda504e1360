import { strict as assert } from 'node:assert';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Retention in Chromium: the admin page /admin/gallring (rules, a new rule,
 * deactivation, the latest runs) and the legal hold on the case page pass
 * axe-core's WCAG 2.1 A/AA rules, with an error and after the change, and
 * are used with the keyboard alone.
 */
const t = (key: string) => translate('sv', key);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (key: string) => new RegExp(`^${escape(t(key))}$`);

describe('browser (Chromium): retention (gallring) and the legal hold', function () {
  this.timeout(180_000);
  let app: ServedApp;
  let browser: BrowserSession;
  let reference: string;

  before(async () => {
    app = await serveTestApp();
    browser = await launchBrowser();
    const agent = await app.services.auth.createUser({ email: 'e2e-agent@test.example', name: 'Agnes Agent', role: 'agent', password: 'a long test password' });
    const created = await app.services.cases.createCase({ name: 'Sara Öberg', email: 'sara.e2e@example.com', category: 'bygglov', subject: 'Attefallshus', message: 'Behöver jag bygglov?' }, { channel: 'web' });
    await app.services.cases.update(created.reference, agent, { status: 'resolved' });
    await app.services.cases.update(created.reference, agent, { status: 'closed' });
    reference = created.reference;
    // A rule and a run, so the page shows both tables.
    await app.services.retention.addRule({ department: 'teknik', days: '1000', description: 'Gatufrågor' }, null);
    await app.services.retention.run({ trigger: 'cli' });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('/admin/gallring: accessible, and a rule is added and deactivated with the keyboard alone', async () => {
    const { page } = browser;
    await signIn(app, browser, 'admin', 'Alva Admin');
    await page.goto(`${app.baseUrl}/admin/gallring`);
    assert.equal(await page.locator('h1').innerText(), t('admin.retention.title'));
    await assertAccessible(page, 'the retention page');

    // The topic, chosen with the arrow key; the days left out: the error summary takes focus and links to the field.
    await tabTo(page, (f) => f.id === 'f-target', 'the topic or department', 120);
    await page.keyboard.press('ArrowDown');
    const chosen = await page.$eval('#f-target', (el) => (el as HTMLSelectElement).value);
    assert.match(chosen, /^category:/);
    const refused = await submitWithKeyboard(page, exactly('admin.retention.submit'));
    assert.equal(refused.status(), 400);
    assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
    assert.equal(await page.$eval('#f-target', (el) => (el as HTMLSelectElement).value), chosen, 'the choice is kept');
    await assertAccessible(page, 'the retention page with an error');
    await tabTo(page, (f) => f.href.endsWith('#f-days'), 'the link to the days field');
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).id, 'f-days');
    await page.keyboard.type('730');
    const sent = await submitWithKeyboard(page, exactly('admin.retention.submit'));
    assert.equal(sent.status(), 303);
    assert.equal(await page.locator('.notice[role="status"]').innerText(), t('admin.retention.done.added'));
    assert.equal(await page.locator('tbody tr', { hasText: '730' }).count(), 1);
    await assertAccessible(page, 'the retention page with a new rule');

    // Deactivate the new rule: its button names the rule for a screen reader.
    const rule = await app.db('retention_rules').where({ keep_days: 730 }).first<{ id: number }>('id');
    await tabTo(page, (f) => f.tag === 'button' && f.text.startsWith(`${t('admin.retention.deactivate')}: ${t('admin.retention.rule')} ${rule.id}`), 'the deactivate button of the new rule', 120);
    await Promise.all([page.waitForURL(/klart=deactivated/), page.keyboard.press('Enter')]);
    assert.equal((await app.db('retention_rules').where({ id: rule.id }).first<{ active: boolean }>('active')).active, false);
    await assertAccessible(page, 'the retention page after deactivating');
  });

  it('the legal hold on the case page: accessible, and placed with the keyboard alone by a manager', async () => {
    const manager = await launchBrowser();
    try {
      const { page } = manager;
      await signIn(app, manager, 'manager', 'Maja Chef');
      await page.goto(`${app.baseUrl}/agent/cases/${reference}`);
      await page.waitForSelector('#legal-hold-title');
      await assertAccessible(page, 'the case page with the legal hold form');

      await tabTo(page, (f) => f.id === 'f-hold-reason', 'the reason of the hold', 250);
      const refused = await submitWithKeyboard(page, exactly('agent.legal_hold.set_submit'));
      assert.equal(refused.status(), 400);
      assert.equal(await page.locator('.error-summary a').innerText(), t('agent.legal_hold.errors.reason'));
      await assertAccessible(page, 'the case page with a legal hold error');
      await page.click('.error-summary a');
      assert.equal((await focused(page)).id, 'f-hold-reason');
      await page.keyboard.type('Begäran från JO');
      const sent = await submitWithKeyboard(page, exactly('agent.legal_hold.set_submit'));
      assert.equal(sent.status(), 303);
      await page.waitForSelector('#legal-hold-title');
      assert.match(await page.locator('#legal-hold').innerText(), new RegExp(escape(t('agent.legal_hold.held'))));
      assert.equal((await app.db('cases').where({ reference }).first<{ legal_hold: boolean }>('legal_hold')).legal_hold, true);
      await assertAccessible(page, 'the case page under a legal hold');
    } finally {
      await manager.close();
    }
  });
});
