/**
 * What the benchmarks (intake.ts, smtp-intake.ts, realtime.ts) share: their settings, the
 * scratch database, the two servers in child processes, the medians and the
 * report. Each benchmark keeps what it measures and how it loads its servers;
 * this file holds only what would otherwise be written twice and drift apart.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import type { Knex } from 'knex';
import pg from 'pg';
import { loadConfig, type Config } from '../server/config.js';
import { seedReferenceData } from '../server/demo/seed.js';
import { openDatabase, openPostgres, type Database } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { migrateLatest } from '../server/platform/migrate.js';
import { createServices, type Services } from '../server/services.js';

/** Results and CPU profiles go to .bench/ at the project root, next to this folder. */
const OUT_DIR = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), '.bench');

export const resultFile = (name: string) => path.join(OUT_DIR, name);
export const profileDir = (name: string) => path.join(OUT_DIR, 'profiles', name);

/** Every benchmark compares the real service with a bare baseline doing the least the same job needs. */
export type Kind = 'baseline' | 'service';
export const KINDS: readonly Kind[] = ['baseline', 'service'];

// ---------------------------------------------------------------------------
// Residents: both benchmarks make up Swedish senders, with the letters (å, ä, ö, é)
// that real input has and that encoding and search must survive.

export const FIRST_NAMES = ['Åsa', 'Björn', 'Märta', 'Göran', 'Östen', 'Linnéa', 'Håkan', 'Sofia', 'Ahmed', 'Fatima', 'Karin', 'Jörgen', 'Ängla', 'Nils', 'Zeynep', 'Pär'];
export const LAST_NAMES = ['Åberg', 'Söderström', 'Lindqvist', 'Håkansson', 'Öberg', 'Nyström', 'Hassan', 'Bäckström', 'Ekström', 'Mäkinen', 'Karlsson', 'Sjöberg', 'Al-Sayed', 'Wållberg'];
export const STREETS = ['Stationsgatan', 'Borganäsvägen', 'Hagalundsgatan', 'Sveagatan', 'Jussi Björlings väg', 'Tjärnaväg', 'Mjälgatan', 'Kvarnsvedsvägen'];

/** A name as it can stand in an e-mail address: no diacritics, lower case, letters and digits only. */
export const asciiLower = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');

// ---------------------------------------------------------------------------
// Case bodies for POST /api/v1/cases: realistic and all different (intake.ts, realtime.ts)

export const INTAKE_CATEGORIES = ['bygglov', 'forsorjningsstod', 'forskoleplats', 'ovrigt'] as const;

