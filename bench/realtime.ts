/**
 * Realtime benchmark (issue 4): the live workspace over Socket.IO, and take-next.
 *
 *   npm run bench:realtime
 *
 * Part 1, take-next. BENCH_QUEUE cases (5,000) are created through
 * `POST /api/v1/cases`, 50 at a time, so each is a real case with its
 * case.created event. Then BENCH_AGENTS agents (50, each with an API token of
 * their own) call `POST /api/v1/queue/take-next` in a loop until it answers
 * 204. Reported: claims per second, and the checks that matter more than the
 * speed, in the database and in the answers: no case claimed twice (one
 * take-next assignment.changed event per case, one answer per reference),
 * none left waiting, each case assigned to the agent its event names. The
 * baseline: the bare claim, one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP
 * LOCKED)` per claim, on BENCH_AGENTS connections of their own, on a copy of
 * the same queue (same rows, same indexes) in the same database, run just
 * before.
 *
 * Part 2, fan-out. BENCH_SOCKETS agent sockets (200, socket.io-client over
 * WebSocket, each authenticated with an agent's API token) subscribe to the
 * queue; cases are created through the API at a steady BENCH_RATE (20/s, an
 * open loop: requests go out on schedule whether or not earlier ones have
 * been answered). For each case the latency is from the moment its 201 reaches
 * the bench to the moment its `live` queue message has reached every socket
 * (the slowest of them); p50 and p99 over all cases of the measured rounds.
 * The baseline: a bare Socket.IO server (express.json(), one route, one
 * room) that answers a POST with 201 and then broadcasts one message to all
 * its sockets: the message is a real queue message of ours (taken from the
 * warm-up), so both send the same bytes. The service sends a `counts`
 * message after each batch too; the baseline does not.
 *
 * The service runs in a child process as `npm start` wires it
 * (createServices → createApp → services.live.attach), NODE_ENV=production
 * config, log level warn, rate limits off, mail worker not started
 * (acknowledgements accumulate in mail_outbox), against a scratch PostgreSQL
 * database (sc_bench_rt_<pid>, dropped at the end, also on failure or Ctrl-C;
 * server from BENCH_DATABASE_URL or DATABASE_URL, default
 * postgres://root@127.0.0.1:5432/postgres). With BENCH_PGLITE=1 (default) a
 * second child runs the service on the embedded database (PGlite) for the
 * fan-out too. The bare server is a third child. The sockets and the HTTP
 * clients run in this process, the same code for every server, so all times
 * come from one clock. Fan-out rounds are interleaved (order rotated every
 * round) after a warm-up of each server. The machine is small and shared:
 * read the ratios, not the times.
 *
 * Exit code 1 if any case was claimed twice or left unclaimed, if a socket
 * missed a case or dropped, or if a request failed.
 *
 * Settings (environment): BENCH_SOCKETS (200), BENCH_RATE cases/s (20),
 * BENCH_DURATION seconds per fan-out run (8), BENCH_ROUNDS (2), BENCH_WARMUP
 * seconds per server (2), BENCH_QUEUE (5000), BENCH_AGENTS (50), BENCH_POOL
 * database pool of the service (20), BENCH_PGLITE (1 | 0), BENCH_SERVERS
 * (child | inprocess), BENCH_CPU_PROF (service | baseline | all: .cpuprofile
 * files of the server children under .bench/profiles/realtime-<kind>/).
 *
 * The result is printed and written to .bench/realtime.json.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Knex } from 'knex';
import pg from 'pg';
import { Server as IoServer } from 'socket.io';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { createApp } from '../server/app.js';
import { hashPassword } from '../server/auth/service.js';
import { createAuthStore } from '../server/auth/store.js';
import type { LiveMessage, LiveRow } from '../server/live/protocol.js';
import { openDatabase } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { createServices, type Services } from '../server/services.js';
import {
  benchConfig,
  cleanUpOnSignals,
  closeServer,
  countsAsNumbers,
  cpuNow,
  environment,
  FIRST_NAMES,
  fixed,
  intakeBody,
  intSetting,
  LAST_NAMES,
  listenCounting,
  machineLine,
  median,
  onlyOnce,
  percentile,
  postgresInfo,
  postgresLine,
  prepareEmbeddedDatabase,
  prepareScratchDatabase,
  profileDir,
  rateLimitsOff,
  readCommonSettings,
  redact,
  resultFile,
  runBench,
  scratchSpace,
  spread,
  startServer,
  stopAll,
  table,
  writeResult,
  type LocalServer,
  type ServeOptions,
  type ServerHandle,
  type ServerRecipe,
} from './support.js';

const RESULT_FILE = resultFile('realtime.json');
const INTAKE = '/api/v1/cases';
const TAKE_NEXT = '/api/v1/queue/take-next';
/** Cases created at once while queueing for take-next. */
const QUEUE_CONCURRENCY = 50;
/** How long a case may take to reach every socket before the missing ones count as missed. */
const DELIVERY_TIMEOUT_MS = 10_000;
const BARE_TABLE = 'bench_claim_queue';

// ---------------------------------------------------------------------------
// Settings

