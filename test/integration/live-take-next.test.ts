import { strict as assert } from 'node:assert';
import { csrfFrom, newCase, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { staffSocket } from '../support/live-client.js';

/** "Take next": the oldest waiting case, to exactly one agent, however many press at once. */
describe('live workspace: take next', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t?.close();
  });

  async function queueCases(n: number): Promise<string[]> {
    const refs: string[] = [];
    for (let i = 0; i < n; i++) refs.push((await t.request().post('/api/v1/cases').send(newCase({ subject: `Väntar ${i}` })).expect(201)).body.reference);
    return refs;
  }

  async function waitingRefs(): Promise<string[]> {
    return t.db('cases').where({ status: 'new' }).whereNull('assignee_id').orderBy(['created_at', 'id']).pluck('reference');
  }

  const takeNext = (a: SignedIn) => a.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', a.csrf);

  /** Takes whatever earlier tests left waiting. */
  async function emptyQueue(): Promise<void> {
    const sweeper = await t.loginAs('agent');
    while ((await takeNext(sweeper)).status === 200);
  }

  it('gives the oldest waiting case, assigned and opened, with the events on its timeline', async () => {
    const [first] = await queueCases(2);
    const oldest = (await waitingRefs())[0];
    const a = await t.loginAs('agent', 'Tove Tar');
    const res = await takeNext(a).expect(200);
    assert.equal(res.body.reference, oldest);
    assert.ok(first);
    assert.equal(res.body.status, 'open');
    assert.deepEqual(res.body.assignee, { id: a.user.id, name: 'Tove Tar' });
    const events = await t.db('case_events').join('cases', 'cases.id', 'case_events.case_id').where('cases.reference', oldest).orderBy('case_events.id').pluck('type');
    assert.deepEqual(events.slice(-2), ['assignment.changed', 'status.changed']);
  });

  it('never gives one case to two agents and skips none, when many press at once', async () => {
    await emptyQueue();
    const refs = await queueCases(24);
    const agents = await Promise.all(Array.from({ length: 8 }, () => t.loginAs('agent')));
    const claimed: { ref: string; agent: number }[] = [];
    await Promise.all(
      agents.map(async (a) => {
        for (;;) {
          const res = await takeNext(a);
          if (res.status === 204) return;
          assert.equal(res.status, 200, JSON.stringify(res.body));
          claimed.push({ ref: res.body.reference, agent: a.user.id });
        }
      }),
    );
    assert.equal(claimed.length, refs.length, 'every case claimed');
    assert.deepEqual([...new Set(claimed.map((c) => c.ref))].sort(), [...refs].sort(), 'each case once');
    assert.deepEqual(await waitingRefs(), [], 'none left waiting');
    const rows = await t.db('cases').whereIn('reference', refs).select('reference', 'assignee_id', 'status');
    for (const r of rows) {
      assert.equal(r.status, 'open');
      assert.equal(r.assignee_id, claimed.find((c) => c.ref === r.reference)!.agent, `${r.reference} belongs to who got it`);
    }
    const takes = await t.db('case_events').whereRaw("payload->>'via' = 'take_next'").join('cases', 'cases.id', 'case_events.case_id').whereIn('cases.reference', refs).count<{ count: string }[]>('* as count');
    assert.equal(Number(takes[0]!.count), refs.length, 'one take event per case');
  });

  it('lets as many agents as there are cases get one when more press at once', async () => {
    await emptyQueue();
    const refs = await queueCases(3);
    const agents = await Promise.all(Array.from({ length: 7 }, () => t.loginAs('agent')));
    const answers = await Promise.all(agents.map((a) => takeNext(a)));
    assert.equal(answers.filter((r) => r.status === 200).length, 3);
    assert.equal(answers.filter((r) => r.status === 204).length, 4);
    assert.deepEqual(answers.filter((r) => r.status === 200).map((r) => r.body.reference).sort(), [...refs].sort());
  });

  it('works as a form on the dashboard: to the case taken, or back with a note that nothing waits', async () => {
    await emptyQueue();
    const [ref] = await queueCases(1);
    const a = await t.loginAs('agent');
    const page = await a.agent.get('/agent').expect(200);
    assert.match(page.text, /action="\/agent\/take-next"/);
    const res = await a.agent.post('/agent/take-next').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    assert.equal(res.headers.location, `/agent/cases/${ref}?klart=taken`);
    const empty = await a.agent.post('/agent/take-next').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    assert.equal(empty.headers.location, '/agent?tomt=1');
    const back = await a.agent.get('/agent?tomt=1').expect(200);
    assert.match(back.text, /Inga ärenden väntar just nu/);
    // Without the CSRF token nothing is taken.
    await queueCases(1);
    await a.agent.post('/agent/take-next').type('form').send({}).expect(403);
    assert.equal((await waitingRefs()).length, 1);
  });

  it('shows colleagues live that the case was taken, and by whom', async () => {
    await emptyQueue();
    const baseUrl = await t.listen();
    const watcher = await staffSocket(t, baseUrl);
    await watcher.client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    const [ref] = await queueCases(1);
    const taker = await t.loginAs('agent', 'Karin Kvick');
    await takeNext(taker).expect(200);
    const m = await watcher.client.waitFor((x) => x.scope === 'queue' && x.reference === ref && x.type === 'status.changed', 'the taken row');
    if (m.scope === 'queue') {
      assert.equal(m.row?.status, 'open');
      assert.equal(m.row?.assigneeId, taker.user.id);
      assert.match(m.row?.html ?? '', /Karin Kvick/);
    }
    watcher.client.close();
  });
});
