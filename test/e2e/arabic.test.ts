import { strict as assert } from 'node:assert';
import type { Page, Response } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, launchBrowser, serveTestApp, submitWithKeyboard, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The resident pages in Arabic, in Chromium: right to left, mirrored
 * (labels, the skip link and the error marks on the right), numbers kept
 * left to right inside Arabic text, and every page passing axe-core's
 * WCAG 2.1 A/AA rules, with and without errors shown.
 */

const ar = (key: string, vars: Record<string, unknown> = {}) => translate('ar', key, vars);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (key: string) => new RegExp(`^${escape(ar(key))}$`);

async function assertArabic(page: Page, label: string, response: Response | null, status: number): Promise<void> {
  assert.equal(response?.status(), status, `${label}: HTTP status`);
  const html = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir, direction: getComputedStyle(document.body).direction }));
  assert.deepEqual(html, { lang: 'ar', dir: 'rtl', direction: 'rtl' }, `${label}: an Arabic page laid out right to left`);
  await assertAccessible(page, `${label} (ar)`);
}

/** Where an element is, in CSS pixels. */
async function box(page: Page, selector: string) {
  const b = await page.locator(selector).first().boundingBox();
  assert.ok(b, `${selector} is shown`);
  return { left: b.x, right: b.x + b.width, width: b.width };
}

/** Where an element's text is (a label is a block as wide as the form; its words are not). */
async function textBox(page: Page, selector: string) {
  return page.locator(selector).first().evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const r = range.getBoundingClientRect();
    return { left: r.left, right: r.right, width: r.width };
  });
}

/** Left edges of two pieces of text inside an element, as laid out. */
async function textOrder(page: Page, selector: string, first: string, second: string): Promise<[number, number]> {
  return page.locator(selector).first().evaluate(
    (el, [a, b]) => {
      const leftOf = (needle: string) => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const at = (n.textContent ?? '').indexOf(needle);
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + needle.length);
          return range.getBoundingClientRect().left;
        }
        throw new Error(`no text ${needle}`);
      };
      return [leftOf(a!), leftOf(b!)] as [number, number];
    },
    [first, second],
  );
}

