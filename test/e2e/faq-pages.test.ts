import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The residents' FAQ in a real browser: every kind of page passes axe-core's
 * WCAG 2.1 A/AA rules in Swedish, English and Arabic (right to left), and a
 * reader searches and answers "Did this help?" with the keyboard alone.
 */

type Lang = 'sv' | 'en' | 'ar';
const LANGS: Lang[] = ['sv', 'en', 'ar'];
const t = (lang: Lang, key: string, vars: Record<string, unknown> = {}) => translate(lang, key, vars);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (lang: Lang, key: string) => new RegExp(`^${escape(t(lang, key))}$`);

const ATTEFALL = '/fragor/bygglov/behover-jag-bygglov-for-attefallshus';
/** Not translated into Arabic: shown in Swedish there. */
const NO_ARABIC = '/fragor/bygglov/hur-ansoker-jag-om-bygglov';
const SEARCH: Record<Lang, string> = { sv: 'bygglovet', en: 'building permit', ar: '' };

describe('browser (Chromium): the FAQ pages', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let reader: BrowserSession;

  before(async () => {
    app = await serveTestApp();
    reader = await launchBrowser();
    // An Arabic word from an Arabic title, so the Arabic search has something to find.
    const title = (await app.db('faq_versions').where({ lang: 'ar', status: 'published' }).orderBy('id').first<{ title: string }>('title'))!.title;
    SEARCH.ar = title.split(/[\s؟?،,.]+/).sort((a, b) => b.length - a.length)[0]!;
  });

  after(async () => {
    await reader?.close();
    await app?.stop();
  });

  const url = (p: string) => `${app.baseUrl}${p}`;

  async function open(page: Page, path: string, lang: Lang): Promise<void> {
    const res = await page.goto(url(`${path}${path.includes('?') ? '&' : '?'}lang=${lang}`));
    assert.ok(res, `no response for ${path}`);
    assert.ok(res.status() < 500, `${path}: ${res.status()}`);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    assert.equal(await page.locator('html').getAttribute('dir'), lang === 'ar' ? 'rtl' : 'ltr');
  }

  /** Answers "Did this help?" on the open article with the keyboard: Tab to the choice, arrows, type, Enter on the button. */
  async function giveFeedbackWithKeyboard(page: Page, lang: Lang, helpful: 'ja' | 'nej', comment: string) {
    const first = await tabTo(page, (f) => f.name === 'helpful', 'the "Did this help?" choices');
    assert.equal(first.id, 'f-helpful-ja', 'Tab lands on the first choice');
    // The arrow keys move within the radio group (and choose); Down is next in either direction of text.
    if (helpful === 'nej') await page.keyboard.press('ArrowDown');
    else await page.keyboard.press('Space');
    assert.equal(await page.isChecked(`#f-helpful-${helpful}`), true, `the keyboard chose ${helpful}`);
    if (comment) {
      await tabTo(page, (f) => f.id === 'f-comment', 'the comment field');
      await page.keyboard.type(comment);
    }
    return submitWithKeyboard(page, exactly(lang, 'faq.feedback.submit'));
  }

  for (const lang of LANGS) {
    describe(`in ${lang}`, () => {
      it('the start page, a category and an article pass axe', async () => {
        const { page } = reader;
        await open(page, '/fragor', lang);
        assert.equal(await page.locator('h1').innerText(), t(lang, 'faq.index.title'));
        await assertAccessible(page, `the FAQ start page (${lang})`);
        await open(page, '/fragor/forskoleplats', lang);
        assert.equal(await page.locator('h1').innerText(), t(lang, 'faq.categories.forskoleplats.name'));
        await assertAccessible(page, `a category (${lang})`);
        await open(page, ATTEFALL, lang);
        await assertAccessible(page, `an article (${lang})`);
        await open(page, NO_ARABIC, lang);
        if (lang === 'ar') {
          assert.equal(await page.locator('.faq-fallback').innerText(), t('ar', 'faq.article.fallback'));
          assert.equal(await page.locator('article.faq-article').getAttribute('lang'), 'sv');
          assert.equal(await page.locator('article.faq-article').evaluate((el) => getComputedStyle(el).direction), 'ltr', 'the Swedish text reads left to right');
          assert.equal(await page.locator('.faq-feedback').evaluate((el) => getComputedStyle(el).direction), 'rtl', 'the page around it right to left');
        }
        await assertAccessible(page, `an article${lang === 'ar' ? ' in Swedish on an Arabic page' : ''} (${lang})`);
      });

      it('search: typed and sent with the keyboard; results, no results and an error pass axe', async () => {
        const { page } = reader;
        await open(page, '/fragor', lang);
        await tabTo(page, (f) => f.id === 'f-q', 'the search field');
        await page.keyboard.type(SEARCH[lang]);
        await Promise.all([page.waitForURL((u) => u.pathname === '/fragor/sok'), page.keyboard.press('Enter')]);
        const count = page.locator('[role="status"].faq-count');
        assert.match(await count.innerText(), /\S/, 'the count is announced');
        assert.ok((await page.locator('.faq-list a').count()) > 0, `results for ${SEARCH[lang]}`);
        await assertAccessible(page, `search results (${lang})`);

        await open(page, '/fragor/sok?q=xyzzyplugh', lang);
        assert.equal(await page.locator('[role="status"].faq-count').innerText(), t(lang, 'faq.search.none', { q: '\u2068xyzzyplugh\u2069' }));
        assert.equal(await page.locator('main a[href="/kontakt"]').count(), 1, 'a link to the contact form');
        await assertAccessible(page, `a search without results (${lang})`);

        await open(page, '/fragor/sok?q=', lang);
        assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
        assert.equal(await page.locator('.error-summary a').innerText(), t(lang, 'faq.search.errors.empty'));
        await assertAccessible(page, `an empty search (${lang})`);
      });

      it('"Did this help?" with the keyboard alone; the article after it passes axe', async () => {
        const { page } = reader;
        await open(page, lang === 'ar' ? NO_ARABIC : ATTEFALL, lang);
        const before = Number((await app.db('faq_feedback').count<{ n: string }[]>({ n: '*' }))[0]!.n);

        // Sent without a choice: the error summary takes focus and its link leads to the choice.
        const refused = await submitWithKeyboard(page, exactly(lang, 'faq.feedback.submit'));
        assert.equal(refused.status(), 400);
        assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
        await assertAccessible(page, `the feedback form with an error (${lang})`);
        const link = await tabTo(page, (f) => f.href === '#f-helpful-ja', 'the error in the summary', 3);
        assert.equal(link.text, t(lang, 'faq.feedback.errors.helpful'));
        await page.keyboard.press('Enter');
        assert.equal((await focused(page)).id, 'f-helpful-ja', 'the link moves focus to the first choice');

        const response = await giveFeedbackWithKeyboard(page, lang, 'nej', 'Saknar ett exempel');
        assert.equal(response.status(), 303, 'the answer is taken');
        const now = new URL(page.url());
        assert.equal(now.search, '?tack=nej');
        assert.equal(now.hash, '#omdome');
        const status = page.locator('#omdome [role="status"]');
        assert.match(await status.innerText(), new RegExp(escape(t(lang, 'faq.feedback.thanks_nej'))));
        assert.equal(await page.locator('#omdome form').count(), 0, 'the thanks replace the form');
        await assertAccessible(page, `the article after feedback (${lang})`);

        const rows = await app.db('faq_feedback').orderBy('id');
        assert.equal(rows.length, before + 1, 'one answer stored');
        assert.deepEqual({ lang: rows.at(-1).lang, helpful: rows.at(-1).helpful, comment: rows.at(-1).comment }, { lang: lang === 'ar' ? 'sv' : lang, helpful: false, comment: 'Saknar ett exempel' });
      });
    });
  }

  it('a "yes" with the keyboard alone, without a comment', async () => {
    const { page } = reader;
    await open(page, '/fragor/forskoleplats', 'sv');
    const first = page.locator('.faq-list a').first();
    const href = (await first.getAttribute('href'))!;
    await open(page, href, 'sv');
    const response = await giveFeedbackWithKeyboard(page, 'sv', 'ja', '');
    assert.equal(response.status(), 303);
    assert.equal(await page.locator('#omdome [role="status"]').innerText(), t('sv', 'faq.feedback.thanks_ja'));
    const row = await app.db('faq_feedback').orderBy('id', 'desc').first();
    assert.deepEqual({ helpful: row.helpful, comment: row.comment, lang: row.lang }, { helpful: true, comment: '', lang: 'sv' });
  });
});
