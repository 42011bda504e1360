import { strict as assert } from 'node:assert';
import type { Page, Response } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The staffing page in Chromium: the empty form, the form refused with an
 * error and the results pass axe-core's WCAG 2.1 A/AA rules, and a manager
 * enters a week's figures and gets the staffing with the keyboard alone.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
const PAGE = '/agent/statistik/bemanning';

/** Sends the GET form as a keyboard user does: Tab to its button, then Enter. */
async function submitWithKeyboard(page: Page): Promise<Response> {
  await tabTo(page, (f) => f.tag === 'button' && f.text === t('stats.staffing.form.submit'), 'the calculate button');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().includes(`${PAGE}?`)),
    page.waitForEvent('load'),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

describe('browser (Chromium): the staffing page (Erlang C)', function () {
  this.timeout(180_000);
  let app: ServedApp;
  let manager: BrowserSession;
  const url = (p: string) => `${app.baseUrl}${p}`;

  before(async () => {
    app = await serveTestApp({ calendar: { openingHours: 'mon-fri 08:00-16:30', statsOfficeHours: 'mon-fri 08:00-16:30', closedOn: ['public', 'bank'], timeZone: 'Europe/Stockholm' } });
    manager = await launchBrowser();
    await signIn(app, manager, 'manager', 'Maria Chef');
  });

  after(async () => {
    await manager?.close();
    await app?.stop();
  });

  it('a manager enters a week and gets the staffing with the keyboard alone; the form, its errors and the results pass axe', async () => {
    const { page } = manager;
    await page.goto(url(PAGE));
    assert.equal(await page.locator('#resultat').count(), 0, 'no result before the form is sent');
    await assertAccessible(page, 'the empty staffing form');

    // Own figures: the source radio group, then open the week's grid and type Monday 08–09.
    await tabTo(page, (f) => f.id === 'f-source-history', 'the source choice');
    await page.keyboard.press('ArrowDown');
    assert.equal((await focused(page)).id, 'f-source-entered');
    assert.ok(await page.isChecked('#f-source-entered'));
    await tabTo(page, (f) => f.tag === 'summary' && f.text === t('stats.staffing.form.entered'), 'the entered week');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('details.staffing-entered', 'open'), '');
    await tabTo(page, (f) => f.id === 'f-h8', 'Monday 08–09');
    await page.keyboard.type('många');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-h32', 'Tab goes on along the hour, to Tuesday 08–09');
    await page.keyboard.type('200');
    await tabTo(page, (f) => f.id === 'f-ahtSeconds', 'the handling time');
    await page.keyboard.type('180');

    const refused = await submitWithKeyboard(page);
    assert.equal(refused.status(), 400);
    assert.ok(await page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false), 'focus is on the error summary');
    assert.equal(await page.locator('.error-summary a').innerText(), t('stats.staffing.errors.arrivals', { slot: 'Måndag 08:00–09:00' }));
    assert.equal(await page.getAttribute('#f-h8', 'aria-invalid'), 'true');
    assert.equal(await page.locator('#resultat').count(), 0, 'no result with an error');
    await assertAccessible(page, 'the staffing form with an error');

    // From the summary, on to the field, and fix it.
    await tabTo(page, (f) => f.id === 'f-h8', 'Monday 08–09 again');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('200');
    const shown = await submitWithKeyboard(page);
    assert.equal(shown.status(), 200);
    assert.match(page.url(), /source=entered/, 'the result has a link of its own');
    // 200 contacts in an hour at 180 s, 80 % within 20 s, 30 % shrinkage: 14 on the phones, 20 to schedule.
    const matrixRow = (await page.locator('#staffing-matrix tbody tr').first().innerText()).split('\t').map((s) => s.trim());
    assert.deepEqual(matrixRow, ['08:00–09:00', '20', '20', '0', '0', '0', t('stats.staffing.closed'), t('stats.staffing.closed')]);

    // Monday hour by hour: open it from the keyboard.
    const monday = page.locator('#dag-mon');
    await tabTo(page, (f) => f.tag === 'summary' && f.text.startsWith('Måndag'), "Monday's hours");
    await page.keyboard.press('Enter');
    assert.equal(await monday.getAttribute('open'), '');
    const first = (await monday.locator('tbody tr').nth(1).innerText()).split('\t').map((s) => s.trim());
    assert.deepEqual(first.slice(0, 4), ['08:00–09:00', '200', '14', '20']);
    // Every day's hours open, so axe checks every table.
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => d.setAttribute('open', '')));
    await assertAccessible(page, 'the staffing results');
  });
});
