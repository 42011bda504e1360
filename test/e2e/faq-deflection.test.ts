import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import type { FaqDeflectionRow } from '../../server/faq/deflection-store.js';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Deflection in a real browser: while a resident writes their question, FAQ
 * articles are suggested under the message field and announced politely;
 * opening one (with the keyboard) is recorded before the browser leaves, and
 * what they typed comes back when they return. A visit that opened an article
 * and sent nothing is a contact the FAQ saved; one that sent the form anyway
 * is marked with the case.
 *
 * The article pages (/fragor/:category/:slug) are another part's work: this
 * test depends only on their URLs, not on what they show.
 */

const SAVED_KEY = 'servicecenter.contact-form';
const ARTICLE_PATH = /^\/fragor\/([a-z0-9-]+)\/([a-z0-9-]+)$/;

describe('browser (Chromium): FAQ suggestions on the contact form', function () {
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

  const url = (p: string) => `${app.baseUrl}${p}`;
  const row = (token: string) => app.db<FaqDeflectionRow>('faq_deflections').where({ token }).first();
  const visitOf = (page: Page) => page.locator('input[name="faq_visit"]').inputValue();
  const suggestionLinks = (page: Page) => page.locator('[data-faq-suggest-list] a');

  /** Waits until the status says how many suggestions there are, and answers the count. */
  async function announcedCount(page: Page): Promise<number> {
    const status = page.locator('[data-faq-suggest-status]');
    await page.waitForFunction(() => /^\d+ förslag på svar$/.test(document.querySelector('[data-faq-suggest-status]')?.textContent ?? ''), undefined, { timeout: 10_000 });
    return Number(/^(\d+)/.exec(await status.innerText())![1]);
  }

  async function articleIdOf(href: string): Promise<number> {
    const [, category, slug] = ARTICLE_PATH.exec(href) ?? [];
    assert.ok(category && slug, `an article link: ${href}`);
    return ((await app.db('faq_articles').where({ category, slug }).first('id')) as { id: number }).id;
  }

  it('a resident writes about bygglov: suggestions appear, are announced and accessible; opening one with the keyboard records a deflected contact', async () => {
    const { page } = resident;
    await page.goto(url('/kontakt'));
    const visit = await visitOf(page);
    assert.match(visit, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(await page.locator('[data-faq-suggest-box]').isVisible(), false, 'no suggestions before typing');

    await tabTo(page, (f) => f.id === 'f-message', 'the message field');
    await page.keyboard.type('Behöver jag bygglov för ett attefallshus?', { delay: 15 });

    const count = await announcedCount(page);
    assert.ok(count >= 1 && count <= 3, `1 to 3 suggestions, got ${count}`);
    const status = page.locator('[data-faq-suggest-status]');
    assert.equal(await status.getAttribute('aria-live'), 'polite');
    assert.equal(await status.getAttribute('role'), 'status');
    assert.equal(await suggestionLinks(page).count(), count, 'the status counts the links');
    assert.equal(await page.locator('#faq-suggest-heading').innerText(), translate('sv', 'deflection.heading'));
    assert.ok(await page.locator('[data-faq-suggest-box]').isVisible());
    const hrefs = await suggestionLinks(page).evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) assert.match(href, ARTICLE_PATH);
    assert.ok(hrefs.includes('/fragor/bygglov/behover-jag-bygglov-for-attefallshus'), `the attefallshus article is suggested: ${hrefs.join(', ')}`);
    assert.equal(await page.locator('.faq-suggest-summary').count(), count, 'each suggestion has its summary');
    assert.equal((await focused(page)).id, 'f-message', 'focus stays in the message field');

    await assertAccessible(page, 'the contact form with suggestions shown');

    // The suggestions come right after the message field in the tab order.
    const link = await tabTo(page, (f) => f.tag === 'a' && ARTICLE_PATH.test(f.href), 'the first suggestion', 1);
    assert.equal(link.href, hrefs[0]);
    assert.equal(await row(visit), undefined, 'nothing is recorded before an article is opened');
    await Promise.all([page.waitForURL(url(link.href)), page.keyboard.press('Enter')]);

    // Recorded before the browser left the form.
    const r = await row(visit);
    assert.ok(r, 'the visit is recorded');
    assert.equal(r.opened_count, 1);
    assert.equal(r.first_article_id, await articleIdOf(link.href));
    assert.equal(r.lang, 'sv');
    assert.equal(r.submitted_at, null, 'a deflected contact: opened, not submitted');
    assert.equal(r.case_id, null);
  });

  it('a second visit: the resident opens a suggestion, comes back to their text, and sends the form anyway', async () => {
    const { page } = resident;
    // The first visit's text is still kept in this tab (it was never sent): start afresh.
    await page.evaluate((key) => sessionStorage.removeItem(key), SAVED_KEY);
    await resident.context.clearCookies();
    await page.goto(url('/kontakt'));
    assert.equal(await page.inputValue('#f-message'), '');
    const visit = await visitOf(page);

    await page.check('#topic-bygglov');
    await page.fill('#f-name', 'Sara Öberg');
    await page.fill('#f-email', 'sara.oberg@example.com');
    await page.fill('#f-subject', 'Bygglov');
    await tabTo(page, (f) => f.id === 'f-message', 'the message field');
    const question = 'Hur lång tid tar det att få bygglov för ett garage?';
    await page.keyboard.type(question, { delay: 15 });
    await announcedCount(page);

    const link = await tabTo(page, (f) => f.tag === 'a' && ARTICLE_PATH.test(f.href), 'a suggestion', 1);
    await Promise.all([page.waitForURL(url(link.href)), page.keyboard.press('Enter')]);
    const opened = await row(visit);
    assert.ok(opened, 'the visit is recorded');
    assert.equal(opened.submitted_at, null);

    // Back on the form, everything typed is there again, with the same visit.
    await page.goBack();
    await page.waitForURL(url('/kontakt'));
    const expectForm = async (how: string) => {
      assert.equal(await page.inputValue('#f-message'), question, `the message ${how}`);
      assert.equal(await page.inputValue('#f-subject'), 'Bygglov', `the subject ${how}`);
      assert.equal(await page.inputValue('#f-name'), 'Sara Öberg', `the name ${how}`);
      assert.equal(await page.inputValue('#f-email'), 'sara.oberg@example.com', `the e-mail ${how}`);
      assert.equal(await page.isChecked('#topic-bygglov'), true, `the topic ${how}`);
      assert.equal(await visitOf(page), visit, `the visit ${how}`);
    };
    await expectForm('after going back');
    assert.ok((await page.locator('[data-faq-suggest-box] .hint').innerText()).includes('sparas i den här webbläsaren'), 'a hint says the text is kept');

    // A new load of the form (not the browser's page cache) fills it from what was saved.
    await page.goto(url('/kontakt'));
    await expectForm('on a new load of the form');
    const saved = await page.evaluate((key) => sessionStorage.getItem(key), SAVED_KEY);
    assert.ok(saved && !saved.includes('"attachments"'), 'files are not saved');
    // Suggestions come back for the restored text, without an announcement on load.
    await page.locator('[data-faq-suggest-box]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-faq-suggest-status]').innerText(), '');

    const response = await submitWithKeyboard(page, /^Skicka$/);
    assert.equal(response.status(), 303);
    const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(new URL(page.url()).pathname)?.[1];
    assert.ok(token, `on the receipt: ${page.url()}`);
    const created = await app.db('cases').where({ resident_token: token }).first('id');

    const sent = await row(visit);
    assert.ok(sent!.submitted_at instanceof Date, 'submitted anyway');
    assert.equal(Number(sent!.case_id), Number(created.id));
    assert.equal(sent!.opened_count, 1);

    // Sent: nothing typed is kept any longer, and the next form starts empty.
    await page.waitForFunction((key) => sessionStorage.getItem(key) === null, SAVED_KEY, { timeout: 5000 });
    await page.goto(url('/kontakt'));
    assert.equal(await page.inputValue('#f-message'), '');
    assert.notEqual(await visitOf(page), visit, 'a new visit');
  });
});
