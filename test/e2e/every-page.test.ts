import { strict as assert } from 'node:assert';
import type { Result as AxeResult } from 'axe-core';
import type { BrowserContext, Cookie, Page } from 'playwright-core';
import { routeTable } from '../../server/app.js';
import type { AuthUser, Role } from '../../server/auth/roles.js';
import type { RouteDef } from '../../server/platform/routing.js';
import { pdfBytes } from '../fixtures/files.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, TEST_PASSWORD } from '../support/harness.js';
import { pathFor, type ParamRule } from '../support/route-urls.js';
import { axeViolations, launchBrowser, serveTestApp, type BrowserSession, type ServedApp } from './browser.js';

/**
 * Every page of the service in Chromium, built from routeTable(): each GET
 * route that answers an HTML page is visited by someone allowed to see it
 * (anonymous for public pages, the resident's link for resident pages, the
 * least role that may see a staff page and an admin), resident and public
 * pages in Swedish, English and Arabic (right to left), and the error states
 * people meet (a refused form, a failed sign-in, 404, 403). On each: axe-core
 * WCAG 2.1 A/AA, and the keyboard: the first Tab reaches the skip link, Enter
 * on it moves focus into <main>, every visible control is reached by Tab, and
 * Tab leaves the page at the end (no trap). A GET route that is neither a page
 * nor on NON_PAGES below fails the test, so a new page cannot be forgotten.
 */

type Lang = 'sv' | 'en' | 'ar';
const RESIDENT_LANGS: Lang[] = ['sv', 'en', 'ar'];

/**
 * GET routes that are not pages, each with why. The test checks that each
 * still answers as described (a redirect, or a file that is not HTML), so the
 * list cannot hide a page. /api/* is JSON by definition and left out whole.
 */
const NON_PAGES: Record<string, { kind: 'redirect' | 'file'; why: string }> = {
  'get /admin': { kind: 'redirect', why: 'the admin start address; redirects to /admin/users' },
  'get /agent/cases/:reference/:action': { kind: 'redirect', why: 'a reload of a failed case action goes back to the case page' },
  'get /faq': { kind: 'redirect', why: 'short address of the FAQ; 301 to /fragor' },
  'get /faq/:category': { kind: 'redirect', why: 'short address of an FAQ category; 301 to /fragor/…' },
  'get /faq/:category/:slug': { kind: 'redirect', why: 'short address of an FAQ article; 301 to /fragor/…' },
  'get /arende/:token/bilagor/:publicId': { kind: 'file', why: "an attachment, downloaded through the resident's link" },
  'get /agent/attachments/:publicId': { kind: 'file', why: 'an attachment, downloaded by staff' },
  'get /admin/mail/:id/raw': { kind: 'file', why: 'the raw bytes of a quarantined mail' },
  'get /agent/statistik/export.csv': { kind: 'file', why: 'the statistics report as CSV' },
  'get /agent/atkomstlogg/export.csv': { kind: 'file', why: 'the access log as CSV' },
};

/** A query a non-page needs to answer at all (the CSV export names its table). */
const PROBE_QUERIES: Record<string, string> = { 'get /agent/statistik/export.csv': '?table=volumes' };

/**
 * Pages that answer a public visitor with something other than 200 on
 * purpose. The TV wallboard without its key shows how to get one (401); the
 * board itself is visited below with a key.
 */
const PUBLIC_STATUS: Record<string, number> = { 'get /tavla': 401 };

/** Public pages offered in Swedish and English only (staff pages: the sign-in and the TV). */
const STAFF_LANGUAGE_PUBLIC = new Set(['get /login', 'get /tavla']);

/**
 * Pages that put focus in their one field on load (the first Tab then goes
 * on from there; the skip link is checked when Tab comes round to it). A
 * page with an error summary focuses the summary; any other page that moves
 * focus on load is reported.
 */
const AUTOFOCUS: Record<string, string> = {
  '/agent/sok': '#f-q', // the search page is there to type a search
  '/agent/registrera': 'input[name="channel"]', // the phone desk registers call after call
};

interface Fixtures {
  a: { reference: string; token: string; attachment: string };
  b: { reference: string; surveyToken: string };
  quarantinedMailId: number;
  outboxMailId: number;
  article: { id: number; versionId: number; category: string; slug: string };
  wallboardKey: string;
}

