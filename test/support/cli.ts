import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { openDatabase } from '../../server/platform/db.js';
import { createLogger } from '../../server/platform/logger.js';
import { createServices, type Services } from '../../server/services.js';

/** How `npm run cli -- …` ended: its exit code and what it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The environment of a CLI child process in a test: quiet, and on the test's
 * PostgreSQL database when there is one (with a session secret, which
 * PostgreSQL needs), else on an embedded database in `dataDir`.
 */
export function cliEnv(o: { dataDir?: string; databaseUrl?: string | undefined; extra?: Record<string, string> } = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...(o.dataDir ? { DATA_DIR: o.dataDir } : {}),
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl, SESSION_SECRET: randomBytes(32).toString('hex') } : {}),
    ...o.extra,
  };
}

/** Runs server/cli.ts with these arguments as its own process, as `npm run cli --` would. */
export function runCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A run, for an assertion's message. */
export const showRun = (r: CliRun) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/**
 * Runs `fn` with services (and an app) on a CLI's embedded data directory,
 * to look at what the CLI wrote. Only while no CLI process runs: the
 * embedded database is one process's at a time.
 */
export async function withEmbedded<T>(dataDir: string, fn: (s: Services, app: ReturnType<typeof createApp>) => Promise<T>): Promise<T> {
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const database = await openDatabase(config);
  const services = createServices({ config, db: database.knex, logger: createLogger(config) });
  try {
    return await fn(services, createApp(services));
  } finally {
    services.mail.transport.close();
    await database.close();
  }
}
