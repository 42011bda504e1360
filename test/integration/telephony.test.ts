import { strict as assert } from 'node:assert';
import type { Knex } from 'knex';
import supertest from 'supertest';
import { ValidationError } from '../../server/platform/errors.js';
import { telephonyOpenApi } from '../../server/telephony/openapi.js';
import { CALL_EVENT_TYPES, CALL_OUTCOMES, callEventSchema } from '../../server/telephony/schemas.js';
import { sign } from '../../server/telephony/signature.js';
import { planDay, simulateDay } from '../../server/telephony/simulator.js';
import { cliEnv, runCli } from '../support/cli.js';
import { rowCounts, startTestApp, type TestApp } from '../support/harness.js';
import { apiUser, countOf } from './helpers.js';

const SECRET = 'telephony-test-secret-0123456789-abcdefgh';
const EVENTS = '/api/v1/telephony/events';

type Json = Record<string, any>;

let n = 0;
const unique = (what: string) => `${what}-${Date.now().toString(36)}-${++n}`;
/** Event times an hour ago, a second apart per step. */
const base = Date.now() - 3600_000;
const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();

/** Every table a telephony request may write, to prove that a refused one wrote nothing. */
async function telephonyCounts(db: Knex) {
  return { ...(await rowCounts(db)), calls: await countOf(db, 'calls'), call_events: await countOf(db, 'call_events'), callbacks: await countOf(db, 'callbacks') };
}

const callRow = (db: Knex, callId: string) => db('calls').where({ call_id: callId }).first();

