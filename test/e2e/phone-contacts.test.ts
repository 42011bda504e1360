import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import type { CallbackRow } from '../../server/callbacks/store.js';
import type { CaseRow } from '../../server/cases/store.js';
import { translate } from '../../server/platform/i18n.js';
import { formatWindow } from '../../server/platform/views.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, tabTo, type BrowserSession, submitWithKeyboard, type ServedApp } from './browser.js';

/**
 * Phone and walk-in contacts in a real browser, with the keyboard alone: an
 * agent registers a call answered at once and a caller who wants a callback,
 * a resident books a callback on /ring-upp, and an agent records an attempt
 * that went unanswered. Every page, with and without errors, passes axe-core's
 * WCAG 2.1 A/AA rules.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (key: string) => new RegExp(`^${escape(t(key))}$`);
const REFERENCE = /SC-\d{4}-\d{6,}/;


async function mainText(page: Page): Promise<string> {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

async function focusIsOnErrorSummary(page: Page): Promise<boolean> {
  return page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false);
}

describe('browser (Chromium): phone and walk-in contacts', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let staff: BrowserSession;
  let resident: BrowserSession;
  const agentName = 'Anna Telefon';
  let residentCase = '';

  const url = (p: string) => `${app.baseUrl}${p}`;
  const caseRow = async (reference: string) => (await app.db<CaseRow>('cases').where({ reference }).first())!;
  const callbackOf = async (reference: string) => (await app.db<CallbackRow>('callbacks').where({ case_id: (await caseRow(reference)).id }).first())!;

  before(async () => {
    app = await serveTestApp();
    staff = await launchBrowser();
    resident = await launchBrowser();
    const email = 'anna.telefon@e2e.example';
    await app.services.auth.createUser({ email, name: agentName, role: 'agent', password: TEST_PASSWORD });
    const { page } = staff;
    await page.goto(url('/login'));
    await page.fill('#f-email', email);
    await page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  });

  after(async () => {
    await staff?.close();
    await resident?.close();
    await app?.stop();
  });

  /** Fills the registration form from its first field, Tab by Tab, as an agent does during a call. */
  async function typeCall(page: Page, call: { category: string; categoryValue: string; summary: string; name: string; phone: string }) {
    await page.waitForFunction(() => document.activeElement?.id === 'f-channel-phone', undefined, { timeout: 5000 });
    assert.equal((await focused(page)).id, 'f-channel-phone', 'the page opens with focus on the first field, "Telefon" chosen');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-category', 'Tab leaves the channel radios for the category');
    await page.keyboard.type(call.category); // type-ahead in the closed list (ASCII: Playwright types å, ä, ö as text, not keys)
    assert.equal(await page.inputValue('#f-category'), call.categoryValue);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-summary');
    await page.keyboard.type(call.summary);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-name');
    await page.keyboard.type(call.name);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-phone');
    await page.keyboard.type(call.phone);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-outcome-answered', 'Tab enters the outcomes on the chosen one');
  }

  it('an agent registers a call answered directly, from the dashboard, with the keyboard alone', async () => {
    const { page } = staff;
    await page.goto(url('/agent'));
    await tabTo(page, (f) => f.href === '/agent/registrera', 'the link to the registration');
    assert.equal((await focused(page)).text, t('queue.register'));
    await Promise.all([page.waitForURL(url('/agent/registrera')), page.keyboard.press('Enter')]);
    await assertAccessible(page, 'the registration page');

    await typeCall(page, { category: 'Byg', categoryValue: 'bygglov', summary: 'Frågade om attefallshus. Svarade direkt.', name: 'Karin Lindqvist', phone: '070-123 45 67' });
    assert.equal(await page.isChecked('#f-outcome-answered'), true);
    const response = await submitWithKeyboard(page, exactly('contacts.register.submit'));
    assert.equal(response.status(), 303);

    const done = new URL(page.url());
    assert.equal(done.pathname, '/agent/registrera');
    assert.equal(done.searchParams.get('utfall'), 'answered');
    const reference = done.searchParams.get('klart') ?? '';
    assert.match(reference, REFERENCE);
    const status = page.getByRole('status').filter({ hasText: reference });
    assert.equal(await status.count(), 1, 'a confirmation in a status region');
    assert.match((await status.innerText()).replace(/\s+/g, ' '), new RegExp(escape(t('contacts.register.done', { reference, outcome: t('contacts.outcome.answered') }))));
    assert.equal(await status.getByRole('link').getAttribute('href'), `/agent/cases/${reference}`);
    assert.equal((await focused(page)).id, 'f-channel-phone', 'ready for the next call');
    assert.equal(await page.inputValue('#f-summary'), '', 'with an empty form');
    await assertAccessible(page, 'the registration page with a confirmation');

    const c = await caseRow(reference);
    assert.equal(c.status, 'resolved');
    assert.equal(c.resolved_at_first_contact, true);
    assert.equal(c.channel, 'phone');
    assert.equal(c.subject.startsWith('Frågade om attefallshus'), true);
  });

  it('an agent registers a caller who wants a callback: outcome and time chosen with the arrow keys', async () => {
    const { page } = staff;
    await page.goto(url('/agent/registrera'));
    await typeCall(page, { category: 'Gator', categoryValue: 'gator-och-trafik', summary: 'Trasig gatlykta på Hagagatan, vill bli uppringd om när den lagas.', name: 'Ahmed Hassan', phone: '070-765 43 21' });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal((await focused(page)).id, 'f-outcome-callback', 'the arrow keys move within the outcomes');
    assert.equal(await page.isChecked('#f-outcome-callback'), true);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-department');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-slot');
    const slot = app.services.callbacks.slots()[0]!;
    await page.keyboard.press('ArrowDown'); // from "as soon as possible" to the first time offered
    assert.equal(await page.inputValue('#f-slot'), slot.start.toISOString());
    const response = await submitWithKeyboard(page, exactly('contacts.register.submit'));
    assert.equal(response.status(), 303);
    const done = new URL(page.url());
    assert.equal(done.searchParams.get('utfall'), 'callback');
    const reference = done.searchParams.get('klart') ?? '';

    const cb = await callbackOf(reference);
    assert.equal(cb.phone, '0707654321');
    assert.equal(cb.source, 'agent');
    assert.equal(new Date(cb.window_start).getTime(), slot.start.getTime());
    assert.equal((await caseRow(reference)).status, 'new', 'in the queue for whoever is free then');
  });

  it('a registration with errors: the summary has focus, links to the fields, and the values are kept', async () => {
    const { page } = staff;
    await page.goto(url('/agent/registrera'));
    await page.waitForFunction(() => document.activeElement?.id === 'f-channel-phone');
    await page.keyboard.press('Tab'); // to the category, left unchosen
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-summary');
    await page.keyboard.type('Ringde om parkering');
    await tabTo(page, (f) => f.name === 'outcome', 'the outcomes');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown'); // callback, without a number
    const response = await submitWithKeyboard(page, exactly('contacts.register.submit'));
    assert.equal(response.status(), 400);
    assert.ok(await focusIsOnErrorSummary(page), `focus is on the error summary, not on ${JSON.stringify(await focused(page))}`);
    const links = await page.locator('[data-error-summary] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.equal(links[0], '#f-category', `the summary starts with the first field to fix: ${links.join(', ')}`);
    for (const href of links) assert.equal(await page.getAttribute(href!, 'aria-invalid'), 'true', `${href} is marked invalid`);
    assert.equal(await page.inputValue('#f-summary'), 'Ringde om parkering');
    assert.equal(await page.isChecked('#f-outcome-callback'), true);
    await assertAccessible(page, 'the registration page with errors');

    // The first link takes the keyboard to the field to fix.
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).href, '#f-category');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#f-category');
    await page.keyboard.press('Tab');
    const next = await focused(page);
    assert.ok(['f-category', 'f-summary'].includes(next.id), `Tab after the link continues at the field, got ${JSON.stringify(next)}`);
  });

  it('a resident books a callback on /ring-upp with the keyboard and sees when we will call', async () => {
    const { page } = resident;
    await page.goto(url('/'));
    await tabTo(page, (f) => f.href === '/ring-upp', 'the link "Bli uppringd"');
    await Promise.all([page.waitForURL(url('/ring-upp')), page.keyboard.press('Enter')]);
    await assertAccessible(page, '/ring-upp');

    // Sent empty first: every error listed, focus on the list.
    const refused = await submitWithKeyboard(page, exactly('callbacks.form.submit'));
    assert.equal(refused.status(), 400);
    assert.ok(await focusIsOnErrorSummary(page), 'focus is on the error summary');
    await assertAccessible(page, '/ring-upp with errors');

    const topic = await tabTo(page, (f) => f.name === 'category', 'the topics');
    assert.equal(topic.id, 'topic-bygglov');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.isChecked('#topic-forsorjningsstod'), true);
    await tabTo(page, (f) => f.id === 'f-name', 'the name field');
    await page.keyboard.type('Lena Berg');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-phone');
    await page.keyboard.type('070-555 66 77');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-email');
    await page.keyboard.press('Tab');
    const first = await focused(page);
    assert.equal(first.name, 'slot', 'Tab enters the times');
    const slot = app.services.callbacks.slots()[0]!;
    assert.equal(await page.locator(`#${first.id}`).getAttribute('value'), slot.start.toISOString(), 'at the first time offered');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked(`#${first.id}`), true);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'f-message', 'one Tab leaves all the times');
    await page.keyboard.type('Om försörjningsstöd i januari.');

    const response = await submitWithKeyboard(page, exactly('callbacks.form.submit'));
    assert.equal(response.status(), 303);
    assert.match(new URL(page.url()).pathname, /^\/kvitto\/[A-Za-z0-9_-]{43}$/);
    const text = await mainText(page);
    const confirmation = t('callbacks.resident.pending', { phone: '070-555 66 77', window: formatWindow(slot.start, slot.end, 'sv') });
    assert.ok(text.includes(confirmation), `the receipt says "${confirmation}": ${text}`);
    assert.equal(await page.locator('h1').innerText(), t('receipt.callback_title'));
    residentCase = REFERENCE.exec(text)?.[0] ?? '';
    assert.ok(residentCase, 'the receipt names the case');
    await assertAccessible(page, 'the receipt of a callback');

    const link = (await page.locator('a.copy-link').getAttribute('href'))!;
    await page.goto(link);
    assert.ok((await mainText(page)).includes(confirmation), 'the case page says it too');
    await assertAccessible(page, 'the case page of a callback');
  });

  it('the agent records "no answer" on the callback with the keyboard and sees it rescheduled', async () => {
    assert.ok(residentCase, 'the previous test booked a callback');
    const { page } = staff;
    await page.goto(url(`/agent/cases/${residentCase}`));
    const panel = page.locator('section#callback');
    assert.ok((await panel.innerText()).includes(t('callbacks.panel.attempts_value', { n: 0, max: 3 })));
    assert.equal(await panel.locator('a[href="tel:0705556677"]').count(), 1, 'the number is a tel: link');
    await assertAccessible(page, 'the agent case page with the callback panel');

    // Without a result: refused, summary focused, page still accessible.
    await tabTo(page, (f) => f.id === 'f-callback-note', 'the attempt note');
    await page.keyboard.type('Ringde 09:05');
    let response = await submitWithKeyboard(page, exactly('callbacks.panel.submit'));
    assert.equal(response.status(), 400);
    assert.ok(await focusIsOnErrorSummary(page), 'focus is on the error summary');
    assert.equal(await page.inputValue('#f-callback-note'), 'Ringde 09:05');
    await assertAccessible(page, 'the agent case page with a refused attempt');

    const result = await tabTo(page, (f) => f.name === 'result', 'the call results');
    assert.equal(result.id, 'f-callback-result-reached');
    await page.keyboard.press('ArrowDown');
    assert.equal((await focused(page)).id, 'f-callback-result-no_answer');
    assert.equal(await page.isChecked('#f-callback-result-no_answer'), true);
    response = await submitWithKeyboard(page, exactly('callbacks.panel.submit'));
    assert.equal(response.status(), 303);
    assert.equal(new URL(page.url()).hash, '#callback-title');

    const cb = await callbackOf(residentCase);
    assert.equal(cb.attempts, 1);
    assert.equal(cb.status, 'pending');
    const c = await caseRow(residentCase);
    assert.equal(c.status, 'new');
    assert.equal(new Date(c.queue_at).getTime(), new Date(cb.next_attempt_at).getTime(), 'back in the queue for the next attempt');

    assert.ok((await page.getByRole('status').first().innerText()).includes(t('agent.done.callback')));
    const panelText = (await page.locator('section#callback').innerText()).replace(/\s+/g, ' ');
    assert.ok(panelText.includes(t('callbacks.panel.attempts_value', { n: 1, max: 3 })), panelText);
    assert.ok(panelText.includes(`${agentName}: ${t('callbacks.result.no_answer')}. Ringde 09:05`), panelText);
    assert.ok(panelText.includes(t('callbacks.panel.next')), 'tells when the next attempt is due');
    const timeline = (await page.locator('#timeline-list').innerText()).replace(/\s+/g, ' ');
    const head = t('timeline.callback.attempted_next', { actor: agentName, result: t('callbacks.result.no_answer'), attempt: 1, of: 3, next: '@@' }).split('@@')[0]!;
    assert.ok(timeline.includes(head), `the timeline tells of the attempt and the next: ${timeline}`);
    await assertAccessible(page, 'the agent case page after an attempt');

    // The queue says it is a callback, on its second attempt.
    await page.goto(url('/agent'));
    const row = page.locator(`#case-${residentCase}`);
    assert.ok((await row.innerText()).includes(t('queue.callback', { n: 2, max: 3, when: '' })), await row.innerText());
    await assertAccessible(page, 'the dashboard with a callback in the queue');
  });
});
