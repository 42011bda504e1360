import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type supertest from 'supertest';
import { ACTIVE_STATUSES } from '../../server/cases/lifecycle.js';
import { AppError } from '../../server/platform/errors.js';
import { newCase, startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../support/harness.js';
import { apiUser, caseRow, caseSnapshot, countOf, createCase } from './helpers.js';

type Json = Record<string, any>;

describe('API: the case lifecycle as an agent', () => {
  let t: TestApp;
  let api: Awaited<ReturnType<typeof apiUser>>;
  let session: SignedIn;

  before(async () => {
    t = await startTestApp();
    api = await apiUser(t, 'agent', 'Token Agent');
    session = await t.loginAs('agent', 'Session Agent');
  });
  after(() => t.close());

  // Two ways in: a bearer token (no CSRF needed) and a browser session (X-CSRF-Token required).
  const viaToken = {
    get: (url: string) => t.request().get(url).set(api.auth),
    patch: (url: string, body: object) => t.request().patch(url).set(api.auth).send(body),
    post: (url: string, body: object) => t.request().post(url).set(api.auth).send(body),
  };
  const viaSession = {
    get: (url: string) => session.agent.get(url),
    patch: (url: string, body: object) => session.agent.patch(url).set('X-CSRF-Token', session.csrf).send(body),
    post: (url: string, body: object) => session.agent.post(url).set('X-CSRF-Token', session.csrf).send(body),
  };

  const caseUrl = (ref: string) => `/api/v1/cases/${ref}`;
  const setStatus = (ref: string, status: string, via = viaToken) => via.patch(caseUrl(ref), { status });

  /** Runs a request that must be refused and proves the case, its events, messages and mails are unchanged. */
  async function refusedChange(ref: string, send: () => supertest.Test, status: number, error: string, field?: string): Promise<Json> {
    const before = await caseSnapshot(t.db, ref);
    const res = await send().expect('Content-Type', /json/);
    assert.equal(res.status, status, `status of ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, error);
    if (field) assert.deepEqual(Object.keys(res.body.fields), [field]);
    assert.deepEqual(await caseSnapshot(t.db, ref), before, 'nothing was written');
    return res.body as Json;
  }

  const lastEvent = async (ref: string) => {
    const c = await caseRow(t.db, ref);
    return t.db('case_events').where({ case_id: c.id }).orderBy('id', 'desc').first();
  };

  /** Walks a new case to the status through allowed transitions. */
  async function caseIn(status: 'new' | 'open' | 'waiting' | 'resolved' | 'closed', overrides: Record<string, unknown> = {}) {
    const created = await createCase(t, overrides);
    const path: Record<string, string[]> = { new: [], open: ['open'], waiting: ['waiting'], resolved: ['resolved'], closed: ['resolved', 'closed'] };
    for (const s of path[status]!) await setStatus(created.reference, s).expect(200);
    return created;
  }

  describe('GET /api/v1/cases (the queue)', () => {
    const activeInOrder = async (where: (q: any) => void = () => {}) =>
      (
        await t
          .db('cases as c')
          .join('categories as cat', 'cat.id', 'c.category_id')
          .whereIn('c.status', ACTIVE_STATUSES as string[])
          .modify(where)
          .orderBy([{ column: 'c.created_at' }, { column: 'c.id' }])
          .select('c.reference')
      ).map((r: { reference: string }) => r.reference);

    /** Follows `next` page by page and answers every reference in order and the number of pages. */
    async function allPages(query: string, via = viaToken) {
      const refs: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const url: string = `/api/v1/cases?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await via.get(url).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next']);
        refs.push(...res.body.items.map((i: Json) => i.reference));
        pageSizes.push(res.body.items.length);
        cursor = res.body.next;
        if (!cursor) return { refs, pageSizes };
        assert.equal(typeof cursor, 'string');
      }
      throw new Error('the pages never ended');
    }

    let phoneRef: string;
    let closedRef: string;
    let tied: string[];

    before(async () => {
      for (const category of ['bygglov', 'forskoleplats', 'bygglov', 'ovrigt']) await createCase(t, { category });
      const phone = await t.services.cases.createCase(newCase({ email: undefined, phone: '070-111 22 33', category: 'forskoleplats' }), { channel: 'phone' });
      phoneRef = phone.reference;
      closedRef = (await caseIn('closed')).reference;

      // Cases that share one created_at, inserted directly: only the id can order them.
      const [resident] = await t.db('residents').insert({ name: 'Tie Breaker', email: `tie.${Date.now()}@example.com` }).returning('id');
      const category = await t.db('categories').where({ slug: 'ovrigt' }).first('id');
      const at = (iso: string, i: number) => ({
        reference: `SC-2020-9000${String(i).padStart(2, '0')}`,
        status: 'new',
        channel: 'email',
        category_id: category.id,
        resident_id: (resident as { id: number }).id,
        subject: `Tie ${i}`,
        language: 'sv',
        resident_token: randomBytes(32).toString('base64url'),
        created_at: new Date(iso),
      });
      const rows = [
        at('2020-03-01T07:59:59.999Z', 0),
        at('2020-03-01T08:00:00.000Z', 1),
        at('2020-03-01T08:00:00.000Z', 2),
        at('2020-03-01T08:00:00.000Z', 3),
        at('2020-03-01T08:00:00.000Z', 4),
        at('2020-03-01T08:00:00.000Z', 5),
        at('2020-03-01T08:00:00.001Z', 6),
      ];
      // Insert the tied ones in an order that differs from their references: the id decides.
      for (const r of [rows[0]!, rows[3]!, rows[1]!, rows[5]!, rows[2]!, rows[4]!, rows[6]!]) await t.db('cases').insert(r);
      tied = (await t.db('cases').where('reference', 'like', 'SC-2020-9000%').orderBy([{ column: 'created_at' }, { column: 'id' }]).select('reference')).map(
        (r: { reference: string }) => r.reference,
      );
      assert.deepEqual(tied, ['SC-2020-900000', 'SC-2020-900003', 'SC-2020-900001', 'SC-2020-900005', 'SC-2020-900002', 'SC-2020-900004', 'SC-2020-900006']);
    });

    it('lists the active cases oldest first', async () => {
      const res = await viaToken.get('/api/v1/cases?limit=100').expect(200);
      const expected = await activeInOrder();
      assert.equal(expected.length, 12);
      assert.deepEqual(res.body.items.map((i: Json) => i.reference), expected);
      assert.equal(res.body.next, null);
      for (const item of res.body.items) assert.ok((ACTIVE_STATUSES as string[]).includes(item.status));
      assert.ok(!res.body.items.some((i: Json) => i.reference === closedRef), 'a closed case is not in the queue');
      assert.deepEqual(res.body.items.slice(0, 7).map((i: Json) => i.reference), tied, 'the oldest first, ties by id');
      const times = res.body.items.map((i: Json) => Date.parse(i.createdAt));
      for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] <= times[i], 'oldest first');

      const item = res.body.items.find((i: Json) => i.reference === phoneRef);
      assert.deepEqual(Object.keys(item).sort(), ['assignee', 'category', 'channel', 'createdAt', 'department', 'protectedIdentity', 'reference', 'residentName', 'status', 'subject', 'updatedAt']);
      assert.equal(item.protectedIdentity, false);
      assert.equal(item.channel, 'phone');
      assert.equal(item.category, 'forskoleplats');
      assert.equal(item.status, 'new');
      assert.equal(item.assignee, null);
    });

    it('lists the same through a session', async () => {
      const res = await viaSession.get('/api/v1/cases?limit=100').expect(200);
      assert.deepEqual(res.body.items.map((i: Json) => i.reference), await activeInOrder());
    });

    it('filters by status', async () => {
      const closed = await viaToken.get('/api/v1/cases?status=closed').expect(200);
      assert.deepEqual(closed.body.items.map((i: Json) => i.reference), [closedRef]);
      const all = await viaToken.get('/api/v1/cases?status=all&limit=100').expect(200);
      assert.ok(all.body.items.some((i: Json) => i.reference === closedRef));
      assert.equal(all.body.items.length, await countOf(t.db, 'cases'));
      const fresh = await viaToken.get('/api/v1/cases?status=new&limit=100').expect(200);
      assert.ok(fresh.body.items.length > 0);
      assert.deepEqual(fresh.body.items.map((i: Json) => i.reference), (await t.db('cases').where({ status: 'new' }).orderBy([{ column: 'created_at' }, { column: 'id' }])).map((r: Json) => r.reference));
      const active = await viaToken.get('/api/v1/cases?status=active&limit=100').expect(200);
      assert.deepEqual(active.body.items.map((i: Json) => i.reference), await activeInOrder());
    });

    it('filters by channel', async () => {
      const res = await viaToken.get('/api/v1/cases?channel=phone').expect(200);
      assert.deepEqual(res.body.items.map((i: Json) => i.reference), [phoneRef]);
      const email = await viaToken.get('/api/v1/cases?channel=email&limit=100').expect(200);
      assert.deepEqual(email.body.items.map((i: Json) => i.reference), tied);
    });

    it('filters by category', async () => {
      const res = await viaToken.get('/api/v1/cases?category=forskoleplats&limit=100').expect(200);
      const expected = await activeInOrder((q) => q.where('cat.slug', 'forskoleplats'));
      assert.equal(expected.length, 2);
      assert.deepEqual(res.body.items.map((i: Json) => i.reference), expected);
      for (const i of res.body.items) assert.equal(i.category, 'forskoleplats');
      const combined = await viaToken.get('/api/v1/cases?category=forskoleplats&channel=phone').expect(200);
      assert.deepEqual(combined.body.items.map((i: Json) => i.reference), [phoneRef]);
      const unknown = await viaToken.get('/api/v1/cases?category=finns-inte').expect(400);
      assert.equal(unknown.body.error, 'validation_failed');
      assert.equal(unknown.body.errors[0].field, 'category');
      assert.equal(unknown.body.errors[0].code, 'errors.category_unknown');
    });

    it('pages with next/cursor: every case exactly once, in order, ties split across pages', async () => {
      const expected = await activeInOrder();
      for (const limit of [1, 2, 3, 5]) {
        const { refs, pageSizes } = await allPages(`limit=${limit}`);
        assert.deepEqual(refs, expected, `limit ${limit}`);
        assert.equal(new Set(refs).size, refs.length, 'no case twice');
        assert.equal(pageSizes.length, Math.ceil(expected.length / limit), `pages for limit ${limit}`);
        assert.ok(pageSizes.every((s) => s <= limit));
        assert.ok(pageSizes.slice(0, -1).every((s) => s === limit), 'only the last page is short');
      }
    });

    it('pages a filtered list with the same cursor rules', async () => {
      const expected = await activeInOrder((q) => q.where('cat.slug', 'ovrigt'));
      assert.ok(expected.length >= 8);
      const { refs } = await allPages('category=ovrigt&limit=2', viaSession);
      assert.deepEqual(refs, expected);
    });

    it('answers next: null on the last page and an empty page after it', async () => {
      const expected = await activeInOrder();
      const first = await viaToken.get(`/api/v1/cases?limit=${expected.length - 1}`).expect(200);
      assert.equal(typeof first.body.next, 'string');
      const last = await viaToken.get(`/api/v1/cases?limit=${expected.length - 1}&cursor=${first.body.next}`).expect(200);
      assert.deepEqual(last.body.items.map((i: Json) => i.reference), [expected.at(-1)]);
      assert.equal(last.body.next, null);
      const exact = await viaToken.get(`/api/v1/cases?limit=${expected.length}`).expect(200);
      assert.equal(exact.body.items.length, expected.length);
      assert.equal(exact.body.next, null, 'no next page when the page holds exactly the rest');
    });

    it('refuses a cursor it did not give out (400, field cursor)', async () => {
      const forged = (text: string) => Buffer.from(text).toString('base64url');
      for (const cursor of ['garbage', forged('2020-03-01T08:00:00.000Z'), forged('yesterday|5'), forged('2020-03-01T08:00:00.000Z|abc'), 'x'.repeat(201)]) {
        const res = await viaToken.get(`/api/v1/cases?cursor=${encodeURIComponent(cursor)}`).expect(400);
        assert.equal(res.body.error, 'validation_failed');
        assert.deepEqual(Object.keys(res.body.fields), ['cursor'], `cursor ${cursor}`);
      }
    });

    it('refuses invalid filter values (400, naming the parameter)', async () => {
      const cases: [string, string][] = [
        ['status=bogus', 'status'],
        ['status=new&status=open', 'status'],
        ['channel=fax', 'channel'],
        ['category=Inte%20OK!', 'category'],
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=2.5', 'limit'],
        ['limit=-1', 'limit'],
      ];
      for (const [query, field] of cases) {
        const res = await viaToken.get(`/api/v1/cases?${query}`).expect(400);
        assert.equal(res.body.error, 'validation_failed', query);
        assert.deepEqual(Object.keys(res.body.fields), [field], query);
      }
    });
  });

  describe('GET /api/v1/cases/:reference', () => {
    it('answers the case with its messages and events, event ids increasing', async () => {
      const { reference, email } = await createCase(t, { message: 'Min fråga om bygglov' });
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Ett svar till dig' }).expect(201);
      await viaSession.post(`${caseUrl(reference)}/notes`, { body: 'En intern anteckning' }).expect(201);
      const res = await viaToken.get(caseUrl(reference)).expect(200);
      const b = res.body;
      assert.equal(b.reference, reference);
      assert.equal(b.status, 'waiting');
      assert.equal(b.channel, 'api');
      assert.equal(b.category, 'bygglov');
      assert.deepEqual(b.resident, { name: 'Sara Öberg', email, phone: null, protectedIdentity: false });
      assert.deepEqual(
        b.messages.map((m: Json) => [m.kind, m.internal, m.body]),
        [
          ['resident', false, 'Min fråga om bygglov'],
          ['reply', false, 'Ett svar till dig'],
          ['note', true, 'En intern anteckning'],
        ],
      );
      assert.equal(b.messages[0].author, null);
      assert.deepEqual(b.messages[1].author, { id: api.user.id, name: 'Token Agent' });
      assert.deepEqual(b.messages[2].author, { id: session.user.id, name: 'Session Agent' });
      assert.deepEqual(b.events.map((e: Json) => e.type), ['case.created', 'reply.sent', 'status.changed', 'note.added']);
      const ids = b.events.map((e: Json) => e.id);
      for (const id of ids) assert.ok(Number.isInteger(id));
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `event ids increase: ${ids.join(', ')}`);
      assert.deepEqual(b.events[2].payload, { from: 'new', to: 'waiting' });
      assert.deepEqual(b.events[0].actor, { type: 'resident' });
      assert.deepEqual(b.events[1].actor, { type: 'user', id: api.user.id, name: 'Token Agent' });
      assert.equal(b.events[3].internal, true);
    });

    it('answers 404 not_found for an unknown or malformed reference', async () => {
      for (const ref of ['SC-2099-999999', 'SC-1', 'nonsense']) {
        const res = await viaToken.get(caseUrl(ref)).expect(404);
        assert.equal(res.body.error, 'not_found');
      }
      const patch = await viaToken.patch(caseUrl('SC-2099-999999'), { status: 'open' }).expect(404);
      assert.equal(patch.body.error, 'not_found');
    });
  });

  describe('PATCH status through the lifecycle', () => {
    it('new → open → waiting → open → forwarded → resolved → closed, one status.changed event each', async () => {
      const { reference } = await createCase(t);
      const steps: [string, (typeof viaToken)][] = [
        ['open', viaToken],
        ['waiting', viaSession],
        ['open', viaToken],
      ];
      let from = 'new';
      for (const [to, via] of steps) {
        const res = await setStatus(reference, to, via).expect(200);
        assert.equal(res.body.status, to);
        assert.equal((await caseRow(t.db, reference)).status, to);
        const ev = await lastEvent(reference);
        assert.equal(ev.type, 'status.changed');
        assert.deepEqual(ev.payload, { from, to });
        from = to;
      }
      const fwd = await viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'Gatubelysning, er sak' }).expect(200);
      assert.equal(fwd.body.status, 'forwarded');
      assert.deepEqual(fwd.body.department, { slug: 'teknik', name: 'Tekniska förvaltningen' });

      const resolved = await setStatus(reference, 'resolved', viaSession).expect(200);
      assert.equal(resolved.body.status, 'resolved');
      assert.ok(resolved.body.resolvedAt);
      assert.equal(resolved.body.closedAt, null);
      const closed = await setStatus(reference, 'closed').expect(200);
      assert.equal(closed.body.status, 'closed');
      assert.ok(closed.body.closedAt);
      assert.equal(closed.body.resolvedAt, resolved.body.resolvedAt, 'closing keeps the resolution time');

      const types = (await viaToken.get(caseUrl(reference)).expect(200)).body.events.map((e: Json) => e.type);
      assert.deepEqual(types, ['case.created', 'status.changed', 'status.changed', 'status.changed', 'case.forwarded', 'status.changed', 'status.changed', 'status.changed']);
      const row = await caseRow(t.db, reference);
      assert.equal(row.forward_count, 1);
      assert.ok(row.closed_at);
    });

    it('refuses new → closed and the same status (409 invalid_transition), writing nothing', async () => {
      const { reference } = await createCase(t);
      const body = await refusedChange(reference, () => setStatus(reference, 'closed'), 409, 'invalid_transition');
      assert.match(body.message, /new/);
      await refusedChange(reference, () => setStatus(reference, 'new'), 409, 'invalid_transition');
      await refusedChange(reference, () => setStatus(reference, 'new', viaSession), 409, 'invalid_transition');
    });

    it('refuses resolved → waiting and resolved → forwarded', async () => {
      const { reference } = await caseIn('resolved');
      await refusedChange(reference, () => setStatus(reference, 'waiting'), 409, 'invalid_transition');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'x' }), 409, 'invalid_transition');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Svar', status: 'waiting' }), 409, 'invalid_transition');
    });

    it('refuses every change to a closed case', async () => {
      const { reference } = await caseIn('closed');
      for (const to of ['open', 'resolved', 'waiting', 'new', 'closed']) {
        await refusedChange(reference, () => setStatus(reference, to), 409, 'invalid_transition');
      }
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Svar' }), 409, 'case_closed');
      await refusedChange(reference, () => viaToken.patch(caseUrl(reference), { assigneeId: api.user.id }), 409, 'case_closed');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'x' }), 409, 'invalid_transition');
    });

    it('refuses an empty change and an unknown status (400), writing nothing', async () => {
      const { reference } = await createCase(t);
      await refusedChange(reference, () => viaToken.patch(caseUrl(reference), {}), 400, 'validation_failed', 'status');
      await refusedChange(reference, () => setStatus(reference, 'bogus'), 400, 'validation_failed', 'status');
      await refusedChange(reference, () => viaToken.patch(caseUrl(reference), { status: 7 }), 400, 'validation_failed', 'status');
    });
  });

  describe('replies', () => {
    it('sends a reply: 201, first response, count, waiting, assigned, mailed', async () => {
      const { reference, email } = await createCase(t);
      const before = await caseSnapshot(t.db, reference);
      const res = await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Du behöver inte söka bygglov för det.' }).expect(201);
      assert.equal(res.body.status, 'waiting', 'a reply waits on the resident by default');
      assert.ok(res.body.firstResponseAt);
      assert.deepEqual(res.body.assignee, { id: api.user.id, name: 'Token Agent' }, 'the replying agent takes an unassigned case');

      const after = await caseSnapshot(t.db, reference);
      assert.equal(after.case.agent_reply_count, 1);
      assert.equal(after.events, before.events + 2, 'reply.sent and status.changed');
      assert.equal(after.messages, before.messages + 1);
      const replyEvent = await t.db('case_events').where({ case_id: after.case.id, type: 'reply.sent' }).first();
      assert.equal(new Date(after.case.first_response_at!).getTime(), new Date(replyEvent.created_at).getTime());

      const mails = await t.db('mail_outbox').where({ case_id: after.case.id, kind: 'reply' });
      assert.equal(mails.length, 1);
      assert.equal(mails[0].to_address, email);
      assert.ok(mails[0].text_body.includes('Du behöver inte söka bygglov för det.'));
      assert.ok(mails[0].text_body.includes(`/arende/${after.case.resident_token}`), 'the reply mail links to the case');
      assert.ok(mails[0].subject.includes(reference));
    });

    it('sets the first response only once and counts every reply', async () => {
      const { reference } = await createCase(t);
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Första svaret' }).expect(201);
      const first = await caseRow(t.db, reference);
      const res = await viaSession.post(`${caseUrl(reference)}/replies`, { body: 'Andra svaret', status: 'open' }).expect(201);
      assert.equal(res.body.status, 'open');
      const second = await caseRow(t.db, reference);
      assert.equal(second.agent_reply_count, 2);
      assert.equal(new Date(second.first_response_at!).getTime(), new Date(first.first_response_at!).getTime(), 'first_response_at is kept');
      assert.equal(second.assignee_id, api.user.id, 'a second replier does not take over the case');
      assert.equal(await countOf(t.db, 'mail_outbox', { case_id: second.id, kind: 'reply' }), 2);

      // Replying without changing the status writes no status event.
      const before = await caseSnapshot(t.db, reference);
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Tredje svaret', status: 'open' }).expect(201);
      const after = await caseSnapshot(t.db, reference);
      assert.equal(after.events, before.events + 1);
      assert.equal(after.case.status, 'open');
    });

    it('resolves with a reply when asked', async () => {
      const { reference } = await createCase(t);
      const res = await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Klart!', status: 'resolved' }).expect(201);
      assert.equal(res.body.status, 'resolved');
      assert.ok(res.body.resolvedAt);
    });

    it('mails nobody when the resident has only a phone number', async () => {
      const { reference } = await createCase(t, { email: undefined, phone: '070-999 88 77' });
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Vi ringer dig' }).expect(201);
      const c = await caseRow(t.db, reference);
      assert.equal(c.agent_reply_count, 1);
      assert.equal(await countOf(t.db, 'mail_outbox', { case_id: c.id }), 0);
    });

    it('refuses an empty reply or an unknown status, writing nothing', async () => {
      const { reference } = await createCase(t);
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/replies`, {}), 400, 'validation_failed', 'body');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/replies`, { body: '   ' }), 400, 'validation_failed', 'body');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Svar', status: 'closed' }), 400, 'validation_failed', 'status');
    });

    it("shows the reply on the resident's page", async () => {
      const { reference, token } = await createCase(t, { message: 'Residentens egen fraga 4711' });
      const reply = `Svar till invanaren ${randomBytes(6).toString('hex')}`;
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: reply }).expect(201);
      const page = await t.request().get(`/arende/${token}`).expect('Content-Type', /html/).expect(200);
      assert.ok(page.text.includes(reply), 'the reply is on the page');
      assert.ok(page.text.includes('Residentens egen fraga 4711'), "the resident's own message is on the page");
      assert.ok(page.text.includes(reference));
    });
  });

  describe('internal notes', () => {
    it('adds a note (201) that never reaches the resident', async () => {
      const { reference, token } = await createCase(t);
      const secret = `Intern anteckning ${randomBytes(6).toString('hex')}`;
      const before = await caseSnapshot(t.db, reference);
      const res = await viaSession.post(`${caseUrl(reference)}/notes`, { body: secret }).expect(201);
      assert.equal(res.body.status, 'new', 'a note does not change the status');
      const note = res.body.messages.find((m: Json) => m.kind === 'note');
      assert.equal(note.body, secret);
      assert.equal(note.internal, true);
      const ev = res.body.events.find((e: Json) => e.type === 'note.added');
      assert.equal(ev.internal, true);

      const after = await caseSnapshot(t.db, reference);
      assert.equal(after.events, before.events + 1);
      assert.equal(after.messages, before.messages + 1);
      assert.equal(after.mails, before.mails, 'a note is never mailed');

      const view = await t.services.cases.getForResident(token);
      assert.ok(!view.conversation.some((e) => e.message_body === secret));
      const page = await t.request().get(`/arende/${token}`).expect(200);
      assert.ok(!page.text.includes(secret), 'the note is not on the resident page');
      assert.ok(!page.text.includes('Intern anteckning'));
    });

    it('refuses an empty note, writing nothing', async () => {
      const { reference } = await createCase(t);
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/notes`, { body: '' }), 400, 'validation_failed', 'body');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/notes`, { body: ['x'] }), 400, 'validation_failed', 'body');
    });
  });

  describe('assignment', () => {
    it('assigns, reassigns and unassigns with PATCH {assigneeId}', async () => {
      const { reference } = await createCase(t);
      const other = await t.services.auth.createUser({ email: `other.${Date.now()}@test.example`, name: 'Olle Annan', role: 'agent', password: TEST_PASSWORD });

      const res = await viaToken.patch(caseUrl(reference), { assigneeId: other.id }).expect(200);
      assert.deepEqual(res.body.assignee, { id: other.id, name: 'Olle Annan' });
      assert.equal(res.body.status, 'new', 'assigning does not change the status');
      let ev = await lastEvent(reference);
      assert.equal(ev.type, 'assignment.changed');
      assert.equal(ev.payload.from, null);
      assert.equal(ev.payload.to, other.id);

      const moved = await viaSession.patch(caseUrl(reference), { assigneeId: session.user.id }).expect(200);
      assert.deepEqual(moved.body.assignee, { id: session.user.id, name: 'Session Agent' });

      // The same assignee again changes nothing.
      const before = await caseSnapshot(t.db, reference);
      await viaToken.patch(caseUrl(reference), { assigneeId: session.user.id }).expect(200);
      assert.equal((await caseSnapshot(t.db, reference)).events, before.events);

      const cleared = await viaToken.patch(caseUrl(reference), { assigneeId: null }).expect(200);
      assert.equal(cleared.body.assignee, null);
      assert.equal((await caseRow(t.db, reference)).assignee_id, null);
      ev = await lastEvent(reference);
      assert.equal(ev.type, 'assignment.changed');
      assert.equal(ev.payload.from, session.user.id);
      assert.equal(ev.payload.to, null);
    });

    it('changes status and assignee in one request', async () => {
      const { reference } = await createCase(t);
      const before = await caseSnapshot(t.db, reference);
      const res = await viaToken.patch(caseUrl(reference), { status: 'open', assigneeId: api.user.id }).expect(200);
      assert.equal(res.body.status, 'open');
      assert.equal(res.body.assignee.id, api.user.id);
      assert.equal((await caseSnapshot(t.db, reference)).events, before.events + 2);
    });

    it('refuses an unknown, inactive or malformed assignee (400 assigneeId), writing nothing', async () => {
      const { reference } = await createCase(t);
      const gone = await t.services.auth.createUser({ email: `gone.${Date.now()}@test.example`, name: 'Slutat', role: 'agent', password: TEST_PASSWORD });
      await t.services.auth.setActive(gone.id, false);
      for (const assigneeId of [999_999, gone.id, 'abc', -3, 1.5]) {
        await refusedChange(reference, () => viaToken.patch(caseUrl(reference), { assigneeId }), 400, 'validation_failed', 'assigneeId');
      }
    });
  });

  describe('forwarding', () => {
    it('forwards to a department with an e-mail: forwarded, department set, handover mailed', async () => {
      const { reference, token } = await caseIn('open');
      const note = `Bygglovsfraga, se bifogat ${randomBytes(4).toString('hex')}`;
      const before = await caseSnapshot(t.db, reference);
      const res = await viaSession.post(`${caseUrl(reference)}/forward`, { department: 'samhallsbyggnad', note }).expect(200);
      assert.equal(res.body.status, 'forwarded');
      assert.deepEqual(res.body.department, { slug: 'samhallsbyggnad', name: 'Samhällsbyggnadsförvaltningen' });

      const after = await caseSnapshot(t.db, reference);
      assert.equal(after.case.status, 'forwarded');
      assert.equal(after.case.forward_count, 1);
      const dep = await t.db('departments').where({ slug: 'samhallsbyggnad' }).first();
      assert.equal(after.case.department_id, dep.id);
      assert.equal(after.events, before.events + 2);
      const forwarded = await t.db('case_events').where({ case_id: after.case.id, type: 'case.forwarded' }).first();
      assert.equal(forwarded.internal, true);
      assert.equal(forwarded.payload.note, note);
      assert.equal(forwarded.payload.from, 'open');

      const mails = await t.db('mail_outbox').where({ case_id: after.case.id, kind: 'handover' });
      assert.equal(mails.length, 1);
      assert.equal(mails[0].to_address, 'samhallsbyggnad@borlange.example');
      assert.ok(mails[0].text_body.includes(note));
      assert.ok(mails[0].text_body.includes(reference));

      const page = await t.request().get(`/arende/${token}`).expect(200);
      assert.ok(!page.text.includes(note), 'the handover note is internal');
    });

    it('forwards to a department without an e-mail and mails nobody', async () => {
      const { reference } = await createCase(t);
      const before = await caseSnapshot(t.db, reference);
      const res = await viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'Trasig lykta' }).expect(200);
      assert.equal(res.body.status, 'forwarded');
      assert.equal(res.body.department.slug, 'teknik');
      const after = await caseSnapshot(t.db, reference);
      assert.equal(after.mails, before.mails);
      assert.equal(after.case.forward_count, 1);
    });

    it('refuses an unknown or inactive department, a missing note and forwarding twice', async () => {
      const { reference } = await createCase(t);
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'finns-inte', note: 'x' }), 400, 'validation_failed', 'department');
      await t.db('departments').insert({ slug: 'nedlagd-forvaltning', name: 'Nedlagd', email: 'nedlagd@borlange.example', active: false });
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'nedlagd-forvaltning', note: 'x' }), 400, 'validation_failed', 'department');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik' }), 400, 'validation_failed', 'note');
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { note: 'x' }), 400, 'validation_failed', 'department');
      await viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'x' }).expect(200);
      await refusedChange(reference, () => viaToken.post(`${caseUrl(reference)}/forward`, { department: 'samhallsbyggnad', note: 'y' }), 409, 'invalid_transition');
    });
  });

  describe('a follow-up from the resident', () => {
    it('reopens a case that waits on the resident', async () => {
      const { reference, token } = await createCase(t);
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Kan du skicka en ritning?' }).expect(201);
      assert.equal((await caseRow(t.db, reference)).status, 'waiting');
      await t.services.cases.addResidentMessage(token, { message: 'Här är ritningen.' });
      const c = await caseRow(t.db, reference);
      assert.equal(c.status, 'open');
      assert.equal(c.resident_message_count, 2);
      assert.equal(c.reopen_count, 0, 'waiting → open is not a reopening');
      const ev = await lastEvent(reference);
      assert.equal(ev.type, 'status.changed');
      assert.deepEqual(ev.payload, { from: 'waiting', to: 'open', reason: 'resident_reply' });
      assert.equal(ev.actor_type, 'resident');
      const detail = await viaToken.get(caseUrl(reference)).expect(200);
      assert.equal(detail.body.messages.at(-1).kind, 'resident');
      assert.equal(detail.body.messages.at(-1).body, 'Här är ritningen.');
    });

    it('reopens a resolved case: reopen_count + 1, resolved_at cleared', async () => {
      const { reference, token } = await createCase(t);
      await viaToken.post(`${caseUrl(reference)}/replies`, { body: 'Löst!', status: 'resolved' }).expect(201);
      const resolved = await caseRow(t.db, reference);
      assert.ok(resolved.resolved_at);
      assert.equal(resolved.resolved_at_first_contact, true);
      await t.services.cases.addResidentMessage(token, { message: 'Nej, det är inte löst.' });
      const c = await caseRow(t.db, reference);
      assert.equal(c.status, 'open');
      assert.equal(c.reopen_count, 1);
      assert.equal(c.resolved_at, null);
      assert.equal(c.resolved_at_first_contact, null);
    });

    it('leaves new and open cases in their status', async () => {
      const fresh = await createCase(t);
      await t.services.cases.addResidentMessage(fresh.token, { message: 'Ett tillägg' });
      assert.equal((await caseRow(t.db, fresh.reference)).status, 'new');
      const open = await caseIn('open');
      await t.services.cases.addResidentMessage(open.token, { message: 'Ett tillägg' });
      const c = await caseRow(t.db, open.reference);
      assert.equal(c.status, 'open');
      assert.equal(c.reopen_count, 0);
    });

    it('is refused on a closed case (409 case_closed), writing nothing', async () => {
      const { reference, token } = await caseIn('closed');
      const before = await caseSnapshot(t.db, reference);
      await assert.rejects(t.services.cases.addResidentMessage(token, { message: 'Hallå?' }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.status, 409);
        assert.equal(err.code, 'case_closed');
        return true;
      });
      assert.deepEqual(await caseSnapshot(t.db, reference), before);
    });

    it('is refused when empty (400) or for an unknown link (404)', async () => {
      const { reference, token } = await createCase(t);
      const before = await caseSnapshot(t.db, reference);
      await assert.rejects(t.services.cases.addResidentMessage(token, { message: '  ' }), (err: unknown) => err instanceof AppError && err.status === 400);
      await assert.rejects(t.services.cases.addResidentMessage(randomBytes(32).toString('base64url'), { message: 'Hej' }), (err: unknown) => err instanceof AppError && err.status === 404);
      assert.deepEqual(await caseSnapshot(t.db, reference), before);
    });
  });

  describe('resolved at first contact', () => {
    const firstContact = async (reference: string) => {
      const c = await caseRow(t.db, reference);
      const api = (await viaToken.get(caseUrl(reference)).expect(200)).body;
      assert.equal(api.resolvedAtFirstContact, c.resolved_at_first_contact, 'the API shows the stored value');
      return c.resolved_at_first_contact;
    };
    const reply = (ref: string, body: object) => viaToken.post(`${caseUrl(ref)}/replies`, body).expect(201);

    it('is true when resolved with exactly one reply', async () => {
      const { reference } = await createCase(t);
      await reply(reference, { body: 'Svaret', status: 'resolved' });
      assert.equal(await firstContact(reference), true);
    });

    it('is true when resolved after one reply and no follow-up', async () => {
      const { reference } = await createCase(t);
      await reply(reference, { body: 'Svaret' });
      await setStatus(reference, 'resolved').expect(200);
      assert.equal(await firstContact(reference), true);
    });

    it('is false after a follow-up from the resident', async () => {
      const { reference, token } = await createCase(t);
      await reply(reference, { body: 'Svaret' });
      await t.services.cases.addResidentMessage(token, { message: 'En följdfråga' });
      await reply(reference, { body: 'Svar igen', status: 'resolved' });
      assert.equal(await firstContact(reference), false);
    });

    it('is false after a follow-up even with a single reply', async () => {
      const { reference, token } = await createCase(t);
      await t.services.cases.addResidentMessage(token, { message: 'Ett tillägg innan svaret' });
      await reply(reference, { body: 'Svaret', status: 'resolved' });
      assert.equal(await firstContact(reference), false);
    });

    it('is false after two replies', async () => {
      const { reference } = await createCase(t);
      await reply(reference, { body: 'Ett', status: 'open' });
      await reply(reference, { body: 'Två', status: 'resolved' });
      assert.equal(await firstContact(reference), false);
    });

    it('is false after a forward', async () => {
      const { reference } = await createCase(t);
      await reply(reference, { body: 'Vi skickar vidare' });
      await viaToken.post(`${caseUrl(reference)}/forward`, { department: 'teknik', note: 'Er fråga' }).expect(200);
      await setStatus(reference, 'resolved').expect(200);
      assert.equal(await firstContact(reference), false);
    });

    it('is false when resolved again after a reopening', async () => {
      const { reference, token } = await createCase(t);
      await reply(reference, { body: 'Svaret', status: 'resolved' });
      assert.equal(await firstContact(reference), true);
      await t.services.cases.addResidentMessage(token, { message: 'Det hjälpte inte' });
      assert.equal(await firstContact(reference), null, 'unknown while open again');
      await setStatus(reference, 'resolved').expect(200);
      assert.equal(await firstContact(reference), false);
    });

    it('is false when an agent reopens a resolved case and resolves it again', async () => {
      const { reference } = await createCase(t);
      await reply(reference, { body: 'Svaret', status: 'resolved' });
      await setStatus(reference, 'open').expect(200);
      const c = await caseRow(t.db, reference);
      assert.equal(c.reopen_count, 1);
      assert.equal(c.resolved_at, null);
      await setStatus(reference, 'resolved').expect(200);
      assert.equal(await firstContact(reference), false);
    });
  });
});
