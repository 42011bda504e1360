import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { REFERENCE_PATTERN } from '../../server/cases/reference.js';
import { ValidationError } from '../../server/platform/errors.js';
import { MAX_CASES, parseHistoryOptions, seedHistory, type HistorySummary } from '../../server/stats/history-seed.js';
import { emptyPostgresDatabase } from '../support/database.js';
import { cliEnv, runCli } from '../support/cli.js';
import { startTestApp, type TestApp } from '../support/harness.js';

const CASES = 2000;
const SEED = 42;
/** A Wednesday afternoon: the history ends in the middle of a working week. */
const NOW = new Date('2026-06-17T12:00:00Z');
const ZONE = 'Europe/Stockholm';

async function rows<T = Record<string, unknown>>(db: Knex, sql: string, bindings: Knex.RawBinding[] = []): Promise<T[]> {
  return (await db.raw<{ rows: T[] }>(sql, bindings)).rows;
}

function seed(t: TestApp, seedValue = SEED, keepRowTriggers = false): Promise<HistorySummary> {
  return seedHistory(
    { db: t.db, hours: t.services.hours, timeZone: t.config.calendar.timeZone, callbacks: t.config.callbacks },
    { cases: CASES, days: 365, seed: seedValue, now: NOW, keepRowTriggers, batchSize: 700 },
  );
}

/** Everything the history wrote, but the residents' private tokens (random on every run), as one digest per table. */
async function digest(db: Knex): Promise<Record<string, string>> {
  const queries: Record<string, string> = {
    residents: `SELECT id, name, email, phone, created_at FROM residents ORDER BY id`,
    users: `SELECT id, name, email, role FROM users ORDER BY id`,
    cases: `SELECT id, reference, status, channel, category_id, department_id, assignee_id, resident_id, subject, language, created_at, updated_at,
              queue_at, first_response_at, resolved_at, closed_at, resolved_at_first_contact, agent_reply_count, resident_message_count, forward_count FROM cases ORDER BY id`,
    case_events: `SELECT id, case_id, type, actor_type, actor_id, payload::text, internal, created_at FROM case_events ORDER BY id`,
    messages: `SELECT id, case_id, event_id, kind, author_id, channel, body, created_at FROM messages ORDER BY id`,
    calls: `SELECT call_id, caller, queue, state, outcome, offered_at, answered_at, ended_at, agent_id, callback_id FROM calls ORDER BY id`,
    callbacks: `SELECT id, case_id, phone, window_start, window_end, status, attempts, next_attempt_at, source, call_id, outcome, completed_at FROM callbacks ORDER BY id`,
    callback_attempts: `SELECT callback_id, user_id, result, attempted_at FROM callback_attempts ORDER BY id`,
  };
  const out: Record<string, string> = {};
  for (const [table, sql] of Object.entries(queries)) {
    out[table] = (await rows<{ d: string }>(db, `SELECT md5(string_agg(x::text, '|')) AS d FROM (${sql}) AS x`))[0]!.d;
  }
  return out;
}