const PARAMS: ParamRule<Fixtures>[] = [
  { param: 'reference', value: (f) => f.a.reference },
  { param: 'token', under: /^\/(arende|kvitto)\/$/, value: (f) => f.a.token },
  { param: 'token', under: /^\/enkat\/$/, value: (f) => f.b.surveyToken },
  { param: 'publicId', value: (f) => f.a.attachment },
  { param: 'action', under: /^\/agent\/cases\/:reference\/$/, value: () => 'reply' },
  { param: 'id', under: /^\/admin\/mail\/$/, value: (f) => f.quarantinedMailId },
  { param: 'id', under: /^\/demo\/outbox\/$/, value: (f) => f.outboxMailId },
  { param: 'id', under: /^\/redaktor\/artiklar\/$/, value: (f) => f.article.id },
  { param: 'versionId', under: /^\/redaktor\/artiklar\/:id\/versioner\/$/, value: (f) => f.article.versionId },
  { param: 'lang', under: /^\/redaktor\/artiklar\/:id\/[a-z]+\/$/, value: () => 'sv' },
  { param: 'category', value: (f) => f.article.category },
  { param: 'slug', value: (f) => f.article.slug },
];

/** More states of some pages, beyond the bare route: a search with results, the other case (protected, on hold, resolved), the TV with its key. */
const VARIANTS: { route: string; label: string; path: (f: Fixtures) => string }[] = [
  { route: 'get /fragor/sok', label: 'with results', path: () => '/fragor/sok?q=bygglov' },
  { route: 'get /agent/sok', label: 'with results', path: () => '/agent/sok?q=ritning' },
  { route: 'get /agent/cases/:reference', label: 'resolved, protected identity, legal hold', path: (f) => `/agent/cases/${f.b.reference}` },
  { route: 'get /tavla', label: 'with its key', path: (f) => `/tavla?nyckel=${f.wallboardKey}` },
];

const describeViolation = (where: string, v: AxeResult) =>
  v.nodes.map((n) => `${where}: [${v.impact ?? 'n/a'}] ${v.id} (${v.help}) at ${n.target.join(' ')}`);

