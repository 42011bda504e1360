import { strict as assert } from 'node:assert';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Case search in Chromium, with the keyboard alone: from the agent
 * navigation to the search field, a query typed and sent with Enter, a
 * result opened. The page passes axe-core's WCAG 2.1 A/AA rules empty, with
 * results and with an error; the personnummer in a result is masked.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);

describe('browser (Chromium): case search', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let browser: BrowserSession;
  const references: string[] = [];
  const url = (p: string) => `${app.baseUrl}${p}`;

  before(async () => {
    app = await serveTestApp();
    browser = await launchBrowser();
    for (const [i, message] of [
      'Behöver jag bygglov för en carport? Mitt personnummer är 850101-1236.',
      'Vi vill bygga en carport med förråd, 35 kvadratmeter.',
    ].entries()) {
      const created = await app.services.cases.createCase(
        { name: 'Karin Lindqvist', email: `karin.${i}.${Date.now()}@example.com`, category: 'bygglov', subject: `Carport ${i + 1}`, message },
        { channel: 'web' },
      );
      references.push(created.reference);
    }
    await signIn(app, browser, 'agent', 'Sara Sökare');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('reach the search from the navigation, type, send and open a result, with the keyboard alone', async () => {
    const { page } = browser;
    await page.goto(url('/agent'));
    await tabTo(page, (f) => f.href === '/agent/sok', 'the search link in the navigation');
    assert.equal((await focused(page)).text, t('search.nav'));
    await Promise.all([page.waitForURL(url('/agent/sok')), page.keyboard.press('Enter')]);
    // Chromium applies autofocus at its next rendering step, which on a busy machine can come after the load event.
    await page.waitForFunction(() => document.activeElement?.id === 'f-q', undefined, { timeout: 5_000 }).catch(() => undefined);
    assert.equal((await focused(page)).id, 'f-q', 'the search field has focus when the page opens');
    await assertAccessible(page, 'the empty search page');

    await page.keyboard.type('carport');
    await Promise.all([page.waitForURL((u) => u.pathname === '/agent/sok' && u.searchParams.get('q') === 'carport'), page.keyboard.press('Enter')]);
    const results = page.locator('li.search-result');
    assert.equal(await results.count(), 2);
    assert.equal(await page.inputValue('#f-q'), 'carport', 'the field keeps the query');
    assert.equal(await page.getByRole('status').filter({ hasText: t('search.count', { n: 2 }) }).count(), 1, 'the count is in a status region');
    const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    assert.ok(text.includes('••••••-••••') && !text.includes('850101'), 'the personnummer is masked in the snippet');
    await assertAccessible(page, 'the search page with results');

    // Newest first: the second case is the first result.
    const first = references[1]!;
    await tabTo(page, (f) => f.href === `/agent/cases/${first}`, 'the first result');
    await Promise.all([page.waitForURL(url(`/agent/cases/${first}`)), page.keyboard.press('Enter')]);
    assert.match(await page.locator('h1').innerText(), new RegExp(first));
  });

  it('a query that is too long: the error summary and the field say so, and the page stays accessible', async () => {
    const { page } = browser;
    // The field's maxlength stops typing at 200; a link or another client can still send more.
    await page.goto(url(`/agent/sok?q=${'a'.repeat(201)}`));
    const summary = page.locator('.error-summary');
    assert.equal(await summary.count(), 1);
    assert.match(await summary.innerText(), /högst 200 tecken/);
    assert.equal(await page.locator('#f-q').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the search page with an error');
  });
});
