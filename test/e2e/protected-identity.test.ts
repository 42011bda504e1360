import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { newCase } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, signIn, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Protected identity in a real browser, with the keyboard alone: an agent
 * allowed to see protected identities marks a case's resident (first without
 * confirming, then confirming), sees the details apart from the case's
 * details panel; an agent without the permission sees "Skyddad identitet"
 * and nothing else; the admin's users page offers the permission. Every state
 * passes axe-core's WCAG 2.1 A/AA rules.
 */

const NAME = 'Hemlig Hansson';
const EMAIL = 'hemlig.hansson@e2e.example';

async function mainText(page: Page): Promise<string> {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

describe('browser (Chromium): protected identity', function () {
  this.timeout(120_000);
  let app: ServedApp;
  let allowed: BrowserSession;
  let other: BrowserSession;
  let reference = '';

  const url = (p: string) => `${app.baseUrl}${p}`;

  before(async () => {
    app = await serveTestApp();
    allowed = await launchBrowser();
    other = await launchBrowser();
    const { email } = await signIn(app, allowed, 'agent', 'Behörig Handläggare');
    const found = await app.services.auth.signIn(email, 'correct horse battery staple');
    assert.ok(found.ok);
    await app.services.protectedIdentity.setPermission(found.user.id, 'true');
    await signIn(app, other, 'agent', 'Vanlig Handläggare');
    const res = await fetch(url('/api/v1/cases'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(newCase({ name: NAME, email: EMAIL, phone: '0701112233', subject: 'Skolskjuts', message: 'Hur ansöker jag om skolskjuts?' })),
    });
    assert.equal(res.status, 201);
    reference = ((await res.json()) as { reference: string }).reference;
  });

  after(async () => {
    await allowed?.close();
    await other?.close();
    await app?.stop();
  });

  it('an agent with the permission marks the resident with the keyboard; the form says what it means and asks for a confirmation', async () => {
    const { page } = allowed;
    await page.goto(url(`/agent/cases/${reference}`));
    await assertAccessible(page, 'the case page with the mark form');
    assert.match(await mainText(page), /Markeringen gäller invånaren i alla ärenden/);

    // Without ticking the confirmation: the error summary, focused, links to the box.
    const refused = await submitWithKeyboard(page, /^Markera skyddad identitet$/);
    assert.equal(refused.status(), 400);
    await page.waitForFunction(() => document.activeElement?.matches('[data-error-summary]') ?? false, undefined, { timeout: 5000 });
    assert.match(await mainText(page), /Kryssa i rutan för att bekräfta ändringen/);
    await assertAccessible(page, 'the case page with the mark form’s error');

    await tabTo(page, (f) => f.id === 'f-identity-confirm', 'the confirmation box');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#f-identity-confirm'), true);
    const marked = await submitWithKeyboard(page, /^Markera skyddad identitet$/);
    assert.equal(marked.status(), 303);
    await page.waitForURL(/klart=identity/);
    const text = await mainText(page);
    assert.match(text, /Markeringen för skyddad identitet är ändrad/);
    assert.match(text, /Skyddad identitet markerad av Behörig Handläggare/);
    // The details apart from the live-updated panel, for this agent (logged).
    assert.equal(await page.locator('#identity [data-protected-name]').innerText(), NAME);
    assert.ok(!(await page.locator('#case-details').innerText()).includes(NAME), 'never in the live-updated details panel');
    assert.match(await page.locator('#identity').innerText(), /Varje gång de visas loggas det/);
    await assertAccessible(page, 'the case page of a protected resident, to an agent allowed to see it');
    const f = await tabTo(page, (x) => x.tag === 'button' && /Ta bort markeringen/.test(x.text), 'the button to remove the mark');
    assert.equal(f.tag, 'button');
    assert.ok(await app.db('access_log').where({ action: 'case.protected_contact', case_reference: reference }).first(), 'the showing is in the access log');
  });

  it('an agent without the permission sees "Skyddad identitet" and no name, address or number; the page passes axe', async () => {
    const { page } = other;
    await page.goto(url(`/agent/cases/${reference}`));
    const text = await mainText(page);
    assert.ok(!text.includes(NAME) && !text.includes(EMAIL) && !text.includes('111 22 33'), text);
    assert.match(text, /Skyddad identitet/);
    assert.match(text, /Namn och kontaktuppgifter visas bara för handläggare med behörighet/);
    assert.equal(await page.locator('#f-identity-confirm').count(), 0, 'no mark form');
    await assertAccessible(page, 'the case page of a protected resident, to an agent without the permission');
    // The reply form is still reached with the keyboard, with the note before it.
    assert.match(await page.locator('#reply-protected').innerText(), /Ditt svar skickas/);
    await tabTo(page, (x) => x.id === 'f-body', 'the reply field');
    assert.equal((await focused(page)).tag, 'textarea');
  });

  it('the admin’s users page offers the permission, and says admins need it too', async () => {
    const { page } = other;
    await other.context.clearCookies();
    await signIn(app, other, 'admin', 'Admin Adminsson');
    await page.goto(url('/admin/users'));
    assert.match(await mainText(page), /Administratörer ser dem inte automatiskt/);
    await assertAccessible(page, 'the users page with the permission column');
    const granted = await submitWithKeyboard(page, /^Ge behörighet: Vanlig Handläggare$/);
    assert.equal(granted.status(), 303);
    const row = await app.db('users').where({ name: 'Vanlig Handläggare' }).first();
    assert.equal(row.sees_protected, true);
  });
});
