import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOpeningHours } from '../../server/calendar/opening-hours.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { backfillCaseMetrics } from '../../server/stats/metrics-backfill.js';
import { createCaseMetricsStore } from '../../server/stats/metrics-store.js';
import { createWorkingTime } from '../../server/stats/working-time.js';
import { databaseKind } from '../support/database.js';
import { cliEnv, runCli } from '../support/cli.js';
import { newCase, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

const TZ = 'Europe/Stockholm';
const HOUR = 3600;
/** The statistics count 08:00–17:00 (as Håbo did for KKiK); the phones are open to 16:30. */
const STATS_HOURS = 'mon-fri 08:00-17:00';
const expected = createWorkingTime(parseOpeningHours({ hours: STATS_HOURS, timeZone: TZ }), TZ);
const phoneHours = createWorkingTime(parseOpeningHours({ hours: 'mon-fri 08:00-16:30', timeZone: TZ }), TZ);

interface MetricRow {
  id: number;
  reference: string;
  created_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
  first_response_working_s: number | null;
  resolution_working_s: number | null;
  first_response_working_days: number | null;
}

describe('per-case metrics in working time', function () {
  this.timeout(120_000);
  let t: TestApp;
  let agent: SignedIn;

  before(async () => {
    t = await startTestApp({ config: { calendar: { openingHours: 'mon-fri 08:00-16:30', statsOfficeHours: STATS_HOURS, closedOn: ['public', 'bank'], timeZone: TZ } } });
    agent = await t.loginAs('agent', 'Mia Mätare');
  });
  after(() => t?.close());

  const row = async (reference: string): Promise<MetricRow> => {
    const r = (await t.db('cases').where({ reference }).first()) as MetricRow;
    assert.ok(r, reference);
    return r;
  };

  /** A web case that arrived `daysAgo` days ago (created_at moved back before anything happens to it). */
  async function webCaseFrom(daysAgo: number) {
    const c = await t.services.cases.createCase(newCase(), { channel: 'web' });
    const createdAt = new Date(Math.floor((Date.now() - daysAgo * 86_400_000) / 1000) * 1000);
    await t.db('cases').where({ id: c.id }).update({ created_at: createdAt });
    return { ...c, createdAt };
  }

  it('a web case answered and then resolved gets its times in the statistics office hours', async () => {
    const c = await webCaseFrom(9);
    let r = await row(c.reference);
    assert.deepEqual([r.first_response_working_s, r.resolution_working_s, r.first_response_working_days], [null, null, null]);

    await t.services.cases.reply(c.reference, agent.user, { body: 'Nej, det behövs inte för 25 kvm.' });
    r = await row(c.reference);
    assert.ok(r.first_response_at);
    assert.equal(r.first_response_working_s, expected.workingSeconds(c.createdAt, r.first_response_at));
    assert.equal(r.first_response_working_days, expected.workingDaysToAnswer(c.createdAt, r.first_response_at));
    assert.ok(r.first_response_working_days! >= 5, 'nine calendar days hold at least five working days');
    assert.notEqual(r.first_response_working_s, phoneHours.workingSeconds(c.createdAt, r.first_response_at), 'counted in STATS_OFFICE_HOURS, not OPENING_HOURS');
    assert.equal(r.resolution_working_s, null);

    await t.services.cases.update(c.reference, agent.user, { status: 'resolved' });
    r = await row(c.reference);
    assert.ok(r.resolved_at);
    assert.equal(r.resolution_working_s, expected.workingSeconds(c.createdAt, r.resolved_at));
    assert.equal(r.first_response_working_s, expected.workingSeconds(c.createdAt, r.first_response_at!), 'the first response stays');
  });

  it('a phone call answered directly: 0 and 0, within one working day', async () => {
    const res = await t.services.contacts.register(agent.user, { channel: 'phone', category: 'forskoleplats', summary: 'Frågade om kötid', outcome: 'answered' }, { lang: 'sv' });
    const r = await row(res.reference);
    assert.deepEqual([r.first_response_working_s, r.resolution_working_s, r.first_response_working_days], [0, 0, 1]);
  });

  it('a reopened case loses its resolution time and gets it again, to the last resolve', async () => {
    const c = await webCaseFrom(14);
    await t.services.cases.reply(c.reference, agent.user, { body: 'Så här gör du.', status: 'resolved' });
    let r = await row(c.reference);
    assert.equal(r.resolution_working_s, expected.workingSeconds(c.createdAt, r.resolved_at!));
    const firstResponse = [r.first_response_at, r.first_response_working_s, r.first_response_working_days];
    // Let the first resolve lie two days after the arrival, so the second is measurably later.
    const firstResolvedAt = new Date(c.createdAt.getTime() + 2 * 86_400_000);
    const firstResolve = expected.workingSeconds(c.createdAt, firstResolvedAt);
    await t.db('cases').where({ id: c.id }).update({ resolved_at: firstResolvedAt, resolution_working_s: firstResolve });

    await t.services.cases.addResidentMessage(c.token, { message: 'Det fungerade inte.' });
    r = await row(c.reference);
    assert.equal(r.resolved_at, null);
    assert.equal(r.resolution_working_s, null, 'reopening clears it');
    assert.deepEqual([r.first_response_at, r.first_response_working_s, r.first_response_working_days], firstResponse);

    await t.services.cases.update(c.reference, agent.user, { status: 'resolved' });
    r = await row(c.reference);
    assert.equal(r.resolution_working_s, expected.workingSeconds(c.createdAt, r.resolved_at!));
    assert.ok(r.resolution_working_s! > firstResolve, 'counted to the last resolve');
  });

  it('the database refuses negative times and metrics without their timestamp', async () => {
    const c = await webCaseFrom(1);
    await assert.rejects(t.db('cases').where({ id: c.id }).update({ first_response_at: new Date(), first_response_working_s: -1 }), /check/i);
    await assert.rejects(t.db('cases').where({ id: c.id }).update({ resolution_working_s: 10 }), /cases_resolution_metrics_check/);
    await assert.rejects(t.db('cases').where({ id: c.id }).update({ first_response_working_days: 0, first_response_at: new Date() }), /check/i);
  });

  it('a date-range report reads the covering indexes', async () => {
    const plans = await t.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      const arrival = await trx.raw(
        `EXPLAIN SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_working_s), count(*) FILTER (WHERE first_response_working_days <= 1)
           FROM cases WHERE created_at >= ? AND created_at < ? AND channel IN ('web', 'email') AND category_id = ?`,
        [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z'), 1],
      );
      const resolved = await trx.raw(
        `EXPLAIN SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_working_s) FROM cases WHERE resolved_at >= ? AND resolved_at < ? AND assignee_id = ?`,
        [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z'), 1],
      );
      return [arrival, resolved].map((p: { rows: { 'QUERY PLAN': string }[] }) => p.rows.map((x) => x['QUERY PLAN']).join('\n'));
    });
    assert.match(plans[0]!, /Index Only Scan using cases_arrival_metrics_idx/, plans[0]);
    assert.match(plans[1]!, /Index Only Scan using cases_resolved_metrics_idx/, plans[1]);
  });

  describe('the backfill', () => {
    /** Cases with hand-set timestamps and no metrics, as rows from before the migration. */
    async function legacy(times: { created: string; responded?: string; resolved?: string; stale?: number }) {
      const c = await t.services.cases.createCase(newCase(), { channel: 'email' });
      await t.db('cases').where({ id: c.id }).update({
        created_at: new Date(times.created),
        first_response_at: times.responded ? new Date(times.responded) : null,
        resolved_at: times.resolved ? new Date(times.resolved) : null,
        first_response_working_s: times.stale ?? null,
        first_response_working_days: times.stale === undefined ? null : 1,
        resolution_working_s: null,
      });
      return c.reference;
    }

    it('fills every case from its timestamps, in batches, and a second run changes nothing', async () => {
      // Easter 2026: Thu 2 April 15:00 → Tue 7 April 09:00 is 2 h + 1 h of 08:00–17:00; resolved Wed 8 April 10:00: 2 + 9 + 2 h.
      const easter = await legacy({ created: '2026-04-02T15:00:00+02:00', responded: '2026-04-07T09:00:00+02:00', resolved: '2026-04-08T10:00:00+02:00' });
      // Across the change to summer time: Fri 27 March 10:00 CET → Mon 30 March 10:00:01 CEST: 7 h + 2 h + 1 s, a second past the 1-day deadline.
      const dst = await legacy({ created: '2026-03-27T10:00:00+01:00', responded: '2026-03-30T10:00:01+02:00' });
      // Christmas: Wed 23 Dec 12:00 → Mon 28 Dec 09:00, with a wrong value stored: 5 h + 1 h, within one day.
      const christmas = await legacy({ created: '2026-12-23T12:00:00+01:00', responded: '2026-12-28T09:00:00+01:00', stale: 999 });
      const waiting = await legacy({ created: '2026-11-02T10:00:00+01:00' });

      const before = Number((await t.db('cases').count({ n: '*' }).first())!.n);
      const deps = { store: createCaseMetricsStore(t.db), workingTime: t.services.workingTime };
      const batches: number[] = [];
      const first = await backfillCaseMetrics(deps, { batchSize: 2, onBatch: (p) => batches.push(p.lastId) });
      assert.deepEqual(first, { read: before, updated: 3 }, 'the three legacy rows with timestamps; the others were kept current');
      assert.equal(batches.length, Math.ceil(before / 2));

      const pick = (r: MetricRow) => [r.first_response_working_s, r.first_response_working_days, r.resolution_working_s];
      assert.deepEqual(pick(await row(easter)), [3 * HOUR, 1, 13 * HOUR]);
      assert.deepEqual(pick(await row(dst)), [9 * HOUR + 1, 2, null]);
      assert.deepEqual(pick(await row(christmas)), [6 * HOUR, 1, null]);
      assert.deepEqual(pick(await row(waiting)), [null, null, null]);

      const again = await backfillCaseMetrics(deps, { batchSize: 1000 });
      assert.deepEqual(again, { read: before, updated: 0 });
    });

    it('leaves a case alone that was answered after the backfill read it', async () => {
      const reference = await legacy({ created: '2026-04-02T15:00:00+02:00' });
      const store = createCaseMetricsStore(t.db);
      const r = await row(reference);
      const [read] = await store.batchAfter(r.id - 1, 1);
      // Meanwhile an agent answers: the change writes its own metrics.
      await t.services.cases.reply(reference, agent.user, { body: 'Svar.' });
      const live = await row(reference);
      const stale = { ...read!, first_response_at: new Date('2026-04-07T09:00:00+02:00'), first_response_working_s: 3 * HOUR, first_response_working_days: 1 };
      assert.equal(await store.write([stale]), 0);
      assert.deepEqual(await row(reference), live);
    });
  });

  describe('STATS_OFFICE_HOURS', () => {
    const env = { DATABASE_URL: 'postgres://app@db.example:5432/sc', SESSION_SECRET: randomBytes(32).toString('hex') };

    it('defaults to OPENING_HOURS and is read like it', () => {
      assert.equal(loadConfig({ ...env, OPENING_HOURS: 'mon-thu 08:00-16:30, fri 08:00-15:00' }).calendar.statsOfficeHours, 'mon-thu 08:00-16:30, fri 08:00-15:00');
      assert.equal(loadConfig({ ...env, STATS_OFFICE_HOURS: 'mon-fri 08:00-17:00' }).calendar.statsOfficeHours, 'mon-fri 08:00-17:00');
    });

    it('refuses a wrong value, naming it', () => {
      for (const bad of ['mon-fri 8-17', 'someday 08:00-17:00', ' ']) {
        assert.throws(
          () => loadConfig({ ...env, STATS_OFFICE_HOURS: bad }),
          (err: unknown) => err instanceof ConfigError && /STATS_OFFICE_HOURS/.test(err.message),
          bad,
        );
      }
    });
  });

  describe('npm run cli -- stats:backfill', () => {
    let dataDir: string;
    before(() => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'sc-cli-metrics-'));
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    const cli = (...args: string[]) => runCli(cliEnv({ dataDir, databaseUrl: t.databaseUrl, extra: { STATS_OFFICE_HOURS: STATS_HOURS } }), ...args);

    it('refuses a bad batch size or an unknown option with exit 2 and says why', async () => {
      for (const args of [['--batch', '0'], ['--batch', '1.5']]) {
        const r = await cli('stats:backfill', ...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /--batch: a whole number of cases per batch, 1 to 10000/);
      }
      const unknown = await cli('stats:backfill', '--bach', '10');
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /--bach/);
      assert.match(unknown.stderr, /Usage: stats:backfill/);
    });

    it('runs and reports what it did', async () => {
      const r = await cli('stats:backfill', '--batch', '50');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /case metrics: \d+ cases read, 0 updated/);
      if (databaseKind === 'postgres') {
        const n = Number((await t.db('cases').count({ n: '*' }).first())!.n);
        assert.match(r.stdout, new RegExp(`case metrics: ${n} cases read`));
      }
    });
  });
});
