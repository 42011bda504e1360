import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type supertest from 'supertest';
import { routeTable } from '../../server/app.js';
import { hasRole, ROLES, type Role } from '../../server/auth/roles.js';
import { CLIENT_EVENT_NAMES, clientEventAccess, mayUseClientEvent, type ClientEventName } from '../../server/live/protocol.js';
import type { RouteDef } from '../../server/platform/routing.js';
import { signedHeaders } from '../../server/telephony/signature.js';
import { pdfBytes } from '../fixtures/files.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, rowCounts, startTestApp, TEST_PASSWORD, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, refusedHandshake, waitUntil, type LiveClient } from '../support/live-client.js';
import { pathFor, type ParamRule } from '../support/route-urls.js';

/**
 * The authorization matrix: every route of routeTable() and every client
 * event the live hub handles, tried by every kind of caller, with the answer
 * each should get derived from the route's `access` (and `wallboard`) and
 * from the protocol's clientEventAccess: the same declarations the server
 * enforces. A new route or event is covered the moment it is declared; one
 * this file cannot give a URL, an access value or a sample payload fails it.
 */

// ---------------------------------------------------------------- principals

type Kind = 'anonymous' | 'resident' | 'wallboard-cookie' | 'session' | 'token' | 'wallboard';
interface PrincipalSpec {
  name: string;
  kind: Kind;
  /** The user's role (a session's, or the API token owner's). */
  role?: Role;
}

const PRINCIPALS: PrincipalSpec[] = [
  { name: 'anonymous', kind: 'anonymous' },
  { name: 'a resident link holder (case A)', kind: 'resident' },
  { name: "a TV with a wallboard key's cookie", kind: 'wallboard-cookie' },
  ...ROLES.map((role): PrincipalSpec => ({ name: `a signed-in ${role}`, kind: 'session', role })),
  { name: "an agent's full API token", kind: 'token', role: 'agent' },
  { name: "a manager's full API token", kind: 'token', role: 'manager' },
  { name: "a wallboard token (a manager's)", kind: 'wallboard', role: 'manager' },
];

interface Principal {
  spec: PrincipalSpec;
  agent: supertest.Agent;
  /** The CSRF token of this browser (its session's, or its anonymous cookie's). */
  csrf: string;
  /** Sent with every request (a bearer token on pages too: it must be ignored there). */
  headers: Record<string, string>;
}

const KNOWN_ACCESS = new Set<string>(['public', 'resident-link', ...ROLES]);
const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

type Expectation = { allowed: true } | { allowed: false; status: 303 | 401 | 403; handler?: HandlerRefusal };

/**
 * Routes whose own handler refuses some callers the access check lets
 * through, by a rule that is not a role (and that this table spells out, so
 * the matrix still expects an exact answer from every caller).
 */
interface HandlerRefusal {
  status: 401 | 403;
  refuses: (p: PrincipalSpec) => boolean;
  /** Tells the handler's answer from the access check's, where the two can differ. */
  looks?: RegExp;
  why: string;
}
const HANDLER_REFUSALS: Record<string, HandlerRefusal> = {
  'post /login': { status: 401, refuses: () => true, looks: /name="password"/, why: 'a failed sign-in (an empty form here) shows the form again with 401' },
  'post /agent/cases/:reference/identity': {
    status: 403,
    // None of the principals has the per-user permission (users.sees_protected): only the admin passes.
    refuses: (p) => p.kind !== 'session' || p.role !== 'admin',
    why: 'marking a protected identity needs the per-user permission or the admin role',
  },
};

/** What a route answers a principal, from the route's declaration (and HANDLER_REFUSALS). */
function expectationOf(r: RouteDef, p: PrincipalSpec): Expectation {
  const gate = gateOf(r, p);
  const own = HANDLER_REFUSALS[`${r.method} ${r.path}`];
  return gate.allowed && own?.refuses(p) ? { allowed: false, status: own.status, handler: own } : gate;
}

/** What the route table's access check answers a principal. */
function gateOf(r: RouteDef, p: PrincipalSpec): Expectation {
  if (!KNOWN_ACCESS.has(r.access)) {
    throw new Error(`${r.method.toUpperCase()} ${r.path} has access "${r.access}", which the authorization matrix does not know: teach expectationOf() what it means`);
  }
  const api = r.path.startsWith('/api/');
  const bearer = p.kind === 'token' || p.kind === 'wallboard';
  // A bearer token counts on /api only; on pages its holder is anonymous.
  const role = p.kind === 'session' || (bearer && api) ? p.role : undefined;
  const wallboard = p.kind === 'wallboard' && api;
  if (r.access === 'public' || r.access === 'resident-link') return wallboard ? { allowed: false, status: 403 } : { allowed: true };
  if (!role) return { allowed: false, status: api || r.method !== 'get' ? 401 : 303 };
  if (wallboard && r.wallboard !== true) return { allowed: false, status: 403 };
  return hasRole(role, r.access) ? { allowed: true } : { allowed: false, status: 403 };
}