function readSettings(env: NodeJS.ProcessEnv) {
  const common = readCommonSettings(env);
  // Spelled out key by key so that the settings keep their order in the JSON result.
  return {
    adminUrl: common.adminUrl,
    sockets: intSetting(env, 'BENCH_SOCKETS', 200, 1, 5000),
    rate: intSetting(env, 'BENCH_RATE', 20, 1, 1000),
    duration: intSetting(env, 'BENCH_DURATION', 8, 1, 600),
    rounds: intSetting(env, 'BENCH_ROUNDS', 2, 1, 20),
    warmup: intSetting(env, 'BENCH_WARMUP', 2, 0, 60),
    queue: intSetting(env, 'BENCH_QUEUE', 5000, 1, 100_000),
    agents: intSetting(env, 'BENCH_AGENTS', 50, 1, 500),
    pool: intSetting(env, 'BENCH_POOL', 20, 1, 200),
    pglite: intSetting(env, 'BENCH_PGLITE', 1, 0, 1) === 1,
    servers: common.servers,
    cpuProf: common.cpuProf,
  };
}

type Settings = ReturnType<typeof readSettings>;

const runTag = randomBytes(3).toString('hex');
let bodyCounter = 0;
const nextBody = () => JSON.stringify(intakeBody(bodyCounter++, runTag));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// The servers, each in a child process (this file with `--serve`)

interface ServerStats {
  /** HTTP requests other than Socket.IO's. */
  requests: number;
  /** SQL statements sent to the database (the service only). */
  queries: number;
  /** CPU time of the process, microseconds (user + system). */
  cpuUs: number;
  loopIdleMs: number;
  loopActiveMs: number;
  /** Socket.IO connections open now. */
  sockets: number;
  /** The service's live feed: every event up to this id has been sent; a socket subscribing now resumes from here. */
  feedDelivered: number;
}

const loopNow = () => {
  const e = performance.eventLoopUtilization();
  return { loopIdleMs: e.idle, loopActiveMs: e.active };
};

/** The production configuration on the scratch database, or on PGlite in `dataDir` when `databaseUrl` is empty. */
const serviceConfig = (o: Pick<ServeOptions, 'databaseUrl' | 'pool' | 'dataDir'>) => benchConfig(o, {}, rateLimitsOff);

/** The real service as `npm start` wires it (HTTP and the live hub), minus the mail worker and mail intake. */
async function startService(o: ServeOptions): Promise<LocalServer<ServerStats>> {
  const config = serviceConfig(o);
  const logger = createLogger(config);
  const database = await openDatabase(config);
  let queries = 0;
  database.knex.on('query', () => {
    queries++;
  });
  const services = createServices({ config, db: database.knex, logger });
  // Not started on purpose: services.mail.worker.start()
  const { server, port, requests } = await listenCounting(createApp(services));
  await services.live.attach(server);
  return {
    port,
    stats: () => ({
      requests: requests(),
      queries,
      cpuUs: cpuNow(),
      ...loopNow(),
      sockets: services.live.io?.engine.clientsCount ?? 0,
      feedDelivered: services.live.feed.delivered,
    }),
    close: async () => {
      await services.live.close();
      await closeServer(server);
      services.mail.transport.close();
      await database.close();
    },
  };
}

/**
 * The bare baseline: express.json(), one route and Socket.IO with one room.
 * A POST is answered 201, then one message goes to the room: the queue row
 * the bench gave it (PUT /row, a real one of ours) under a new reference.
 */
async function startBare(): Promise<LocalServer<ServerStats>> {
  const app = express();
  app.use(express.json({ limit: '200kb' }));
  let row: LiveRow | undefined;
  let n = 0;
  app.put('/row', (req, res) => {
    row = (req.body as { row: LiveRow }).row;
    res.status(204).end();
  });
  app.post(INTAKE, (_req, res) => {
    if (!row) return void res.status(409).json({ error: 'PUT /row first' });
    const id = ++n;
    const reference = `SC-2026-${String(id).padStart(6, '0')}`;
    res.status(201).json({ reference, status: 'new', statusUrl: `http://127.0.0.1/arenden/${reference}`, createdAt: new Date().toISOString() });
    const m: LiveMessage = { scope: 'queue', id, reference, type: 'case.created', row };
    io.to('queue').emit('live', m);
  });
  const { server, port, requests } = await listenCounting(app);
  const io = new IoServer(server, { serveClient: false });
  io.on('connection', (socket) => {
    socket.on('subscribe', (_input: unknown, ack: (a: unknown) => void) => {
      void socket.join('queue');
      ack({ ok: true, cursor: n });
    });
  });
  return {
    port,
    stats: () => ({ requests: requests(), queries: 0, cpuUs: cpuNow(), ...loopNow(), sockets: io.engine.clientsCount, feedDelivered: n }),
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
      await closeServer(server);
    },
  };
}

const startLocal = (o: ServeOptions) => (o.kind === 'service' ? startService(o) : startBare());

const SERVERS: ServerRecipe<ServerStats> = { benchFile: fileURLToPath(import.meta.url), startLocal, profileDir: (kind) => profileDir(`realtime-${kind}`) };

/** The three servers of the fan-out, as the report names them. */
type Label = 'bare' | 'postgres' | 'pglite';
const DESCRIPTION: Record<Label, string> = {
  bare: 'bare Socket.IO',
  postgres: 'ours, PostgreSQL',
  pglite: 'ours, PGlite',
};

interface Target {
  label: Label;
  server: ServerHandle<ServerStats>;
  base: string;
}

// ---------------------------------------------------------------------------
// The database: scratch PostgreSQL database and PGlite directory, each with its agents

/**
 * `count` agents with an API token each. Only the first user gets its password
 * hashed by argon2 through createUser; the others share that hash (inserted
 * through the auth store), which saves ~0.2 s of CPU per agent: nobody signs
 * in with a password here.
 */
