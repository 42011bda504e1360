/**
 * Intake benchmark: `POST /api/v1/cases` on a real PostgreSQL, against a raw
 * baseline measured in the same run.
 *
 *   npm run bench
 *
 * - baseline: a bare Express app (express.json() and one route) that INSERTs
 *   one similar-size row into a scratch table through a pg.Pool;
 * - service:  the real app (loadConfig → openPostgres → createServices →
 *   createApp), rate limits off, the mail worker NOT started (acknowledgement
 *   mails just accumulate in mail_outbox), so intake is measured alone.
 *
 * Both servers get the same Node process conditions: by default each runs in
 * its own child process (this file, started with `--serve <kind>`) and
 * autocannon drives them from this process; BENCH_SERVERS=inprocess runs both
 * in this process instead. Both use a pool of the same size (BENCH_POOL).
 *
 * Runs are interleaved (baseline, service, baseline, service, …) after a short
 * warm-up of each, and the medians are compared: the machine is small and
 * shared, so a single run or an absolute time means little. The target is
 * service/baseline ≥ 0.5 on requests per second. The exit code is 0 whether
 * or not the target is met (it is printed); it is 1 only if the bench fails.
 *
 * A scratch database (sc_bench_<pid>) is created on the server named by
 * BENCH_DATABASE_URL or DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres),
 * migrated and seeded, and dropped at the end, also on failure or Ctrl-C.
 *
 * Settings (environment): BENCH_ROUNDS (5), BENCH_DURATION seconds per run (8),
 * BENCH_WARMUP seconds per server (3), BENCH_CONNECTIONS (50), BENCH_POOL (20),
 * BENCH_SERVERS (child | inprocess), BENCH_CPU_PROF (service | baseline | all:
 * write .cpuprofile files of the server children under .bench/profiles/<kind>/).
 *
 * The result is printed as a table and written to .bench/intake.json.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import pg from 'pg';
import { createApp } from '../server/app.js';
import { openPostgres } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { createServices } from '../server/services.js';
import {
  benchConfig,
  cleanUpOnSignals,
  closeServer,
  countsAsNumbers,
  cpuNow,
  environment,
  fixed,
  INTAKE_CATEGORIES,
  intakeBody,
  intSetting,
  KINDS,
  listenCounting,
  machineLine,
  median,
  nullableMedian,
  onlyOnce,
  perRound,
  postgresInfo,
  postgresLine,
  prepareScratchDatabase,
  profileDir,
  readCommonSettings,
  redact,
  resultFile,
  runBench,
  scratchSpace,
  spread,
  rateLimitsOff,
  startServer,
  stopAll,
  summariseByKind,
  table,
  writeResult,
  type IntakeBody,
  type Kind,
  type LocalServer,
  type ServeOptions,
  type ServerHandle,
  type ServerRecipe,
} from './support.js';

const RESULT_FILE = resultFile('intake.json');
const ENDPOINT = '/api/v1/cases';
const TARGET_RATIO = 0.5;
const BASELINE_TABLE = 'bench_raw_intake';

// ---------------------------------------------------------------------------
// Settings

function readSettings(env: NodeJS.ProcessEnv) {
  const common = readCommonSettings(env);
  // Spelled out key by key so that the settings keep their order in the JSON result.
  return {
    adminUrl: common.adminUrl,
    rounds: intSetting(env, 'BENCH_ROUNDS', 5, 1, 20),
    duration: intSetting(env, 'BENCH_DURATION', 8, 1, 600),
    warmup: intSetting(env, 'BENCH_WARMUP', 3, 0, 120),
    connections: intSetting(env, 'BENCH_CONNECTIONS', 50, 1, 1000),
    pool: intSetting(env, 'BENCH_POOL', 20, 1, 200),
    servers: common.servers,
    cpuProf: common.cpuProf,
  };
}

type Settings = ReturnType<typeof readSettings>;

// ---------------------------------------------------------------------------
// Request bodies: realistic and all different (intakeBody in support.ts)

let requestCounter = 0;
const runTag = randomBytes(3).toString('hex');

const nextBody = () => JSON.stringify(intakeBody(requestCounter++, runTag));

// ---------------------------------------------------------------------------
// The two servers
interface ServerStats {
  /** HTTP requests received by the server. */
  requests: number;
  /** SQL statements sent to PostgreSQL. */
  queries: number;
  /** CPU time of the process, microseconds (user + system). */
  cpuUs: number;
}