// ---------------------------------------------------------------- URLs

interface CaseFixture {
  reference: string;
  token: string;
  surveyToken: string;
  attachment: string;
  /** Written as an internal note: never on a resident's page. */
  internalNote: string;
}

interface Fixtures {
  a: CaseFixture;
  b: CaseFixture;
  /** A user the admin routes may change freely (no principal signs in as them). */
  victimUserId: number;
  departmentId: number;
  categoryId: number;
  quarantinedMailId: number;
  retentionRuleId: number;
  article: { id: number; versionId: number; category: string; slug: string };
  wallboardKey: string;
}

/**
 * A value for each path parameter, by name and (where a name means different
 * things) by the path before it. A parameter with no rule fails the test,
 * naming it: add a rule with a real value.
 */
type At = { f: Fixtures; c: CaseFixture };

const PARAMS: ParamRule<At>[] = [
  { param: 'reference', value: ({ c }) => c.reference },
  { param: 'token', under: /^\/(arende|kvitto)\/$/, value: ({ c }) => c.token },
  { param: 'token', under: /^\/enkat\/$/, value: ({ c }) => c.surveyToken },
  { param: 'publicId', value: ({ c }) => c.attachment },
  { param: 'action', under: /^\/agent\/cases\/:reference\/$/, value: () => 'reply' },
  { param: 'id', under: /^\/admin\/users\/$/, value: ({ f }) => f.victimUserId },
  { param: 'id', under: /^\/admin\/departments\/$/, value: ({ f }) => f.departmentId },
  { param: 'id', under: /^\/admin\/categories\/$/, value: ({ f }) => f.categoryId },
  { param: 'id', under: /^\/admin\/mail\/$/, value: ({ f }) => f.quarantinedMailId },
  { param: 'id', under: /^\/admin\/gallring\/$/, value: ({ f }) => f.retentionRuleId },
  { param: 'id', under: /^\/redaktor\/artiklar\/$/, value: ({ f }) => f.article.id },
  { param: 'versionId', under: /^\/redaktor\/artiklar\/:id\/versioner\/$/, value: ({ f }) => f.article.versionId },
  { param: 'lang', under: /^\/redaktor\/artiklar\/:id\/[a-z]+\/$/, value: () => 'sv' },
  { param: 'category', value: ({ f }) => f.article.category },
  { param: 'slug', value: ({ f }) => f.article.slug },
];

/** A query a route needs to be used at all (the TV's first visit brings its key). */
const QUERIES: Record<string, (f: Fixtures) => string> = {
  'get /tavla': (f) => `?nyckel=${f.wallboardKey}`,
};

const TELEPHONY_SECRET = `matrix-${randomBytes(24).toString('hex')}`;

/** Headers a route needs to be used at all, from the exact body sent (the telephony platform signs its events). */
const SIGNED: Record<string, (raw: string) => Record<string, string>> = {
  'post /api/v1/telephony/events': (raw) => signedHeaders(TELEPHONY_SECRET, raw),
};

/** A concrete URL for a route: every parameter gets a real value, or this throws naming what is missing. */
function urlFor(r: Pick<RouteDef, 'method' | 'path'>, f: Fixtures, c: CaseFixture = f.a, override: Record<string, string> = {}): string {
  // An override goes in as written (already encoded, or deliberately malformed, like %00).
  const given = r.path.replace(/:([A-Za-z0-9_]+)/g, (m, name: string) => override[name] ?? m);
  const path = pathFor({ method: r.method, path: given }, PARAMS, { f, c }, 'PARAMS in test/integration/auth-matrix.test.ts');
  return path + (QUERIES[`${r.method} ${r.path}`]?.(f) ?? '');
}

/** A response's text (a file download has none). */
const textOf = (res: { text?: unknown }) => (typeof res.text === 'string' ? res.text : '');
const paramsOf = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
const describeRoute = (r: RouteDef) => `${r.method.toUpperCase()} ${r.path} (access ${r.access}${r.wallboard ? ', wallboard' : ''})`;

// ---------------------------------------------------------------- writes

