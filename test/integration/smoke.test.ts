import { strict as assert } from 'node:assert';
import { newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';

describe('smoke: the app boots on a fresh database', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('answers /healthz', async () => {
    const res = await t.request().get('/healthz').expect(200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('creates a case through the API', async () => {
    const before = await rowCounts(t.db);
    const res = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    assert.match(res.body.reference, /^SC-\d{4}-\d{6}$/);
    const after = await rowCounts(t.db);
    assert.equal(after.cases, before.cases + 1);
  });
});
