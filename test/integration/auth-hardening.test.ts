import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import argon2 from 'argon2';
import { pino } from 'pino';
import supertest from 'supertest';
import { createAuthService, emailKeyOf, sha256 } from '../../server/auth/service.js';
import { createAuthStore } from '../../server/auth/store.js';
import { translate } from '../../server/platform/i18n.js';
import { csrfFrom, startTestApp, TEST_PASSWORD, type TestApp } from '../support/harness.js';
import { connectLive, refusedHandshake, type LiveClient } from '../support/live-client.js';

/**
 * Sign-in hardening against the real database and real sockets: a per-account
 * lockout that parallel requests cannot race, answers that do not tell known,
 * unknown, inactive and locked accounts apart, the user's own password change
 * (which ends their other sessions and sockets), logout and session fixation.
 */

const THRESHOLD = 4;
const LOCKED = translate('sv', 'login.locked');
const FAILED = translate('sv', 'login.failed');
const NEW_PASSWORD = 'a brand new passphrase 2026';

type Res = supertest.Response;

/** The value of a cookie a response sets, or undefined. */
function setCookie(res: Res, name: string): string | undefined {
  const header = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const raw = header.find((c) => c.startsWith(`${name}=`));
  return raw === undefined ? undefined : decodeURIComponent(raw.split(';')[0]!.slice(name.length + 1));
}

const setCookieNames = (res: Res) => ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split('=')[0]).sort();

