import { strict as assert } from 'node:assert';
import type { Role } from '../../server/auth/roles.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, waitUntil, type LiveClient } from '../support/live-client.js';

describe('live workspace: the queue', function () {
  this.timeout(30_000);
  let t: TestApp;
  let baseUrl: string;
  const clients: LiveClient[] = [];

  before(async () => {
    t = await startTestApp();
    baseUrl = await t.listen();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
  });

  async function agentSocket(role: Role = 'agent') {
    const signedIn = await t.loginAs(role);
    const client = await connectLive(baseUrl, { cookie: cookieHeader(signedIn.agent as never, baseUrl) });
    clients.push(client);
    return { ...signedIn, client };
  }

  it('pushes a new case to a subscribed dashboard as the queue row the page renders, with counts', async () => {
    const { client } = await agentSocket();
    const since = await t.services.live.cursor();
    const ack = await client.request<{ cursor: number; counts: { waiting: number } }>('subscribe', { since, queue: true });
    assert.ok(ack.ok, JSON.stringify(ack));
    const waitingBefore = ack.counts.waiting;
    const created = await t.request().post('/api/v1/cases').send(newCase({ subject: 'Live från start' })).expect(201);
    const m = await client.waitFor((x) => x.scope === 'queue' && x.reference === created.body.reference, 'the new row');
    assert.equal(m.scope, 'queue');
    if (m.scope !== 'queue') return;
    assert.equal(m.type, 'case.created');
    assert.match(m.row!.html, new RegExp(`<tr id="case-${created.body.reference}"`));
    assert.match(m.row!.html, /Live från start/);
    assert.equal(m.row!.status, 'new');
    await waitUntil(() => client.counts.some((c) => c.waiting === waitingBefore + 1), 'counts with the new case');
  });
});


describe('live workspace: the event log', function () {
  this.timeout(30_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t?.close();
  });

  it('makes event ids visible in commit order: a later writer waits and draws a higher id', async () => {
    const created = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    const caseId = created.body.id ?? (await t.db('cases').where({ reference: created.body.reference }).first('id')).id;
    const trx = await t.db.transaction();
    const [first] = await trx('case_events').insert({ case_id: caseId, type: 'note.added', actor_type: 'system', internal: true }).returning('id');
    let secondId: number | undefined;
    const second = (async () => {
      const [row] = await t.db('case_events').insert({ case_id: caseId, type: 'note.added', actor_type: 'system', internal: true }).returning('id');
      secondId = Number(row.id);
    })();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(secondId, undefined, 'the second insert waits for the first transaction');
    await trx.commit();
    await second;
    assert.ok(secondId! > Number(first.id), `${secondId} > ${first.id}`);
  });
});