async function createAgents(services: Services, knex: Knex, count: number): Promise<string[]> {
  const store = createAuthStore(knex);
  const email = (i: number) => `agent${i}.${runTag}@bench.borlange.example`;
  const name = (i: number) => `${FIRST_NAMES[i % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]} ${i}`;
  const password = randomBytes(18).toString('base64url');
  await services.auth.createUser({ email: email(0), name: name(0), role: 'agent', password });
  const passwordHash = await hashPassword(password, services.config.passwordHash);
  for (let i = 1; i < count; i++) await store.insertUser({ email: email(i), name: name(i), role: 'agent', passwordHash });
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push(await services.auth.createApiToken(email(i), 'bench:realtime'));
  return tokens;
}

// ---------------------------------------------------------------------------
// The agents' sockets, in this process

interface Arrival {
  count: number;
  first: number;
  last: number;
}

interface Fleet {
  size: number;
  sockets: Socket[];
  /** Per case reference: how many sockets got its queue message, first and last (performance.now()). */
  arrivals: Map<string, Arrival>;
  /** A socket got the same case twice. */
  duplicates: number;
  /** Sockets that dropped before the end. */
  disconnects: number;
  /** The first queue message received, as sent: its JSON size and row. */
  sample: LiveMessage | undefined;
  closing: boolean;
}

/** `size` sockets subscribed to the queue, connected 25 at a time as agents arriving at work would be. */
async function connectFleet(base: string, size: number, auth: (i: number) => Record<string, unknown>, since: number): Promise<Fleet> {
  const fleet: Fleet = { size, sockets: [], arrivals: new Map(), duplicates: 0, disconnects: 0, sample: undefined, closing: false };
  const connectOne = async (i: number) => {
    const socket = connectSocket(base, { transports: ['websocket'], auth: auth(i), reconnection: false, forceNew: true, timeout: 15_000 });
    fleet.sockets.push(socket);
    const seen = new Set<string>();
    socket.on('live', (m: LiveMessage) => {
      const now = performance.now();
      if (m.scope !== 'queue' || m.type !== 'case.created') return;
      fleet.sample ??= m;
      if (seen.has(m.reference)) {
        fleet.duplicates++;
        return;
      }
      seen.add(m.reference);
      const a = fleet.arrivals.get(m.reference);
      if (a) {
        a.count++;
        a.last = now;
      } else fleet.arrivals.set(m.reference, { count: 1, first: now, last: now });
    });
    socket.on('disconnect', (reason) => {
      if (fleet.closing) return;
      fleet.disconnects++;
      console.error(`socket ${i} to ${base} dropped: ${reason}`);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(new Error(`socket ${i} to ${base}: ${err.message}`)));
    });
    const ack = (await socket.timeout(15_000).emitWithAck('subscribe', { since, queue: true })) as { ok: boolean; message?: string };
    if (!ack.ok) throw new Error(`socket ${i} to ${base}: subscribe refused: ${JSON.stringify(ack)}`);
  };
  for (let i = 0; i < size; i += 25) await Promise.all(Array.from({ length: Math.min(25, size - i) }, (_, j) => connectOne(i + j)));
  return fleet;
}

function closeFleet(fleet: Fleet): void {
  fleet.closing = true;
  for (const s of fleet.sockets) s.disconnect();
}

// ---------------------------------------------------------------------------
// Part 2: fan-out runs

interface Created {
  reference: string;
  sentAt: number;
  answeredAt: number;
}

interface FanRun {
  label: Label;
  round: number;
  cases: number;
  /** Per case, ms from its 201 to its message on the last socket (cases that reached every socket). */
  allLatencies: number[];
  /** Per case, ms from its 201 to its message on the first socket. */
  firstLatencies: number[];
  /** Per case, ms from sending the POST to its 201. */
  requestLatencies: number[];
  p50: number;
  p99: number;
  firstP50: number;
  requestP50: number;
  /** Socket deliveries that never came: (sockets − sockets that got it), summed over the cases. */
  missed: number;
  failedRequests: number;
  /** Cases actually created per second (the schedule's rate, unless the client fell behind). */
  rate: number;
  server: ServerShare;
}

