import { strict as assert } from 'node:assert';
import { loadConfig } from '../../server/config.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, refusedHandshake, staffSocket, waitUntil, type LiveClient } from '../support/live-client.js';

/** What an attacker or a broken client can do to the live workspace, and what it gets. */
describe('live workspace: hostile clients', function () {
  this.timeout(30_000);
  let t: TestApp;
  let baseUrl: string;
  const open: LiveClient[] = [];
  const track = <T extends { client: LiveClient }>(x: T) => (open.push(x.client), x);

  before(async () => {
    const defaults = loadConfig({ NODE_ENV: 'test' }, { sessionSecret: 'unused' });
    t = await startTestApp({ config: { live: { ...defaults.live, eventsPer10s: 20 } } });
    baseUrl = await t.listen();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
  });

  /** The server still answers a well-behaved client after whatever the test did. */
  async function serverStillWorks() {
    const { client } = track(await staffSocket(t, baseUrl));
    const ack = await client.request('subscribe', { since: 0, queue: true });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    await t.request().get('/healthz').expect(200);
  }

  describe('the handshake', () => {
    it('refuses a connection with no session, token or resident link', async () => {
      const err = await refusedHandshake(baseUrl, {});
      assert.match(err.message, /unauthorized/);
    });

    it('refuses a forged or expired session cookie', async () => {
      const err = await refusedHandshake(baseUrl, { cookie: 'sc_session=forged-session-token' });
      assert.match(err.message, /unauthorized/);
    });

    it('refuses a signed-in browser on a page from another site (Origin)', async () => {
      const { cookie } = await staffSocket(t, baseUrl).then(track);
      const err = await refusedHandshake(baseUrl, { cookie, origin: 'https://evil.example' });
      assert.ok(err, 'refused');
      // The same cookie from our own origin is fine.
      const ok = await connectLive(baseUrl, { cookie, origin: baseUrl });
      ok.close();
    });

    it('refuses unknown or malformed API tokens and resident links', async () => {
      assert.match((await refusedHandshake(baseUrl, { auth: { token: 'sc_not-a-token' } })).message, /invalid or revoked API token/);
      assert.match((await refusedHandshake(baseUrl, { auth: { token: { $ne: null } } })).message, /invalid or revoked API token/);
      assert.match((await refusedHandshake(baseUrl, { auth: { residentToken: 'x'.repeat(43) } })).message, /unknown resident link/);
      assert.match((await refusedHandshake(baseUrl, { auth: { residentToken: '../../etc/passwd' } })).message, /invalid resident link/);
    });

    it('accepts an API token (a wallboard) and gives it the queue', async () => {
      const user = await t.services.auth.createUser({ email: 'wallboard@test.example', name: 'Wallboard', role: 'agent', password: 'correct horse battery staple' });
      const token = await t.services.auth.createApiToken(user.email);
      const c = await connectLive(baseUrl, { auth: { token } });
      open.push(c);
      const ack = await c.request('subscribe', { since: 0, queue: true });
      assert.equal(ack.ok, true);
    });
  });

  describe('events', () => {
    it('answers malformed events with a specific error acknowledgement', async () => {
      const { client } = track(await staffSocket(t, baseUrl));
      const cases: [string, unknown[], string, RegExp][] = [
        ['subscribe', [{ since: 'zero' }], 'invalid', /since/],
        ['subscribe', [{ since: -1 }], 'invalid', /since/],
        ['subscribe', [{ since: 0, queue: true, extra: 1 }], 'invalid', /extra|unrecognized/i],
        ['subscribe', [{ since: 0, case: "SC-2026-1' OR 1=1" }], 'invalid', /case/],
        ['subscribe', ['not an object'], 'invalid', /object/i],
        ['subscribe', [], 'invalid', /exactly one/],
        ['subscribe', [{ since: 0 }, { since: 1 }], 'invalid', /exactly one/],
        ['subscribe', [{ since: 0, case: 'SC-2026-999999' }], 'not_found', /SC-2026-999999/],
        ['typing', [{ case: 'SC-2026-000001', typing: 'yes' }], 'invalid', /typing/],
        ['typing', [{ case: 'SC-2026-000001', typing: true }], 'invalid', /Subscribe to the case/],
        ['presence', [{ status: 'asleep' }], 'invalid', /status/],
        ['no-such-event', [{}], 'unknown_event', /no-such-event/],
      ];
      for (const [event, args, error, message] of cases) {
        const ack = await client.request(event, ...args);
        assert.equal(ack.ok, false, `${event} ${JSON.stringify(args)}`);
        if (ack.ok) continue;
        assert.equal(ack.error, error, `${event} ${JSON.stringify(args)}: ${ack.message}`);
        assert.match(ack.message, message, `${event} ${JSON.stringify(args)}`);
      }
      assert.equal(client.socket.connected, true, 'still connected');
    });

    it('reports an event sent without an acknowledgement callback as a failure event', async () => {
      const { client } = track(await staffSocket(t, baseUrl));
      const failure = new Promise<{ event: string; error: string }>((resolve) => client.socket.once('failure', resolve));
      client.socket.emit('subscribe', { since: 'x' });
      const f = await failure;
      assert.equal(f.event, 'subscribe');
      assert.equal(f.error, 'invalid');
    });

    it('refuses a payload over 4 kB with too_large, and cuts a connection that sends a huge one', async () => {
      const { client } = track(await staffSocket(t, baseUrl));
      const big = await client.request('subscribe', { since: 0, queue: true, padding: 'x'.repeat(10_000) });
      assert.equal(big.ok, false);
      if (!big.ok) assert.equal(big.error, 'too_large');
      const closed = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      client.socket.emit('subscribe', { since: 0, padding: 'x'.repeat(200_000) }, () => undefined);
      assert.ok(await closed);
      await serverStillWorks();
    });

    it('rate limits a flood, then disconnects the flooder; others are unaffected', async () => {
      const { client } = track(await staffSocket(t, baseUrl));
      const { client: bystander } = track(await staffSocket(t, baseUrl));
      await bystander.request('subscribe', { since: await t.services.live.cursor(), queue: true });
      const acks = await Promise.all(Array.from({ length: 30 }, () => client.request('presence', { status: 'busy' }).catch(() => undefined)));
      const limited = acks.filter((a) => a && !a.ok && a.error === 'rate_limited').length;
      assert.ok(limited >= 5, `some refused (${limited})`);
      const closed = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      for (let i = 0; i < 200 && client.socket.connected; i++) client.socket.emit('typing', { case: 'SC-2026-000001', typing: true });
      assert.equal(await closed, 'io server disconnect');
      const created = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
      await bystander.waitFor((m) => m.reference === created.body.reference, 'the bystander still gets pushes');
    });
  });

  describe('what each connection may see', () => {
    it('gives a resident only their own case, and never an internal note', async () => {
      const created = await t.request().post('/api/v1/cases').send(newCase({ message: 'Min fråga om förskola' })).expect(201);
      const token = new URL(created.body.statusUrl).pathname.split('/').pop();
      const resident = await connectLive(baseUrl, { auth: { residentToken: token } });
      open.push(resident);
      const forbidden = await resident.request('subscribe', { since: 0, queue: true });
      assert.equal(forbidden.ok, false);
      if (!forbidden.ok) assert.equal(forbidden.error, 'forbidden');
      for (const [event, payload] of [['typing', { case: created.body.reference, typing: true }], ['presence', { status: 'busy' }]] as const) {
        const ack = await resident.request(event, payload);
        assert.equal(ack.ok, false, event);
        if (!ack.ok) assert.equal(ack.error, 'forbidden', event);
      }
      const ack = await resident.request('subscribe', { since: await t.services.live.cursor() });
      assert.equal(ack.ok, true, JSON.stringify(ack));

      const other = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
      const { agent, csrf } = await t.loginAs('agent');
      await agent.post(`/api/v1/cases/${created.body.reference}/notes`).set('X-CSRF-Token', csrf).send({ body: 'HEMLIG anteckning om invånaren' }).expect(201);
      await agent.post(`/api/v1/cases/${other.body.reference}/replies`).set('X-CSRF-Token', csrf).send({ body: 'Svar i ett annat ärende' }).expect(201);
      await agent.post(`/api/v1/cases/${created.body.reference}/replies`).set('X-CSRF-Token', csrf).send({ body: 'Här är ditt svar' }).expect(201);
      const reply = await resident.waitFor((m) => m.scope === 'resident' && m.type === 'reply.sent', 'the reply');
      if (reply.scope === 'resident') assert.match(reply.entry ?? '', /Här är ditt svar/);
      await resident.waitFor((m) => m.type === 'status.changed', 'the status change');
      await t.services.live.feed.idle();
      const all = JSON.stringify(resident.messages);
      assert.doesNotMatch(all, /HEMLIG/);
      assert.doesNotMatch(all, /Svar i ett annat ärende/);
      assert.ok(resident.messages.every((m) => m.scope === 'resident' && m.reference === created.body.reference), 'only their case');
      assert.ok(!resident.messages.some((m) => m.type === 'note.added'), 'no note event at all');
    });

    it('sends agents presence only if they are managers', async () => {
      const { client: agentClient } = track(await staffSocket(t, baseUrl, 'agent', 'Agnes Agent'));
      const { client: managerClient } = track(await staffSocket(t, baseUrl, 'manager', 'Maja Manager'));
      const seen = { agent: 0, manager: 0 };
      agentClient.socket.on('presence', () => seen.agent++);
      const lists: { agents: { name: string; status: string; online: boolean }[] }[] = [];
      managerClient.socket.on('presence', (p: (typeof lists)[number]) => {
        seen.manager++;
        lists.push(p);
      });
      await agentClient.request('subscribe', { since: 0, queue: true });
      await managerClient.request('subscribe', { since: 0, queue: true });
      const set = await agentClient.request<{ status: string }>('presence', { status: 'break' });
      assert.equal(set.ok, true);
      await waitUntil(() => lists.some((l) => l.agents.some((a) => a.name === 'Agnes Agent' && a.status === 'break' && a.online)), 'the manager sees Agnes on a break');
      assert.equal(seen.agent, 0, 'an agent gets no presence list');
    });

    it('closes the sockets of a session when it signs out', async () => {
      const { client, agent, csrf } = track(await staffSocket(t, baseUrl));
      const closed = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      await agent.post('/logout').type('form').send({ _csrf: csrf }).expect(303);
      assert.equal(await closed, 'io server disconnect');
    });
  });
});