describe('browser (Chromium): every page passes axe and works with the keyboard', function () {
  this.timeout(240_000);
  let app: ServedApp;
  let session: BrowserSession;
  let page: Page;
  let context: BrowserContext;
  let f: Fixtures;
  const cookiesOf = new Map<string, Cookie[]>();
  const users = new Map<Role, AuthUser>();
  const url = (p: string) => `${app.baseUrl}${p}`;
  const withLang = (p: string, lang: Lang) => `${p}${p.includes('?') ? '&' : '?'}lang=${lang}`;
  let visits = 0;

  async function as(principal: string): Promise<void> {
    await context.clearCookies();
    const saved = cookiesOf.get(principal);
    if (saved) await context.addCookies(saved);
  }

  /** Signs a new user of the role in through the login form (by HTTP in this browser's cookie jar) and keeps the cookies. */
  async function staff(role: Role): Promise<void> {
    const email = `every-page-${role}@e2e.example`;
    users.set(role, await app.services.auth.createUser({ email, name: `Sida ${role}`, role, password: TEST_PASSWORD }));
    await context.clearCookies();
    const form = await context.request.get(url('/login'));
    const res = await context.request.post(url('/login'), { form: { email, password: TEST_PASSWORD, _csrf: csrfFrom(await form.text()) }, maxRedirects: 0 });
    assert.equal(res.status(), 303, `signing in as ${role}`);
    cookiesOf.set(role, await context.cookies());
  }

  /** A case from the web form with a PDF, answered by an agent; its link, receipt and file. */
  async function seed(): Promise<Fixtures> {
    const s = app.services;
    await staff('agent');
    await staff('editor');
    await staff('manager');
    await staff('admin');
    const manager = users.get('manager')!;
    const admin = users.get('admin')!;
    const bearer = { Authorization: `Bearer ${await s.auth.createApiToken(manager.email, 'every-page')}` };

    async function webCase(subject: string) {
      const client = app.request();
      const form = await client.get('/kontakt').expect(200);
      const res = await postMultipart(
        client,
        '/kontakt',
        { _csrf: csrfFrom(form.text), category: 'bygglov', name: 'Olle Ås', email: `olle.${subject.length}@example.com`, phone: '070-111 22 33', subject, message: 'Här är ritningen till altanen. Mitt personnummer är 19121212-1212.' },
        [{ filename: 'ritning.pdf', content: pdfBytes(), contentType: 'application/pdf' }],
      );
      assert.equal(res.status, 303, res.text);
      const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(res.headers.location ?? '')?.[1];
      assert.ok(token, `redirected to the receipt, not ${res.headers.location}`);
      const c = await app.db('cases').where({ resident_token: token }).first('id', 'reference');
      const file = await app.db('attachments').where({ case_id: c.id }).first('public_id');
      assert.ok(file, 'the file was kept');
      return { id: c.id as number, reference: c.reference as string, token, attachment: file.public_id as string };
    }

    const a = await webCase('Ritning till altan');
    await app.request().post(`/api/v1/cases/${a.reference}/replies`).set(bearer).send({ body: 'Tack! Altanen behöver inget bygglov om den är lägre än 1,8 meter.' }).expect(201);
    await app.request().post(`/api/v1/cases/${a.reference}/notes`).set(bearer).send({ body: 'Ringde också om staketet.' }).expect(201);
    // The resident answers through the link, so the conversation has both sides.
    const resident = app.request();
    const casePage = await resident.get(`/arende/${a.token}`).expect(200);
    await resident.post(`/arende/${a.token}`).type('form').send({ _csrf: csrfFrom(casePage.text), message: 'Tack, och staketet då?' }).expect(303);

    const b = await webCase('Ritning till garage och carport');
    await app.request().patch(`/api/v1/cases/${b.reference}`).set(bearer).send({ status: 'resolved' }).expect(200);
    const mail = await app.db('mail_outbox').where({ case_id: b.id, kind: 'survey' }).first('text_body');
    const surveyToken = /\/enkat\/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/.exec(String(mail?.text_body))?.[1];
    assert.ok(surveyToken, 'the survey invitation has its link');
    await s.retention.setLegalHold(b.reference, admin, { reason: 'Överklagat beslut, mål 123-26.' }, true);
    await s.protectedIdentity.mark(b.reference, admin, { protect: 'true', confirm: 'on' });

    // A resident waiting to be called back, a phone contact registered, and calls in the log.
    const slot = s.callbacks.slots()[0];
    assert.ok(slot, 'a callback slot is free');
    await s.callbacks.request({ name: 'Olof Ek', phone: '070-765 43 21', category: 'bygglov', slot: slot.start.toISOString(), message: 'Vill veta vilka ritningar som behövs.' }, { lang: 'sv' });
    await s.contacts.register(users.get('agent')!, { channel: 'phone', category: 'bygglov', summary: 'Frågade om marklov. Svarat.', outcome: 'answered' }, { lang: 'sv' });
    const now = Date.now();
    await s.telephony.receive({
      events: [
        { id: 'ep-1:o', type: 'call.offered', callId: 'ep-1', at: new Date(now - 600_000).toISOString(), caller: '070-123 00 00', queue: 'vaxel' },
        { id: 'ep-1:a', type: 'call.answered', callId: 'ep-1', at: new Date(now - 590_000).toISOString(), extension: '2040' },
        { id: 'ep-1:e', type: 'call.ended', callId: 'ep-1', at: new Date(now - 500_000).toISOString(), outcome: 'completed' },
        { id: 'ep-2:o', type: 'call.offered', callId: 'ep-2', at: new Date(now - 400_000).toISOString(), caller: '070-999 00 00', queue: 'vaxel' },
        { id: 'ep-2:e', type: 'call.ended', callId: 'ep-2', at: new Date(now - 390_000).toISOString(), outcome: 'abandoned' },
      ],
    });

    // Mail that could not be read, for the admin's quarantine.
    await s.intake.store.store({ source: 'smtp', recipient: 'kontakt@test.example', envelopeFrom: 'junk@example.com', raw: Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 10, 10]) });
    await app.intakeIdle();
    const quarantined = await app.db('inbound_messages').where({ status: 'quarantined' }).orderBy('id', 'desc').first('id');
    assert.ok(quarantined, 'a quarantined message');

    // A retention rule (ten years: nothing here is touched).
    const ovrigt = await app.db('categories').where({ slug: 'ovrigt' }).first('id');
    await app.db('retention_rules').insert({ category_id: ovrigt.id, keep_days: 3650, description: 'Enkla frågor' });

    // The demo FAQ seed is in every test database: its first published Swedish article.
    const article = await app
      .db('faq_articles as a')
      .join('faq_versions as v', 'v.article_id', 'a.id')
      .where({ 'v.lang': 'sv', 'v.status': 'published' })
      .orderBy('a.id')
      .first('a.id', 'v.id as versionId', 'a.category', 'a.slug');
    assert.ok(article, 'a published article');

    await app.mailIdle();
    return {
      a,
      b: { reference: b.reference, surveyToken },
      quarantinedMailId: quarantined.id,
      outboxMailId: (await app.db('mail_outbox').where({ case_id: a.id, kind: 'reply' }).first('id')).id,
      article,
      wallboardKey: await s.auth.createApiToken(manager.email, 'TV', 'wallboard'),
    };
  }

  before(async () => {
    // demo: the demo's outbox pages are in the route table only then (nothing else differs without SMTP).
    app = await serveTestApp({ demo: true, survey: { enabled: true, validDays: 30 } });
    session = await launchBrowser();
    ({ page, context } = session);
    f = await seed();
  });

  after(async () => {
    await session?.close();
    await app?.stop();
  });

  /**
   * The keyboard walk: from the page as loaded, Tab until every visible
   * control has had focus and focus has left the page once (no trap). The
   * first Tab from a page that did not place focus itself must reach the skip
   * link, and Enter on the skip link must move focus into <main>.
   */
  async function keyboard(where: string, problems: string[]): Promise<void> {
    await page.evaluate(() => {
      const w = window as unknown as { __kb: { seen: Set<Element>; out: number; noIndicator: Set<Element> } };
      w.__kb = { seen: new Set(), out: 0, noIndicator: new Set() };
      document.addEventListener('focusin', (e) => {
        const el = e.target as HTMLElement;
        w.__kb.seen.add(el);
        const style = getComputedStyle(el);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        if (!outline && style.boxShadow === 'none') w.__kb.noIndicator.add(el);
      });
      // Focus leaving the document (to the browser's own controls) is what "no trap" means.
      document.addEventListener('focusout', (e) => {
        if (!(e as FocusEvent).relatedTarget) w.__kb.out++;
      });
    });
    const state = () =>
      page.evaluate(() => {
        const w = window as unknown as { __kb: { seen: Set<Element>; out: number; noIndicator: Set<Element> } };
        const a = document.activeElement;
        const describe = (el: Element) => {
          const h = el as HTMLElement;
          const name = (h.getAttribute('aria-label') ?? h.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
          return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('href') ? `[href="${el.getAttribute('href')}"]` : ''}${el.getAttribute('name') ? `[name="${el.getAttribute('name')}"]` : ''}${name ? ` "${name}"` : ''}`;
        };
        const visible = (el: Element) => (el as HTMLElement).checkVisibility({ visibilityProperty: true } as CheckVisibilityOptions) && el.getClientRects().length > 0;
        const candidates = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex], [contenteditable="true"], iframe')];
        const missing: string[] = [];
        let total = 0;
        const radioGroups = new Set<string>();
        for (const el of candidates) {
          if (el.tabIndex < 0 || (el as HTMLInputElement).disabled || el.closest('[inert]')) continue;
          if (el instanceof HTMLInputElement && el.type === 'hidden') continue;
          // Inside a closed <details>, only its <summary> can be reached.
          const closed = el.closest('details:not([open])');
          if (closed && !(el.tagName === 'SUMMARY' && el.parentElement === closed)) continue;
          if (!visible(el)) continue;
          // A radio group is one Tab stop: the arrow keys move within it.
          if (el instanceof HTMLInputElement && el.type === 'radio' && el.name) {
            const key = `${el.form?.id ?? ''}|${el.name}`;
            if (radioGroups.has(key)) continue;
            radioGroups.add(key);
            const group = candidates.filter((r) => r instanceof HTMLInputElement && r.type === 'radio' && r.name === el.name && r.form === el.form);
            total++;
            if (!group.some((r) => w.__kb.seen.has(r))) missing.push(describe(el));
            continue;
          }
          total++;
          if (!w.__kb.seen.has(el)) missing.push(describe(el));
        }
        const inMain = !!a && !!document.querySelector('main')?.contains(a);
        return {
          active: a && a !== document.body ? describe(a) : 'body',
          isSkip: !!a && a.matches('a.skip-link[href="#main"]'),
          inMain,
          out: w.__kb.out,
          total,
          missing,
          noIndicator: [...w.__kb.noIndicator].map(describe),
        };
      });

    const start = await state();
    // A page with an error summary focuses it on load (autofocus): the walk starts there.
    const placedFocus = start.active !== 'body';
    if (placedFocus) {
      const expected = await page.evaluate((autofocus) => {
        const a = document.activeElement!;
        const own = autofocus[location.pathname];
        return a.matches('[data-error-summary]') || (own !== undefined && a.matches(own));
      }, AUTOFOCUS);
      if (!expected) problems.push(`${where}: the page put focus on ${start.active} on load, so the first Tab does not reach the skip link (only an error summary, or a page on AUTOFOCUS, may)`);
    }
    let skipChecked = false;
    async function checkSkip(): Promise<void> {
      skipChecked = true;
      await page.keyboard.press('Enter');
      const after = await state();
      if (!after.inMain) problems.push(`${where}: Enter on the skip link left focus on ${after.active}, not in <main>`);
    }
    if (!placedFocus) {
      await page.keyboard.press('Tab');
      const first = await state();
      if (!first.isSkip) problems.push(`${where}: the first Tab reached ${first.active}, not the skip link to #main`);
      else await checkSkip();
    }
    const limit = 3 * start.total + 20;
    let s = await state();
    let presses = 0;
    while (presses < limit) {
      await page.keyboard.press('Tab');
      presses++;
      s = await state();
      if (placedFocus && !skipChecked && s.isSkip) await checkSkip();
      if (s.out > 0 && s.missing.length === 0 && skipChecked) break;
    }
    if (s.out === 0) problems.push(`${where}: focus never left the page after ${presses} Tab presses (a keyboard trap?); it stayed at ${s.active}`);
    if (!skipChecked) problems.push(`${where}: Tab never reached the skip link`);
    for (const m of s.missing) problems.push(`${where}: never reached by Tab (${presses} presses): ${m}`);
    for (const m of s.noIndicator) problems.push(`${where}: no visible focus indicator on ${m}`);
  }

  /** Opens the URL (or uses the page as it is), checks its status, language and direction, then axe and the keyboard. */
  async function check(where: string, problems: string[], opts: { path?: string; status?: number; lang: Lang; keyboard?: boolean }): Promise<void> {
    visits++;
    if (opts.path !== undefined) {
      const res = await page.goto(url(opts.path));
      assert.ok(res, `${where}: no response`);
      assert.equal(res.status(), opts.status ?? 200, `${where}: ${opts.path} answered ${res.status()}`);
      assert.match(res.headers()['content-type'] ?? '', /^text\/html/, `${where}: not an HTML page`);
      // goto follows redirects: a staff page that sent us to the sign-in page would otherwise pass as that page.
      assert.equal(new URL(page.url()).pathname, new URL(url(opts.path)).pathname, `${where}: ${opts.path} redirected to ${page.url()}`);
    }
    const html = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
    if (html.lang !== opts.lang) problems.push(`${where}: <html lang="${html.lang}">, asked for ${opts.lang}`);
    const dir = opts.lang === 'ar' ? 'rtl' : 'ltr';
    if (html.dir !== dir) problems.push(`${where}: <html dir="${html.dir}">, ${opts.lang} is ${dir}`);
    for (const v of await axeViolations(page)) problems.push(...describeViolation(where, v));
    if (opts.keyboard !== false) await keyboard(where, problems);
  }

  const routeKey = (r: RouteDef) => `${r.method} ${r.path}`;
  const getRoutes = () => routeTable(app.services).filter((r) => r.method === 'get' && !r.path.startsWith('/api/'));

  /** Who visits a route: the least role allowed, then an admin (in English, so staff pages are seen in both their languages). */
  function visitorsOf(r: RouteDef): { principal: string; langs: Lang[] }[] {
    if (r.access === 'public') return [{ principal: 'anonymous', langs: STAFF_LANGUAGE_PUBLIC.has(routeKey(r)) ? ['sv', 'en'] : RESIDENT_LANGS }];
    if (r.access === 'resident-link') return [{ principal: 'anonymous', langs: RESIDENT_LANGS }];
    return r.access === 'admin' ? [{ principal: 'admin', langs: ['sv', 'en'] }] : [{ principal: r.access, langs: ['sv'] }, { principal: 'admin', langs: ['en'] }];
  }

  it('every GET route outside /api is an HTML page or on the commented list of non-pages (which still answer as listed)', async () => {
    const unknown: string[] = [];
    for (const r of getRoutes()) {
      const listed = NON_PAGES[routeKey(r)];
      const { principal } = visitorsOf(r)[0]!;
      await as(principal);
      const res = await context.request.get(url(pathFor(r, PARAMS, f, 'PARAMS in test/e2e/every-page.test.ts') + (PROBE_QUERIES[routeKey(r)] ?? '')), { maxRedirects: 0 });
      const type = res.headers()['content-type'] ?? '';
      const html = /^text\/html/.test(type) && res.status() === (r.access === 'public' ? (PUBLIC_STATUS[routeKey(r)] ?? 200) : 200);
      if (!listed) {
        if (!html) unknown.push(`${routeKey(r)} answers ${principal} with ${res.status()} ${type}: neither a page nor on NON_PAGES`);
      } else if (listed.kind === 'redirect') {
        assert.ok(res.status() >= 301 && res.status() <= 308, `${routeKey(r)} is listed as a redirect but answered ${res.status()}`);
      } else {
        assert.equal(res.status(), 200, `${routeKey(r)} is listed as a file but answered ${res.status()}`);
        assert.doesNotMatch(type, /^text\/html/, `${routeKey(r)} is listed as a file but answers HTML: take it off NON_PAGES`);
      }
    }
    for (const key of Object.keys(NON_PAGES)) assert.ok(getRoutes().some((r) => routeKey(r) === key), `NON_PAGES lists ${key}, which is not in the route table any more`);
    assert.deepEqual(unknown, []);
  });

  /** Visits every page of these kinds of route, and their variants, as their visitors. */
  async function visitPages(filter: (r: RouteDef) => boolean): Promise<string[]> {
    const problems: string[] = [];
    const routes = getRoutes().filter((r) => filter(r) && !NON_PAGES[routeKey(r)]);
    assert.ok(routes.length > 0);
    for (const r of routes) {
      const paths = [{ label: '', path: pathFor(r, PARAMS, f) }, ...VARIANTS.filter((v) => v.route === routeKey(r)).map((v) => ({ label: ` (${v.label})`, path: v.path(f) }))];
      for (const { principal, langs } of visitorsOf(r)) {
        for (const p of paths) {
          for (const [i, lang] of langs.entries()) {
            await as(principal);
            const variant = p.label !== '';
            const status = r.access === 'public' && !variant ? PUBLIC_STATUS[routeKey(r)] : undefined;
            // The keyboard does not depend on the language: walked once per page and visitor.
            await check(`${r.path}${p.label} as ${principal} in ${lang}`, problems, { path: withLang(p.path, lang), lang, keyboard: i === 0, ...(status ? { status } : {}) });
          }
        }
      }
    }
    return problems;
  }

  it('public and resident pages, in Swedish, English and Arabic', async () => {
    const problems = await visitPages((r) => r.access === 'public' || r.access === 'resident-link');
    assert.deepEqual(problems, [], `${problems.length} problems:\n${problems.join('\n')}`);
  });

  it('staff pages, as the least role allowed (Swedish) and as an admin (English)', async () => {
    const problems = await visitPages((r) => r.access !== 'public' && r.access !== 'resident-link');
    assert.deepEqual(problems, [], `${problems.length} problems:\n${problems.join('\n')}`);
  });

  it("the error states: refused contact, callback and resident's message forms, a failed sign-in, 404 and 403", async () => {
    const problems: string[] = [];
    async function submit(selector: string): Promise<number> {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
        page.waitForEvent('load'),
        page.locator(selector).click(),
      ]);
      return response.status();
    }
    await as('anonymous');
    for (const lang of RESIDENT_LANGS) {
      await page.goto(url(`/kontakt?lang=${lang}`));
      assert.equal(await submit('main form[method="post"] button[type="submit"]'), 400, 'the empty contact form is refused');
      await check(`the contact form with errors in ${lang}`, problems, { lang, keyboard: lang === 'sv' });
      await page.goto(url(`/ring-upp?lang=${lang}`));
      assert.equal(await submit('main form[method="post"] button[type="submit"]'), 400, 'the empty callback form is refused');
      await check(`the callback form with errors in ${lang}`, problems, { lang, keyboard: lang === 'sv' });
      await page.goto(url(`/arende/${f.a.token}?lang=${lang}`));
      assert.equal(await submit('main form[method="post"] button[type="submit"]'), 400, "an empty message on the resident's page is refused");
      await check(`the resident's case page with an empty message in ${lang}`, problems, { lang, keyboard: lang === 'sv' });
      await check(`the 404 page in ${lang}`, problems, { path: `/finns-inte?lang=${lang}`, status: 404, lang, keyboard: lang === 'sv' });
    }
    for (const lang of ['sv', 'en'] as const) {
      await as('anonymous');
      await page.goto(url(`/login?lang=${lang}`));
      await page.fill('#f-email', users.get('agent')!.email);
      await page.fill('#f-password', 'not the password');
      assert.equal(await submit('main form[method="post"] button[type="submit"]'), 401, 'a wrong password is refused');
      await check(`the login page after a failed sign-in in ${lang}`, problems, { lang, keyboard: lang === 'sv' });
      await as('agent');
      await check(`the 403 page (an agent at /admin/users) in ${lang}`, problems, { path: `/admin/users?lang=${lang}`, status: 403, lang, keyboard: lang === 'sv' });
      await check(`the 404 page for staff in ${lang}`, problems, { path: `/agent/cases/SC-1999-000001?lang=${lang}`, status: 404, lang, keyboard: lang === 'sv' });
    }
    assert.deepEqual(problems, [], `${problems.length} problems:\n${problems.join('\n')}`);
  });

  it('the checks catch what they look for: a missing label and alt text, a missing skip link, a keyboard trap and what it hides', async () => {
    // Pages written here, off the app (about:blank has no CSP, so the trap's script runs).
    await page.goto('about:blank');
    await page.setContent(
      '<!doctype html><html lang="sv" dir="ltr"><head><title>Fälla</title></head><body>' +
        '<a class="skip-link" href="#main">Till innehållet</a>' +
        '<main id="main" tabindex="-1"><h1>Fälla</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="trap"><button type="button">Aldrig</button></main>' +
        "<script>document.getElementById('trap').addEventListener('keydown', (e) => { if (e.key === 'Tab') e.preventDefault(); });</script>" +
        '</body></html>',
    );
    const trap: string[] = [];
    await check('the trap page', trap, { lang: 'sv' });
    assert.ok(trap.some((p) => / image-alt /.test(p)), trap.join('\n'));
    assert.ok(trap.some((p) => / label /.test(p) && /#trap/.test(p)), trap.join('\n'));
    assert.ok(trap.some((p) => /focus never left the page/.test(p)), trap.join('\n'));
    assert.ok(trap.some((p) => /never reached by Tab .*button "Aldrig"/.test(p)), trap.join('\n'));

    await page.goto('about:blank');
    await page.setContent(
      '<!doctype html><html lang="sv" dir="ltr"><head><title>Utan</title></head><body>' +
        '<main><h1>Utan överhoppningslänk</h1><p><a href="#x">En länk</a></p><details><summary>Mer</summary><p><a href="#y">Dold länk</a></p></details></main>' +
        '</body></html>',
    );
    const noSkip: string[] = [];
    await check('the page without a skip link', noSkip, { lang: 'sv' });
    assert.ok(noSkip.some((p) => /the first Tab reached a\[href="#x"\]/.test(p)), noSkip.join('\n'));
    assert.ok(noSkip.some((p) => /Tab never reached the skip link/.test(p)), noSkip.join('\n'));
    // The link inside the closed <details> is not expected; everything visible was reached.
    assert.ok(!noSkip.some((p) => /never reached by Tab/.test(p)), noSkip.join('\n'));
    visits -= 2;
  });

  after(() => {
    if (visits) console.log(`      (${visits} page visits)`);
  });
});