async function createCase(base: string): Promise<{ ok: true; created: Created } | { ok: false; status: number; text: string }> {
  const sentAt = performance.now();
  const res = await fetch(`${base}${INTAKE}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: nextBody() });
  const answeredAt = performance.now();
  if (res.status !== 201) return { ok: false, status: res.status, text: (await res.text()).slice(0, 500) };
  const { reference } = (await res.json()) as { reference: string };
  return { ok: true, created: { reference, sentAt, answeredAt } };
}

/** Cases created on schedule, `rate` per second for `seconds`; then waits until every socket has each (or the timeout). */
async function fanOut(t: Target, fleet: Fleet, seconds: number, rate: number, round: number, settings: Settings): Promise<FanRun> {
  const before = await t.server.stats();
  const total = Math.max(1, Math.round(seconds * rate));
  const created: Created[] = [];
  const failures: string[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      createCase(t.base).then(
        (r) => {
          if (r.ok) created.push(r.created);
          else failures.push(`${r.status} ${r.text}`);
        },
        (err: unknown) => {
          failures.push(String(err));
        },
      ),
    );
  }
  await Promise.all(pending);
  const sentFor = (performance.now() - start) / 1000;
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  const complete = () => created.every((c) => (fleet.arrivals.get(c.reference)?.count ?? 0) >= fleet.size);
  while (!complete() && performance.now() < deadline) await sleep(10);
  const after = await t.server.stats();
  if (failures.length) console.error(`${t.label}: ${failures.length} request(s) failed, e.g. ${failures[0]}`);

  const allLatencies: number[] = [];
  const firstLatencies: number[] = [];
  let missed = 0;
  for (const c of created) {
    const a = fleet.arrivals.get(c.reference);
    missed += fleet.size - (a?.count ?? 0);
    if (a) firstLatencies.push(a.first - c.answeredAt);
    if (a && a.count >= fleet.size) allLatencies.push(a.last - c.answeredAt);
  }
  const requestLatencies = created.map((c) => c.answeredAt - c.sentAt);
  const n = created.length;
  return {
    label: t.label,
    round,
    cases: n,
    allLatencies,
    firstLatencies,
    requestLatencies,
    p50: percentile(allLatencies, 50),
    p99: percentile(allLatencies, 99),
    firstP50: percentile(firstLatencies, 50),
    requestP50: percentile(requestLatencies, 50),
    missed,
    failedRequests: failures.length,
    rate: n / sentFor,
    server: serverShare(before, after, n, settings, t.label !== 'bare'),
  };
}

interface ServerShare {
  /** CPU of the server process per item (only meaningful when it has a process to itself). */
  cpuMsPerCase: number | null;
  queriesPerCase: number | null;
  /** Event-loop utilisation of the server process over the period. */
  eventLoopUtilisation: number | null;
}

/** What the server spent on `n` items between two readings of its counters. */
function serverShare(before: ServerStats, after: ServerStats, n: number, settings: Settings, countsQueries = true): ServerShare {
  const inChild = settings.servers === 'child';
  const active = after.loopActiveMs - before.loopActiveMs;
  const all = active + (after.loopIdleMs - before.loopIdleMs);
  return {
    cpuMsPerCase: n && inChild ? (after.cpuUs - before.cpuUs) / 1000 / n : null,
    queriesPerCase: n && countsQueries ? (after.queries - before.queries) / n : null,
    eventLoopUtilisation: inChild && all > 0 ? active / all : null,
  };
}

// ---------------------------------------------------------------------------
// Part 1: take-next

interface ClaimRun {
  who: 'bare SQL' | 'ours';
  claims: number;
  seconds: number;
  claimsPerS: number;
  /** Claims that returned a case another claim had already returned. */
  duplicateAnswers: number;
  failedRequests: number;
  /** Per claim, ms (the HTTP request, or the UPDATE). */
  latencyP50: number;
  latencyP99: number;
}

/** Queues `count` cases through the API, QUEUE_CONCURRENCY at a time. */
async function queueCases(base: string, count: number): Promise<{ created: number; failed: number; seconds: number }> {
  let next = 0;
  let created = 0;
  const failures: string[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: QUEUE_CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const r = await createCase(base).catch((err: unknown) => ({ ok: false as const, status: 0, text: String(err) }));
        if (r.ok) created++;
        else failures.push(`${r.status} ${r.text}`);
      }
    }),
  );
  if (failures.length) console.error(`queueing: ${failures.length} request(s) failed, e.g. ${failures[0]}`);
  return { created, failed: failures.length, seconds: (performance.now() - start) / 1000 };
}

/** The agents press take-next until the queue is empty (204). */
async function takeNextAll(base: string, tokens: string[]): Promise<ClaimRun & { references: string[] }> {
  const references: string[] = [];
  const latencies: number[] = [];
  const failures: string[] = [];
  const start = performance.now();
  await Promise.all(
    tokens.map(async (token) => {
      for (;;) {
        const t0 = performance.now();
        const res = await fetch(`${base}${TAKE_NEXT}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
        if (res.status === 204) return;
        if (res.status === 200) {
          references.push(((await res.json()) as { reference: string }).reference);
          latencies.push(performance.now() - t0);
          continue;
        }
        failures.push(`${res.status} ${(await res.text()).slice(0, 300)}`);
        // A failing server is reported, not hammered: this agent gives up after a few.
        if (failures.length > 20) return;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  if (failures.length) console.error(`take-next: ${failures.length} request(s) failed, e.g. ${failures[0]}`);
  return {
    who: 'ours',
    claims: references.length,
    seconds,
    claimsPerS: references.length / seconds,
    duplicateAnswers: references.length - new Set(references).size,
    failedRequests: failures.length,
    latencyP50: percentile(latencies, 50),
    latencyP99: percentile(latencies, 99),
    references,
  };
}

/** The bare claim on the copy of the queue: one statement per claim, `connections` connections, until none is left. */
async function bareClaims(url: string, connections: number, userIds: number[]): Promise<ClaimRun & { unclaimed: number }> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const ids: number[] = [];
  const latencies: number[] = [];
  try {
    const start = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        for (;;) {
          const t0 = performance.now();
          const { rows } = await c.query<{ id: number }>(
            `UPDATE ${BARE_TABLE} SET status = 'open', assignee_id = $1, updated_at = now()
              WHERE id = (SELECT id FROM ${BARE_TABLE} WHERE status = 'new' AND assignee_id IS NULL
                          ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
              RETURNING id`,
            [userIds[i % userIds.length]],
          );
          if (!rows.length) return;
          ids.push(Number(rows[0]!.id));
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const { rows } = await clients[0]!.query<{ n: string }>(`SELECT count(*) AS n FROM ${BARE_TABLE} WHERE status = 'new' OR assignee_id IS NULL`);
    return {
      who: 'bare SQL',
      claims: ids.length,
      seconds,
      claimsPerS: ids.length / seconds,
      duplicateAnswers: ids.length - new Set(ids).size,
      failedRequests: 0,
      latencyP50: percentile(latencies, 50),
      latencyP99: percentile(latencies, 99),
      unclaimed: Number(rows[0]!.n),
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** What the database says about the claims of the queued cases. */
async function checkClaims(db: pg.Client, queuedIds: number[]): Promise<Record<string, number>> {
  return countsAsNumbers(
    db,
    `
    WITH q AS (SELECT unnest('{${queuedIds.join(',')}}'::bigint[]) AS id),
         tn AS (SELECT e.case_id, count(*) AS n, min(e.actor_id) AS actor, max(e.actor_id) AS actor2
                  FROM case_events e JOIN q ON q.id = e.case_id
                 WHERE e.type = 'assignment.changed' AND e.payload->>'via' = 'take_next'
                 GROUP BY e.case_id)
    SELECT (SELECT count(*) FROM q) AS queued,
           (SELECT count(*) FROM cases c JOIN q USING (id) WHERE c.assignee_id IS NOT NULL AND c.status = 'open') AS assigned,
           (SELECT count(*) FROM cases c JOIN q USING (id) WHERE c.status = 'new' OR c.assignee_id IS NULL) AS unclaimed,
           (SELECT coalesce(sum(n), 0) FROM tn) AS take_next_events,
           (SELECT count(*) FROM tn WHERE n > 1) AS claimed_twice,
           (SELECT count(*) FROM tn JOIN cases c ON c.id = tn.case_id WHERE tn.actor <> tn.actor2 OR c.assignee_id IS DISTINCT FROM tn.actor) AS wrong_assignee,
           (SELECT count(*) FROM case_events e JOIN q ON q.id = e.case_id WHERE e.type = 'status.changed' AND e.payload->>'to' = 'open') AS opened_events,
           (SELECT count(*) FROM case_events e JOIN q ON q.id = e.case_id WHERE e.type = 'case.created') AS created_events`,
  );
}

// ---------------------------------------------------------------------------
// Report

interface FanSummary {
  cases: number;
  p50: number;
  p99: number;
  firstP50: number;
  requestP50: number;
  missed: number;
  failedRequests: number;
  cpuMsPerCase: number | null;
}

function summariseFan(runs: FanRun[]): FanSummary {
  const all = runs.flatMap((r) => r.allLatencies);
  const cpu = runs.map((r) => r.server.cpuMsPerCase).filter((x): x is number => x !== null);
  return {
    cases: runs.reduce((n, r) => n + r.cases, 0),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    firstP50: percentile(
      runs.flatMap((r) => r.firstLatencies),
      50,
    ),
    requestP50: percentile(
      runs.flatMap((r) => r.requestLatencies),
      50,
    ),
    missed: runs.reduce((n, r) => n + r.missed, 0),
    failedRequests: runs.reduce((n, r) => n + r.failedRequests, 0),
    cpuMsPerCase: cpu.length ? median(cpu) : null,
  };
}

function fanRow(round: string, label: Label, s: Omit<FanSummary, 'cpuMsPerCase'> & { cpuMsPerCase: number | null; queriesPerCase?: number | null; rate?: number }): string[] {
  return [
    round,
    DESCRIPTION[label],
    String(s.cases),
    s.rate === undefined ? '' : fixed(s.rate),
    fixed(s.p50, 1),
    fixed(s.p99, 1),
    fixed(s.firstP50, 1),
    fixed(s.requestP50, 1),
    String(s.missed),
    fixed(s.cpuMsPerCase, 2),
    s.queriesPerCase === undefined ? '' : fixed(s.queriesPerCase, 1),
  ];
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const loadAtStart = os.loadavg();
  const scratch = scratchSpace(settings.adminUrl, `sc_bench_rt_${process.pid}`, 'sc-bench-rt-');
  const { dbName, dbUrl, dataDir } = scratch;
  const embeddedDir = path.join(dataDir, 'embedded');
  const servers: ServerHandle<ServerStats>[] = [];
  const fleets: Fleet[] = [];
  let db: pg.Client | undefined;
  const cleanup = onlyOnce(async () => {
    for (const f of fleets) closeFleet(f);
    await stopAll(servers);
    await db?.end().catch(() => undefined);
    await scratch.remove();
  });
  cleanUpOnSignals(cleanup);
  const problems: string[] = [];

  try {
    const pgInfo = await postgresInfo(settings.adminUrl);
    const users = Math.max(settings.sockets, settings.agents);
    const setupStart = performance.now();
    await scratch.createDatabase();
    let pgTokens: string[] = [];
    await prepareScratchDatabase(dbUrl, serviceConfig({ databaseUrl: dbUrl, pool: 2, dataDir }), async (services, knex) => {
      pgTokens = await createAgents(services, knex, users);
    });
    let pgliteTokens: string[] = [];
    if (settings.pglite) {
      await prepareEmbeddedDatabase(serviceConfig({ databaseUrl: '', pool: 1, dataDir: embeddedDir }), async (services, knex) => {
        pgliteTokens = await createAgents(services, knex, settings.sockets);
      });
    }
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();

    console.log(
      [
        'Realtime benchmark: take-next and the live queue over Socket.IO',
        postgresLine(pgInfo, dbName),
        `  take-next: ${settings.queue} cases queued through POST ${INTAKE}, ${settings.agents} agents (API tokens) calling POST ${TAKE_NEXT} until 204; baseline: the bare UPDATE … FOR UPDATE SKIP LOCKED on ${settings.agents} connections, on a copy of the queue`,
        `  fan-out: ${settings.sockets} agent sockets (socket.io-client, WebSocket) per server; ${settings.rate} cases/s through the API for ${settings.duration} s × ${settings.rounds} interleaved rounds, ${settings.warmup} s warm-up each; latency from the 201 to the message on every socket`,
        `  servers: ${settings.servers === 'child' ? 'each in its own child process; sockets and HTTP clients in this one' : 'all in this process, with the clients'}; ${machineLine(loadAtStart)}`,
        `  service: createServices → createApp → services.live.attach (NODE_ENV=production config, log level warn, pool ${settings.pool}), rate limits off, mail worker NOT started`,
        `  baseline: express.json() + Socket.IO, 201 then one broadcast of a real queue message of ours to one room${settings.pglite ? '; ours on PGlite measured too' : ''}`,
        `  set-up (databases, ${users} agents and tokens): ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
      ].join('\n'),
    );
    if (settings.pool + settings.agents + 10 > Number(pgInfo?.max_connections ?? 100)) {
      console.log(`  warning: pool ${settings.pool} + ${settings.agents} bare connections come close to max_connections=${pgInfo?.max_connections}`);
    }

    const ours = await startServer({ kind: 'service', databaseUrl: dbUrl, pool: settings.pool, dataDir }, settings, SERVERS);
    servers.push(ours);
    const oursBase = `http://127.0.0.1:${ours.port}`;

    // -------------------------------------------------------------------
    // Part 1: take-next (first, so that the fan-out's cases do not join this queue)
    process.stdout.write(`\nqueueing ${settings.queue} cases through the API (${QUEUE_CONCURRENCY} at a time)… `);
    const queued = await queueCases(oursBase, settings.queue);
    console.log(`${queued.created} created in ${queued.seconds.toFixed(1)} s (${(queued.created / queued.seconds).toFixed(0)}/s)${queued.failed ? `, ${queued.failed} FAILED` : ''}`);
    if (queued.failed) problems.push(`${queued.failed} case(s) could not be queued`);
    const queuedIds = (await db.query<{ id: string }>("SELECT id FROM cases WHERE status = 'new' AND assignee_id IS NULL ORDER BY id")).rows.map((r) => Number(r.id));
    if (queuedIds.length !== queued.created) problems.push(`${queued.created} cases were created but ${queuedIds.length} wait in the queue`);
    const userIds = (await db.query<{ id: string }>("SELECT id FROM users WHERE role = 'agent' ORDER BY id LIMIT $1", [settings.agents])).rows.map((r) => Number(r.id));

    await db.query(`CREATE TABLE ${BARE_TABLE} (LIKE cases INCLUDING ALL)`);
    await db.query(`INSERT INTO ${BARE_TABLE} SELECT * FROM cases WHERE status = 'new' AND assignee_id IS NULL`);
    await db.query(`ANALYZE ${BARE_TABLE}`);
    await db.query('ANALYZE cases');

    process.stdout.write(`bare SQL claim, ${settings.agents} connections… `);
    const bare = await bareClaims(dbUrl, settings.agents, userIds);
    console.log(`${bare.claims} claims in ${bare.seconds.toFixed(2)} s: ${bare.claimsPerS.toFixed(0)}/s, ${bare.duplicateAnswers} duplicates, ${bare.unclaimed} unclaimed`);
    if (bare.duplicateAnswers || bare.unclaimed || bare.claims !== queuedIds.length) problems.push(`the bare claim baseline went wrong (${bare.claims} claims of ${queuedIds.length}, ${bare.duplicateAnswers} duplicates, ${bare.unclaimed} unclaimed)`);

    process.stdout.write(`take-next, ${settings.agents} agents… `);
    const claimStatsBefore = await ours.stats();
    const taken = await takeNextAll(oursBase, pgTokens.slice(0, settings.agents));
    const claimStatsAfter = await ours.stats();
    const claimServer = serverShare(claimStatsBefore, claimStatsAfter, taken.claims, settings);
    console.log(`${taken.claims} claims in ${taken.seconds.toFixed(2)} s: ${taken.claimsPerS.toFixed(0)}/s`);
    const check = await checkClaims(db, queuedIds);
    const claimedTwice = (check.claimed_twice ?? 0) + taken.duplicateAnswers;
    const unclaimed = check.unclaimed ?? 0;
    if (claimedTwice) problems.push(`take-next: ${check.claimed_twice} case(s) with more than one take-next event, ${taken.duplicateAnswers} reference(s) answered twice`);
    if (unclaimed) problems.push(`take-next: ${unclaimed} case(s) left unclaimed after every agent got 204`);
    if (check.take_next_events !== taken.claims) problems.push(`take-next: ${taken.claims} claims answered but ${check.take_next_events} take-next events written`);
    if (check.assigned !== queuedIds.length) problems.push(`take-next: ${check.assigned} of ${queuedIds.length} queued cases are open and assigned`);
    if (check.wrong_assignee) problems.push(`take-next: ${check.wrong_assignee} case(s) assigned to someone other than the agent its event names`);
    if (check.opened_events !== taken.claims) problems.push(`take-next: ${check.opened_events} status.changed → open events for ${taken.claims} claims`);
    if (check.created_events !== queuedIds.length) problems.push(`queue: ${check.created_events} case.created events for ${queuedIds.length} cases`);
    if (taken.failedRequests) problems.push(`take-next: ${taken.failedRequests} request(s) failed`);
    const claimRatio = taken.claimsPerS / bare.claimsPerS;
    // 5,000 claims leave dead rows behind: clean up now rather than have autovacuum start during the fan-out.
    await db.query('VACUUM (ANALYZE) cases, case_events, api_tokens');

    // -------------------------------------------------------------------
    // Part 2: fan-out
    const targets: Target[] = [{ label: 'postgres', server: ours, base: oursBase }];
    const bareServer = await startServer({ kind: 'baseline', databaseUrl: '', pool: 1, dataDir }, settings, SERVERS);
    servers.push(bareServer);
    targets.push({ label: 'bare', server: bareServer, base: `http://127.0.0.1:${bareServer.port}` });
    if (settings.pglite) {
      const lite = await startServer({ kind: 'service', databaseUrl: '', pool: 1, dataDir: embeddedDir }, settings, SERVERS);
      servers.push(lite);
      targets.push({ label: 'pglite', server: lite, base: `http://127.0.0.1:${lite.port}` });
    }
    const fleetOf = new Map<Label, Fleet>();
    for (const t of targets) {
      const connectStart = performance.now();
      const tokens = t.label === 'pglite' ? pgliteTokens : pgTokens;
      const since = (await t.server.stats()).feedDelivered;
      const fleet = await connectFleet(t.base, settings.sockets, (i) => (t.label === 'bare' ? {} : { token: tokens[i % tokens.length] }), since);
      fleets.push(fleet);
      fleetOf.set(t.label, fleet);
      const open = (await t.server.stats()).sockets;
      console.log(`${DESCRIPTION[t.label]}: ${settings.sockets} sockets connected and subscribed in ${((performance.now() - connectStart) / 1000).toFixed(1)} s (server counts ${open})`);
      if (open !== settings.sockets) problems.push(`${t.label}: the server counts ${open} sockets, not ${settings.sockets}`);
    }

    // The warm-up of ours gives the baseline its message: a real queue row of ours.
    const warmups: FanRun[] = [];
    for (const t of targets) {
      if (t.label === 'bare') {
        const sample = fleetOf.get('postgres')!.sample;
        if (!sample || sample.scope !== 'queue' || !sample.row) throw new Error('No queue message of ours was received to give the baseline');
        const res = await fetch(`${t.base}/row`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ row: sample.row }) });
        if (res.status !== 204) throw new Error(`bare: PUT /row answered ${res.status}`);
      }
      // At least one case, so that ours has sent a sample for the baseline even without a warm-up.
      const w = await fanOut(t, fleetOf.get(t.label)!, Math.max(settings.warmup, 1 / settings.rate), settings.rate, 0, settings);
      warmups.push(w);
      console.log(`warm-up ${DESCRIPTION[t.label]}: ${w.cases} cases, p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms${w.missed ? `, ${w.missed} MISSED` : ''}`);
    }
    const messageBytes = Object.fromEntries([...fleetOf].map(([label, f]) => [label, f.sample ? Buffer.byteLength(JSON.stringify(f.sample)) : null]));

    const runs: FanRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
      for (const t of order) {
        process.stdout.write(`round ${round}/${settings.rounds} ${DESCRIPTION[t.label].padEnd(16)} (${settings.duration} s)… `);
        const r = await fanOut(t, fleetOf.get(t.label)!, settings.duration, settings.rate, round, settings);
        runs.push(r);
        console.log(
          `${r.cases} cases at ${r.rate.toFixed(1)}/s: all ${settings.sockets} sockets p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; first socket p50 ${r.firstP50.toFixed(1)} ms` +
            `${r.missed ? `, ${r.missed} MISSED` : ''}${r.failedRequests ? `, ${r.failedRequests} failed requests` : ''}`,
        );
      }
    }

    const labels = targets.map((t) => t.label);
    const summaries = Object.fromEntries(labels.map((l) => [l, summariseFan(runs.filter((r) => r.label === l))])) as Partial<Record<Label, FanSummary>>;
    for (const l of labels) {
      const f = fleetOf.get(l)!;
      const s = summaries[l]!;
      const warmMissed = warmups.filter((w) => w.label === l).reduce((n, w) => n + w.missed, 0);
      if (s.missed || warmMissed) problems.push(`${l}: ${s.missed + warmMissed} socket deliveries missed`);
      if (f.duplicates) problems.push(`${l}: ${f.duplicates} queue messages came twice to the same socket`);
      if (f.disconnects) problems.push(`${l}: ${f.disconnects} socket(s) dropped`);
      const failed = s.failedRequests + warmups.filter((w) => w.label === l).reduce((n, w) => n + w.failedRequests, 0);
      if (failed) problems.push(`${l}: ${failed} case request(s) failed`);
    }
    const bareSummary = summaries.bare!;
    const ratios = Object.fromEntries(
      labels
        .filter((l) => l !== 'bare')
        .map((l) => {
          const s = summaries[l]!;
          const perRound = Array.from({ length: settings.rounds }, (_, i) => {
            const mine = runs.find((r) => r.label === l && r.round === i + 1)!;
            const b = runs.find((r) => r.label === 'bare' && r.round === i + 1)!;
            return { p50: mine.p50 / b.p50, p99: mine.p99 / b.p99 };
          });
          return [l, { p50: s.p50 / bareSummary.p50, p99: s.p99 / bareSummary.p99, perRound }];
        }),
    ) as Partial<Record<Label, { p50: number; p99: number; perRound: { p50: number; p99: number }[] }>>;

    // -------------------------------------------------------------------
    // Report
    console.log('\nTake-next');
    const claimRows = [['who', 'claims', 'seconds', 'claims/s', 'p50 ms', 'p99 ms', 'claimed twice', 'unclaimed', 'failed']];
    claimRows.push(['bare SQL', String(bare.claims), bare.seconds.toFixed(2), bare.claimsPerS.toFixed(0), bare.latencyP50.toFixed(1), bare.latencyP99.toFixed(1), String(bare.duplicateAnswers), String(bare.unclaimed), '0']);
    claimRows.push(['ours (API)', String(taken.claims), taken.seconds.toFixed(2), taken.claimsPerS.toFixed(0), taken.latencyP50.toFixed(1), taken.latencyP99.toFixed(1), String(claimedTwice), String(unclaimed), String(taken.failedRequests)]);
    console.log(table(claimRows, new Set([1, 2, 3, 4, 5, 6, 7, 8])));
    console.log(
      `  claimed twice: take-next events per case > 1 in the database, plus references answered twice; unclaimed: queued cases still new or unassigned\n` +
        `  database: ${check.queued} queued, ${check.assigned} open and assigned, ${check.take_next_events} take-next events, ${check.wrong_assignee} assigned to another agent than the event's`,
    );
    console.log(
      `  ours, in the server process: ${fixed(claimServer.cpuMsPerCase, 2)} CPU ms and ${fixed(claimServer.queriesPerCase, 1)} SQL statements per claim (HTTP, token check, claim, the case for the answer, live feed); ` +
        `event loop busy ${claimServer.eventLoopUtilisation === null ? '–' : `${Math.round(claimServer.eventLoopUtilisation * 100)}%`}`,
    );
    console.log(`ratio claims/s ours ÷ bare SQL: ${claimRatio.toFixed(3)}`);

    console.log(`\nFan-out to ${settings.sockets} sockets (latency from the 201 to the message on the last socket; ms)`);
    const header = ['round', 'server', 'cases', 'cases/s', 'p50 all', 'p99 all', 'p50 first', 'p50 201', 'missed', 'CPU ms/case', 'SQL/case'];
    const rows = [header];
    for (const r of runs) rows.push(fanRow(String(r.round), r.label, { ...r, cpuMsPerCase: r.server.cpuMsPerCase, queriesPerCase: r.server.queriesPerCase, rate: r.rate }));
    for (const l of labels) rows.push(fanRow('all', l, summaries[l]!));
    console.log(table(rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10])));
    console.log(
      '  p50/p99 all: until every socket had the case; p50 first: until the first socket had it; p50 201: the POST itself;\n' +
        '  "all" rows: percentiles over every case of the measured rounds, CPU the median per run (server process, sending included)',
    );
    console.log(`  message: ${Object.entries(messageBytes).map(([l, b]) => `${DESCRIPTION[l as Label]} ${b ?? '–'} bytes`).join(', ')}; ours also sends counts after each batch`);
    for (const l of labels) {
      const r = ratios[l];
      if (!r) continue;
      console.log(
        `ratio ${DESCRIPTION[l]} ÷ bare: p50 ${r.p50.toFixed(2)}, p99 ${r.p99.toFixed(2)}  (per round p50 ${r.perRound.map((x) => x.p50.toFixed(2)).join(', ')}; p99 ${r.perRound.map((x) => x.p99.toFixed(2)).join(', ')})`,
      );
    }
    const bareP50s = runs.filter((r) => r.label === 'bare').map((r) => r.p50);
    if (bareP50s.length > 1 && spread(bareP50s) > 0.5) console.log(`note: the machine was noisy (the bare p50 varied by ${Math.round(spread(bareP50s) * 100)}% between rounds); trust the pooled figures`);

    const rowsInDb = await countsAsNumbers(
      db,
      `SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS case_events,
              (SELECT count(*) FROM cases WHERE status = 'new' AND assignee_id IS NULL) AS waiting, (SELECT count(*) FROM api_tokens) AS api_tokens`,
    );
    const strip = (r: FanRun) => {
      const { allLatencies: _a, firstLatencies: _f, requestLatencies: _q, ...rest } = r;
      return rest;
    };
    writeResult(RESULT_FILE, {
      benchmark: 'realtime',
      finishedAt: new Date().toISOString(),
      settings: { ...settings, adminUrl: redact(settings.adminUrl), mailWorker: 'not started', queueConcurrency: QUEUE_CONCURRENCY, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS },
      environment: { ...environment(loadAtStart, pgInfo), processes: settings.servers === 'child' ? 'each server in its own child process; sockets and HTTP clients in the bench process' : 'servers and clients in one process' },
      ok: problems.length === 0,
      problems,
      takeNext: {
        queued: { ...queued, perS: queued.created / queued.seconds },
        bare,
        ours: { ...taken, references: undefined, claimedTwice, unclaimed, server: claimServer },
        database: check,
        ratio: claimRatio,
        ratioMetric: 'claims/s ours (HTTP take-next) ÷ claims/s bare SQL claim',
      },
      fanOut: {
        sockets: settings.sockets,
        messageBytes,
        summaries,
        ratios,
        ratioMetric: 'latency from 201 to the last socket, ours ÷ bare (pooled percentiles over the measured rounds)',
        warmups: warmups.map(strip),
        runs: runs.map(strip),
      },
      rows: rowsInDb,
    });

    if (problems.length) {
      console.log(`\nFAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    } else {
      console.log('\nchecks passed: no case claimed twice, none left unclaimed, every socket got every case once');
    }
  } finally {
    await cleanup();
  }
  if (problems.length) throw new Error(`realtime bench failed its checks (${problems.length} problem(s), listed above)`);
}

runBench(main, startLocal);
