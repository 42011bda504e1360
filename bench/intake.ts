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
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import pg from 'pg';
import { createApp } from '../server/app.js';
import { loadConfig, type Config } from '../server/config.js';
import { seedReferenceData } from '../server/demo/seed.js';
import { openPostgres } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { migrateLatest } from '../server/platform/migrate.js';
import { createServices } from '../server/services.js';

const BENCH_FILE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(BENCH_FILE), '..');
const OUT_DIR = path.join(ROOT, '.bench');
const RESULT_FILE = path.join(OUT_DIR, 'intake.json');
const ENDPOINT = '/api/v1/cases';
const TARGET_RATIO = 0.5;
const CATEGORIES = ['bygglov', 'forsorjningsstod', 'forskoleplats', 'ovrigt'] as const;
const BASELINE_TABLE = 'bench_raw_intake';

type Kind = 'baseline' | 'service';
const KINDS: readonly Kind[] = ['baseline', 'service'];

// ---------------------------------------------------------------------------
// Settings

interface Settings {
  adminUrl: string;
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  pool: number;
  servers: 'child' | 'inprocess';
  cpuProf: Kind[];
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  const servers = env.BENCH_SERVERS ?? 'child';
  if (servers !== 'child' && servers !== 'inprocess') throw new Error('BENCH_SERVERS must be "child" or "inprocess"');
  const prof = env.BENCH_CPU_PROF ?? '';
  const cpuProf: Kind[] = prof === 'all' ? [...KINDS] : KINDS.filter((k) => prof.split(',').includes(k));
  if (cpuProf.length && servers !== 'child') throw new Error('BENCH_CPU_PROF needs BENCH_SERVERS=child');
  return {
    adminUrl: env.BENCH_DATABASE_URL || env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/postgres',
    rounds: int('BENCH_ROUNDS', 5, 1, 20),
    duration: int('BENCH_DURATION', 8, 1, 600),
    warmup: int('BENCH_WARMUP', 3, 0, 120),
    connections: int('BENCH_CONNECTIONS', 50, 1, 1000),
    pool: int('BENCH_POOL', 20, 1, 200),
    servers,
    cpuProf,
  };
}

// ---------------------------------------------------------------------------
// Request bodies: realistic and all different

const FIRST_NAMES = ['Åsa', 'Björn', 'Märta', 'Göran', 'Östen', 'Linnéa', 'Håkan', 'Sofia', 'Ahmed', 'Fatima', 'Karin', 'Jörgen', 'Ängla', 'Nils', 'Zeynep', 'Pär'];
const LAST_NAMES = ['Åberg', 'Söderström', 'Lindqvist', 'Håkansson', 'Öberg', 'Nyström', 'Hassan', 'Bäckström', 'Ekström', 'Mäkinen', 'Karlsson', 'Sjöberg', 'Al-Sayed', 'Wållberg'];
const STREETS = ['Stationsgatan', 'Borganäsvägen', 'Hagalundsgatan', 'Sveagatan', 'Jussi Björlings väg', 'Tjärnaväg', 'Mjälgatan', 'Kvarnsvedsvägen'];

/** Roughly 250–280 characters each; the address line brings a body to about 300. */
const MESSAGES: Record<(typeof CATEGORIES)[number], string[]> = {
  bygglov: [
    'Hej! Vi funderar på att bygga ett attefallshus på ungefär 25 kvadratmeter på vår tomt. Behöver vi söka bygglov eller räcker det med en anmälan? Huset ska stå cirka fyra meter från tomtgränsen mot grannen. Vilka ritningar behöver ni från oss och hur lång är handläggningstiden just nu?',
    'Jag vill glasa in vår altan och samtidigt byta ut taket mot ett med högre lutning. Grannarna är tillfrågade och positiva. Måste jag söka bygglov för båda delarna, och kan jag skicka in ansökan digitalt? Jag undrar också vad avgiften blir ungefär för en sådan ändring.',
  ],
  forsorjningsstod: [
    'Hej, jag har blivit arbetslös och min a-kassa räcker inte till hyran den här månaden. Jag har två barn som bor hos mig varannan vecka. Hur ansöker jag om försörjningsstöd och vilka papper behöver jag skicka in? Kan jag få ett besök hos en handläggare redan nästa vecka?',
    'Min ansökan om ekonomiskt bistånd skickades in för tre veckor sedan men jag har inte fått något beslut än. Jag har inte råd med elräkningen som förfaller på fredag. Kan någon titta på ärendet och höra av sig till mig? Jag är hemma på förmiddagarna och nås lättast via e-post.',
  ],
  forskoleplats: [
    'Vi flyttar till Borlänge i december och behöver förskoleplats för vår dotter som fyller tre år i januari. Hur ansöker vi, och hur lång är kön till förskolorna i centrum just nu? Vi önskar helst en förskola nära Hagalund där vi kommer att bo. Går det att söka innan flytten?',
    'Vår son har plats på förskolan Äventyret men vi vill byta till en förskola närmare mitt nya arbete i Kvarnsveden. Hur gör vi för att ställa oss i kö för ett byte, och behåller han sin nuvarande plats tills en ny plats är klar? Vi undrar också om avgiften ändras när inkomsten ändras.',
  ],
  ovrigt: [
    'Hej! Jag undrar vem på kommunen jag ska kontakta om en bänk i parken vid Gyllehemsvägen som har gått sönder. Det sticker ut spikar och barn leker ofta där. Jag har försökt ringa men kom inte fram. Kan ni vidarebefordra det här till rätt förvaltning, och meddela mig när det är åtgärdat?',
    'Jag skulle vilja veta hur jag lämnar synpunkter på förslaget till ny detaljplan för området kring Tjärna ängar. Finns det ett samrådsmöte dit man kan komma, och till vilket datum ska synpunkterna ha kommit in? Jag är särskilt orolig för trafiken på förskolevägen på morgnarna.',
  ],
};

