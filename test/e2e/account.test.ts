import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * "Mitt konto" in Chromium: the page passes axe-core's WCAG 2.1 A/AA rules
 * (empty, with errors, after the change), and an agent changes the password
 * with the keyboard alone, from the navigation to the confirmation; the same
 * user's other browser is signed out, this one is not.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
const exactly = (key: string) => new RegExp(`^${t(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const NEW_PASSWORD = 'en helt ny lösenfras 2026';

describe('browser (Chromium): my account and the password change', function () {
  this.timeout(180_000);

  let app: ServedApp;
  let here: BrowserSession;
  let there: BrowserSession;
  const email = `konto.${randomBytes(4).toString('hex')}@e2e.example`;
  const url = (p: string) => `${app.baseUrl}${p}`;

  async function signIn(session: BrowserSession, password: string) {
    const { page } = session;
    await page.goto(url('/login'));
    await page.fill('#f-email', email);
    await page.fill('#f-password', password);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  }

  const errorSummaryHasFocus = (page: Page) => page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false);

  before(async () => {
    app = await serveTestApp();
    await app.services.auth.createUser({ email, name: 'Karin Konto', role: 'agent', password: TEST_PASSWORD });
    here = await launchBrowser();
    there = await launchBrowser();
    await signIn(here, TEST_PASSWORD);
    await signIn(there, TEST_PASSWORD);
  });

  after(async () => {
    await here?.close();
    await there?.close();
    await app?.stop();
  });

  it('reaches the page from the navigation with the keyboard; the page passes axe', async () => {
    const { page } = here;
    await page.goto(url('/agent'));
    const link = await tabTo(page, (f) => f.href === '/agent/konto', 'the "Mitt konto" link');
    assert.equal(link.text, t('account.nav'));
    await Promise.all([page.waitForURL(url('/agent/konto')), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('h1').innerText(), t('account.title'));
    await assertAccessible(page, 'my account');
  });

  it('an empty form: the error summary takes focus, passes axe, and its links lead to the fields', async () => {
    const { page } = here;
    await page.goto(url('/agent/konto'));
    const refused = await submitWithKeyboard(page, exactly('account.password.submit'));
    assert.equal(refused.status(), 400);
    assert.equal(await errorSummaryHasFocus(page), true, 'the error summary has focus');
    await assertAccessible(page, 'my account with errors');
    const first = await tabTo(page, (f) => f.href === '#f-current_password', 'the first error in the summary', 3);
    assert.equal(first.text, t('errors.required'));
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).id, 'f-current_password', 'the link moves focus to the field');
  });

  it('a wrong current password is named on its field; the right one changes it, with the keyboard alone', async () => {
    const { page } = here;
    await page.goto(url('/agent/konto'));
    await tabTo(page, (f) => f.id === 'f-current_password', 'the current password');
    await page.keyboard.type('inte mitt lösenord');
    await tabTo(page, (f) => f.id === 'f-new_password', 'the new password', 3);
    await page.keyboard.type(NEW_PASSWORD);
    await tabTo(page, (f) => f.id === 'f-repeat_password', 'the repeat', 3);
    await page.keyboard.type(NEW_PASSWORD);
    const wrong = await submitWithKeyboard(page, exactly('account.password.submit'));
    assert.equal(wrong.status(), 400);
    assert.equal((await page.locator('#f-current_password-error').textContent())?.replace(/\s+/g, ' ').trim(), `${t('form.error_prefix')} ${t('account.errors.current_wrong')}`);
    assert.equal(await page.locator('#f-current_password').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'my account with a wrong current password');

    await tabTo(page, (f) => f.href === '#f-current_password', 'the error in the summary', 3);
    await page.keyboard.press('Enter');
    await page.keyboard.type(TEST_PASSWORD);
    await tabTo(page, (f) => f.id === 'f-new_password', 'the new password', 3);
    await page.keyboard.type(NEW_PASSWORD);
    await tabTo(page, (f) => f.id === 'f-repeat_password', 'the repeat', 3);
    await page.keyboard.type(NEW_PASSWORD);
    const done = await submitWithKeyboard(page, exactly('account.password.submit'));
    assert.equal(done.status(), 303);
    assert.equal(page.url(), url('/agent/konto?klart=losenord'));
    assert.equal(await page.locator('[role=status]').innerText(), t('account.password.done'));
    await assertAccessible(page, 'my account after the change');

    // This browser stays signed in (under a new session); the other one is signed out.
    await page.goto(url('/agent'));
    assert.equal(page.url(), url('/agent'));
    await there.page.goto(url('/agent'));
    assert.equal(new URL(there.page.url()).pathname, '/login');
    await signIn(there, NEW_PASSWORD);
  });
});
