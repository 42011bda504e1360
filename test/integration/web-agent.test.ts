import { strict as assert } from 'node:assert';
import supertest from 'supertest';
import type { CaseRow } from '../../server/cases/store.js';
import type { Channel } from '../../server/cases/lifecycle.js';
import { translate } from '../../server/platform/i18n.js';
import { csrfFrom, rowCounts, startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../support/harness.js';

/**
 * The staff pages as a browser uses them: a signed-in session, forms with the
 * session's CSRF token, 303 redirects back with ?klart=…, and the events each
 * action writes.
 */

let seq = 0;
const unique = () => `${Date.now().toString(36)}${++seq}`;

/** Text as Handlebars writes it into a page. */
const html = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');

async function createCase(t: TestApp, opts: { category?: string; channel?: Channel; subject?: string; email?: string | null } = {}) {
  const email = opts.email === undefined ? `resident.${unique()}@example.com` : opts.email;
  const created = await t.services.cases.createCase(
    {
      name: 'Karin Lindqvist',
      ...(email ? { email } : { phone: '070-123 45 67' }),
      category: opts.category ?? 'bygglov',
      subject: opts.subject ?? `Fråga ${unique()}`,
      message: 'Behöver vi söka bygglov för ett attefallshus?',
    },
    { channel: opts.channel ?? 'web' },
  );
  return created;
}

async function caseRow(t: TestApp, reference: string): Promise<CaseRow> {
  const c = await t.db<CaseRow>('cases').where({ reference }).first();
  assert.ok(c, `case ${reference}`);
  return c;
}

async function eventsOf(t: TestApp, reference: string) {
  const c = await caseRow(t, reference);
  return t.db('case_events').where({ case_id: c.id }).orderBy('id');
}

/** References in the order the queue page lists them. */
const referencesIn = (page: string) => [...page.matchAll(/<tr id="case-(SC-[0-9-]+)"/g)].map((m) => m[1]!);

const unescapeHref = (s: string) => s.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');

/** Signs in an existing account through the login form. */
async function signIn(t: TestApp, email: string, password = TEST_PASSWORD): Promise<supertest.Agent> {
  const agent = supertest.agent(t.app);
  const form = await agent.get('/login').expect(200);
  await agent.post('/login').type('form').send({ email, password, _csrf: csrfFrom(form.text) }).expect(303);
  return agent;
}

describe('web agent: the queue', () => {
  let t: TestApp;
  let agent: SignedIn;
  /** Every case in the order it was created. */
  const all: { reference: string; channel: Channel; category: string }[] = [];

  before(async function () {
    this.timeout(60_000);
    t = await startTestApp();
    agent = await t.loginAs('agent');
    // 26 web cases about building permits, one phone call about preschool, one e-mail about other things.
    const plan: { channel: Channel; category: string }[] = [
      ...Array.from({ length: 13 }, () => ({ channel: 'web' as Channel, category: 'bygglov' })),
      { channel: 'phone', category: 'forskoleplats' },
      ...Array.from({ length: 13 }, () => ({ channel: 'web' as Channel, category: 'bygglov' })),
      { channel: 'email', category: 'ovrigt' },
    ];
    for (const p of plan) {
      const c = await createCase(t, { ...p, email: p.channel === 'phone' ? null : undefined });
      all.push({ reference: c.reference, ...p });
    }
  });
  after(() => t.close());

  it('lists the open cases oldest first, 25 to a page, with a working next-page link', async () => {
    const first = await agent.agent.get('/agent').expect(200);
    assert.deepEqual(referencesIn(first.text), all.slice(0, 25).map((c) => c.reference));
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text);
    assert.ok(next, 'there is a next page');
    assert.ok(first.text.includes(translate('sv', 'queue.next')));
    const second = await agent.agent.get(unescapeHref(next[1]!)).expect(200);
    assert.deepEqual(referencesIn(second.text), all.slice(25).map((c) => c.reference));
    assert.doesNotMatch(second.text, /rel="next"/, 'the last page has no next link');
    assert.match(second.text, /<a href="\/agent\?[^"]*">/, 'and a link back to the first page');
  });

  it('each row links the case and shows its subject, topic and status', async () => {
    const page = await agent.agent.get('/agent').expect(200);
    const c = await caseRow(t, all[0]!.reference);
    assert.ok(page.text.includes(`<a href="/agent/cases/${c.reference}">${c.reference}</a>`));
    assert.ok(page.text.includes(`<td>${html(c.subject)}</td>`));
    assert.ok(page.text.includes('<td>Bygglov</td>'));
    assert.match(page.text, /status--new/);
  });

  it('the filter form (status, category, channel) narrows the list and keeps its choices', async () => {
    const page = await agent.agent.get('/agent').expect(200);
    assert.match(page.text, /<form method="get" action="\/agent"/);
    for (const name of ['status', 'category', 'channel']) assert.match(page.text, new RegExp(`<select id="q-${name}" name="${name}">`));

    const phone = await agent.agent.get('/agent?status=active&category=forskoleplats&channel=phone').expect(200);
    assert.deepEqual(referencesIn(phone.text), all.filter((c) => c.channel === 'phone').map((c) => c.reference));
    assert.match(phone.text, /<option value="forskoleplats" selected>/);
    assert.match(phone.text, /<option value="phone" selected>/);
    assert.match(phone.text, /<option value="active" selected>/);

    const mail = await agent.agent.get('/agent?channel=email').expect(200);
    assert.deepEqual(referencesIn(mail.text), [all[27]!.reference]);

    const none = await agent.agent.get('/agent?category=forsorjningsstod').expect(200);
    assert.deepEqual(referencesIn(none.text), []);
    assert.ok(none.text.includes(translate('sv', 'queue.empty')));
  });

  it('the next-page link keeps the filter', async () => {
    const web = all.filter((c) => c.channel === 'web').map((c) => c.reference);
    assert.equal(web.length, 26);
    const first = await agent.agent.get('/agent?channel=web&category=bygglov').expect(200);
    assert.deepEqual(referencesIn(first.text), web.slice(0, 25));
    const next = /<a href="([^"]+)" rel="next">/.exec(first.text);
    assert.ok(next);
    const url = unescapeHref(next[1]!);
    assert.match(url, /channel=web/);
    assert.match(url, /category=bygglov/);
    const second = await agent.agent.get(url).expect(200);
    assert.deepEqual(referencesIn(second.text), web.slice(25));
  });

  it('a resolved case leaves the open queue and shows under its status', async () => {
    const ref = all[1]!.reference;
    await t.services.cases.update(ref, agent.user, { status: 'resolved' });
    const active = await agent.agent.get('/agent?channel=web').expect(200);
    assert.ok(!referencesIn(active.text).includes(ref));
    const resolved = await agent.agent.get('/agent?status=resolved').expect(200);
    assert.deepEqual(referencesIn(resolved.text), [ref]);
    const everything = await agent.agent.get('/agent?status=all&channel=web').expect(200);
    assert.ok(referencesIn(everything.text).includes(ref));
  });

  it('an invalid filter → 400 with a message, and the queue unfiltered', async () => {
    const res = await agent.agent.get('/agent?status=bogus').expect(400);
    assert.match(res.text, /class="notice notice--error" role="alert">[^<]+</);
    assert.equal(referencesIn(res.text).length, 25);
  });

  it('an anonymous visitor is sent to the login page', async () => {
    const res = await t.request().get('/agent').expect(303);
    assert.equal(res.headers.location, `/login?next=${encodeURIComponent('/agent')}`);
  });
});