/** Roughly 250–280 characters each; the address line brings a body to about 300. */
const MESSAGES: Record<(typeof INTAKE_CATEGORIES)[number], string[]> = {
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

export interface IntakeBody {
  name: string;
  email: string;
  phone?: string;
  category: string;
  subject?: string;
  message: string;
}

/**
 * The n-th request body: a different resident each time; every tenth is a returning resident.
 * `tag` keeps the addresses of one run apart from those of another.
 */
export function intakeBody(n: number, tag: string): IntakeBody {
  const returning = n % 10 === 9 && n > 1000;
  const who = returning ? n - 997 : n;
  const first = FIRST_NAMES[who % FIRST_NAMES.length]!;
  const last = LAST_NAMES[Math.floor(who / FIRST_NAMES.length) % LAST_NAMES.length]!;
  const category = INTAKE_CATEGORIES[n % INTAKE_CATEGORIES.length]!;
  const variants = MESSAGES[category];
  const text = variants[Math.floor(n / INTAKE_CATEGORIES.length) % variants.length]!;
  const street = STREETS[n % STREETS.length]!;
  const body: IntakeBody = {
    name: `${first} ${last}`,
    email: `${asciiLower(first)}.${asciiLower(last)}.${tag}${who}@example.se`,
    category,
    message: `${text}\n\nMvh ${first}, ${street} ${(n % 89) + 1}, Borlänge`,
  };
  if (n % 3 === 0) body.phone = `070-${String(100 + (n % 900)).padStart(3, '0')} ${String(n % 100).padStart(2, '0')} ${String((n * 7) % 100).padStart(2, '0')}`;
  if (n % 2 === 0) body.subject = `Fråga om ${category === 'ovrigt' ? 'övrigt' : category} – ${street}`;
  return body;
}

// ---------------------------------------------------------------------------
// Settings from the environment

/** An integer setting; out of range is an error rather than a silent clamp, so a typo cannot skew a run. */
export function intSetting(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** Where the servers run; CPU profiles are written by child processes only, so they need `child`. */
export interface ServerPlacement {
  servers: 'child' | 'inprocess';
  cpuProf: Kind[];
}

/** The settings every benchmark reads the same way: the PostgreSQL server and where the servers run. */
export function readCommonSettings(env: NodeJS.ProcessEnv): ServerPlacement & { adminUrl: string } {
  const servers = env.BENCH_SERVERS ?? 'child';
  if (servers !== 'child' && servers !== 'inprocess') throw new Error('BENCH_SERVERS must be "child" or "inprocess"');
  const prof = env.BENCH_CPU_PROF ?? '';
  const cpuProf: Kind[] = prof === 'all' ? [...KINDS] : KINDS.filter((k) => prof.split(',').includes(k));
  if (cpuProf.length && servers !== 'child') throw new Error('BENCH_CPU_PROF needs BENCH_SERVERS=child');
  return { adminUrl: env.BENCH_DATABASE_URL || env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/postgres', servers, cpuProf };
}

// ---------------------------------------------------------------------------
// The service's configuration

export interface ServeOptions {
  kind: Kind;
  databaseUrl: string;
  pool: number;
  dataDir: string;
}

/**
 * The production configuration pointed at the scratch database and data
 * directory, quiet (log level warn) and without demo data. `extraEnv` and
 * `overrides` carry what one benchmark needs on top (e.g. rate limits off).
 */
export function benchConfig(
  o: Pick<ServeOptions, 'databaseUrl' | 'pool' | 'dataDir'>,
  extraEnv: Record<string, string> = {},
  overrides: (base: Config) => Partial<Config> = () => ({}),
): Config {
  const env = { NODE_ENV: 'production', DATA_DIR: o.dataDir, ...extraEnv };
  const sessionSecret = randomBytes(32).toString('hex');
  // Loaded once without overrides to get the defaults the overrides below extend.
  const base = loadConfig(env, { sessionSecret });
  return loadConfig(env, {
    databaseUrl: o.databaseUrl,
    sessionSecret,
    demo: false,
    logLevel: 'warn',
    dbPoolMax: o.pool,
    mail: { ...base.mail, outboxDir: path.join(o.dataDir, 'outbox') },
    ...overrides(base),
  });
}

/** For `benchConfig`'s overrides: the bench is one client sending far more than any resident would. */
export const rateLimitsOff = (): Partial<Config> => ({ rateLimits: { intakePerWindow: 0, loginPerWindow: 0, windowMs: 60_000 } });

/** CPU time of this process so far, microseconds (user + system). */
export const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

// ---------------------------------------------------------------------------
// HTTP servers

/** Listens on a free port and counts the requests, so both servers report "handled" the same way. */
export async function listenCounting(handler: express.Express): Promise<{ server: Server; port: number; requests: () => number }> {
  const server = handler.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  let requests = 0;
  server.on('request', () => {
    requests++;
  });
  return { server, port: (server.address() as AddressInfo).port, requests: () => requests };
}

export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------
// The servers: in this process, or each in a child process running the
// benchmark's own file with `--serve`, talking over IPC.

/** A server as it runs where it was started; `stats()` are its own counters. */
export interface LocalServer<S> {
  port: number;
  stats(): S;
  close(): Promise<void>;
}

/** A server as the benchmark sees it, wherever it runs. */
export interface ServerHandle<S> {
  kind: Kind;
  port: number;
  stats(): Promise<S>;
  stop(): Promise<void>;
}

export type StartLocal<S> = (o: ServeOptions) => Promise<LocalServer<S>>;

type ToChild = { type: 'stats'; id: number } | { type: 'stop' };
type FromChild<S> = { type: 'ready'; port: number } | { type: 'stats'; id: number; stats: S } | { type: 'failed'; error: string };

/** The child side: starts the server named in BENCH_SERVE and answers the parent until told to stop. */
async function serveChild<S>(startLocal: StartLocal<S>): Promise<void> {
  const send = (m: FromChild<S>) => process.send?.(m);
  const opts = JSON.parse(process.env.BENCH_SERVE ?? '{}') as ServeOptions;
  let local: LocalServer<S>;
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

/** How to start a benchmark's servers: its own file (forked with `--serve`) and where its profiles go. */
export interface ServerRecipe<S> {
  benchFile: string;
  startLocal: StartLocal<S>;
  /** The folder for the CPU profiles of one kind of server. */
  profileDir(kind: Kind): string;
}

/** Starts one server where the settings say: in this process, or in a child process of its own. */
export async function startServer<S>(o: ServeOptions, placement: ServerPlacement, recipe: ServerRecipe<S>): Promise<ServerHandle<S>> {
  if (placement.servers === 'inprocess') {
    const local = await recipe.startLocal(o);
    return { kind: o.kind, port: local.port, stats: async () => local.stats(), stop: () => local.close() };
  }
  const execArgv = [...process.execArgv];
  if (placement.cpuProf.includes(o.kind)) {
    // One file per thread (tsx adds a loader thread); the main thread's is the big one.
    const dir = recipe.profileDir(o.kind);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  return forkServer<S>(recipe.benchFile, o, execArgv);
}

/** The parent side of a child-process server: every wait on the child fails, rather than hangs, if it exits. */
async function forkServer<S>(benchFile: string, o: ServeOptions, execArgv: string[]): Promise<ServerHandle<S>> {
  const child: ChildProcess = fork(benchFile, ['--serve', o.kind], {
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
  const ask = <T>(message: ToChild, answer: (m: FromChild<S>) => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited || !child.connected) return reject(new Error(`${o.kind} server is gone`));
      const onMessage = (m: FromChild<S>) => {
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
    const onMessage = (m: FromChild<S>) => {
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
    port,
    stats: () => {
      const id = ++nextId;
      return ask({ type: 'stats', id }, (m) => (m.type === 'stats' && m.id === id ? m.stats : undefined));
    },
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild, () => undefined);
      // A child that does not stop in time would keep the scratch database busy; it is killed.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Stops the servers started so far, each on its own, so one failure does not leave the others running. */
export async function stopAll(servers: ServerHandle<unknown>[]): Promise<void> {
  for (const s of servers.splice(0)) await s.stop().catch((err: unknown) => console.error(`stopping ${s.kind}:`, err));
}

/** The entry point: the same file is the benchmark, and (with `--serve`) one of its servers. */
export function runBench<S>(main: () => Promise<void>, startLocal: StartLocal<S>): void {
  const entry = process.argv[2] === '--serve' ? serveChild(startLocal) : main();
  entry.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------
// Database: a scratch database, migrated and seeded, dropped at the end

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** One statement on its own connection: CREATE/DROP DATABASE cannot run inside a pool's transaction or in the database itself. */
async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(adminUrl: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

export interface PostgresInfo {
  server_version: string;
  max_connections: string;
  synchronous_commit: string;
}

/** The server settings that bear on the figures, for the header and the JSON result. */
export async function postgresInfo(adminUrl: string): Promise<PostgresInfo | undefined> {
  const [info] = await adminQuery<PostgresInfo>(
    adminUrl,
    `SELECT current_setting('server_version') AS server_version, current_setting('max_connections') AS max_connections,
              current_setting('synchronous_commit') AS synchronous_commit`,
  );
  return info;
}

export interface ScratchSpace {
  dbName: string;
  dbUrl: string;
  dataDir: string;
  /** Creates the database; from then on `remove()` drops it. */
  createDatabase(): Promise<void>;
  /** Drops the database if it was created, and deletes the data directory. Never throws: it runs in cleanup. */
  remove(): Promise<void>;
}

/** A database and a data directory of the bench's own, named after the process so that parallel runs do not collide. */
export function scratchSpace(adminUrl: string, dbName: string, tmpPrefix: string): ScratchSpace {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  let created = false;
  return {
    dbName,
    dbUrl: withDatabase(adminUrl, dbName),
    dataDir,
    createDatabase: async () => {
      await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(dbName)}`);
      created = true;
    },
    remove: async () => {
      if (created) {
        // FORCE: a server that did not stop cleanly may still hold connections.
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`)
          .then(() => console.log(`dropped scratch database ${dbName}`))
          .catch((err: unknown) => console.error(`could not drop the scratch database ${dbName}:`, err));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Migrates and seeds the scratch database as the service would, then lets the
 * benchmark check the seed and add what its baseline needs, on the same small pool.
 */
export async function prepareScratchDatabase(url: string, config: Config, finish: (services: Services, knex: Knex) => Promise<void>): Promise<void> {
  await prepare(openPostgres(url, 2), config, finish);
}

/**
 * The same for the embedded database (PGlite) in `config.dataDir`, as `npm start`
 * without DATABASE_URL keeps it; closed afterwards, so a server process can open it.
 */
export async function prepareEmbeddedDatabase(config: Config, finish: (services: Services, knex: Knex) => Promise<void>): Promise<void> {
  await prepare(await openDatabase({ ...config, databaseUrl: undefined }), config, finish);
}

async function prepare(database: Database, config: Config, finish: (services: Services, knex: Knex) => Promise<void>): Promise<void> {
  try {
    await migrateLatest(database.knex);
    const services = createServices({ config, db: database.knex, logger: createLogger(config) });
    await seedReferenceData(services);
    await finish(services, database.knex);
  } finally {
    await database.close();
  }
}

/** Counts per table, as numbers (PostgreSQL returns count(*) as a bigint string). */
export async function countsAsNumbers(client: pg.Client, sql: string): Promise<Record<string, number>> {
  const { rows } = await client.query<Record<string, string>>(sql);
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
}

// ---------------------------------------------------------------------------
// Cleanup: on success, failure and Ctrl-C alike

/** The first call runs `fn`; later calls get the same promise, so cleanup from `finally` and a signal does not run twice. */
export function onlyOnce(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** Runs the cleanup on SIGINT and SIGTERM, then exits 130. */
export function cleanUpOnSignals(cleanup: () => Promise<void>): void {
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
}

// ---------------------------------------------------------------------------
// Figures: medians, because the machine is small and shared and one run means little

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The median of the figures there are; null where no run had one (e.g. CPU in-process). */
export const nullableMedian = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? median(v) : null;
};

/** The p-th percentile (nearest rank) of the figures; 0 when there are none. */
export const percentile = (xs: number[], p: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** (max − min) / median: how much a figure varied between rounds, i.e. how noisy the machine was. */
export const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / median(xs);

interface Run {
  kind: Kind;
  round: number;
}

/** One summary per server, each over that server's runs. */
export function summariseByKind<R extends Run, S>(runs: R[], summarise: (runs: R[]) => S): Record<Kind, S> {
  return { baseline: summarise(runs.filter((r) => r.kind === 'baseline')), service: summarise(runs.filter((r) => r.kind === 'service')) };
}

/** A service-to-baseline figure within each round: runs next to each other in time share the machine's mood. */
export function perRound<R extends Run>(runs: R[], rounds: number, ratio: (baseline: R, service: R) => number): number[] {
  return Array.from({ length: rounds }, (_, i) => {
    const b = runs.find((r) => r.kind === 'baseline' && r.round === i + 1)!;
    const s = runs.find((r) => r.kind === 'service' && r.round === i + 1)!;
    return ratio(b, s);
  });
}

// ---------------------------------------------------------------------------
// Report

/** A plain-text table: the first row is the header, columns in `rightAligned` are numbers. */
export function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** A table cell: fixed digits, or a dash where there is no figure. */
export const fixed = (n: number | null, digits = 1) => (n === null ? '–' : n.toFixed(digits));

/** The header line on the database: the version and durability setting change the figures most. */
export const postgresLine = (pgInfo: PostgresInfo | undefined, dbName: string) =>
  `  PostgreSQL ${pgInfo?.server_version} (synchronous_commit=${pgInfo?.synchronous_commit}), scratch database ${dbName}`;

/** The header's note on the machine: node, CPUs and how busy it was when the bench started. */
export const machineLine = (loadAtStart: number[]) =>
  `node ${process.version}, ${os.cpus().length} CPUs, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`;

/** The machine and database a result came from, so that results of different days can be compared with care. */
export function environment(loadAtStart: number[], pgInfo: PostgresInfo | undefined) {
  return {
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    postgres: pgInfo?.server_version,
    synchronousCommit: pgInfo?.synchronous_commit,
  };
}

/** The URL without its password, for the result file. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export function writeResult(file: string, result: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`result written to ${path.relative(process.cwd(), file) || file}`);
}
