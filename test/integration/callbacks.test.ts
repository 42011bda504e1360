import { strict as assert } from 'node:assert';
import { newCase, rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/** Callbacks from request to the last attempt, through the JSON API. */
describe('callbacks', function () {
  this.timeout(30_000);
  let t: TestApp;
  let agent: SignedIn;

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Ulla Uppringare');
  });
  after(async () => {
    await t?.close();
  });

  const firstSlot = () => t.services.callbacks.slots()[0]!;
  const request = (body: Record<string, unknown>) => t.request().post('/api/v1/callbacks').send(body);
  const attempt = (ref: string, body: Record<string, unknown>) =>
    agent.agent.post(`/api/v1/cases/${ref}/callback-attempts`).set('X-CSRF-Token', agent.csrf).send(body);
  const callbackOf = async (ref: string) => t.db('callbacks as cb').join('cases as c', 'c.id', 'cb.case_id').where('c.reference', ref).first('cb.*', 'c.status as case_status', 'c.queue_at', 'c.assignee_id', 'c.channel');
  const eventsOf = async (ref: string) => t.db('case_events as e').join('cases as c', 'c.id', 'e.case_id').where('c.reference', ref).orderBy('e.id').pluck('e.type');

  async function requested(extra: Record<string, unknown> = {}): Promise<string> {
    const slot = firstSlot();
    const res = await request({ name: 'Greta Gran', phone: '070-123 45 67', category: 'forsorjningsstod', slot: slot.start.toISOString(), ...extra }).expect(201);
    return res.body.reference;
  }

  it('offers windows within opening hours, in the future, on open days only', async () => {
    const res = await t.request().get('/api/v1/callbacks/slots').expect(200);
    assert.ok(res.body.slots.length > 0);
    for (const s of res.body.slots as { start: string; end: string }[]) {
      assert.ok(Date.parse(s.end) > Date.now(), 'not over');
      assert.ok(t.services.hours.isOpen(new Date(s.start)) || Date.parse(s.start) < Date.now(), `${s.start} is within opening hours`);
      assert.ok(t.services.hours.isOpen(new Date(Date.parse(s.end) - 1)), `${s.end} ends within opening hours`);
    }
  });

  it('takes a resident’s request: a phone case in the queue at the start of the window, and a confirmation mail', async () => {
    const slot = firstSlot();
    const res = await request({ name: 'Greta Gran', phone: '070-123 45 67', email: 'greta@example.com', category: 'forsorjningsstod', slot: slot.start.toISOString(), message: 'Om ansökan' }).expect(201);
    assert.match(res.body.reference, /^SC-\d{4}-\d{6}$/);
    assert.equal(res.body.window.start, slot.start.toISOString());
    assert.equal(res.body.phone, '0701234567');
    const cb = await callbackOf(res.body.reference);
    assert.equal(cb.status, 'pending');
    assert.equal(cb.source, 'web');
    assert.equal(cb.attempts, 0);
    assert.equal(cb.max_attempts, 3);
    assert.equal(cb.channel, 'phone');
    assert.equal(cb.case_status, 'new');
    assert.equal(new Date(cb.queue_at).toISOString(), slot.start.toISOString());
    assert.deepEqual(await eventsOf(res.body.reference), ['case.created', 'callback.requested']);
    const ack = await t.db('mail_outbox').where({ to_address: 'greta@example.com' }).first();
    assert.ok(ack, 'a confirmation mail');
    assert.match(ack.text_body, /Vi ringer dig på 070-123 45 67, \S+ \d+ \S+ \d\d:\d\d–\d\d:\d\d/);
  });

  it('refuses a time not on offer, a missing number or topic, with field errors and nothing written', async () => {
    const before = await rowCounts(t.db);
    const past = await request({ name: 'A', phone: '0701234567', category: 'bygglov', slot: '2020-01-01T07:00:00.000Z' }).expect(400);
    assert.deepEqual(Object.keys(past.body.fields), ['slot']);
    const offHours = new Date(firstSlot().start.getTime() + 60_000).toISOString();
    assert.deepEqual(Object.keys((await request({ name: 'A', phone: '0701234567', category: 'bygglov', slot: offHours }).expect(400)).body.fields), ['slot']);
    const missing = await request({ name: '', category: 'nope', slot: '' }).expect(400);
    assert.deepEqual(Object.keys(missing.body.fields).sort(), ['category', 'name', 'phone', 'slot']);
    const unknown = await request({ name: 'A', phone: '0701234567', category: 'nope', slot: firstSlot().start.toISOString() }).expect(400);
    assert.deepEqual(Object.keys(unknown.body.fields), ['category']);
    const mixed = await request({ name: '', phone: '0701234567', category: 'nope', slot: '2020-01-01T07:00:00.000Z' }).expect(400);
    assert.deepEqual(Object.keys(mixed.body.fields).sort(), ['category', 'name', 'slot'], 'a field error does not hide the others');
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('no answer, busy, no answer: back in the queue after the pause each time, then failed and resolved after the third', async () => {
    const ref = await requested();
    const first = await attempt(ref, { result: 'no_answer', note: 'Inget svar' }).expect(201);
    assert.equal(first.body.callback.attempts, 1);
    assert.equal(first.body.callback.status, 'pending');
    let cb = await callbackOf(ref);
    const next = new Date(cb.next_attempt_at);
    assert.ok(next.getTime() >= Date.now() + 29 * 60_000, 'not before the pause');
    assert.ok(t.services.hours.isOpen(next), 'within opening hours');
    assert.equal(cb.case_status, 'new');
    assert.equal(cb.assignee_id, null, 'back in the queue for anyone');
    assert.equal(new Date(cb.queue_at).getTime(), next.getTime());
    await attempt(ref, { result: 'busy' }).expect(201);
    const last = await attempt(ref, { result: 'no_answer' }).expect(201);
    assert.equal(last.body.callback.status, 'failed');
    assert.equal(last.body.callback.outcome, 'no_answer');
    assert.equal(last.body.case.status, 'resolved');
    cb = await callbackOf(ref);
    assert.equal(cb.attempts, 3);
    assert.ok(cb.completed_at);
    const attempts = await t.db('callback_attempts').where({ callback_id: cb.id }).orderBy('id').pluck('result');
    assert.deepEqual(attempts, ['no_answer', 'busy', 'no_answer']);
    const types = await eventsOf(ref);
    assert.equal(types.filter((x) => x === 'callback.attempted').length, 3);
    assert.ok(types.includes('callback.failed'));
    const again = await attempt(ref, { result: 'reached' }).expect(409);
    assert.equal(again.body.error, 'callback_done');
    assert.equal((await callbackOf(ref)).attempts, 3, 'nothing more written');
  });

  it('reached: the callback is done; resolved when the call settled it, else the case stays with the agent', async () => {
    const settled = await requested();
    const r1 = await attempt(settled, { result: 'reached', resolve: true }).expect(201);
    assert.equal(r1.body.callback.status, 'completed');
    assert.equal(r1.body.case.status, 'resolved');
    assert.ok(r1.body.case.firstResponseAt);
    const open = await requested();
    const r2 = await attempt(open, { result: 'reached', note: 'Behöver återkomma' }).expect(201);
    assert.equal(r2.body.callback.status, 'completed');
    assert.equal(r2.body.case.status, 'open');
    assert.equal(r2.body.case.assignee.id, agent.user.id);
  });

  it('a wrong number ends the callback at once', async () => {
    const ref = await requested();
    const r = await attempt(ref, { result: 'wrong_number' }).expect(201);
    assert.equal(r.body.callback.status, 'failed');
    assert.equal(r.body.callback.outcome, 'wrong_number');
    assert.equal(r.body.callback.attempts, 1);
  });

  it('refuses a bad attempt, and an attempt on a case with no callback', async () => {
    const ref = await requested();
    const bad = await attempt(ref, { result: 'maybe' }).expect(400);
    assert.deepEqual(Object.keys(bad.body.fields), ['result']);
    const plain = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body.reference;
    const none = await attempt(plain, { result: 'reached' }).expect(404);
    assert.match(none.body.message, /no callback/);
    assert.equal((await callbackOf(ref)).attempts, 0);
  });

  it('keeps a callback out of take-next and the waiting count until it is due', async () => {
    const sweeper = await t.loginAs('agent');
    while ((await sweeper.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', sweeper.csrf)).status === 200);
    const ref = await requested();
    await attempt(ref, { result: 'no_answer' }).expect(201); // due again in 30 minutes or more
    const counts = (await agent.agent.get('/api/v1/queue/counts').expect(200)).body;
    assert.equal(counts.waiting, 0);
    const page = await agent.agent.get('/agent').expect(200);
    const row = new RegExp(`<tr id="case-${ref}"[\\s\\S]*?</tr>`).exec(page.text)?.[0] ?? '';
    assert.match(row, /<td data-waiting-since="[^"]+">–<\/td>/, 'a callback not yet due has not started waiting');
    await sweeper.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', sweeper.csrf).expect(204);
    // When it is due, it is the next one taken.
    await t.db('cases').where({ reference: ref }).update({ queue_at: new Date(Date.now() - 1000) });
    const taken = await sweeper.agent.post('/api/v1/queue/take-next').set('X-CSRF-Token', sweeper.csrf).expect(200);
    assert.equal(taken.body.reference, ref);
  });

  it('makes one callback per missed call, however often or concurrently it is reported', async () => {
    const call = { callId: 'call-missed-1', caller: '+46 70 765 43 21', queue: 'vaxel', endedAt: new Date(), categorySlug: 'ovrigt' };
    const results = await Promise.all([1, 2, 3].map(() => t.services.callbacks.forMissedCall(call)));
    assert.equal(results.filter((r) => r?.created).length, 1);
    assert.equal(new Set(results.map((r) => r?.reference)).size, 1);
    assert.equal(await t.db('callbacks').where({ call_id: 'call-missed-1' }).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count)), 1);
    assert.equal(await t.services.callbacks.forMissedCall({ ...call, callId: 'call-anon', caller: null }), undefined, 'anonymous: nothing to call');
  });

  it('lists pending callbacks, the first due first', async () => {
    const items = (await agent.agent.get('/api/v1/callbacks').expect(200)).body.items as { nextAttemptAt: string; status: string }[];
    assert.ok(items.length > 0);
    assert.ok(items.every((i) => i.status === 'pending'));
    const times = items.map((i) => Date.parse(i.nextAttemptAt));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    await t.request().get('/api/v1/callbacks').expect(401);
  });
});
