import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The history report in Chromium: a manager chooses a period and a grouping
 * with the keyboard alone, the charts are drawn beside their tables, and the
 * page (with figures, and with an error) passes axe-core's WCAG 2.1 A/AA rules.
 */
const t = (key: string) => translate('sv', key);

describe('browser (Chromium): the statistics history report', function () {
  this.timeout(180_000);
  let app: ServedApp;
  let manager: BrowserSession;
  const url = (p: string) => `${app.baseUrl}${p}`;

  before(async () => {
    app = await serveTestApp();
    manager = await launchBrowser();
    // A few cases over the last days, so the charts and tables have figures.
    const topic = await app.db('categories').orderBy('id').first('id');
    for (let i = 0; i < 6; i++) {
      const [resident] = await app.db('residents').insert({ name: `Invånare ${i}`, email: `inv${i}.${randomBytes(3).toString('hex')}@e2e.example` }).returning('id');
      const created = new Date(Date.now() - i * 86_400_000);
      await app.db('cases').insert({
        reference: `E2E-${i}-${randomBytes(3).toString('hex')}`,
        channel: i % 2 ? 'email' : 'web',
        category_id: topic.id,
        resident_id: resident.id ?? resident,
        subject: `Fråga ${i}`,
        resident_token: randomBytes(32).toString('base64url'),
        created_at: created,
        queue_at: created,
      });
    }
    await signIn(app, manager, 'manager', 'Maria Chef');
  });

  after(async () => {
    await manager?.close();
    await app?.stop();
  });

  it('is reached from the menu, filtered with the keyboard, drawn and accessible', async () => {
    const { page } = manager;
    const link = await tabTo(page, (f) => f.href.endsWith('/agent/statistik'), 'the statistics link');
    assert.equal(link.text, t('stats.nav.main'));
    await Promise.all([page.waitForURL(/\/agent\/statistik/), page.keyboard.press('Enter')]);
    await page.waitForSelector('#t-volumes');
    await page.waitForSelector('[data-chart="volumes"]:not([hidden]) canvas');
    await assertAccessible(page, 'the history report');

    // Choose weeks in "Gruppera per" (days are shown for 30 days) and send the form, keyboard only.
    await tabTo(page, (f) => f.id === 'f-per', 'the grouping');
    assert.equal(await page.$eval('#f-per', (el) => (el as HTMLSelectElement).value), 'day');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.$eval('#f-per', (el) => (el as HTMLSelectElement).value), 'week');
    const show = await tabTo(page, (f) => f.tag === 'button' && f.text === t('stats.report.filter.show'), 'the Show button');
    assert.ok(show.indicator, 'the focused button shows that it has focus');
    await Promise.all([page.waitForURL(/per=week/), page.keyboard.press('Enter')]);
    await page.waitForSelector('#t-volumes');
    assert.match(await page.textContent('#h-volumes') ?? '', new RegExp(t('stats.report.volumes.title_week')));
    assert.ok(await page.isVisible('[data-chart="backlog"] canvas'));
    const csv = await tabTo(page, (f) => f.href.includes('/agent/statistik/export.csv?table=volumes'), 'the CSV link of the first table');
    assert.match(csv.text, new RegExp(t('stats.report.volumes.title_week')));
    assert.equal((await focused(page)).tag, 'a');

    // A wrong date: the error summary takes focus and links to the field.
    await page.goto(url('/agent/statistik?from=2026-02-30'));
    await page.waitForSelector('[data-error-summary]');
    await assertAccessible(page, 'the history report with an error');
    await page.click('[data-error-summary] a');
    assert.equal((await focused(page)).id, 'f-from');
  });
});
