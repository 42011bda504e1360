import { strict as assert } from 'node:assert';
import type supertest from 'supertest';
import type { CallbackRow } from '../../server/callbacks/store.js';
import type { CaseRow } from '../../server/cases/store.js';
import { translate } from '../../server/platform/i18n.js';
import { formatWindow } from '../../server/platform/views.js';
import { csrfFrom, rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/**
 * The pages for phone and walk-in contacts, as a browser uses them: an agent
 * registers a call or a visit, a resident books a callback on /ring-upp, and
 * an agent records the attempts on the case page, up to the last one.
 */

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');
const sv = (key: string, vars: Record<string, unknown> = {}) => html(translate('sv', key, vars));

/** Asserts that a page (or a part of one) has a text, showing both when not. */
function contains(page: string, text: string, what = 'the page'): void {
  if (!page.includes(text)) assert.fail(`${what} does not contain ${JSON.stringify(text)}:\n${page.slice(0, 600)}`);
}

/** The row counts of every table a contact touches, callbacks included. */
async function counts(t: TestApp) {
  const cb = await t.db('callbacks').count<{ count: string | number }[]>('* as count').first();
  const at = await t.db('callback_attempts').count<{ count: string | number }[]>('* as count').first();
  return { ...(await rowCounts(t.db)), callbacks: Number(cb?.count ?? 0), callback_attempts: Number(at?.count ?? 0) };
}

async function caseRow(t: TestApp, reference: string): Promise<CaseRow> {
  const c = await t.db<CaseRow>('cases').where({ reference }).first();
  assert.ok(c, `case ${reference}`);
  return c;
}

async function callbackOf(t: TestApp, reference: string): Promise<CallbackRow> {
  const c = await caseRow(t, reference);
  const cb = await t.db<CallbackRow>('callbacks').where({ case_id: c.id }).first();
  assert.ok(cb, `a callback for ${reference}`);
  return cb;
}

async function eventsOf(t: TestApp, reference: string) {
  const c = await caseRow(t, reference);
  return t.db('case_events').where({ case_id: c.id }).orderBy('id');
}

/** The value of a form control in the page, as the browser would send it again. */
function inputValue(page: string, id: string): string | undefined {
  return new RegExp(`<input id="${id}"[^>]* value="([^"]*)"`).exec(page)?.[1];
}

function contactFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    channel: 'phone',
    category: 'bygglov',
    summary: 'Frågade om bygglov för attefallshus. Svarade att det räcker med en anmälan.',
    name: 'Karin Lindqvist',
    phone: '070-123 45 67',
    outcome: 'answered',
    department: '',
    slot: '',
    ...overrides,
  };
}

/** Opens the registration page like a browser and sends it with the page's token. */
async function register(a: SignedIn, fields: Record<string, string>, status: number) {
  const page = await a.agent.get('/agent/registrera').expect(200);
  return a.agent.post('/agent/registrera').type('form').send({ _csrf: csrfFrom(page.text), ...fields }).expect(status);
}

function registered(res: supertest.Response, outcome: string): string {
  const m = /^\/agent\/registrera\?klart=(SC-\d{4}-\d{6,})&utfall=([a-z]+)$/.exec(res.headers.location ?? '');
  assert.ok(m, `redirects back to the empty form with the reference, got ${res.headers.location}`);
  assert.equal(m[2], outcome);
  return m[1]!;
}

