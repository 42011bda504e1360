import { parseArgs } from 'node:util';
import { TOKEN_SCOPES, type TokenScope } from './auth/roles.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { seedReferenceData } from './demo/seed.js';
import { openDatabase, openPostgres } from './platform/db.js';
import { AppError, ValidationError } from './platform/errors.js';
import { createLogger } from './platform/logger.js';
import { migrateLatest, migrateRollback } from './platform/migrate.js';
import { createServices } from './services.js';
import { BACKFILL_BATCH_DEFAULT, BACKFILL_BATCH_MAX, backfillCaseMetrics } from './stats/metrics-backfill.js';
import { createCaseMetricsStore } from './stats/metrics-store.js';
import { describeHistory, parseHistoryOptions, seedHistory } from './stats/history-seed.js';
import { describeSummary, simulateDay, type Answerer } from './telephony/simulator.js';
import { createCallStore } from './telephony/store.js';
import { retentionCommands } from './retention/cli.js';
import { privacyCommands } from './privacy/cli.js';
import type { CliCommand, CliValues } from './platform/cli-command.js';


const list = (v: string | boolean | undefined) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : []);

/** Who answers simulated calls: as given, else the agents of a PostgreSQL database (the embedded one is the server's alone). */
async function answerers(v: CliValues, config: Config): Promise<Answerer[]> {
  const given = [...list(v.extensions).map((extension) => ({ extension })), ...list(v.agents).map((email) => ({ email }))];
  if (given.length || !config.databaseUrl) return given;
  const database = openPostgres(config.databaseUrl, 1);
  try {
    return await createCallStore(database.knex).answeringAgents();
  } finally {
    await database.close();
  }
}