const asciiLower = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');

let requestCounter = 0;
const runTag = randomBytes(3).toString('hex');

interface IntakeBody {
  name: string;
  email: string;
  phone?: string;
  category: string;
  subject?: string;
  message: string;
}

/** The n-th request body: a different resident each time; every tenth is a returning resident. */
function intakeBody(n: number): IntakeBody {
  const returning = n % 10 === 9 && n > 1000;
  const who = returning ? n - 997 : n;
  const first = FIRST_NAMES[who % FIRST_NAMES.length]!;
  const last = LAST_NAMES[Math.floor(who / FIRST_NAMES.length) % LAST_NAMES.length]!;
  const category = CATEGORIES[n % CATEGORIES.length]!;
  const variants = MESSAGES[category];
  const text = variants[Math.floor(n / CATEGORIES.length) % variants.length]!;
  const street = STREETS[n % STREETS.length]!;
  const body: IntakeBody = {
    name: `${first} ${last}`,
    email: `${asciiLower(first)}.${asciiLower(last)}.${runTag}${who}@example.se`,
    category,
    message: `${text}\n\nMvh ${first}, ${street} ${(n % 89) + 1}, Borlänge`,
  };
  if (n % 3 === 0) body.phone = `070-${String(100 + (n % 900)).padStart(3, '0')} ${String(n % 100).padStart(2, '0')} ${String((n * 7) % 100).padStart(2, '0')}`;
  if (n % 2 === 0) body.subject = `Fråga om ${category === 'ovrigt' ? 'övrigt' : category} – ${street}`;
  return body;
}

const nextBody = () => JSON.stringify(intakeBody(requestCounter++));

// ---------------------------------------------------------------------------
// The two servers

interface ServeOptions {
  kind: Kind;
  databaseUrl: string;
  pool: number;
  dataDir: string;
}

interface ServerStats {
  /** HTTP requests received by the server. */
  requests: number;
  /** SQL statements sent to PostgreSQL. */
  queries: number;
  /** CPU time of the process, microseconds (user + system). */
  cpuUs: number;
}

interface LocalServer {
  port: number;
  stats(): ServerStats;
  close(): Promise<void>;
}

function benchConfig(o: Pick<ServeOptions, 'databaseUrl' | 'pool' | 'dataDir'>): Config {
  const env = { NODE_ENV: 'production', DATA_DIR: o.dataDir };
  const sessionSecret = randomBytes(32).toString('hex');
  const base = loadConfig(env, { sessionSecret });
  return loadConfig(env, {
    databaseUrl: o.databaseUrl,
    sessionSecret,
    demo: false,
    logLevel: 'warn',
    rateLimits: { intakePerWindow: 0, loginPerWindow: 0, windowMs: 60_000 },
    dbPoolMax: o.pool,
    mail: { ...base.mail, outboxDir: path.join(o.dataDir, 'outbox') },
  });
}

