import { strict as assert } from 'node:assert';
import { rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/** Quick registration of calls and visits, through the JSON API (the page uses the same service). */
describe('quick registration of calls and visits', function () {
  this.timeout(30_000);
  let t: TestApp;
  let agent: SignedIn;

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Vera Växel');
  });
  after(async () => {
    await t?.close();
  });

  const register = (body: Record<string, unknown>) => agent.agent.post('/api/v1/contacts').set('X-CSRF-Token', agent.csrf).send(body);
  const caseOf = (ref: string) => t.db('cases').where({ reference: ref }).first();

  it('answered directly: resolved at once, at first contact, by the agent', async () => {
    const res = await register({ channel: 'phone', category: 'forskoleplats', summary: 'Frågade om kötid till förskola', outcome: 'answered' }).expect(201);
    assert.equal(res.body.outcome, 'answered');
    assert.equal(res.body.status, 'resolved');
    const c = await caseOf(res.body.reference);
    assert.equal(c.channel, 'phone');
    assert.equal(c.status, 'resolved');
    assert.equal(c.resolved_at_first_contact, true);
    assert.ok(c.first_response_at && c.resolved_at);
    assert.equal(c.assignee_id, agent.user.id);
    const events = await t.db('case_events').where({ case_id: c.id }).orderBy('id').select('type', 'actor_type', 'actor_id', 'payload');
    assert.deepEqual(events.map((e) => e.type), ['case.created', 'assignment.changed', 'status.changed']);
    assert.equal(events[0].actor_type, 'user');
    assert.equal(events[0].actor_id, agent.user.id);
    assert.equal(events[2].payload.reason, 'answered_directly');
  });

  it('a visit forwarded to a department: forwarded, with the summary as the handover note', async () => {
    const dept = await t.db('departments').where({ active: true }).first();
    const res = await register({ channel: 'visit', category: 'bygglov', summary: 'Vill prata med en bygglovshandläggare om en altan', name: 'Sven Svensson', phone: '070-111 22 33', outcome: 'forwarded', department: dept.slug }).expect(201);
    const c = await caseOf(res.body.reference);
    assert.equal(c.channel, 'visit');
    assert.equal(c.status, 'forwarded');
    assert.equal(c.department_id, dept.id);
    const fwd = await t.db('case_events').where({ case_id: c.id, type: 'case.forwarded' }).first();
    assert.equal(fwd.payload.note, 'Vill prata med en bygglovshandläggare om en altan');
    if (dept.email) assert.ok(await t.db('mail_outbox').where({ case_id: c.id, kind: 'handover' }).first(), 'the department is mailed');
  });

  it('callback: a phone case queued for the chosen window, or as soon as we are open', async () => {
    const slot = t.services.callbacks.slots()[1] ?? t.services.callbacks.slots()[0]!;
    const chosen = await register({ channel: 'phone', category: 'forsorjningsstod', summary: 'Vill bli uppringd om ansökan', phone: '+46 70 222 33 44', outcome: 'callback', slot: slot.start.toISOString() }).expect(201);
    const c = await caseOf(chosen.body.reference);
    assert.equal(c.status, 'new');
    assert.equal(c.assignee_id, null);
    assert.equal(new Date(c.queue_at).toISOString(), slot.start.toISOString());
    const cb = await t.db('callbacks').where({ case_id: c.id }).first();
    assert.equal(cb.source, 'agent');
    assert.equal(cb.phone, '+46702223344');
    const asap = await register({ channel: 'phone', category: 'forsorjningsstod', summary: 'Ring mig', phone: '0702223344', outcome: 'callback' }).expect(201);
    const c2 = await caseOf(asap.body.reference);
    assert.ok(t.services.hours.isOpen(new Date(c2.queue_at)) || new Date(c2.queue_at) <= new Date(), 'queued when we are open');
    // The same number written two ways is one resident.
    assert.equal(c2.resident_id, c.resident_id);
  });

  it('opened as a case: open, with the agent', async () => {
    const res = await register({ channel: 'phone', category: 'ovrigt', summary: 'Klagomål på snöröjning, behöver utredas', name: 'Karl', outcome: 'case' }).expect(201);
    const c = await caseOf(res.body.reference);
    assert.equal(c.status, 'open');
    assert.equal(c.assignee_id, agent.user.id);
    assert.equal(c.resolved_at_first_contact, null);
  });

  it('reports every problem at once and writes nothing', async () => {
    const before = await rowCounts(t.db);
    const all = await register({ channel: 'fax', summary: '  ', outcome: 'maybe' }).expect(400);
    assert.deepEqual(Object.keys(all.body.fields).sort(), ['category', 'channel', 'outcome', 'summary']);
    const fwd = await register({ channel: 'phone', category: 'bygglov', summary: 'x', outcome: 'forwarded' }).expect(400);
    assert.deepEqual(Object.keys(fwd.body.fields), ['department']);
    const unknownDept = await register({ channel: 'phone', category: 'bygglov', summary: 'x', outcome: 'forwarded', department: 'no-such-dept' }).expect(400);
    assert.match(unknownDept.body.fields.department, /no-such-dept/);
    const cb = await register({ channel: 'phone', category: 'nope', summary: 'x', outcome: 'callback', slot: '2020-01-01T08:00:00Z' }).expect(400);
    assert.deepEqual(Object.keys(cb.body.fields).sort(), ['category', 'phone', 'slot']);
    const mixed = await register({ channel: 'phone', category: 'bygglov', summary: '', outcome: 'callback', slot: 'igår' }).expect(400);
    assert.deepEqual(Object.keys(mixed.body.fields).sort(), ['phone', 'slot', 'summary'], 'a field error does not hide the others');
    const badPhone = await register({ channel: 'phone', category: 'bygglov', summary: 'x', outcome: 'answered', phone: 'ring mig' }).expect(400);
    assert.deepEqual(Object.keys(badPhone.body.fields), ['phone']);
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('needs a signed-in agent and the CSRF token', async () => {
    await t.request().post('/api/v1/contacts').send({ channel: 'phone', category: 'bygglov', summary: 'x', outcome: 'answered' }).expect(401);
    await agent.agent.post('/api/v1/contacts').send({ channel: 'phone', category: 'bygglov', summary: 'x', outcome: 'answered' }).expect(403);
  });

  it('is described in the OpenAPI document, with the callback endpoints', async () => {
    const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
    assert.deepEqual(doc.components.schemas.Contact.properties.outcome.enum, ['answered', 'forwarded', 'callback', 'case']);
    assert.deepEqual(doc.components.schemas.CallbackAttempt.properties.result.enum, ['reached', 'no_answer', 'busy', 'wrong_number']);
    for (const p of ['/api/v1/contacts', '/api/v1/callbacks', '/api/v1/callbacks/slots', '/api/v1/cases/{reference}/callback-attempts', '/api/v1/telephony/events', '/api/v1/faq/search']) assert.ok(doc.paths[p], p);
    assert.ok(doc.components.schemas.CallEvent, 'the telephony event schema');
    assert.ok(doc.components.securitySchemes.telephonySignature, 'the signature scheme');
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
    for (const r of new Set(refs)) assert.ok(doc.components.schemas[r], `$ref ${r} resolves`);
  });
});