describe('telephony events (POST /api/v1/telephony/events)', function () {
  this.timeout(60_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ config: { telephony: { secret: SECRET, maxSkewSeconds: 300 } } });
  });
  after(() => t.close());

  /** A request signed as the platform signs it; override what the test is about. */
  function post(body: unknown, o: { secret?: string; timestamp?: number | string; raw?: string; signature?: string; headers?: Record<string, string>; client?: supertest.Agent } = {}) {
    const raw = o.raw ?? JSON.stringify(body);
    const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const req = (o.client ?? t.request())
      .post(EVENTS)
      .set('Content-Type', 'application/json')
      .set('X-Telephony-Timestamp', timestamp)
      .set('X-Telephony-Signature', o.signature ?? sign(o.secret ?? SECRET, timestamp, raw));
    for (const [k, v] of Object.entries(o.headers ?? {})) req.set(k, v);
    return req.send(raw);
  }

  const offered = (callId: string, s: number, extra: Json = {}) => ({ id: `${callId}:o`, type: 'call.offered', callId, at: at(s), caller: '070-111 22 33', queue: 'vaxel', ...extra });
  const answered = (callId: string, s: number, extra: Json = {}) => ({ id: `${callId}:a`, type: 'call.answered', callId, at: at(s), ...extra });
  const ended = (callId: string, s: number, outcome = 'completed', extra: Json = {}) => ({ id: `${callId}:e`, type: 'call.ended', callId, at: at(s), outcome, ...extra });

  describe('good events', () => {
    it('projects a call through offered, answered and ended', async () => {
      const agent = await apiUser(t, 'agent', 'Svarande Agent');
      const callId = unique('good');
      let res = await post(offered(callId, 0)).expect(200);
      assert.deepEqual(res.body, { accepted: 1, duplicates: 0, callbacks: 0 });
      let call = await callRow(t.db, callId);
      assert.equal(call.state, 'offered');
      assert.equal(call.caller, '070-111 22 33');
      assert.equal(call.caller_key, '46701112233', 'the number is matched by its key however it is written');
      assert.equal(call.queue, 'vaxel');
      assert.equal(new Date(call.offered_at).toISOString(), at(0));

      await post(answered(callId, 42, { agent: agent.user.email.toUpperCase() })).expect(200);
      call = await callRow(t.db, callId);
      assert.equal(call.state, 'answered');
      assert.equal(call.agent_id, agent.user.id, 'the agent is found by e-mail, in any case');
      assert.equal(new Date(call.answered_at).toISOString(), at(42));

      res = await post(ended(callId, 342)).expect(200);
      assert.deepEqual(res.body, { accepted: 1, duplicates: 0, callbacks: 0 });
      call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended');
      assert.equal(call.outcome, 'completed');
      assert.equal(new Date(call.ended_at).toISOString(), at(342));
      assert.equal(call.callback_id, null, 'an answered call leaves no callback');
      assert.equal(await countOf(t.db, 'call_events', { call_id: callId }), 3);
      const stored = await t.db('call_events').where({ event_id: `${callId}:a` }).first();
      assert.equal(stored.type, 'call.answered');
      assert.equal(stored.payload.agent, agent.user.email.toUpperCase(), 'the event is stored as sent');
    });

    it('takes a batch of events, numeric ids and an extension, and finds the agent by extension', async () => {
      const agent = await apiUser(t, 'agent');
      await t.services.auth.setPhoneExtension(agent.user.id, '4711');
      const callId = unique('batch');
      const res = await post({ events: [offered(callId, 0, { caller: null }), answered(callId, 10, { id: 90000 + n, extension: 4711 }), ended(callId, 70)] }).expect(200);
      assert.deepEqual(res.body, { accepted: 3, duplicates: 0, callbacks: 0 });
      const call = await callRow(t.db, callId);
      assert.equal(call.agent_id, agent.user.id);
      assert.equal(call.extension, '4711');
      assert.equal(call.caller, null, 'an anonymous caller');
      assert.equal(call.state, 'ended');
    });
  });

  describe('signatures', () => {
    it('refuses forged, wrongly keyed and unsigned requests with 401, storing nothing', async () => {
      const callId = unique('forged');
      const body = offered(callId, 0);
      const raw = JSON.stringify(body);
      const ts = Math.floor(Date.now() / 1000);
      const before = await telephonyCounts(t.db);
      const attempts: [string, supertest.Test, string][] = [
        ['a changed body', post(null, { raw: raw.replace('vaxel', 'annan'), signature: sign(SECRET, ts, raw), timestamp: ts }), 'signature_invalid'],
        ['a changed timestamp', post(null, { raw, signature: sign(SECRET, ts, raw), timestamp: ts - 1 }), 'signature_invalid'],
        ['the wrong secret', post(body, { secret: `${SECRET}x` }), 'signature_invalid'],
        ['a made-up signature', post(body, { signature: `sha256=${'ab'.repeat(32)}` }), 'signature_invalid'],
        ['a malformed signature header', post(body, { signature: 'deadbeef' }), 'signature_invalid'],
        ['a timestamp that is no number', post(body, { timestamp: 'yesterday' }), 'timestamp_invalid'],
        ['no headers', t.request().post(EVENTS).send(body), 'signature_missing'],
        ['no signature', t.request().post(EVENTS).set('X-Telephony-Timestamp', String(ts)).send(body), 'signature_missing'],
        ['no timestamp', t.request().post(EVENTS).set('X-Telephony-Signature', sign(SECRET, ts, raw)).send(body), 'signature_missing'],
      ];
      for (const [what, req, code] of attempts) {
        const res = await req;
        assert.equal(res.status, 401, what);
        assert.equal(res.body.error, code, what);
      }
      assert.deepEqual(await telephonyCounts(t.db), before);
      assert.equal(await callRow(t.db, callId), undefined);
    });

    it('is not opened by an API token or a signed-in session', async () => {
      const { auth } = await apiUser(t, 'admin');
      const s = await t.loginAs('admin');
      const body = offered(unique('session'), 0);
      const before = await telephonyCounts(t.db);
      const viaToken = await t.request().post(EVENTS).set(auth).send(body).expect(401);
      assert.equal(viaToken.body.error, 'signature_missing');
      const viaSession = await s.agent.post(EVENTS).set('X-CSRF-Token', s.csrf).send(body).expect(401);
      assert.equal(viaSession.body.error, 'signature_missing');
      const forged = await s.agent.post(EVENTS).set('X-CSRF-Token', s.csrf).set('X-Telephony-Timestamp', '1').set('X-Telephony-Signature', `sha256=${'0'.repeat(64)}`).send(body).expect(401);
      assert.equal(forged.body.error, 'signature_invalid');
      assert.deepEqual(await telephonyCounts(t.db), before);
    });

    it('refuses a replay with a stale or future timestamp, even with a good signature', async () => {
      const body = offered(unique('replay'), 0);
      const now = Math.floor(Date.now() / 1000);
      const before = await telephonyCounts(t.db);
      for (const ts of [now - 301, now - 86_400, now + 301, 0]) {
        const res = await post(body, { timestamp: ts }).expect(401);
        assert.equal(res.body.error, 'timestamp_invalid', String(ts));
        assert.match(res.body.message, /stale or future timestamp/i);
      }
      assert.deepEqual(await telephonyCounts(t.db), before);
      // Within the window it is taken, and the same request again is a harmless duplicate.
      const raw = JSON.stringify(body);
      const first = await post(null, { raw, timestamp: now - 200 }).expect(200);
      assert.equal(first.body.accepted, 1);
      const again = await post(null, { raw, timestamp: now - 200 }).expect(200);
      assert.deepEqual(again.body, { accepted: 0, duplicates: 1, callbacks: 0 });
    });

    it('answers 415 for a body that is not JSON', async () => {
      const before = await telephonyCounts(t.db);
      const res = await t.request().post(EVENTS).set('Content-Type', 'text/plain').send('call.offered').expect(415);
      assert.equal(res.body.error, 'unsupported_media_type');
      assert.deepEqual(await telephonyCounts(t.db), before);
    });
  });

  describe('duplicates and order', () => {
    it('acknowledges a repeated event id as a duplicate and changes nothing', async () => {
      const callId = unique('dup');
      await post({ events: [offered(callId, 0), answered(callId, 5)] }).expect(200);
      const before = await callRow(t.db, callId);
      const events = await countOf(t.db, 'call_events');
      // The same id with other content is still the same event: ignored.
      const res = await post({ events: [answered(callId, 99, { extension: '999' }), offered(callId, 0)] }).expect(200);
      assert.deepEqual(res.body, { accepted: 0, duplicates: 2, callbacks: 0 });
      assert.deepEqual(await callRow(t.db, callId), before, 'the call row is untouched (updated_at too)');
      assert.equal(await countOf(t.db, 'call_events'), events);
      // A repeat inside one batch counts once.
      const twice = ended(callId, 60);
      const res2 = await post({ events: [twice, twice] }).expect(200);
      assert.deepEqual(res2.body, { accepted: 1, duplicates: 1, callbacks: 0 });
    });

    it('gets the final state right when events arrive out of order', async () => {
      const agent = await apiUser(t, 'agent');
      const callId = unique('order');
      await post(ended(callId, 400)).expect(200);
      let call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended');
      assert.equal(call.answered_at, null);
      await post(answered(callId, 30, { agent: agent.user.email })).expect(200);
      call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended', 'an answered event after the end does not reopen the call');
      assert.equal(new Date(call.answered_at).toISOString(), at(30));
      assert.equal(call.agent_id, agent.user.id);
      assert.equal(call.callback_id, null);
      await post(offered(callId, 0, { caller: '+46 70 999 88 77', queue: 'bygglov' })).expect(200);
      call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended');
      assert.equal(call.outcome, 'completed');
      assert.equal(new Date(call.offered_at).toISOString(), at(0), 'the offered event sets the start, arriving last');
      assert.equal(call.caller, '+46 70 999 88 77');
      assert.equal(call.queue, 'bygglov');
      assert.equal(new Date(call.ended_at).toISOString(), at(400));

      // All at once, newest first, in one batch.
      const other = unique('order-batch');
      await post({ events: [ended(other, 90, 'completed'), answered(other, 20), offered(other, 0)] }).expect(200);
      const b = await callRow(t.db, other);
      assert.equal(b.state, 'ended');
      assert.equal(new Date(b.offered_at).toISOString(), at(0));
      assert.equal(new Date(b.answered_at).toISOString(), at(20));

      // A transfer: the call is answered again by someone else. The earlier answer is the end of the wait,
      // the later one says who has the call, whatever order they arrive in.
      const first = await apiUser(t, 'agent');
      const second = await apiUser(t, 'agent');
      const transferred = unique('transfer');
      await post({ events: [answered(transferred, 60, { id: `${transferred}:a2`, agent: second.user.email }), offered(transferred, 0)] }).expect(200);
      await post(answered(transferred, 10, { agent: first.user.email })).expect(200);
      await post({ events: [ended(transferred, 300, 'completed', { id: `${transferred}:e2` }), ended(transferred, 200, 'completed')] }).expect(200);
      const tr = await callRow(t.db, transferred);
      assert.equal(new Date(tr.answered_at).toISOString(), at(10));
      assert.equal(tr.agent_id, second.user.id);
      assert.equal(new Date(tr.ended_at).toISOString(), at(200), 'the first end counts');
    });

    it('loses no update when requests about one call come at once', async () => {
      const callId = unique('race');
      const agent = await apiUser(t, 'agent');
      await Promise.all([post(offered(callId, 0)), post(answered(callId, 10, { agent: agent.user.email })), post(ended(callId, 100))].map((r) => r.expect(200)));
      const call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended');
      assert.ok(call.offered_at && call.answered_at && call.ended_at, 'every event is in the projection');
      assert.equal(call.agent_id, agent.user.id);
      assert.equal(call.caller, '070-111 22 33');
    });
  });

  describe('bad input', () => {
    it('answers 400 with specific errors and stores nothing', async () => {
      const callId = unique('bad');
      const before = await telephonyCounts(t.db);
      const cases: [string, unknown, string, RegExp][] = [
        ['an unknown type', { ...offered(callId, 0), type: 'call.transferred' }, 'type', /one of call\.offered, call\.answered, call\.ended/],
        ['a bad outcome', { events: [offered(callId, 0), ended(callId, 9, 'hung_up')] }, 'events.1.outcome', /one of completed, abandoned, busy, no_answer/],
        ['an ended event without outcome', { id: 'x1', type: 'call.ended', callId, at: at(1) }, 'outcome', /required for call\.ended/],
        ['an outcome on an offered event', { ...offered(callId, 0), outcome: 'busy' }, 'outcome', /only/],
        ['no id', { type: 'call.offered', callId, at: at(0) }, 'id', /id is required/],
        ['a time without zone', { ...offered(callId, 0), at: '2026-11-30 09:15' }, 'at', /ISO 8601/],
        ['a caller that is no number', { ...offered(callId, 0), caller: 'Anna' }, 'caller', /phone number/],
        ['an agent that is no e-mail', { ...answered(callId, 0), agent: 'anna' }, 'agent', /e-mail/],
        ['an extension with letters', { ...answered(callId, 0), extension: '12a' }, 'extension', /digits/],
        ['too many events', { events: Array.from({ length: 101 }, (_, i) => offered(`${callId}-${i}`, i)) }, 'events', /at most 100/],
        ['no events', { events: [] }, 'events', /at least one/],
        ['a list', [offered(callId, 0)], '_', /one event object/],
        ['one good, one bad', { events: [offered(callId, 0), { ...answered(callId, 1), type: 'nope' }] }, 'events.1.type', /one of/],
      ];
      for (const [what, body, field, message] of cases) {
        const res = await post(body).expect(400);
        assert.equal(res.body.error, 'validation_failed', what);
        assert.ok(res.body.fields?.[field], `${what}: an error for ${field}, got ${JSON.stringify(res.body.fields)}`);
        assert.match(res.body.fields[field], message, what);
      }
      const malformed = await post(null, { raw: '{"id": "x", "type": ' }).expect(400);
      assert.equal(malformed.body.error, 'invalid_json');
      assert.deepEqual(await telephonyCounts(t.db), before);
    });

    it('answers 503 with a clear error when no secret is configured', async () => {
      const t2 = await startTestApp();
      try {
        const raw = JSON.stringify(offered('no-secret', 0));
        const ts = Math.floor(Date.now() / 1000);
        const res = await supertest(t2.app).post(EVENTS).set('Content-Type', 'application/json').set('X-Telephony-Timestamp', String(ts)).set('X-Telephony-Signature', sign(SECRET, ts, raw)).send(raw).expect(503);
        assert.equal(res.body.error, 'telephony_not_configured');
        assert.match(res.body.message, /TELEPHONY_SECRET/);
        assert.equal(await countOf(t2.db, 'call_events'), 0);
      } finally {
        await t2.close();
      }
    });
  });

  describe('missed calls', () => {
    it('leave one callback case, however often or concurrently the end is reported', async () => {
      const callId = unique('missed');
      await post(offered(callId, 0, { caller: '+46 70 123 98 76' })).expect(200);
      const endedTwice = [ended(callId, 95, 'abandoned'), ended(callId, 95, 'abandoned', { id: `${callId}:e2` }), ended(callId, 96, 'abandoned', { id: `${callId}:e3` })];
      const answers = await Promise.all(endedTwice.map((e) => post(e).expect(200)));
      assert.equal(answers.reduce((sum, r) => sum + r.body.callbacks, 0), 1, 'one request reports the callback it made');
      assert.equal(await countOf(t.db, 'callbacks', { call_id: callId }), 1);
      const call = await callRow(t.db, callId);
      assert.equal(call.state, 'ended');
      assert.equal(call.outcome, 'abandoned');
      const cb = await t.db('callbacks').where({ call_id: callId }).first();
      assert.equal(call.callback_id, cb.id, 'the call links its callback');
      assert.equal(cb.source, 'telephony');
      const c = await t.db('cases').where({ id: cb.case_id }).first();
      assert.equal(c.channel, 'phone');
      // Reported again later: still one.
      const later = await post(ended(callId, 95, 'abandoned', { id: `${callId}:e4` })).expect(200);
      assert.equal(later.body.callbacks, 0);
      assert.equal(await countOf(t.db, 'callbacks', { call_id: callId }), 1);
    });

    it('leave nothing for busy or unanswered calls from hidden numbers, nor for answered ones', async () => {
      const hidden = unique('hidden');
      await post({ events: [offered(hidden, 0, { caller: null }), ended(hidden, 30, 'no_answer')] }).expect(200);
      const answeredCall = unique('answered-abandoned');
      await post({ events: [offered(answeredCall, 0), answered(answeredCall, 5), ended(answeredCall, 30, 'abandoned')] }).expect(200);
      assert.equal(await countOf(t.db, 'callbacks', { call_id: hidden }), 0);
      assert.equal(await countOf(t.db, 'callbacks', { call_id: answeredCall }), 0);
      const busy = unique('busy');
      const res = await post({ events: [offered(busy, 0, { caller: '0243-123 45' }), ended(busy, 2, 'busy')] }).expect(200);
      assert.equal(res.body.callbacks, 1);
      assert.ok((await callRow(t.db, busy)).callback_id);
    });
  });

  describe('the call log', () => {
    it('lists calls newest first with wait and talk time, page by page, as a page and as JSON', async () => {
      const agent = await t.loginAs('agent', 'Loggande Agent');
      const { auth } = await apiUser(t);
      // Three calls later than anything else in this file.
      const late = (s: number) => new Date(Date.now() + 3600_000 + s * 1000).toISOString();
      const ids = [unique('log-a'), unique('log-b'), unique('log-c')];
      await post({
        events: [
          { id: `${ids[0]}:o`, type: 'call.offered', callId: ids[0], at: late(0), caller: '070-222 33 44', queue: 'vaxel' },
          { id: `${ids[0]}:a`, type: 'call.answered', callId: ids[0], at: late(45), agent: agent.user.email },
          { id: `${ids[0]}:e`, type: 'call.ended', callId: ids[0], at: late(45 + 245), outcome: 'completed' },
          { id: `${ids[1]}:o`, type: 'call.offered', callId: ids[1], at: late(100), caller: '070-222 33 55', queue: 'bygglov' },
          { id: `${ids[1]}:e`, type: 'call.ended', callId: ids[1], at: late(100 + 75), outcome: 'abandoned' },
          { id: `${ids[2]}:o`, type: 'call.offered', callId: ids[2], at: late(200), caller: null },
        ],
      }).expect(200);
      const missed = await t.db('callbacks as cb').join('cases as c', 'c.id', 'cb.case_id').where('cb.call_id', ids[1]).first('c.reference');

      const first = (await t.request().get('/api/v1/telephony/calls?limit=2').set(auth).expect(200)).body;
      assert.deepEqual(first.items.map((c: Json) => c.callId), [ids[2], ids[1]]);
      assert.ok(first.next, 'a next page');
      const [open, abandoned] = first.items as Json[];
      assert.equal(open!.state, 'offered');
      assert.equal(open!.caller, null);
      assert.equal(abandoned!.outcome, 'abandoned');
      assert.equal(abandoned!.waitSeconds, 75, 'unanswered: the wait is until the caller hung up');
      assert.equal(abandoned!.talkSeconds, null);
      assert.deepEqual(abandoned!.callback, { reference: missed.reference });
      const second = (await t.request().get(`/api/v1/telephony/calls?limit=2&cursor=${first.next}`).set(auth).expect(200)).body;
      const answeredCall = second.items[0] as Json;
      assert.equal(answeredCall.callId, ids[0]);
      assert.equal(answeredCall.waitSeconds, 45);
      assert.equal(answeredCall.talkSeconds, 245);
      assert.deepEqual(answeredCall.agent, { id: agent.user.id, name: 'Loggande Agent' });
      assert.ok(!second.items.some((c: Json) => [ids[1], ids[2]].includes(c.callId)), 'no overlap between pages');

      const bad = await t.request().get('/api/v1/telephony/calls?cursor=nonsense').set(auth).expect(400);
      assert.equal(bad.body.error, 'validation_failed');
      await t.request().get('/api/v1/telephony/calls?limit=0').set(auth).expect(400);
      await t.request().get('/api/v1/telephony/calls').expect(401);

      const page = await agent.agent.get('/agent/samtal?limit=2').expect(200);
      assert.match(page.text, /<caption>Samtal, de senaste först<\/caption>/);
      assert.match(page.text, /<th scope="col">Väntetid<\/th>/);
      assert.ok(page.text.includes('070-222 33 55'));
      assert.ok(page.text.includes(`<a href="/agent/cases/${missed.reference}">${missed.reference}</a>`), 'the callback case is linked');
      assert.ok(page.text.includes('Lade på i kön'));
      assert.ok(page.text.includes('1 min 15 s'));
      assert.ok(page.text.includes('Dolt nummer'));
      assert.ok(page.text.includes('href="/agent/samtal" aria-current="page"'), 'the staff menu links the call log');
      const next = /<a href="([^"]+)" rel="next">/.exec(page.text)?.[1]?.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
      assert.ok(next, 'a link to older calls');
      const older = await agent.agent.get(next).expect(200);
      assert.ok(older.text.includes('Loggande Agent'));
      assert.ok(older.text.includes('4 min 05 s'));
      const badPage = await agent.agent.get('/agent/samtal?cursor=nonsense').expect(400);
      assert.match(badPage.text, /role="alert"/);
      await t.request().get('/agent/samtal').expect(303);
    });
  });

  describe('extensions', () => {
    it('are set by admins on the users page: digits, one user each', async () => {
      const admin = await t.loginAs('admin');
      const a = await apiUser(t, 'agent', 'Anknuten Agent');
      const b = await apiUser(t, 'agent', 'Annan Agent');
      const set = (id: number, value: string, s = admin) =>
        s.agent.post(`/admin/users/${id}/extension`).type('form').send({ _csrf: s.csrf, user: String(id), phone_extension: value });
      await set(a.user.id, ' 5501 ').expect(303);
      assert.equal((await t.db('users').where({ id: a.user.id }).first()).phone_extension, '5501');
      const page = await admin.agent.get('/admin/users').expect(200);
      assert.match(page.text, new RegExp(`id="extension-${a.user.id}"[^>]*value="5501"`));

      const invalid = await set(b.user.id, '55-01').expect(400);
      assert.ok(invalid.text.includes('En anknytning är 1–12 siffror'));
      assert.match(invalid.text, new RegExp(`id="extension-${b.user.id}"[^>]*aria-invalid="true"`));
      const taken = await set(b.user.id, '5501').expect(400);
      assert.ok(taken.text.includes('Anknytning 5501 har redan Anknuten Agent.'));
      assert.equal((await t.db('users').where({ id: b.user.id }).first()).phone_extension, null);
      await assert.rejects(t.services.auth.setPhoneExtension(b.user.id, '5501'), ValidationError);

      // Empty clears it; then another may have it.
      await set(a.user.id, '').expect(303);
      await set(b.user.id, '5501').expect(303);
      assert.equal((await t.db('users').where({ id: a.user.id }).first()).phone_extension, null);

      const agent = await t.loginAs('agent');
      await set(a.user.id, '7777', agent).expect(403);
      const csrfless = await admin.agent.post(`/admin/users/${a.user.id}/extension`).type('form').send({ phone_extension: '7777' });
      assert.equal(csrfless.status, 403);
      assert.equal((await t.db('users').where({ id: a.user.id }).first()).phone_extension, null);
    });
  });

  describe('the OpenAPI description', () => {
    it('describes the endpoint, its signature headers and the event schema generated from the validation schema', () => {
      const doc = telephonyOpenApi() as Json;
      const post = doc.paths['/api/v1/telephony/events'].post;
      assert.deepEqual(post.parameters.map((p: Json) => `${p.in}:${p.name}`), ['header:X-Telephony-Timestamp', 'header:X-Telephony-Signature']);
      assert.deepEqual(post.security, [{ telephonySignature: [] }]);
      assert.equal(doc.securitySchemes.telephonySignature.name, 'X-Telephony-Signature');
      for (const status of ['200', '400', '401', '415', '503']) assert.ok(post.responses[status], status);
      const event = doc.schemas.CallEvent;
      assert.deepEqual(Object.keys(event.properties).sort(), Object.keys(callEventSchema.shape).sort());
      assert.deepEqual([...event.required].sort(), ['at', 'callId', 'id', 'type']);
      assert.deepEqual(event.properties.type.enum, [...CALL_EVENT_TYPES]);
      assert.deepEqual(event.properties.outcome.enum, [...CALL_OUTCOMES]);
      assert.equal(doc.schemas.CallEventBatch.properties.events.maxItems, 100);
      assert.ok(doc.paths['/api/v1/telephony/calls'].get);
      const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
      for (const r of new Set(refs)) assert.ok(doc.schemas[r] || r === 'Error', `${r} is described (Error comes from the main document)`);
    });
  });

  describe('the simulator', () => {
    it('plays a day whose summary agrees with the database', async () => {
      const url = await t.listen();
      const withExtension = await apiUser(t, 'agent');
      await t.services.auth.setPhoneExtension(withExtension.user.id, '6601');
      const byEmail = await apiUser(t, 'agent');
      // A seed whose day has duplicates and out-of-order calls in it (the plan is deterministic).
      const seed = [...Array(50).keys()].find((s) => {
        const plan = planDay({ calls: 60, seed: s, agents: [], dayStart: new Date(), runId: 'x' });
        return plan.some((c) => c.outOfOrder) && plan.some((c) => c.events.some((e) => e.duplicate)) && plan.some((c) => c.outcome === 'abandoned' && !c.anonymous);
      })!;
      const lines: string[] = [];
      const s = await simulateDay({
        url,
        secret: SECRET,
        calls: 60,
        speed: 5_000_000,
        seed,
        agents: [{ extension: '6601', email: 'ignored-when-extension@test.example' }, { email: byEmail.user.email }],
        log: (l) => lines.push(l),
      });
      assert.equal(s.failedRequests, 0, lines.join('\n'));
      assert.equal(s.calls, 60);
      assert.ok(s.duplicatesSent > 0 && s.outOfOrder > 0);
      const like = `${s.callIdPrefix}-%`;
      const calls = await t.db('calls').where('call_id', 'like', like);
      assert.equal(calls.length, s.calls);
      assert.ok(calls.every((c) => c.state === 'ended'));
      assert.equal(calls.filter((c) => c.answered_at).length, s.answered);
      assert.equal(calls.filter((c) => c.agent_id).length, s.answered, 'every answered call names a known agent');
      assert.deepEqual([...new Set(calls.filter((c) => c.agent_id).map((c) => c.agent_id))].sort(), [withExtension.user.id, byEmail.user.id].sort());
      assert.equal(calls.filter((c) => c.outcome === 'abandoned').length, s.abandoned);
      assert.equal(calls.filter((c) => c.outcome === 'busy').length, s.busy);
      assert.equal(calls.filter((c) => c.outcome === 'no_answer').length, s.noAnswer);
      assert.ok(s.abandoned > 0 && s.answered > s.abandoned);
      const missedWithNumber = calls.filter((c) => ['abandoned', 'busy', 'no_answer'].includes(c.outcome) && c.caller).length;
      assert.equal(s.callbacksCreated, missedWithNumber);
      assert.equal(await t.db('callbacks').where('call_id', 'like', like).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count)), s.callbacksCreated);
      assert.equal(calls.filter((c) => c.callback_id).length, s.callbacksCreated);
      assert.equal(s.duplicatesAcknowledged, s.duplicatesSent);
      assert.equal(s.accepted, s.events - s.duplicatesSent);
      assert.equal(await t.db('call_events').where('call_id', 'like', like).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count)), s.accepted);
      // Arrivals stay within opening hours.
      for (const c of calls) {
        const local = new Date(c.offered_at).toLocaleTimeString('sv-SE', { timeZone: 'Europe/Stockholm', hour12: false });
        assert.ok(local >= '08:00:00' && local < '16:30:00', local);
      }
    });

    it('refuses bad options: in-process with a ValidationError, on the command line with exit code 2', async () => {
      await assert.rejects(simulateDay({ url: 'http://127.0.0.1:1', secret: SECRET, calls: 'many', speed: 0, seed: 1, agents: [] }), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.deepEqual(err.fields.map((f) => f.field).sort(), ['calls', 'speed']);
        return true;
      });
      const run = (...args: string[]) => runCli(cliEnv({ dataDir: t.dataDir }), 'telephony:simulate', ...args);
      const bad = await run('--url', 'http://127.0.0.1:1', '--secret', SECRET, '--calls', 'abc');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--calls: a whole number/);
      const noSecret = await run('--url', 'http://127.0.0.1:1');
      assert.equal(noSecret.code, 2, noSecret.stderr);
      assert.match(noSecret.stderr, /--secret/);
      const unknown = await run('--url', 'http://127.0.0.1:1', '--bogus', '1');
      assert.equal(unknown.code, 2);
    });
  });
});
