import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page, Response } from 'playwright-core';
import type { Role } from '../../server/auth/roles.js';
import { translate } from '../../server/platform/i18n.js';
import { TEST_PASSWORD } from '../support/harness.js';
import {
  assertAccessible,
  axeViolations,
  decodeQuotedPrintable,
  focused,
  launchBrowser,
  serveTestApp,
  tabTo,
  type BrowserSession,
  type ServedApp,
  submitWithKeyboard,
} from './browser.js';

/**
 * The service as people use it, in a real browser: a resident asks a question
 * with the keyboard alone, an agent answers, and every page passes axe-core's
 * WCAG 2.1 A/AA rules in Swedish and English and reflows at 320 px.
 */

const REFERENCE = /SC-\d{4}-\d{6,}/;
const LANGS = ['sv', 'en'] as const;
type Lang = (typeof LANGS)[number];

/** A text of the interface, as the locale files have it. */
const t = (lang: Lang, key: string) => translate(lang, key);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Matches exactly the text of a key: for buttons and notices. */
const exactly = (lang: Lang, key: string) => new RegExp(`^${escape(t(lang, key))}$`);

/** The mails in the file outbox, with their bodies decoded. */
function outbox(app: ServedApp): string[] {
  const dir = app.config.mail.outboxDir;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.map((f) => {
    const raw = readFileSync(path.join(dir, f), 'utf8');
    const split = raw.search(/\r?\n\r?\n/);
    const head = raw.slice(0, split);
    const body = raw.slice(split).trim();
    // Text and HTML parts (multipart/alternative) are each quoted-printable: decode when any is.
    return `${head}\n\n${/content-transfer-encoding:\s*quoted-printable/i.test(raw) ? decodeQuotedPrintable(body) : body}`;
  });
}

async function htmlLang(page: Page): Promise<string | null> {
  return page.locator('html').getAttribute('lang');
}

async function mainText(page: Page): Promise<string> {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}


/** Clicks a submit button and waits for the page that comes back. */
async function submitByClick(page: Page, form: string, buttonName: RegExp): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.waitForEvent('load'),
    page.locator(form).getByRole('button', { name: buttonName }).click(),
  ]);
  return response;
}