describe('web: phone and walk-in contacts', () => {
  let t: TestApp;
  let agent: SignedIn;

  before(async function () {
    this.timeout(60_000);
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Anna Agentsson');
  });
  after(() => t.close());

  describe('quick registration (/agent/registrera)', () => {
    it('the dashboard links to it, and the form is ready for a call: phone chosen and focused, every offered time listed', async () => {
      const dash = await agent.agent.get('/agent').expect(200);
      assert.match(dash.text, /<a class="button secondary" href="\/agent\/registrera">/);
      contains(dash.text, sv('queue.register'));

      const page = await agent.agent.get('/agent/registrera').expect(200);
      assert.match(page.text, /<input type="radio" id="f-channel-phone" name="channel" value="phone" checked autofocus>/);
      assert.match(page.text, /<input type="radio" id="f-outcome-answered" name="outcome" value="answered" checked>/);
      assert.equal((page.text.match(/autofocus/g) ?? []).length, 1, 'one element has autofocus');
      for (const o of ['forwarded', 'callback', 'case']) assert.match(page.text, new RegExp(`id="f-outcome-${o}" name="outcome" value="${o}">`));
      assert.match(page.text, /<option value="bygglov">Bygglov<\/option>/);
      assert.match(page.text, /<option value="samhallsbyggnad">/);
      const slots = t.services.callbacks.slots();
      assert.ok(slots.length > 0, 'the default opening hours offer times in the next days');
      const options = [...page.text.matchAll(/<option value="(\d{4}-[^"]+)"[^>]*>([^<]+)<\/option>/g)];
      assert.deepEqual(
        options.map((m) => m[1]),
        slots.map((s) => s.start.toISOString()),
        'every offered window, in order',
      );
      assert.equal(options[0]![2], html(formatWindow(slots[0]!.start, slots[0]!.end, 'sv')), 'named with its day and times');
      assert.match(page.text, new RegExp(`<option value="">${sv('contacts.register.slot_soonest')}</option>`));
    });

    it('answered directly: the case is resolved at once, at first contact, and the form comes back empty with a confirmation', async () => {
      const before = await counts(t);
      const res = await register(agent, contactFields(), 303);
      const reference = registered(res, 'answered');
      const c = await caseRow(t, reference);
      assert.equal(c.status, 'resolved');
      assert.equal(c.channel, 'phone');
      assert.equal(c.resolved_at_first_contact, true);
      assert.ok(c.resolved_at && c.first_response_at, 'resolved and answered now');
      assert.equal(c.assignee_id, agent.user.id);
      const events = await eventsOf(t, reference);
      assert.deepEqual(
        events.map((e) => e.type),
        ['case.created', 'assignment.changed', 'status.changed'],
      );
      assert.equal(events[0].actor_type, 'user');
      assert.equal(events[0].actor_id, agent.user.id);
      assert.equal(events[2].payload.reason, 'answered_directly');
      const after = await counts(t);
      assert.equal(after.cases, before.cases + 1);
      assert.equal(after.callbacks, before.callbacks, 'no callback');
      assert.equal(after.mail_outbox, before.mail_outbox, 'nothing is mailed');

      const done = await agent.agent.get(res.headers.location!).expect(200);
      const status = /<div class="notice" role="status" id="register-done">([\s\S]*?)<\/div>/.exec(done.text)?.[1] ?? '';
      contains(status, sv('contacts.register.done', { reference, outcome: translate('sv', 'contacts.outcome.answered') }), status);
      contains(status, `<a href="/agent/cases/${reference}">`, 'links the case');
      assert.equal(inputValue(done.text, 'f-name'), '', 'the form is empty for the next call');
      assert.match(done.text, /id="f-channel-phone" name="channel" value="phone" checked autofocus>/);

      // The case page has it, with the summary as the first entry.
      const casePage = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      contains(casePage.text, html(contactFields().summary!));
      assert.doesNotMatch(casePage.text, /id="callback-title"/, 'no callback panel on a case without a callback');
    });

    it('a visit forwarded to a department: forwarded with the summary as the handover note', async () => {
      const res = await register(agent, contactFields({ channel: 'visit', outcome: 'forwarded', department: 'samhallsbyggnad', phone: '', summary: 'Vill överklaga ett beslut om bygglov.' }), 303);
      const reference = registered(res, 'forwarded');
      const c = await caseRow(t, reference);
      const dep = await t.db('departments').where({ slug: 'samhallsbyggnad' }).first();
      assert.equal(c.channel, 'visit');
      assert.equal(c.status, 'forwarded');
      assert.equal(c.department_id, dep.id);
      const forwarded = (await eventsOf(t, reference)).find((e) => e.type === 'case.forwarded');
      assert.equal(forwarded?.payload.note, 'Vill överklaga ett beslut om bygglov.');
    });

    it('a callback at a chosen time: queued at the start of the window, for whoever is free then', async () => {
      const slot = t.services.callbacks.slots()[0]!;
      const res = await register(agent, contactFields({ outcome: 'callback', slot: slot.start.toISOString(), phone: '070-765 43 21' }), 303);
      const reference = registered(res, 'callback');
      const c = await caseRow(t, reference);
      const cb = await callbackOf(t, reference);
      assert.equal(c.status, 'new');
      assert.equal(c.assignee_id, null);
      assert.equal(new Date(c.queue_at).getTime(), slot.start.getTime());
      assert.equal(cb.status, 'pending');
      assert.equal(cb.source, 'agent');
      assert.equal(cb.phone, '0707654321', 'the number as typed, without spaces and dashes');
      assert.equal(cb.attempts, 0);
      assert.equal(cb.max_attempts, 3);
      assert.equal(new Date(cb.window_start).getTime(), slot.start.getTime());
      assert.equal(new Date(cb.window_end).getTime(), slot.end.getTime());

      // The queue row says it is a callback, in text.
      const queue = await agent.agent.get('/agent').expect(200);
      const row = new RegExp(`<tr id="case-${reference}"[\\s\\S]*?</tr>`).exec(queue.text)?.[0] ?? '';
      assert.ok(row, 'the callback is in the queue');
      assert.match(row, /data-status="new"/);
      const tag = /<span class="tag queue-tag">([^<]+)<\/span>/.exec(row)?.[1] ?? '';
      assert.ok(tag.startsWith(html(translate('sv', 'queue.callback', { n: 1, max: 3, when: '' }))), `the tag "${tag}"`);
      assert.match(tag, /kl\. \d\d:\d\d$/);
    });

    it('a callback as soon as possible: the first window from now', async () => {
      const soonestBefore = t.services.callbacks.soonest();
      const res = await register(agent, contactFields({ outcome: 'callback', slot: '' }), 303);
      const soonestAfter = t.services.callbacks.soonest();
      const cb = await callbackOf(t, registered(res, 'callback'));
      assert.ok(
        [soonestBefore.start.getTime(), soonestAfter.start.getTime()].includes(new Date(cb.window_start).getTime()),
        `the soonest window (${soonestBefore.start.toISOString()}), got ${new Date(cb.window_start).toISOString()}`,
      );
    });

    it('opened as a case: open, with the agent', async () => {
      const res = await register(agent, contactFields({ outcome: 'case', channel: 'visit' }), 303);
      const c = await caseRow(t, registered(res, 'case'));
      assert.equal(c.status, 'open');
      assert.equal(c.assignee_id, agent.user.id);
      assert.equal(c.resolved_at, null);
    });

    it('errors: 400, a summary linking each field, the values kept, and nothing written', async () => {
      const before = await counts(t);
      const res = await register(agent, contactFields({ category: '', summary: '  ', name: 'Per <Persson>', phone: '070-111 22 33', outcome: 'case' }), 400);
      const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(res.text)?.[0] ?? '';
      assert.match(summary, /role="alert"/);
      assert.match(summary, /autofocus/);
      const links = [...summary.matchAll(/<a href="#([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(links, [
        ['f-category', sv('errors.category_required')],
        ['f-summary', sv('errors.summary_required')],
      ]);
      assert.match(res.text, /<select id="f-category" name="category" aria-required="true" aria-invalid="true" aria-describedby="f-category-error">/);
      assert.match(res.text, /<textarea id="f-summary"[^>]*aria-invalid="true"/);
      assert.equal(inputValue(res.text, 'f-name'), html('Per <Persson>'), 'the name is kept (and escaped)');
      assert.equal(inputValue(res.text, 'f-phone'), '070-111 22 33');
      assert.match(res.text, /id="f-outcome-case" name="outcome" value="case" checked>/, 'the outcome is kept');
      assert.doesNotMatch(res.text, /checked autofocus/, 'focus goes to the summary, not the first field');
      assert.deepEqual(await counts(t), before);
    });

    it('errors: a callback needs a number, a forward a department, and a time must be one on offer', async () => {
      const before = await counts(t);
      const noPhone = await register(agent, contactFields({ outcome: 'callback', phone: '', summary: 'Vill bli uppringd om förskoleplats' }), 400);
      contains(noPhone.text, `<a href="#f-phone">${sv('errors.phone_required')}</a>`);
      contains(noPhone.text, 'Vill bli uppringd om förskoleplats</textarea>', 'the summary is kept');

      const noDepartment = await register(agent, contactFields({ outcome: 'forwarded', department: '' }), 400);
      contains(noDepartment.text, `<a href="#f-department">${sv('errors.department_required')}</a>`);

      const past = new Date(Date.now() - 3 * 86_400_000).toISOString();
      const badSlot = await register(agent, contactFields({ outcome: 'callback', slot: past }), 400);
      contains(badSlot.text, `<a href="#f-slot">${sv('errors.slot_unavailable')}</a>`);
      assert.match(badSlot.text, /<select id="f-slot" name="slot" aria-describedby="f-slot-hint f-slot-error" aria-invalid="true">/);

      const badChannel = await register(agent, contactFields({ channel: 'fax' }), 400);
      contains(badChannel.text, `<a href="#f-channel-phone">${sv('errors.invalid_choice')}</a>`);
      assert.deepEqual(await counts(t), before);
    });

    it('needs the CSRF token of the session, and a signed-in agent', async () => {
      const before = await counts(t);
      const res = await agent.agent.post('/agent/registrera').type('form').send(contactFields()).expect(403);
      contains(res.text, sv('errors.page.403.title'));
      await agent.agent.post('/agent/registrera').type('form').send({ _csrf: 'forged', ...contactFields() }).expect(403);
      await t.request().post('/agent/registrera').type('form').send(contactFields()).expect(401);
      const anonymous = await t.request().get('/agent/registrera').expect(303);
      assert.equal(anonymous.headers.location, `/login?next=${encodeURIComponent('/agent/registrera')}`);
      assert.deepEqual(await counts(t), before);
    });
  });

  describe('a resident books a callback (/ring-upp)', () => {
    it('the start page links to it, and the form offers the times grouped per day', async () => {
      const home = await t.request().get('/').expect(200);
      assert.match(home.text, /<a href="\/ring-upp">/);
      const page = await t.request().get('/ring-upp?amne=forskoleplats').expect(200);
      assert.match(page.text, /<input type="radio" id="topic-forskoleplats" name="category" value="forskoleplats" checked>/);
      const slots = t.services.callbacks.slots();
      const radios = [...page.text.matchAll(/<input type="radio" id="(slot-\d+)" name="slot" value="([^"]+)">/g)];
      assert.deepEqual(
        radios.map((m) => m[2]),
        slots.map((s) => s.start.toISOString()),
      );
      const days = [...page.text.matchAll(/<fieldset class="slot-day">\s*<legend>([^<]+)<\/legend>/g)].map((m) => m[1]);
      const expectedDays = [...new Set(slots.map((s) => formatWindow(s.start, s.end, 'sv').replace(/ \d\d:\d\d–\d\d:\d\d$/, '')))];
      assert.deepEqual(
        days.map((d) => d!.toLowerCase()),
        expectedDays.map((d) => html(d)),
        'one fieldset a day, the day as its legend',
      );
    });

    it('books it: 303 to the receipt, which says when we call; the case page says it too', async () => {
      const client = t.request();
      const page = await client.get('/ring-upp').expect(200);
      const slotValue = /name="slot" value="([^"]+)"/.exec(page.text)![1]!;
      const slot = t.services.callbacks.slots().find((s) => s.start.toISOString() === slotValue)!;
      const before = await counts(t);
      const res = await client
        .post('/ring-upp')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), category: 'forsorjningsstod', name: 'Ahmed Hassan', phone: '070-222 33 44', email: 'ahmed.hassan@example.com', slot: slotValue, message: 'Om ansökan i december.' })
        .expect(303);
      const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(res.headers.location ?? '')?.[1];
      assert.ok(token, `to the receipt, got ${res.headers.location}`);
      const after = await counts(t);
      assert.equal(after.cases, before.cases + 1);
      assert.equal(after.callbacks, before.callbacks + 1);
      assert.equal(after.mail_outbox, before.mail_outbox + 1, 'a confirmation to the address given');

      const c = (await t.db<CaseRow>('cases').where({ resident_token: token }).first())!;
      assert.equal(c.channel, 'phone');
      assert.equal(c.status, 'new');
      const cb = await callbackOf(t, c.reference);
      assert.equal(cb.source, 'web');
      assert.equal(new Date(cb.window_start).getTime(), slot.start.getTime());

      const confirmation = sv('callbacks.resident.pending', { phone: '070-222 33 44', window: formatWindow(slot.start, slot.end, 'sv') });
      const receipt = await client.get(res.headers.location!).expect(200);
      contains(receipt.text, sv('receipt.callback_title'));
      contains(receipt.text, confirmation, `the receipt says "${confirmation}"`);
      contains(receipt.text, c.reference);
      const casePage = await client.get(`/arende/${token}`).expect(200);
      contains(casePage.text, confirmation, 'the case page says it too');
      assert.doesNotMatch(casePage.text, /Anna Agentsson/);
      const en = await client.get(`/kvitto/${token}?lang=en`).expect(200);
      contains(en.text, html(translate('en', 'callbacks.resident.pending', { phone: '070-222 33 44', window: formatWindow(slot.start, slot.end, 'en') })));
    });

    it('a time that is not on offer: 400 with the error next to the times, the values kept, nothing written', async () => {
      const client = t.request();
      const page = await client.get('/ring-upp').expect(200);
      const before = await counts(t);
      for (const slot of [new Date(Date.now() - 86_400_000).toISOString(), '2099-01-01T08:00:00.000Z', 'i morgon', new Date(t.services.callbacks.slots()[0]!.start.getTime() + 60_000).toISOString()]) {
        const res = await client
          .post('/ring-upp')
          .type('form')
          .send({ _csrf: csrfFrom(page.text), category: 'bygglov', name: 'Sara Öberg', phone: '070-123 45 67', email: '', slot, message: 'Hej' })
          .expect(400);
        const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(res.text)?.[0] ?? '';
        const first = /name="slot" value="[^"]+"/.exec(res.text) && /<input type="radio" id="(slot-\d+)" name="slot"/.exec(res.text)![1];
        contains(summary, `<a href="#${first}">${sv('errors.slot_unavailable')}</a>`, `${slot}: ${summary}`);
        assert.match(res.text, /<p class="field-error" id="f-slot-error">/);
        assert.equal(inputValue(res.text, 'f-name'), html('Sara Öberg'));
        assert.equal(inputValue(res.text, 'f-phone'), '070-123 45 67');
        assert.match(res.text, /id="topic-bygglov" name="category" value="bygglov" checked>/);
      }
      assert.deepEqual(await counts(t), before);
    });

    it('missing answers: 400 with every error in page order', async () => {
      const client = t.request();
      const page = await client.get('/ring-upp').expect(200);
      const before = await counts(t);
      const res = await client.post('/ring-upp').type('form').send({ _csrf: csrfFrom(page.text), email: 'inte-en-adress', message: 'Ring mig' }).expect(400);
      const links = [...(/<div class="error-summary"[\s\S]*?<\/div>/.exec(res.text)?.[0] ?? '').matchAll(/<a href="#([^"]+)">/g)].map((m) => m[1]);
      assert.deepEqual(links, ['topic-bygglov', 'f-name', 'f-phone', 'f-email', /<input type="radio" id="(slot-\d+)"/.exec(res.text)![1]]);
      contains(res.text, 'Ring mig</textarea>');
      assert.equal(inputValue(res.text, 'f-email'), 'inte-en-adress');
      assert.deepEqual(await counts(t), before);
    });

    it('needs the CSRF token, and is rate limited like the contact form', async () => {
      const before = await counts(t);
      const slot = t.services.callbacks.slots()[0]!.start.toISOString();
      const fields = { category: 'bygglov', name: 'Sara Öberg', phone: '070-123 45 67', slot };
      await t.request().post('/ring-upp').type('form').send(fields).expect(403);
      assert.deepEqual(await counts(t), before);

      const limited = await startTestApp({ config: { rateLimits: { ...t.config.rateLimits, intakePerWindow: 2 } } });
      try {
        const client = limited.request();
        const page = await client.get('/ring-upp').expect(200);
        const send = () => client.post('/ring-upp').type('form').send({ _csrf: csrfFrom(page.text), ...fields });
        await send().expect(303);
        await send().expect(303);
        const res = await send().expect(429);
        contains(res.text, sv('errors.page.429.title'));
        assert.equal((await counts(limited)).callbacks, 2);
      } finally {
        await limited.close();
      }
    });
  });

  describe('the callback on the case page', () => {
    /** A resident's callback booked for the first window on offer. */
    async function booked(): Promise<string> {
      const slot = t.services.callbacks.slots()[0]!;
      const r = await t.services.callbacks.request({ category: 'forskoleplats', name: 'Lena Berg', phone: '070-555 66 77', slot: slot.start.toISOString() }, { lang: 'sv' });
      return r.reference;
    }

    async function attempt(reference: string, fields: Record<string, string>, status: number) {
      const page = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      return agent.agent.post(`/agent/cases/${reference}/callback`).type('form').send({ _csrf: csrfFrom(page.text), ...fields }).expect(status);
    }

    const panelOf = (page: string) => /<section aria-labelledby="callback-title"[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';

    it('shows the number to call, the window, the status, the attempts and the form', async () => {
      const reference = await booked();
      const cb = await callbackOf(t, reference);
      const page = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      const panel = panelOf(page.text);
      assert.ok(panel, 'a callback panel');
      contains(panel, '<a href="tel:0705556677">070-555 66 77</a>');
      contains(panel, html(formatWindow(cb.window_start, cb.window_end, 'sv')));
      contains(panel, sv('callbacks.status.pending'));
      contains(panel, sv('callbacks.panel.attempts_value', { n: 0, max: 3 }));
      contains(panel, sv('callbacks.panel.none'));
      assert.match(panel, new RegExp(`<form method="post" action="/agent/cases/${reference}/callback"`));
      for (const r of ['reached', 'no_answer', 'busy', 'wrong_number']) assert.match(panel, new RegExp(`<input type="radio" id="f-callback-result-${r}" name="result" value="${r}">`));
      assert.match(panel, /<input type="checkbox" id="f-callback-resolve" name="resolve" value="on"/);
      // The timeline tells how the callback was booked.
      const requested = translate('sv', 'timeline.callback.requested', {
        actor: translate('sv', 'timeline.actor.resident'),
        phone: '0705556677',
        window: formatWindow(cb.window_start, cb.window_end, 'sv'),
        source: translate('sv', 'callbacks.source.web'),
      });
      contains(page.text, html(requested), requested);
    });

    it('an attempt without a result: 400, the case page with the error summary, the note kept, nothing written', async () => {
      const reference = await booked();
      const before = await counts(t);
      const res = await attempt(reference, { note: 'Ringde från växeln' }, 400);
      assert.match(res.text, /<div class="error-summary" role="alert"/);
      contains(res.text, sv('agent.failed.callback'));
      contains(res.text, `<a href="#f-callback-result-reached">${sv('errors.invalid_choice')}</a>`);
      contains(res.text, 'Ringde från växeln</textarea>');
      assert.deepEqual(await counts(t), before);
      assert.equal((await callbackOf(t, reference)).attempts, 0);
    });

    it('no answer three times: back in the queue after each, then failed on the last and the case resolved', async () => {
      const reference = await booked();
      for (let n = 1; n <= 3; n++) {
        const before = Date.now();
        const res = await attempt(reference, { result: 'no_answer', note: `Försök ${n}` }, 303);
        assert.equal(res.headers.location, `/agent/cases/${reference}?klart=callback#callback-title`);
        const cb = await callbackOf(t, reference);
        const c = await caseRow(t, reference);
        assert.equal(cb.attempts, n);
        if (n < 3) {
          assert.equal(cb.status, 'pending');
          assert.equal(c.status, 'new', 'back in the queue');
          assert.equal(c.assignee_id, null, 'for whoever is free then');
          const due = new Date(cb.next_attempt_at).getTime();
          assert.ok(due >= before + t.config.callbacks.retryMinutes * 60_000 - 1000, 'after the pause');
          assert.equal(new Date(c.queue_at).getTime(), due, 'the queue goes by the next attempt');
          assert.ok(t.services.hours.isOpen(new Date(due)), 'within opening hours');
          const page = await agent.agent.get(res.headers.location!).expect(200);
          contains(page.text, sv('agent.done.callback'));
          contains(panelOf(page.text), sv('callbacks.panel.attempts_value', { n, max: 3 }), 'the callback panel');
          const queue = await agent.agent.get('/agent').expect(200);
          const row = new RegExp(`<tr id="case-${reference}"[\\s\\S]*?</tr>`).exec(queue.text)?.[0] ?? '';
          contains(row, html(translate('sv', 'queue.callback', { n: n + 1, max: 3, when: '' })), `the row counts attempt ${n + 1}: ${row}`);
        } else {
          assert.equal(cb.status, 'failed');
          assert.equal(cb.outcome, 'no_answer');
          assert.equal(c.status, 'resolved', 'the last attempt closes the question');
          assert.equal(c.assignee_id, agent.user.id);
        }
      }
      const types = (await eventsOf(t, reference)).map((e) => e.type).filter((type) => type.startsWith('callback.'));
      assert.deepEqual(types, ['callback.requested', 'callback.attempted', 'callback.attempted', 'callback.attempted', 'callback.failed']);

      const page = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      const panel = panelOf(page.text);
      contains(panel, sv('callbacks.status.failed'));
      assert.doesNotMatch(panel, /<form/, 'no more attempts');
      const attempts = [...panel.matchAll(/<li><time [^>]+>[^<]+<\/time>, ([^:]+): <strong>([^<]+)<\/strong>\. ([^<]+)<\/li>/g)].map((m) => [m[1], m[2], m[3]]);
      assert.deepEqual(attempts, [1, 2, 3].map((n) => ['Anna Agentsson', sv('callbacks.result.no_answer'), `Försök ${n}`]));
      contains(page.text, sv('timeline.callback.failed', { attempts: 3, result: translate('sv', 'callbacks.result.no_answer') }));
      contains(page.text, sv('timeline.callback.attempted', { actor: 'Anna Agentsson', result: translate('sv', 'callbacks.result.no_answer'), attempt: 3, of: 3 }));
      const retried = html(translate('sv', 'timeline.callback.attempted_next', { actor: 'Anna Agentsson', result: translate('sv', 'callbacks.result.no_answer'), attempt: 1, of: 3, next: '@@' }));
      const [head, tail] = retried.split('@@').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      assert.match(page.text, new RegExp(`${head}\\d+ [a-zé]+\\.? \\d{4} \\d\\d:\\d\\d${tail}`), 'the first attempt tells when the next is');

      // The resident's page says we could not reach them.
      const c = await caseRow(t, reference);
      const resident = await t.request().get(`/arende/${c.resident_token}`).expect(200);
      contains(resident.text, sv('callbacks.resident.failed', { phone: '070-555 66 77' }));

      // A fourth attempt is refused, with the page saying why.
      const before = await counts(t);
      const page4 = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      const res = await agent.agent.post(`/agent/cases/${reference}/callback`).type('form').send({ _csrf: csrfFrom(page4.text), result: 'no_answer' }).expect(409);
      contains(res.text, sv('errors.callback_done'));
      assert.deepEqual(await counts(t), before);
    });

    it('reached, and the question settled: completed and the case resolved', async () => {
      const reference = await booked();
      await attempt(reference, { result: 'reached', resolve: 'on', note: 'Fick svar om kön.' }, 303);
      const cb = await callbackOf(t, reference);
      const c = await caseRow(t, reference);
      assert.equal(cb.status, 'completed');
      assert.equal(c.status, 'resolved');
      assert.ok(c.first_response_at, 'reaching the resident is the first response');
      const resident = await t.request().get(`/arende/${c.resident_token}`).expect(200);
      contains(resident.text, sv('callbacks.resident.completed'));
    });

    it('needs the CSRF token; a case without a callback has no attempts to record', async () => {
      const reference = await booked();
      await agent.agent.post(`/agent/cases/${reference}/callback`).type('form').send({ result: 'reached' }).expect(403);
      assert.equal((await callbackOf(t, reference)).attempts, 0);
      const plain = await register(agent, contactFields({ outcome: 'case' }), 303);
      await attempt(registered(plain, 'case'), { result: 'reached' }, 404);
      const back = await agent.agent.get(`/agent/cases/${reference}/callback`).expect(303);
      assert.equal(back.headers.location, `/agent/cases/${reference}`);
    });
  });
});
