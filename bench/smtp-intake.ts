/**
 * SMTP intake benchmark: concurrent SMTP clients deliver mail to the real mail
 * intake on a real PostgreSQL, against smtp-server accepting and discarding the
 * same messages in the same run.
 *
 *   npm run bench:smtp
 *
 * - baseline: an smtp-server with the listener's options that reads each
 *   message to the end and answers 250 (nothing stored, nothing parsed);
 * - service:  the real intake as main.ts wires it (loadConfig → openPostgres →
 *   createServices → createSmtpListener, onStored kicking
 *   services.intake.processor), the processor started, the mail outbox worker
 *   NOT started (acknowledgements just accumulate in mail_outbox), so intake is
 *   measured alone.
 *
 * What is measured, per run of BENCH_MESSAGES messages, with the clock started
 * right before the first delivery:
 * - accepted/s: 250 answers per second, until the last message is answered;
 * - cases/s (service only): new cases per second, until the processor has
 *   turned every accepted message into a case (this process polls the scratch
 *   database every 20 ms; bounded by BENCH_PROCESS_TIMEOUT).
 * The headline ratio is median service cases/s ÷ median baseline accepted/s.
 *
 * The client load is the same for both: BENCH_CONNECTIONS clients, each one
 * nodemailer pooled transport with one connection (reused for every message),
 * taking the next message from a shared queue until the run's messages are
 * gone. The messages are composed before the clock starts (nodemailer's
 * MailComposer), and the same raw messages go to both servers in a round:
 * distinct senders with Swedish names (RFC 2047), Swedish subjects and text
 * bodies of ~1–2 kB (quoted-printable), every second one multipart/alternative
 * with an HTML part, every fifth one with a small PDF or JPEG attachment. Each
 * message is a new matter from a new sender, so each should become a case.
 *
 * Both servers get the same Node process conditions: by default each runs in
 * its own child process (this file, started with `--serve <kind>`) and the
 * SMTP clients run in this process; BENCH_SERVERS=inprocess runs both servers
 * in this process instead. Rounds are interleaved, with the order swapped every
 * round (baseline first in odd rounds, service first in even ones), after a
 * warm-up of each, and the medians are compared. No target is set; the exit
 * code is 0 unless the bench itself fails.
 *
 * A scratch database (sc_bench_smtp_<pid>) is created on the server named by
 * BENCH_DATABASE_URL or DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres),
 * migrated and seeded, and dropped at the end, also on failure or Ctrl-C.
 * All traffic stays on 127.0.0.1.
 *
 * Settings (environment): BENCH_ROUNDS (3), BENCH_MESSAGES per run (1500),
 * BENCH_WARMUP messages per server (200), BENCH_CONNECTIONS (20), BENCH_POOL
 * database pool of the service (20), BENCH_PROCESS_TIMEOUT seconds to wait for
 * the cases of one run (60), BENCH_SERVERS (child | inprocess), BENCH_CPU_PROF
 * (service | baseline | all: write .cpuprofile files of the server children
 * under .bench/profiles/smtp-<kind>/).
 *
 * The result is printed as a table and written to .bench/smtp-intake.json.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import pg from 'pg';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { createSmtpListener } from '../server/intake/smtp-listener.js';
import { openPostgres } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { createServices } from '../server/services.js';
import {
  asciiLower,
  benchConfig,
  cleanUpOnSignals,
  countsAsNumbers,
  cpuNow,
  environment,
  FIRST_NAMES,
  fixed,
  intSetting,
  KINDS,
  LAST_NAMES,
  machineLine,
  median,
  nullableMedian,
  onlyOnce,
  percentile,
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
  startServer,
  stopAll,
  STREETS,
  summariseByKind,
  table,
  writeResult,
  type Kind,
  type LocalServer,
  type ServeOptions,
  type ServerHandle,
  type ServerRecipe,
} from './support.js';

const RESULT_FILE = resultFile('smtp-intake.json');
const INTAKE = 'kontaktcenter@borlange.example';
const POLL_MS = 20;

// ---------------------------------------------------------------------------
// Settings

function readSettings(env: NodeJS.ProcessEnv) {
  const common = readCommonSettings(env);
  // Spelled out key by key so that the settings keep their order in the JSON result.
  return {
    adminUrl: common.adminUrl,
    rounds: intSetting(env, 'BENCH_ROUNDS', 3, 1, 20),
    messages: intSetting(env, 'BENCH_MESSAGES', 1500, 1, 100_000),
    warmup: intSetting(env, 'BENCH_WARMUP', 200, 0, 10_000),
    connections: intSetting(env, 'BENCH_CONNECTIONS', 20, 1, 500),
    pool: intSetting(env, 'BENCH_POOL', 20, 1, 200),
    processTimeout: intSetting(env, 'BENCH_PROCESS_TIMEOUT', 60, 1, 3600),
    servers: common.servers,
    cpuProf: common.cpuProf,
  };
}

type Settings = ReturnType<typeof readSettings>;

// ---------------------------------------------------------------------------
// Messages: realistic and all different

const MAILERS = ['Microsoft Outlook 16.0', 'Apple Mail (2.3774.500.171)', 'Mozilla Thunderbird', undefined];

const SUBJECTS = [
  'Fråga om bygglov för altan',
  'Ansökan om försörjningsstöd – hur gör jag?',
  'Förskoleplats till hösten',
  'Trasig gatlykta utanför vårt hus',
  'Snöröjningen på vår gata',
  'Synpunkter på detaljplanen för Tjärna ängar',
  'Byte av förskola för vår son',
  'Beslut om ekonomiskt bistånd dröjer',
  'Parkeringstillstånd för rörelsehindrad',
  'Buller från byggarbetsplatsen på nätterna',
];

/** Roughly 250–320 characters each; four to six of them make a body of ~1.2–1.9 kB. */
const PARAGRAPHS = [
  'Vi funderar på att bygga ett attefallshus på ungefär 25 kvadratmeter på vår tomt. Behöver vi söka bygglov eller räcker det med en anmälan? Huset ska stå cirka fyra meter från tomtgränsen mot grannen, och vi undrar vilka ritningar ni behöver från oss.',
  'Jag har blivit arbetslös och min a-kassa räcker inte till hyran den här månaden. Jag har två barn som bor hos mig varannan vecka. Hur ansöker jag om försörjningsstöd och vilka papper behöver jag skicka in? Kan jag få träffa en handläggare redan nästa vecka?',
  'Vi flyttar till Borlänge i december och behöver förskoleplats för vår dotter som fyller tre år i januari. Hur ansöker vi, och hur lång är kön till förskolorna i centrum just nu? Vi önskar helst en förskola nära Hagalund där vi kommer att bo.',
  'Gatlyktan utanför vårt hus har varit släckt i snart tre veckor. Det är väldigt mörkt på kvällarna och många barn går förbi på väg till och från skolan. Jag har försökt ringa men kom inte fram. Kan ni skicka någon som tittar på den?',
  'Plogbilen har inte varit på vår gata sedan förra helgen, och nu är det svårt att ta sig fram med barnvagn och rollator. Grannarna har också klagat. Vet ni när det blir plogat och sandat här, och finns det något vi själva kan göra under tiden?',
  'Jag skulle vilja veta hur jag lämnar synpunkter på förslaget till ny detaljplan. Finns det ett samrådsmöte dit man kan komma, och till vilket datum ska synpunkterna ha kommit in? Jag är särskilt orolig för trafiken på förskolevägen på morgnarna.',
  'Min ansökan skickades in för tre veckor sedan men jag har inte fått något beslut än. Jag har inte råd med elräkningen som förfaller på fredag. Kan någon titta på ärendet och höra av sig till mig? Jag är hemma på förmiddagarna och nås lättast via e-post.',
  'Byggarbetsplatsen bakom vårt hus har börjat arbeta långt efter klockan tio på kvällen, med borrning och lastbilar som backar. Vi har små barn som inte kan sova. Vilka tider gäller egentligen för bullrande arbeten, och vem ser till att de följs?',
  'Jag har fått ett rörelsehinder efter en operation och har svårt att gå längre sträckor. Kan jag ansöka om parkeringstillstånd, och behöver jag i så fall ett läkarintyg? Hur lång tid brukar det ta innan man får besked, och kostar det något?',
  'Tack för snabbt svar förra gången. Jag har nu samlat ihop de uppgifter ni bad om och bifogar dem om det behövs. Hör gärna av er om något saknas, så kompletterar jag så fort jag kan. Jag är tacksam för all hjälp jag kan få i den här frågan.',
];

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const runTag = randomBytes(3).toString('hex');

