import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { findArticleLinks } from '../../server/faq/reply-uses.js';
import { translate } from '../../server/platform/i18n.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * An agent answers with the FAQ, in Chromium and with the keyboard alone:
 * searches from the case page, hears how many articles were found, inserts
 * one into the reply where the cursor was and is back in the reply, sends
 * it, and the use of the article is recorded. Every wait is on a DOM
 * condition; nothing sleeps.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);

describe('browser (Chromium): the FAQ in an agent’s reply', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let browser: BrowserSession;
  let user: { id: number };
  const scriptErrors: string[] = [];
  const url = (p: string) => `${app.baseUrl}${p}`;

  async function newCase(language: 'sv' | 'ar') {
    return app.services.cases.createCase(
      { name: 'Karin Lindqvist', email: `karin.${language}.${Date.now()}@example.com`, category: 'bygglov', subject: 'Vad kostar bygglov?', message: 'Vad kostar det att söka bygglov?', language },
      { channel: 'web' },
    );
  }

  async function title(category: string, slug: string, lang: string): Promise<string | undefined> {
    const row = await app
      .db('faq_versions as v')
      .join('faq_articles as a', 'a.id', 'v.article_id')
      .where({ 'a.category': category, 'a.slug': slug, 'v.lang': lang, 'v.status': 'published' })
      .first('v.title');
    return row?.title as string | undefined;
  }

  /** Types a question into the FAQ search and waits for the results and the count in the status line. */
  async function search(page: Page, q: string): Promise<{ category: string; slug: string; note: boolean }[]> {
    await tabTo(page, (f) => f.id === 'f-faq', 'the FAQ search field');
    await page.keyboard.type(q);
    await page.locator('#faq-results li').first().waitFor({ state: 'visible' });
    const count = await page.locator('#faq-results li').count();
    await page.waitForFunction(
      (text) => document.getElementById('faq-status')?.textContent === text,
      count === 1 ? t('agent_faq.count_one') : t('agent_faq.count', { n: count }),
    );
    assert.equal(await page.locator('#faq-status').getAttribute('role'), 'status', 'the count is read out politely');
    assert.equal((await focused(page)).id, 'f-faq', 'the results came without moving the focus');
    return page.locator('#faq-results li').evaluateAll((lis) =>
      lis.map((li) => ({ category: (li as HTMLElement).dataset.category ?? '', slug: (li as HTMLElement).dataset.slug ?? '', note: li.querySelector('.agent-faq-note') !== null })),
    );
  }

  before(async () => {
    app = await serveTestApp();
    browser = await launchBrowser();
    browser.page.on('pageerror', (err) => scriptErrors.push(`${browser.page.url()}: ${err.message}`));
    browser.page.on('console', (msg) => {
      if (msg.type() === 'error' && msg.text().startsWith('live:')) scriptErrors.push(`${browser.page.url()}: ${msg.text()}`);
    });
    user = await app.services.auth.createUser({ email: 'anna@faq.example', name: 'Anna Lindqvist', role: 'agent', password: TEST_PASSWORD });
    const { page } = browser;
    await page.goto(url('/login'));
    await page.fill('#f-email', 'anna@faq.example');
    await page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  });

  afterEach(() => {
    assert.deepEqual(scriptErrors.splice(0), [], 'no script errors in the page');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('searches, inserts an article at the cursor with the keyboard, sends the reply, and the use is recorded', async () => {
    const { page } = browser;
    const c = await newCase('sv');
    await page.goto(url(`/agent/cases/${c.reference}`));
    await page.locator('#f-body').focus();
    await page.keyboard.type('Hej Karin!\n\n');

    const results = await search(page, 'vad kostar bygglov');
    assert.ok(results.length >= 1 && results.length <= 5, `${results.length} results`);
    assert.ok(results.every((r) => !r.note), 'a Swedish case has every article in Swedish');
    await assertAccessible(page, 'the case page with FAQ results');

    const first = results[0]!;
    const firstTitle = (await title(first.category, first.slug, 'sv'))!;
    assert.ok(firstTitle, 'the first result is a published article');
    await tabTo(page, (f) => f.tag === 'button' && f.text === `${t('agent_faq.insert')}: ${firstTitle}`, 'the first "Infoga i svaret" button');
    await page.keyboard.press('Enter');

    const link = `${app.baseUrl}/fragor/${first.category}/${first.slug}`;
    await page.waitForFunction((l) => (document.getElementById('f-body') as HTMLTextAreaElement).value.includes(l), link);
    assert.equal((await focused(page)).id, 'f-body', 'the focus is back in the reply');
    await page.waitForFunction((text) => document.getElementById('faq-status')?.textContent === text, t('agent_faq.inserted'));

    // The agent goes on writing where the article ended.
    await page.keyboard.type('\n\nVänliga hälsningar\nAnna');
    const reply = await page.locator('#f-body').inputValue();
    assert.ok(reply.startsWith(`Hej Karin!\n\n${firstTitle}\n\n`), reply.slice(0, 200));
    assert.ok(reply.endsWith(`\n\nLäs mer: ${link}\n\nVänliga hälsningar\nAnna`), reply.slice(-200));
    await assertAccessible(page, 'the case page after inserting an article');

    const response = await submitWithKeyboard(page, new RegExp(`^${t('agent.reply.submit')}$`));
    assert.equal(response.status(), 303);
    assert.match(page.url(), /\?klart=reply#timeline$/);

    const message = await app.db('messages').where({ case_id: c.id, kind: 'reply' }).first();
    assert.equal(message.body.replace(/\r\n/g, '\n'), reply.trim());
    // The article, and any article its text links to, each once for this reply.
    const linked = findArticleLinks(reply, app.baseUrl);
    assert.ok(linked.some((l) => l.category === first.category && l.slug === first.slug), JSON.stringify(linked));
    const articleIds = await Promise.all(linked.map(async (l) => Number((await app.db('faq_articles').where(l).first('id')).id)));
    const uses = await app.db('faq_reply_uses').where({ case_id: c.id });
    assert.deepEqual(uses.map((u) => Number(u.article_id)).sort((a, b) => a - b), [...articleIds].sort((a, b) => a - b));
    for (const u of uses) {
      assert.equal(Number(u.message_id), Number(message.id));
      assert.equal(u.user_id, user.id);
    }
  });

  it('in an Arabic case, an article only in Swedish says so before it is inserted, with the link line in Arabic', async () => {
    const { page } = browser;
    const c = await newCase('ar');
    await page.goto(url(`/agent/cases/${c.reference}`));
    const results = await search(page, 'bygglov');
    const swedishOnly = results.find((r) => r.note);
    assert.ok(swedishOnly, `some article is only in Swedish: ${JSON.stringify(results)}`);
    assert.equal(await title(swedishOnly.category, swedishOnly.slug, 'ar'), undefined);
    for (const r of results.filter((x) => !x.note)) assert.ok(await title(r.category, r.slug, 'ar'), `${r.slug} is in Arabic`);
    await assertAccessible(page, 'the case page with Arabic and Swedish FAQ results');

    const svTitle = (await title(swedishOnly.category, swedishOnly.slug, 'sv'))!;
    const button = await tabTo(page, (f) => f.tag === 'button' && f.text === `${t('agent_faq.insert')}: ${svTitle}`, 'the button of the article only in Swedish');
    assert.ok(button);
    const description = await page.evaluate(() => {
      const ids = document.activeElement?.getAttribute('aria-describedby') ?? '';
      return ids ? document.getElementById(ids)?.textContent : undefined;
    });
    assert.equal(description, t('agent_faq.only_swedish'), 'the button says the article is only in Swedish');
    await page.keyboard.press('Enter');

    const readMore = translate('ar', 'agent_faq.read_more', { url: `${app.baseUrl}/fragor/${swedishOnly.category}/${swedishOnly.slug}?lang=ar` });
    await page.waitForFunction((l) => (document.getElementById('f-body') as HTMLTextAreaElement).value.includes(l), readMore);
    assert.equal((await focused(page)).id, 'f-body');
    assert.ok((await page.locator('#f-body').inputValue()).startsWith(`${svTitle}\n\n`));
  });
});