/** The service with rate limits off: the bench is one client sending far more than any resident would. */
const intakeConfig = (o: Pick<ServeOptions, 'databaseUrl' | 'pool' | 'dataDir'>) => benchConfig(o, {}, rateLimitsOff);

/** The real service, wired as main.ts does, minus the mail worker. */
async function startService(o: ServeOptions): Promise<LocalServer<ServerStats>> {
  const config = intakeConfig(o);
  const logger = createLogger(config);
  const database = openPostgres(o.databaseUrl, config.dbPoolMax);
  let queries = 0;
  database.knex.on('query', () => {
    queries++;
  });
  const services = createServices({ config, db: database.knex, logger });
  // Not started on purpose: services.mail.worker.start()
  const { server, port, requests } = await listenCounting(createApp(services));
  return {
    port,
    stats: () => ({ requests: requests(), queries, cpuUs: cpuNow() }),
    close: async () => {
      await closeServer(server);
      services.mail.transport.close();
      await database.close();
    },
  };
}

/** The raw baseline: express + express.json() + one INSERT through a pg.Pool of the same size. */
async function startBaseline(o: ServeOptions): Promise<LocalServer<ServerStats>> {
  // knex's pool (tarn) keeps idle connections 30 s; pg.Pool's default is 10 s. Same as the service.
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: o.pool, idleTimeoutMillis: 30_000 });
  let queries = 0;
  const app = express();
  app.use(express.json({ limit: '200kb' }));
  app.post(ENDPOINT, async (req, res) => {
    const b = (req.body ?? {}) as Partial<Record<keyof IntakeBody, string>>;
    queries++;
    const { rows } = await pool.query<{ id: string; created_at: Date }>(
      `INSERT INTO ${BASELINE_TABLE} (name, email, phone, category, subject, message) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
      [b.name ?? '', b.email ?? null, b.phone ?? null, b.category ?? '', b.subject ?? null, b.message ?? ''],
    );
    const row = rows[0]!;
    res.status(201).json({ id: Number(row.id), createdAt: row.created_at.toISOString() });
  });
  const { server, port, requests } = await listenCounting(app);
  return {
    port,
    stats: () => ({ requests: requests(), queries, cpuUs: cpuNow() }),
    close: async () => {
      await closeServer(server);
      await pool.end();
    },
  };
}

const startLocal = (o: ServeOptions) => (o.kind === 'service' ? startService(o) : startBaseline(o));

const SERVERS: ServerRecipe<ServerStats> = { benchFile: fileURLToPath(import.meta.url), startLocal, profileDir: (kind) => profileDir(kind) };

/** autocannon wants a URL, not a port. */
type Target = ServerHandle<ServerStats> & { url: string };

async function startTarget(o: ServeOptions, settings: Settings): Promise<Target> {
  const server = await startServer(o, settings, SERVERS);
  return { ...server, url: `http://127.0.0.1:${server.port}${ENDPOINT}` };
}

// ---------------------------------------------------------------------------
// Database: the scratch database (see support.ts), plus the baseline's table

async function prepareDatabase(url: string, dataDir: string): Promise<void> {
  const config = intakeConfig({ databaseUrl: url, pool: 2, dataDir });
  await prepareScratchDatabase(url, config, async (services, knex) => {
    const slugs = (await services.organisation.listCategories({ activeOnly: true })).map((c) => c.slug);
    const missing = INTAKE_CATEGORIES.filter((c) => !slugs.includes(c));
    if (missing.length) throw new Error(`The seed has no categor${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')}`);
    await knex.raw(`
      CREATE TABLE ${BASELINE_TABLE} (
        id         bigserial PRIMARY KEY,
        name       text NOT NULL,
        email      text,
        phone      text,
        category   text NOT NULL,
        subject    text,
        message    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  });
}

async function countRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await countsAsNumbers(
      client,
      `
      SELECT (SELECT count(*) FROM ${BASELINE_TABLE}) AS baseline_rows,
             (SELECT count(*) FROM cases) AS cases,
             (SELECT count(*) FROM residents) AS residents,
             (SELECT count(*) FROM case_events) AS case_events,
             (SELECT count(*) FROM messages) AS messages,
             (SELECT count(*) FROM mail_outbox WHERE status = 'pending') AS mail_outbox_pending`,
    );
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------
// Load

function load(url: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        requests: [
          {
            setupRequest: (request) => {
              request.body = nextBody();
              return request;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** One request before any load: fails fast, with the answer, if the endpoint does not take a case. */
async function smokeTest(t: Target): Promise<void> {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: nextBody() });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`${t.kind}: POST ${ENDPOINT} answered ${res.status}, not 201:\n${text.slice(0, 2000)}`);
}

interface RunResult {
  kind: Kind;
  round: number;
  rps: number;
  okRps: number;
  latencyP50: number;
  latencyP99: number;
  latencyAvg: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationS: number;
  server: { queriesPerRequest: number | null; cpuMsPerRequest: number | null };
}

async function measure(t: Target, round: number, settings: Settings): Promise<RunResult> {
  const before = await t.stats();
  const r = await load(t.url, settings.duration, settings.connections);
  const after = await t.stats();
  const handled = after.requests - before.requests;
  return {
    kind: t.kind,
    round,
    rps: r.requests.average,
    okRps: r['2xx'] / r.duration,
    latencyP50: r.latency.p50,
    latencyP99: r.latency.p99,
    latencyAvg: r.latency.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    durationS: r.duration,
    server: {
      queriesPerRequest: handled ? (after.queries - before.queries) / handled : null,
      // Only meaningful when the server has a process to itself.
      cpuMsPerRequest: handled && settings.servers === 'child' ? (after.cpuUs - before.cpuUs) / 1000 / handled : null,
    },
  };
}

// ---------------------------------------------------------------------------
// Report

interface Summary {
  rps: number;
  okRps: number;
  latencyP50: number;
  latencyP99: number;
  non2xx: number;
  errors: number;
  queriesPerRequest: number | null;
  cpuMsPerRequest: number | null;
}

function summarise(runs: RunResult[]): Summary {
  return {
    rps: median(runs.map((r) => r.rps)),
    okRps: median(runs.map((r) => r.okRps)),
    latencyP50: median(runs.map((r) => r.latencyP50)),
    latencyP99: median(runs.map((r) => r.latencyP99)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    queriesPerRequest: nullableMedian(runs.map((r) => r.server.queriesPerRequest)),
    cpuMsPerRequest: nullableMedian(runs.map((r) => r.server.cpuMsPerRequest)),
  };
}


interface Verdict {
  /** median service req/s ÷ median baseline req/s: the figure the target applies to. */
  ratio: number;
  /** service ÷ baseline within each round (runs next to each other in time). */
  pairRatios: number[];
  pairRatioMedian: number;
  /** (max − min) / median of each server's req/s over the rounds: how noisy the machine was. */
  spread: Record<Kind, number>;
  targetMet: boolean;
}

function verdict(runs: RunResult[], medians: Record<Kind, Summary>, rounds: number): Verdict {
  const ratio = medians.service.rps / medians.baseline.rps;
  const pairRatios = perRound(runs, rounds, (b, s) => s.rps / b.rps);
  const spreadOf = (k: Kind) => spread(runs.filter((r) => r.kind === k).map((r) => r.rps));
  return {
    ratio,
    pairRatios,
    pairRatioMedian: median(pairRatios),
    spread: { baseline: spreadOf('baseline'), service: spreadOf('service') },
    targetMet: ratio >= TARGET_RATIO,
  };
}

function printReport(runs: RunResult[], medians: Record<Kind, Summary>, v: Verdict): void {
  const header = ['round', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'SQL/req', 'CPU ms/req'];
  type Line = Pick<Summary, 'rps' | 'latencyP50' | 'latencyP99' | 'non2xx' | 'errors' | 'queriesPerRequest' | 'cpuMsPerRequest'>;
  const row = (label: string, kind: string, s: Line) => [
    label,
    kind,
    fixed(s.rps),
    fixed(s.latencyP50, 0),
    fixed(s.latencyP99, 0),
    String(s.non2xx),
    String(s.errors),
    fixed(s.queriesPerRequest, 2),
    fixed(s.cpuMsPerRequest, 3),
  ];
  const rows = [header];
  for (const r of runs) rows.push(row(String(r.round), r.kind, { ...r, ...r.server }));
  for (const k of KINDS) rows.push(row('median', k, medians[k]));
  console.log(`\n${table(rows, new Set([2, 3, 4, 5, 6, 7, 8]))}`);
  console.log('  medians per column; non-2xx and errors are totals; SQL/req and CPU ms/req are counted inside the server process');
  console.log(`\nratio service/baseline (median req/s): ${v.ratio.toFixed(3)}`);
  console.log(`  per round: ${v.pairRatios.map((x) => x.toFixed(3)).join(', ')} (median ${v.pairRatioMedian.toFixed(3)})`);
  console.log(`target ratio ≥ ${TARGET_RATIO}: ${v.targetMet ? 'MET' : 'NOT MET'}`);
  const noisy = KINDS.filter((k) => v.spread[k] > 0.3);
  if (noisy.length) {
    console.log(
      `note: the machine was noisy (req/s varied by ${KINDS.map((k) => `${Math.round(v.spread[k] * 100)}% for ${k}`).join(', ')} between rounds); ` +
        'trust the medians, and rerun if the ratio is close to the target',
    );
  }
  if (medians.service.non2xx || medians.baseline.non2xx || medians.service.errors || medians.baseline.errors) {
    console.log('warning: some requests failed (non-2xx or connection errors); see statusCodes in the JSON result');
  }
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const loadAtStart = os.loadavg();
  const scratch = scratchSpace(settings.adminUrl, `sc_bench_${process.pid}`, 'sc-bench-');
  const { dbName, dbUrl, dataDir } = scratch;
  const targets: Target[] = [];
  const cleanup = onlyOnce(async () => {
    await stopAll(targets);
    await scratch.remove();
  });
  cleanUpOnSignals(cleanup);

  try {
    const pgInfo = await postgresInfo(settings.adminUrl);
    await scratch.createDatabase();
    await prepareDatabase(dbUrl, dataDir);

    const perRun = settings.duration * settings.rounds * 2 + settings.warmup * 2;
    console.log(
      [
        `Intake benchmark: POST ${ENDPOINT}`,
        postgresLine(pgInfo, dbName),
        `  ${settings.connections} connections, pool ${settings.pool} for each server, ${settings.rounds} interleaved rounds × ${settings.duration} s per server, ${settings.warmup} s warm-up each (~${perRun} s of load)`,
        `  servers: ${settings.servers === 'child' ? 'each in its own child process, autocannon in this one' : 'both in this process, with autocannon'}; ${machineLine(loadAtStart)}`,
        '  service: real app (NODE_ENV=production config, log level warn), rate limits off, mail worker NOT started (acknowledgements accumulate in mail_outbox)',
        `  baseline: express + express.json() + one INSERT into ${BASELINE_TABLE} through a pg.Pool`,
      ].join('\n'),
    );
    if (settings.pool * 2 + 5 > Number(pgInfo?.max_connections ?? 100)) {
      console.log(`  warning: 2 × pool ${settings.pool} comes close to max_connections=${pgInfo?.max_connections}`);
    }

    for (const kind of KINDS) targets.push(await startTarget({ kind, databaseUrl: dbUrl, pool: settings.pool, dataDir }, settings));
    const byKind = (k: Kind) => targets.find((t) => t.kind === k)!;
    for (const t of targets) await smokeTest(t);

    if (settings.warmup > 0) {
      for (const t of targets) {
        process.stdout.write(`warm-up ${t.kind} (${settings.warmup} s)… `);
        const w = await load(t.url, settings.warmup, settings.connections);
        console.log(`${w.requests.average.toFixed(0)} req/s${w.non2xx ? `, ${w.non2xx} non-2xx` : ''}`);
      }
    }

    const runs: RunResult[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const kind of KINDS) {
        process.stdout.write(`round ${round}/${settings.rounds} ${kind.padEnd(8)} (${settings.duration} s)… `);
        const r = await measure(byKind(kind), round, settings);
        runs.push(r);
        console.log(`${r.rps.toFixed(1)} req/s, p50 ${r.latencyP50} ms, p99 ${r.latencyP99} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}${r.errors ? `, ${r.errors} errors` : ''}`);
      }
    }

    const medians = summariseByKind(runs, summarise);
    const v = verdict(runs, medians, settings.rounds);
    printReport(runs, medians, v);
    const rows = await countRows(dbUrl);

    const result = {
      benchmark: 'intake',
      endpoint: `POST ${ENDPOINT}`,
      finishedAt: new Date().toISOString(),
      settings: { ...settings, adminUrl: redact(settings.adminUrl), mailWorker: 'not started' },
      environment: environment(loadAtStart, pgInfo),
      target: { metric: 'median requests/s, service / baseline', ratio: TARGET_RATIO },
      ratio: v.ratio,
      targetMet: v.targetMet,
      pairRatios: v.pairRatios,
      pairRatioMedian: v.pairRatioMedian,
      spread: v.spread,
      medians,
      runs,
      rows,
    };
    writeResult(RESULT_FILE, result);
  } finally {
    await cleanup();
  }
}

runBench(main, startLocal);
