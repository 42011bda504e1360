import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OpeningHoursError, parseOpeningHours } from './calendar/opening-hours.js';

/**
 * The one typed configuration. It is read from the environment once, at start,
 * and passed down explicitly; nothing else reads process.env.
 */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  /** Unset: the embedded PostgreSQL (PGlite) under dataDir. */
  databaseUrl: string | undefined;
  dbPoolMax: number;
  dataDir: string;
  /** True when running the embedded demo: demo seed and the demo outbox page. */
  demo: boolean;
  sessionSecret: string;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  /** argon2id cost for staff passwords: memory in KiB and passes (OWASP: 64 MiB, t=3 by default; stored in each hash). */
  passwordHash: { memoryKiB: number; timeCost: number };
  cookieSecure: boolean;
  trustProxy: boolean | number | string;
  demoPassword: string | undefined;
  mail: {
    /** Unset: messages are written as .eml files under dataDir/outbox. */
    smtpUrl: string | undefined;
    from: string;
    outboxDir: string;
    pollMs: number;
    maxAttempts: number;
  };
  uploads: {
    dir: string;
    maxBytes: number;
    maxFiles: number;
  };
  rateLimits: {
    /** Requests per window per client address. 0 turns the limit off. */
    intakePerWindow: number;
    loginPerWindow: number;
    windowMs: number;
  };
  /** Per-account sign-in lockout: this many failed attempts for one e-mail within windowMinutes lock it for minutes. */
  loginLockout: { threshold: number; minutes: number; windowMinutes: number };
  logLevel: string;
  organisation: { name: string; phone: string; email: string };
  /** Mail intake: the SMTP listener, IMAP watching and what processing does with a message. */
  intake: {
    smtpPort: number;
    smtpHost: string;
    /** The addresses residents write to; the listener refuses any other recipient (550). */
    addresses: string[];
    maxMailBytes: number;
    tls: { keyFile: string; certFile: string } | undefined;
    imapUrl: string | undefined;
    imapMailbox: string;
    imapPollMs: number;
    /** The topic of a case that arrives by e-mail. */
    category: string;
    /** A reply to a case closed longer than this opens a new case linked to it. */
    reopenWindowDays: number;
    /** At most one acknowledgement per sender in this window. */
    ackWindowMinutes: number;
    maxAttempts: number;
    pollMs: number;
  };
  /** When the service center is open: callbacks are offered and made within these hours. */
  calendar: {
    /** e.g. "mon-fri 08:00-16:30". */
    openingHours: string;
    /** The office hours that working time in the statistics counts (same syntax; default openingHours). */
    statsOfficeHours: string;
    /** Holiday types (date-holidays: public, bank) and extra ISO dates on which it is closed. */
    closedOn: string[];
    timeZone: string;
  };
  callbacks: {
    maxAttempts: number;
    /** The least time between two attempts. */
    retryMinutes: number;
    /** The length of the windows a resident chooses from. */
    slotMinutes: number;
    /** How many days ahead a resident may ask to be called. */
    daysAhead: number;
  };
  telephony: {
    /** The shared secret of the telephony platform's signed events; unset: the endpoint answers 503. */
    secret: string | undefined;
    /** A signed event older or newer than this is refused, against replays. */
    maxSkewSeconds: number;
  };
  /** The live workspace over Socket.IO. */
  live: {
    /** Set: instances share live events and presence through Redis (@socket.io/redis-adapter). */
    redisUrl: string | undefined;
    /** The Redis channel prefix; instances that share it share events. */
    redisChannel: string;
    /** How often each instance checks the event log for commits it was not told about (other processes). */
    pollMs: number;
    /** A reconnecting page catches up on at most this many missed events; beyond that it reloads. */
    maxCatchUp: number;
    /** A waiting case older than this is announced to agents. */
    waitTargetMinutes: number;
    /** Client events per socket per 10 seconds before they are refused. */
    eventsPer10s: number;
  };
  /** An FAQ article last reviewed longer ago than this many months (or never) is due for review. */
  faqReviewMonths: number;
  /** Manager statistics. */
  stats: {
    /** A call answered within this many seconds counts toward the service level (KKiK: 60). */
    serviceLevelSeconds: number;
    /** The service level goal, as a share 0..1 (shown beside the figure). */
    serviceLevelGoal: number;
  };
  /** The resident service survey sent after a case is resolved (SKR's questions, 1 to 5). */
  survey: {
    enabled: boolean;
    /** A survey link can be answered for this many days. */
    validDays: number;
  };
  /** Retention (gallring): the daily run of the rules (server/retention/job.ts). */
  retention: {
    /** Off: no scheduled run (the CLI still runs). Default on, except under NODE_ENV=test. */
    enabled: boolean;
    /** Local time (TIME_ZONE) of the daily run, HH:MM. */
    runAt: string;
  };
}

