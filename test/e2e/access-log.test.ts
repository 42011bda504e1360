import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { unzipSync } from 'fflate';
import { translate } from '../../server/platform/i18n.js';
import { newCase } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The access log and the data-subject export in Chromium: each page, its
 * errors and its results pass axe-core's WCAG 2.1 A/AA rules, and a manager
 * reaches them from the statistics navigation, filters, pages and downloads
 * with the keyboard alone.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);

/** Follows a link with the keyboard: Tab to it, then Enter, and wait for the new page. */
async function followLink(page: Page, text: string): Promise<void> {
  await tabTo(page, (f) => f.tag === 'a' && f.text === text, `the link "${text}"`, 120);
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
}

/** Sends the access log's GET form with the keyboard (its Show button, then Enter). */
async function showWithKeyboard(page: Page): Promise<number> {
  await tabTo(page, (f) => f.tag === 'button' && f.text === t('access_log.filter.show'), 'the show button');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().includes('/agent/atkomstlogg?')),
    page.waitForEvent('load'),
    page.keyboard.press('Enter'),
  ]);
  return response.status();
}

describe('browser (Chromium): the access log and the data-subject export', function () {
  this.timeout(240_000);
  let app: ServedApp;
  let manager: BrowserSession;
  const url = (p: string) => `${app.baseUrl}${p}`;
  let reference = '';
  const email = `e2e.subject.${Date.now().toString(36)}@example.com`;

  before(async () => {
    app = await serveTestApp();
    manager = await launchBrowser();
    await signIn(app, manager, 'manager', 'Maria Chef');
    const res = await app.request().post('/api/v1/cases').send(newCase({ email, name: 'Eva <b>Ek</b>' })).expect(201);
    reference = res.body.reference;
    // More than a page of entries about the case, so there is a next page to reach.
    const user = await app.db('users').where({ name: 'Maria Chef' }).first();
    await app.db('access_log').insert(Array.from({ length: 110 }, (_, i) => ({ user_id: user.id, action: 'case.view', case_reference: reference, created_at: new Date(Date.now() - 60_000 + i) })));
  });

  after(async () => {
    await manager?.close();
    await app?.stop();
  });

  it('the access log: reached from the statistics navigation, a refused filter, a result and its next page, with the keyboard alone; axe on each', async () => {
    const { page } = manager;
    await page.goto(url('/agent/statistik'));
    await followLink(page, t('stats.nav.access_log'));
    assert.equal(new URL(page.url()).pathname, '/agent/atkomstlogg');
    await assertAccessible(page, 'the access log');

    await tabTo(page, (f) => f.id === 'f-case', 'the case field');
    await page.keyboard.type('ärende 12');
    assert.equal(await showWithKeyboard(page), 400);
    assert.ok(await page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false), 'focus is on the error summary');
    assert.equal(await page.locator('.error-summary a').innerText(), t('access_log.errors.case'));
    assert.equal(await page.getAttribute('#f-case', 'aria-invalid'), 'true');
    await assertAccessible(page, 'the access log with an error');

    await tabTo(page, (f) => f.id === 'f-case', 'the case field again');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(reference);
    await tabTo(page, (f) => f.id === 'f-action' || f.tag === 'button', 'on from the case field');
    assert.equal(await showWithKeyboard(page), 200);
    assert.equal(await page.locator('#access-log-table tbody tr').count(), 100);
    assert.match(await page.locator('#access-log-table tbody tr').first().innerText(), new RegExp(`Maria Chef[\\s\\S]*${t('access_log.action.case.view')}[\\s\\S]*${reference}`));
    await assertAccessible(page, 'the access log with results');

    await followLink(page, t('access_log.result.next'));
    assert.equal(await page.locator('#access-log-table tbody tr').count(), 10);
    assert.match(page.url(), /before=\d+/);
    await assertAccessible(page, 'the second page of the access log');

    // The case is linked from a row: Enter on it opens the case (and that view is logged in turn).
    await tabTo(page, (f) => f.tag === 'a' && f.text === reference, 'the case link in a row', 200);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, `/agent/cases/${reference}`);
  });

  it('the data-subject export: errors, nothing found, and the ZIP downloaded with the keyboard alone; axe on each', async () => {
    const { page } = manager;
    await page.goto(url('/agent/statistik'));
    await followLink(page, t('stats.nav.subject_export'));
    assert.equal(new URL(page.url()).pathname, '/agent/registerutdrag');
    await assertAccessible(page, 'the export form');

    const submit = new RegExp(t('subject_export.form.submit').replace(/[()]/g, '\\$&'));
    const refused = await submitWithKeyboard(page, submit);
    assert.equal(refused.status(), 400);
    assert.ok(await page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false), 'focus is on the error summary');
    assert.equal(await page.locator('.error-summary a').innerText(), t('subject_export.errors.one'));
    await assertAccessible(page, 'the export form with an error');

    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field');
    await page.keyboard.type('ingen.alls@example.com');
    const none = await submitWithKeyboard(page, submit);
    assert.equal(none.status(), 200);
    assert.equal((await page.locator('#subject-export-none').innerText()).trim(), t('subject_export.none', { subject: 'ingen.alls@example.com' }));
    await assertAccessible(page, 'the export form saying nothing was found');

    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field again');
    assert.equal((await focused(page)).id, 'f-email');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(email);
    await tabTo(page, (f) => f.tag === 'button' && submit.test(f.text), 'the download button');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.match(download.suggestedFilename(), /^registerutdrag-\d{4}-\d{2}-\d{2}\.zip$/);
    const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    assert.ok(zip['sammanstallning.html'] && zip['data.json'], 'the summary and the data');
    assert.ok(Buffer.from(zip['data.json']).toString('utf8').includes(reference));

    // The summary as a browser shows it: accessible, and the name with markup in it shown as text.
    await page.setContent(Buffer.from(zip['sammanstallning.html']).toString('utf8'));
    assert.equal(await page.locator('b').count(), 0, 'outside text is escaped in the summary');
    assert.match(await page.locator('body').innerText(), /Eva <b>Ek<\/b>/);
    await assertAccessible(page, 'the export summary');
  });
});
