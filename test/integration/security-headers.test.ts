import { strict as assert } from 'node:assert';
import type supertest from 'supertest';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../support/harness.js';

/**
 * What every page sends to keep the browser safe, escaping of user text in
 * every place it is shown, and the cookies' flags.
 */

const XSS = `<script>alert(1)</script><img src=x onerror=alert(1)>`;
/** The same text as Handlebars escapes it. */
const XSS_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;';

function assertPageHeaders(res: supertest.Response, url: string) {
  assert.match(String(res.headers['content-type']), /^text\/html/, `${url} is HTML`);
  const csp = String(res.headers['content-security-policy'] ?? '');
  assert.ok(csp, `${url}: has a Content-Security-Policy`);
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name!.toLowerCase(), values] as const;
      }),
  );
  const scriptSrc = directives.get('script-src') ?? directives.get('default-src');
  assert.deepEqual(scriptSrc, ["'self'"], `${url}: script-src 'self' only (${csp})`);
  assert.ok(!csp.includes("'unsafe-inline'"), `${url}: no 'unsafe-inline'`);
  assert.ok(!csp.includes("'unsafe-eval'"), `${url}: no 'unsafe-eval'`);
  assert.deepEqual(directives.get('object-src'), ["'none'"], `${url}: no plugins`);
  const frameAncestors = directives.get('frame-ancestors');
  const xfo = String(res.headers['x-frame-options'] ?? '').toUpperCase();
  assert.ok((frameAncestors && frameAncestors.join(' ') === "'none'") || xfo === 'DENY', `${url}: cannot be framed`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', `${url}: no referrer`);
  assert.equal(res.headers['x-powered-by'], undefined, `${url}: no X-Powered-By`);
}

const cookiesOf = (res: supertest.Response): string[] => ([] as string[]).concat(res.headers['set-cookie'] ?? []);
const cookieNamed = (res: supertest.Response, name: string) => cookiesOf(res).find((c) => c.startsWith(`${name}=`));
const attrs = (cookie: string) => cookie.split(';').slice(1).map((a) => a.trim().toLowerCase());