const WEAK_SECRETS = new Set(['secret', 'changeme', 'change-me', 'session-secret', 'keyboard cat', 'default', 'password']);
const WEAK_WORDS = new RegExp([...WEAK_SECRETS].sort((x, y) => y.length - x.length).join('|'), 'gi');

/** A default word, or one padded out to length ("changeme" + "!!!!…", "change-me-change-me-…"), is no secret. */
function isWeakSecret(given: string): boolean {
  if (WEAK_SECRETS.has(given.toLowerCase()) || new Set(given).size < 8) return true;
  return new Set(given.replace(WEAK_WORDS, '')).size < 8;
}

const intFrom = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DB_POOL_MAX: intFrom(16, 1, 200),
  DATA_DIR: z.string().min(1).default('./data'),
  DEMO: z.enum(['true', 'false', '1', '0']).optional(),
  SESSION_SECRET: z.string().optional(),
  SESSION_IDLE_MINUTES: intFrom(120, 1),
  SESSION_MAX_HOURS: intFrom(12, 1),
  PASSWORD_HASH_MEMORY_KIB: intFrom(65536, 1024, 4_194_304),
  PASSWORD_HASH_TIME_COST: intFrom(3, 1, 20),
  COOKIE_SECURE: z.enum(['true', 'false', '1', '0']).optional(),
  TRUST_PROXY: z.string().optional(),
  DEMO_PASSWORD: z.string().min(10, 'DEMO_PASSWORD must have at least 10 characters').optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('Kontaktcenter Borlänge kommun <kontaktcenter@borlange.example>'),
  MAIL_POLL_MS: intFrom(2000, 50),
  MAIL_MAX_ATTEMPTS: intFrom(8, 1, 100),
  UPLOAD_MAX_BYTES: intFrom(10 * 1024 * 1024, 1),
  UPLOAD_MAX_FILES: intFrom(5, 0, 50),
  RATE_LIMIT_INTAKE: intFrom(20, 0),
  RATE_LIMIT_LOGIN: intFrom(10, 0),
  RATE_LIMIT_WINDOW_MS: intFrom(15 * 60 * 1000, 1000),
  LOGIN_LOCKOUT_THRESHOLD: intFrom(5, 1, 1000),
  LOGIN_LOCKOUT_MINUTES: intFrom(15, 1, 24 * 60),
  LOGIN_LOCKOUT_WINDOW_MINUTES: intFrom(15, 1, 24 * 60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ORG_NAME: z.string().default('Borlänge kommun'),
  ORG_PHONE: z.string().default('0243-740 00'),
  ORG_EMAIL: z.string().default('kontaktcenter@borlange.example'),
  SMTP_PORT: intFrom(2525, 0, 65535),
  SMTP_HOST: z.string().min(1).default('0.0.0.0'),
  INTAKE_ADDRESSES: z.string().default('kontaktcenter@borlange.example'),
  MAX_MAIL_BYTES: intFrom(25 * 1024 * 1024, 1024),
  SMTP_TLS_KEY: z.string().min(1).optional(),
  SMTP_TLS_CERT: z.string().min(1).optional(),
  IMAP_URL: z.string().regex(/^imaps?:\/\//, 'must be an imap:// or imaps:// URL').optional(),
  IMAP_MAILBOX: z.string().min(1).default('INBOX'),
  IMAP_POLL_MS: intFrom(60_000, 1000),
  INTAKE_CATEGORY: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a topic short name').default('ovrigt'),
  REOPEN_WINDOW_DAYS: intFrom(30, 0),
  ACK_WINDOW_MINUTES: intFrom(60, 0),
  INBOUND_MAX_ATTEMPTS: intFrom(5, 1, 100),
  INBOUND_POLL_MS: intFrom(5000, 50),
  OPENING_HOURS: z.string().min(1).default('mon-fri 08:00-16:30'),
  STATS_OFFICE_HOURS: z.string().trim().min(1, 'must not be empty (leave it unset to use OPENING_HOURS)').optional(),
  CLOSED_ON: z.string().default('public,bank'),
  TIME_ZONE: z.string().min(1).default('Europe/Stockholm'),
  CALLBACK_MAX_ATTEMPTS: intFrom(3, 1, 10),
  CALLBACK_RETRY_MINUTES: intFrom(30, 1, 24 * 60),
  CALLBACK_SLOT_MINUTES: intFrom(120, 15, 24 * 60),
  CALLBACK_DAYS_AHEAD: intFrom(7, 1, 60),
  TELEPHONY_SECRET: z.string().min(32, 'TELEPHONY_SECRET must be at least 32 characters').optional(),
  TELEPHONY_MAX_SKEW_SECONDS: intFrom(300, 10, 3600),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_CHANNEL: z.string().regex(/^[\w.:-]{1,100}$/, 'letters, digits and . : - _ only').default('servicecenter'),
  LIVE_POLL_MS: intFrom(2000, 50),
  LIVE_MAX_CATCH_UP: intFrom(500, 10, 100_000),
  QUEUE_WAIT_TARGET_MINUTES: intFrom(30, 1),
  LIVE_EVENTS_PER_10S: intFrom(50, 1),
  FAQ_REVIEW_MONTHS: intFrom(12, 1, 120),
  STATS_SERVICE_LEVEL_SECONDS: intFrom(60, 1, 3600),
  STATS_SERVICE_LEVEL_GOAL_PERCENT: intFrom(80, 1, 100),
  SURVEY_ENABLED: z.enum(['true', 'false', '1', '0']).optional(),
  SURVEY_VALID_DAYS: intFrom(30, 1, 365),
  RETENTION_ENABLED: z.enum(['true', 'false', '1', '0']).optional(),
  RETENTION_RUN_AT: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time of day as HH:MM, such as 02:30').default('02:30'),
});

