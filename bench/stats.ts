/**
 * bench/stats: the managers' history report and the live board with 10 000
 * and with 1 000 000 cases of history, measured in the same run; the figure
 * that matters is the ratio 1 000 000 : 10 000 (target at most 2).
 *
 * The two histories grow as a service center's does: the same number of
 * contacts per day (about 280, Borlänge's scale), so 10 000 cases are the
 * last five weeks and 1 000 000 the last ten years. What a manager asks
 * about most (the last 30 days, and now) holds the same number of cases in
 * both; what must not happen is that the years behind it slow the answer
 * down, as peers' reports do when they scan every case. The histories are
 * made by `seed:history` (server/stats/history-seed.ts: cases with events,
 * messages, calls and callbacks in office-hour patterns) and their per-case
 * working-time metrics by `stats:backfill`, each with the same seed.
 *
 * Measured in-process, one call at a time, interleaved rounds:
 *   - report:  services.reports.report({}, { withTables: true }): the default
 *              page a manager opens, every table including per agent and per
 *              department (13 queries);
 *   - board:   services.liveBoard.snapshot(): the live board;
 *   - quarter: the report for the last 90 days, for scale (not part of the
 *              target: the small history holds only its last 36 days, so
 *              this period holds 2.5 times as many cases in the large one).
 * Then EXPLAIN (ANALYZE off) of every live-board query on the 1 000 000 case
 * database: none may read `cases` with a sequential scan.
 *
 * PostgreSQL only by default (scratch databases; 1 000 000 cases take about
 * 2 minutes to generate and 3 to backfill here). BENCH_STATS_LARGE (1000000),
 * BENCH_STATS_SMALL (10000), BENCH_STATS_PER_DAY (280), BENCH_STATS_ROUNDS (5),
 * BENCH_STATS_REPEAT (10), BENCH_DATABASE_URL / DATABASE_URL (the admin URL).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { openPostgres, type Database } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { migrateLatest } from '../server/platform/migrate.js';
import { seedReferenceData } from '../server/demo/seed.js';
import { createServices, type Services } from '../server/services.js';
import { seedHistory } from '../server/stats/history-seed.js';
import { backfillCaseMetrics } from '../server/stats/metrics-backfill.js';
import { createCaseMetricsStore } from '../server/stats/metrics-store.js';
import { localDay } from '../server/stats/live-board.js';
import { createLiveBoardStore } from '../server/stats/live-board-store.js';
import {
  benchConfig,
  cleanUpOnSignals,
  environment,
  fixed,
  intSetting,
  machineLine,
  median,
  onlyOnce,
  percentile,
  postgresInfo,
  postgresLine,
  readCommonSettings,
  resultFile,
  scratchSpace,
  table,
  writeResult,
  type ScratchSpace,
} from './support.js';

interface Settings {
  adminUrl: string;
  small: number;
  large: number;
  perDay: number;
  rounds: number;
  repeat: number;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const { adminUrl } = readCommonSettings(env);
  return {
    adminUrl,
    small: intSetting(env, 'BENCH_STATS_SMALL', 10_000, 1_000, 1_000_000),
    large: intSetting(env, 'BENCH_STATS_LARGE', 1_000_000, 10_000, 5_000_000),
    perDay: intSetting(env, 'BENCH_STATS_PER_DAY', 280, 10, 10_000),
    rounds: intSetting(env, 'BENCH_STATS_ROUNDS', 5, 1, 100),
    repeat: intSetting(env, 'BENCH_STATS_REPEAT', 10, 1, 1000),
  };
}

interface History {
  size: number;
  services: Services;
  database: Database;
  close(): Promise<void>;
}

/** One history, ending at the same instant for both sizes and generated with the same seed. */
async function openHistory(size: number, s: Settings, scratch: ScratchSpace, until: Date): Promise<History> {
  const t0 = performance.now();
  await scratch.createDatabase();
  const database = openPostgres(scratch.dbUrl, 4);
  await migrateLatest(database.knex);
  const config = benchConfig({ databaseUrl: scratch.dbUrl, pool: 4, dataDir: scratch.dataDir });
  const services = createServices({ config, db: database.knex, logger: createLogger(config) });
  await seedReferenceData(services);
  const days = Math.max(1, Math.ceil(size / s.perDay));
  await seedHistory({ db: database.knex, hours: services.hours, timeZone: config.calendar.timeZone, callbacks: config.callbacks }, { cases: size, days, seed: 7, now: until });
  const seeded = performance.now();
  await backfillCaseMetrics({ store: createCaseMetricsStore(database.knex), workingTime: services.workingTime }, { batchSize: 5000 });
  await database.knex.raw('ANALYZE');
  console.log(`  ${size} cases over ${days} days: generated in ${((seeded - t0) / 1000).toFixed(1)} s, metrics in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  return {
    size,
    services,
    database,
    close: async () => {
      services.mail.transport.close();
      await database.close();
    },
  };
}

type Measure = 'report' | 'board' | 'quarter';
const MEASURES: Measure[] = ['report', 'board', 'quarter'];

function run(h: History, m: Measure): Promise<unknown> {
  if (m === 'board') return h.services.liveBoard.snapshot();
  return h.services.reports.report(m === 'quarter' ? { from: daysAgo(89) } : {}, { withTables: true });
}

function daysAgo(n: number): string {
  return new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
}

async function time(h: History, m: Measure, repeat: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run(h, m);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Every live-board query, explained on the large history: the plan's nodes over cases. */
async function explainBoard(h: History): Promise<{ query: string; nodes: string[]; seqScanOnCases: boolean }[]> {
  const out: { query: string; nodes: string[]; seqScanOnCases: boolean }[] = [];
  const q = createLiveBoardStore(h.database.knex).queries;
  const now = new Date();
  const today = localDay(now, h.services.config.calendar.timeZone);
  const built = {
    waiting: q.waiting(now),
    oldest: q.oldest(now),
    arrivals: q.arrivals(today.from, today.to),
    calls: q.calls(today.from, today.to, h.services.config.stats.serviceLevelSeconds),
    callbacks: q.callbacks(now, today.to),
  };
  for (const [name, builder] of Object.entries(built)) {
    const native = builder.toSQL().toNative();
    const { rows } = await h.database.knex.raw<{ rows: { 'QUERY PLAN': unknown }[] }>(`EXPLAIN (FORMAT JSON) ${native.sql.replace(/\$(\d+)/g, '?')}`, native.bindings as never);
    const plan = rows[0]!['QUERY PLAN'] as { Plan: PlanNode }[];
    const nodes: string[] = [];
    let seq = false;
    walk(plan[0]!.Plan, (n) => {
      if (n['Relation Name'] === 'cases' || n['Index Name']?.startsWith('cases')) nodes.push(`${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
      if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'cases') seq = true;
    });
    out.push({ query: name, nodes, seqScanOnCases: seq });
  }
  return out;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walk(n: PlanNode, visit: (n: PlanNode) => void): void {
  visit(n);
  for (const c of n.Plans ?? []) walk(c, visit);
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const loadAtStart = os.loadavg();
  const scratches: ScratchSpace[] = [];
  const histories: History[] = [];
  const cleanup = onlyOnce(async () => {
    for (const h of histories) await h.close().catch(() => undefined);
    for (const s of scratches) await s.remove();
  });
  cleanUpOnSignals(cleanup);
  try {
    const pgInfo = await postgresInfo(settings.adminUrl);
    console.log(
      [
        `Statistics benchmark: ${settings.small} vs ${settings.large} cases of history at ${settings.perDay} a day; report and live board, ${settings.repeat} calls per round × ${settings.rounds} interleaved rounds`,
        postgresLine(pgInfo, `sc_bench_stats_${process.pid}_*`),
        `  ${machineLine(loadAtStart)}; in-process, one call at a time`,
      ].join('\n'),
    );
    const until = new Date();
    for (const size of [settings.small, settings.large]) {
      const scratch = scratchSpace(settings.adminUrl, `sc_bench_stats_${process.pid}_${size}`, 'sc-bench-stats-');
      scratches.push(scratch);
      histories.push(await openHistory(size, settings, scratch, until));
    }
    const [small, large] = histories as [History, History];
    for (const h of histories) for (const m of MEASURES) await time(h, m, 3); // warm-up: plans, caches
    // What each measured period holds: the same for the 30-day report; the quarter reaches past the small history's start.
    const held: Record<string, number> = {};
    for (const h of histories) {
      for (const m of ['report', 'quarter'] as const) held[`${m}:${h.size}`] = ((await run(h, m)) as { volumes: { total: number } }).volumes.total;
    }
    console.log(`  cases in the period: last 30 days ${held[`report:${small.size}`]} and ${held[`report:${large.size}`]}; last 90 days ${held[`quarter:${small.size}`]} and ${held[`quarter:${large.size}`]}`);

    const lat: Record<string, number[]> = {};
    const ratios: Record<Measure, number[]> = { report: [], board: [], quarter: [] };
    for (let round = 0; round < settings.rounds; round++) {
      for (const m of MEASURES) {
        // Alternate which history goes first, so neither always runs on a warmer machine.
        const order = round % 2 ? [large, small] : [small, large];
        const got: Record<number, number[]> = {};
        for (const h of order) got[h.size] = await time(h, m, settings.repeat);
        for (const h of histories) (lat[`${m}:${h.size}`] ??= []).push(...got[h.size]!);
        ratios[m].push(percentile(got[large.size]!, 50) / percentile(got[small.size]!, 50));
      }
    }
    const rows: string[][] = [['measure', 'cases', 'p50 ms', 'p90 ms', 'mean ms']];
    for (const m of MEASURES) {
      for (const h of histories) {
        const xs = lat[`${m}:${h.size}`]!;
        rows.push([m, String(h.size), fixed(percentile(xs, 50), 2), fixed(percentile(xs, 90), 2), fixed(xs.reduce((a, b) => a + b, 0) / xs.length, 2)]);
      }
    }
    console.log(`\n${table(rows, new Set([1, 2, 3, 4]))}\n`);
    const summary = Object.fromEntries(MEASURES.map((m) => [m, { ratioP50PerRound: ratios[m], ratioP50: median(ratios[m]) }]));
    for (const m of MEASURES) {
      const r = median(ratios[m]);
      const verdict = m === 'quarter' ? '(for scale; no target)' : r <= 2 ? 'target ≤ 2: within' : 'target ≤ 2: OVER';
      console.log(`${m}: ratio ${settings.large}:${settings.small} p50 ${r.toFixed(2)} (median over rounds; per round ${ratios[m].map((x) => x.toFixed(2)).join(', ')}) ${verdict}`);
    }
    const plans = await explainBoard(large);
    console.log(`\nLive board queries on ${settings.large} cases (EXPLAIN):`);
    for (const p of plans) console.log(`  ${p.query}: ${p.nodes.join('; ') || 'does not read cases'}${p.seqScanOnCases ? '  <- SEQUENTIAL SCAN OF cases' : ''}`);
    const seq = plans.filter((p) => p.seqScanOnCases).length;
    console.log(seq ? `${seq} live board quer${seq === 1 ? 'y reads' : 'ies read'} cases with a sequential scan` : 'No live board query reads cases with a sequential scan.');
    writeResult(resultFile('stats.json'), { settings: { ...settings, adminUrl: undefined }, environment: environment(loadAtStart, pgInfo), casesInPeriod: held, results: summary, latencies: lat, plans });
    if (seq || median(ratios.report) > 2 || median(ratios.board) > 2) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