describe('security headers and escaping', () => {
  let t: TestApp;
  let agent: SignedIn;
  let admin: SignedIn;
  let token: string;
  let reference: string;

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent');
    admin = await t.loginAs('admin');
    // A resident whose name, subject and message are all markup, sent through the real form.
    const client = t.request();
    const page = await client.get('/kontakt').expect(200);
    const res = await postMultipart(client, '/kontakt', {
      _csrf: csrfFrom(page.text),
      category: 'ovrigt',
      name: XSS,
      email: 'xss@example.com',
      phone: '',
      subject: XSS,
      message: `${XSS}\nandra raden`,
    }).expect(303);
    token = /^\/kvitto\/(.+)$/.exec(res.headers.location!)![1]!;
    const row = await t.db('cases').where({ resident_token: token }).first();
    reference = row.reference;
  });
  after(() => t.close());

  it('every public page sends the safe headers', async () => {
    for (const url of ['/', '/kontakt', '/kontakt?amne=bygglov', '/login', `/kvitto/${token}`, `/arende/${token}`, '/?lang=en']) {
      const res = await t.request().get(url).expect(200);
      assertPageHeaders(res, url);
    }
  });

  it('error pages send them too (404, 403, 400)', async () => {
    assertPageHeaders(await t.request().get('/finns-inte').expect(404), '404');
    assertPageHeaders(await t.request().get(`/arende/${'a'.repeat(43)}`).expect(404), 'unknown case');
    assertPageHeaders(await t.request().post('/kontakt').type('form').send({ name: 'x' }).expect(403), '403');
    assertPageHeaders(await agent.agent.get('/admin/users').expect(403), 'forbidden');
    assertPageHeaders(await agent.agent.get('/agent?status=bogus').expect(400), 'bad filter');
  });

  it('every staff page sends them', async () => {
    for (const url of ['/agent', `/agent/cases/${reference}`, '/agent?status=all']) assertPageHeaders(await agent.agent.get(url).expect(200), url);
    for (const url of ['/agent/agents', '/admin/users', '/admin/departments', '/admin/categories']) assertPageHeaders(await admin.agent.get(url).expect(200), url);
  });

  it('JSON answers have nosniff and no X-Powered-By either', async () => {
    const res = await t.request().get('/healthz').expect(200);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-powered-by'], undefined);
    const api = await t.request().get('/api/v1/cases').expect(401);
    assert.equal(api.headers['x-powered-by'], undefined);
  });

  it('the receipt and the resident case page are never cached', async () => {
    for (const url of [`/kvitto/${token}`, `/arende/${token}`, `/arende/${token}?skickat=1`]) {
      const res = await t.request().get(url).expect(200);
      assert.match(String(res.headers['cache-control']), /\bno-store\b/, url);
    }
  });

  describe('user text is escaped wherever it is shown', () => {
    const assertEscaped = (html: string, where: string, times = 1) => {
      assert.ok(!html.includes('<script>alert(1)'), `${where}: no raw script tag`);
      assert.ok(!html.includes('<img src=x'), `${where}: no raw img tag`);
      assert.ok(!/onerror=alert/.test(html), `${where}: no raw event handler`);
      const count = html.split(XSS_ESCAPED).length - 1;
      assert.ok(count >= times, `${where}: the escaped text is shown (${count}×, expected at least ${times})`);
    };

    it('on the resident case page (subject and message)', async () => {
      const res = await t.request().get(`/arende/${token}`).expect(200);
      assertEscaped(res.text, 'resident page', 2);
      assert.ok(res.text.includes(`${XSS_ESCAPED}<br>andra raden`), 'line breaks kept, markup escaped');
    });

    it('in the queue (subject)', async () => {
      const res = await agent.agent.get('/agent').expect(200);
      assertEscaped(res.text, 'queue');
    });

    it('on the agent case page (name, subject, message, and the title)', async () => {
      const res = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      assertEscaped(res.text, 'case view', 4);
      assert.ok(res.text.includes(`<title>${reference} – ${XSS_ESCAPED}`), 'the title is escaped');
    });

    it('in a re-rendered form (values kept after an error)', async () => {
      const client = t.request();
      const page = await client.get('/kontakt').expect(200);
      const res = await postMultipart(client, '/kontakt', {
        _csrf: csrfFrom(page.text),
        category: 'ovrigt',
        name: XSS,
        email: '',
        phone: '',
        subject: XSS,
        message: XSS,
      }).expect(400);
      assertEscaped(res.text, 'contact form', 3);
    });

    it('an agent reply and a note are escaped on both sides', async () => {
      await agent.agent.post(`/agent/cases/${reference}/reply`).type('form').send({ _csrf: agent.csrf, body: XSS, status: 'waiting' }).expect(303);
      await agent.agent.post(`/agent/cases/${reference}/note`).type('form').send({ _csrf: agent.csrf, body: XSS }).expect(303);
      const resident = await t.request().get(`/arende/${token}`).expect(200);
      assertEscaped(resident.text, 'resident page after reply', 3);
      const staff = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      assertEscaped(staff.text, 'case view after reply and note', 6);
    });

    it('a staff name is escaped where colleagues see it', async () => {
      const evil = await t.loginAs('agent', XSS);
      await evil.agent.post(`/agent/cases/${reference}/note`).type('form').send({ _csrf: evil.csrf, body: 'Hej' }).expect(303);
      const staff = await agent.agent.get(`/agent/cases/${reference}`).expect(200);
      assertEscaped(staff.text, 'timeline and assignee list');
      const users = await admin.agent.get('/admin/users').expect(200);
      assertEscaped(users.text, 'admin user list');
    });
  });

  describe('cookies', () => {
    it('the session cookie is HttpOnly and SameSite=Lax, not Secure on plain HTTP', async () => {
      const client = t.request();
      const form = await client.get('/login').expect(200);
      const csrfCookie = cookieNamed(form, 'sc_csrf');
      assert.ok(csrfCookie, 'the form sets the CSRF cookie');
      assert.ok(attrs(csrfCookie).includes('httponly'));
      assert.ok(attrs(csrfCookie).includes('samesite=lax'));
      const email = `cookie.${Date.now()}@test.example`;
      await t.services.auth.createUser({ email, name: 'Kaka', role: 'agent', password: TEST_PASSWORD });
      const res = await client.post('/login').type('form').send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(form.text) }).expect(303);
      const session = cookieNamed(res, 'sc_session');
      assert.ok(session, 'sets the session cookie');
      const a = attrs(session);
      assert.ok(a.includes('httponly'), session);
      assert.ok(a.includes('samesite=lax'), session);
      assert.ok(a.includes('path=/'), session);
      assert.ok(!a.includes('secure'), 'not Secure when cookieSecure is false');
      assert.match(session, /^sc_session=[A-Za-z0-9_-]{43};/, 'an opaque random value');
    });

    it('with cookieSecure: __Host- cookies that are Secure, HttpOnly and SameSite=Lax, and HSTS', async () => {
      const secure = await startTestApp({ config: { cookieSecure: true, publicUrl: 'https://kontakt.borlange.example' } });
      try {
        // supertest does not send Secure cookies over plain HTTP: carry them by hand, as a browser on HTTPS would.
        const form = await secure.request().get('/login').expect(200);
        const csrfCookie = cookieNamed(form, '__Host-sc_csrf');
        assert.ok(csrfCookie, 'the CSRF cookie has the __Host- prefix');
        assert.ok(attrs(csrfCookie).includes('secure'));
        assert.ok(attrs(csrfCookie).includes('httponly'));
        assert.ok(attrs(csrfCookie).includes('path=/'));
        assert.ok(!attrs(csrfCookie).some((x) => x.startsWith('domain=')), '__Host- cookies have no Domain');
        const email = `secure.${Date.now()}@test.example`;
        await secure.services.auth.createUser({ email, name: 'Säker', role: 'agent', password: TEST_PASSWORD });
        const res = await secure
          .request()
          .post('/login')
          .set('Cookie', csrfCookie.split(';')[0]!)
          .type('form')
          .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(form.text) })
          .expect(303);
        const session = cookieNamed(res, '__Host-sc_session');
        assert.ok(session, `sets the __Host- session cookie: ${cookiesOf(res).join(' | ')}`);
        const a = attrs(session);
        assert.ok(a.includes('secure'), session);
        assert.ok(a.includes('httponly'), session);
        assert.ok(a.includes('samesite=lax'), session);
        assert.ok(a.includes('path=/'), session);
        assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
        // The session works when the browser sends it back.
        const page = await secure.request().get('/agent').set('Cookie', session.split(';')[0]!).expect(200);
        assertPageHeaders(page, '/agent over https');
        // A plain cookie without the prefix is not taken for the session.
        const plain = session.split(';')[0]!.replace('__Host-sc_session', 'sc_session');
        await secure.request().get('/agent').set('Cookie', plain).expect(303);
      } finally {
        await secure.close();
      }
    });

    it('logging out clears the session cookie and ends the session', async () => {
      const user = await t.loginAs('agent');
      const res = await user.agent.post('/logout').type('form').send({ _csrf: user.csrf }).expect(303);
      const cleared = cookieNamed(res, 'sc_session');
      assert.ok(cleared);
      assert.match(cleared, /^sc_session=;/);
      assert.ok(attrs(cleared).some((x) => x === 'max-age=0' || x.startsWith('expires=thu, 01 jan 1970')));
      await user.agent.get('/agent').expect(303);
    });
  });
});