async function listen(handler: express.Express): Promise<Server> {
  const server = handler.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** The real service, wired as main.ts does, minus the mail worker. */
async function startService(o: ServeOptions): Promise<LocalServer> {
  const config = benchConfig(o);
  const logger = createLogger(config);
  const database = openPostgres(o.databaseUrl, config.dbPoolMax);
  let queries = 0;
  database.knex.on('query', () => {
    queries++;
  });
  const services = createServices({ config, db: database.knex, logger });
  // Not started on purpose: services.mail.worker.start()
  const server = await listen(createApp(services));
  let requests = 0;
  server.on('request', () => {
    requests++;
  });
  return {
    port: (server.address() as AddressInfo).port,
    stats: () => ({ requests, queries, cpuUs: cpuNow() }),
    close: async () => {
      await closeServer(server);
      services.mail.transport.close();
      await database.close();
    },
  };
}

/** The raw baseline: express + express.json() + one INSERT through a pg.Pool of the same size. */
async function startBaseline(o: ServeOptions): Promise<LocalServer> {
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
  const server = await listen(app);
  let requests = 0;
  server.on('request', () => {
    requests++;
  });
  return {
    port: (server.address() as AddressInfo).port,
    stats: () => ({ requests, queries, cpuUs: cpuNow() }),
    close: async () => {
      await closeServer(server);
      await pool.end();
    },
  };
}

const startLocal = (o: ServeOptions) => (o.kind === 'service' ? startService(o) : startBaseline(o));

// ---------------------------------------------------------------------------
// Child-process mode: this same file, started with `--serve`, talks over IPC.

type ToChild = { type: 'stats'; id: number } | { type: 'stop' };
type FromChild = { type: 'ready'; port: number } | { type: 'stats'; id: number; stats: ServerStats } | { type: 'failed'; error: string };

async function serveChild(): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const opts = JSON.parse(process.env.BENCH_SERVE ?? '{}') as ServeOptions;
  let local: LocalServer;
  try {
    local = await startLocal(opts);
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
  // The bench went away (crash, kill): do not linger.
  process.on('disconnect', () => {
    void local.close().finally(() => process.exit(0));
  });
  process.on('message', (m: ToChild) => {
    if (m.type === 'stats') send({ type: 'stats', id: m.id, stats: local.stats() });
    if (m.type === 'stop') {
      void local.close().finally(() => {
        process.disconnect();
        process.exit(0);
      });
    }
  });
  send({ type: 'ready', port: local.port });
}

interface Target {
  kind: Kind;
  url: string;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

async function startTarget(o: ServeOptions, settings: Settings): Promise<Target> {
  if (settings.servers === 'inprocess') {
    const local = await startLocal(o);
    return { kind: o.kind, url: `http://127.0.0.1:${local.port}${ENDPOINT}`, stats: async () => local.stats(), stop: () => local.close() };
  }
  const execArgv = [...process.execArgv];
  if (settings.cpuProf.includes(o.kind)) {
    // One file per thread (tsx adds a loader thread); the main thread's is the big one.
    const dir = path.join(OUT_DIR, 'profiles', o.kind);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child: ChildProcess = fork(BENCH_FILE, ['--serve', o.kind], {
    execArgv,
    env: { ...process.env, BENCH_SERVE: JSON.stringify(o) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exitWaiters = new Set<(reason: Error) => void>();
  child.on('error', (err) => console.error(`${o.kind} server process:`, err.message));
  child.once('exit', (code, signal) => {
    exited = true;
    const reason = new Error(`${o.kind} server exited (${signal ?? `code ${code}`})`);
    for (const fail of exitWaiters) fail(reason);
  });
  /** Sends a message and waits for the child's answer; fails if the child is gone. */
  const ask = <T>(message: ToChild, answer: (m: FromChild) => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited || !child.connected) return reject(new Error(`${o.kind} server is gone`));
      const onMessage = (m: FromChild) => {
        const value = answer(m);
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const onExit = (reason: Error) => {
        done();
        reject(reason);
      };
      const done = () => {
        child.off('message', onMessage);
        exitWaiters.delete(onExit);
      };
      child.on('message', onMessage);
      exitWaiters.add(onExit);
      child.send(message, (err) => {
        if (err) onExit(err);
      });
    });
  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type === 'ready') resolve(m.port);
      if (m.type === 'failed') reject(new Error(`${o.kind} server failed to start:\n${m.error}`));
    };
    child.on('message', onMessage);
    exitWaiters.add(reject);
  });
  exitWaiters.clear();
  let nextId = 0;
  return {
    kind: o.kind,
    url: `http://127.0.0.1:${port}${ENDPOINT}`,
    stats: () => {
      const id = ++nextId;
      return ask({ type: 'stats', id }, (m) => (m.type === 'stats' && m.id === id ? m.stats : undefined));
    },
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild, () => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------
// Database: a scratch database, migrated and seeded, dropped at the end

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(adminUrl: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function prepareDatabase(url: string, dataDir: string): Promise<string[]> {
  const config = benchConfig({ databaseUrl: url, pool: 2, dataDir });
  const database = openPostgres(url, 2);
  try {
    await migrateLatest(database.knex);
    const services = createServices({ config, db: database.knex, logger: createLogger(config) });
    await seedReferenceData(services);
    const slugs = (await services.organisation.listCategories({ activeOnly: true })).map((c) => c.slug);
    const missing = CATEGORIES.filter((c) => !slugs.includes(c));
    if (missing.length) throw new Error(`The seed has no categor${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')}`);
    await database.knex.raw(`
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
    return slugs;
  } finally {
    await database.close();
  }
}

async function countRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(`
      SELECT (SELECT count(*) FROM ${BASELINE_TABLE}) AS baseline_rows,
             (SELECT count(*) FROM cases) AS cases,
             (SELECT count(*) FROM residents) AS residents,
             (SELECT count(*) FROM case_events) AS case_events,
             (SELECT count(*) FROM messages) AS messages,
             (SELECT count(*) FROM mail_outbox WHERE status = 'pending') AS mail_outbox_pending`);
    return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

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
  const nullableMedian = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? median(v) : null;
  };
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

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const f = (n: number | null, digits = 1) => (n === null ? '–' : n.toFixed(digits));

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
  const pairRatios = Array.from({ length: rounds }, (_, i) => {
    const b = runs.find((r) => r.kind === 'baseline' && r.round === i + 1)!;
    const s = runs.find((r) => r.kind === 'service' && r.round === i + 1)!;
    return s.rps / b.rps;
  });
  const spreadOf = (k: Kind) => {
    const xs = runs.filter((r) => r.kind === k).map((r) => r.rps);
    return (Math.max(...xs) - Math.min(...xs)) / median(xs);
  };
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
    f(s.rps),
    f(s.latencyP50, 0),
    f(s.latencyP99, 0),
    String(s.non2xx),
    String(s.errors),
    f(s.queriesPerRequest, 2),
    f(s.cpuMsPerRequest, 3),
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
  const dbName = `sc_bench_${process.pid}`;
  const dbUrl = withDatabase(settings.adminUrl, dbName);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sc-bench-'));
  const targets: Target[] = [];
  let dbCreated = false;
  let cleaned: Promise<void> | undefined;

  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const t of targets.splice(0)) await t.stop().catch((err: unknown) => console.error(`stopping ${t.kind}:`, err));
      if (dbCreated) {
        await adminQuery(settings.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`)
          .then(() => console.log(`dropped scratch database ${dbName}`))
          .catch((err: unknown) => console.error(`could not drop the scratch database ${dbName}:`, err));
      }
      rmSync(dataDir, { recursive: true, force: true });
    })());
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
  // and tsx exits at once on a signal nobody listens to, which would skip the cleanup.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: stopping and cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const [pgInfo] = await adminQuery<{ server_version: string; max_connections: string; synchronous_commit: string }>(
      settings.adminUrl,
      `SELECT current_setting('server_version') AS server_version, current_setting('max_connections') AS max_connections,
              current_setting('synchronous_commit') AS synchronous_commit`,
    );
    await adminQuery(settings.adminUrl, `CREATE DATABASE ${quoteIdent(dbName)}`);
    dbCreated = true;
    await prepareDatabase(dbUrl, dataDir);

    const perRun = settings.duration * settings.rounds * 2 + settings.warmup * 2;
    console.log(
      [
        `Intake benchmark: POST ${ENDPOINT}`,
        `  PostgreSQL ${pgInfo?.server_version} (synchronous_commit=${pgInfo?.synchronous_commit}), scratch database ${dbName}`,
        `  ${settings.connections} connections, pool ${settings.pool} for each server, ${settings.rounds} interleaved rounds × ${settings.duration} s per server, ${settings.warmup} s warm-up each (~${perRun} s of load)`,
        `  servers: ${settings.servers === 'child' ? 'each in its own child process, autocannon in this one' : 'both in this process, with autocannon'}; node ${process.version}, ${os.cpus().length} CPUs, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
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

    const medians = { baseline: summarise(runs.filter((r) => r.kind === 'baseline')), service: summarise(runs.filter((r) => r.kind === 'service')) };
    const v = verdict(runs, medians, settings.rounds);
    printReport(runs, medians, v);
    const rows = await countRows(dbUrl);

    mkdirSync(OUT_DIR, { recursive: true });
    const result = {
      benchmark: 'intake',
      endpoint: `POST ${ENDPOINT}`,
      finishedAt: new Date().toISOString(),
      settings: { ...settings, adminUrl: redact(settings.adminUrl), mailWorker: 'not started' },
      environment: {
        node: process.version,
        cpus: os.cpus().length,
        loadAverage: { start: loadAtStart, end: os.loadavg() },
        postgres: pgInfo?.server_version,
        synchronousCommit: pgInfo?.synchronous_commit,
      },
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
    writeFileSync(RESULT_FILE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`result written to ${path.relative(process.cwd(), RESULT_FILE) || RESULT_FILE}`);
  } finally {
    await cleanup();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

const entry = process.argv[2] === '--serve' ? serveChild() : main();
entry.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