describe('web agent: a case and its actions', () => {
  let t: TestApp;
  let me: SignedIn;
  let colleague: SignedIn;
  let reference: string;
  let token: string;

  before(async () => {
    t = await startTestApp();
    me = await t.loginAs('agent', 'Anna Agent');
    colleague = await t.loginAs('agent', 'Bertil Kollega');
    const c = await createCase(t, { subject: 'Attefallshus på tomten' });
    reference = c.reference;
    token = c.token;
  });
  after(() => t.close());

  const post = (action: string, body: Record<string, string>, who: SignedIn = me) =>
    who.agent.post(`/agent/cases/${reference}/${action}`).type('form').send({ _csrf: who.csrf, ...body });

  const snapshot = async () => ({ counts: await rowCounts(t.db), events: (await eventsOf(t, reference)).length, row: await caseRow(t, reference) });

  it('the case page shows the details and the timeline', async () => {
    const res = await me.agent.get(`/agent/cases/${reference}`).expect(200);
    assert.ok(res.text.includes(`<h1>${reference}: Attefallshus på tomten</h1>`));
    assert.match(res.text, /<ol class="timeline" id="timeline-list">/);
    const events = await eventsOf(t, reference);
    assert.equal(events.length, 1);
    assert.ok(res.text.includes(`id="event-${events[0]!.id}"`));
    assert.ok(res.text.includes(html(translate('sv', 'timeline.case.created', { actor: translate('sv', 'timeline.actor.resident'), channel: translate('sv', 'channel.web') }))));
    assert.ok(res.text.includes('Behöver vi söka bygglov för ett attefallshus?'));
    assert.ok(res.text.includes('Karin Lindqvist'));
    // Every form carries the session's token.
    const tokens = [...res.text.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(tokens.length >= 5);
    assert.ok(tokens.every((v) => v === me.csrf));
  });

  it('an unknown or malformed reference → 404', async () => {
    await me.agent.get('/agent/cases/SC-1999-999999').expect(404);
    await me.agent.get('/agent/cases/not-a-reference').expect(404);
  });

  it('reply: 303 back with ?klart=reply, the reply and status change written, the resident mailed', async () => {
    const before = await snapshot();
    const res = await post('reply', { body: 'Hej Karin! Ett attefallshus kräver en anmälan, inte bygglov.', status: 'waiting' }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${reference}?klart=reply#timeline`);
    const events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => e.type), ['reply.sent', 'status.changed']);
    assert.deepEqual(events[before.events + 1].payload, { from: 'new', to: 'waiting' });
    assert.equal(events[before.events].actor_id, me.user.id);
    const after = await snapshot();
    assert.equal(after.counts.messages, before.counts.messages + 1);
    assert.equal(after.counts.mail_outbox, before.counts.mail_outbox + 1);
    assert.equal(after.row.status, 'waiting');
    assert.equal(after.row.assignee_id, me.user.id, 'the first to answer gets the case');
    assert.ok(after.row.first_response_at);
    const mail = await t.db('mail_outbox').where({ case_id: after.row.id, kind: 'reply' }).first();
    assert.ok(mail, 'a reply mail is queued');
    assert.match(mail.text_body, /Ett attefallshus kräver en anmälan/);

    const page = await me.agent.get(res.headers.location!).expect(200);
    assert.ok(page.text.includes(html(translate('sv', 'agent.done.reply'))));
    assert.ok(page.text.includes('Hej Karin! Ett attefallshus kräver en anmälan, inte bygglov.'));
    const resident = await t.request().get(`/arende/${token}`).expect(200);
    assert.ok(resident.text.includes('Ett attefallshus kräver en anmälan'), 'the resident sees the answer');
  });

  it('note: an internal event the resident never sees, no mail', async () => {
    const before = await snapshot();
    const res = await post('note', { body: 'Ringde handläggaren på bygglov, de bekräftar.' }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${reference}?klart=note#timeline`);
    const events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => [e.type, e.internal]), [['note.added', true]]);
    const after = await snapshot();
    assert.equal(after.counts.messages, before.counts.messages + 1);
    assert.equal(after.counts.mail_outbox, before.counts.mail_outbox);
    assert.equal(after.row.status, before.row.status);
    const page = await me.agent.get(res.headers.location!).expect(200);
    assert.ok(page.text.includes(html(translate('sv', 'agent.done.note'))));
    assert.ok(page.text.includes('Ringde handläggaren på bygglov'));
    const resident = await t.request().get(`/arende/${token}`).expect(200);
    assert.ok(!resident.text.includes('Ringde handläggaren'), 'the note stays internal');
  });

  it('status: 303 back with ?klart=status and a status.changed event', async () => {
    const before = await snapshot();
    const res = await post('status', { status: 'open' }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${reference}?klart=status#actions`);
    const events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => [e.type, e.payload]), [['status.changed', { from: 'waiting', to: 'open' }]]);
    assert.equal((await caseRow(t, reference)).status, 'open');
    const page = await me.agent.get(res.headers.location!).expect(200);
    assert.ok(page.text.includes(html(translate('sv', 'agent.done.status'))));
  });

  it('assign: to a colleague, then "take" it back; each an assignment.changed event', async () => {
    let before = await snapshot();
    let res = await post('assign', { assigneeId: String(colleague.user.id) }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${reference}?klart=assign#actions`);
    let events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => e.type), ['assignment.changed']);
    assert.equal(events.at(-1).payload.to, colleague.user.id);
    assert.equal((await caseRow(t, reference)).assignee_id, colleague.user.id);
    const page = await me.agent.get(res.headers.location!).expect(200);
    assert.ok(page.text.includes(html(translate('sv', 'agent.done.assign'))));
    assert.match(page.text, new RegExp(`<option value="${colleague.user.id}" selected>`));

    // "Take the case" is a second submit button on the same form: send what the page says it sends.
    const take = /<button type="submit" name="([^"]+)" value="([^"]+)"[^>]*>\s*([^<]+)<\/button>/.exec(
      page.text.slice(page.text.indexOf(`action="/agent/cases/${reference}/assign"`)),
    );
    assert.ok(take, 'the assign form has a take button');
    assert.equal(take[3]!.trim(), translate('sv', 'agent.assign.take'));
    before = await snapshot();
    const fields: Record<string, string> = { [take[1]!]: take[2]! };
    if (take[1] !== 'assigneeId') fields.assigneeId = String(colleague.user.id); // the select's current value goes along
    res = await post('assign', fields).expect(303);
    events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => e.type), ['assignment.changed']);
    assert.equal(events.at(-1).payload.to, me.user.id);
    assert.equal(events.at(-1).actor_id, me.user.id);
    assert.equal((await caseRow(t, reference)).assignee_id, me.user.id);
  });

  it('assign to nobody and to an unknown user', async () => {
    await post('assign', { assigneeId: '' }).expect(303);
    assert.equal((await caseRow(t, reference)).assignee_id, null);
    const before = await snapshot();
    const res = await post('assign', { assigneeId: '999999' }).expect(400);
    assert.match(res.text, /id="f-assignee-error"/);
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
    assert.equal(after.events, before.events);
  });

  it('forward: a case.forwarded event, status forwarded, and a handover mail to the department', async () => {
    const before = await snapshot();
    const res = await post('forward', { department: 'samhallsbyggnad', note: 'Gäller bygglov för attefallshus, kan ni svara?' }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${reference}?klart=forward#actions`);
    const events = await eventsOf(t, reference);
    assert.deepEqual(events.slice(before.events).map((e) => [e.type, e.internal]), [
      ['case.forwarded', true],
      ['status.changed', false],
    ]);
    const row = await caseRow(t, reference);
    assert.equal(row.status, 'forwarded');
    assert.equal(row.forward_count, 1);
    const dep = await t.db('departments').where({ slug: 'samhallsbyggnad' }).first();
    assert.equal(row.department_id, dep.id);
    const mail = await t.db('mail_outbox').where({ case_id: row.id, kind: 'handover' }).first();
    assert.equal(mail.to_address, 'samhallsbyggnad@borlange.example');
    assert.match(mail.text_body, /Gäller bygglov för attefallshus/);
    const page = await me.agent.get(res.headers.location!).expect(200);
    assert.ok(page.text.includes(html(translate('sv', 'agent.done.forward'))));
    assert.ok(page.text.includes(dep.name));
  });

  it('a forward without a department → 400 with the field error, nothing written', async () => {
    const before = await snapshot();
    const res = await post('forward', { department: '', note: 'Till vem?' }).expect(400);
    assert.match(res.text, /id="f-department-error"/);
    assert.ok(res.text.includes('Till vem?</textarea>'), 'the note is kept');
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
    assert.equal(after.events, before.events);
  });

  it('a transition the service refuses → 409, the case page with the message, nothing written', async () => {
    await post('status', { status: 'resolved' }).expect(303);
    const before = await snapshot();
    assert.equal(before.row.status, 'resolved');
    const res = await post('status', { status: 'waiting' }).expect(409);
    assert.ok(res.text.includes(`<h1>${reference}:`), 'the case page again');
    const section = res.text.slice(res.text.indexOf('id="status-title"'));
    const alert = /<div class="notice notice--error" role="alert">([^<]+)<\/div>/.exec(section);
    assert.ok(alert, 'the status form shows why');
    const text = alert[1]!;
    const explains =
      text.includes('cannot become waiting') ||
      text.includes(html(translate('sv', 'status.waiting'))) ||
      text === html(translate('sv', 'errors.invalid_transition'));
    assert.ok(explains, `the message explains the refusal: ${text}`);
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
    assert.equal(after.events, before.events);
    assert.equal(after.row.status, 'resolved');
    assert.equal(String(after.row.updated_at), String(before.row.updated_at));
  });

  it('an empty reply → 400 with the field error on the reply form, nothing written', async () => {
    const before = await snapshot();
    const res = await post('reply', { body: '   ', status: 'open' }).expect(400);
    const section = res.text.slice(res.text.indexOf('action="/agent/cases/'));
    assert.match(section, /<p class="field-error" id="f-body-error">/);
    assert.match(section, /id="f-body"[^>]*aria-invalid="true"/);
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
    assert.equal(after.events, before.events);
  });

  it('a POST without the CSRF token, or with another session’s → 403, nothing written', async () => {
    const before = await snapshot();
    await me.agent.post(`/agent/cases/${reference}/note`).type('form').send({ body: 'Utan token' }).expect(403);
    await me.agent.post(`/agent/cases/${reference}/note`).type('form').send({ body: 'Fel token', _csrf: colleague.csrf }).expect(403);
    await me.agent.post(`/agent/cases/${reference}/status`).type('form').send({ status: 'open', _csrf: 'x'.repeat(43) }).expect(403);
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
    assert.equal(after.events, before.events);
    assert.equal(after.row.status, before.row.status);
  });

  it('an action from someone not signed in → 401, nothing written', async () => {
    const before = await snapshot();
    const anon = t.request();
    const page = await anon.get('/kontakt').expect(200);
    await anon.post(`/agent/cases/${reference}/note`).type('form').send({ body: 'Anonym', _csrf: csrfFrom(page.text) }).expect(401);
    const after = await snapshot();
    assert.deepEqual(after.counts, before.counts);
  });
});

