import { strict as assert } from 'node:assert';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, staffSocket, waitUntil, type LiveClient } from '../support/live-client.js';

/** On a case: who else is there, what they write, and what the assignee is told. */
describe('live workspace: a case', function () {
  this.timeout(30_000);
  let t: TestApp;
  let baseUrl: string;
  const open: LiveClient[] = [];

  before(async () => {
    t = await startTestApp();
    baseUrl = await t.listen();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
  });

  async function onCase(reference: string, name: string) {
    const s = await staffSocket(t, baseUrl, 'agent', name);
    open.push(s.client);
    const ack = await s.client.request<{ viewers: { name: string }[] }>('subscribe', { since: await t.services.live.cursor(), case: reference });
    assert.ok(ack.ok, JSON.stringify(ack));
    return { ...s, ack };
  }

  const lastViewers = (c: LiveClient, ref: string) => [...c.viewers].reverse().find((v) => v.reference === ref)?.viewers ?? [];

  it('shows who else is viewing and who is writing a reply, and when they leave', async () => {
    const { reference } = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body;
    const anna = await onCase(reference, 'Anna Andersson');
    assert.deepEqual(anna.ack.viewers.map((v) => v.name), ['Anna Andersson']);
    const bo = await onCase(reference, 'Bo Berg');
    await waitUntil(() => lastViewers(anna.client, reference).length === 2, 'Anna sees Bo');
    const typing = await bo.client.request('typing', { case: reference, typing: true });
    assert.equal(typing.ok, true);
    await waitUntil(() => lastViewers(anna.client, reference).some((v) => v.name === 'Bo Berg' && v.typing), 'Anna sees Bo writing');
    await bo.client.request('typing', { case: reference, typing: false });
    await waitUntil(() => lastViewers(anna.client, reference).every((v) => !v.typing), 'Bo stopped writing');
    bo.client.close();
    await waitUntil(() => lastViewers(anna.client, reference).map((v) => v.name).join() === 'Anna Andersson', 'Bo left');
  });

  it("pushes a colleague's note and reply to the case view, rendered as the timeline renders them", async () => {
    const { reference } = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body;
    const anna = await onCase(reference, 'Anna Andersson');
    const colleague = await t.loginAs('agent', 'Cecilia Carlsson');
    await colleague.agent.post(`/api/v1/cases/${reference}/notes`).set('X-CSRF-Token', colleague.csrf).send({ body: 'Ring tillbaka efter lunch <b>nu</b>' }).expect(201);
    const note = await anna.client.waitFor((m) => m.scope === 'case' && m.type === 'note.added', 'the note');
    if (note.scope !== 'case') return;
    assert.match(note.entry ?? '', new RegExp(`<li class="note" id="event-${note.id}">`));
    assert.match(note.entry ?? '', /Ring tillbaka efter lunch &lt;b&gt;nu&lt;\/b&gt;/, 'escaped');
    assert.equal(note.actorId, colleague.user.id);
    await colleague.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', colleague.csrf).send({ body: 'Hej! Svaret är ja.' }).expect(201);
    const reply = await anna.client.waitFor((m) => m.scope === 'case' && m.type === 'reply.sent', 'the reply');
    if (reply.scope !== 'case') return;
    assert.equal(reply.kind, 'reply');
    assert.match(reply.entry ?? '', /Svaret är ja/);
    const status = await anna.client.waitFor((m) => m.scope === 'case' && m.type === 'status.changed', 'the status change');
    if (status.scope === 'case') assert.match(status.details ?? '', /Väntar på invånaren|Väntar/);
    // The page rendered now shows the same entries as the pushes.
    const page = await colleague.agent.get(`/agent/cases/${reference}`).expect(200);
    assert.ok(page.text.includes(note.entry!.trim().split('\n')[0]!), 'same markup as the page');
  });

  it("tells the assignee, and only them, that the resident replied or that a case was handed to them", async () => {
    const created = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body;
    const owner = await staffSocket(t, baseUrl, 'agent', 'Olle Ägare');
    const other = await staffSocket(t, baseUrl, 'agent', 'Pia Annan');
    open.push(owner.client, other.client);
    for (const s of [owner, other]) await s.client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    const boss = await t.loginAs('manager', 'Maria Chef');
    await boss.agent.patch(`/api/v1/cases/${created.reference}`).set('X-CSRF-Token', boss.csrf).send({ assigneeId: owner.user.id }).expect(200);
    const handed = await owner.client.waitFor((m) => m.scope === 'user' && m.type === 'assignment.changed', 'handed over');
    if (handed.scope === 'user') assert.equal(handed.notice, `Maria Chef lämnade ${created.reference} till dig`);
    const token = new URL(created.statusUrl).pathname.split('/').pop();
    const form = await t.request().get(`/arende/${token}`).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    await t.request().post(`/arende/${token}`).set('Cookie', (form.headers['set-cookie'] as unknown as string[] | undefined) ?? []).type('form').send({ message: 'Jag har ett tillägg.', _csrf: csrf }).expect(303);
    const replied = await owner.client.waitFor((m) => m.scope === 'user' && m.type === 'message.received', 'the resident replied');
    if (replied.scope === 'user') assert.equal(replied.notice, `Invånaren har svarat i ${created.reference}`);
    await t.services.live.feed.idle();
    assert.ok(!other.client.messages.some((m) => m.scope === 'user'), 'nobody else is told');
  });

  it('renders pushes in the language of the page that subscribed', async () => {
    const { reference } = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body;
    const en = await t.loginAs('agent', 'Eve English');
    const client = await connectLive(baseUrl, { cookie: cookieHeader(en.agent as never, baseUrl), auth: { lang: 'en' } });
    open.push(client);
    await client.request('subscribe', { since: await t.services.live.cursor(), case: reference });
    await en.agent.patch(`/api/v1/cases/${reference}`).set('X-CSRF-Token', en.csrf).send({ status: 'open' }).expect(200);
    const m = await client.waitFor((x) => x.scope === 'case' && x.type === 'status.changed', 'the status change');
    if (m.scope === 'case') {
      assert.match(m.details ?? '', /<dt>Status<\/dt>/);
      assert.match(m.entry ?? '', /Eve English changed the status from New to In progress/);
    }
  });

  it("refuses a reply that would cross a colleague's reply the author has not seen, and keeps the draft", async () => {
    const { reference } = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body;
    const anna = await t.loginAs('agent', 'Anna Andersson');
    const bo = await t.loginAs('agent', 'Bo Berg');
    const page = await anna.agent.get(`/agent/cases/${reference}`).expect(200);
    const seen = /name="seenEventId" value="(\d+)"/.exec(page.text)![1]!;
    // Bo answers while Anna is still writing.
    await bo.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', bo.csrf).send({ body: 'Bo svarar först.' }).expect(201);
    const before = await t.db('messages').count<{ count: string }[]>('* as count');
    const refused = await anna.agent.post(`/agent/cases/${reference}/reply`).type('form').send({ body: 'Annas utkast', seenEventId: seen, status: 'waiting', _csrf: anna.csrf }).expect(409);
    assert.match(refused.text, /Bo Berg svarade invånaren efter att du öppnade ärendet/);
    assert.match(refused.text, /Annas utkast/, 'the draft is kept');
    assert.match(refused.text, /Bo svarar först/, 'the colleague reply is on the page now');
    const api = await anna.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', anna.csrf).send({ body: 'Annas utkast', seenEventId: Number(seen) }).expect(409);
    assert.equal(api.body.error, 'colleague_replied');
    assert.deepEqual(await t.db('messages').count<{ count: string }[]>('* as count'), before, 'nothing written');
    // Having seen it (the page now carries a later position), Anna may send; her own replies never block her.
    const seenNow = /name="seenEventId" value="(\d+)"/.exec(refused.text)![1]!;
    await anna.agent.post(`/agent/cases/${reference}/reply`).type('form').send({ body: 'Annas tillägg', seenEventId: seenNow, status: 'waiting', _csrf: anna.csrf }).expect(303);
    await anna.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', anna.csrf).send({ body: 'Och ett till', seenEventId: Number(seenNow) }).expect(201);
    const bad = await anna.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', anna.csrf).send({ body: 'x', seenEventId: 'igår' }).expect(400);
    assert.deepEqual(Object.keys(bad.body.fields), ['seenEventId']);
  });
});
