import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { pino } from 'pino';
import supertest from 'supertest';
import { createApp, routeTable } from '../../server/app.js';
import type { BoardView, LiveBoardSnapshot } from '../../server/live/protocol.js';
import { createServices } from '../../server/services.js';
import { describeBoard, localDay } from '../../server/stats/live-board.js';
import { createLiveBoardStore } from '../../server/stats/live-board-store.js';
import { liveBoardSchema } from '../../server/stats/live-openapi.js';
import { cliEnv, runCli } from '../support/cli.js';
import { databaseKind } from '../support/database.js';
import { newCase, rowCounts, startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../support/harness.js';
import { connectLive, refusedHandshake, staffSocket, waitUntil, type LiveClient } from '../support/live-client.js';

const TZ = 'Europe/Stockholm';
const MIN = 60_000;

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${++seq}${randomBytes(2).toString('hex')}`;

/** A case row as the test wants it (the board reads rows; how they came to be does not matter here). */
async function insertCase(
  db: Knex,
  c: { channel: string; category?: string; status?: string; createdAt: Date; queueAt?: Date; assigneeId?: number | null; firstContact?: boolean | null },
): Promise<{ id: number; reference: string }> {
  const [resident] = await db('residents').insert({ name: 'Testa Testsson', phone: '0701234567' }).returning('id');
  const cat = await db('categories').where({ slug: c.category ?? 'bygglov' }).first('id');
  assert.ok(cat, `topic ${c.category}`);
  const reference = `SC-2026-${String(900000 + ++seq).padStart(6, '0')}${seq}`;
  const resolved = c.status === 'resolved' || c.status === 'closed';
  const [row] = await db('cases')
    .insert({
      reference,
      status: c.status ?? 'new',
      channel: c.channel,
      category_id: cat.id,
      resident_id: (resident as { id: number }).id,
      subject: 'Tavlans testfall',
      resident_token: randomBytes(32).toString('base64url'),
      created_at: c.createdAt,
      queue_at: c.queueAt ?? c.createdAt,
      assignee_id: c.assigneeId ?? null,
      resolved_at: resolved ? c.createdAt : null,
      resolved_at_first_contact: c.firstContact ?? null,
    })
    .returning(['id', 'reference']);
  return { id: Number(row.id), reference: row.reference as string };
}

async function insertCall(db: Knex, c: { offered: Date; answeredAfterMs?: number; ended?: boolean; outcome?: string }): Promise<void> {
  const answered = c.answeredAfterMs !== undefined ? new Date(c.offered.getTime() + c.answeredAfterMs) : null;
  const ended = c.ended ? new Date(c.offered.getTime() + 10 * MIN) : null;
  await db('calls').insert({
    call_id: `call-${uniq()}`,
    caller: '+46701234567',
    state: ended ? 'ended' : answered ? 'answered' : 'offered',
    outcome: ended ? (c.outcome ?? (answered ? 'completed' : 'abandoned')) : null,
    offered_at: c.offered,
    answered_at: answered,
    ended_at: ended,
  });
}

async function insertCallback(db: Knex, c: { nextAttemptAt: Date; status?: string }): Promise<void> {
  const owner = await insertCase(db, { channel: 'phone', status: 'closed', createdAt: new Date(Date.now() - 3 * 24 * 60 * MIN) });
  await db('callbacks').insert({
    case_id: owner.id,
    phone: '0701234567',
    window_start: c.nextAttemptAt,
    window_end: new Date(c.nextAttemptAt.getTime() + 60 * MIN),
    status: c.status ?? 'pending',
    max_attempts: 3,
    next_attempt_at: c.nextAttemptAt,
    source: 'web',
  });
}

/** The wallboard's Set-Cookie line of a response, if any. */
function wallboardCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const all = res.headers['set-cookie'];
  return (Array.isArray(all) ? (all as string[]) : []).find((c) => c.startsWith('sc_wallboard='));
}

/** Every plan node, depth first. */
function planNodes(node: Record<string, unknown>): Record<string, unknown>[] {
  const children = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [node, ...children.flatMap(planNodes)];
}

async function explain(db: Knex, q: Knex.QueryBuilder): Promise<Record<string, unknown>[]> {
  const { sql, bindings } = q.toSQL();
  const res = await db.raw(`EXPLAIN (FORMAT JSON) ${sql}`, bindings as Knex.RawBinding[]);
  const rows = (res as { rows: Record<string, unknown>[] }).rows;
  const raw = rows[0]!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: Record<string, unknown> }[];
  return planNodes(plan[0]!.Plan);
}

describe('statistics: the live board and the TV wallboard', function () {
  this.timeout(60_000);
  let t: TestApp;
  let baseUrl: string;
  let manager: { email: string; token: string; wallboard: string; auth: { Authorization: string } };
  const open: LiveClient[] = [];
  const track = (c: LiveClient) => (open.push(c), c);

  before(async () => {
    t = await startTestApp();
    baseUrl = await t.listen();
    const email = `boss.${uniq()}@test.example`;
    await t.services.auth.createUser({ email, name: 'Maja Chef', role: 'manager', password: TEST_PASSWORD });
    const token = await t.services.auth.createApiToken(email, 'test');
    const wallboard = await t.services.auth.createApiToken(email, 'tv', 'wallboard');
    manager = { email, token, wallboard, auth: { Authorization: `Bearer ${token}` } };
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
  });

  describe('the figures', () => {
    const now = new Date();
    const { from: midnight, to: nextMidnight } = localDay(now, TZ);
    const waiting: { reference: string }[] = [];

    before(async () => {
      const db = t.db;
      const yesterday = (minutesBeforeMidnight: number) => new Date(midnight.getTime() - minutesBeforeMidnight * MIN);
      const someone = await t.db('users').where({ email: manager.email }).first('id');
      // Waiting now: new, nobody's, wanting attention by now. The first has waited longest.
      waiting.push(await insertCase(db, { channel: 'web', category: 'bygglov', createdAt: yesterday(180) }));
      waiting.push(await insertCase(db, { channel: 'web', category: 'bygglov', createdAt: yesterday(120) }));
      waiting.push(await insertCase(db, { channel: 'email', category: 'ovrigt', createdAt: yesterday(60) }));
      waiting.push(await insertCase(db, { channel: 'phone', category: 'forskoleplats', createdAt: yesterday(90) }));
      // Not waiting: a callback for later (older, but not yet due), an assigned case, an open one.
      await insertCase(db, { channel: 'phone', createdAt: yesterday(240), queueAt: new Date(now.getTime() + 120 * MIN) });
      await insertCase(db, { channel: 'web', createdAt: yesterday(300), assigneeId: someone.id });
      await insertCase(db, { channel: 'visit', status: 'open', createdAt: yesterday(360) });
      // Today's contacts: from local midnight exactly; one a millisecond before midnight is yesterday's.
      await insertCase(db, { channel: 'web', status: 'resolved', firstContact: true, createdAt: midnight });
      await insertCase(db, { channel: 'web', status: 'resolved', firstContact: false, createdAt: new Date(midnight.getTime() + 1000) });
      await insertCase(db, { channel: 'phone', status: 'resolved', firstContact: true, createdAt: new Date(midnight.getTime() + 2000) });
      await insertCase(db, { channel: 'email', status: 'open', createdAt: new Date(midnight.getTime() + 3000) });
      await insertCase(db, { channel: 'web', status: 'resolved', firstContact: true, createdAt: new Date(midnight.getTime() - 1) });
      await insertCase(db, { channel: 'web', status: 'resolved', firstContact: true, createdAt: nextMidnight });
      // Calls offered today: one answered at exactly the target, one a millisecond over it, one quickly;
      // two that ended unanswered, one still in the queue; and yesterday's.
      const target = t.config.stats.serviceLevelSeconds * 1000;
      const at = (minutes: number) => new Date(midnight.getTime() + minutes * MIN);
      await insertCall(db, { offered: at(10), answeredAfterMs: target, ended: true });
      await insertCall(db, { offered: at(20), answeredAfterMs: target + 1, ended: true });
      await insertCall(db, { offered: at(30), answeredAfterMs: 5000, ended: true });
      await insertCall(db, { offered: at(40), ended: true, outcome: 'abandoned' });
      await insertCall(db, { offered: at(50), ended: true, outcome: 'no_answer' });
      await insertCall(db, { offered: at(60) });
      await insertCall(db, { offered: new Date(midnight.getTime() - 1000), answeredAfterMs: 1000, ended: true });
      // Callbacks: two due now (one exactly now), one later today, one tomorrow, one already done.
      await insertCallback(db, { nextAttemptAt: new Date(now.getTime() - 5 * MIN) });
      await insertCallback(db, { nextAttemptAt: now });
      await insertCallback(db, { nextAttemptAt: new Date(now.getTime() + (nextMidnight.getTime() - now.getTime()) / 2) });
      await insertCallback(db, { nextAttemptAt: new Date(nextMidnight.getTime() + 60 * MIN) });
      await insertCallback(db, { nextAttemptAt: new Date(now.getTime() - 60 * MIN), status: 'completed' });
    });

    it('knows every figure of a hand-built state, through the API, and the page shows them', async () => {
      // Staff: the manager (available, not connected), Ada (available, connected), Bo (busy, connected),
      // Cleo (on a break, not connected). A wallboard connected with the manager's token is nobody at work.
      assert.equal(await t.db('users').count<{ n: string }[]>('* as n').then((r) => Number(r[0]!.n)), 1, 'only the manager so far');
      const ada = await staffSocket(t, baseUrl, 'agent', 'Ada');
      const bo = await staffSocket(t, baseUrl, 'agent', 'Bo');
      track(ada.client);
      track(bo.client);
      assert.ok((await bo.client.request('presence', { status: 'busy' })).ok);
      const cleo = await t.services.auth.createUser({ email: `cleo.${uniq()}@test.example`, name: 'Cleo', role: 'agent', password: TEST_PASSWORD });
      await t.services.presence.set(cleo, { status: 'break' });
      track(await connectLive(baseUrl, { auth: { token: manager.wallboard } }));

      const res = await t.request().get('/api/v1/stats/live').set(manager.auth).expect(200);
      const b = liveBoardSchema.parse(res.body) as LiveBoardSnapshot;
      assert.equal(b.timeZone, TZ);
      assert.equal(b.day, localDay(new Date(b.at), TZ).day);

      assert.equal(b.waiting.total, 4);
      assert.deepEqual(
        b.waiting.byChannel,
        [
          { channel: 'web', count: 2 },
          { channel: 'email', count: 1 },
          { channel: 'phone', count: 1 },
          { channel: 'visit', count: 0 },
          { channel: 'api', count: 0 },
        ],
      );
      assert.deepEqual(
        b.waiting.byCategory.map((c) => [c.slug, c.count]),
        [
          ['bygglov', 2],
          ['forskoleplats', 1],
          ['ovrigt', 1],
        ],
      );
      assert.ok(b.waiting.byCategory[0]!.nameSv && b.waiting.byCategory[0]!.nameEn);
      assert.equal(b.waiting.oldest?.reference, waiting[0]!.reference);
      assert.equal(b.waiting.oldest?.since, new Date(midnight.getTime() - 180 * MIN).toISOString());
      assert.ok(b.waiting.oldest!.waitSeconds >= 180 * 60);
      // It began yesterday: the board says which day, not only the time.
      const view = describeBoard(b, 'sv');
      assert.match(view.figures.oldest_since!, /^\p{L}+ \d{1,2} \p{L}+\.? 21:00$/u, view.figures.oldest_since);

      assert.deepEqual(b.agents, { available: { total: 2, connected: 1 }, busy: { total: 1, connected: 1 }, break: { total: 1, connected: 0 } });

      assert.equal(b.today.contacts, 4, 'midnight counts; a millisecond before it and the next midnight do not');
      assert.equal(b.today.answeredDirectly, 2);
      assert.equal(b.today.answeredDirectlyShare, 0.5);
      assert.deepEqual(
        b.today.byChannel.filter((c) => c.contacts > 0),
        [
          { channel: 'web', contacts: 2, answeredDirectly: 1 },
          { channel: 'email', contacts: 1, answeredDirectly: 0 },
          { channel: 'phone', contacts: 1, answeredDirectly: 1 },
        ],
      );

      assert.deepEqual(b.phone, {
        offered: 6,
        answered: 3,
        abandoned: 2,
        inQueue: 1,
        answeredWithinTarget: 2,
        serviceLevel: 2 / 6,
        targetSeconds: t.config.stats.serviceLevelSeconds,
        goal: t.config.stats.serviceLevelGoal,
      });
      assert.deepEqual(b.callbacks, { dueNow: 2, laterToday: 1 });

      // The page: the same figures, in tables and lists with headings, readable without a script.
      const agent = await t.loginAs('agent');
      const page = await agent.agent.get('/agent/statistik/live').expect(200);
      assert.match(page.text, /<h1>Just nu<\/h1>/);
      assert.match(page.text, /<nav aria-label="Statistik"/, 'the statistics menu');
      assert.match(page.text, /data-figure="waiting">4</);
      assert.match(page.text, /data-figure="waiting_web">2</);
      assert.match(page.text, /data-figure="contacts">4</);
      assert.match(page.text, /data-figure="direct_share">50\s?%</);
      assert.match(page.text, /data-figure="service_level">33\s?%</);
      assert.match(page.text, /data-figure="service_level_goal">80\s?%</);
      assert.match(page.text, /data-figure="callbacks_due">2</);
      assert.match(page.text, new RegExp(`data-figure="oldest_case">${waiting[0]!.reference}<`));
      assert.match(page.text, /<th scope="row">Bygglov[^<]*<\/th><td>2<\/td>/);
      assert.match(page.text, /<script src="\/static\/js\/live.js" defer>/);
      const en = await agent.agent.get('/agent/statistik/live?lang=en').expect(200);
      assert.match(en.text, /<h1>Right now<\/h1>/);
      assert.match(en.text, /data-figure="service_level">33%</);
    });

    it('counts "today" as the local day, also when daylight saving time begins and ends', async () => {
      const db = t.db;
      // 29 March 2026: clocks go from 02:00 to 03:00, a 23-hour day from 23:00Z to 22:00Z.
      const spring = ['2026-03-28T22:59:59.999Z', '2026-03-28T23:00:00.000Z', '2026-03-29T21:59:59.999Z', '2026-03-29T22:00:00.000Z', '2026-03-29T22:30:00.000Z'];
      // 25 October 2026: 03:00 goes back to 02:00, a 25-hour day from 22:00Z to 23:00Z.
      const autumn = ['2026-10-24T21:59:59.999Z', '2026-10-24T22:00:00.000Z', '2026-10-25T22:30:00.000Z', '2026-10-25T23:00:00.000Z'];
      for (const iso of [...spring, ...autumn]) await insertCase(db, { channel: 'visit', status: 'resolved', firstContact: false, createdAt: new Date(iso) });
      const march = await t.services.liveBoard.snapshot(new Date('2026-03-29T12:00:00Z'));
      assert.equal(march.day, '2026-03-29');
      assert.equal(march.today.contacts, 2, 'from 00:00 CET to 23:59:59 CEST, not a fixed offset');
      const october = await t.services.liveBoard.snapshot(new Date('2026-10-25T23:30:00+01:00'));
      assert.equal(october.day, '2026-10-25');
      assert.equal(october.today.contacts, 2, 'from 00:00 CEST to 23:59:59 CET');
    });

    it('reads cases through indexes only: no sequential scan on cases (EXPLAIN, a few thousand rows, ANALYZE)', async () => {
      const db = t.db;
      const [resident] = await db('residents').insert({ name: 'Historik', phone: '0700000000' }).returning('id');
      const cat = await db('categories').where({ slug: 'bygglov' }).first('id');
      // 5000 closed cases over the last year and a half: history the board must not read.
      await db.raw(
        `INSERT INTO cases (reference, status, channel, category_id, resident_id, subject, resident_token, created_at, queue_at, resolved_at, resolved_at_first_contact)
         SELECT 'SC-2025-' || lpad(g::text, 7, '0'), 'closed', (ARRAY['web','email','phone','visit','api'])[1 + g % 5], ?, ?, 'Historik', 'h' || md5(g::text) || 'x',
                now() - (2 + g % 500) * interval '1 day', now() - (2 + g % 500) * interval '1 day', now() - (1 + g % 500) * interval '1 day', g % 3 = 0
         FROM generate_series(1, 5000) AS g`,
        [cat.id, (resident as { id: number }).id],
      );
      await db.raw('ANALYZE cases');
      // The store's own query builders, EXPLAINed as they are.
      const q = createLiveBoardStore(db).queries;
      const { from, to } = localDay(new Date(), TZ);
      const used: Record<string, string[]> = {};
      for (const [name, query] of Object.entries({ waiting: q.waiting(new Date()), oldest: q.oldest(new Date()), arrivals: q.arrivals(from, to) })) {
        const nodes = await explain(db, query);
        const shape = JSON.stringify(nodes.map((x) => [x['Node Type'], x['Relation Name'], x['Index Name']]));
        const onCases = nodes.filter((n) => n['Relation Name'] === 'cases' || String(n['Index Name'] ?? '').startsWith('cases_'));
        assert.ok(onCases.length > 0, `${name} reads cases: ${shape}`);
        for (const n of onCases) assert.notEqual(n['Node Type'], 'Seq Scan', `${name}: ${shape}`);
        used[name] = onCases.map((n) => `${String(n['Node Type'])}${n['Index Name'] ? ` on ${String(n['Index Name'])}` : ''}`);
      }
      assert.match(used.waiting!.join(), /cases_waiting_idx/);
      assert.match(used.oldest!.join(), /cases_waiting_idx/);
      assert.match(used.arrivals!.join(), /cases_(arrival_metrics|created)_idx/);
      // Printed for the record (mocha --reporter spec shows it).
      console.log(`      EXPLAIN (${databaseKind}): ${JSON.stringify(used)}`);
    });
  });

  describe('who may read it', () => {
    let wallboardAuth: { Authorization: string };
    before(() => {
      wallboardAuth = { Authorization: `Bearer ${manager.wallboard}` };
    });

    it('the API: anonymous 401, an agent 200, a wallboard token 200', async () => {
      await t.request().get('/api/v1/stats/live').expect(401);
      const agent = await t.loginAs('agent');
      const bySession = await agent.agent.get('/api/v1/stats/live').expect(200);
      liveBoardSchema.parse(bySession.body);
      const byWallboard = await t.request().get('/api/v1/stats/live').set(wallboardAuth).expect(200);
      liveBoardSchema.parse(byWallboard.body);
      await t.request().get('/agent/statistik/live').expect(303).expect('location', /^\/login/);
      const doc = await t.request().get('/api/v1/openapi.json').expect(200);
      assert.equal(doc.body.paths['/api/v1/stats/live'].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/LiveBoard');
      assert.ok(doc.body.components.schemas.LiveBoard.properties.phone);
    });

    it('a wallboard token gets 403 on every other API route, even public ones, and writes nothing', async () => {
      const routes = routeTable(t.services).filter((r) => r.path.startsWith('/api/') && !(r.method === 'get' && r.path === '/api/v1/stats/live'));
      assert.ok(routes.length > 20, 'the API has routes');
      assert.ok(routes.some((r) => r.access === 'public' && r.method === 'post'), 'public POST routes are in the walk');
      const before = await rowCounts(t.db);
      const tokensBefore = await t.db('api_tokens').count<{ n: string }[]>('* as n');
      for (const r of routes) {
        const url = r.path.replace(':reference', 'SC-2026-000001').replace(/:[A-Za-z]+/g, '1');
        const req = t.request()[r.method](url).set(wallboardAuth);
        const res = r.method === 'get' ? await req : await req.send(r.path === '/api/v1/cases' ? newCase() : {});
        assert.equal(res.status, 403, `${r.method.toUpperCase()} ${url} answered ${res.status}`);
        assert.match(String(res.body.message), /wallboard token may only read the live board/);
      }
      assert.deepEqual(await rowCounts(t.db), before);
      assert.deepEqual(await t.db('api_tokens').count<{ n: string }[]>('* as n'), tokensBefore);
      // The wallboard's cookie is no sign-in anywhere else either.
      const tv = t.request();
      await tv.get(`/tavla?nyckel=${manager.wallboard}`).expect(303);
      for (const r of routeTable(t.services).filter((x) => !x.path.startsWith('/api/') && x.access !== 'public' && x.access !== 'resident-link')) {
        const url = r.path.replace(':reference', 'SC-2026-000001').replace(/:[A-Za-z]+/g, '1');
        const res = r.method === 'get' ? await tv.get(url) : await tv[r.method](url).type('form').send({});
        assert.ok([303, 401, 403].includes(res.status), `${r.method.toUpperCase()} ${url} with the wallboard cookie answered ${res.status}`);
        if (res.status === 303) assert.match(String(res.headers.location), /^\/login/);
      }
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('/tavla?nyckel= checks the key, keeps it in a strict HttpOnly cookie and takes it out of the address', async () => {
      const tv = t.request();
      const res = await tv.get(`/tavla?nyckel=${manager.wallboard}`).expect(303).expect('location', '/tavla');
      const cookie = wallboardCookie(res) ?? '';
      assert.match(cookie, new RegExp(`^sc_wallboard=${manager.wallboard};`));
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Path=\//);
      assert.doesNotMatch(cookie, /Secure/, 'not over plain HTTP in the tests (COOKIE_SECURE off)');
      const board = await tv.get('/tavla').expect(200);
      assert.match(board.text, /<html lang="sv"/);
      assert.match(board.text, /<main id="main"[^>]*>/);
      assert.match(board.text, /<h1>[^<]+ just nu<\/h1>/);
      assert.match(board.text, /data-live-board/);
      assert.match(board.text, /data-figure="waiting">\d+</);
      assert.doesNotMatch(board.text, /nav-list">\s*<li><a href="\/agent"/, 'no staff menu');
      assert.equal(board.headers['cache-control'], 'no-store');
      // A full token works as a key too; a staff session needs none.
      await t.request().get(`/tavla?nyckel=${manager.token}`).expect(303);
      const agent = await t.loginAs('agent');
      await agent.agent.get('/tavla').expect(200);
    });

    it('a wrong, missing, repeated or revoked key gets a clear 401 (or 400) page, and no cookie', async () => {
      const bad = await t.request().get('/tavla?nyckel=sc_not-a-real-key').expect(401);
      assert.match(bad.text, /Nyckeln i adressen gäller inte/);
      assert.match(bad.text, /token:create --email …@… --scope wallboard/);
      assert.equal(wallboardCookie(bad), undefined);
      const none = await t.request().get('/tavla').expect(401);
      assert.match(none.text, /ingen nyckel till väggtavlan/);
      assert.match(none.text, /<title>Väggtavlan är inte ansluten/);
      await t.request().get(`/tavla?nyckel=a&nyckel=b`).expect(400);
      await t.request().get('/tavla').set('Cookie', 'sc_wallboard=sc_forged').expect(401);

      // Revoked: the page, the API and the socket all stop.
      const email = `tv.${uniq()}@test.example`;
      await t.services.auth.createUser({ email, name: 'Tv', role: 'agent', password: TEST_PASSWORD });
      const key = await t.services.auth.createApiToken(email, 'tv', 'wallboard');
      const tv = t.request();
      await tv.get(`/tavla?nyckel=${key}`).expect(303);
      await tv.get('/tavla').expect(200);
      const socket = track(await connectLive(baseUrl, { cookie: `sc_wallboard=${key}` }));
      assert.ok((await socket.request('subscribe', { board: true })).ok);
      await t.db('api_tokens').where({ token_hash: (await t.db('api_tokens').orderBy('id', 'desc').first('token_hash')).token_hash }).update({ revoked_at: t.db.fn.now() });
      const revoked = await tv.get('/tavla').expect(401);
      assert.match(revoked.text, /gäller inte längre/);
      assert.match(wallboardCookie(revoked) ?? '', /^sc_wallboard=;.*Max-Age=0/, 'the dead cookie is cleared');
      await t.request().get('/api/v1/stats/live').set({ Authorization: `Bearer ${key}` }).expect(401);
      assert.match((await refusedHandshake(baseUrl, { cookie: `sc_wallboard=${key}` })).message, /invalid or revoked wallboard key/);
      await t.services.live.dropDeadConnections();
      await waitUntil(() => !socket.socket.connected, 'the revoked wallboard to be disconnected');
    });

    it('the request log never writes the key', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const config = { ...t.config, logLevel: 'debug' as const };
      const s = createServices({ config, db: t.db, logger: pino({ level: 'debug' }, sink) });
      try {
        const app = createApp(s);
        await supertest(app).get(`/tavla?nyckel=${manager.wallboard}`).expect(303);
        await supertest(app).get(`/TAVLA/?lang=en&nyckel=${manager.wallboard}`).expect(303);
        await supertest(app).get('/tavla?nyckel=sc_wrong-key-123').expect(401);
      } finally {
        s.mail.transport.close();
      }
      const log = lines.join('');
      assert.match(log, /"url":"\/tavla\?\[redacted\]"/);
      assert.ok(!log.includes(manager.wallboard) && !log.includes('sc_wrong-key-123'), log);
    });

    it('token:create --scope wallboard (the CLI) makes a wallboard token; another scope is refused before anything is opened', async function () {
      const cli = async (...args: string[]) => {
        const r = await runCli(cliEnv({ databaseUrl: t.databaseUrl }), ...args);
        return { code: r.code, out: r.stdout + r.stderr };
      };
      const wrong = await cli('token:create', '--email', manager.email, '--scope', 'tv');
      assert.equal(wrong.code, 2, wrong.out);
      assert.match(wrong.out, /--scope: one of full, wallboard; got "tv"/);
      // The embedded database belongs to this process: only PostgreSQL can be shared with the CLI.
      if (databaseKind !== 'postgres') return;
      const made = await cli('token:create', '--email', manager.email, '--scope', 'wallboard');
      assert.equal(made.code, 0, made.out);
      const token = made.out.trimEnd().split('\n').at(-1)!;
      assert.match(token, /^sc_[A-Za-z0-9_-]{43}$/);
      await t.request().get('/api/v1/stats/live').set({ Authorization: `Bearer ${token}` }).expect(200);
      await t.request().get('/api/v1/cases').set({ Authorization: `Bearer ${token}` }).expect(403);
    });
  });

  describe('live over Socket.IO', () => {
    async function boardClient(role: 'agent' | 'manager' = 'agent'): Promise<{ client: LiveClient; boards: BoardView[]; signedIn: SignedIn }> {
      const s = await staffSocket(t, baseUrl, role);
      track(s.client);
      const boards: BoardView[] = [];
      s.client.socket.on('board', (b: BoardView) => boards.push(b));
      const ack = await s.client.request<{ board: BoardView }>('subscribe', { since: await t.services.live.cursor(), board: true });
      assert.ok(ack.ok, JSON.stringify(ack));
      boards.push(ack.board);
      return { client: s.client, boards, signedIn: s };
    }

    it('a board subscriber gets `board` after a new case, a presence change and a call', async () => {
      const { boards } = await boardClient();
      const start = boards.at(-1)!.snapshot;
      await t.request().post('/api/v1/cases').send(newCase({ subject: 'Till tavlan' })).expect(201);
      await waitUntil(() => boards.some((b) => b.snapshot.waiting.total === start.waiting.total + 1), 'a board with the new case waiting');
      const latest = boards.at(-1)!;
      assert.equal(latest.figures.waiting, String(start.waiting.total + 1));

      const other = await staffSocket(t, baseUrl, 'agent');
      track(other.client);
      await waitUntil(() => boards.at(-1)!.snapshot.agents.available.connected === start.agents.available.connected + 1, 'a board with one more agent connected');
      const before = boards.at(-1)!.snapshot.agents.break.total;
      assert.ok((await other.client.request('presence', { status: 'break' })).ok);
      await waitUntil(() => boards.at(-1)!.snapshot.agents.break.total === before + 1, 'a board with one more agent on a break');

      const offered = boards.at(-1)!.snapshot.phone.offered;
      await t.services.telephony.receive({ id: `ev-${uniq()}`, type: 'call.offered', callId: `live-${uniq()}`, at: new Date().toISOString(), caller: '+46701112233' });
      await waitUntil(() => boards.at(-1)!.snapshot.phone.offered === offered + 1, 'a board with the new call');
    });

    it('recomputes at most about once a second, however much happens', async () => {
      const { boards } = await boardClient();
      await new Promise((r) => setTimeout(r, 1100));
      const from = boards.length;
      const total = boards.at(-1)!.snapshot.waiting.total;
      const started = Date.now();
      for (let i = 0; i < 8; i++) await t.request().post('/api/v1/cases').send(newCase({ subject: `Ström ${i}` })).expect(201);
      await waitUntil(() => boards.at(-1)!.snapshot.waiting.total >= total + 8, 'the board after the burst');
      await new Promise((r) => setTimeout(r, 1200));
      const seconds = (Date.now() - started) / 1000;
      const got = boards.length - from;
      assert.ok(got >= 1 && got <= Math.ceil(seconds) + 1, `${got} board updates in ${seconds.toFixed(1)} s for 8 cases`);
    });

    it('a wallboard socket may follow the board and nothing else', async () => {
      const created = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
      for (const handshake of [{ cookie: `sc_wallboard=${manager.wallboard}` }, { auth: { token: manager.wallboard } }]) {
        const tv = track(await connectLive(baseUrl, handshake));
        const boards: BoardView[] = [];
        tv.socket.on('board', (b: BoardView) => boards.push(b));
        const refused = [
          await tv.request('subscribe', { since: 0, queue: true }),
          await tv.request('subscribe', { since: 0, case: created.body.reference }),
          await tv.request('subscribe', { since: 0 }),
          await tv.request('subscribe', { board: true, queue: true, since: 0 }),
          await tv.request('typing', { case: created.body.reference, typing: true }),
          await tv.request('presence', { status: 'break' }),
        ];
        for (const ack of refused) assert.deepEqual(ack, { ok: false, error: 'forbidden', message: 'Not allowed for this connection' });
        const ack = await tv.request<{ board: BoardView }>('subscribe', { board: true });
        assert.ok(ack.ok, JSON.stringify(ack));
        assert.equal(typeof ack.board.figures.waiting, 'string');
        await t.request().post('/api/v1/cases').send(newCase()).expect(201);
        await waitUntil(() => boards.length > 0, 'a board on the wallboard');
        assert.equal(tv.messages.length, 0, 'no case events reach a wallboard');
      }
      // Nothing was written by the refused events: the manager's status is unchanged.
      assert.equal(await t.services.presence.statusOf((await t.db('users').where({ email: manager.email }).first('id')).id), 'available');
    });

    it('refuses the board to a resident, and a subscription without `since` unless it is the board alone', async () => {
      const { token } = await (async () => {
        const res = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
        return { token: String(res.body.statusUrl).split('/arende/')[1]! };
      })();
      const resident = track(await connectLive(baseUrl, { auth: { residentToken: token } }));
      assert.equal(((await resident.request('subscribe', { board: true })) as { error?: string }).error, 'forbidden');
      const s = await staffSocket(t, baseUrl);
      track(s.client);
      const noSince = await s.client.request('subscribe', { queue: true });
      assert.equal(noSince.ok, false);
      assert.match((noSince as { message: string }).message, /since is required/);
      const bad = await s.client.request('subscribe', { board: 'yes' });
      assert.equal((bad as { error?: string }).error, 'invalid');
      const boardOnly = await s.client.request('subscribe', { board: true });
      assert.ok(boardOnly.ok);
    });
  });
});
