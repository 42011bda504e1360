import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The editors' FAQ workspace and the managers' FAQ statistics in Chromium:
 * an editor writes, previews and publishes an article with the keyboard
 * alone, and every page (the list, the due list, the editor with an error
 * and with a preview, the versions, the statistics) passes axe-core's
 * WCAG 2.1 A/AA rules.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (key: string) => new RegExp(`^${escape(t(key))}$`);

async function focusIsOnErrorSummary(page: Page): Promise<boolean> {
  return page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false);
}

describe('browser (Chromium): the FAQ editor and statistics', function () {
  this.timeout(180_000);

  let app: ServedApp;
  let editor: BrowserSession;
  let manager: BrowserSession;
  let articleId = 0;
  const slug = `kompoststallning-${Date.now().toString(36)}`;
  const url = (p: string) => `${app.baseUrl}${p}`;

  async function signIn(session: BrowserSession, role: 'editor' | 'manager', name: string) {
    const email = `${role}.${randomBytes(3).toString('hex')}@e2e.example`;
    await app.services.auth.createUser({ email, name, role, password: TEST_PASSWORD });
    const { page } = session;
    await page.goto(url('/login'));
    await page.fill('#f-email', email);
    await page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  }

  before(async () => {
    app = await serveTestApp();
    editor = await launchBrowser();
    manager = await launchBrowser();
    await signIn(editor, 'editor', 'Erik Redaktör');
    await signIn(manager, 'manager', 'Maria Chef');
    // One article overdue for review, so the due list has rows.
    const first = await app.db('faq_articles').orderBy('id').first('id');
    await app.db('faq_articles').where({ id: first.id }).update({ reviewed_at: '2019-03-01' });
  });

  after(async () => {
    await editor?.close();
    await manager?.close();
    await app?.stop();
  });

  it('the article list and the due list pass axe, reached from the staff menu with the keyboard', async () => {
    const { page } = editor;
    await page.goto(url('/agent'));
    await tabTo(page, (f) => f.href === '/redaktor', 'the editor link in the menu');
    await Promise.all([page.waitForURL(url('/redaktor')), page.keyboard.press('Enter')]);
    assert.ok((await page.locator('table.editor-articles tbody tr').count()) > 20, 'the seeded articles are listed');
    await assertAccessible(page, 'the FAQ article list');

    await tabTo(page, (f) => f.href === '/redaktor?visa=granskas', 'the due-for-review filter');
    await Promise.all([page.waitForURL(url('/redaktor?visa=granskas')), page.keyboard.press('Enter')]);
    const first = await page.locator('table.editor-articles tbody tr').first().innerText();
    assert.match(first, /2019-03-01/, 'the most overdue article first');
    await assertAccessible(page, 'the due-for-review list');
  });

  it('an editor writes, previews and publishes an article with the keyboard alone', async () => {
    const { page } = editor;
    await page.goto(url('/redaktor'));
    await tabTo(page, (f) => f.href === '/redaktor/artiklar/ny', 'the link to a new article');
    await Promise.all([page.waitForURL(url('/redaktor/artiklar/ny')), page.keyboard.press('Enter')]);
    await assertAccessible(page, 'the new article form');

    await tabTo(page, (f) => f.id === 'f-category', 'the category');
    await page.keyboard.type('Byg'); // type-ahead in the closed list
    assert.equal(await page.inputValue('#f-category'), 'bygglov');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-slug');
    await page.keyboard.type(slug);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-department_id');
    await page.keyboard.press('ArrowDown'); // the first department
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-title');
    await page.keyboard.type('Behöver jag bygglov för en kompostställning?');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-summary');
    await page.keyboard.type('Nej, oftast inte.');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-keywords');
    await page.keyboard.type('kompost trädgård');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-body_md');
    await page.keyboard.type('En **kompostställning** behöver inget bygglov.\n\n- Håll avstånd till grannen\n- Fråga om du är osäker\n');
    const created = await submitWithKeyboard(page, exactly('editor.new.submit'));
    assert.equal(created.status(), 303);
    const at = new URL(page.url());
    const m = /^\/redaktor\/artiklar\/(\d+)$/.exec(at.pathname);
    assert.ok(m, `on the article's page, not ${page.url()}`);
    articleId = Number(m[1]);
    assert.equal(await page.getByRole('status').innerText(), t('editor.done.created'));
    await assertAccessible(page, 'the article editor');

    // An emptied title: the page comes back with the error summary focused.
    await tabTo(page, (f) => f.id === 'f-title', 'the title');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    const refused = await submitWithKeyboard(page, exactly('editor.text.draft'));
    assert.equal(refused.status(), 400);
    assert.ok(await focusIsOnErrorSummary(page), 'focus is on the error summary');
    assert.equal(await page.getAttribute('#f-title', 'aria-invalid'), 'true');
    assert.match(await page.inputValue('#f-body_md'), /kompostställning/, 'the text is kept');
    await assertAccessible(page, 'the article editor with an error');

    // The summary's link leads to the field.
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).href, '#f-title');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#f-title');
    assert.equal((await focused(page)).id, 'f-title', 'the link puts focus in the field');
    await page.keyboard.type('Behöver jag bygglov för en kompostställning?');

    const previewed = await submitWithKeyboard(page, exactly('editor.text.preview'));
    assert.equal(previewed.status(), 200);
    const preview = page.locator('.editor-preview');
    assert.equal(await preview.locator('strong', { hasText: /^kompostställning$/ }).count(), 1, 'the Markdown is rendered');
    assert.equal(await preview.locator('li').count(), 2);
    assert.equal(await app.db('faq_versions').where({ article_id: articleId, status: 'published' }).count<{ n: string }[]>({ n: '*' }).then((r) => Number(r[0]!.n)), 0, 'a preview publishes nothing');
    await assertAccessible(page, 'the article editor with a preview');

    await tabTo(page, (f) => f.id === 'f-body_md', 'the body');
    const published = await submitWithKeyboard(page, exactly('editor.text.publish'));
    assert.equal(published.status(), 303);
    assert.equal(await page.getByRole('status').innerText(), t('editor.done.published'));
    const article = await app.services.faq.getArticle('bygglov', slug);
    assert.equal(article.title, 'Behöver jag bygglov för en kompostställning?');
    assert.match(article.bodyMd, /^En \*\*kompostställning\*\* behöver inget bygglov\./);
    assert.equal((await app.services.faq.search('kompostställning'))[0]?.slug, slug);

    // Marked as reviewed, with the keyboard.
    const reviewed = await submitWithKeyboard(page, exactly('editor.article.review_submit'));
    assert.equal(reviewed.status(), 303);
    assert.equal(await page.getByRole('status').innerText(), t('editor.done.reviewed'));
  });

  it('the versions page, one version and the unpublish question pass axe', async () => {
    const { page } = editor;
    await page.goto(url(`/redaktor/artiklar/${articleId}`));
    await tabTo(page, (f) => f.href === `/redaktor/artiklar/${articleId}/versioner`, 'the versions link');
    await Promise.all([page.waitForURL(url(`/redaktor/artiklar/${articleId}/versioner`)), page.keyboard.press('Enter')]);
    await assertAccessible(page, 'the versions page');
    const version = await tabTo(page, (f) => /\/versioner\/\d+$/.test(f.href), 'a version');
    await Promise.all([page.waitForURL(url(version.href)), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('.faq-body li').count(), 2);
    await assertAccessible(page, 'one version');

    await page.goto(url(`/redaktor/artiklar/${articleId}/avpublicera/sv`));
    await assertAccessible(page, 'the unpublish question');
  });

  it('the FAQ statistics pass axe, with data and with a wrong period', async () => {
    const rows = await app.db('faq_articles').orderBy('id').limit(2).select('id');
    const [a, b] = rows.map((r: { id: number }) => r.id) as [number, number];
    const { reference } = await (async () => {
      const res = await fetch(url('/api/v1/cases'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Sara Öberg', email: 'sara@example.com', category: 'bygglov', message: 'En fråga om bygglov.' }),
      });
      assert.equal(res.status, 201);
      return (await res.json()) as { reference: string };
    })();
    const caseId = (await app.db('cases').where({ reference }).first('id')).id;
    await app.db('faq_reply_uses').insert([
      { article_id: a, case_id: caseId, message_id: 1 },
      { article_id: a, case_id: caseId, message_id: 2 },
      { article_id: b, case_id: caseId, message_id: 3 },
    ]);
    await app.db('faq_feedback').insert([
      { article_id: a, lang: 'sv', helpful: false, comment: 'Jag förstod inte vad som gäller.' },
      { article_id: a, lang: 'ar', helpful: false, comment: 'لم أفهم' },
      { article_id: b, lang: 'sv', helpful: true },
    ]);
    // As the service writes them: a visit's first opening is also its last until it opens another suggestion.
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);
    await app.db('faq_deflections').insert([
      { token: randomBytes(16).toString('base64url'), opened_at: hoursAgo(3), last_opened_at: hoursAgo(3) },
      { token: randomBytes(16).toString('base64url'), opened_at: hoursAgo(2), last_opened_at: hoursAgo(2), submitted_at: new Date() },
    ]);

    const { page } = manager;
    await page.goto(url('/agent'));
    await tabTo(page, (f) => f.href === '/agent/faq-statistik', 'the statistics link');
    await Promise.all([page.waitForURL(url('/agent/faq-statistik')), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('[data-stat="deflected"]').innerText(), '1');
    assert.equal(await page.locator('#stats-unhelpful tbody tr').count(), 1);
    await assertAccessible(page, 'the FAQ statistics');

    // The period chosen with the keyboard.
    await tabTo(page, (f) => f.id === 'f-dagar', 'the period');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue('#f-dagar'), '90');
    await tabTo(page, (f) => f.tag === 'button' && f.text === t('editor.stats.show'), 'the show button');
    await Promise.all([page.waitForURL(url('/agent/faq-statistik?dagar=90')), page.keyboard.press('Enter')]);
    await assertAccessible(page, 'the FAQ statistics for 90 days');

    const res = await page.goto(url('/agent/faq-statistik?dagar=13'));
    assert.equal(res?.status(), 400);
    assert.ok(await focusIsOnErrorSummary(page), 'focus is on the error summary');
    await assertAccessible(page, 'the FAQ statistics with a wrong period');
  });
});