/** A ~3 kB document that passes the attachment check as a PDF (it starts with %PDF). */
function smallPdf(n: number): Buffer {
  const text = Array.from({ length: 40 }, (_, i) => `(Rad ${i + 1}: underlag till ärende ${n}) Tj T*`).join('\n');
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n4 0 obj << /Length ${text.length} >>\nstream\nBT /F1 10 Tf 50 750 Td\n${text}\nET\nendstream\nendobj\n%%EOF\n`, 'latin1');
}

/** A ~4 kB file that passes the attachment check as a JPEG (it starts with FF D8 FF). */
function smallJpeg(n: number): Buffer {
  const body = randomBytes(4000);
  body[0] = n & 0xff;
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), body, Buffer.from([0xff, 0xd9])]);
}

interface Outgoing {
  from: string;
  raw: Buffer;
}

interface MessageMix {
  count: number;
  avgBytes: number;
  withHtml: number;
  withAttachment: number;
}

let messageCounter = 0;

/** The n-th message: a different resident each time. */
async function composeMessage(label: string): Promise<Outgoing & { html: boolean; attachment: boolean }> {
  const n = messageCounter++;
  const first = FIRST_NAMES[n % FIRST_NAMES.length]!;
  const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length]!;
  const street = STREETS[n % STREETS.length]!;
  const address = `${asciiLower(first)}.${asciiLower(last)}.${runTag}.${label}.${n}@example.se`;
  const paragraphs = Array.from({ length: 4 + (n % 3) }, (_, i) => PARAGRAPHS[(n + i * 3) % PARAGRAPHS.length]!);
  const signature = `Med vänliga hälsningar\n${first} ${last}\n${street} ${(n % 89) + 1}, 784 ${String(30 + (n % 60)).padStart(2, '0')} Borlänge\n070-${String(100 + (n % 900)).padStart(3, '0')} ${String(n % 100).padStart(2, '0')} ${String((n * 7) % 100).padStart(2, '0')}`;
  const text = `Hej!\n\n${paragraphs.join('\n\n')}\n\n${signature}\n`;
  const html = n % 2 === 0;
  const attachment = n % 5 === 4;
  const mailer = MAILERS[n % MAILERS.length];
  const composer = new MailComposer({
    from: { name: `${first} ${last}`, address },
    to: INTAKE,
    subject: `${SUBJECTS[n % SUBJECTS.length]!} – ${street} ${(n % 89) + 1}`,
    messageId: `<${runTag}.${label}.${n}.${randomBytes(4).toString('hex')}@mail.example.se>`,
    date: new Date(Date.now() - (n % 3600) * 1000),
    text,
    ...(html
      ? {
          html: `<html><head><style>p{margin:0}</style></head><body><div style="font-family:Calibri,sans-serif;font-size:11pt"><p>Hej!</p>${paragraphs
            .map((p) => `<p class="MsoNormal">${escapeHtml(p)}</p>`)
            .join('<p>&nbsp;</p>')}<p>&nbsp;</p><p>${escapeHtml(signature).replace(/\n/g, '<br>')}</p></div></body></html>`,
        }
      : {}),
    ...(attachment
      ? {
          attachments: [
            n % 10 === 4
              ? { filename: `Ritning altan ${last}.pdf`, content: smallPdf(n), contentType: 'application/pdf' }
              : { filename: `foto_${asciiLower(street)}_${n}.jpg`, content: smallJpeg(n), contentType: 'image/jpeg' },
          ],
        }
      : {}),
    ...(mailer ? { headers: { 'X-Mailer': mailer } } : {}),
    xMailer: false,
  });
  const raw = await composer.compile().build();
  return { from: address, raw, html, attachment };
}

async function composeBatch(label: string, count: number): Promise<{ messages: Outgoing[]; mix: MessageMix }> {
  const messages: Outgoing[] = [];
  let bytes = 0;
  let withHtml = 0;
  let withAttachment = 0;
  for (let i = 0; i < count; i++) {
    const m = await composeMessage(label);
    messages.push({ from: m.from, raw: m.raw });
    bytes += m.raw.length;
    if (m.html) withHtml++;
    if (m.attachment) withAttachment++;
  }
  return { messages, mix: { count, avgBytes: count ? bytes / count : 0, withHtml, withAttachment } };
}

// ---------------------------------------------------------------------------
// The two servers

interface ServerStats {
  /** Messages the server answered 250 (for the service: stored, not duplicates). */
  accepted: number;
  /** SQL statements sent to PostgreSQL. */
  queries: number;
  /** CPU time of the process, microseconds (user + system). */
  cpuUs: number;
  /** Event loop: time idle and active so far, milliseconds (performance.eventLoopUtilization). */
  loopIdleMs: number;
  loopActiveMs: number;
}

/** The intake listening on 127.0.0.1 on a free port, with attachments stored in the scratch data directory. */
const smtpConfig = (o: Pick<ServeOptions, 'databaseUrl' | 'pool' | 'dataDir'>) =>
  benchConfig(o, { INTAKE_ADDRESSES: INTAKE }, (base) => ({
    uploads: { ...base.uploads, dir: path.join(o.dataDir, 'attachments') },
    intake: { ...base.intake, smtpHost: '127.0.0.1', smtpPort: 0 },
  }));


const loopNow = () => {
  const e = performance.eventLoopUtilization();
  return { loopIdleMs: e.idle, loopActiveMs: e.active };
};

/** The real intake, wired as main.ts does, minus HTTP and the mail worker. */
async function startService(o: ServeOptions): Promise<LocalServer<ServerStats>> {
  const config = smtpConfig(o);
  const logger = createLogger(config);
  const database = openPostgres(o.databaseUrl, config.dbPoolMax);
  let queries = 0;
  database.knex.on('query', () => {
    queries++;
  });
  const services = createServices({ config, db: database.knex, logger });
  // Not started on purpose: services.mail.worker.start()
  services.intake.processor.start();
  let accepted = 0;
  const smtp = createSmtpListener({
    config,
    store: services.intake.store,
    onStored: () => {
      accepted++;
      services.intake.processor.kick();
    },
    logger,
  });
  const port = await smtp.listen(0, '127.0.0.1');
  return {
    port,
    stats: () => ({ accepted, queries, cpuUs: cpuNow(), ...loopNow() }),
    close: async () => {
      await smtp.close();
      await services.intake.processor.stop();
      services.mail.transport.close();
      await database.close();
    },
  };
}

/** The baseline: smtp-server with the listener's options, reading each message to the end and discarding it. */
async function startBaseline(o: ServeOptions): Promise<LocalServer<ServerStats>> {
  const intake = smtpConfig(o).intake;
  const addresses = new Set(intake.addresses);
  let accepted = 0;
  const server = new SMTPServer({
    banner: 'Baseline: accept and discard',
    size: intake.maxMailBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!addresses.has(address.address.toLowerCase())) {
        return callback(Object.assign(new Error('5.1.1 no such mailbox here'), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(Object.assign(new Error('5.3.4 Message too big'), { responseCode: 552 }));
        accepted++;
        callback(null, 'Received, thank you');
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    stats: () => ({ accepted, queries: 0, cpuUs: cpuNow(), ...loopNow() }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const startLocal = (o: ServeOptions) => (o.kind === 'service' ? startService(o) : startBaseline(o));

const SERVERS: ServerRecipe<ServerStats> = { benchFile: fileURLToPath(import.meta.url), startLocal, profileDir: (kind) => profileDir(`smtp-${kind}`) };

type Target = ServerHandle<ServerStats>;

const startTarget = (o: ServeOptions, settings: Settings): Promise<Target> => startServer(o, settings, SERVERS);

// ---------------------------------------------------------------------------
// Database: the scratch database (see support.ts), and what the processor has done in it

async function prepareDatabase(url: string, dataDir: string): Promise<void> {
  const config = smtpConfig({ databaseUrl: url, pool: 2, dataDir });
  await prepareScratchDatabase(url, config, async (services) => {
    if (!(await services.organisation.activeCategory(config.intake.category))) {
      throw new Error(`The seed has no active topic "${config.intake.category}" (INTAKE_CATEGORY) for mail cases`);
    }
  });
}


interface Progress {
  cases: number;
  /** Inbound messages no longer waiting: processed (case, thread, loop…) or quarantined. */
  settled: number;
  quarantined: number;
  /** Still waiting, after at least one failed attempt (retried later with backoff). */
  failing: number;
}

async function progress(client: pg.Client): Promise<Progress> {
  const { rows } = await client.query<Record<keyof Progress, string>>(`
    SELECT (SELECT count(*) FROM cases) AS cases,
           (SELECT count(*) FROM inbound_messages WHERE status <> 'received') AS settled,
           (SELECT count(*) FROM inbound_messages WHERE status = 'quarantined') AS quarantined,
           (SELECT count(*) FROM inbound_messages WHERE status = 'received' AND attempts > 0) AS failing`);
  const r = rows[0]!;
  return { cases: Number(r.cases), settled: Number(r.settled), quarantined: Number(r.quarantined), failing: Number(r.failing) };
}

function countRows(client: pg.Client): Promise<Record<string, number>> {
  return countsAsNumbers(
    client,
    `
    SELECT (SELECT count(*) FROM inbound_messages) AS inbound_messages,
           (SELECT count(*) FROM inbound_messages WHERE status = 'processed') AS inbound_processed,
           (SELECT count(*) FROM inbound_messages WHERE outcome = 'created') AS inbound_created,
           (SELECT count(*) FROM inbound_messages WHERE status = 'quarantined') AS inbound_quarantined,
           (SELECT count(*) FROM inbound_messages WHERE status = 'received') AS inbound_waiting,
           (SELECT count(*) FROM cases) AS cases,
           (SELECT count(*) FROM residents) AS residents,
           (SELECT count(*) FROM messages) AS messages,
           (SELECT count(*) FROM attachments) AS attachments,
           (SELECT count(*) FROM mail_outbox WHERE status = 'pending') AS mail_outbox_pending`,
  );
}


// ---------------------------------------------------------------------------
// Load

interface Delivery {
  /** ms from the start of the run to the last answer. */
  elapsedMs: number;
  accepted: number;
  /** Answers other than 250, by code ("0" = no answer: connection error). */
  refused: Record<string, number>;
  latencies: number[];
}

/** `connections` clients, one connection each, take the next message from a shared queue until none is left. */
async function deliverAll(port: number, messages: Outgoing[], connections: number, t0: number): Promise<Delivery> {
  let next = 0;
  let accepted = 0;
  const refused: Record<string, number> = {};
  const latencies: number[] = [];
  let last = t0;
  const client = async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
      connectionTimeout: 10_000,
      socketTimeout: 60_000,
    });
    try {
      while (next < messages.length) {
        const m = messages[next++]!;
        const start = performance.now();
        try {
          const info = await transport.sendMail({ envelope: { from: m.from, to: [INTAKE] }, raw: m.raw });
          const code = /^(\d{3})/.exec(info.response)?.[1] ?? '0';
          if (code === '250') accepted++;
          else refused[code] = (refused[code] ?? 0) + 1;
        } catch (err) {
          const code = String((err as { responseCode?: number }).responseCode ?? 0);
          refused[code] = (refused[code] ?? 0) + 1;
        }
        const end = performance.now();
        latencies.push(end - start);
        last = Math.max(last, end);
      }
    } finally {
      transport.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, messages.length) }, client));
  return { elapsedMs: last - t0, accepted, refused, latencies };
}

interface Processing {
  /** ms from the start of the run until every accepted message was settled (or the timeout). */
  elapsedMs: number;
  cases: number;
  complete: boolean;
  /** Cases already made when the last message was answered 250. */
  casesAtLastAccept: number;
  quarantined: number;
  failing: number;
}

/** Polls the scratch database until `expected` more inbound messages are settled, or the timeout. */
function watchProcessing(client: pg.Client, before: Progress, t0: number, timeoutMs: number) {
  let expected = Number.POSITIVE_INFINITY;
  let latest = before;
  let atLastAccept: number | undefined;
  const done = (async (): Promise<Processing> => {
    for (;;) {
      latest = await progress(client);
      const now = performance.now();
      const complete = latest.settled - before.settled >= expected;
      if (complete || now - t0 > timeoutMs) {
        return {
          elapsedMs: now - t0,
          cases: latest.cases - before.cases,
          complete,
          casesAtLastAccept: atLastAccept ?? latest.cases - before.cases,
          quarantined: latest.quarantined - before.quarantined,
          failing: latest.failing,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    done,
    /** Called when the last message is answered: from now on the watcher knows how many to wait for. */
    deliveriesOver(accepted: number) {
      atLastAccept = latest.cases - before.cases;
      expected = accepted;
    },
  };
}

interface RunResult {
  kind: Kind;
  round: number;
  messages: number;
  accepted: number;
  refused: Record<string, number>;
  /** 250 answers per second, first delivery to last answer. */
  acceptedPerS: number;
  /** service only: new cases per second, first delivery until all accepted mail was processed. */
  casesPerS: number | null;
  cases: number | null;
  processingComplete: boolean | null;
  /** service only: seconds between the last 250 and the last case, and the processor's rate in that time. */
  drainS: number | null;
  drainCasesPerS: number | null;
  casesAtLastAccept: number | null;
  quarantined: number | null;
  deliveryS: number;
  totalS: number;
  latencyP50: number;
  latencyP99: number;
  server: { cpuMsPerMessage: number | null; queriesPerMessage: number | null; eventLoopUtilisation: number | null };
  /** CPU of this process (the SMTP clients) per message while delivering: shows whether the clients are the limit. */
  clientCpuMsPerMessage: number | null;
}

async function runOnce(t: Target, round: number, messages: Outgoing[], settings: Settings, db: pg.Client): Promise<RunResult> {
  const before = await t.stats();
  const dbBefore = t.kind === 'service' ? await progress(db) : undefined;
  const clientCpuBefore = cpuNow();
  const t0 = performance.now();
  const watcher = dbBefore ? watchProcessing(db, dbBefore, t0, settings.processTimeout * 1000) : undefined;
  const d = await deliverAll(t.port, messages, settings.connections, t0);
  const clientCpuUs = cpuNow() - clientCpuBefore;
  watcher?.deliveriesOver(d.accepted);
  const p = watcher ? await watcher.done : undefined;
  const after = await t.stats();
  const handled = after.accepted - before.accepted;
  const totalMs = p ? Math.max(p.elapsedMs, d.elapsedMs) : d.elapsedMs;
  const loopActive = after.loopActiveMs - before.loopActiveMs;
  const loopAll = loopActive + after.loopIdleMs - before.loopIdleMs;
  const drainMs = p ? Math.max(0, p.elapsedMs - d.elapsedMs) : 0;
  return {
    kind: t.kind,
    round,
    messages: messages.length,
    accepted: d.accepted,
    refused: d.refused,
    acceptedPerS: d.accepted / (d.elapsedMs / 1000),
    casesPerS: p ? p.cases / (p.elapsedMs / 1000) : null,
    cases: p ? p.cases : null,
    processingComplete: p ? p.complete : null,
    drainS: p ? drainMs / 1000 : null,
    drainCasesPerS: p && drainMs > 0 ? (p.cases - p.casesAtLastAccept) / (drainMs / 1000) : null,
    casesAtLastAccept: p ? p.casesAtLastAccept : null,
    quarantined: p ? p.quarantined : null,
    deliveryS: d.elapsedMs / 1000,
    totalS: totalMs / 1000,
    latencyP50: percentile(d.latencies, 50),
    latencyP99: percentile(d.latencies, 99),
    server: {
      // Only meaningful when the server has a process to itself; includes the processing.
      cpuMsPerMessage: handled && settings.servers === 'child' ? (after.cpuUs - before.cpuUs) / 1000 / handled : null,
      queriesPerMessage: handled && t.kind === 'service' ? (after.queries - before.queries) / handled : null,
      eventLoopUtilisation: settings.servers === 'child' && loopAll > 0 ? loopActive / loopAll : null,
    },
    clientCpuMsPerMessage: settings.servers === 'child' && messages.length ? clientCpuUs / 1000 / messages.length : null,
  };
}

/** One message to each server before any load: fails fast, with the reason, if it is not answered 250 or does not become a case. */
async function smokeTest(t: Target, db: pg.Client): Promise<void> {
  const { messages } = await composeBatch('smoke', 1);
  const before = await progress(db);
  const d = await deliverAll(t.port, messages, 1, performance.now());
  if (d.accepted !== 1) throw new Error(`${t.kind}: the smoke-test message was not answered 250 (${JSON.stringify(d.refused)})`);
  if (t.kind !== 'service') return;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const now = await progress(db);
    if (now.cases > before.cases) return;
    if (now.settled > before.settled || now.failing > before.failing) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rows } = await db.query<{ status: string; outcome: string | null; last_error: string | null }>(
    'SELECT status, outcome, last_error FROM inbound_messages ORDER BY id DESC LIMIT 1',
  );
  throw new Error(`service: the smoke-test message did not become a case: ${JSON.stringify(rows[0] ?? 'not stored')}`);
}

// ---------------------------------------------------------------------------
// Report


interface Summary {
  acceptedPerS: number;
  casesPerS: number | null;
  drainCasesPerS: number | null;
  drainS: number | null;
  latencyP50: number;
  latencyP99: number;
  refused: number;
  incompleteRuns: number;
  cpuMsPerMessage: number | null;
  queriesPerMessage: number | null;
  eventLoopUtilisation: number | null;
  clientCpuMsPerMessage: number | null;
}

function summarise(runs: RunResult[]): Summary {
  return {
    acceptedPerS: median(runs.map((r) => r.acceptedPerS)),
    casesPerS: nullableMedian(runs.map((r) => r.casesPerS)),
    drainCasesPerS: nullableMedian(runs.map((r) => r.drainCasesPerS)),
    drainS: nullableMedian(runs.map((r) => r.drainS)),
    latencyP50: median(runs.map((r) => r.latencyP50)),
    latencyP99: median(runs.map((r) => r.latencyP99)),
    refused: runs.reduce((n, r) => n + Object.values(r.refused).reduce((a, b) => a + b, 0), 0),
    incompleteRuns: runs.filter((r) => r.processingComplete === false).length,
    cpuMsPerMessage: nullableMedian(runs.map((r) => r.server.cpuMsPerMessage)),
    queriesPerMessage: nullableMedian(runs.map((r) => r.server.queriesPerMessage)),
    eventLoopUtilisation: nullableMedian(runs.map((r) => r.server.eventLoopUtilisation)),
    clientCpuMsPerMessage: nullableMedian(runs.map((r) => r.clientCpuMsPerMessage)),
  };
}


interface Verdict {
  /** median service cases/s ÷ median baseline accepted/s: the headline figure. */
  ratio: number;
  /** median service accepted/s ÷ median baseline accepted/s: storing before 250, without processing. */
  acceptRatio: number;
  /** cases/s ÷ baseline accepted/s within each round (runs next to each other in time). */
  pairRatios: number[];
  pairRatioMedian: number;
  /** (max − min) / median of each server's figure over the rounds: how noisy the machine was. */
  spread: { baselineAccepted: number; serviceCases: number };
}

function verdict(runs: RunResult[], medians: Record<Kind, Summary>, rounds: number): Verdict {
  const pairRatios = perRound(runs, rounds, (b, s) => (s.casesPerS ?? 0) / b.acceptedPerS);
  return {
    ratio: (medians.service.casesPerS ?? 0) / medians.baseline.acceptedPerS,
    acceptRatio: medians.service.acceptedPerS / medians.baseline.acceptedPerS,
    pairRatios,
    pairRatioMedian: median(pairRatios),
    spread: {
      baselineAccepted: spread(runs.filter((r) => r.kind === 'baseline').map((r) => r.acceptedPerS)),
      serviceCases: spread(runs.filter((r) => r.kind === 'service').map((r) => r.casesPerS ?? 0)),
    },
  };
}

function printReport(runs: RunResult[], medians: Record<Kind, Summary>, v: Verdict): void {
  const header = ['round', 'server', 'accepted/s', 'cases/s', 'drain s', 'drain cases/s', 'p50 ms', 'p99 ms', 'refused', 'CPU ms/msg', 'SQL/msg', 'loop busy', 'client CPU ms/msg'];
  type Line = Pick<Summary, 'acceptedPerS' | 'casesPerS' | 'drainS' | 'drainCasesPerS' | 'latencyP50' | 'latencyP99' | 'refused' | 'cpuMsPerMessage' | 'queriesPerMessage' | 'eventLoopUtilisation' | 'clientCpuMsPerMessage'>;
  const row = (label: string, kind: string, s: Line) => [
    label,
    kind,
    fixed(s.acceptedPerS),
    fixed(s.casesPerS),
    fixed(s.drainS, 2),
    fixed(s.drainCasesPerS),
    fixed(s.latencyP50, 1),
    fixed(s.latencyP99, 1),
    String(s.refused),
    fixed(s.cpuMsPerMessage, 3),
    fixed(s.queriesPerMessage, 2),
    s.eventLoopUtilisation === null ? '–' : `${Math.round(s.eventLoopUtilisation * 100)}%`,
    fixed(s.clientCpuMsPerMessage, 3),
  ];
  const rows = [header];
  for (const r of runs) rows.push(row(String(r.round), r.kind, { ...r, ...r.server, refused: Object.values(r.refused).reduce((a, b) => a + b, 0) }));
  for (const k of KINDS) rows.push(row('median', k, medians[k]));
  console.log(`\n${table(rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))}`);
  console.log(
    [
      '  accepted/s: 250 answers per second, first delivery to last answer; cases/s: new cases per second, first delivery until all accepted mail is processed;',
      '  drain: from the last 250 until the last case, and the processor\'s rate then; p50/p99: one SMTP transaction as the client sees it;',
      '  refused: non-250 answers (total); CPU ms/msg, SQL/msg and loop busy (event-loop utilisation) are measured inside the server process, processing included;',
      '  client CPU ms/msg: this process (the SMTP clients and, for the service, the poller) while delivering',
    ].join('\n'),
  );
  console.log(`\nratio service cases/s ÷ baseline accepted/s (medians): ${v.ratio.toFixed(3)}`);
  console.log(`  per round: ${v.pairRatios.map((x) => x.toFixed(3)).join(', ')} (median ${v.pairRatioMedian.toFixed(3)})`);
  console.log(`ratio service accepted/s ÷ baseline accepted/s (medians): ${v.acceptRatio.toFixed(3)}`);
  console.log('no target is set for this benchmark (issue 3)');
  if (v.spread.baselineAccepted > 0.3 || v.spread.serviceCases > 0.3) {
    console.log(
      `note: the machine was noisy (between rounds baseline accepted/s varied by ${Math.round(v.spread.baselineAccepted * 100)}%, ` +
        `service cases/s by ${Math.round(v.spread.serviceCases * 100)}%); trust the medians`,
    );
  }
  if (medians.service.refused || medians.baseline.refused) console.log('warning: some messages were not answered 250; see "refused" in the JSON result');
  if (medians.service.incompleteRuns) console.log(`warning: in ${medians.service.incompleteRuns} run(s) not every accepted message was processed within BENCH_PROCESS_TIMEOUT; cases/s counts what was done`);
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const loadAtStart = os.loadavg();
  const scratch = scratchSpace(settings.adminUrl, `sc_bench_smtp_${process.pid}`, 'sc-bench-smtp-');
  const { dbName, dbUrl, dataDir } = scratch;
  const targets: Target[] = [];
  let db: pg.Client | undefined;
  const cleanup = onlyOnce(async () => {
    await stopAll(targets);
    // The poller's connection goes before the drop, or the drop has to force it.
    await db?.end().catch(() => undefined);
    await scratch.remove();
  });
  cleanUpOnSignals(cleanup);

  try {
    const pgInfo = await postgresInfo(settings.adminUrl);
    await scratch.createDatabase();
    await prepareDatabase(dbUrl, dataDir);
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();

    const warm = await composeBatch('warmup', settings.warmup);
    console.log(
      [
        `SMTP intake benchmark: ${settings.messages} messages per run to ${INTAKE}`,
        postgresLine(pgInfo, dbName),
        `  ${settings.connections} SMTP clients (nodemailer pooled transport, one connection each, reused), ${settings.rounds} interleaved rounds (order swapped every round), ${settings.warmup} warm-up messages each`,
        `  servers: ${settings.servers === 'child' ? 'each in its own child process; SMTP clients and the case-count poller in this one' : 'both in this process, with the SMTP clients'}; ${machineLine(loadAtStart)}`,
        `  service: createSmtpListener + services.intake.processor (NODE_ENV=production config, log level warn, pool ${settings.pool}), mail outbox worker NOT started`,
        '  baseline: smtp-server with the same options, reading each message and discarding it',
        `  messages: Swedish, distinct senders, ~${Math.round(warm.mix.avgBytes)} bytes on average (warm-up set); ${warm.mix.withHtml} of ${warm.mix.count} with an HTML part, ${warm.mix.withAttachment} with a small attachment`,
        `  bounded: at most ${settings.processTimeout} s of processing per service run`,
      ].join('\n'),
    );
    if (settings.pool + 10 > Number(pgInfo?.max_connections ?? 100)) {
      console.log(`  warning: pool ${settings.pool} comes close to max_connections=${pgInfo?.max_connections}`);
    }

    for (const kind of KINDS) targets.push(await startTarget({ kind, databaseUrl: dbUrl, pool: settings.pool, dataDir }, settings));
    const byKind = (k: Kind) => targets.find((t) => t.kind === k)!;
    for (const t of targets) await smokeTest(t, db);

    if (settings.warmup > 0) {
      for (const t of targets) {
        process.stdout.write(`warm-up ${t.kind} (${settings.warmup} messages)… `);
        const w = await runOnce(t, 0, warm.messages, settings, db);
        console.log(`${w.acceptedPerS.toFixed(0)} accepted/s${w.casesPerS !== null ? `, ${w.casesPerS.toFixed(0)} cases/s` : ''}`);
      }
    }

    const runs: RunResult[] = [];
    const mixes: MessageMix[] = [warm.mix];
    for (let round = 1; round <= settings.rounds; round++) {
      const batch = await composeBatch(`r${round}`, settings.messages);
      mixes.push(batch.mix);
      const order = round % 2 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        process.stdout.write(`round ${round}/${settings.rounds} ${kind.padEnd(8)}… `);
        const r = await runOnce(byKind(kind), round, batch.messages, settings, db);
        runs.push(r);
        const refused = Object.values(r.refused).reduce((a, b) => a + b, 0);
        console.log(
          `${r.acceptedPerS.toFixed(1)} accepted/s in ${r.deliveryS.toFixed(2)} s` +
            (r.casesPerS !== null ? `, ${r.casesPerS.toFixed(1)} cases/s in ${r.totalS.toFixed(2)} s (${r.cases} cases${r.processingComplete ? '' : ', INCOMPLETE'})` : '') +
            `, p50 ${r.latencyP50.toFixed(1)} ms, p99 ${r.latencyP99.toFixed(1)} ms${refused ? `, ${refused} refused` : ''}`,
        );
      }
    }

    const medians = summariseByKind(runs, summarise);
    const v = verdict(runs, medians, settings.rounds);
    printReport(runs, medians, v);
    const rows = await countRows(db);

    const total = mixes.reduce((n, m) => n + m.count, 0);
    const result = {
      benchmark: 'smtp-intake',
      finishedAt: new Date().toISOString(),
      settings: { ...settings, adminUrl: redact(settings.adminUrl), mailWorker: 'not started', pollMs: POLL_MS },
      environment: {
        ...environment(loadAtStart, pgInfo),
        processes: settings.servers === 'child' ? 'each server in its own child process; SMTP clients and the case-count poller in the bench process' : 'servers, SMTP clients and poller in one process',
      },
      messages: {
        perRun: settings.messages,
        avgBytes: mixes.reduce((n, m) => n + m.avgBytes * m.count, 0) / total,
        withHtml: mixes.reduce((n, m) => n + m.withHtml, 0) / total,
        withAttachment: mixes.reduce((n, m) => n + m.withAttachment, 0) / total,
      },
      target: null,
      ratio: v.ratio,
      ratioMetric: 'median service cases/s ÷ median baseline accepted/s',
      acceptRatio: v.acceptRatio,
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
