import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The accessibility statement in a real browser: it passes axe-core's WCAG
 * 2.1 A/AA rules in Swedish and in Arabic (right to left), with its error
 * state, and a resident reports a problem with the keyboard alone.
 */

type Lang = 'sv' | 'ar';
const t = (lang: Lang, key: string) => translate(lang, key);
const exactly = (lang: Lang, key: string) => new RegExp(`^${t(lang, key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('browser (Chromium): the accessibility statement', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let resident: BrowserSession;

  before(async () => {
    app = await serveTestApp();
    resident = await launchBrowser();
  });

  after(async () => {
    await resident?.close();
    await app?.stop();
  });

  async function open(page: Page, lang: Lang): Promise<void> {
    const res = await page.goto(`${app.baseUrl}/tillganglighet?lang=${lang}`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    assert.equal(await page.locator('html').getAttribute('dir'), lang === 'ar' ? 'rtl' : 'ltr');
    assert.equal(await page.locator('h1').innerText(), t(lang, 'accessibility.title'));
  }

  const caseCount = async () => Number((await app.db('cases').count<{ n: string }[]>({ n: '*' }))[0]!.n);

  it('in Swedish: the statement passes axe, and a report sent with the keyboard alone ends on the receipt', async () => {
    const { page } = resident;
    await open(page, 'sv');
    await assertAccessible(page, 'the accessibility statement (sv)');
    const before = await caseCount();

    await tabTo(page, (f) => f.id === 'f-page', 'the page field');
    await page.keyboard.type('/kontakt');
    await tabTo(page, (f) => f.id === 'f-description', 'the description', 3);
    await page.keyboard.type('Felmeddelandet läses inte upp av skärmläsaren.');
    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field', 3);
    await page.keyboard.type('ruth.berg@example.com');
    const response = await submitWithKeyboard(page, exactly('sv', 'accessibility.report.submit'));

    assert.equal(response.status(), 303);
    assert.match(new URL(page.url()).pathname, /^\/kvitto\/[A-Za-z0-9_-]{43}$/, 'the receipt is the thank-you');
    assert.equal(await page.locator('h1').innerText(), t('sv', 'receipt.title'));
    assert.equal(await caseCount(), before + 1, 'one case');
    const c = await app.db('cases').orderBy('id', 'desc').first<{ reference: string; subject: string }>('reference', 'subject');
    assert.equal(c!.subject, 'Tillgänglighet: /kontakt');
    assert.match(await page.locator('main').innerText(), new RegExp(c!.reference), 'the case number on the receipt');
  });

  it('in Arabic: the statement and its error state pass axe, and the error summary leads to the field', async () => {
    const { page } = resident;
    await open(page, 'ar');
    await assertAccessible(page, 'the accessibility statement (ar)');
    const before = await caseCount();

    const refused = await submitWithKeyboard(page, exactly('ar', 'accessibility.report.submit'));
    assert.equal(refused.status(), 400);
    assert.equal(await caseCount(), before, 'nothing written');
    assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
    await assertAccessible(page, 'the accessibility statement with an error (ar)');
    const link = await tabTo(page, (f) => f.href === '#f-description', 'the error in the summary', 3);
    assert.equal(link.text, t('ar', 'accessibility.report.errors.description_required'));
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).id, 'f-description', 'the link moves focus to the field');
  });
});
