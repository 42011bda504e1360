import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The contact form's personnummer field in Chromium: the script shows it only
 * while a topic that asks for one is chosen (Försörjningsstöd in the seed),
 * the form passes axe-core with the field showing and with its error, and a
 * resident fills it in and sends it with the keyboard alone. The agent's case
 * view shows the number in full, and passes axe too.
 */

const exactly = (key: string) => new RegExp(`^${translate('sv', key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('browser (Chromium): the personnummer field on the contact form', function () {
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

  const fieldShown = (page: Page) => page.locator('#f-personnummer').isVisible();
  const fieldDisabled = (page: Page) => page.locator('#f-personnummer').isDisabled();
  const caseCount = async () => Number((await app.db('cases').count<{ n: string }[]>({ n: '*' }))[0]!.n);

  /** Tabs to the topic choice and moves the choice with the arrow keys until the topic is chosen. */
  async function chooseTopic(page: Page, slug: string): Promise<void> {
    const first = await focused(page);
    if (first.name !== 'category') await tabTo(page, (f) => f.name === 'category', 'the topic choice');
    for (let i = 0; i < 10; i++) {
      if ((await focused(page)).id === `topic-${slug}`) break;
      await page.keyboard.press('ArrowDown');
    }
    assert.equal((await focused(page)).id, `topic-${slug}`);
    assert.equal(await page.locator(`#topic-${slug}`).isChecked(), true);
  }

  it('is shown only for a topic that asks, passes axe, and is filled in and sent with the keyboard alone', async () => {
    const { page } = resident;
    await page.goto(`${app.baseUrl}/kontakt`);
    assert.equal(await fieldShown(page), false, 'no topic chosen yet: the field is hidden');
    assert.equal(await fieldDisabled(page), true, 'and hidden, nothing in it is sent');

    await chooseTopic(page, 'forsorjningsstod');
    assert.equal(await fieldShown(page), true, 'a topic that asks shows the field');
    assert.equal(await fieldDisabled(page), false);
    await assertAccessible(page, 'the contact form with the personnummer field');

    await chooseTopic(page, 'gator-och-trafik');
    assert.equal(await fieldShown(page), false, 'a topic that does not ask hides it');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    assert.equal((await focused(page)).id, 'topic-forsorjningsstod');
    assert.equal(await fieldShown(page), true);

    await tabTo(page, (f) => f.id === 'f-name', 'the name field', 3);
    await page.keyboard.type('Eva Ek');
    const pnr = await tabTo(page, (f) => f.id === 'f-personnummer', 'the personnummer field', 2);
    assert.equal(pnr.name, 'personnummer', 'right after the name');
    await page.keyboard.type('19121212-1212');
    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field', 3);
    await page.keyboard.type('eva.ek@example.com');
    await tabTo(page, (f) => f.id === 'f-message', 'the message', 5);
    await page.keyboard.type('Jag vill ansöka om försörjningsstöd för december.');
    const before = await caseCount();
    const response = await submitWithKeyboard(page, exactly('form.submit'));

    assert.equal(response.status(), 303);
    assert.match(new URL(page.url()).pathname, /^\/kvitto\/[A-Za-z0-9_-]{43}$/);
    assert.equal(await caseCount(), before + 1);
    const c = await app.db('cases').orderBy('id', 'desc').first<{ reference: string; personnummer: string }>('reference', 'personnummer');
    assert.equal(c!.personnummer, '191212121212');

    // The agent's case view: the number in full with the details; the page passes axe.
    const agent = await launchBrowser();
    try {
      await signIn(app, agent, 'agent', 'Agent Anna');
      await agent.page.goto(`${app.baseUrl}/agent/cases/${c!.reference}`);
      assert.equal(await agent.page.locator('[data-personnummer]').innerText(), '19121212-1212');
      await assertAccessible(agent.page, 'the case view with a personnummer');
      await agent.page.goto(`${app.baseUrl}/agent?status=all`);
      assert.ok(!(await agent.page.locator('main').innerText()).includes('1212-1212'), 'the queue does not show it');
    } finally {
      await agent.close();
    }
  });

  it('a wrong check digit comes back with the error, the field in view and focus on the summary; the page passes axe', async () => {
    const { page } = resident;
    await page.goto(`${app.baseUrl}/kontakt`);
    await chooseTopic(page, 'forsorjningsstod');
    await tabTo(page, (f) => f.id === 'f-name', 'the name field', 3);
    await page.keyboard.type('Eva Ek');
    await tabTo(page, (f) => f.id === 'f-personnummer', 'the personnummer field', 2);
    await page.keyboard.type('19121212-1213');
    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field', 3);
    await page.keyboard.type('eva.ek@example.com');
    await tabTo(page, (f) => f.id === 'f-message', 'the message', 5);
    await page.keyboard.type('Jag vill ansöka om försörjningsstöd.');
    const before = await caseCount();
    const refused = await submitWithKeyboard(page, exactly('form.submit'));

    assert.equal(refused.status(), 400);
    assert.equal(await caseCount(), before, 'nothing written');
    assert.equal(await fieldShown(page), true, 'the field with its error stays in view');
    assert.equal(await page.locator('#f-personnummer').inputValue(), '19121212-1213');
    assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
    await assertAccessible(page, 'the contact form with a personnummer error');
    const link = await tabTo(page, (f) => f.href === '#f-personnummer', 'the error in the summary', 3);
    assert.equal(link.text, translate('sv', 'errors.personnummer_invalid'));
    await page.keyboard.press('Enter');
    assert.equal((await focused(page)).id, 'f-personnummer', 'the link moves focus to the field');
  });
});