describe('web agent: roles and administration', () => {
  let t: TestApp;
  let admin: SignedIn;
  before(async () => {
    t = await startTestApp();
    admin = await t.loginAs('admin', 'Adam Admin');
  });
  after(() => t.close());

  const adminPost = (url: string, body: Record<string, string>, who: SignedIn = admin) =>
    who.agent.post(url).type('form').send({ _csrf: who.csrf, ...body });

  const count = async (table: string, where: Record<string, unknown> = {}) =>
    Number((await t.db(table).where(where).count<{ count: string }[]>('* as count').first())?.count ?? 0);

  it('an agent cannot reach /admin/* (403) nor /agent/agents (403)', async () => {
    const agent = await t.loginAs('agent');
    for (const url of ['/admin/users', '/admin/departments', '/admin/categories', '/agent/agents']) {
      const res = await agent.agent.get(url);
      assert.equal(res.status, 403, url);
    }
    const users = await count('users');
    await adminPost('/admin/users', { name: 'Smygare', email: `smyg.${unique()}@test.example`, role: 'admin', password: 'a-long-enough-password' }, agent).expect(403);
    assert.equal(await count('users'), users, 'no user created');
    const page = await agent.agent.get('/agent').expect(200);
    assert.ok(!page.text.includes('href="/admin/users"'), 'no admin link in the menu');
    assert.ok(!page.text.includes('href="/agent/agents"'));
  });

  it('a manager can reach /agent/agents but not /admin/*', async () => {
    const manager = await t.loginAs('manager', 'Maria Chef');
    const res = await manager.agent.get('/agent/agents').expect(200);
    assert.ok(res.text.includes('Maria Chef'));
    assert.ok(res.text.includes('Adam Admin'));
    for (const url of ['/admin', '/admin/users', '/admin/departments', '/admin/categories']) {
      assert.equal((await manager.agent.get(url)).status, 403, url);
    }
    const before = { users: await count('users'), departments: await count('departments'), categories: await count('categories') };
    await adminPost('/admin/users', { name: 'Ny Chef', email: `chef.${unique()}@test.example`, role: 'admin', password: 'a-long-enough-password' }, manager).expect(403);
    await adminPost(`/admin/users/${manager.user.id}/role`, { role: 'admin' }, manager).expect(403);
    await adminPost('/admin/departments', { slug: 'chefens', name: 'Chefens' }, manager).expect(403);
    await adminPost('/admin/categories', { slug: 'chefens', name_sv: 'Chefens', name_en: 'Boss' }, manager).expect(403);
    assert.deepEqual({ users: await count('users'), departments: await count('departments'), categories: await count('categories') }, before);
    assert.equal((await t.db('users').where({ id: manager.user.id }).first()).role, 'manager');
    const page = await manager.agent.get('/agent').expect(200);
    assert.ok(page.text.includes('href="/agent/agents"'));
    assert.ok(!page.text.includes('href="/admin/users"'));
  });

  it('an admin reaches every page', async () => {
    for (const url of ['/agent', '/agent/agents', '/admin/users', '/admin/departments', '/admin/categories']) {
      await admin.agent.get(url).expect(200);
    }
  });

  describe('users', () => {
    it('creates a user through the form, who can then sign in', async () => {
      const email = `ny.${unique()}@test.example`;
      const res = await adminPost('/admin/users', { name: 'Nina Ny', email, role: 'agent', password: 'ett långt lösenord 123' }).expect(303);
      assert.equal(res.headers.location, '/admin/users?klart=1');
      const row = await t.db('users').where({ email }).first();
      assert.ok(row);
      assert.equal(row.name, 'Nina Ny');
      assert.equal(row.role, 'agent');
      assert.equal(row.active, true);
      assert.ok(!String(row.password_hash).includes('ett långt lösenord'), 'the password is hashed');
      const { memoryKiB, timeCost } = t.config.passwordHash;
      const [, algorithm, , params] = String(row.password_hash).split('$');
      assert.equal(algorithm, 'argon2id');
      assert.deepEqual(Object.fromEntries(params!.split(',').map((p) => p.split('='))), { m: String(memoryKiB), t: String(timeCost), p: '4' }, 'at the configured cost');
      const page = await admin.agent.get(res.headers.location!).expect(200);
      assert.ok(page.text.includes(html(translate('sv', 'admin.saved'))));
      assert.ok(page.text.includes('Nina Ny'));
      const nina = await signIn(t, email, 'ett långt lösenord 123');
      await nina.get('/agent').expect(200);
    });

    it('a short password → 400 with the field error, the other values kept, nothing written', async () => {
      const users = await count('users');
      const email = `kort.${unique()}@test.example`;
      const res = await adminPost('/admin/users', { name: 'Kort Lösen', email, role: 'agent', password: 'kort' }).expect(400);
      assert.equal(await count('users'), users);
      assert.ok(res.text.includes(html(translate('sv', 'errors.password_short'))));
      assert.match(res.text, /id="f-password"[^>]*aria-invalid="true"/);
      assert.ok(res.text.includes(`value="${email}"`), 'the e-mail is kept');
      assert.ok(res.text.includes('value="Kort Lösen"'));
      assert.ok(!res.text.includes('value="kort"'), 'the password is never sent back');
    });

    it('a bad e-mail → 400; an e-mail in use → 409; nothing written', async () => {
      const users = await count('users');
      const bad = await adminPost('/admin/users', { name: 'X', email: 'inte-en-adress', role: 'agent', password: 'ett långt lösenord 123' }).expect(400);
      assert.match(bad.text, /id="f-email"[^>]*aria-invalid="true"/);
      const dup = await adminPost('/admin/users', { name: 'Dubblett', email: admin.user.email, role: 'agent', password: 'ett långt lösenord 123' }).expect(409);
      assert.match(dup.text, /class="notice notice--error" role="alert">[^<]+</);
      const role = await adminPost('/admin/users', { name: 'Y', email: `y.${unique()}@test.example`, role: 'superuser', password: 'ett långt lösenord 123' }).expect(400);
      assert.match(role.text, /id="f-role-error"/);
      assert.equal(await count('users'), users);
    });

    it("changes a user's role, and the user's session has the new role at once", async () => {
      const user = await t.loginAs('agent');
      await user.agent.get('/agent/agents').expect(403);
      const res = await adminPost(`/admin/users/${user.user.id}/role`, { role: 'manager' }).expect(303);
      assert.equal(res.headers.location, '/admin/users?klart=1');
      assert.equal((await t.db('users').where({ id: user.user.id }).first()).role, 'manager');
      await user.agent.get('/agent/agents').expect(200);
      await adminPost(`/admin/users/${user.user.id}/role`, { role: 'nobody' }).expect(400);
      assert.equal((await t.db('users').where({ id: user.user.id }).first()).role, 'manager');
    });

    it('deactivates a user, whose session stops working and who cannot sign in again', async () => {
      const user = await t.loginAs('agent');
      await user.agent.get('/agent').expect(200);
      await adminPost(`/admin/users/${user.user.id}/active`, { active: 'false' }).expect(303);
      assert.equal((await t.db('users').where({ id: user.user.id }).first()).active, false);
      const res = await user.agent.get('/agent').expect(303);
      assert.match(String(res.headers.location), /^\/login\?next=/);
      await user.agent.post(`/agent/cases/SC-2026-000001/note`).type('form').send({ _csrf: user.csrf, body: 'x' }).expect(401);
      const login = supertest.agent(t.app);
      const page = await login.get('/login').expect(200);
      await login.post('/login').type('form').send({ email: user.user.email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) }).expect(401);
      // Reactivated, the account works again (with a new sign-in).
      await adminPost(`/admin/users/${user.user.id}/active`, { active: 'true' }).expect(303);
      const again = await signIn(t, user.user.email);
      await again.get('/agent').expect(200);
    });

    it('an admin cannot deactivate themselves or change their own role (409)', async () => {
      const res = await adminPost(`/admin/users/${admin.user.id}/active`, { active: 'false' }).expect(409);
      assert.match(res.text, /class="notice notice--error" role="alert">[^<]+</);
      const row = await t.db('users').where({ id: admin.user.id }).first();
      assert.equal(row.active, true);
      await adminPost(`/admin/users/${admin.user.id}/role`, { role: 'agent' }).expect(409);
      assert.equal((await t.db('users').where({ id: admin.user.id }).first()).role, 'admin');
      await admin.agent.get('/admin/users').expect(200);
    });

    it('an unknown user id → 404', async () => {
      await adminPost('/admin/users/999999/active', { active: 'false' }).expect(404);
      await adminPost('/admin/users/abc/role', { role: 'agent' }).expect(404);
    });
  });

  describe('departments and topics', () => {
    it('creates a department through the form', async () => {
      const res = await adminPost('/admin/departments', { slug: 'miljo', name: 'Miljöförvaltningen', email: 'miljo@borlange.example' }).expect(303);
      assert.equal(res.headers.location, '/admin/departments?klart=1');
      const row = await t.db('departments').where({ slug: 'miljo' }).first();
      assert.equal(row.name, 'Miljöförvaltningen');
      assert.equal(row.email, 'miljo@borlange.example');
      const page = await admin.agent.get('/admin/departments').expect(200);
      assert.ok(page.text.includes('Miljöförvaltningen'));
    });

    it('a bad short name → 400 with the field error; a taken one → 409; nothing written', async () => {
      const deps = await count('departments');
      const bad = await adminPost('/admin/departments', { slug: 'Miljö kontor!', name: 'Felaktig' }).expect(400);
      assert.match(bad.text, /id="f-slug"[^>]*aria-invalid="true"/);
      assert.match(bad.text, /<p class="field-error" id="f-slug-error">/);
      assert.ok(bad.text.includes('value="Felaktig"'), 'the name is kept');
      const noName = await adminPost('/admin/departments', { slug: 'utan-namn', name: '' }).expect(400);
      assert.match(noName.text, /id="f-name"[^>]*aria-invalid="true"/);
      const dup = await adminPost('/admin/departments', { slug: 'miljo', name: 'Dubblett' }).expect(409);
      assert.match(dup.text, /class="notice notice--error" role="alert">[^<]+</);
      assert.equal(await count('departments'), deps);
    });

    it('creates a topic tied to a department, which residents then see', async () => {
      const res = await adminPost('/admin/categories', {
        slug: 'avfall',
        name_sv: 'Avfall och återvinning',
        name_en: 'Waste and recycling',
        description_sv: 'Sophämtning och återvinningscentraler.',
        description_en: '',
        department: 'miljo',
      }).expect(303);
      assert.equal(res.headers.location, '/admin/categories?klart=1');
      const row = await t.db('categories').where({ slug: 'avfall' }).first();
      const dep = await t.db('departments').where({ slug: 'miljo' }).first();
      assert.equal(row.department_id, dep.id);
      assert.equal(row.name_en, 'Waste and recycling');
      const home = await t.request().get('/').expect(200);
      assert.ok(home.text.includes('href="/kontakt?amne=avfall"'));
      assert.ok(home.text.includes('Avfall och återvinning'));
    });

    it('a bad topic short name → 400; a taken one → 409; nothing written', async () => {
      const cats = await count('categories');
      const bad = await adminPost('/admin/categories', { slug: '-fel', name_sv: 'Fel', name_en: 'Wrong' }).expect(400);
      assert.match(bad.text, /id="f-slug"[^>]*aria-invalid="true"/);
      const missing = await adminPost('/admin/categories', { slug: 'saknas', name_sv: '', name_en: 'Missing' }).expect(400);
      assert.match(missing.text, /id="f-name_sv"[^>]*aria-invalid="true"/);
      const dup = await adminPost('/admin/categories', { slug: 'bygglov', name_sv: 'Bygglov igen', name_en: 'Again' }).expect(409);
      assert.match(dup.text, /class="notice notice--error" role="alert">[^<]+</);
      assert.equal(await count('categories'), cats);
    });

    it('admin forms need the CSRF token too', async () => {
      const deps = await count('departments');
      await admin.agent.post('/admin/departments').type('form').send({ slug: 'utan-token', name: 'Utan token' }).expect(403);
      assert.equal(await count('departments'), deps);
    });
  });
});