export class ConfigError extends Error {}

const truthy = (v: string | undefined) => v === 'true' || v === '1';

/**
 * Builds the config from an environment. `overrides` lets tests and benchmarks
 * set values without touching process.env.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const demo = e.DEMO !== undefined ? truthy(e.DEMO) : !e.DATABASE_URL;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const sessionSecret = overrides.sessionSecret ?? resolveSessionSecret(e.SESSION_SECRET, { embedded: !e.DATABASE_URL, dataDir, env: e.NODE_ENV });

  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    dbPoolMax: e.DB_POOL_MAX,
    dataDir,
    demo,
    sessionSecret,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxHours: e.SESSION_MAX_HOURS,
    passwordHash: { memoryKiB: e.PASSWORD_HASH_MEMORY_KIB, timeCost: e.PASSWORD_HASH_TIME_COST },
    cookieSecure: e.COOKIE_SECURE !== undefined ? truthy(e.COOKIE_SECURE) : publicUrl.startsWith('https:'),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    demoPassword: e.DEMO_PASSWORD,
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      outboxDir: path.join(dataDir, 'outbox'),
      pollMs: e.MAIL_POLL_MS,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
    },
    uploads: {
      dir: path.join(dataDir, 'attachments'),
      maxBytes: e.UPLOAD_MAX_BYTES,
      maxFiles: e.UPLOAD_MAX_FILES,
    },
    rateLimits: {
      intakePerWindow: e.RATE_LIMIT_INTAKE,
      loginPerWindow: e.RATE_LIMIT_LOGIN,
      windowMs: e.RATE_LIMIT_WINDOW_MS,
    },
    loginLockout: { threshold: e.LOGIN_LOCKOUT_THRESHOLD, minutes: e.LOGIN_LOCKOUT_MINUTES, windowMinutes: e.LOGIN_LOCKOUT_WINDOW_MINUTES },
    logLevel: e.LOG_LEVEL,
    organisation: { name: e.ORG_NAME, phone: e.ORG_PHONE, email: e.ORG_EMAIL },
    intake: {
      smtpPort: e.SMTP_PORT,
      smtpHost: e.SMTP_HOST,
      addresses: parseAddresses(e.INTAKE_ADDRESSES),
      maxMailBytes: e.MAX_MAIL_BYTES,
      tls: tlsFiles(e.SMTP_TLS_KEY, e.SMTP_TLS_CERT),
      imapUrl: e.IMAP_URL,
      imapMailbox: e.IMAP_MAILBOX,
      imapPollMs: e.IMAP_POLL_MS,
      category: e.INTAKE_CATEGORY,
      reopenWindowDays: e.REOPEN_WINDOW_DAYS,
      ackWindowMinutes: e.ACK_WINDOW_MINUTES,
      maxAttempts: e.INBOUND_MAX_ATTEMPTS,
      pollMs: e.INBOUND_POLL_MS,
    },
    calendar: {
      openingHours: e.OPENING_HOURS,
      statsOfficeHours: e.STATS_OFFICE_HOURS ?? e.OPENING_HOURS,
      closedOn: e.CLOSED_ON.split(',').map((x) => x.trim()).filter(Boolean),
      timeZone: e.TIME_ZONE,
    },
    callbacks: {
      maxAttempts: e.CALLBACK_MAX_ATTEMPTS,
      retryMinutes: e.CALLBACK_RETRY_MINUTES,
      slotMinutes: e.CALLBACK_SLOT_MINUTES,
      daysAhead: e.CALLBACK_DAYS_AHEAD,
    },
    telephony: {
      secret: e.TELEPHONY_SECRET,
      maxSkewSeconds: e.TELEPHONY_MAX_SKEW_SECONDS,
    },
    live: {
      redisUrl: e.REDIS_URL,
      redisChannel: e.REDIS_CHANNEL,
      pollMs: e.LIVE_POLL_MS,
      maxCatchUp: e.LIVE_MAX_CATCH_UP,
      waitTargetMinutes: e.QUEUE_WAIT_TARGET_MINUTES,
      eventsPer10s: e.LIVE_EVENTS_PER_10S,
    },
    faqReviewMonths: e.FAQ_REVIEW_MONTHS,
    stats: {
      serviceLevelSeconds: e.STATS_SERVICE_LEVEL_SECONDS,
      serviceLevelGoal: e.STATS_SERVICE_LEVEL_GOAL_PERCENT / 100,
    },
    // Optional: off unless set, except in the demo, which shows it.
    survey: {
      enabled: e.SURVEY_ENABLED !== undefined ? truthy(e.SURVEY_ENABLED) : demo,
      validDays: e.SURVEY_VALID_DAYS,
    },
    retention: {
      enabled: e.RETENTION_ENABLED !== undefined ? truthy(e.RETENTION_ENABLED) : e.NODE_ENV !== 'test',
      runAt: e.RETENTION_RUN_AT,
    },
  };
  try {
    // Read once here so a wrong OPENING_HOURS or CLOSED_ON stops the start with a clear message.
    parseOpeningHours({ hours: config.calendar.openingHours, closedOn: config.calendar.closedOn, timeZone: config.calendar.timeZone });
  } catch (err) {
    if (err instanceof OpeningHoursError) throw new ConfigError(`OPENING_HOURS / CLOSED_ON / TIME_ZONE: ${err.message}`);
    throw err;
  }
  try {
    parseOpeningHours({ hours: config.calendar.statsOfficeHours, closedOn: config.calendar.closedOn, timeZone: config.calendar.timeZone });
  } catch (err) {
    if (err instanceof OpeningHoursError) throw new ConfigError(`STATS_OFFICE_HOURS: ${err.message}`);
    throw err;
  }
  return { ...config, ...overrides };
}

function parseAddresses(list: string): string[] {
  const addresses = list
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean);
  const bad = addresses.filter((a) => !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(a));
  if (!addresses.length || bad.length) {
    throw new ConfigError(`INTAKE_ADDRESSES must be a comma-separated list of e-mail addresses${bad.length ? `; not addresses: ${bad.join(', ')}` : ''}`);
  }
  return addresses;
}

function tlsFiles(keyFile: string | undefined, certFile: string | undefined) {
  if (!keyFile && !certFile) return undefined;
  if (!keyFile || !certFile) throw new ConfigError('SMTP_TLS_KEY and SMTP_TLS_CERT go together: set both for STARTTLS, or neither');
  for (const f of [keyFile, certFile]) if (!existsSync(f)) throw new ConfigError(`SMTP TLS file not found: ${f}`);
  return { keyFile, certFile };
}

function parseTrustProxy(v: string | undefined): boolean | number | string {
  if (v === undefined || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/**
 * A real deployment must bring its own strong secret. The embedded demo may
 * generate one, kept under the data directory so sessions survive a restart.
 */
function resolveSessionSecret(
  given: string | undefined,
  ctx: { embedded: boolean; dataDir: string; env: string },
): string {
  if (given !== undefined) {
    if (given.length < 32) throw new ConfigError('SESSION_SECRET must be at least 32 characters long.');
    if (isWeakSecret(given)) {
      throw new ConfigError('SESSION_SECRET is a default or trivially weak value; generate one with `openssl rand -hex 32`.');
    }
    return given;
  }
  if (!ctx.embedded) {
    throw new ConfigError('SESSION_SECRET is required when DATABASE_URL is set (generate one with `openssl rand -hex 32`).');
  }
  const file = path.join(ctx.dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(ctx.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
