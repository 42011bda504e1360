import { strict as assert } from 'node:assert';
import { loadConfig } from '../../server/config.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, staffSocket, type LiveClient } from '../support/live-client.js';
import type { LiveMessage } from '../../server/live/protocol.js';

/**
 * A page that loses its connection resumes from the last event id it saw and
 * gets everything it missed, in order, once. The connection is cut again and
 * again, from both ends, while cases are created and changed.
 */
describe('live workspace: reconnecting', function () {
  this.timeout(60_000);
  let t: TestApp;
  let baseUrl: string;

  before(async () => {
    // A small catch-up limit, so the reload case needs few events.
    const defaults = loadConfig({ NODE_ENV: 'test' }, { sessionSecret: 'unused' });
    t = await startTestApp({ config: { live: { ...defaults.live, maxCatchUp: 40 } } });
    baseUrl = await t.listen();
  });
  after(async () => {
    await t?.close();
  });

  /** Events that happen while the test cuts connections: new cases, notes, replies, status changes. */
  async function busyDesk(count: number): Promise<void> {
    const { agent, csrf } = await t.loginAs('agent');
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      work.push(
        (async () => {
          const c = await t.request().post('/api/v1/cases').send(newCase({ subject: `Ärende ${i}` })).expect(201);
          await agent.post(`/api/v1/cases/${c.body.reference}/notes`).set('X-CSRF-Token', csrf).send({ body: `Anteckning ${i}` }).expect(201);
          if (i % 2) await agent.post(`/api/v1/cases/${c.body.reference}/replies`).set('X-CSRF-Token', csrf).send({ body: `Svar ${i}` }).expect(201);
        })(),
      );
      if (i % 5 === 4) await Promise.all(work.splice(0));
    }
    await Promise.all(work);
  }

  it('gets every event it missed, in order and once, however often the connection drops', async () => {
    const { cookie } = await staffSocket(t, baseUrl).then((s) => (s.client.close(), s));
    const start = await t.services.live.cursor();
    let cursor = start;
    const received: LiveMessage[] = [];
    const segments: number[][] = [];
    let current: LiveClient | undefined;

    async function connect(): Promise<void> {
      const c = await connectLive(baseUrl, { cookie });
      const segment: number[] = [];
      segments.push(segment);
      c.socket.on('live', (m: LiveMessage) => {
        if (m.scope !== 'queue') return;
        received.push(m);
        segment.push(m.id);
        cursor = Math.max(cursor, m.id);
      });
      c.socket.on('cursor', (id: number) => (cursor = Math.max(cursor, id)));
      const ack = await c.request<{ cursor: number }>('subscribe', { since: cursor, queue: true });
      assert.ok(ack.ok, JSON.stringify(ack));
      cursor = Math.max(cursor, ack.cursor);
      current = c;
    }

    await connect();
    let cuts = 0;
    const desk = busyDesk(30);
    let done = false;
    void desk.finally(() => (done = true));
    while (!done) {
      await new Promise((r) => setTimeout(r, 40 + Math.random() * 80));
      // Alternate: the client drops, or the server drops every connection.
      if (cuts % 2) current!.close();
      else t.services.live.io!.local.disconnectSockets(true);
      cuts++;
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      await connect();
    }
    await desk;
    await t.services.live.feed.idle();
    // One last reconnect after everything has happened catches up on the tail.
    current!.close();
    await connect();
    current!.close();

    const expected = (await t.db('case_events').where('id', '>', start).orderBy('id').pluck('id')).map(Number);
    assert.ok(expected.length >= 60, `events happened (${expected.length})`);
    assert.ok(cuts >= 3, `the connection was cut (${cuts} times)`);
    const ids = received.map((m) => m.id);
    assert.deepEqual(ids, expected, 'every event once, in order, across all reconnects');
    for (const s of segments) for (let i = 1; i < s.length; i++) assert.ok(s[i]! > s[i - 1]!, 'in order within a connection');
  });

  it('tells a page that missed too much to reload instead of replaying it all', async () => {
    const { client } = await staffSocket(t, baseUrl);
    const before = await t.services.live.cursor();
    const max = t.config.live.maxCatchUp;
    const { agent, csrf } = await t.loginAs('agent');
    const c = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    for (let i = 0; i <= max; i++) await agent.post(`/api/v1/cases/${c.body.reference}/notes`).set('X-CSRF-Token', csrf).send({ body: `n${i}` }).expect(201);
    await t.services.live.feed.idle();
    const ack = await client.request('subscribe', { since: before, queue: true });
    assert.equal(ack.ok, false);
    if (!ack.ok) assert.equal(ack.error, 'reload');
    const fresh = await client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    assert.equal(fresh.ok, true);
    client.close();
  });
});
