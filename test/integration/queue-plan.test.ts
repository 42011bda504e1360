import { strict as assert } from 'node:assert';
import { ACTIVE_STATUSES, STATUSES } from '../../server/cases/lifecycle.js';
import { createCaseStore, type QueueFilter } from '../../server/cases/store.js';
import { startTestApp, type TestApp } from '../support/harness.js';

/**
 * "Keyset pagination that stays fast with millions of cases" without timing
 * anything: with enough rows for the planner to care, every queue query must
 * walk an index in (queue_at, id) order and stop at the page size. A Seq
 * Scan over cases or a Sort node would mean cost growing with the table.
 */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) flatten(child, out);
  return out;
}

describe('queue query plans stay index-only as the table grows', function () {
  this.timeout(120_000);
  let t: TestApp;
  const ROWS = 40_000;

  let bygglov: number;

  before(async () => {
    t = await startTestApp();
    bygglov = (await t.db('categories').where({ slug: 'bygglov' }).first('id')).id;
    const [resident] = await t.db('residents').insert({ name: 'Plan Test', email: 'plan@example.com' }).returning('id');
    // Spread over a year, every status, channel and topic.
    await t.db.raw(
      `INSERT INTO cases (reference, status, channel, category_id, resident_id, subject, resident_token, created_at)
       SELECT 'SC-2026-' || lpad(g::text, 7, '0'),
              (ARRAY['new','open','waiting','forwarded','resolved','closed','closed','closed','resolved','closed'])[1 + g % 10],
              (ARRAY['web','email','phone','visit','phone'])[1 + g % 5],
              (SELECT id FROM categories ORDER BY id OFFSET g % 5 LIMIT 1),
              ?, 'Fråga ' || g, md5(g::text) || md5((g * 7)::text),
              timestamptz '2026-01-01' + (g * interval '13 minutes')
       FROM generate_series(1, ?) AS g`,
      [(resident as { id: number }).id, ROWS],
    );
    await t.db.raw('ANALYZE cases');
  });
  after(() => t.close());

  async function planOf(f: QueueFilter): Promise<PlanNode[]> {
    const { sql, bindings } = createCaseStore(t.db).queueQuery(f).toSQL();
    const { rows } = await t.db.raw<{ rows: Record<string, unknown>[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, bindings as never);
    const raw = Object.values(rows[0]!)[0];
    const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    return flatten(doc[0]!.Plan);
  }

  const cursor = { queueAt: new Date('2026-06-01T00:00:00Z'), id: 20_000 };
  const filters: [string, QueueFilter][] = [
    ['the default queue', { statuses: ACTIVE_STATUSES, limit: 26 }],
    ['the default queue, a later page', { statuses: ACTIVE_STATUSES, after: cursor, limit: 26 }],
    ['one status', { statuses: ['waiting'], limit: 26 }],
    ['one status, a later page', { statuses: ['waiting'], after: cursor, limit: 26 }],
    ['closed cases, a later page', { statuses: ['closed'], after: cursor, limit: 26 }],
    ['a channel', { statuses: ACTIVE_STATUSES, channel: 'phone', limit: 26 }],
    ['every status, a later page', { statuses: STATUSES, after: cursor, limit: 26 }],
    ['every status and a channel', { statuses: STATUSES, channel: 'email', limit: 26 }],
  ];
  const topicFilter = (): QueueFilter => ({ statuses: ACTIVE_STATUSES, categoryId: bygglov, after: cursor, limit: 26 });

  for (const [name, filter] of [...filters, ['a topic, a later page', undefined] as const]) {
    it(`${name}: an index scan on cases, no sequential scan, no sort`, async () => {
      const nodes = await planOf(filter ?? topicFilter());
      const onCases = nodes.filter((n) => n['Relation Name'] === 'cases');
      assert.ok(onCases.length > 0, 'the plan reads cases');
      for (const n of onCases) {
        assert.notEqual(n['Node Type'], 'Seq Scan', `sequential scan on cases: ${JSON.stringify(nodes.map((x) => x['Node Type']))}`);
      }
      assert.ok(
        onCases.some((n) => /Index/.test(n['Node Type']) && /^cases_/.test(n['Index Name'] ?? '')),
        `cases read through one of its indexes: ${JSON.stringify(onCases)}`,
      );
      const sorts = nodes.filter((n) => /Sort/.test(n['Node Type']));
      assert.deepEqual(sorts, [], 'no sort: the index gives the order');
    });
  }

  it('pages through the active queue in order, each case once', async () => {
    const seen: string[] = [];
    let next: string | null | undefined;
    let pages = 0;
    do {
      const page = await t.services.cases.listQueue({ status: 'waiting', limit: 100, ...(next ? { cursor: next } : {}) });
      seen.push(...page.items.map((i) => i.reference));
      next = page.next;
      pages++;
    } while (next && pages < 100);
    const expected = await t.db('cases').where({ status: 'waiting' }).orderBy(['created_at', 'id']).pluck('reference');
    assert.deepEqual(seen, expected);
  });
});