describe('browser (Chromium): the resident pages in Arabic', function () {
  this.timeout(120_000);
  let app: ServedApp;
  let browser: BrowserSession;
  const url = (p: string) => `${app.baseUrl}${p}`;

  before(async () => {
    app = await serveTestApp();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the start page is right to left and mirrored: the skip link and the header start on the right', async () => {
    const { page } = browser;
    await assertArabic(page, 'the start page', await page.goto(url('/?lang=ar')), 200);
    assert.equal(await page.locator('h1').textContent(), ar('home.heading'));
    const viewport = page.viewportSize()!;
    const brand = await box(page, '.brand');
    assert.ok(brand.right > viewport.width / 2, `the site name starts on the right (${brand.left}–${brand.right} of ${viewport.width})`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
    const skip = await box(page, '.skip-link');
    assert.ok(skip.right > viewport.width - 40 && skip.left > viewport.width / 2, `the focused skip link shows at the top right (${skip.left}–${skip.right})`);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), true, 'nothing overflows sideways');
  });

  it('a phone number inside Arabic text keeps its digits left to right', async () => {
    const { page } = browser;
    await page.goto(url('/kontakt?lang=ar'));
    const [start, end] = await textOrder(page, '#f-phone-hint', '070', '67');
    assert.ok(start < end, `"070" is left of "67" in the hint (${start} < ${end})`);
    const phone = app.config.organisation.phone;
    const parts = phone.split(/[\s-]+/);
    if (parts.length > 1) {
      const [a, b] = await textOrder(page, '.site-footer', parts[0]!, parts.at(-1)!);
      assert.ok(a < b, `the footer's number ${phone} reads left to right`);
    }
  });

  it('/kontakt: labels on the right, the form accessible with and without errors, sent with the keyboard', async () => {
    const { page } = browser;
    await assertArabic(page, 'the contact form', await page.goto(url('/kontakt?lang=ar')), 200);
    const label = await textBox(page, 'label[for="f-name"]');
    const input = await box(page, '#f-name');
    assert.ok(Math.abs(label.right - input.right) < 2, `the label's text lines up with the field's right edge (${label.right} / ${input.right})`);
    assert.ok(label.left > input.left + 50, `and not with its left edge (${label.left} / ${input.left})`);
    const radio = await box(page, '.radio input');
    const radioLabel = await box(page, '.radio label');
    assert.ok(radio.left > radioLabel.right - 1, 'a radio button stands to the right of its label');
    assert.equal(await page.locator('#f-email').evaluate((el) => getComputedStyle(el).direction), 'ltr', 'an e-mail address is typed left to right');

    const errors = await submitWithKeyboard(page, exactly('form.submit'));
    await assertArabic(page, 'the contact form with errors', errors, 400);
    assert.ok(await page.locator('[data-error-summary]').isVisible());
    assert.equal(await page.locator('#error-summary-title').textContent(), ar('form.error_summary_title'));
    const field = await box(page, '.field--error');
    const form = await box(page, 'main form');
    const mark = await page.locator('.field--error').first().evaluate((el) => ({ right: getComputedStyle(el).borderRightWidth, left: getComputedStyle(el).borderLeftWidth }));
    assert.deepEqual(mark, { right: '5px', left: '0px' }, 'the error mark is on the right, where the field starts');
    assert.ok(field.right <= form.right + 1);
  });

  it('the receipt, the case page (also with an error) and the callback form in Arabic pass axe, and the case page follows the case’s language', async () => {
    const { page } = browser;
    await page.goto(url('/kontakt?lang=ar'));
    await page.check('#topic-bygglov');
    await page.fill('#f-name', 'سارة أحمد');
    await page.fill('#f-email', 'sara.ahmad@example.com');
    await page.fill('#f-message', 'هل أحتاج إلى رخصة بناء لبيت صغير في حديقتي؟');
    const sent = await submitWithKeyboard(page, exactly('form.submit'));
    assert.equal(sent.status(), 303);
    await assertArabic(page, 'the receipt', await page.reload(), 200);
    const reference = (await page.locator('main .panel strong').first().textContent())!;
    assert.match(reference, /^SC-\d{4}-\d{6,}$/);
    assert.equal(await page.locator('main .panel strong span[dir="ltr"]').evaluate((el) => getComputedStyle(el).direction), 'ltr', 'the case number is laid out left to right');
    const [sc, digits] = await textOrder(page, 'main .panel strong', 'SC', reference.slice(-6));
    assert.ok(sc < digits, 'and reads SC-… from the left');

    const link = (await page.locator('a.copy-link').getAttribute('href'))!;
    await assertArabic(page, "the resident's case page", await page.goto(link), 200);
    const reply = await submitWithKeyboard(page, exactly('case.reply.submit'));
    await assertArabic(page, "the resident's case page with an error", reply, 400);
    assert.ok(await page.locator('[data-error-summary]').isVisible());

    // Another browser, with no language chosen: the case's language.
    const other = await launchBrowser();
    try {
      await assertArabic(other.page, 'the case page in a browser with no choice', await other.page.goto(link), 200);
    } finally {
      await other.close();
    }

    await assertArabic(page, 'the callback form', await page.goto(url('/ring-upp')), 200);
    const errors = await submitWithKeyboard(page, exactly('callbacks.form.submit'));
    await assertArabic(page, 'the callback form with errors', errors, 400);
    assert.ok(await page.locator('[data-error-summary]').isVisible());
    await assertArabic(page, 'a missing page', await page.goto(url('/finns-inte')), 404);
  });

  it('reflows at 320 px without sideways scrolling (WCAG 1.4.10)', async () => {
    const narrow = await launchBrowser({ viewport: { width: 320, height: 640 } });
    try {
      const created = await app.services.cases.createCase(
        { name: 'ليلى', email: 'layla@example.com', phone: '070-123 45 67', category: 'forskoleplats', message: 'متى يمكنني التقديم على مكان في الروضة؟' },
        { channel: 'web', language: 'ar' },
      );
      for (const path of ['/?lang=ar', '/kontakt', '/ring-upp', `/kvitto/${created.token}`, `/arende/${created.token}`]) {
        await narrow.page.goto(url(path));
        assert.equal(await narrow.page.evaluate(() => document.documentElement.dir), 'rtl', path);
        const widths = await narrow.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        assert.ok(widths.scroll <= widths.client, `${path}: ${widths.scroll} px wide in a ${widths.client} px window`);
      }
    } finally {
      await narrow.close();
    }
  });
});