describe('sign-in hardening: lockout, identical answers, password change, logout, fixation', function () {
  this.timeout(60_000);
  let t: TestApp;
  let baseUrl: string;
  const open: LiveClient[] = [];
  let n = 0;

  before(async () => {
    t = await startTestApp({ config: { loginLockout: { threshold: THRESHOLD, minutes: 15, windowMinutes: 15 } } });
    baseUrl = await t.listen();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(() => t?.close());

  /** A client without a cookie jar: every cookie is sent by hand. */
  const http = () => supertest(baseUrl);
  const session = (token: string) => `sc_session=${token}`;

  /** Same-length addresses, so that answers can be compared byte for byte. */
  const address = (tag: string) => `${tag}-${process.pid}-${String(++n).padStart(4, '0')}@hardening.example`;

  async function newUser(tag = 'known', role: 'agent' | 'admin' = 'agent') {
    const email = address(tag);
    const user = await t.services.auth.createUser({ email, name: `Hardening ${tag}`, role, password: TEST_PASSWORD });
    return { ...user, email };
  }

  /** A browser's first visit to the login form: its CSRF cookie and the form's token. */
  async function loginForm(cookies: string[] = []) {
    const res = await http().get('/login').set('Cookie', cookies.join('; ')).expect(200);
    const csrf = setCookie(res, 'sc_csrf');
    return { csrf: csrfFrom(res.text), cookies: [...cookies.filter((c) => !c.startsWith('sc_csrf=')), ...(csrf ? [`sc_csrf=${csrf}`] : [])] };
  }

  const postLogin = (form: { csrf: string; cookies: string[] }, email: string, password: string) =>
    http().post('/login').set('Cookie', form.cookies.join('; ')).type('form').send({ email, password, _csrf: form.csrf });

  /** Signs in through the form; answers the new session cookie. */
  async function login(email: string, password = TEST_PASSWORD, cookies: string[] = []): Promise<string> {
    const res = await postLogin(await loginForm(cookies), email, password).expect(303);
    const token = setCookie(res, 'sc_session');
    assert.ok(token, 'a session cookie is set');
    return token;
  }

  const works = async (token: string) => (await http().get('/agent/konto').set('Cookie', session(token))).status === 200;
  const csrfOf = async (token: string) => csrfFrom((await http().get('/agent/konto').set('Cookie', session(token)).expect(200)).text);

  async function socketOf(token: string): Promise<{ client: LiveClient; closed: Promise<string> }> {
    const client = await connectLive(baseUrl, { cookie: session(token) });
    open.push(client);
    const closed = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
    return { client, closed };
  }

  const failuresOf = (email: string) => t.db('login_failures').where({ email_key: emailKeyOf(email) }).first<{ failures: number; locked_until: Date | null; updated_at: Date } | undefined>();
  const hashOf = async (id: number) => (await t.db('users').where({ id }).first<{ password_hash: string }>('password_hash'))!.password_hash;
  const sessionIds = async (userId: number) => (await t.db('sessions').where({ user_id: userId }).orderBy('id').select<{ id: string }[]>('id')).map((r) => r.id);

  /** Counts argon2 verifications while `run` runs (the real verify still does the work). */
  async function countingVerifications<T>(run: () => Promise<T>): Promise<{ result: T; verifications: number }> {
    const real = argon2.verify;
    let verifications = 0;
    (argon2 as { verify: typeof real }).verify = (...args: Parameters<typeof real>) => {
      verifications++;
      return real(...args);
    };
    try {
      return { result: await run(), verifications };
    } finally {
      (argon2 as { verify: typeof real }).verify = real;
    }
  }

  describe('per-account lockout', () => {
    it(`20 parallel wrong attempts: exactly ${THRESHOLD} are counted and checked, the rest refused as locked`, async () => {
      const user = await newUser();
      const form = await loginForm();
      const { result: answers, verifications } = await countingVerifications(() =>
        Promise.all(Array.from({ length: 20 }, (_, i) => postLogin(form, user.email, `wrong password number ${i}`))),
      );
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [401]);
      assert.ok(answers.every((r) => setCookie(r, 'sc_session') === undefined), 'no session for anyone');
      assert.equal(verifications, THRESHOLD, 'no attempt beyond the threshold is checked against the password');
      const row = await failuresOf(user.email);
      assert.equal(row?.failures, THRESHOLD, 'exactly the threshold is counted');
      assert.ok(row?.locked_until && new Date(row.locked_until).getTime() > Date.now() + 14 * 60_000, 'locked for 15 minutes');
      // The attempts before the last counted one fail plainly; the one that locks and every later one say so.
      const plain = answers.filter((r) => !r.text.includes(LOCKED));
      assert.equal(plain.length, THRESHOLD - 1);
      assert.ok(answers.every((r) => r.text.includes(FAILED)));
    });

    it('refuses the right password during the lock (without checking it), then lets it in once the lock ends, and resets', async () => {
      const user = await newUser();
      const form = await loginForm();
      for (let i = 0; i < THRESHOLD; i++) await postLogin(form, user.email, 'wrong password 12345').expect(401);
      const { result: during, verifications } = await countingVerifications(() => postLogin(form, user.email, TEST_PASSWORD));
      assert.equal(during.status, 401);
      assert.ok(during.text.includes(LOCKED), 'the neutral sentence');
      assert.equal(setCookie(during, 'sc_session'), undefined);
      assert.equal(verifications, 0, 'a locked attempt is refused before argon2');
      assert.equal((await failuresOf(user.email))?.failures, THRESHOLD, 'refused attempts are not counted');

      // The lock runs out (moved into the past rather than waiting 15 minutes).
      await t.db('login_failures').where({ email_key: emailKeyOf(user.email) }).update({ locked_until: t.db.raw(`now() - interval '1 second'`) });
      const token = await login(user.email);
      assert.equal(await works(token), true);
      assert.equal(await failuresOf(user.email), undefined, 'a successful sign-in resets the count');

      // A fresh count: one more wrong attempt does not lock again.
      const again = await postLogin(form, user.email, 'wrong password 12345').expect(401);
      assert.ok(!again.text.includes(LOCKED));
      assert.equal((await failuresOf(user.email))?.failures, 1);
    });

    it('a successful sign-in below the threshold resets the count; failures outside the window start again', async () => {
      const user = await newUser();
      const form = await loginForm();
      for (let i = 0; i < THRESHOLD - 1; i++) await postLogin(form, user.email, 'wrong password 12345').expect(401);
      assert.equal((await failuresOf(user.email))?.failures, THRESHOLD - 1);
      await login(user.email);
      assert.equal(await failuresOf(user.email), undefined);

      for (let i = 0; i < THRESHOLD - 1; i++) await postLogin(form, user.email, 'wrong password 12345').expect(401);
      await t.db('login_failures').where({ email_key: emailKeyOf(user.email) }).update({ updated_at: t.db.raw(`now() - interval '16 minutes'`) });
      const next = await postLogin(form, user.email, 'wrong password 12345').expect(401);
      assert.ok(!next.text.includes(LOCKED), 'old failures no longer count');
      assert.equal((await failuresOf(user.email))?.failures, 1);
    });

    it('counts and locks an unknown e-mail exactly like a known one, keyed on the trimmed lower-case address', async () => {
      const unknown = address('unkno');
      const form = await loginForm();
      for (let i = 0; i < THRESHOLD; i++) await postLogin(form, i % 2 ? `  ${unknown.toUpperCase()} ` : unknown, 'wrong password 12345').expect(401);
      const row = await failuresOf(unknown);
      assert.equal(row?.failures, THRESHOLD);
      assert.ok(row?.locked_until);
      const res = await postLogin(form, unknown, TEST_PASSWORD).expect(401);
      assert.ok(res.text.includes(LOCKED));
    });

    it('logs a lockout at warn with the e-mail hashed, never the address', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const auth = createAuthService({ store: createAuthStore(t.db), config: t.config, logger: pino({ level: 'info' }, sink) });
      const user = await newUser();
      for (let i = 0; i < THRESHOLD - 1; i++) assert.deepEqual(await auth.signIn(user.email, 'wrong password 12345'), { ok: false, locked: false });
      assert.equal(lines.length, 0, 'nothing logged before the lock');
      assert.deepEqual(await auth.signIn(user.email, 'wrong password 12345'), { ok: false, locked: true });
      assert.deepEqual(await auth.signIn(user.email, TEST_PASSWORD), { ok: false, locked: true });
      assert.equal(lines.length, 1, 'one line for one lockout');
      const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(entry.level, 40, 'warn');
      assert.match(String(entry.emailHash), /^[0-9a-f]{16}$/);
      assert.equal(entry.failures, THRESHOLD);
      const text = lines.join('').toLowerCase();
      assert.ok(!text.includes(user.email.toLowerCase()) && !text.includes(user.email.split('@')[0]!.toLowerCase()), 'the address is not in the log');
    });
  });

  describe('identical answers', () => {
    it('a wrong password, an unknown, an inactive and a locked account answer alike (status, headers, body)', async () => {
      const known = await newUser('known');
      const inactive = await newUser('inact');
      await t.services.auth.setActive(inactive.id, false);
      const unknown = address('unkno');
      const lockedKnown = await newUser('lockk');
      const lockedUnknown = address('locku');
      const form = await loginForm();
      for (const email of [lockedKnown.email, lockedUnknown]) for (let i = 0; i < THRESHOLD; i++) await postLogin(form, email, 'wrong password 12345').expect(401);

      const answers = {
        wrong: { email: known.email, res: await postLogin(form, known.email, 'wrong password 12345') },
        unknown: { email: unknown, res: await postLogin(form, unknown, TEST_PASSWORD) },
        // The right password of a deactivated account.
        inactive: { email: inactive.email, res: await postLogin(form, inactive.email, TEST_PASSWORD) },
        // The right password during the lock.
        lockedKnown: { email: lockedKnown.email, res: await postLogin(form, lockedKnown.email, TEST_PASSWORD) },
        lockedUnknown: { email: lockedUnknown, res: await postLogin(form, lockedUnknown, TEST_PASSWORD) },
      };
      const body = (a: { email: string; res: Res }) => a.res.text.replaceAll(a.email, 'EMAIL').replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="TOKEN"');
      const headers = (a: { res: Res }, withLength: boolean) => {
        const h: Record<string, unknown> = { ...a.res.headers };
        delete h.date;
        delete h['set-cookie'];
        if (!withLength) delete h['content-length'];
        return h;
      };
      const all = Object.values(answers);
      for (const [name, a] of Object.entries(answers)) {
        assert.equal(a.res.status, 401, name);
        assert.deepEqual(setCookieNames(a.res), setCookieNames(answers.wrong.res), `${name}: the same cookies are set`);
        assert.ok(a.res.text.includes(a.email), `${name}: the form keeps the address`);
      }
      // Apart from the lock's neutral sentence, every answer is the same.
      for (const a of all) assert.deepEqual(headers(a, false), headers(answers.wrong, false));
      assert.equal(body(answers.unknown), body(answers.wrong));
      assert.equal(body(answers.inactive), body(answers.wrong));
      assert.deepEqual(headers(answers.unknown, true), headers(answers.wrong, true));
      assert.deepEqual(headers(answers.inactive, true), headers(answers.wrong, true));
      assert.ok(!body(answers.wrong).includes(LOCKED));
      // A lock reads the same for a known and an unknown address: the failed answer plus one sentence.
      assert.equal(body(answers.lockedKnown), body(answers.lockedUnknown));
      assert.deepEqual(headers(answers.lockedKnown, true), headers(answers.lockedUnknown, true));
      assert.equal(body(answers.lockedKnown), body(answers.wrong).replace(`${FAILED}</strong>`, `${FAILED}</strong> ${LOCKED}`));
    });
  });

  describe('changing one’s own password (/agent/konto)', () => {
    /** A user signed in twice (this browser and another), each with a live socket. */
    async function twoSessions() {
      const user = await newUser();
      const here = await login(user.email);
      const there = await login(user.email);
      return { user, here, there, hereSocket: await socketOf(here), thereSocket: await socketOf(there) };
    }

    const change = (token: string, csrf: string | undefined, fields: Record<string, string>) =>
      http()
        .post('/agent/konto')
        .set('Cookie', session(token))
        .type('form')
        .send({ ...(csrf ? { _csrf: csrf } : {}), ...fields });

    it('is linked from the staff navigation and shows the form', async () => {
      const user = await newUser();
      const token = await login(user.email);
      const queue = await http().get('/agent').set('Cookie', session(token)).expect(200);
      assert.match(queue.text, /<a href="\/agent\/konto">Mitt konto<\/a>/);
      const page = await http().get('/agent/konto').set('Cookie', session(token)).expect(200);
      assert.match(page.text, /<h1>Mitt konto<\/h1>/);
      for (const f of ['current_password', 'new_password', 'repeat_password']) assert.match(page.text, new RegExp(`name="${f}" type="password"`));
      assert.match(page.text, /aria-current="page">Mitt konto/);
      await http().get('/agent/konto').expect(303).expect('Location', '/login?next=%2Fagent%2Fkonto');
    });

    it('ends every other session and its socket at once, and keeps this browser signed in under a new session id', async () => {
      const { user, here, there, hereSocket, thereSocket } = await twoSessions();
      const before = await hashOf(user.id);
      const res = await change(here, await csrfOf(here), { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }).expect(303);
      assert.equal(res.headers.location, '/agent/konto?klart=losenord');
      const rotated = setCookie(res, 'sc_session');
      assert.ok(rotated && rotated !== here, 'a new session cookie');

      // The other session: its socket is closed by the server, its cookie leads to the login page.
      assert.equal(await thereSocket.closed, 'io server disconnect');
      const refused = await http().get('/agent').set('Cookie', session(there)).expect(303);
      assert.equal(refused.headers.location, '/login?next=%2Fagent');
      assert.match((await refusedHandshake(baseUrl, { cookie: session(there) })).message, /unauthorized/);
      // This browser: the old id is retired too (its socket closes; the page reconnects with the new cookie).
      assert.equal(await hereSocket.closed, 'io server disconnect');
      assert.equal(await works(here), false, 'the old token no longer works');
      const done = await http().get('/agent/konto?klart=losenord').set('Cookie', session(rotated)).expect(200);
      assert.match(done.text, new RegExp(translate('sv', 'account.password.done')));
      const socket = await socketOf(rotated);
      assert.equal((await socket.client.request('subscribe', { since: 0, queue: true })).ok, true, 'the new session has the live workspace');

      assert.deepEqual(await sessionIds(user.id), [sha256(rotated)], 'only the rotated session is left');
      assert.notEqual(await hashOf(user.id), before);
      const form = await loginForm();
      await postLogin(form, user.email, TEST_PASSWORD).expect(401);
      await login(user.email, NEW_PASSWORD);
    });

    it('a wrong current password is a field error, counts toward the lockout, and changes nothing', async () => {
      const { user, here, there } = await twoSessions();
      const before = { hash: await hashOf(user.id), sessions: await sessionIds(user.id) };
      const csrf = await csrfOf(here);
      const res = await change(here, csrf, { current_password: 'not my password 123', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }).expect(400);
      assert.match(res.text, new RegExp(`id="f-current_password-error"><span class="visually-hidden">[^<]*</span> ${translate('sv', 'account.errors.current_wrong')}`));
      assert.match(res.text, /<a href="#f-current_password">/);
      assert.ok(!res.text.includes('not my password 123'), 'passwords are not echoed');
      assert.equal(setCookie(res, 'sc_session'), undefined);
      assert.equal((await failuresOf(user.email))?.failures, 1, 'counted as a failed sign-in');
      assert.deepEqual({ hash: await hashOf(user.id), sessions: await sessionIds(user.id) }, before);
      assert.equal(await works(there), true);

      // Up to the lock: then even the right current password is refused with the lock's sentence.
      for (let i = 1; i < THRESHOLD; i++) await change(here, csrf, { current_password: 'not my password 123', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }).expect(400);
      const locked = await change(here, csrf, { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }).expect(400);
      assert.ok(locked.text.includes(LOCKED));
      assert.deepEqual({ hash: await hashOf(user.id), sessions: await sessionIds(user.id) }, before);
      // …and so is a sign-in elsewhere.
      assert.ok((await postLogin(await loginForm(), user.email, TEST_PASSWORD).expect(401)).text.includes(LOCKED));
    });

    it('refuses bad input with the field’s own error, checking and changing nothing', async () => {
      const { user, here, there } = await twoSessions();
      const before = { hash: await hashOf(user.id), sessions: await sessionIds(user.id) };
      const csrf = await csrfOf(here);
      const long = 'x'.repeat(201);
      const sv = (key: string, params: Record<string, string> = {}) => translate('sv', key, params);
      const cases: { what: string; fields: Record<string, string>; errors: Record<string, string> }[] = [
        { what: 'nothing filled in', fields: {}, errors: { current_password: sv('errors.required'), new_password: sv('errors.required'), repeat_password: sv('errors.required') } },
        { what: 'empty fields', fields: { current_password: '', new_password: '', repeat_password: '' }, errors: { current_password: sv('errors.required'), new_password: sv('errors.required'), repeat_password: sv('errors.required') } },
        { what: 'a short new password', fields: { current_password: TEST_PASSWORD, new_password: 'kort123', repeat_password: 'kort123' }, errors: { new_password: sv('errors.password_short') } },
        { what: 'a repeat that differs', fields: { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD, repeat_password: `${NEW_PASSWORD}!` }, errors: { repeat_password: sv('account.errors.mismatch') } },
        { what: 'a new password too long', fields: { current_password: TEST_PASSWORD, new_password: long, repeat_password: long }, errors: { new_password: sv('errors.too_long', { max: '200' }), repeat_password: sv('errors.too_long', { max: '200' }) } },
        { what: 'the same as the current one', fields: { current_password: TEST_PASSWORD, new_password: TEST_PASSWORD, repeat_password: TEST_PASSWORD }, errors: { new_password: sv('account.errors.same_as_current') } },
      ];
      for (const c of cases) {
        const { result: res, verifications } = await countingVerifications(() => change(here, csrf, c.fields));
        assert.equal(res.status, 400, c.what);
        assert.equal(verifications, 0, `${c.what}: the current password is not even checked`);
        for (const field of ['current_password', 'new_password', 'repeat_password']) {
          const shown = new RegExp(`id="f-${field}-error"><span class="visually-hidden">[^<]*</span> ([^<]*)</p>`).exec(res.text)?.[1];
          assert.equal(shown, c.errors[field], `${c.what}: ${field}`);
          if (c.errors[field]) assert.ok(res.text.includes(`<a href="#f-${field}">`), `${c.what}: ${field} in the error summary`);
        }
        assert.match(res.text, /<title>Fel i formuläret/, `${c.what}: the title says so`);
        assert.equal(setCookie(res, 'sc_session'), undefined, c.what);
      }
      assert.deepEqual({ hash: await hashOf(user.id), sessions: await sessionIds(user.id) }, before);
      assert.equal(await failuresOf(user.email), undefined, 'bad input is no sign-in attempt');
      assert.equal(await works(here), true);
      assert.equal(await works(there), true);
    });

    it('refuses a change without the CSRF token (403), or from another session’s token', async () => {
      const { user, here, there } = await twoSessions();
      const before = { hash: await hashOf(user.id), sessions: await sessionIds(user.id) };
      const fields = { current_password: TEST_PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };
      const res = await change(here, undefined, fields).expect(403);
      assert.equal(setCookie(res, 'sc_session'), undefined);
      await change(here, await csrfOf(there), fields).expect(403);
      await http().post('/agent/konto').type('form').send(fields).expect(401);
      assert.deepEqual({ hash: await hashOf(user.id), sessions: await sessionIds(user.id) }, before);
      assert.equal(await works(there), true);
    });

    it("an admin's password reset ends the user's sessions and closes their sockets at once", async () => {
      const { user, here, there, hereSocket, thereSocket } = await twoSessions();
      await t.services.auth.setPassword(user.id, NEW_PASSWORD);
      assert.equal(await hereSocket.closed, 'io server disconnect');
      assert.equal(await thereSocket.closed, 'io server disconnect');
      assert.equal(await works(here), false);
      assert.equal(await works(there), false);
      assert.deepEqual(await sessionIds(user.id), []);
    });

    it('deactivating a user closes their sockets at once too', async () => {
      const { user, hereSocket, thereSocket } = await twoSessions();
      await t.services.auth.setActive(user.id, false);
      assert.equal(await hereSocket.closed, 'io server disconnect');
      assert.equal(await thereSocket.closed, 'io server disconnect');
      assert.deepEqual(await sessionIds(user.id), []);
    });
  });

  describe('logout', () => {
    it('ends the session server-side, closes its socket, clears the cookie; a replayed cookie gets nothing', async () => {
      const user = await newUser();
      const token = await login(user.email);
      const other = await login(user.email);
      const { closed } = await socketOf(token);
      const otherSocket = await socketOf(other);
      const res = await http().post('/logout').set('Cookie', session(token)).type('form').send({ _csrf: await csrfOf(token) }).expect(303);
      assert.equal(res.headers.location, '/login?utloggad=1');
      assert.match((await http().get('/login?utloggad=1').expect(200)).text, /role="status">Du är utloggad\./, 'the sign-in page says so');
      assert.doesNotMatch((await http().get('/login').expect(200)).text, /Du är utloggad/);
      assert.equal(setCookie(res, 'sc_session'), '', 'the cookie is cleared');
      assert.match(String(res.headers['set-cookie']), /sc_session=; Max-Age=0/);
      assert.equal(await closed, 'io server disconnect');

      // Replaying the old cookie: not signed in anywhere.
      const page = await http().get('/agent').set('Cookie', session(token)).expect(303);
      assert.equal(page.headers.location, '/login?next=%2Fagent');
      await http().get('/api/v1/cases').set('Cookie', session(token)).expect(401);
      await http().post('/logout').set('Cookie', session(token)).type('form').send({}).expect(401);
      assert.match((await refusedHandshake(baseUrl, { cookie: session(token) })).message, /unauthorized/);
      assert.deepEqual(await sessionIds(user.id), [sha256(other)], 'only that session ended');
      // The user's other session and its socket are untouched.
      assert.equal(await works(other), true);
      assert.equal(otherSocket.client.socket.connected, true);
    });

    it('is POST only: a GET to /logout (a link or an image on another site) signs nobody out', async () => {
      const user = await newUser();
      const token = await login(user.email);
      const res = await http().get('/logout').set('Cookie', session(token));
      assert.equal(res.status, 404);
      assert.equal(setCookie(res, 'sc_session'), undefined);
      assert.equal(await works(token), true);
      assert.deepEqual(await sessionIds(user.id), [sha256(token)]);
    });
  });

  describe('session fixation', () => {
    it('never keeps a cookie planted before sign-in: an attacker-chosen value', async () => {
      const user = await newUser();
      const planted = 'chosen-by-the-attacker-0123456789abcdefghijklmn';
      const token = await login(user.email, TEST_PASSWORD, [session(planted)]);
      assert.notEqual(token, planted);
      assert.equal(await works(planted), false, 'the planted value is not a session');
      assert.equal(await works(token), true);
      assert.deepEqual(await sessionIds(user.id), [sha256(token)]);
      assert.equal(await t.db('sessions').where({ id: sha256(planted) }).first(), undefined);
    });

    it("never keeps a cookie planted before sign-in: another user's real session", async () => {
      const attacker = await newUser('attck');
      const victim = await newUser('victm');
      const planted = await login(attacker.email);
      const plantedSocket = await socketOf(planted);
      // The victim's browser carries the attacker's cookie and signs in with its own account.
      const res = await http()
        .post('/login')
        .set('Cookie', session(planted))
        .type('form')
        .send({ email: victim.email, password: TEST_PASSWORD, _csrf: await csrfOf(planted) })
        .expect(303);
      const token = setCookie(res, 'sc_session');
      assert.ok(token && token !== planted, 'a new cookie value');
      assert.equal(await works(planted), false, 'the planted session is no longer valid');
      assert.equal(await plantedSocket.closed, 'io server disconnect');
      const page = await http().get('/agent/konto').set('Cookie', session(token)).expect(200);
      assert.ok(page.text.includes(victim.email) && !page.text.includes(attacker.email), 'signed in as the victim, not the attacker');
      assert.deepEqual(await sessionIds(victim.id), [sha256(token)]);
      assert.deepEqual(await sessionIds(attacker.id), []);
    });
  });
});
