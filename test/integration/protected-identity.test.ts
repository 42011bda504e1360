import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { sign } from '../../server/telephony/signature.js';
import { csrfFrom, newCase, rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { staffSocket, waitUntil } from '../support/live-client.js';
import { deliver, INTAKE, plainMail } from '../support/smtp-client.js';
import { apiUser, caseRow, countOf } from './helpers.js';

/**
 * Protected identity (skyddad identitet): the mark on a resident, who may set
 * it, what staff without the permission never see (case page, API, live
 * pushes, the caller card), the access log of every showing to those allowed,
 * and the automatic mail that is never queued to a protected resident.
 */

const SECRET = 'protected-identity-secret-0123456789-abcd';
const NAME = 'Hemlig Hansson';
/** How the phone helper writes 0701112233 on a page, and the bare digits. */
const PHONE_FORMS = ['0701112233', '070-111 22 33', '111 22 33', '1112233'];

describe('protected identity (skyddad identitet)', function () {
  this.timeout(60_000);
  let t: TestApp;
  let baseUrl: string;
  let smtpPort: number;
  /** An agent without the permission, one with it, and an admin without it. */
  let plain: SignedIn;
  let allowed: SignedIn;
  let admin: SignedIn;

  before(async () => {
    t = await startTestApp({ config: { survey: { enabled: true, validDays: 30 }, telephony: { secret: SECRET, maxSkewSeconds: 300 } } });
    baseUrl = await t.listen();
    smtpPort = await t.startSmtp();
    plain = await t.loginAs('agent', 'Agent Utan Behörighet');
    allowed = await t.loginAs('agent', 'Agent Med Behörighet');
    await t.services.protectedIdentity.setPermission(allowed.user.id, 'true');
    admin = await t.loginAs('admin', 'Admin Adminsson');
  });
  after(() => t.close());

  const address = () => `hemlig.${randomBytes(4).toString('hex')}@example.com`;

  /** A case from the web form's API with a name, an address and a phone number the pages must not leak. */
  async function webCase(email: string, extra: Record<string, unknown> = {}) {
    const res = await t
      .request()
      .post('/api/v1/cases')
      .send(newCase({ name: NAME, email, phone: '0701112233', subject: 'Fråga om skolskjuts', message: 'Hur ansöker jag om skolskjuts?', ...extra }))
      .expect(201);
    return caseRow(t.db, res.body.reference as string);
  }

  /** The case page's form, posted as the signed-in user. */
  async function markForm(who: SignedIn, reference: string, body: Record<string, string>) {
    const page = await who.agent.get(`/agent/cases/${reference}`).expect(200);
    return who.agent.post(`/agent/cases/${reference}/identity`).type('form').send({ _csrf: csrfFrom(page.text), ...body });
  }

  async function protectedCase(email = address()) {
    const c = await webCase(email);
    await t.services.protectedIdentity.mark(c.reference, allowed.user, { protect: 'true', confirm: 'on' });
    return { c, email };
  }

  const contactLog = (reference: string, userId: number) => countOf(t.db, 'access_log', { action: 'case.protected_contact', case_reference: reference, user_id: userId });
  const eventTypes = (caseId: number) => t.db('case_events').where({ case_id: caseId }).orderBy('id').pluck('type');

  function assertNoContact(text: string, email: string, where: string) {
    assert.ok(!text.includes(NAME), `${where}: no name`);
    assert.ok(!text.toLowerCase().includes(email.toLowerCase()), `${where}: no e-mail address`);
    for (const p of PHONE_FORMS) assert.ok(!text.includes(p), `${where}: no phone number (${p})`);
  }

  describe('marking', () => {
    it('an ordinary agent is refused with 403 and nothing is written; an agent with the permission marks and unmarks, on the timeline', async () => {
      const c = await webCase(address());
      const before = await rowCounts(t.db);
      const refused = await markForm(plain, c.reference, { protect: 'true', confirm: 'on' });
      assert.equal(refused.status, 403);
      assert.deepEqual(await rowCounts(t.db), before, 'nothing written');
      assert.equal((await t.db('residents').where({ id: c.resident_id }).first()).protected_identity, false);
      const page = await plain.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.ok(!page.text.includes(`/agent/cases/${c.reference}/identity`), 'no form for an ordinary agent');

      // Without the confirmation: a clear error on the field, nothing written.
      const unconfirmed = await markForm(allowed, c.reference, { protect: 'true' });
      assert.equal(unconfirmed.status, 400);
      assert.match(unconfirmed.text, /Kryssa i rutan för att bekräfta ändringen/);
      assert.match(unconfirmed.text, /href="#f-identity-confirm"/);
      assert.deepEqual(await rowCounts(t.db), before, 'nothing written');

      const marked = await markForm(allowed, c.reference, { protect: 'true', confirm: 'on' });
      assert.equal(marked.status, 303);
      assert.equal(marked.headers.location, `/agent/cases/${c.reference}?klart=identity#identity-title`);
      assert.equal((await t.db('residents').where({ id: c.resident_id }).first()).protected_identity, true);
      const ev = await t.db('case_events').where({ case_id: c.id, type: 'identity.protected' }).first();
      assert.ok(ev, 'the event');
      assert.equal(ev.internal, true);
      assert.equal(ev.actor_id, allowed.user.id);
      const after = await plain.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.ok(after.text.includes('Skyddad identitet markerad av Agent Med Behörighet'), 'the timeline says who marked it');

      // Marking again is a conflict, not a second event.
      const again = await markForm(allowed, c.reference, { protect: 'true', confirm: 'on' });
      assert.equal(again.status, 409);
      assert.equal(await countOf(t.db, 'case_events', { case_id: c.id, type: 'identity.protected' }), 1);

      // An ordinary agent cannot remove it either.
      const beforeUnmark = await rowCounts(t.db);
      assert.equal((await markForm(plain, c.reference, { protect: 'false', confirm: 'on' })).status, 403);
      assert.deepEqual(await rowCounts(t.db), beforeUnmark);

      assert.equal((await markForm(allowed, c.reference, { protect: 'false', confirm: 'on' })).status, 303);
      assert.equal((await t.db('residents').where({ id: c.resident_id }).first()).protected_identity, false);
      assert.deepEqual((await eventTypes(c.id)).slice(-2), ['identity.protected', 'identity.unprotected']);
    });

    it('an admin may mark without the permission, but sees no details until granted it on /admin/users', async () => {
      const email = address();
      const c = await webCase(email);
      assert.equal((await markForm(admin, c.reference, { protect: 'true', confirm: 'on' })).status, 303);
      const page = await admin.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assertNoContact(page.text, email, 'the admin’s case page');
      assert.equal(await contactLog(c.reference, admin.user.id), 0);

      const users = await admin.agent.get('/admin/users').expect(200);
      assert.match(users.text, /Administratörer ser dem inte automatiskt/);
      // An ordinary agent cannot grant it.
      await plain.agent.post(`/admin/users/${plain.user.id}/protected`).type('form').send({ _csrf: plain.csrf, sees_protected: 'true' }).expect(403);
      assert.equal((await t.db('users').where({ id: plain.user.id }).first()).sees_protected, false);
      const bad = await admin.agent.post(`/admin/users/${admin.user.id}/protected`).type('form').send({ _csrf: csrfFrom(users.text), sees_protected: 'kanske' });
      assert.equal(bad.status, 400);
      await admin.agent.post(`/admin/users/${admin.user.id}/protected`).type('form').send({ _csrf: csrfFrom(users.text), sees_protected: 'true' }).expect(303);
      const shown = await admin.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.ok(shown.text.includes(NAME) && shown.text.includes(email));
      assert.equal(await contactLog(c.reference, admin.user.id), 1);
      await admin.agent.post(`/admin/users/${admin.user.id}/protected`).type('form').send({ _csrf: csrfFrom(users.text), sees_protected: 'false' }).expect(303);
      assertNoContact((await admin.agent.get(`/agent/cases/${c.reference}`).expect(200)).text, email, 'after the permission is removed');
    });
  });

  describe('what staff without the permission see', () => {
    it('the case page: no name, e-mail, phone or callback number; those allowed see them, and each view is logged', async () => {
      const email = address();
      const slot = t.services.callbacks.slots()[0]!;
      // A callback request from the same address: the case's panel has the number to call.
      const first = await webCase(email);
      await t.services.protectedIdentity.mark(first.reference, allowed.user, { protect: 'true', confirm: 'on' });
      const cb = await t.request().post('/api/v1/callbacks').send({ name: NAME, email, phone: '0701112233', category: 'forsorjningsstod', slot: slot.start.toISOString() }).expect(201);
      const ref = cb.body.reference as string;

      const page = await plain.agent.get(`/agent/cases/${ref}`).expect(200);
      assertNoContact(page.text, email, 'the case page');
      assert.match(page.text, /Skyddad identitet – ring via behörig handläggare/);
      assert.match(page.text, /<strong class="tag tag--protected">Skyddad identitet<\/strong>/);
      assert.match(page.text, /id="reply-protected"/, 'the agent is told before replying');
      assert.equal(await countOf(t.db, 'access_log', { action: 'case.protected_contact', case_reference: ref }), 0, 'nothing shown, nothing logged');

      for (let i = 1; i <= 2; i++) {
        const shown = await allowed.agent.get(`/agent/cases/${ref}`).expect(200);
        assert.ok(shown.text.includes(NAME), 'the name');
        assert.ok(shown.text.includes(email), 'the address');
        assert.ok(shown.text.includes('href="tel:0701112233"'), 'the number to call');
        assert.equal(await contactLog(ref, allowed.user.id), i, `view ${i} logged`);
      }
      const entry = await t.db('access_log').where({ action: 'case.protected_contact', case_reference: ref }).first();
      assert.equal(entry.case_id, (await caseRow(t.db, ref)).id);
      assert.equal(entry.detail.via, 'case_page');
    });

    it('the JSON API: null name, e-mail and phone with protectedIdentity, in the case and in lists; those allowed see them, logged', async () => {
      const { c, email } = await protectedCase();
      const plainApi = await apiUser(t, 'agent');
      const allowedApi = await apiUser(t, 'agent');
      await t.services.protectedIdentity.setPermission(allowedApi.user.id, 'true');

      const res = await t.request().get(`/api/v1/cases/${c.reference}`).set(plainApi.auth).expect(200);
      assert.deepEqual(res.body.resident, { name: null, email: null, phone: null, protectedIdentity: true });
      assertNoContact(JSON.stringify(res.body), email, 'the API case');
      type Item = { reference: string; residentName: string | null; protectedIdentity: boolean };
      const listed: Item[] = [];
      for (let url: string | null = '/api/v1/cases?status=all&limit=100'; url; ) {
        const page: { body: { items: unknown[]; next?: string | null } } = await t.request().get(url).set(plainApi.auth).expect(200);
        listed.push(...(page.body.items as Item[]));
        url = page.body.next ? `/api/v1/cases?status=all&limit=100&cursor=${encodeURIComponent(page.body.next as string)}` : null;
      }
      const item = listed.find((i) => i.reference === c.reference);
      assert.ok(item, 'the case is listed');
      assert.equal(item.residentName, null);
      assert.equal(item.protectedIdentity, true);
      assertNoContact(JSON.stringify(item), email, 'the API list item');
      assert.equal(await contactLog(c.reference, plainApi.user.id), 0);

      const shown = await t.request().get(`/api/v1/cases/${c.reference}`).set(allowedApi.auth).expect(200);
      assert.deepEqual(shown.body.resident, { name: NAME, email, phone: '0701112233', protectedIdentity: true });
      const logged = await t.db('access_log').where({ action: 'case.protected_contact', case_reference: c.reference, user_id: allowedApi.user.id });
      assert.equal(logged.length, 1);
      assert.ok(logged[0].token_id, 'the API token is named');
      assert.equal(logged[0].detail.via, 'api');
    });

    it('a live push of the case (details and timeline) carries no name, e-mail or phone', async () => {
      const { c, email } = await protectedCase();
      const s = await staffSocket(t, baseUrl, 'agent', 'Agent Live');
      try {
        const ack = await s.client.request('subscribe', { since: await t.services.live.cursor(), case: c.reference, queue: true });
        assert.ok(ack.ok, JSON.stringify(ack));
        const page = await s.agent.get(`/agent/cases/${c.reference}`).expect(200);
        await s.agent.post(`/agent/cases/${c.reference}/status`).type('form').send({ _csrf: csrfFrom(page.text), status: 'open' }).expect(303);
        const m = await s.client.waitFor((x) => x.scope === 'case' && x.type === 'status.changed' && x.reference === c.reference, 'the status change');
        assert.ok(m.scope === 'case' && m.details, 'the details panel was pushed');
        assert.match(m.details, /Skyddad identitet/);
        await s.client.waitFor((x) => x.scope === 'queue' && x.reference === c.reference, 'the queue row');
        const mine = s.client.messages.filter((x) => x.reference === c.reference);
        assertNoContact(JSON.stringify(mine), email, 'the live pushes');
      } finally {
        s.client.close();
      }
    });

    it('the caller card: an agent without the permission sees no number; one with it sees it, and it is logged', async () => {
      const { c } = await protectedCase();
      async function dashboard(extension: string, permitted: boolean) {
        const s = await staffSocket(t, baseUrl, 'agent', `Agent ${extension}`);
        if (permitted) await t.services.protectedIdentity.setPermission(s.user.id, 'true');
        await t.services.auth.setPhoneExtension(s.user.id, extension);
        const cards: { caller: string; html: string }[] = [];
        s.client.socket.on('caller', (card: { caller: string; html: string }) => cards.push(card));
        assert.ok((await s.client.request('subscribe', { since: await t.services.live.cursor(), queue: true })).ok);
        return { ...s, cards };
      }
      async function send(body: unknown) {
        const raw = JSON.stringify(body);
        const ts = Math.floor(Date.now() / 1000);
        await t.request().post('/api/v1/telephony/events').set('Content-Type', 'application/json').set('X-Telephony-Timestamp', String(ts)).set('X-Telephony-Signature', sign(SECRET, ts, raw)).send(raw).expect(200);
      }
      const call = async (id: string, extension: string) => {
        const now = Date.now();
        await send({ id: `${id}:o`, type: 'call.offered', callId: id, at: new Date(now - 30_000).toISOString(), caller: '+46701112233', queue: 'vaxel' });
        await send({ id: `${id}:a`, type: 'call.answered', callId: id, at: new Date(now - 2_000).toISOString(), extension });
      };
      const hidden = await dashboard('4101', false);
      const shown = await dashboard('4102', true);
      try {
        await call(`prot-${randomBytes(3).toString('hex')}`, '4101');
        await waitUntil(() => hidden.cards.length > 0, 'the card of the agent without the permission');
        const card = hidden.cards[0]!;
        assert.equal(card.caller, '');
        assertNoContact(JSON.stringify(card), 'nobody@invalid', 'the caller card');
        assert.ok(!card.html.includes('+46701112233'));
        assert.match(card.html, /Samtal från en invånare med skyddad identitet/);
        assert.ok(card.html.includes(c.reference), 'the earlier case is still there to open');
        assert.equal(await countOf(t.db, 'access_log', { action: 'case.protected_contact', user_id: hidden.user.id }), 0);

        await call(`prot-${randomBytes(3).toString('hex')}`, '4102');
        await waitUntil(() => shown.cards.length > 0, 'the card of the agent with the permission');
        assert.equal(shown.cards[0]!.caller, '+46701112233');
        assert.ok(shown.cards[0]!.html.includes('Samtal från +46701112233'));
        const logged = await t.db('access_log').where({ action: 'case.protected_contact', user_id: shown.user.id, case_reference: c.reference });
        assert.equal(logged.length, 1);
        assert.equal(logged[0].detail.via, 'caller_card');

        // The call log lists the number to nobody.
        const log = await allowed.agent.get('/api/v1/telephony/calls').expect(200);
        const listed = (log.body.items as { caller: string | null; callerProtected: boolean }[]).filter((i) => i.callerProtected);
        assert.ok(listed.length >= 2 && listed.every((i) => i.caller === null));
      } finally {
        hidden.client.close();
        shown.client.close();
      }
    });
  });

  describe('automatic mail', () => {
    const acks = (caseId: number) => countOf(t.db, 'mail_outbox', { case_id: caseId, kind: 'acknowledgement' });

    it('a new case from the web from a protected address queues no acknowledgement, and says so on the timeline; an unprotected one does', async () => {
      const { email } = await protectedCase();
      const before = await countOf(t.db, 'mail_outbox');
      const c = await webCase(email.toUpperCase());
      assert.equal(await countOf(t.db, 'mail_outbox'), before, 'mail_outbox unchanged');
      assert.deepEqual(await eventTypes(c.id), ['case.created', 'mail.withheld']);
      const ev = await t.db('case_events').where({ case_id: c.id, type: 'mail.withheld' }).first();
      assert.deepEqual(ev.payload, { kind: 'acknowledgement', reason: 'protected_identity' });
      assert.equal(ev.internal, true);
      const page = await plain.agent.get(`/agent/cases/${c.reference}`).expect(200);
      assert.match(page.text, /Automatiskt mejl skickades inte: invånaren har skyddad identitet/);

      const open = await webCase(address());
      assert.equal(await acks(open.id), 1, 'an unprotected resident gets the acknowledgement');
    });

    it('a new case by e-mail from a protected address queues no acknowledgement', async () => {
      // Known and protected, with no recent acknowledgement (one per sender per window would hide the point).
      const email = address();
      await t.db('residents').insert({ name: NAME, email, protected_identity: true });
      const before = await countOf(t.db, 'mail_outbox');
      const r = await deliver(smtpPort, plainMail({ from: `${NAME} <${email}>`, subject: 'Nytt ärende om skolskjuts', body: 'Hej igen' }), { from: email, to: [INTAKE] });
      assert.equal(r.code, 250, r.response);
      await t.intakeIdle();
      const inbound = await t.db('inbound_messages').where({ envelope_from: email }).first();
      assert.equal(inbound.outcome, 'created');
      assert.equal(await countOf(t.db, 'mail_outbox'), before, 'mail_outbox unchanged');
      assert.deepEqual(await eventTypes(inbound.case_id), ['case.created', 'mail.withheld']);

      const other = address();
      await deliver(smtpPort, plainMail({ from: other, subject: 'Öppen fråga', body: 'Hej' }), { from: other, to: [INTAKE] });
      await t.intakeIdle();
      const open = await t.db('inbound_messages').where({ envelope_from: other }).first();
      assert.equal(await acks(open.case_id), 1, 'the unprotected sender is acknowledged');
    });

    it('resolving a protected case writes no survey invitation and queues no survey mail; an agent’s own reply is queued', async () => {
      const { c, email } = await protectedCase();
      const page = await plain.agent.get(`/agent/cases/${c.reference}`).expect(200);
      await plain.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: csrfFrom(page.text), body: 'Du får ett beslut inom två veckor.', status: 'resolved' }).expect(303);
      const replies = await t.db('mail_outbox').where({ case_id: c.id, kind: 'reply' });
      assert.equal(replies.length, 1, 'the hand-written reply goes');
      assert.equal(replies[0].to_address.toLowerCase(), email);
      assert.equal(await countOf(t.db, 'mail_outbox', { case_id: c.id, kind: 'survey' }), 0, 'no survey mail');
      assert.equal(await countOf(t.db, 'service_surveys', { case_id: c.id }), 0, 'no invitation');
      const withheld = await t.db('case_events').where({ case_id: c.id, type: 'mail.withheld' });
      // The case's acknowledgement went before the mark; the survey is the one held back.
      assert.deepEqual(withheld.map((e) => e.payload.kind), ['survey']);

      // The same for an unprotected resident: the invitation goes.
      const open = await webCase(address());
      const p2 = await plain.agent.get(`/agent/cases/${open.reference}`).expect(200);
      await plain.agent.post(`/agent/cases/${open.reference}/reply`).type('form').send({ _csrf: csrfFrom(p2.text), body: 'Klart.', status: 'resolved' }).expect(303);
      assert.equal(await countOf(t.db, 'mail_outbox', { case_id: open.id, kind: 'survey' }), 1);
    });
  });
});
