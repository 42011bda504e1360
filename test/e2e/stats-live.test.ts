import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { newCase } from '../support/harness.js';
import { assertAccessible, launchBrowser, serveTestApp, signIn, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The live board in Chromium: an agent's page (/agent/statistik/live) and
 * the TV wallboard (/tavla, connected once with a wallboard key) pass axe's
 * WCAG 2.1 A/AA rules, are reached and used with the keyboard, and their
 * numbers change in place, without a reload, when a case arrives.
 */
describe('browser (Chromium): the live board and the wallboard', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let agent: BrowserSession;
  let tv: BrowserSession;
  const url = (p: string) => `${app.baseUrl}${p}`;

  const waitingShown = (page: Page) => page.locator('[data-figure="waiting"]').first().innerText();
  /** A marker a reload would wipe: the numbers must change with it still there. */
  const mark = (page: Page) => page.evaluate(() => ((window as unknown as { boardMark: number }).boardMark = 1));
  const stillMarked = (page: Page) => page.evaluate(() => (window as unknown as { boardMark?: number }).boardMark === 1);

  before(async () => {
    app = await serveTestApp();
    agent = await launchBrowser();
    tv = await launchBrowser({ viewport: { width: 1920, height: 1080 } });
  });

  after(async () => {
    await agent?.close();
    await tv?.close();
    await app?.stop();
  });

  it('the agent page and the TV wallboard pass axe, work with the keyboard, and update live', async () => {
    const { email } = await signIn(app, agent, 'agent', 'Alva Agent');
    const { page } = agent;

    // From the statistics page's menu to "Just nu" with the keyboard.
    await page.goto(url('/agent/statistik/live'));
    await page.waitForSelector('#live-connection[data-state="connected"]');
    await assertAccessible(page, 'the live board');
    await tabTo(page, (f) => f.href === '/tavla', 'the wallboard link in the statistics menu');

    // The TV: connected once with its key, which leaves the address bar.
    const key = await app.services.auth.createApiToken(email, 'tv', 'wallboard');
    await tv.page.goto(url(`/tavla?nyckel=${key}`));
    assert.equal(tv.page.url(), url('/tavla'));
    await tv.page.waitForSelector('#live-connection[data-state="connected"]');
    await assertAccessible(tv.page, 'the wallboard');
    const language = await tabTo(tv.page, (f) => f.tag === 'a' && f.href.startsWith('/tavla?lang=en'), 'the language link on the wallboard');
    assert.equal(language.text, 'English');

    // A new case: both boards change in place.
    const before = { agent: await waitingShown(page), tv: await waitingShown(tv.page) };
    await mark(page);
    await mark(tv.page);
    const res = await fetch(url('/api/v1/cases'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(newCase({ subject: 'Syns på tavlan' })) });
    assert.equal(res.status, 201);
    const expected = String(Number(before.agent) + 1);
    for (const p of [page, tv.page]) {
      await p.waitForFunction((n) => document.querySelector('[data-figure="waiting"]')?.textContent === n, expected, { timeout: 10_000 });
      assert.ok(await stillMarked(p), 'no reload');
    }
    assert.equal(await waitingShown(tv.page), String(Number(before.tv) + 1));
    assert.equal(await page.locator('[data-board-categories] th').first().innerText(), 'Bygglov');
    // Nothing about the update is announced: the only live region is the connection line.
    assert.equal(await tv.page.locator('[aria-live]:not(#live-connection):not(#live-announcer)').count(), 0);
  });
});
