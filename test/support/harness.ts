import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Knex } from 'knex';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import type { AuthUser, Role } from '../../server/auth/roles.js';
import { loadConfig, type Config } from '../../server/config.js';
import { createSmtpListener, type SmtpListener } from '../../server/intake/smtp-listener.js';
import { createLogger } from '../../server/platform/logger.js';
import type { MailTransport } from '../../server/platform/mail.js';
import { createServices, type Services } from '../../server/services.js';
import { freshDatabase } from './database.js';
import { openPostgres } from '../../server/platform/db.js';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestApp {
  config: Config;
  services: Services;
  app: Express;
  db: Knex;
  /** Where this app keeps files: outbox, attachments, tmp. */
  dataDir: string;
  /** The database URL when running on PostgreSQL (for a second process such as the CLI). */
  databaseUrl: string | undefined;
  /** A client with no cookies. */
  request(): supertest.Agent;
  /** A client signed in with a new user of the role. */
  loginAs(role: Role, name?: string): Promise<SignedIn>;
  /** Waits until the outbox worker has sent everything queued so far. */
  mailIdle(): Promise<void>;
  /** Waits until received mail stored so far has been processed. */
  intakeIdle(): Promise<void>;
  /** Starts the SMTP intake listener on a free local port and returns the port. */
  startSmtp(): Promise<number>;
  /**
   * Serves the app with its live workspace (Socket.IO) on a free local port
   * and returns the base URL. config.publicUrl stays as it was; sockets from
   * the same host are accepted.
   */
  listen(): Promise<string>;
  /**
   * A second instance of the service on the same database (its own pool on
   * PostgreSQL; the same embedded database otherwise), listening with its
   * live workspace. Pass live.redisUrl in both to share events.
   */
  secondInstance(config?: Partial<Config>): Promise<{ services: Services; baseUrl: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

export interface SignedIn {
  agent: supertest.Agent;
  user: AuthUser;
  /** The CSRF token bound to this session, for forms and session API calls. */
  csrf: string;
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token in the page');
  return m[1];
}

let users = 0;

/** Boots the whole app in-process on a fresh database, as main.ts would, without listening. */
export async function startTestApp(opts: { config?: Partial<Config>; transport?: MailTransport } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sc-test-'));
  const { database, url } = await freshDatabase();
  // Real argon2id at a small cost: tests sign in hundreds of times (the default cost is checked in config.test.ts).
  const base = loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_TIME_COST: '1' }, { sessionSecret: randomBytes(32).toString('hex') });
  const config: Config = {
    ...base,
    databaseUrl: url,
    dataDir,
    demo: false,
    logLevel: 'silent',
    publicUrl: 'http://localhost:3000',
    mail: { ...base.mail, outboxDir: path.join(dataDir, 'outbox'), pollMs: 50 },
    uploads: { ...base.uploads, dir: path.join(dataDir, 'attachments') },
    rateLimits: { ...base.rateLimits, intakePerWindow: 0, loginPerWindow: 0 },
    // Off as in production unless a test is about it (loadConfig turns it on for an embedded demo).
    survey: { ...base.survey, enabled: false },
    ...opts.config,
  };
  const services = createServices({ config, db: database.knex, logger: createLogger(config), ...(opts.transport ? { transport: opts.transport } : {}) });
  services.mail.worker.start();
  services.intake.processor.start();
  const app = createApp(services);
  let smtp: SmtpListener | undefined;
  let http: Server | undefined;
  let smtpPort: number | undefined;

  const testApp: TestApp = {
    config,
    services,
    app,
    db: database.knex,
    dataDir,
    databaseUrl: url,
    request: () => supertest.agent(app),
    async loginAs(role, name) {
      const email = `${role}${++users}.${process.pid}@test.example`;
      const user = await services.auth.createUser({ email, name: name ?? `Test ${role} ${users}`, role, password: TEST_PASSWORD });
      const agent = supertest.agent(app);
      const form = await agent.get('/login').expect(200);
      await agent.post('/login').type('form').send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(form.text) }).expect(303);
      const page = await agent.get('/agent').expect(200);
      return { agent, user, csrf: csrfFrom(page.text) };
    },
    async mailIdle() {
      services.mail.worker.kick();
      await services.mail.worker.idle();
    },
    async intakeIdle() {
      services.intake.processor.kick();
      await services.intake.processor.idle();
    },
    async startSmtp() {
      if (smtpPort !== undefined) return smtpPort;
      smtp = createSmtpListener({ config, store: services.intake.store, onStored: () => services.intake.processor.kick(), logger: services.logger });
      smtpPort = await smtp.listen(0, '127.0.0.1');
      return smtpPort;
    },
    async listen() {
      if (http) return baseUrlOf(http);
      http = createServer(app);
      await services.live.attach(http);
      await new Promise<void>((resolve, reject) => {
        http!.once('error', reject);
        http!.listen(0, '127.0.0.1', () => resolve());
      });
      return baseUrlOf(http);
    },
    async secondInstance(overrides = {}) {
      const second = url ? openPostgres(url, 10) : undefined;
      const cfg: Config = { ...config, ...overrides };
      const s2 = createServices({ config: cfg, db: second?.knex ?? database.knex, logger: createLogger(cfg) });
      const server = createServer(createApp(s2));
      await s2.live.attach(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      return {
        services: s2,
        baseUrl: baseUrlOf(server),
        async close() {
          await s2.live.close();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          await second?.close();
        },
      };
    },
    async close() {
      await services.live.close();
      if (http) {
        const server = http;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      await smtp?.close();
      await services.intake.processor.stop();
      await services.mail.worker.stop();
      services.mail.transport.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testApp;
}

const baseUrlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** A valid case as the API takes it; override what the test is about. */
export function newCase(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Sara Öberg',
    email: `sara.${randomBytes(4).toString('hex')}@example.com`,
    category: 'bygglov',
    subject: 'Attefallshus',
    message: 'Behöver jag bygglov för ett attefallshus på 25 kvm?',
    ...overrides,
  };
}

/** Row counts of the tables a case touches, to prove that a refused request wrote nothing. */
const COUNTED = ['cases', 'case_events', 'messages', 'attachments', 'residents', 'mail_outbox'] as const;

export async function rowCounts(db: Knex): Promise<Record<(typeof COUNTED)[number], number>> {
  const out = {} as Record<(typeof COUNTED)[number], number>;
  for (const table of COUNTED) {
    const row = await db(table).count<{ count: string | number }[]>('* as count').first();
    out[table] = Number(row?.count ?? 0);
  }
  return out;
}
