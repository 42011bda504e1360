import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { loadConfig } from '../../server/config.js';
import type { Services } from '../../server/services.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, staffSocket, waitUntil, type LiveClient } from '../support/live-client.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Two instances of the service on one database and one Redis, as behind a
 * load balancer: what is committed on one reaches pages connected to the
 * other, and take-next across both never gives a case twice.
 */
describe('live workspace: two instances sharing Redis', function () {
  this.timeout(60_000);
  let t: TestApp;
  let a: string;
  let b: { services: Services; baseUrl: string; close(): Promise<void> };
  const open: LiveClient[] = [];

  before(async () => {
    const defaults = loadConfig({ NODE_ENV: 'test' }, { sessionSecret: 'unused' });
    // A slow fallback poll: only the Redis wake-up can deliver within the test's waits.
    const live = { ...defaults.live, redisUrl: REDIS_URL, redisChannel: `sc-test-${randomBytes(6).toString('hex')}`, pollMs: 600_000 };
    t = await startTestApp({ config: { live } });
    a = await t.listen();
    b = await t.secondInstance({ live });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await b?.close();
    await t?.close();
  });

  it('delivers an event committed on instance A to a dashboard connected to instance B', async () => {
    const signedIn = await t.loginAs('agent');
    const onB = await connectLive(b.baseUrl, { cookie: cookieHeader(signedIn.agent as never, a) });
    open.push(onB);
    const ack = await onB.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    assert.ok(ack.ok, JSON.stringify(ack));
    const created = await supertest(a).post('/api/v1/cases').send(newCase({ subject: 'Via instans A' })).expect(201);
    const m = await onB.waitFor((x) => x.scope === 'queue' && x.reference === created.body.reference, 'the case on B', 8000);
    if (m.scope === 'queue') assert.match(m.row?.html ?? '', /Via instans A/);
    await waitUntil(() => onB.counts.length > 0, 'counts on B');
  });

  it('shows viewers and presence across instances', async () => {
    const { reference } = (await supertest(a).post('/api/v1/cases').send(newCase()).expect(201)).body;
    const onA = await staffSocket(t, a, 'agent', 'Alva på A');
    const manager = await t.loginAs('manager', 'Moa på B');
    const onB = await connectLive(b.baseUrl, { cookie: cookieHeader(manager.agent as never, a) });
    open.push(onA.client, onB);
    const presence: { agents: { name: string; online: boolean; status: string }[] }[] = [];
    onB.socket.on('presence', (p: (typeof presence)[number]) => presence.push(p));
    await onA.client.request('subscribe', { since: await t.services.live.cursor(), case: reference });
    const ack = await onB.request<{ viewers: { name: string }[] }>('subscribe', { since: await t.services.live.cursor(), case: reference });
    assert.ok(ack.ok);
    assert.deepEqual(ack.viewers.map((v) => v.name).sort(), ['Alva på A', 'Moa på B']);
    await onA.client.request('typing', { case: reference, typing: true });
    await waitUntil(() => onB.viewers.some((v) => v.viewers.some((x) => x.name === 'Alva på A' && x.typing)), 'B sees A typing');
    await onA.client.request('presence', { status: 'busy' });
    await waitUntil(() => presence.some((p) => p.agents.some((x) => x.name === 'Alva på A' && x.online && x.status === 'busy')), 'the manager on B sees Alva busy and online on A');
  });

  it('never gives a case twice when agents on both instances take next at once', async () => {
    const sweeper = await t.loginAs('agent');
    while ((await sweeper.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', sweeper.csrf)).status === 200);
    const refs: string[] = [];
    for (let i = 0; i < 20; i++) refs.push((await supertest(i % 2 ? a : b.baseUrl).post('/api/v1/cases').send(newCase()).expect(201)).body.reference);
    const tokens = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const email = `taker${i}.${randomBytes(3).toString('hex')}@test.example`;
        await t.services.auth.createUser({ email, name: `Tagare ${i}`, role: 'agent', password: 'correct horse battery staple' });
        return { token: await t.services.auth.createApiToken(email), base: i % 2 ? a : b.baseUrl };
      }),
    );
    const claimed: string[] = [];
    await Promise.all(
      tokens.map(async ({ token, base }) => {
        for (;;) {
          const res = await supertest(base).post('/api/v1/queue/take-next').set('Authorization', `Bearer ${token}`);
          if (res.status === 204) return;
          assert.equal(res.status, 200);
          claimed.push(res.body.reference);
        }
      }),
    );
    assert.equal(claimed.length, refs.length);
    assert.deepEqual([...new Set(claimed)].sort(), [...refs].sort());
  });
});