describe('seed:history (server/stats/history-seed.ts)', function () {
  this.timeout(180_000);
  let t: TestApp;
  let summary: HistorySummary;
  /** The history as written, before the tests below add to it. */
  let written: Record<string, string>;

  before(async () => {
    t = await startTestApp();
    summary = await seed(t);
    written = await digest(t.db);
  });
  after(() => t.close());

  it('writes the cases asked for, with their residents, events, messages, calls and callbacks, and reports them', async () => {
    const [count] = await rows<Record<'cases' | 'case_events' | 'messages' | 'residents' | 'calls' | 'callbacks' | 'callback_attempts', number>>(
      t.db,
      `SELECT (SELECT count(*) FROM cases)::int AS cases, (SELECT count(*) FROM case_events)::int AS case_events, (SELECT count(*) FROM messages)::int AS messages,
              (SELECT count(*) FROM residents)::int AS residents, (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM callbacks)::int AS callbacks,
              (SELECT count(*) FROM callback_attempts)::int AS callback_attempts`,
    );
    assert.equal(count!.cases, CASES);
    for (const table of ['case_events', 'messages', 'residents', 'calls', 'callbacks', 'callback_attempts'] as const) {
      assert.equal(summary.rows[table], count![table], table);
    }
    assert.equal(summary.rows.cases, CASES);
    assert.ok(count!.case_events > 4 * CASES, 'several events per case');
    assert.ok(count!.residents < CASES && count!.residents > CASES / 2, 'residents come back with new questions');
    assert.ok(summary.rows.users > 0, 'agents were made for a database with none');
  });

  it('keeps every reference a row makes (the batches skip the per-row foreign key checks)', async () => {
    const dangling = await rows<{ what: string; n: number }>(
      t.db,
      `SELECT 'cases.resident_id' AS what, count(*)::int AS n FROM cases c WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.id = c.resident_id)
       UNION ALL SELECT 'cases.assignee_id', count(*)::int FROM cases c WHERE c.assignee_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.assignee_id)
       UNION ALL SELECT 'cases.department_id', count(*)::int FROM cases c WHERE c.department_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.id = c.department_id)
       UNION ALL SELECT 'cases.category_id', count(*)::int FROM cases c WHERE NOT EXISTS (SELECT 1 FROM categories k WHERE k.id = c.category_id)
       UNION ALL SELECT 'case_events.case_id', count(*)::int FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)
       UNION ALL SELECT 'case_events.actor_id', count(*)::int FROM case_events e WHERE e.actor_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.actor_id)
       UNION ALL SELECT 'messages.event_id', count(*)::int FROM messages m WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.id = m.event_id AND e.case_id = m.case_id)
       UNION ALL SELECT 'messages.author_id', count(*)::int FROM messages m WHERE m.author_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.author_id)
       UNION ALL SELECT 'callbacks.case_id', count(*)::int FROM callbacks b WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = b.case_id)
       UNION ALL SELECT 'callback_attempts.callback_id', count(*)::int FROM callback_attempts a WHERE NOT EXISTS (SELECT 1 FROM callbacks b WHERE b.id = a.callback_id)
       UNION ALL SELECT 'calls.callback_id', count(*)::int FROM calls k WHERE k.callback_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM callbacks b WHERE b.id = k.callback_id)
       UNION ALL SELECT 'calls.agent_id', count(*)::int FROM calls k WHERE k.agent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = k.agent_id)`,
    );
    assert.deepEqual(dangling.filter((d) => d.n > 0), []);
  });

  it('gives every case timestamps, a status and metric columns consistent with its own event log', async () => {
    const broken = await rows<{ rule: string; n: number }>(
      t.db,
      `WITH ev AS (
         SELECT c.id,
           min(e.created_at) AS first_at, max(e.created_at) AS last_at,
           (array_agg(e.type ORDER BY e.id))[1] AS first_type,
           (array_agg(e.payload->>'to' ORDER BY e.id DESC) FILTER (WHERE e.type = 'status.changed'))[1] AS last_to,
           max(e.created_at) FILTER (WHERE e.type = 'status.changed' AND e.payload->>'to' = 'resolved') AS resolved_ev,
           max(e.created_at) FILTER (WHERE e.type = 'status.changed' AND e.payload->>'to' = 'closed') AS closed_ev,
           min(e.created_at) FILTER (WHERE e.type = 'reply.sent') AS first_reply,
           min(e.created_at) FILTER (WHERE e.type = 'callback.completed') AS reached,
           bool_or(e.payload->>'reason' = 'answered_directly') AS answered_directly,
           count(*) FILTER (WHERE e.type = 'reply.sent')::int AS replies,
           count(*) FILTER (WHERE e.type = 'case.forwarded')::int AS forwards,
           bool_and(e.id IS NOT NULL) AS any
         FROM cases c JOIN case_events e ON e.case_id = c.id GROUP BY c.id),
       msg AS (SELECT case_id, count(*) FILTER (WHERE kind = 'resident')::int AS resident FROM messages GROUP BY case_id)
       SELECT rule, count(*)::int AS n FROM (
         SELECT unnest(ARRAY[
           CASE WHEN ev.first_type <> 'case.created' OR ev.first_at <> c.created_at THEN 'the log starts with case.created at created_at' END,
           CASE WHEN ev.last_at > ?::timestamptz THEN 'nothing happens after now' END,
           CASE WHEN c.updated_at <> ev.last_at THEN 'updated_at is the last change' END,
           CASE WHEN c.status <> coalesce(ev.last_to, 'new') THEN 'the status is the last status change' END,
           CASE WHEN c.resolved_at < c.created_at THEN 'resolved after created' END,
           CASE WHEN c.first_response_at < c.created_at THEN 'first response after created' END,
           CASE WHEN c.closed_at < c.resolved_at THEN 'closed after resolved' END,
           CASE WHEN c.status = 'closed' AND (c.closed_at IS NULL OR c.resolved_at IS NULL) THEN 'closed: resolved_at and closed_at set' END,
           CASE WHEN c.status IN ('resolved', 'closed') AND c.resolved_at IS DISTINCT FROM ev.resolved_ev THEN 'resolved_at is the resolving change' END,
           CASE WHEN c.status NOT IN ('resolved', 'closed') AND (c.resolved_at IS NOT NULL OR c.closed_at IS NOT NULL) THEN 'active: not resolved' END,
           CASE WHEN c.closed_at IS DISTINCT FROM ev.closed_ev THEN 'closed_at is the closing change' END,
           CASE WHEN (c.resolved_at IS NULL) <> (c.resolved_at_first_contact IS NULL) THEN 'resolved at first contact: set when resolved' END,
           CASE WHEN c.first_response_at IS DISTINCT FROM coalesce(ev.first_reply, ev.reached, CASE WHEN ev.answered_directly THEN c.created_at END) THEN 'first_response_at is the first answer' END,
           CASE WHEN c.agent_reply_count <> ev.replies THEN 'agent_reply_count counts replies' END,
           CASE WHEN c.resident_message_count <> msg.resident THEN 'resident_message_count counts their messages' END,
           CASE WHEN c.forward_count <> ev.forwards THEN 'forward_count counts forwards' END,
           CASE WHEN (c.forward_count > 0) <> (c.department_id IS NOT NULL) THEN 'a forwarded case has its department' END,
           CASE WHEN c.status IN ('open', 'waiting', 'forwarded', 'resolved', 'closed') AND c.assignee_id IS NULL THEN 'a case in hand has an assignee' END,
           CASE WHEN c.resolved_at_first_contact AND (c.agent_reply_count > 1 OR c.forward_count > 0 OR c.resident_message_count > 1) THEN 'first contact: one answer' END,
           CASE WHEN NOT EXISTS (SELECT 1 FROM callbacks b WHERE b.case_id = c.id) AND c.queue_at <> c.created_at THEN 'queue_at is created_at but for callbacks' END
         ]) AS rule
         FROM cases c JOIN ev ON ev.id = c.id LEFT JOIN msg ON msg.case_id = c.id) AS checks
       WHERE rule IS NOT NULL GROUP BY rule`,
      [NOW],
    );
    assert.deepEqual(broken, []);
    const [messages] = await rows<{ n: number }>(
      t.db,
      `SELECT count(*)::int AS n FROM case_events e WHERE e.type IN ('case.created', 'reply.sent', 'message.received') AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.event_id = e.id)`,
    );
    assert.equal(messages!.n, 0, 'every created, reply and received event has its message');
    const [callbacks] = await rows<{ n: number }>(
      t.db,
      `SELECT count(*)::int AS n FROM callbacks b
       WHERE b.attempts <> (SELECT count(*) FROM callback_attempts a WHERE a.callback_id = b.id)
          OR (b.status = 'pending') <> (b.completed_at IS NULL)
          OR (b.status = 'completed') <> (b.outcome IS NOT DISTINCT FROM 'reached')
          OR b.window_end <= b.window_start`,
    );
    assert.equal(callbacks!.n, 0, 'callbacks agree with their attempts');
  });

  it('has old cases settled and recent ones still in hand', async () => {
    const [s] = await rows<{ old: number; old_active: number; recent: number; recent_active: number }>(
      t.db,
      `SELECT count(*) FILTER (WHERE created_at < ?::timestamptz - interval '60 days')::int AS old,
              count(*) FILTER (WHERE created_at < ?::timestamptz - interval '60 days' AND status NOT IN ('resolved', 'closed'))::int AS old_active,
              count(*) FILTER (WHERE created_at > ?::timestamptz - interval '3 days')::int AS recent,
              count(*) FILTER (WHERE created_at > ?::timestamptz - interval '3 days' AND status NOT IN ('resolved', 'closed'))::int AS recent_active
       FROM cases`,
      [NOW, NOW, NOW, NOW],
    );
    assert.equal(s!.old_active, 0, 'nothing older than 60 days is still open');
    assert.ok(s!.recent_active > 0 && s!.recent_active < s!.recent, `some of the last days' ${s!.recent} cases are still in hand (${s!.recent_active})`);
    const [closed] = await rows<{ share: number }>(t.db, `SELECT avg((status = 'closed')::int)::float8 AS share FROM cases WHERE created_at < ?::timestamptz - interval '60 days'`, [NOW]);
    assert.ok(closed!.share > 0.6 && closed!.share < 0.95, `most old cases are closed, the rest resolved (${closed!.share})`);
  });

  it('numbers cases from the reference sequence, so the intake goes on after the history without a collision', async () => {
    const refs = await rows<{ reference: string; created_at: Date }>(t.db, `SELECT reference, created_at FROM cases ORDER BY id`);
    assert.equal(new Set(refs.map((r) => r.reference)).size, refs.length, 'unique');
    for (const r of refs) {
      assert.match(r.reference, REFERENCE_PATTERN);
      assert.equal(r.reference.slice(3, 7), String(DateTime.fromJSDate(new Date(r.created_at), { zone: ZONE }).year), 'the year the case came in');
    }
    const numbers = refs.map((r) => Number(r.reference.slice(8)));
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'numbers rise with time');
    const created = await t.services.cases.createCase(
      { name: 'Efter Historiken', email: `efter.${randomBytes(4).toString('hex')}@example.org`, category: 'bygglov', message: 'Behöver jag bygglov för en pergola?' },
      { channel: 'web' },
    );
    assert.ok(Number(created.reference.slice(8)) > Math.max(...numbers), `${created.reference} comes after the history`);
    const agent = await t.loginAs('agent');
    const contact = await t.services.contacts.register(agent.user, { channel: 'phone', category: 'forskoleplats', summary: 'Frågade om kön.', outcome: 'answered' }, { lang: 'sv' });
    assert.ok(!refs.some((r) => r.reference === contact.reference));
    const [ids] = await rows<{ n: number }>(t.db, `SELECT count(DISTINCT id)::int AS n FROM cases`);
    assert.equal(ids!.n, CASES + 2);
  });

  it('takes calls and visits only while the center is open', async () => {
    const contacts = await rows<{ created_at: Date }>(t.db, `SELECT created_at FROM cases WHERE channel IN ('phone', 'visit') AND created_at <= ?`, [NOW]);
    assert.ok(contacts.length > CASES / 2);
    const closed = contacts.filter((c) => !t.services.hours.isOpen(new Date(c.created_at)));
    assert.deepEqual(closed.map((c) => new Date(c.created_at).toISOString()), []);
    const calls = await rows<{ offered_at: Date; answered_at: Date | null }>(t.db, `SELECT offered_at, answered_at FROM calls`);
    assert.deepEqual(
      calls.filter((c) => !t.services.hours.isOpen(new Date(c.offered_at)) || (c.answered_at && !t.services.hours.isOpen(new Date(c.answered_at)))).length,
      0,
      'calls are offered and answered in opening hours',
    );
  });

  it('has arrivals peak in weekday office hours, a summer dip, phone > web > e-mail and most calls answered directly', async () => {
    const cells = await rows<{ dow: number; hour: number; channel: string; n: number }>(
      t.db,
      `SELECT extract(isodow FROM created_at AT TIME ZONE ?)::int AS dow, extract(hour FROM created_at AT TIME ZONE ?)::int AS hour, channel, count(*)::int AS n
       FROM cases WHERE created_at <= ? GROUP BY 1, 2, 3`,
      [ZONE, ZONE, NOW],
    );
    const byCell = new Map<string, number>();
    for (const c of cells) byCell.set(`${c.dow}/${c.hour}`, (byCell.get(`${c.dow}/${c.hour}`) ?? 0) + c.n);
    const [peak] = [...byCell.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const [dow, hour] = peak.split('/').map(Number) as [number, number];
    assert.ok(dow <= 5 && hour >= 8 && hour < 17, `the busiest hour of the week is in weekday office hours (${peak})`);
    const office = cells.filter((c) => c.dow <= 5 && c.hour >= 8 && c.hour < 17).reduce((n, c) => n + c.n, 0);
    assert.ok(office / CASES > 0.8, `most arrive in weekday office hours (${office})`);
    const outside = cells.filter((c) => c.dow > 5 || c.hour < 8 || c.hour >= 17);
    assert.ok(outside.length > 0, 'some arrive in the evening or at the weekend');
    assert.deepEqual([...new Set(outside.map((c) => c.channel))].sort(), ['email', 'web'], 'and only by web and e-mail');
    const monday = cells.filter((c) => c.dow === 1).reduce((n, c) => n + c.n, 0);
    const friday = cells.filter((c) => c.dow === 5).reduce((n, c) => n + c.n, 0);
    assert.ok(monday > friday, `Mondays are busier than Fridays (${monday} > ${friday})`);

    const months = await rows<{ month: number; n: number }>(
      t.db,
      `SELECT extract(month FROM created_at AT TIME ZONE ?)::int AS month, count(*)::int AS n FROM cases WHERE created_at <= ? GROUP BY 1`,
      [ZONE, NOW],
    );
    const july = months.find((m) => m.month === 7)!.n;
    const others = months.filter((m) => m.month !== 7 && m.month !== 6).map((m) => m.n);
    assert.ok(july < 0.75 * Math.min(...others), `July is quiet (${july} against at least ${Math.min(...others)})`);

    const channels = await rows<{ channel: string; n: number }>(t.db, `SELECT channel, count(*)::int AS n FROM cases GROUP BY 1 ORDER BY 2 DESC`);
    assert.deepEqual(channels.slice(0, 3).map((c) => c.channel), ['phone', 'web', 'email']);

    const [phone] = await rows<{ fcr: number; abandoned: number }>(
      t.db,
      `SELECT (SELECT avg(resolved_at_first_contact::int)::float8 FROM cases WHERE channel = 'phone' AND resolved_at IS NOT NULL) AS fcr,
              (SELECT avg((outcome IN ('abandoned', 'busy', 'no_answer'))::int)::float8 FROM calls WHERE state = 'ended') AS abandoned`,
    );
    assert.ok(phone!.fcr > 0.55 && phone!.fcr < 0.75, `phone contacts are resolved at first contact 60-70 % of the time (${phone!.fcr})`);
    assert.ok(phone!.abandoned > 0.03 && phone!.abandoned < 0.15, `some calls are given up (${phone!.abandoned})`);
    const [reply] = await rows<{ within: number }>(
      t.db,
      `SELECT avg((first_response_at - created_at < interval '1 day')::int)::float8 AS within FROM cases WHERE channel IN ('web', 'email') AND first_response_at IS NOT NULL`,
    );
    assert.ok(reply!.within > 0.4 && reply!.within < 0.95, `written questions are mostly answered within a day, not all (${reply!.within})`);
  });

  it('writes the same history for the same seed, in bulk or through every row trigger, and another for another seed', async () => {
    const again = await startTestApp();
    const other = await startTestApp();
    try {
      assert.match(summary.triggers, /in bulk/, 'the test database lets batches skip row triggers');
      const kept = await seed(again, SEED, true);
      assert.match(kept.triggers, /kept/);
      await seed(other, SEED + 1);
      const [b, c] = await Promise.all([digest(again.db), digest(other.db)]);
      assert.deepEqual(b, written, 'every table, row by row (the foreign keys checked each row here)');
      assert.notEqual(c.cases, b.cases, 'another seed, another history');
      assert.notEqual(c.case_events, b.case_events);
      const tokens = await rows<{ resident_token: string }>(again.db, `SELECT resident_token FROM cases ORDER BY id LIMIT 3`);
      const firstTokens = await rows<{ resident_token: string }>(t.db, `SELECT resident_token FROM cases ORDER BY id LIMIT 3`);
      assert.equal(tokens.length, 3);
      assert.notDeepEqual(tokens, firstTokens, 'residents’ private links are never derived from the seed');
      for (const r of tokens) assert.match(r.resident_token, /^[A-Za-z0-9_-]{43}$/);
    } finally {
      await again.close();
      await other.close();
    }
  });

  describe('the command', () => {
    let dataDir: string;
    let url: string | undefined;

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'sc-history-'));
      url = await emptyPostgresDatabase();
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    const cli = (...args: string[]) => runCli(cliEnv({ dataDir, databaseUrl: url }), 'seed:history', ...args);

    it('refuses bad options with exit 2, naming each', async () => {
      const missing = await cli();
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /--cases: required/);
      const bad = await cli('--cases', '0', '--days', 'x', '--seed', '1e3');
      assert.equal(bad.code, 2, bad.stderr);
      for (const option of ['--cases', '--days', '--seed']) assert.match(bad.stderr, new RegExp(`${option}: `));

      const refused = (values: Record<string, string>) => {
        try {
          parseHistoryOptions(values);
        } catch (err) {
          assert.ok(err instanceof ValidationError);
          return err.fields.map((f) => f.field);
        }
        return [];
      };
      assert.deepEqual(refused({ cases: String(MAX_CASES + 1) }), ['cases']);
      assert.deepEqual(refused({ cases: '1.5' }), ['cases']);
      assert.deepEqual(refused({ cases: '10', days: '3651' }), ['days']);
      assert.deepEqual(refused({ cases: '10', seed: '2147483648' }), ['seed']);
      assert.deepEqual(refused({ cases: '10', until: '2026-03-04' }), ['until']);
      assert.deepEqual(refused({ cases: '10', until: new Date(Date.now() + 3600_000).toISOString() }), ['until']);
      assert.equal(parseHistoryOptions({ cases: '10', until: '2026-03-04T15:00:00+01:00' }).now?.toISOString(), '2026-03-04T14:00:00.000Z');
      assert.deepEqual(refused({ cases: String(MAX_CASES), days: '1', seed: '0' }), []);
      assert.equal(parseHistoryOptions({ cases: '10' }).days, 365);
    });

    it('seeds a database from the command line, with progress on stderr and a summary on stdout', async () => {
      const r = await cli('--cases', '300', '--days', '30', '--seed', '5', '--until', '2025-03-04T15:00:00+01:00');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /300 of 300 cases \(100 %\)/);
      assert.match(r.stdout, /seed:history: 300 cases over 30 days \(2025-02-02T14:00:00.000Z to 2025-03-04T14:00:00.000Z\), seed 5/);
      assert.match(r.stdout, /--seed 5 --until 2025-03-04T14:00:00.000Z/);
      assert.match(r.stdout, /case_events +\d+ rows added/);
      // The working-time metrics the statistics read are computed too, unless asked not to.
      assert.match(r.stdout, /Working-time metrics computed: 300 cases read, [1-9]\d* updated/);
      assert.doesNotMatch(r.stdout, /left empty/);
      const more = await cli('--cases', '50', '--days', '5', '--seed', '6', '--until', '2025-03-04T15:00:00+01:00', '--skip-metrics');
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stdout, /left empty: fill them with `npm run cli -- stats:backfill`/);
      assert.doesNotMatch(more.stdout, /Working-time metrics computed/);
    });
  });
});
