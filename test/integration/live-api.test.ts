import { strict as assert } from 'node:assert';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';

/** The queue and presence as JSON, for scripts and wallboards. */
describe('live workspace: the JSON API', function () {
  this.timeout(30_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t?.close();
  });

  it('counts what is waiting per channel and topic, with the oldest waiting case', async () => {
    const a = await t.loginAs('agent');
    const before = (await a.agent.get('/api/v1/queue/counts').expect(200)).body;
    const first = (await t.request().post('/api/v1/cases').send(newCase({ category: 'forskoleplats' })).expect(201)).body;
    await t.request().post('/api/v1/cases').send(newCase({ category: 'forskoleplats' })).expect(201);
    const after = (await a.agent.get('/api/v1/queue/counts').expect(200)).body;
    assert.equal(after.waiting, before.waiting + 2);
    assert.equal(after.active, before.active + 2);
    assert.equal(after.byChannel.api ?? after.byChannel.web, (before.byChannel.api ?? before.byChannel.web ?? 0) + 2);
    const pre = after.byCategory.find((c: { slug: string }) => c.slug === 'forskoleplats');
    assert.equal(pre.count, (before.byCategory.find((c: { slug: string }) => c.slug === 'forskoleplats')?.count ?? 0) + 2);
    assert.equal(pre.name, 'Förskoleplats');
    if (before.waiting === 0) assert.equal(after.oldest.reference, first.reference);
    await a.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', a.csrf).expect(200);
    assert.equal((await a.agent.get('/api/v1/queue/counts').expect(200)).body.waiting, after.waiting - 1);
  });

  it('sets my status, refuses an unknown one, and shows statuses to managers only', async () => {
    const a = await t.loginAs('agent', 'Sara Status');
    const bad = await a.agent.put('/api/v1/me/presence').set('X-CSRF-Token', a.csrf).send({ status: 'sleeping' }).expect(400);
    assert.equal(bad.body.error, 'validation_failed');
    assert.deepEqual(Object.keys(bad.body.fields), ['status'], JSON.stringify(bad.body));
    await a.agent.put('/api/v1/me/presence').send({ status: 'busy' }).expect(403); // no CSRF token
    const ok = await a.agent.put('/api/v1/me/presence').set('X-CSRF-Token', a.csrf).send({ status: 'break' }).expect(200);
    assert.deepEqual(ok.body, { status: 'break' });
    await a.agent.get('/api/v1/presence').expect(403);
    const m = await t.loginAs('manager');
    const list = (await m.agent.get('/api/v1/presence').expect(200)).body.agents;
    const sara = list.find((x: { userId: number }) => x.userId === a.user.id);
    assert.equal(sara.status, 'break');
    assert.equal(sara.online, false);
    const history = await t.db('presence_log').where({ user_id: a.user.id }).pluck('status');
    assert.deepEqual(history, ['break']);
  });

  it('sets my status with the dashboard form, without JavaScript', async () => {
    const a = await t.loginAs('agent');
    const page = await a.agent.get('/agent').expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await a.agent.post('/agent/presence').type('form').send({ status: 'busy', _csrf: csrf }).expect(303);
    const location = String(res.headers.location);
    assert.match(location, /^\/agent\?narvaro=busy/);
    const after = await a.agent.get(location).expect(200);
    assert.match(after.text, /Din status är nu: Upptagen/);
    const bad = await a.agent.post('/agent/presence').type('form').send({ status: 'x', _csrf: csrf }).expect(303);
    assert.match(String(bad.headers.location), /statusfel=1/);
    const refused = await a.agent.get(String(bad.headers.location)).expect(200);
    assert.match(refused.text, /Välj en status i listan/);
  });

  it('describes the queue and presence endpoints in the OpenAPI document', async () => {
    const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
    assert.ok(doc.paths['/api/v1/queue/take-next'].post.responses['204']);
    assert.ok(doc.paths['/api/v1/queue/counts'].get);
    assert.deepEqual(doc.components.schemas.Presence.properties.status.enum, ['available', 'busy', 'break']);
    assert.ok(doc.paths['/api/v1/me/presence'].put);
    assert.ok(doc.paths['/api/v1/presence'].get);
  });
});