describe('browser (Chromium): residents and agents', function () {
  this.timeout(90_000);

  let app: ServedApp;
  let resident: BrowserSession;
  let staff: BrowserSession;
  let userCount = 0;

  before(async () => {
    app = await serveTestApp();
    resident = await launchBrowser();
    staff = await launchBrowser();
  });

  after(async () => {
    await resident?.close();
    await staff?.close();
    await app?.stop();
  });

  const url = (p: string) => `${app.baseUrl}${p}`;

  async function newStaff(role: Role, name: string) {
    const email = `${role}${++userCount}@e2e.example`;
    await app.services.auth.createUser({ email, name, role, password: TEST_PASSWORD });
    return { email, name };
  }

  /** Signs in on the login page with the keyboard, starting from a browser with no cookies. */
  async function signIn(session: BrowserSession, email: string, lang: Lang = 'sv'): Promise<void> {
    await session.context.clearCookies();
    const { page } = session;
    await page.goto(url(`/login?lang=${lang}`));
    await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field');
    await page.keyboard.type(email);
    await tabTo(page, (f) => f.id === 'f-password', 'the password field');
    await page.keyboard.type(TEST_PASSWORD);
    await Promise.all([page.waitForURL(url('/agent')), page.keyboard.press('Enter')]);
  }

  describe('a question from start to answer', () => {
    let reference = '';
    let caseLink = '';
    const email = 'sara.oberg@example.com';
    const question = 'Behöver jag bygglov för ett attefallshus på 25 kvadratmeter?';

    it('a resident asks a question from the start page with the keyboard alone', async () => {
      const { page } = resident;
      await resident.context.clearCookies();
      await page.goto(url('/'));
      assert.equal(await htmlLang(page), 'sv');
      await assertAccessible(page, 'the start page');

      // The first Tab reaches the skip link, which moves focus past the header to the content.
      await tabTo(page, (f) => f.href === '#main', 'the skip link', 1);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#main');
      assert.equal((await focused(page)).id, 'main', 'the skip link moves focus to <main>');
      const firstTopic = await tabTo(page, (f) => f.tag === 'a', 'the first link in the content', 1);
      assert.equal(firstTopic.href, '/kontakt?amne=bygglov', 'after the skip link, Tab goes to the first topic');
      await tabTo(page, (f) => f.href === '/kontakt?amne=forsorjningsstod', 'the topic "Försörjningsstöd"');
      await Promise.all([page.waitForURL(url('/kontakt?amne=forsorjningsstod')), page.keyboard.press('Enter')]);
      assert.equal(await page.isChecked('#topic-forsorjningsstod'), true, 'the topic followed is chosen in the form');

      // Tab enters the radio group on the checked topic; the arrow keys choose another.
      const radio = await tabTo(page, (f) => f.name === 'category', 'the topic radio buttons');
      assert.equal(radio.id, 'topic-forsorjningsstod', 'Tab lands on the checked radio button');
      await page.keyboard.press('ArrowUp');
      assert.equal((await focused(page)).id, 'topic-bygglov');
      await page.keyboard.press('Space');
      assert.equal(await page.isChecked('#topic-bygglov'), true, 'the arrow key chose "Bygglov"');
      assert.equal(await page.isChecked('#topic-forsorjningsstod'), false);

      await tabTo(page, (f) => f.id === 'f-name', 'the name field');
      await page.keyboard.type('Sara Öberg');
      await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field');
      await page.keyboard.type(email);
      await tabTo(page, (f) => f.id === 'f-subject', 'the subject field');
      await page.keyboard.type('Attefallshus');
      await tabTo(page, (f) => f.id === 'f-message', 'the message field');
      await page.keyboard.type(question);
      await page.keyboard.press('Enter'); // a new line in the message, not a submit
      await page.keyboard.type('Tack på förhand!');

      const response = await submitWithKeyboard(page, exactly('sv', 'form.submit'));
      assert.equal(response.status(), 303, 'the form is accepted');
      assert.match(new URL(page.url()).pathname, /^\/kvitto\/[A-Za-z0-9_-]{43}$/);

      const text = await mainText(page);
      reference = REFERENCE.exec(text)?.[0] ?? '';
      assert.ok(reference, `no reference on the receipt: ${text}`);
      assert.equal(await page.locator('main strong', { hasText: REFERENCE }).innerText(), reference);
      caseLink = (await page.locator('a.copy-link').getAttribute('href')) ?? '';
      assert.match(caseLink, new RegExp(`^${app.baseUrl.replace(/\./g, '\\.')}/arende/[A-Za-z0-9_-]{43}$`), 'the private link uses the public URL');
      assert.equal(await page.locator('a.copy-link').innerText(), caseLink, 'the link is shown in full so it can be copied');
      await assertAccessible(page, 'the receipt');

      await app.mailIdle();
      const mails = outbox(app).filter((m) => m.includes(reference));
      assert.equal(mails.length, 1, `one acknowledgement for ${reference} in ${app.config.mail.outboxDir}`);
      assert.match(mails[0]!, new RegExp(`^To: ${email.replace(/\./g, '\\.')}$`, 'm'));
      assert.ok(mails[0]!.includes(caseLink), `the acknowledgement has the private link ${caseLink}:\n${mails[0]}`);
    });

    it('the resident can switch the pages to English and back, and <html lang> follows', async () => {
      const { page } = resident;
      await page.goto(caseLink);
      const swedishHeading = await page.locator('h1').innerText();
      assert.equal(await htmlLang(page), 'sv');
      await tabTo(page, (f) => f.href.endsWith('?lang=en'), 'the link "English"');
      await Promise.all([page.waitForURL(`${caseLink}?lang=en`), page.keyboard.press('Enter')]);
      assert.equal(await htmlLang(page), 'en');
      assert.notEqual(await page.locator('h1').innerText(), swedishHeading, 'the page is in English');
      assert.match(await page.locator('h1').innerText(), new RegExp(reference));
      await assertAccessible(page, 'the case page in English');

      // The choice is remembered on the next page.
      await page.goto(url('/kontakt'));
      assert.equal(await htmlLang(page), 'en');
      await tabTo(page, (f) => f.href.endsWith('?lang=sv'), 'the link "Svenska"');
      await Promise.all([page.waitForURL(url('/kontakt?lang=sv')), page.keyboard.press('Enter')]);
      assert.equal(await htmlLang(page), 'sv');
    });

    it('a form sent with errors: the summary has focus, each error is tied to its field, and the values are kept', async () => {
      const { page } = resident;
      await page.goto(url('/kontakt'));
      await tabTo(page, (f) => f.id === 'f-email', 'the e-mail field');
      await page.keyboard.type('sara@');
      await tabTo(page, (f) => f.id === 'f-message', 'the message field');
      await page.keyboard.type('Min fråga om parkering');

      const response = await submitWithKeyboard(page, exactly('sv', 'form.submit'));
      assert.equal(response.status(), 400);
      const active = await page.evaluate(() => document.activeElement?.matches('[data-error-summary]') ?? false);
      assert.ok(active, `focus is on the error summary, not on ${JSON.stringify(await focused(page))}`);
      assert.ok((await focused(page)).indicator, 'the focused error summary shows a focus indicator');

      const report = await page.evaluate(() => {
        const idrefs = (el: Element | null, attr: string) => (el?.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean);
        const links = [...document.querySelectorAll<HTMLAnchorElement>('[data-error-summary] a')].map((a) => {
          const target = document.getElementById(a.hash.slice(1));
          const container = target?.closest('.field');
          const error = container?.querySelector('.field-error');
          // A radio group is described as a whole: the error belongs to its fieldset.
          const described = target?.matches('input[type=radio]') ? target.closest('fieldset') : target;
          return {
            href: a.getAttribute('href'),
            text: (a.textContent ?? '').trim(),
            target: target ? `${target.tagName.toLowerCase()}#${target.id}` : null,
            errorId: error?.id ?? null,
            errorText: (error?.textContent ?? '').replace(/\s+/g, ' ').trim(),
            describedBy: idrefs(described ?? null, 'aria-describedby'),
            invalid: target?.matches('input[type=radio]') ? 'n/a' : target?.getAttribute('aria-invalid'),
          };
        });
        const errors = [...document.querySelectorAll('.field-error')].map((e) => e.id);
        const referenced = new Set([...document.querySelectorAll('[aria-describedby]')].flatMap((e) => idrefs(e, 'aria-describedby')));
        const invalid = [...document.querySelectorAll('[aria-invalid="true"]')].map((e) => ({ id: e.id, describedBy: idrefs(e, 'aria-describedby') }));
        return { links, errors, unreferenced: errors.filter((id) => !referenced.has(id)), invalid };
      });

      const targets = report.links.map((l) => l.target).sort();
      assert.deepEqual(targets, ['input#f-email', 'input#f-name', 'input#topic-bygglov'], `summary links: ${JSON.stringify(report.links)}`);
      for (const l of report.links) {
        assert.ok(l.errorId, `no error message next to ${l.target}`);
        assert.ok(l.errorText.endsWith(l.text), `the summary says "${l.text}" and the field "${l.errorText}"`);
        assert.ok(l.describedBy.includes(l.errorId), `${l.target} (or its fieldset) is not described by #${l.errorId}: ${l.describedBy.join(' ')}`);
        if (l.invalid !== 'n/a') assert.equal(l.invalid, 'true', `${l.target} has aria-invalid="true"`);
      }
      assert.deepEqual(report.unreferenced, [], 'every field error is referenced by aria-describedby');
      for (const i of report.invalid) assert.ok(i.describedBy.some((id) => id.endsWith('-error')), `#${i.id} is invalid but points to no error`);

      assert.equal(await page.inputValue('#f-email'), 'sara@');
      assert.equal(await page.inputValue('#f-message'), 'Min fråga om parkering');
      assert.equal(await page.inputValue('#f-name'), '');

      // Following a summary link takes the keyboard user to the field.
      await page.keyboard.press('Tab');
      const first = await focused(page);
      assert.equal(first.tag, 'a', 'Tab from the summary goes to its first link');
      await page.keyboard.press('Enter');
      await page.waitForFunction((hash) => location.hash === hash, first.href);
      assert.equal((await focused(page)).id, first.href.slice(1), `the link ${first.href} moves focus to its field`);
      await assertAccessible(page, 'the contact form with errors');
    });

    it('an agent answers; the resident sees the answer but not the internal note, and the agent sees the follow-up', async () => {
      assert.ok(reference && caseLink, 'needs the case from the first test');
      const agent = await newStaff('agent', 'Anna Andersson');
      const { page } = staff;
      await signIn(staff, agent.email);
      await assertAccessible(page, 'the queue');

      const row = page.locator(`#case-${reference}`);
      assert.match(await row.innerText(), /Attefallshus/);
      await tabTo(page, (f) => f.href === `/agent/cases/${reference}`, `the case ${reference} in the queue`);
      await Promise.all([page.waitForURL(url(`/agent/cases/${reference}`)), page.keyboard.press('Enter')]);
      assert.match(await page.locator('h1').innerText(), new RegExp(`${reference}: Attefallshus`));
      assert.match(await page.locator('#timeline + ol').innerText(), /attefallshus på 25 kvadratmeter/);
      await assertAccessible(page, 'the case view');

      const answer = 'Hej Sara! Ett attefallshus på 25 kvm kräver ingen bygglov, men en anmälan.';
      await page.fill('#f-body', answer);
      let response = await submitByClick(page, 'form[action$="/reply"]', exactly('sv', 'agent.reply.submit'));
      assert.equal(response.status(), 303);
      assert.equal(await page.locator('.notice[role=status]').innerText(), t('sv', 'agent.done.reply'));

      const note = 'Internt: kolla detaljplanen för fastigheten innan vi svarar mer.';
      await page.fill('#f-note-body', note);
      response = await submitByClick(page, 'form[action$="/note"]', exactly('sv', 'agent.note.submit'));
      assert.equal(response.status(), 303);
      const timeline = await page.locator('#timeline + ol').innerText();
      assert.ok(timeline.includes(answer) && timeline.includes(note), timeline);

      // The resident's page shows the answer, never the note.
      const r = resident.page;
      await r.goto(caseLink);
      const conversation = await r.locator('#conversation + ol').innerText();
      assert.ok(conversation.includes(answer), `the answer is on the resident's page: ${conversation}`);
      assert.ok(!(await r.content()).includes('detaljplanen'), "the internal note is not on the resident's page");
      assert.ok((await r.locator('.details').innerText()).includes(t('sv', 'status.waiting')), 'the case now waits for the resident');

      // The answer went by mail too; the note did not.
      await app.mailIdle();
      const mails = outbox(app);
      assert.ok(mails.some((m) => m.includes(answer)), 'the answer was mailed');
      assert.ok(!mails.some((m) => m.includes('detaljplanen')), 'the note was not mailed');

      // A follow-up from the resident, written with the keyboard.
      const followUp = 'Tack! Måste anmälan göras innan vi börjar bygga?';
      await tabTo(r, (f) => f.id === 'f-message', 'the follow-up field');
      await r.keyboard.type(followUp);
      response = await submitWithKeyboard(r, exactly('sv', 'case.reply.submit'));
      assert.equal(response.status(), 303);
      assert.match(r.url(), /\?skickat=1#conversation$/);
      assert.equal(await r.locator('[role=status]').innerText(), t('sv', 'case.sent'));
      assert.ok((await r.locator('#conversation + ol').innerText()).includes(followUp));

      await page.reload();
      assert.ok((await page.locator('#timeline + ol').innerText()).includes(followUp), 'the agent sees the follow-up in the timeline');
    });
  });

  describe('accessibility: axe-core finds no WCAG 2.1 A/AA violations', () => {
    let token = '';
    let reference = '';
    let demo: ServedApp;
    const people = {} as Record<Role, { email: string; name: string }>;

    before(async () => {
      const created = await app.services.cases.createCase(
        { name: 'Lena Berg', email: 'lena.berg@example.com', category: 'gator-och-trafik', subject: 'Trasig gatlykta', message: 'Gatlyktan vid Stationsgatan 12 är släckt.' },
        { channel: 'web' },
      );
      token = created.token;
      reference = created.reference;
      people.agent = await newStaff('agent', 'Axel Agent');
      people.manager = await newStaff('manager', 'Mona Manager');
      people.admin = await newStaff('admin', 'Ada Admin');
      demo = await serveTestApp({ demo: true });
      await demo.services.cases.createCase({ name: 'Karin Lindqvist', email: 'karin@example.com', category: 'bygglov', message: 'Behöver jag bygglov för en altan?' }, { channel: 'web' });
    });

    after(async () => {
      await demo?.stop();
    });

    /** Visits a page and checks its language and accessibility. */
    async function check(page: Page, label: string, lang: string, status: number | null, response?: Response | null): Promise<void> {
      if (status !== null) assert.equal(response?.status(), status, `${label}: HTTP status`);
      assert.equal(await htmlLang(page), lang, `${label}: <html lang>`);
      await assertAccessible(page, `${label} (${lang})`);
    }

    it('the checker itself finds violations on a page with the same CSP (no false all-clear)', async () => {
      const { page } = resident;
      await page.goto(url('/'));
      await page.evaluate(() => {
        const main = document.querySelector('main')!;
        const img = document.createElement('img');
        img.src = '/static/css/site.css';
        main.append(img, document.createElement('input'));
      });
      const ids = (await axeViolations(page)).map((v) => v.id);
      assert.ok(ids.includes('image-alt') && ids.includes('label'), `axe reported ${ids.join(', ') || 'nothing'}`);
    });

    for (const lang of LANGS) {
      it(`resident pages in ${lang === 'sv' ? 'Swedish' : 'English'}`, async () => {
        const { page } = resident;
        await resident.context.clearCookies();
        await check(page, 'the start page', lang, 200, await page.goto(url(`/?lang=${lang}`)));
        await check(page, 'the contact form', lang, 200, await page.goto(url('/kontakt')));
        await check(page, 'the contact form with errors', lang, 400, await submitByClick(page, 'main form', exactly(lang, 'form.submit')));
        assert.ok(await page.locator('[data-error-summary]').isVisible());
        await check(page, 'the receipt', lang, 200, await page.goto(url(`/kvitto/${token}`)));
        await check(page, "the resident's case page", lang, 200, await page.goto(url(`/arende/${token}`)));
        await check(page, "the resident's case page with an error", lang, 400, await submitByClick(page, 'main form', exactly(lang, 'case.reply.submit')));
        assert.ok(await page.locator('[data-error-summary]').isVisible());
        await check(page, 'a missing page', lang, 404, await page.goto(url('/finns-inte')));
        await check(page, 'a case link that does not exist', lang, 404, await page.goto(url(`/arende/${'x'.repeat(43)}`)));
        await check(page, 'the login page', lang, 200, await page.goto(url('/login')));
        await page.fill('#f-email', people.agent.email);
        await page.fill('#f-password', 'not the password');
        await check(page, 'a failed login', lang, 401, await submitByClick(page, 'main form', exactly(lang, 'login.submit')));
        assert.ok(await page.locator('[data-error-summary]').isVisible());
      });

      it(`staff pages in ${lang === 'sv' ? 'Swedish' : 'English'}`, async () => {
        const { page } = staff;
        await signIn(staff, people.agent.email, lang);
        await check(page, 'the queue', lang, 200, await page.goto(url(`/agent?lang=${lang}`)));
        await check(page, 'the queue with a bad filter', lang, 400, await page.goto(url('/agent?status=nonsense')));
        await check(page, 'the case view', lang, 200, await page.goto(url(`/agent/cases/${reference}`)));
        await check(page, 'the case view after an empty reply', lang, 400, await submitByClick(page, 'form[action$="/reply"]', exactly(lang, 'agent.reply.submit')));
        assert.equal(await page.getAttribute('#f-body', 'aria-invalid'), 'true');
        await check(page, 'a case that does not exist', lang, 404, await page.goto(url('/agent/cases/SC-2000-999999')));

        await signIn(staff, people.manager.email, lang);
        await check(page, 'the agents page', lang, 200, await page.goto(url('/agent/agents')));

        await signIn(staff, people.admin.email, lang);
        await check(page, 'admin: users', lang, 200, await page.goto(url('/admin/users')));
        await check(page, 'admin: a new user with errors', lang, 400, await submitByClick(page, 'form[action="/admin/users"]', exactly(lang, 'admin.users.submit')));
        await check(page, 'admin: departments', lang, 200, await page.goto(url('/admin/departments')));
        await check(page, 'admin: a new department with errors', lang, 400, await submitByClick(page, 'form[action="/admin/departments"]', exactly(lang, 'admin.departments.submit')));
        await check(page, 'admin: categories', lang, 200, await page.goto(url('/admin/categories')));
        await check(page, 'admin: a new category with errors', lang, 400, await submitByClick(page, 'form[action="/admin/categories"]', exactly(lang, 'admin.categories.submit')));
      });

      it(`the demo outbox in ${lang === 'sv' ? 'Swedish' : 'English'}`, async () => {
        const { page } = resident;
        await resident.context.clearCookies();
        await demo.mailIdle();
        await check(page, 'the demo outbox', lang, 200, await page.goto(`${demo.baseUrl}/demo/outbox?lang=${lang}`));
        const link = page.locator('main table a').first();
        await Promise.all([page.waitForURL(/\/demo\/outbox\/\d+$/), link.click()]);
        await check(page, 'a mail in the demo outbox', lang, null);
        assert.ok((await page.locator('main a[href*="/arende/"]').count()) >= 1, 'the mail links to the case');
      });
    }

    it('the demo outbox exists only in demo mode', async () => {
      const res = await resident.page.goto(url('/demo/outbox'));
      assert.equal(res?.status(), 404);
    });
  });

  describe('reflow (WCAG 1.4.10): no horizontal scrolling at 320 px', () => {
    let narrow: BrowserSession;
    let token = '';

    before(async () => {
      narrow = await launchBrowser({ viewport: { width: 320, height: 640 } });
      token = (
        await app.services.cases.createCase(
          { name: 'Ahmed Hassan', phone: '070-123 45 67', category: 'forskoleplats', subject: 'Förskoleplats från januari', message: 'Hur ansöker vi om förskoleplats?' },
          { channel: 'web' },
        )
      ).token;
    });

    after(async () => {
      await narrow?.close();
    });

    async function assertNoHorizontalScroll(page: Page, label: string): Promise<void> {
      const { scrollWidth, clientWidth, wide } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        // Name the culprits if there are any.
        wide: [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${String(e.className).replace(/\s+/g, '.')}` : ''}`),
      }));
      assert.ok(scrollWidth <= 320, `${label} is ${scrollWidth} px wide at 320 px (client ${clientWidth}); too wide: ${wide.join(', ')}`);
    }

    for (const lang of LANGS) {
      it(`the start page, the contact form, the receipt and the case page (${lang})`, async () => {
        const { page } = narrow;
        await narrow.context.clearCookies();
        await page.goto(url(`/?lang=${lang}`));
        await assertNoHorizontalScroll(page, 'the start page');
        await page.goto(url('/kontakt'));
        await assertNoHorizontalScroll(page, 'the contact form');
        await submitByClick(page, 'main form', exactly(lang, 'form.submit'));
        await assertNoHorizontalScroll(page, 'the contact form with errors');
        await page.goto(url(`/kvitto/${token}`));
        await assertNoHorizontalScroll(page, 'the receipt');
        await page.goto(url(`/arende/${token}`));
        await assertNoHorizontalScroll(page, "the resident's case page");
      });
    }
  });
});
