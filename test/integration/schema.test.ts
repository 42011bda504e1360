import { strict as assert } from 'node:assert';
import { migrateLatest, migrateRollback } from '../../server/platform/migrate.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';

describe('the schema', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('keeps every topic: deleting, truncating or renumbering one is refused by the database', async () => {
    await t.request().post('/api/v1/cases').send(newCase({ category: 'ovrigt' })).expect(201);
    await assert.rejects(t.db('categories').where({ slug: 'ovrigt' }).delete(), /topics are never deleted/);
    await assert.rejects(t.db.raw('TRUNCATE categories CASCADE'), /topics are never deleted/);
    await assert.rejects(t.db('categories').where({ slug: 'ovrigt' }).update({ id: 999 }), /topics are never deleted/);
    // Deactivating is the way, and other columns stay editable.
    await t.db('categories').where({ slug: 'ovrigt' }).update({ active: false, name_sv: 'Annat' });
    const row = await t.db('categories').where({ slug: 'ovrigt' }).first();
    assert.equal(row.active, false);
  });

  it('every migration can be rolled back and applied again', async () => {
    const undone = await migrateRollback(t.db, true);
    assert.ok(undone.length >= 1);
    const { rows } = await t.db.raw<{ rows: { n: string | number }[] }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE 'knex_%'`,
    );
    assert.equal(Number(rows[0]!.n), 0, 'nothing but knex bookkeeping is left');
    const applied = await migrateLatest(t.db);
    assert.deepEqual(applied, undone.slice().reverse());
  });
});