/** Row counts that a refused request must leave as they were: the harness's, and who may sign in and what was seen. */
async function counts(t: TestApp, settle = true): Promise<Record<string, number>> {
  // Background work from earlier allowed requests (mail, intake) settles first.
  if (settle) await Promise.all([t.mailIdle(), t.intakeIdle()]);
  const out: Record<string, number> = { ...(await rowCounts(t.db)) };
  const extra = ['access_log', 'api_tokens', 'users', 'sessions'];
  const res = await t.db.raw(`SELECT ${extra.map((table) => `(SELECT count(*) FROM ${table}) AS ${table}`).join(', ')}`);
  const row = (res as { rows: Record<string, string | number>[] }).rows[0]!;
  for (const table of extra) out[table] = Number(row[table]);
  return out;
}

// ---------------------------------------------------------------- the tests

describe('authorization matrix: every route and every socket event, for every principal', function () {
  this.timeout(180_000);
  let t: TestApp;
  let baseUrl: string;
  let f: Fixtures;
  const principals = new Map<string, Principal>();
  const tokens = new Map<string, string>();
  const open: LiveClient[] = [];
  const track = (c: LiveClient) => (open.push(c), c);

  let seq = 0;
  const uniq = () => `${Date.now().toString(36)}${++seq}${randomBytes(2).toString('hex')}`;

  async function staffUser(role: Role): Promise<{ id: number; email: string }> {
    const email = `matrix-${role}-${uniq()}@test.example`;
    const user = await t.services.auth.createUser({ email, name: `Matrix ${role} ${seq}`, role, password: TEST_PASSWORD });
    return { id: user.id, email };
  }

  /** A browser that has opened a page: its CSRF cookie and token. */
  async function browser(headers: Record<string, string> = {}, first = '/login'): Promise<{ agent: supertest.Agent; csrf: string }> {
    const agent = t.request();
    const page = await agent.get(first).set(headers).expect(200);
    return { agent, csrf: csrfFrom(page.text) };
  }

  /** A case from the web form with a file, resolved (so its survey link exists), with an internal note. */
  async function caseFixture(managerAuth: Record<string, string>): Promise<CaseFixture> {
    const client = t.request();
    const form = await client.get('/kontakt').expect(200);
    const res = await postMultipart(
      client,
      '/kontakt',
      {
        _csrf: csrfFrom(form.text),
        category: 'bygglov',
        name: 'Olle Ås',
        email: `olle.${uniq()}@example.com`,
        phone: '',
        subject: `Ritningar ${uniq()}`,
        message: 'Här är ritningen.',
      },
      [{ filename: 'ritning.pdf', content: pdfBytes(), contentType: 'application/pdf' }],
    );
    assert.equal(res.status, 303, res.text);
    const token = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(res.headers.location ?? '')?.[1];
    assert.ok(token, `redirected to the receipt, not ${res.headers.location}`);
    const c = await t.db('cases').where({ resident_token: token }).first('id', 'reference');
    const file = await t.db('attachments').where({ case_id: c.id }).first('public_id');
    assert.ok(file, 'the file was kept');
    const internalNote = `INTERNAL-NOTE-${uniq()}`;
    await t.request().post(`/api/v1/cases/${c.reference}/notes`).set(managerAuth).send({ body: internalNote }).expect(201);
    await t.request().patch(`/api/v1/cases/${c.reference}`).set(managerAuth).send({ status: 'resolved' }).expect(200);
    const mail = await t.db('mail_outbox').where({ case_id: c.id, kind: 'survey' }).first('text_body');
    const surveyToken = /\/enkat\/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/.exec(String(mail?.text_body))?.[1];
    assert.ok(surveyToken, 'the survey invitation has its link');
    return { reference: c.reference as string, token, surveyToken, attachment: file.public_id as string, internalNote };
  }

  before(async () => {
    t = await startTestApp({ config: { survey: { enabled: true, validDays: 30 }, telephony: { secret: TELEPHONY_SECRET, maxSkewSeconds: 300 } } });
    baseUrl = await t.listen();
    const owner = await staffUser('manager');
    const managerToken = await t.services.auth.createApiToken(owner.email, 'matrix');
    const managerAuth = { Authorization: `Bearer ${managerToken}` };
    const a = await caseFixture(managerAuth);
    const b = await caseFixture(managerAuth);
    const victim = await staffUser('agent');
    // Mail that could not be read: the admin's quarantine has something to show.
    await t.services.intake.store.store({ source: 'smtp', recipient: 'kontakt@test.example', envelopeFrom: 'junk@example.com', raw: Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 10, 10]) });
    await t.intakeIdle();
    const mail = await t.db('inbound_messages').where({ status: 'quarantined' }).orderBy('id', 'desc').first('id');
    assert.ok(mail, 'a quarantined message');
    const article = await t.db('faq_articles as a')
      .join('faq_versions as v', 'v.article_id', 'a.id')
      .where({ 'v.lang': 'sv', 'v.status': 'published' })
      .orderBy('a.id')
      .first('a.id', 'v.id as versionId', 'a.category', 'a.slug');
    assert.ok(article, 'a published article');
    f = {
      a,
      b,
      victimUserId: victim.id,
      departmentId: (await t.db('departments').orderBy('id').first('id')).id,
      categoryId: (await t.db('categories').orderBy('id').first('id')).id,
      quarantinedMailId: mail.id,
      // Ten years: nothing here is old enough for the scheduled run to touch.
      retentionRuleId: (await t.db('retention_rules').insert({ category_id: (await t.db('categories').where({ slug: 'ovrigt' }).first('id')).id, keep_days: 3650, description: 'matrix' }).returning('id'))[0].id,
      article,
      wallboardKey: await t.services.auth.createApiToken(owner.email, 'tv', 'wallboard'),
    };

    for (const spec of PRINCIPALS) {
      let p: Principal;
      if (spec.kind === 'session') {
        const me = await t.loginAs(spec.role!);
        p = { spec, agent: me.agent, csrf: me.csrf, headers: {} };
      } else if (spec.kind === 'token' || spec.kind === 'wallboard') {
        const user = await staffUser(spec.role!);
        const token = await t.services.auth.createApiToken(user.email, 'matrix', spec.kind === 'wallboard' ? 'wallboard' : 'full');
        tokens.set(spec.name, token);
        const headers = { Authorization: `Bearer ${token}` };
        p = { spec, ...(await browser(headers)), headers };
      } else if (spec.kind === 'resident') {
        p = { spec, ...(await browser({}, `/arende/${f.a.token}`)), headers: {} };
      } else if (spec.kind === 'wallboard-cookie') {
        const b2 = await browser();
        await b2.agent.get(`/tavla?nyckel=${f.wallboardKey}`).expect(303);
        await b2.agent.get('/tavla').expect(200);
        p = { spec, ...b2, headers: {} };
      } else {
        p = { spec, ...(await browser()), headers: {} };
      }
      principals.set(spec.name, p);
    }
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
  });

  /** One request as a principal; with `csrf`, the token goes along as a page or a session API call sends it. */
  function send(p: Principal, r: Pick<RouteDef, 'method' | 'path'>, url: string, opts: { csrf?: string | false; body?: Record<string, string> } = {}) {
    const req = p.agent[r.method](url).set(p.headers);
    if (!UNSAFE.has(r.method)) return req;
    const csrf = opts.csrf === undefined ? p.csrf : opts.csrf;
    const body = { ...(opts.body ?? {}), ...(csrf ? { _csrf: csrf } : {}) };
    if (csrf) req.set('X-CSRF-Token', csrf);
    if (!r.path.startsWith('/api/')) return req.type('form').send(body);
    const raw = JSON.stringify(body);
    return req.set(SIGNED[`${r.method} ${r.path}`]?.(raw) ?? {}).type('json').send(raw);
  }

  /** Let through: no 401/403, no crash, and no page that sends the caller to sign in. */
  function assertAllowed(r: Pick<RouteDef, 'method'>, res: supertest.Response, what: string) {
    assert.ok(![401, 403].includes(res.status), `${what} should be allowed, answered ${res.status}: ${textOf(res).slice(0, 300)}`);
    assert.ok(res.status < 500, `${what} answered ${res.status}: ${textOf(res).slice(0, 300)}`);
    // (Signing out may end on the login page; a page that lets the caller in does not send them there.)
    if (r.method === 'get') assert.ok(!(res.status === 303 && String(res.headers.location).startsWith('/login')), `${what} sent the caller to the login`);
  }

  it('knows every access value in the route table and can give every route a URL', () => {
    const routes = routeTable(t.services);
    assert.ok(routes.length > 50, 'the table is there');
    for (const r of routes) {
      assert.ok(KNOWN_ACCESS.has(r.access), `${describeRoute(r)}: unknown access value`);
      const url = urlFor(r, f);
      assert.ok(!url.includes(':'), `${describeRoute(r)} → ${url}`);
    }
    // Every exception this file makes names a route that exists (none outlives its route).
    const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const key of [...Object.keys(HANDLER_REFUSALS), ...Object.keys(SIGNED), ...Object.keys(QUERIES)]) assert.ok(keys.has(key), `${key} is no route any more`);
    const needs = new Set<string>(routes.map((r) => r.access));
    for (const access of KNOWN_ACCESS) assert.ok(needs.has(access), `some route is ${access}`);
    assert.ok(
      routes.some((r) => r.wallboard),
      'some route serves wallboards',
    );
  });

  it('fails loudly, naming it, for a route it cannot give a URL or an access value it does not know', () => {
    assert.throws(() => urlFor({ method: 'get', path: '/agent/ny-sak/:widgetId' }, f), /no value for :widgetId there; add a rule for it in PARAMS/);
    assert.throws(() => urlFor({ method: 'post', path: '/admin/okand/:id/radera' }, f), /POST \/admin\/okand\/:id\/radera: no value for :id/);
    assert.throws(() => urlFor({ method: 'get', path: '/filer/*rest' }, f), /cannot build a URL for this pattern/);
    const odd = { method: 'get', path: '/x', access: 'auditor', handler: () => undefined } as unknown as RouteDef;
    assert.throws(() => expectationOf(odd, PRINCIPALS[0]!), /access "auditor", which the authorization matrix does not know/);
  });

  it('every public route is reachable anonymously', async () => {
    const p = principals.get('anonymous')!;
    const pub = routeTable(t.services).filter((r) => r.access === 'public');
    assert.ok(pub.length > 10);
    for (const r of pub) {
      const url = urlFor(r, f);
      const res = await send(p, r, url);
      const own = HANDLER_REFUSALS[`${r.method} ${r.path}`];
      if (own?.refuses(p.spec)) {
        assert.equal(res.status, own.status, `${url}: ${own.why}`);
        if (own.looks) assert.match(textOf(res), own.looks, `${url}: ${own.why}`);
      } else assertAllowed(r, res, `anonymous: ${describeRoute(r)} → ${url}`);
    }
  });

  for (const spec of PRINCIPALS) {
    it(`${spec.name}: every route answers as its access says, and a refused request writes nothing`, async () => {
      const p = principals.get(spec.name)!;
      // Signing out ends this principal: it goes last.
      const routes = routeTable(t.services).sort((x, y) => Number(x.path === '/logout') - Number(y.path === '/logout'));
      const staffEmails: string[] = (await t.db('users').select('email')).map((u: { email: string }) => u.email);
      let refused = 0;
      let allowed = 0;
      for (const r of routes) {
        const expect = expectationOf(r, spec);
        const url = urlFor(r, f);
        const what = `${spec.name}: ${r.method.toUpperCase()} ${url} (access ${r.access}${r.wallboard ? ', wallboard' : ''})`;
        if (r.path === '/logout' && spec.kind === 'session') {
          // Still signed in after every other route (none of them ended the session).
          await p.agent.get('/agent').expect(200);
        }
        if (expect.allowed) {
          allowed++;
          const res = await send(p, r, url);
          assertAllowed(r, res, what);
          if (r.access === 'resident-link' && /html/.test(String(res.headers['content-type']))) {
            assert.ok(!textOf(res).includes(f.a.internalNote), `${what} shows an internal note`);
            for (const email of staffEmails) assert.ok(!textOf(res).includes(email), `${what} shows a staff address (${email})`);
          }
          continue;
        }
        if (!expect.handler) refused++;
        const before = await counts(t);
        const res = await send(p, r, url, { body: { message: 'refused probe', body: 'refused probe', status: 'closed' } });
        assert.equal(res.status, expect.status, `${what} should be refused with ${expect.status}${expect.handler ? ` (${expect.handler.why})` : ''}, answered ${res.status}: ${textOf(res).slice(0, 300)}`);
        if (expect.handler?.looks) assert.match(textOf(res), expect.handler.looks, `${what}: not the handler's own answer`);
        if (expect.status === 303) assert.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`, what);
        if (r.path.startsWith('/api/') && !expect.handler) {
          assert.match(String(res.headers['content-type']), /json/, `${what}: the API refuses in JSON`);
          assert.equal(res.body.error, expect.status === 401 ? 'unauthorized' : 'forbidden', what);
        }
        assert.deepEqual(await counts(t, false), before, `${what} wrote something`);
      }
      assert.ok(allowed > 0, `${spec.name} may use some route`);
      if (spec.kind !== 'session' || spec.role !== 'admin') assert.ok(refused > 0, `${spec.name} is refused somewhere`);
      else assert.equal(refused, 0, 'an admin may use every route');
    });
  }

  it("resident-link routes: another case's token, a made-up one and malformed ones are refused with 404", async () => {
    const p = principals.get('a resident link holder (case A)')!;
    const routes = routeTable(t.services).filter((r) => r.access === 'resident-link');
    assert.ok(routes.length >= 4);
    const madeUp = randomBytes(32).toString('base64url');
    const malformed = ['abc', 'x'.repeat(300), "A'OR'1'='1", '..%2F..%2Fetc%2Fpasswd', `${f.a.token}x`, f.a.token.slice(1), '%00'];
    for (const r of routes) {
      assert.ok(paramsOf(r.path).includes('token'), `${describeRoute(r)}: a resident-link route names its link :token`);
      const own = paramsOf(r.path).filter((x) => x !== 'token');
      const before = await counts(t);
      for (const token of [madeUp, ...malformed]) {
        const url = urlFor(r, f, f.a, { token });
        const res = await send(p, r, url, { body: { message: 'probe' } });
        assert.equal(res.status, 404, `${r.method.toUpperCase()} ${url}: answered ${res.status}`);
      }
      // B's link with A's things in the rest of the address finds nothing; B's link alone shows B's case, nothing of A's.
      const otherToken = urlFor(r, f, f.b).match(/^\/[a-z]+\/([A-Za-z0-9_-]{43})/)![1]!;
      const crossed = urlFor(r, f, f.a, { token: otherToken });
      // Nothing but the CSRF token in a post: case B's link holder may post to it, so only an empty (refused) one is sent.
      const res = await send(p, r, crossed, own.length ? { body: { message: 'probe' } } : {});
      if (own.length) assert.equal(res.status, 404, `${r.method.toUpperCase()} ${crossed} (case B's link, case A's ${own.join(', ')}) answered ${res.status}`);
      else if (r.method === 'get') {
        assert.equal(res.status, 200, crossed);
        assert.ok(!textOf(res).includes(f.a.reference) && !textOf(res).includes(f.a.internalNote), `${crossed} shows case A`);
      }
      if (r.method !== 'get' && !own.length) {
        // An empty message to case B's link: refused as empty, not as a stranger's.
        assert.ok(res.status === 400, `${r.method.toUpperCase()} ${crossed} answered ${res.status}`);
      }
      assert.deepEqual(await counts(t), before, `${describeRoute(r)}: a refused link wrote something`);
    }
  });

  it("resident-link pages never show staff data, and a case's internal note is there for staff to see", async () => {
    const admin = await t.loginAs('admin');
    const staffPage = await admin.agent.get(`/agent/cases/${f.a.reference}`).expect(200);
    assert.ok(staffPage.text.includes(f.a.internalNote), 'the internal note is on the staff page (so its absence below means something)');
    const staffEmails: string[] = (await t.db('users').select('email')).map((u: { email: string }) => u.email);
    const resident = principals.get('a resident link holder (case A)')!;
    for (const r of routeTable(t.services).filter((x) => x.access === 'resident-link' && x.method === 'get')) {
      const url = urlFor(r, f);
      for (const who of [resident, { ...resident, agent: admin.agent }]) {
        const res = await who.agent.get(url);
        assert.ok(res.status < 400, `${url}: ${res.status}`);
        assert.ok(!textOf(res).includes(f.a.internalNote), `${url} shows the internal note`);
        for (const email of staffEmails) assert.ok(!textOf(res).includes(email), `${url} shows a staff address (${email})`);
      }
    }
  });

  it('an unsafe request from a session without the CSRF token (or with another browser’s) is refused with 403 and writes nothing', async () => {
    const admin = await t.loginAs('admin');
    const adminP: Principal = { spec: { name: 'admin', kind: 'session', role: 'admin' }, agent: admin.agent, csrf: admin.csrf, headers: {} };
    const stranger = principals.get('anonymous')!.csrf;
    const resident = principals.get('a resident link holder (case A)')!;
    const unsafe = routeTable(t.services).filter((r) => UNSAFE.has(r.method) && r.access !== 'public');
    assert.ok(unsafe.length > 20);
    for (const r of unsafe) {
      const callers = r.access === 'resident-link' ? [adminP, resident] : [adminP];
      for (const p of callers) {
        for (const csrf of [false, stranger] as const) {
          const url = urlFor(r, f);
          const before = await counts(t);
          const res = await send(p, r, url, { csrf, body: { message: 'csrf probe', body: 'csrf probe', note: 'csrf probe', status: 'closed' } });
          assert.equal(res.status, 403, `${p.spec.name}: ${r.method.toUpperCase()} ${url} ${csrf ? "with another browser's" : 'without a'} CSRF token answered ${res.status}`);
          if (r.path.startsWith('/api/')) assert.equal(res.body.error, 'csrf_failed', `${url}: refused by the CSRF check`);
          assert.deepEqual(await counts(t, false), before, `${url} wrote something without a CSRF token`);
        }
      }
    }
    // The same session with its token gets through (the refusals above were the token's doing).
    await admin.agent.get('/agent').expect(200);
  });

  // ---------------------------------------------------------------- sockets

  describe('socket events', () => {
    const cursor = () => t.services.live.cursor();

    /** A payload each event accepts from a connection allowed to send it, and what must run first. */
    type Sample = { setup?: [ClientEventName, unknown][]; payload: unknown };
    const SAMPLES: Record<ClientEventName, (since: number) => Sample> = {
      subscribe: (since) => ({ payload: { since, queue: true, case: f.a.reference } }),
      typing: (since) => ({ setup: [['subscribe', { since, case: f.a.reference }]], payload: { case: f.a.reference, typing: true } }),
      presence: () => ({ payload: { status: 'available' } }),
    };
    /** For events a resident or a wallboard may send: the narrow use that is theirs, and wider ones that are not. */
    const NARROW: Record<'own-case' | 'board', Partial<Record<ClientEventName, (since: number) => { mine: unknown[]; wider: unknown[] }>>> = {
      'own-case': {
        subscribe: (since) => ({
          mine: [{ since }],
          wider: [{ since, queue: true }, { since, case: f.a.reference }, { since, case: f.b.reference }, { board: true }, { since, board: true }],
        }),
      },
      board: {
        subscribe: (since) => ({
          mine: [{ board: true }],
          wider: [{ since, queue: true }, { since, case: f.a.reference }, { board: true, queue: true, since }, { board: true, case: f.a.reference, since }, { since }],
        }),
      },
    };

    it('the server handles exactly the events of the protocol list, each with a sample here', async () => {
      assert.deepEqual(Object.keys(clientEventAccess).sort(), [...CLIENT_EVENT_NAMES].sort());
      const me = await t.loginAs('admin');
      const client = track(await connectLive(baseUrl, { cookie: cookieHeader(me.agent as never, baseUrl) }));
      for (const name of CLIENT_EVENT_NAMES) {
        assert.ok(SAMPLES[name], `no sample payload for the event ${name}: add one to SAMPLES`);
        const ack = await client.request(name, {});
        assert.notEqual((ack as { error?: string }).error, 'unknown_event', `${name} is in the list but the hub does not handle it`);
      }
    });

    it('an unauthenticated connection, a made-up or malformed resident link, a forged session or token are refused at the handshake', async () => {
      // Fresh browsers: the matrix's ones have been to /tavla with a wallboard key (its cookie opens a board socket).
      const anonymous = await browser();
      const resident = await browser({}, `/arende/${f.a.token}`);
      const refusals: [Parameters<typeof connectLive>[1], RegExp][] = [
        [{}, /unauthorized/],
        [{ cookie: 'sc_session=forged-session-value' }, /unauthorized/],
        [{ cookie: cookieHeader(anonymous.agent as never, baseUrl) }, /unauthorized/],
        [{ cookie: cookieHeader(resident.agent as never, baseUrl) }, /unauthorized/],
        [{ auth: { residentToken: randomBytes(32).toString('base64url') } }, /unknown resident link/],
        [{ auth: { residentToken: 'abc' } }, /invalid resident link/],
        [{ auth: { residentToken: { $ne: null } } }, /invalid resident link/],
        [{ auth: { token: `sc_${randomBytes(16).toString('hex')}` } }, /invalid or revoked API token/],
        [{ cookie: 'sc_wallboard=sc_forged' }, /invalid or revoked wallboard key/],
      ];
      for (const [opts, why] of refusals) assert.match((await refusedHandshake(baseUrl, opts)).message, why, JSON.stringify(opts));
    });

    /** Staff connections: a session of each role, and full API tokens. */
    const STAFF: { name: string; role: Role; via: 'session' | 'token' }[] = [
      ...ROLES.map((role) => ({ name: `a signed-in ${role}`, role, via: 'session' as const })),
      { name: "an agent's full API token", role: 'agent', via: 'token' },
      { name: "a manager's full API token", role: 'manager', via: 'token' },
    ];

    for (const s of STAFF) {
      it(`${s.name}: every event answers as the protocol's table says`, async () => {
        let client: LiveClient;
        if (s.via === 'session') {
          const me = await t.loginAs(s.role);
          client = track(await connectLive(baseUrl, { cookie: cookieHeader(me.agent as never, baseUrl) }));
        } else {
          const user = await staffUser(s.role);
          client = track(await connectLive(baseUrl, { auth: { token: await t.services.auth.createApiToken(user.email, 'matrix') } }));
        }
        for (const name of CLIENT_EVENT_NAMES) {
          const sample = SAMPLES[name](await cursor());
          const may = mayUseClientEvent(name, { kind: 'staff', role: s.role });
          if (may) for (const [step, payload] of sample.setup ?? []) assert.equal((await client.request(step, payload)).ok, true, `${s.name}: setup ${step}`);
          const ack = await client.request(name, sample.payload);
          if (may) assert.equal(ack.ok, true, `${s.name}: ${name} ${JSON.stringify(ack)}`);
          else assert.deepEqual([ack.ok, (ack as { error?: string }).error], [false, 'forbidden'], `${s.name}: ${name} needs ${clientEventAccess[name].staff}`);
        }
      });
    }

    /** A connection that is not staff: its allowed narrow uses succeed, everything else is forbidden. */
    async function checkNarrow(client: LiveClient, who: 'resident' | 'wallboard', label: string) {
      for (const name of CLIENT_EVENT_NAMES) {
        const since = await cursor();
        const rule = who === 'resident' ? clientEventAccess[name].resident : clientEventAccess[name].wallboard;
        const wider = [SAMPLES[name](since).payload];
        if (rule !== false) {
          const narrow = NARROW[rule][name];
          assert.ok(narrow, `no ${rule} samples for the event ${name}: add them to NARROW`);
          const { mine, wider: more } = narrow(since);
          for (const payload of mine) {
            const ack = await client.request(name, payload);
            assert.equal(ack.ok, true, `${label}: ${name} ${JSON.stringify(payload)} → ${JSON.stringify(ack)}`);
          }
          wider.push(...more);
        }
        for (const payload of wider) {
          const ack = await client.request(name, payload);
          assert.deepEqual([ack.ok, (ack as { error?: string }).error], [false, 'forbidden'], `${label}: ${name} ${JSON.stringify(payload)} → ${JSON.stringify(ack)}`);
        }
      }
    }

    it("a resident link opens only a resident's socket: its own case, no staff event", async () => {
      const client = track(await connectLive(baseUrl, { auth: { residentToken: f.a.token } }));
      await checkNarrow(client, 'resident', 'a resident (case A)');
      // The resident's own subscription carries case A's events and nothing of the staff's.
      assert.ok(client.messages.every((m) => m.scope === 'resident'), JSON.stringify(client.messages.map((m) => m.scope)));
    });

    it('a wallboard (its token, or its cookie) may subscribe to the board and nothing else', async () => {
      for (const opts of [{ auth: { token: f.wallboardKey } }, { cookie: `sc_wallboard=${f.wallboardKey}` }, { auth: { token: tokens.get("a wallboard token (a manager's)")! } }]) {
        const client = track(await connectLive(baseUrl, opts));
        await checkNarrow(client, 'wallboard', `a wallboard ${JSON.stringify(Object.keys(opts))}`);
        client.close();
      }
    });

    it('an event that is not in the list gets an unknown_event acknowledgement (or is ignored) and the connection keeps working', async () => {
      const me = await t.loginAs('agent');
      const client = track(await connectLive(baseUrl, { cookie: cookieHeader(me.agent as never, baseUrl) }));
      for (const name of ['nosuch', 'toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf', 'SUBSCRIBE', 'subscribe ', 'board', 'live']) {
        assert.ok(!(CLIENT_EVENT_NAMES as string[]).includes(name));
        const ack = await client.request(name, { since: 0 });
        assert.deepEqual([ack.ok, (ack as { error?: string }).error], [false, 'unknown_event'], `${name}: ${JSON.stringify(ack)}`);
      }
      client.socket.emit('nosuch', { since: 0 });
      client.socket.emit('toString');
      const ok = await client.request('subscribe', { since: await cursor(), queue: true });
      assert.equal(ok.ok, true, 'the socket still works');
      assert.ok(client.socket.connected);
      // The server is still up for everyone else.
      await t.request().get('/healthz').expect(200);
    });

    it('signing out (POST /logout) disconnects the session’s sockets, and the cookie opens none again', async () => {
      const me = await t.loginAs('agent');
      const cookie = cookieHeader(me.agent as never, baseUrl);
      const first = track(await connectLive(baseUrl, { cookie }));
      const second = track(await connectLive(baseUrl, { cookie }));
      assert.equal((await first.request('subscribe', { since: await cursor(), queue: true })).ok, true);
      // Another user's socket stays.
      const other = await t.loginAs('agent');
      const bystander = track(await connectLive(baseUrl, { cookie: cookieHeader(other.agent as never, baseUrl) }));
      await me.agent.post('/logout').type('form').send({ _csrf: me.csrf }).expect(303);
      await waitUntil(() => !first.socket.connected && !second.socket.connected, 'the signed-out sockets to close', 5_000);
      assert.ok(bystander.socket.connected, "another user's socket is left alone");
      assert.match((await refusedHandshake(baseUrl, { cookie })).message, /unauthorized/);
    });
  });
});
