import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createIntakeWriter } from '../../server/cases/intake-writer.js';
import { createCaseStore, type NewCaseRow } from '../../server/cases/store.js';
import { newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';

describe('intake: new cases written in batches', () => {
  let t: TestApp;
  let ovrigt: number;
  before(async () => {
    t = await startTestApp();
    ovrigt = (await t.db('categories').where({ slug: 'ovrigt' }).first('id')).id;
  });
  after(() => t.close());

  const row = (reference: string, email: string): NewCaseRow => ({
    resident: { name: 'Batch Person', email, phone: null },
    reference,
    channel: 'api',
    categoryId: ovrigt,
    subject: 'Batch',
    language: 'sv',
    token: randomBytes(32).toString('base64url'),
    body: 'Hej',
    payload: {},
    ack: undefined,
  });

  it('a burst of concurrent requests, some from the same address, each gets its own complete case', async () => {
    const before = await rowCounts(t.db);
    const shared = `same.${randomBytes(3).toString('hex')}@example.com`;
    const bodies = Array.from({ length: 40 }, (_, i) => newCase(i % 8 === 0 ? { email: shared.toUpperCase().replace('EXAMPLE', 'example'), name: `Samma ${i}` } : {}));
    const answers = await Promise.all(bodies.map((b) => t.request().post('/api/v1/cases').send(b)));
    assert.deepEqual(answers.map((a) => a.status), bodies.map(() => 201));
    const references = answers.map((a) => a.body.reference as string);
    assert.equal(new Set(references).size, 40, 'every case has its own reference');

    const after = await rowCounts(t.db);
    assert.equal(after.cases - before.cases, 40);
    assert.equal(after.case_events - before.case_events, 40);
    assert.equal(after.messages - before.messages, 40);
    assert.equal(after.mail_outbox - before.mail_outbox, 40, 'one acknowledgement each');
    // 35 distinct addresses plus the shared one, however its letters were cased.
    assert.equal(after.residents - before.residents, 36);
    const sharedCases = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').whereRaw('lower(r.email) = ?', [shared]).count<{ n: string }[]>('* as n');
    assert.equal(Number(sharedCases[0]!.n), 5);

    // Each case's message and event belong to it, and its answer matches what is stored.
    for (const [i, a] of answers.entries()) {
      const c = await t.db('cases').where({ reference: a.body.reference }).first();
      const m = await t.db('messages').where({ case_id: c.id }).first();
      assert.equal(m.body, bodies[i]!.message);
      assert.equal(a.body.statusUrl, `${t.config.publicUrl}/arende/${c.resident_token}`);
    }
  });

  it('one case the database refuses does not sink the others in its batch', async () => {
    const store = createCaseStore(t.db);
    const writer = createIntakeWriter({ db: t.db, cases: store });
    const taken = (await t.db('cases').first('reference')).reference as string;
    const rows = [
      row(`SC-2099-${randomBytes(3).toString('hex')}`, `a.${randomBytes(3).toString('hex')}@example.com`),
      row(taken, `b.${randomBytes(3).toString('hex')}@example.com`), // a reference that exists: unique violation
      row(`SC-2099-${randomBytes(3).toString('hex')}`, `c.${randomBytes(3).toString('hex')}@example.com`),
    ];
    const before = await rowCounts(t.db);
    const results = await Promise.allSettled(rows.map((r) => writer.write(r)));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /duplicate key|unique/i);
    const after = await rowCounts(t.db);
    assert.equal(after.cases - before.cases, 2);
    assert.equal(after.messages - before.messages, 2);
    assert.equal(after.residents - before.residents, 2, 'the refused case left no resident behind');
  });
});
