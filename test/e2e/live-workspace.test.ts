import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { translate } from '../../server/platform/i18n.js';
import { newCase, TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The live workspace in real browsers: two agents in two Chromium profiles
 * watch the queue, a resident's new case appears on both dashboards without a
 * reload, one agent takes it with the keyboard and the other sees it taken,
 * then both work on the case and see each other live. Every wait is on a DOM
 * condition; nothing sleeps.
 */

const t = (key: string, vars: Record<string, unknown> = {}) => translate('sv', key, vars);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Marks the page; the mark survives live updates and is gone after any reload or navigation. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { liveMark?: boolean }).liveMark = true;
  });
}

async function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { liveMark?: boolean }).liveMark === true);
}

/** Waits until the page's socket has subscribed (the connection line says so, in text). */
async function waitConnected(page: Page): Promise<void> {
  const line = page.locator('#live-connection');
  await line.waitFor({ state: 'visible' });
  await page.waitForFunction((text) => document.getElementById('live-connection')?.textContent === text, t('live.connection.connected'));
}

describe('browser (Chromium): the live agent workspace', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let anna: BrowserSession;
  let bertil: BrowserSession;
  let resident: BrowserSession;
  const annaName = 'Anna Lindqvist';
  const bertilName = 'Bertil Sandberg';
  let reference = '';
  let statusUrl = '';

  const url = (p: string) => `${app.baseUrl}${p}`;
  /** Script errors in any of the pages: the live script must never throw. */
  const scriptErrors: string[] = [];

  async function signIn(session: BrowserSession, email: string): Promise<void> {
    const { page } = session;
    await page.goto(url('/login'));
    await page.fill('#f-email', email);
    await page.fill('#f-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.press('#f-password', 'Enter')]);
  }

  before(async () => {
    app = await serveTestApp();
    [anna, bertil, resident] = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
    for (const session of [anna, bertil, resident]) {
      session.page.on('pageerror', (err) => scriptErrors.push(`${session.page.url()}: ${err.message}`));
      session.page.on('console', (msg) => {
        if (msg.type() === 'error' && msg.text().startsWith('live:')) scriptErrors.push(`${session.page.url()}: ${msg.text()}`);
      });
    }
    await app.services.auth.createUser({ email: 'anna@e2e.example', name: annaName, role: 'agent', password: TEST_PASSWORD });
    await app.services.auth.createUser({ email: 'bertil@e2e.example', name: bertilName, role: 'agent', password: TEST_PASSWORD });
    await signIn(anna, 'anna@e2e.example');
    await signIn(bertil, 'bertil@e2e.example');
  });

  afterEach(() => {
    assert.deepEqual(scriptErrors.splice(0), [], 'no script errors in the pages');
  });

  after(async () => {
    await Promise.all([anna?.close(), bertil?.close(), resident?.close()]);
    await app?.stop();
  });

  it('a new case appears on both dashboards without a reload, with the counts', async () => {
    for (const { page } of [anna, bertil]) {
      await page.goto(url('/agent'));
      await waitConnected(page);
      assert.equal(await page.locator('#queue-wrap').isHidden(), true, 'the empty queue shows no table');
      assert.equal(await page.locator('#queue-empty').isVisible(), true, 'the empty queue says so');
      assert.equal((await page.locator('[data-count="waiting"]').innerText()).trim(), '0');
      await markPage(page);
    }

    const res = await app.request().post('/api/v1/cases').send(newCase({ subject: 'Bygglov för carport', category: 'bygglov' })).expect(201);
    reference = res.body.reference as string;
    statusUrl = res.body.statusUrl as string;
    assert.match(reference, /^SC-\d{4}-\d{6,}$/);

    for (const { page } of [anna, bertil]) {
      const row = page.locator(`#case-${reference}`);
      await row.waitFor({ state: 'visible' });
      assert.match(await row.innerText(), /Bygglov för carport/);
      assert.match(await row.locator('td').nth(7).innerText(), new RegExp(`^${escape(t('queue.unassigned'))}$`), 'nobody has taken it yet');
      assert.equal(await page.locator('#queue-empty').isHidden(), true, 'the "empty" line is gone');
      await page.waitForFunction(() => document.querySelector('[data-count="waiting"]')?.textContent === '1');
      await page.waitForFunction((ref) => document.querySelector('[data-count="oldest"] a')?.textContent === ref, reference);
      assert.match(await page.locator('[data-count-channel="api"]').innerText(), /^1$/);
      assert.ok(await stillSamePage(page), 'the dashboard was not reloaded');
    }
    await assertAccessible(bertil.page, 'the dashboard after a live row');
  });

  it('Anna takes the next case with the keyboard; Bertil sees it taken, and keeps his focus', async () => {
    // Bertil is on the row's link with the keyboard when it changes under him.
    // The counts panel links the oldest case first; the row's link is the second link to it.
    let links = 0;
    await tabTo(bertil.page, (f) => f.href === `/agent/cases/${reference}` && ++links === 2, "the case's link in the queue");
    assert.equal(await bertil.page.evaluate(() => document.activeElement?.closest('tr')?.id), `case-${reference}`);
    const { page } = anna;
    await tabTo(page, (f) => f.tag === 'button' && f.text === t('take_next.submit'), 'the button "Take next case"');
    await Promise.all([page.waitForURL(url(`/agent/cases/${reference}?klart=taken`)), page.keyboard.press('Enter')]);
    assert.match(await page.locator('h1').innerText(), new RegExp(escape(reference)));

    const row = bertil.page.locator(`#case-${reference}`);
    await bertil.page.waitForFunction(
      ({ ref, name }) => document.querySelector(`#case-${ref} td:nth-child(8)`)?.textContent?.trim() === name,
      { ref: reference, name: annaName },
    );
    assert.match(await row.locator('td').nth(4).innerText(), new RegExp(`^${escape(t('status.open'))}$`), 'taking a case opens it');
    await bertil.page.waitForFunction(() => document.querySelector('[data-count="waiting"]')?.textContent === '0');
    assert.equal((await bertil.page.locator('[data-count="oldest"]').innerText()).trim(), t('live.counts.none'));
    assert.ok(await stillSamePage(bertil.page), "Bertil's dashboard was not reloaded");
    assert.equal(
      await bertil.page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.closest('tr')?.id),
      `case-${reference}`,
      'the replaced row did not take his focus away',
    );
    assert.equal((await focused(bertil.page)).href, `/agent/cases/${reference}`);
    await assertAccessible(bertil.page, 'the dashboard after the case was taken');
  });

  it('a dashboard filtered on new cases drops the taken case live', async () => {
    const { page } = bertil;
    const res = await app.request().post('/api/v1/cases').send(newCase({ subject: 'Förskoleplats i höst', category: 'forskoleplats' })).expect(201);
    const second = res.body.reference as string;
    await page.goto(url('/agent?status=new'));
    await waitConnected(page);
    await markPage(page);
    assert.equal(await page.locator(`#case-${reference}`).count(), 0, 'the case Anna took is not new');
    await page.locator(`#case-${second}`).waitFor({ state: 'visible' });

    await anna.page.goto(url('/agent'));
    await anna.page.locator(`#case-${second}`).waitFor({ state: 'visible' });
    await Promise.all([anna.page.waitForURL(url(`/agent/cases/${second}?klart=taken`)), anna.page.getByRole('button', { name: t('take_next.submit') }).click()]);
    await page.locator(`#case-${second}`).waitFor({ state: 'detached' });
    await page.locator('#queue-empty').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#queue-wrap').isHidden(), true);
    assert.ok(await stillSamePage(page));
  });

  it('Bertil opens the case: Anna sees him viewing it, and writing a reply', async () => {
    await anna.page.goto(url(`/agent/cases/${reference}`));
    await bertil.page.goto(url(`/agent/cases/${reference}`));
    await waitConnected(bertil.page);
    await waitConnected(anna.page);
    await markPage(anna.page);
    await markPage(bertil.page);

    const viewing = t('live.viewers.viewing', { name: bertilName });
    await anna.page.locator('#viewers-list li', { hasText: viewing }).waitFor({ state: 'visible' });
    assert.equal(await anna.page.locator('#viewers-none').isHidden(), true);
    // Each sees the other, never themselves.
    await bertil.page.locator('#viewers-list li', { hasText: t('live.viewers.viewing', { name: annaName }) }).waitFor({ state: 'visible' });
    assert.equal(await anna.page.locator('#viewers-list li', { hasText: annaName }).count(), 0, 'Anna is not listed as her own colleague');

    await bertil.page.locator('#f-body').focus();
    await bertil.page.keyboard.type('Hej! Vi tittar på');
    await anna.page.locator('#viewers-list li', { hasText: t('live.viewers.typing', { name: bertilName }) }).waitFor({ state: 'visible' });
    // Leaving the reply box says he stopped.
    await bertil.page.keyboard.press('Tab');
    await anna.page.locator('#viewers-list li', { hasText: viewing }).waitFor({ state: 'visible' });
    assert.ok(await stillSamePage(anna.page), "Anna's case page was not reloaded");
  });

  it("Anna's note appears on Bertil's case page live, and the page stays accessible", async () => {
    const note = 'Ringde sökanden, återkommer i morgon.';
    await anna.page.fill('#f-note-body', note);
    await Promise.all([
      anna.page.waitForURL(url(`/agent/cases/${reference}?klart=note#timeline`)),
      anna.page.locator('form[action$="/note"] button[type="submit"]').click(),
    ]);

    const entry = bertil.page.locator('#timeline-list li.note', { hasText: note });
    await entry.waitFor({ state: 'visible' });
    assert.equal(await entry.count(), 1, 'the note is shown once');
    assert.equal(await bertil.page.locator('#f-body').inputValue(), 'Hej! Vi tittar på', "Bertil's draft is untouched");
    assert.ok(await stillSamePage(bertil.page), "Bertil's case page was not reloaded");
    await assertAccessible(bertil.page, 'the case page after a live note');
  });

  it("Anna's reply while Bertil writes: he is told, and the resident's page shows it live", async () => {
    await resident.page.goto(statusUrl);
    await resident.page.waitForFunction(() => document.querySelector('#conversation-list') !== null);
    await markPage(resident.page);
    const before = await resident.page.locator('#conversation-list > li').count();

    // Bertil's window is in the background (headless pages always report focus, so this says otherwise).
    const title = await bertil.page.title();
    await bertil.page.evaluate(() => {
      document.hasFocus = () => false;
    });
    const reply = 'Hej! En carport på högst 15 kvadratmeter behöver oftast inget bygglov.';
    await anna.page.fill('#f-body', reply);
    await anna.page.selectOption('#f-reply-status', 'waiting');
    await Promise.all([
      anna.page.waitForURL(url(`/agent/cases/${reference}?klart=reply#timeline`)),
      anna.page.locator('form[action$="/reply"] button[type="submit"]').click(),
    ]);

    await bertil.page.locator('#timeline-list li', { hasText: reply }).waitFor({ state: 'visible' });
    const notice = t('live.notice.colleague_replied', { actor: annaName, reference });
    await bertil.page.locator('#notices-list li', { hasText: notice }).waitFor({ state: 'visible' });
    assert.equal(await bertil.page.locator('#notices-empty').isHidden(), true);
    await bertil.page.waitForFunction((text) => document.getElementById('live-announcer')?.textContent?.includes(text) ?? false, notice);
    assert.equal(await bertil.page.title(), `(1) ${title}`, 'the title counts the unread notice');
    await bertil.page.evaluate(() => {
      document.hasFocus = () => true;
      window.dispatchEvent(new Event('focus'));
    });
    assert.equal(await bertil.page.title(), title, 'coming back to the window clears the count');
    await bertil.page.waitForFunction(
      (text) => document.querySelector('#case-details')?.textContent?.includes(text) ?? false,
      t('status.waiting'),
    );

    await resident.page.locator('#conversation-list > li.from-staff', { hasText: reply }).waitFor({ state: 'visible' });
    assert.equal(await resident.page.locator('#conversation-list > li').count(), before + 1, 'the reply is shown once');
    await resident.page.waitForFunction((text) => document.getElementById('case-status')?.textContent?.includes(text) ?? false, t('status.waiting'));
    assert.equal(await resident.page.locator('#conversation-list li', { hasText: 'Ringde sökanden' }).count(), 0, 'the internal note never reaches the resident');
    assert.ok(await stillSamePage(resident.page), "the resident's page was not reloaded");
    await assertAccessible(resident.page, "the resident's case page after a live reply");
  });

  it('a dashboard that lost its connection catches up on what it missed, once it is back', async () => {
    const { page } = bertil;
    await page.goto(url('/agent'));
    await waitConnected(page);
    await markPage(page);
    // Every state the connection line shows, in order, so the test sees the drop however short it was.
    await page.evaluate(() => {
      const line = document.getElementById('live-connection')!;
      const states: string[] = [line.dataset.state ?? ''];
      (window as unknown as { liveStates: string[] }).liveStates = states;
      new MutationObserver(() => states.push(line.dataset.state ?? '')).observe(line, { attributes: true, attributeFilter: ['data-state'] });
    });

    // The server drops the connection, and the way back is blocked until the case below is committed.
    await page.route('**/socket.io/**', (route) => route.abort());
    for (const socket of app.services.live.io!.of('/').sockets.values()) socket.conn.close();
    await page.waitForFunction(() => (window as unknown as { liveStates: string[] }).liveStates.includes('reconnecting'));
    assert.equal(await page.locator('#live-connection').innerText(), t('live.connection.reconnecting'), 'the line says, in text, that the connection is gone');

    const res = await app.request().post('/api/v1/cases').send(newCase({ subject: 'Medan anslutningen var borta', category: 'bygglov' })).expect(201);
    const missed = res.body.reference as string;
    assert.equal(await page.locator(`#case-${missed}`).count(), 0, 'nothing can arrive while the connection is down');

    await page.unroute('**/socket.io/**');
    await page.locator(`#case-${missed}`).waitFor({ state: 'visible' });
    await waitConnected(page);
    assert.equal(await page.locator(`#queue-rows tr[data-reference="${missed}"]`).count(), 1, 'the missed case is shown once');
    await page.waitForFunction(() => document.querySelector('[data-count="waiting"]')?.textContent === '1');
    assert.ok(await stillSamePage(page), 'the dashboard caught up without a reload');
  });

  it('a case that has waited longer than the target is announced once', async () => {
    const { page } = bertil;
    const ref = (await page.locator('#queue-rows tr').last().getAttribute('data-reference'))!;
    const target = app.config.live.waitTargetMinutes;
    await app.db('cases').where({ reference: ref }).update({ created_at: new Date(Date.now() - (target + 90) * 60_000), queue_at: new Date(Date.now() - (target + 90) * 60_000) });
    await page.goto(url('/agent'));
    await markPage(page);

    const notice = t('live.notice.waited', { reference: ref, minutes: target });
    await page.locator('#notices-list li', { hasText: notice }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#notices-list li a').first().getAttribute('href'), `/agent/cases/${ref}`, 'the notice links the case');
    await page.waitForFunction((text) => document.getElementById('live-announcer')?.textContent?.includes(text) ?? false, notice);
    // The waiting column ticks from the locale's "{n} min".
    assert.equal(await page.locator(`#case-${ref} td[data-waiting-since]`).innerText(), t('queue.minutes', { n: target + 90 }));

    // New counts (another case arrives) and a reload do not repeat it.
    const res = await app.request().post('/api/v1/cases').send(newCase({ subject: 'Ännu ett ärende' })).expect(201);
    await page.locator(`#case-${res.body.reference as string}`).waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('[data-count="waiting"]')?.textContent === '2');
    assert.equal(await page.locator('#notices-list li', { hasText: notice }).count(), 1);
    await page.reload();
    await waitConnected(page);
    assert.equal(await page.locator('#notices-list li', { hasText: notice }).count(), 0, 'announced once per case, not per page load');
  });

  it('an agent changes her status over the socket and a manager sees it live', async () => {
    await app.services.auth.createUser({ email: 'maria@e2e.example', name: 'Maria Chef', role: 'manager', password: TEST_PASSWORD });
    const manager = resident;
    await signIn(manager, 'maria@e2e.example');
    await waitConnected(manager.page);
    await markPage(manager.page);
    const annaRow = manager.page.locator('#presence-table tbody tr', { hasText: annaName });
    await annaRow.waitFor({ state: 'visible' });

    const { page } = anna;
    await page.goto(url('/agent'));
    await waitConnected(page);
    await markPage(page);
    await manager.page.waitForFunction(
      ({ name, online }) =>
        [...document.querySelectorAll('#presence-table tbody tr')].some((tr) => tr.textContent?.includes(name) && tr.textContent.includes(online)),
      { name: annaName, online: t('presence.online') },
    );

    // With the keyboard: the status list, the arrow keys, then the button.
    await tabTo(page, (f) => f.id === 'presence-status', 'the status list');
    await page.keyboard.press('End');
    assert.equal(await page.locator('#presence-status').inputValue(), 'break');
    await tabTo(page, (f) => f.tag === 'button' && f.text === t('presence.submit'), 'the button "Change status"');
    await page.keyboard.press('Enter');
    const changed = t('presence.changed', { status: t('presence.status.break') });
    await page.waitForFunction((text) => document.getElementById('presence-result')?.textContent === text, changed);
    assert.ok(await stillSamePage(page), 'the status changed without a page load');

    await manager.page.waitForFunction(
      ({ name, status }) =>
        [...document.querySelectorAll('#presence-table tbody tr')].some((tr) => tr.children[0]?.textContent === name && tr.children[1]?.textContent === status),
      { name: annaName, status: t('presence.status.break') },
    );
    assert.ok(await stillSamePage(manager.page));
    await assertAccessible(manager.page, "the manager's dashboard with the agents' status");
    await assertAccessible(page, 'the dashboard after a status change');
  });
});
