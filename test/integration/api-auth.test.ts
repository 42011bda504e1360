import { strict as assert } from 'node:assert';
import supertest from 'supertest';
import { z } from 'zod';
import { routeTable } from '../../server/app.js';
import { sha256 } from '../../server/auth/service.js';
import { MESSAGE_MAX, newCaseSchema } from '../../server/cases/schemas.js';
import { csrfFrom, newCase, rowCounts, startTestApp, TEST_PASSWORD, type TestApp } from '../support/harness.js';
import { apiUser, caseSnapshot, countOf, createCase } from './helpers.js';

type Json = Record<string, any>;

/** The value of a cookie set by a response, or undefined. */
function setCookie(res: supertest.Response, name: string): { value: string; attributes: string[]; raw: string } | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  const raw = (header ?? []).find((c) => c.startsWith(`${name}=`));
  if (!raw) return undefined;
  const [pair, ...attributes] = raw.split(';').map((s) => s.trim());
  return { value: decodeURIComponent(pair!.slice(name.length + 1)), attributes, raw };
}

describe('API and pages: authentication, sessions, CSRF and roles', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  /** A client without a cookie jar: every cookie is sent by hand. */
  const bare = () => supertest(t.app);

  async function newUser(role: 'agent' | 'manager' | 'admin' = 'agent') {
    const email = `auth-${role}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@test.example`;
    const user = await t.services.auth.createUser({ email, name: `Auth ${role}`, role, password: TEST_PASSWORD });
    return { ...user, email };
  }

  /** Opens the login form with the given cookies and answers the form's CSRF token and the cookies to send back. */
  async function loginForm(cookies: string[] = []) {
    const res = await bare().get('/login').set('Cookie', cookies.join('; ')).expect(200);
    const csrfCookie = setCookie(res, 'sc_csrf');
    const all = csrfCookie ? [...cookies.filter((c) => !c.startsWith('sc_csrf=')), `sc_csrf=${csrfCookie.value}`] : cookies;
    return { csrf: csrfFrom(res.text), cookies: all };
  }

  async function postLogin(email: string, password: string, cookies: string[], status: number) {
    const form = await loginForm(cookies);
    return bare().post('/login').set('Cookie', form.cookies.join('; ')).type('form').send({ email, password, _csrf: form.csrf }).expect(status);
  }

  /** The session cookie a successful login sets. */
  async function login(email: string, cookies: string[] = []): Promise<string> {
    const res = await postLogin(email, TEST_PASSWORD, cookies, 303);
    const session = setCookie(res, 'sc_session');
    assert.ok(session?.value, 'a session cookie is set');
    return session.value;
  }

  const withSession = (token: string) => `sc_session=${token}`;
  const sessionWorks = async (token: string) => (await bare().get('/api/v1/cases').set('Cookie', withSession(token))).status === 200;
  const pageCsrf = async (token: string) => csrfFrom((await bare().get('/agent').set('Cookie', withSession(token)).expect(200)).text);

  describe('anonymous callers', () => {
    it('get 401 unauthorized from every agent endpoint of the API', async () => {
      const { reference } = await createCase(t);
      const calls: [string, string, object?][] = [
        ['get', '/api/v1/cases'],
        ['get', `/api/v1/cases/${reference}`],
        ['patch', `/api/v1/cases/${reference}`, { status: 'open' }],
        ['post', `/api/v1/cases/${reference}/replies`, { body: 'x' }],
        ['post', `/api/v1/cases/${reference}/notes`, { body: 'x' }],
        ['post', `/api/v1/cases/${reference}/forward`, { department: 'teknik', note: 'x' }],
        ['get', '/api/v1/departments'],
      ];
      const before = await caseSnapshot(t.db, reference);
      for (const [method, url, body] of calls) {
        const req = (bare() as unknown as Record<string, (u: string) => supertest.Test>)[method]!(url);
        const res = await (body ? req.send(body) : req).expect('Content-Type', /json/);
        assert.equal(res.status, 401, `${method} ${url}`);
        assert.equal(res.body.error, 'unauthorized');
      }
      assert.deepEqual(await caseSnapshot(t.db, reference), before);
    });

    it('are turned away from every staff route in the route table', async () => {
      const staff = routeTable(t.services).filter((r) => r.access !== 'public' && r.access !== 'resident-link');
      assert.ok(staff.length >= 15, `the table has the staff routes (${staff.length})`);
      for (const r of staff) {
        const url = r.path.replace(':reference', 'SC-2026-000001').replace(':publicId', 'abc').replace(':id', '1');
        const res = await (bare() as unknown as Record<string, (u: string) => supertest.Test>)[r.method]!(url);
        if (url.startsWith('/api/')) {
          assert.equal(res.status, 401, `${r.method} ${url}`);
          assert.equal(res.body.error, 'unauthorized');
        } else if (r.method === 'get') {
          assert.equal(res.status, 303, `${r.method} ${url}`);
          assert.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`);
        } else {
          assert.equal(res.status, 401, `${r.method} ${url}`);
        }
      }
    });

    it('can still use the public endpoints', async () => {
      await bare().post('/api/v1/cases').send(newCase()).expect(201);
      const cats = await bare().get('/api/v1/categories').expect(200);
      assert.ok(cats.body.items.some((c: Json) => c.slug === 'bygglov'));
    });
  });

  describe('bearer tokens', () => {
    it('refuse a malformed, unknown or revoked token with 401', async () => {
      const { token, auth } = await apiUser(t);
      await bare().get('/api/v1/cases').set(auth).expect(200);
      for (const header of ['Bearer nope', `Bearer ${token}x`, `Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer', `Token ${token}`]) {
        const res = await bare().get('/api/v1/cases').set('Authorization', header).expect(401);
        assert.equal(res.body.error, 'unauthorized', header);
      }
      await t.db('api_tokens').where({ token_hash: sha256(token) }).update({ revoked_at: new Date() });
      const res = await bare().get('/api/v1/cases').set(auth).expect(401);
      assert.equal(res.body.error, 'unauthorized');
    });

    it('are read on the API however its path is capitalised (Express matches /API/ too)', async () => {
      const { auth } = await apiUser(t);
      const ok = await bare().get('/API/v1/cases').set(auth).expect(200);
      assert.ok(Array.isArray(ok.body.items), JSON.stringify(ok.body).slice(0, 200));
      const refused = await bare().get('/Api/v1/cases').expect(401);
      assert.equal(refused.body.error, 'unauthorized', 'an API answer in JSON, not the sign-in page');
    });

    it('refuse a bad token even on a public endpoint, writing nothing', async () => {
      const before = await rowCounts(t.db);
      const res = await bare().post('/api/v1/cases').set('Authorization', 'Bearer nope').send(newCase()).expect(401);
      assert.equal(res.body.error, 'unauthorized');
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('need no CSRF token', async () => {
      const { auth } = await apiUser(t);
      const { reference } = await createCase(t);
      const res = await bare().patch(`/api/v1/cases/${reference}`).set(auth).send({ status: 'open' }).expect(200);
      assert.equal(res.body.status, 'open');
      await bare().post(`/api/v1/cases/${reference}/notes`).set(auth).send({ body: 'Utan CSRF' }).expect(201);
    });

    it('record when they were last used', async () => {
      const { token, auth } = await apiUser(t);
      const row = () => t.db('api_tokens').where({ token_hash: sha256(token) }).first();
      assert.equal((await row()).last_used_at, null);
      await bare().get('/api/v1/cases').set(auth).expect(200);
      assert.ok((await row()).last_used_at);
    });
  });

  describe('CSRF on API calls made with a session cookie', () => {
    it('answers 403 csrf_failed without the X-CSRF-Token header or with a wrong one, and changes nothing', async () => {
      const s = await t.loginAs('agent');
      const other = await t.loginAs('agent');
      const { reference } = await createCase(t);
      const before = await caseSnapshot(t.db, reference);
      const attempts: [string, supertest.Test][] = [
        ['no header', s.agent.patch(`/api/v1/cases/${reference}`).send({ status: 'open' })],
        ['wrong token', s.agent.patch(`/api/v1/cases/${reference}`).set('X-CSRF-Token', 'wrong').send({ status: 'open' })],
        ['a token of another session', s.agent.patch(`/api/v1/cases/${reference}`).set('X-CSRF-Token', other.csrf).send({ status: 'open' })],
        ['a slightly changed token', s.agent.patch(`/api/v1/cases/${reference}`).set('X-CSRF-Token', `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}`).send({ status: 'open' })],
        ['note, no header', s.agent.post(`/api/v1/cases/${reference}/notes`).send({ body: 'x' })],
        ['reply, no header', s.agent.post(`/api/v1/cases/${reference}/replies`).send({ body: 'x' })],
        ['forward, no header', s.agent.post(`/api/v1/cases/${reference}/forward`).send({ department: 'teknik', note: 'x' })],
      ];
      for (const [what, req] of attempts) {
        const res = await req;
        assert.equal(res.status, 403, what);
        assert.equal(res.body.error, 'csrf_failed', what);
      }
      assert.deepEqual(await caseSnapshot(t.db, reference), before);
      // Reading needs no token, and the right token lets the change through.
      await s.agent.get(`/api/v1/cases/${reference}`).expect(200);
      const ok = await s.agent.patch(`/api/v1/cases/${reference}`).set('X-CSRF-Token', s.csrf).send({ status: 'open' }).expect(200);
      assert.equal(ok.body.status, 'open');
    });

    it('accepts the token in the JSON body as _csrf too', async () => {
      const s = await t.loginAs('agent');
      const { reference } = await createCase(t);
      await s.agent.post(`/api/v1/cases/${reference}/notes`).send({ body: 'Med _csrf', _csrf: s.csrf }).expect(201);
    });
  });

  describe('deactivated users', () => {
    it('lose their API tokens and sessions at once', async () => {
      const s = await t.loginAs('agent');
      const token = await t.services.auth.createApiToken(s.user.email);
      await bare().get('/api/v1/cases').set('Authorization', `Bearer ${token}`).expect(200);
      await s.agent.get('/api/v1/cases').expect(200);

      await t.services.auth.setActive(s.user.id, false);

      const viaToken = await bare().get('/api/v1/cases').set('Authorization', `Bearer ${token}`).expect(401);
      assert.equal(viaToken.body.error, 'unauthorized');
      const viaSession = await s.agent.get('/api/v1/cases').expect(401);
      assert.equal(viaSession.body.error, 'unauthorized');
      const page = await s.agent.get('/agent').expect(303);
      assert.match(page.headers.location!, /^\/login/);
      assert.equal(await countOf(t.db, 'sessions', { user_id: s.user.id }), 0);
      await postLogin(s.user.email, TEST_PASSWORD, [], 401);
      await assert.rejects(t.services.auth.createApiToken(s.user.email));
    });
  });

  describe('login and logout', () => {
    it('answers a wrong password and an unknown e-mail alike', async () => {
      const user = await newUser();
      const unknown = `nobody.${Date.now()}@test.example`;
      const cookies = (await loginForm()).cookies;
      const wrong = await postLogin(user.email, 'wrong password 12345', cookies, 401);
      const missing = await postLogin(unknown, TEST_PASSWORD, cookies, 401);
      assert.equal(setCookie(wrong, 'sc_session'), undefined, 'no session for a failed login');
      assert.equal(setCookie(missing, 'sc_session'), undefined);
      assert.ok(wrong.text.includes(user.email), 'the form keeps the e-mail');
      assert.equal(wrong.text.replaceAll(user.email, 'EMAIL'), missing.text.replaceAll(unknown, 'EMAIL'));
      assert.equal(wrong.headers['content-type'], missing.headers['content-type']);
    });

    it('refuses a login form without its CSRF token', async () => {
      const user = await newUser();
      const res = await bare().post('/login').type('form').send({ email: user.email, password: TEST_PASSWORD }).expect(403);
      assert.equal(setCookie(res, 'sc_session'), undefined);
    });

    it('sets HttpOnly, SameSite=Lax cookies', async () => {
      const user = await newUser();
      const form = await bare().get('/login').expect(200);
      const csrf = setCookie(form, 'sc_csrf');
      assert.ok(csrf);
      const login = await bare().post('/login').set('Cookie', `sc_csrf=${csrf.value}`).type('form').send({ email: user.email, password: TEST_PASSWORD, _csrf: csrfFrom(form.text) }).expect(303);
      const session = setCookie(login, 'sc_session');
      assert.ok(session);
      for (const c of [csrf, session]) {
        assert.ok(c.attributes.includes('HttpOnly'), c.raw);
        assert.ok(c.attributes.includes('SameSite=Lax'), c.raw);
        assert.ok(c.attributes.includes('Path=/'), c.raw);
        assert.ok(!c.attributes.includes('Secure'), 'no Secure flag over plain http in tests');
      }
      assert.ok(session.value.length >= 43, 'a long random session id');
    });

    it('gives a new session id at login: a planted or earlier cookie is not reused', async () => {
      const user = await newUser();
      const planted = 'planted-by-someone-else-0123456789abcdefghijk';
      const first = await login(user.email, [withSession(planted)]);
      assert.notEqual(first, planted);
      assert.equal(await sessionWorks(planted), false, 'the planted value is no session');
      assert.equal(await sessionWorks(first), true);

      // Signing in again while signed in retires the old session.
      const csrf = await pageCsrf(first);
      const again = await bare().post('/login').set('Cookie', withSession(first)).type('form').send({ email: user.email, password: TEST_PASSWORD, _csrf: csrf }).expect(303);
      const second = setCookie(again, 'sc_session')?.value;
      assert.ok(second);
      assert.notEqual(second, first);
      assert.equal(await sessionWorks(first), false, 'the earlier session ended');
      assert.equal(await sessionWorks(second), true);
      assert.equal(await countOf(t.db, 'sessions', { user_id: user.id }), 1);
      const stored = await t.db('sessions').where({ user_id: user.id }).first();
      assert.equal(stored.id, sha256(second), 'only a hash of the cookie is stored');
    });

    it('ends the session at logout: the old cookie no longer works', async () => {
      const user = await newUser();
      const token = await login(user.email);
      const csrf = await pageCsrf(token);
      const refused = await bare().post('/logout').set('Cookie', withSession(token)).type('form').send({}).expect(403);
      assert.equal(setCookie(refused, 'sc_session'), undefined);
      assert.equal(await sessionWorks(token), true, 'a logout without its CSRF token does nothing');

      const res = await bare().post('/logout').set('Cookie', withSession(token)).type('form').send({ _csrf: csrf }).expect(303);
      assert.equal(res.headers.location, '/login?utloggad=1');
      const cleared = setCookie(res, 'sc_session');
      assert.ok(cleared);
      assert.equal(cleared.value, '');
      assert.ok(cleared.attributes.includes('Max-Age=0'));
      assert.equal(await sessionWorks(token), false);
      const page = await bare().get('/agent').set('Cookie', withSession(token)).expect(303);
      assert.equal(page.headers.location, '/login?next=%2Fagent');
      assert.equal(await countOf(t.db, 'sessions', { user_id: user.id }), 0);
    });
  });

  describe('roles', () => {
    it('an agent gets 403 on admin and manager pages', async () => {
      const s = await t.loginAs('agent');
      for (const url of ['/admin/users', '/admin/departments', '/admin/categories', '/agent/agents']) {
        const res = await s.agent.get(url);
        assert.equal(res.status, 403, url);
      }
      await s.agent.get('/agent').expect(200);
      await s.agent.get('/api/v1/cases').expect(200);
      const users = await countOf(t.db, 'users');
      await s.agent
        .post('/admin/users')
        .type('form')
        .send({ _csrf: s.csrf, email: `sneaky.${Date.now()}@test.example`, name: 'Sneaky', role: 'admin', password: 'a long enough password' })
        .expect(403);
      assert.equal(await countOf(t.db, 'users'), users, 'no user was created');
    });

    it('a manager sees the agents page but not the admin pages; an admin sees both', async () => {
      const manager = await t.loginAs('manager');
      await manager.agent.get('/agent/agents').expect(200);
      await manager.agent.get('/admin/users').expect(403);
      const admin = await t.loginAs('admin');
      await admin.agent.get('/admin/users').expect(200);
      await admin.agent.get('/agent/agents').expect(200);
    });
  });

  describe('the OpenAPI document', () => {
    it('is an OpenAPI 3 document generated from the validation schemas', async () => {
      const res = await bare().get('/api/v1/openapi.json').expect('Content-Type', /json/).expect(200);
      const doc = res.body as Json;
      assert.match(doc.openapi, /^3\./);
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
      assert.ok(doc.paths['/api/v1/cases'].post, 'POST /api/v1/cases');
      assert.ok(doc.paths['/api/v1/cases'].get, 'GET /api/v1/cases');
      assert.ok(doc.paths['/api/v1/cases/{reference}'].get);
      assert.ok(doc.paths['/api/v1/cases/{reference}'].patch);
      for (const p of ['replies', 'notes', 'forward']) assert.ok(doc.paths[`/api/v1/cases/{reference}/${p}`].post, p);
      assert.deepEqual(doc.paths['/api/v1/cases'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/NewCase' });
      assert.ok(doc.components.securitySchemes.bearer);
      assert.deepEqual(doc.servers, [{ url: t.config.publicUrl }]);

      // Every $ref points at a schema that exists.
      const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
      assert.ok(refs.includes('NewCase') && refs.includes('CaseDetail'));
      for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref], ref);

      const newCaseDoc = doc.components.schemas.NewCase;
      assert.equal(newCaseDoc.type, 'object');
      for (const field of ['name', 'email', 'phone', 'category', 'message']) assert.ok(newCaseDoc.properties[field], field);
      assert.deepEqual(Object.keys(newCaseDoc.properties).sort(), Object.keys(newCaseSchema.shape).sort());
      assert.deepEqual([...newCaseDoc.required].sort(), ['category', 'message', 'name']);
      // The limits come from the zod schema itself.
      assert.equal(newCaseDoc.properties.name.maxLength, newCaseSchema.shape.name.maxLength);
      assert.equal(newCaseDoc.properties.message.maxLength, newCaseSchema.shape.message.maxLength);
      assert.equal(newCaseDoc.properties.message.maxLength, MESSAGE_MAX);
      assert.equal(newCaseDoc.properties.name.maxLength, 200);
      assert.equal(newCaseDoc.properties.subject.maxLength, 200);
      assert.equal(newCaseDoc.properties.email.maxLength, 254);
      const generated = z.toJSONSchema(newCaseSchema, { io: 'input', unrepresentable: 'any' }) as Json;
      const fromZod = (generated.$defs?.NewCase ?? generated) as Json;
      assert.deepEqual(newCaseDoc.properties, fromZod.properties);
      for (const [field, schema] of Object.entries(fromZod.properties as Record<string, Json>)) {
        assert.equal(newCaseDoc.properties[field].maxLength, schema.maxLength, `maxLength of ${field}`);
      }

      // The queue's query parameters are the query schema's.
      const params = doc.paths['/api/v1/cases'].get.parameters.map((p: Json) => p.name).sort();
      assert.deepEqual(params, ['category', 'channel', 'cursor', 'limit', 'status']);
    });
  });

  describe('/healthz', () => {
    it('answers 503 unavailable when the database is gone', async () => {
      const t2 = await startTestApp();
      try {
        await supertest(t2.app).get('/healthz').expect(200, { status: 'ok' });
        // The background jobs stop first: destroying a pool under a running transaction waits for it.
        await t2.services.intake.processor.stop();
        await t2.services.mail.worker.stop();
        await t2.db.destroy();
        const res = await supertest(t2.app).get('/healthz').expect('Content-Type', /json/).expect(503);
        assert.deepEqual(res.body, { status: 'unavailable' });
      } finally {
        await t2.close();
      }
    });
  });

  describe('over HTTPS (cookieSecure)', () => {
    it('uses __Host- cookies with the Secure flag', async () => {
      const t3 = await startTestApp({ config: { cookieSecure: true } });
      try {
        const email = `secure.${Date.now()}@test.example`;
        await t3.services.auth.createUser({ email, name: 'Secure', role: 'agent', password: TEST_PASSWORD });
        const form = await supertest(t3.app).get('/login').expect(200);
        assert.equal(setCookie(form, 'sc_csrf'), undefined, 'no unprefixed cookie');
        const csrf = setCookie(form, '__Host-sc_csrf');
        assert.ok(csrf);
        const res = await supertest(t3.app)
          .post('/login')
          .set('Cookie', `__Host-sc_csrf=${csrf.value}`)
          .type('form')
          .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(form.text) })
          .expect(303);
        const session = setCookie(res, '__Host-sc_session');
        assert.ok(session);
        for (const c of [csrf, session]) {
          for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(c.attributes.includes(attr), `${attr} in ${c.raw}`);
          assert.ok(!c.attributes.some((a) => a.startsWith('Domain=')), '__Host- cookies carry no Domain');
        }
        assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
        // The unprefixed name is not read when cookies are secure.
        await supertest(t3.app).get('/api/v1/cases').set('Cookie', `sc_session=${session.value}`).expect(401);
        await supertest(t3.app).get('/api/v1/cases').set('Cookie', `__Host-sc_session=${session.value}`).expect(200);
      } finally {
        await t3.close();
      }
    });
  });
});