const COMMANDS: Record<string, CliCommand> = {
  migrate: {
    usage: 'migrate                      apply pending migrations',
    options: {},
    async run(s) {
      const applied = await migrateLatest(s.db);
      await seedReferenceData(s);
      return applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date';
    },
  },
  'migrate:rollback': {
    usage: 'migrate:rollback [--all]     undo the last batch of migrations (or all)',
    options: { all: { type: 'boolean' } },
    async run(s, v) {
      const undone = await migrateRollback(s.db, Boolean(v.all));
      return undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back';
    },
  },
  'user:create': {
    usage:
      'user:create --email E --role agent|editor|manager|admin --password P [--name N] [--sees-protected]\n' +
      '                               --sees-protected: may see residents with protected identity (admins too need it)',
    options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, 'sees-protected': { type: 'boolean' } },
    async run(s, v) {
      await migrateLatest(s.db);
      const email = String(v.email ?? '');
      const user = await s.auth.createUser({ email, role: v.role, password: v.password, name: v.name ?? email.split('@')[0] ?? email });
      if (v['sees-protected'] === true) await s.protectedIdentity.setPermission(user.id, 'true');
      return `created ${user.role} ${user.email} (id ${user.id})${v['sees-protected'] === true ? ', sees protected identities' : ''}`;
    },
  },
  'token:create': {
    usage:
      'token:create --email E [--name N] [--scope full|wallboard]\n' +
      '                               prints the new API token alone on its last line; a wallboard token only reads the live board (open /tavla?nyckel=TOKEN on the TV)',
    options: { email: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string' } },
    check(v) {
      if (typeof v.email !== 'string' || !v.email) throw new ValidationError([{ field: 'email', code: 'errors.required', message: '--email is required' }]);
      if (v.scope !== undefined && !(TOKEN_SCOPES as readonly unknown[]).includes(v.scope)) {
        throw new ValidationError([{ field: 'scope', code: 'errors.invalid_choice', message: `one of ${TOKEN_SCOPES.join(', ')}; got "${String(v.scope)}"` }]);
      }
    },
    async run(s, v) {
      const email = String(v.email);
      const scope = (v.scope ?? 'full') as TokenScope;
      await migrateLatest(s.db);
      const token = await s.auth.createApiToken(email, typeof v.name === 'string' ? v.name : scope === 'wallboard' ? 'wallboard' : 'cli', scope);
      const what = scope === 'wallboard' ? 'Wallboard token (reads the live board only)' : 'API token';
      return `${what} for ${email} (shown once; keep it secret):\n${token}`;
    },
  },
  'token:list': {
    usage: 'token:list --email E          the API tokens of that user: id, scope, name, when made, last used and revoked (never the secret)',
    options: { email: { type: 'string' } },
    check(v) {
      if (typeof v.email !== 'string' || !v.email) throw new ValidationError([{ field: 'email', code: 'errors.required', message: '--email is required' }]);
    },
    async run(s, v) {
      await migrateLatest(s.db);
      const tokens = await s.auth.listApiTokens(String(v.email));
      if (!tokens.length) return `No API tokens for ${String(v.email)}.`;
      const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '-');
      return tokens.map((t) => `${t.id}\t${t.scope}\t${t.revoked_at ? `revoked ${iso(t.revoked_at)}` : 'active'}\tmade ${iso(t.created_at)}\tlast used ${iso(t.last_used_at)}\t${t.name}`).join('\n');
    },
  },
  'token:revoke': {
    usage: 'token:revoke --id N          revoke one API token at once (see token:list); a wallboard using it is disconnected',
    options: { id: { type: 'string' } },
    check(v) {
      if (typeof v.id !== 'string' || !/^[1-9]\d{0,9}$/.test(v.id)) throw new ValidationError([{ field: 'id', code: 'errors.invalid', message: `--id must be a token's number (see token:list); got "${String(v.id ?? '')}"` }]);
    },
    async run(s, v) {
      await migrateLatest(s.db);
      await s.auth.revokeApiToken(Number(v.id));
      return `API token ${String(v.id)} revoked.`;
    },
  },
  'stats:backfill': {
    usage:
      `stats:backfill [--batch ${BACKFILL_BATCH_DEFAULT}]\n` +
      "                               compute every case's working-time metrics, in batches by id (safe to rerun; rerun after STATS_OFFICE_HOURS changes)",
    options: { batch: { type: 'string' } },
    async run(s, v) {
      const batch = v.batch === undefined ? BACKFILL_BATCH_DEFAULT : /^\d+$/.test(String(v.batch)) ? Number(v.batch) : NaN;
      if (!Number.isInteger(batch) || batch < 1 || batch > BACKFILL_BATCH_MAX) {
        throw new ValidationError([{ field: 'batch', code: 'errors.invalid', message: `a whole number of cases per batch, 1 to ${BACKFILL_BATCH_MAX}; got "${String(v.batch)}"` }]);
      }
      await migrateLatest(s.db);
      const r = await backfillCaseMetrics({ store: createCaseMetricsStore(s.db), workingTime: s.workingTime }, { batchSize: batch });
      return `case metrics: ${r.read} cases read, ${r.updated} updated`;
    },
  },
  'seed:history': {
    usage:
      'seed:history --cases N [--days 365] [--seed S] [--until 2026-11-30T16:00:00Z] [--skip-metrics]\n' +
      '                               add a realistic history of N cases (1 to 5000000) ending now (or --until), for trials and benchmarks,\n' +
      '                               and compute the working-time metrics the statistics read (--skip-metrics: leave that to stats:backfill)',
    options: { cases: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' }, until: { type: 'string' }, 'skip-metrics': { type: 'boolean' } },
    check: parseHistoryOptions,
    async run(s, v) {
      const options = parseHistoryOptions(v);
      await migrateLatest(s.db);
      await seedReferenceData(s);
      const summary = await seedHistory(
        {
          db: s.db,
          hours: s.hours,
          timeZone: s.config.calendar.timeZone,
          callbacks: s.config.callbacks,
          progress: (p) => process.stderr.write(`seed:history: ${p.cases} of ${p.of} cases (${Math.floor((100 * p.cases) / p.of)} %), ${p.seconds.toFixed(1)} s\n`),
        },
        options,
      );
      if (v['skip-metrics'] || !summary.metricColumns) return describeHistory(summary);
      const started = performance.now();
      const metrics = await backfillCaseMetrics(
        { store: createCaseMetricsStore(s.db), workingTime: s.workingTime },
        { batchSize: 5000, onBatch: (p) => process.stderr.write(`seed:history: working-time metrics of ${p.read} cases, ${((performance.now() - started) / 1000).toFixed(1)} s\n`) },
      );
      return `${describeHistory(summary, { metricsFilled: true })}\nWorking-time metrics computed: ${metrics.read} cases read, ${metrics.updated} updated, in ${((performance.now() - started) / 1000).toFixed(1)} s.`;
    },
  },
  'telephony:simulate': {
    usage:
      'telephony:simulate --url U [--secret S] [--calls 300] [--speed 60] [--seed 1] [--extensions 101,102] [--agents a@x,b@y]\n' +
      '                               play a day of signed call events against a running service (secret: TELEPHONY_SECRET)',
    options: {
      url: { type: 'string' },
      secret: { type: 'string' },
      calls: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      extensions: { type: 'string' },
      agents: { type: 'string' },
    },
    async client(v, config) {
      if (typeof v.url !== 'string') throw new ValidationError([{ field: 'url', code: 'errors.required', message: 'the address of the running service is required, such as http://localhost:3000' }]);
      const agents = await answerers(v, config);
      if (!agents.length) console.log('No agents known (give --extensions or --agents): answered calls will name nobody.');
      const summary = await simulateDay({
        url: v.url,
        secret: typeof v.secret === 'string' ? v.secret : (config.telephony.secret ?? ''),
        calls: typeof v.calls === 'string' ? v.calls : 300,
        speed: typeof v.speed === 'string' ? v.speed : 60,
        seed: typeof v.seed === 'string' ? v.seed : 1,
        agents,
        log: (line) => console.log(line),
      });
      return describeSummary(summary);
    },
  },
  ...retentionCommands,
  ...privacyCommands,
};

function usage(): string {
  return ['Usage: npm run cli -- <command> [options]', '', 'Commands:', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    console.error(`${(err as Error).message}\nUsage: ${command.usage}`);
    return 2;
  }
  if (command.check) {
    const checked = await outcome(async () => void command.check!(values));
    if (checked !== 0) return checked;
  }
  const config = loadConfig(process.env, process.env.LOG_LEVEL ? {} : { logLevel: 'warn' });
  if (command.client) return outcome(() => command.client!(values, config));
  const database = await openDatabase(config);
  const services = createServices({ config, db: database.knex, logger: createLogger(config) });
  try {
    return await outcome(() => command.run!(services, values));
  } finally {
    services.mail.transport.close();
    await database.close();
  }
}

/** Prints what the command answers; bad input exits 2, a refused operation 1. */
async function outcome(run: () => Promise<string | void>): Promise<number> {
  try {
    const out = await run();
    if (out) console.log(out);
    return 0;
  } catch (err) {
    if (err instanceof ValidationError) {
      console.error(`Invalid input:\n${err.fields.map((f) => `  --${f.field}: ${f.message}`).join('\n')}`);
      return 2;
    }
    if (err instanceof AppError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
