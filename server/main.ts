import { createServer, type Server } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { seedDemo, seedReferenceData } from './demo/seed.js';
import { openDatabase } from './platform/db.js';
import { createImapWatcher } from './intake/imap-watcher.js';
import { createSmtpListener } from './intake/smtp-listener.js';
import { createLogger } from './platform/logger.js';
import { migrateLatest } from './platform/migrate.js';
import { createServices } from './services.js';

/** Boot only: config → database → migrations → seed → HTTP and workers; a clean stop on SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config);
  const database = await openDatabase(config);
  logger.info({ database: database.kind }, config.databaseUrl ? 'connected to PostgreSQL' : `embedded PostgreSQL (PGlite) in ${config.dataDir}/pglite`);
  const applied = await migrateLatest(database.knex);
  if (applied.length) logger.info({ applied }, 'migrations applied');

  const services = createServices({ config, db: database.knex, logger });
  if (await seedReferenceData(services)) logger.info('seeded reference data (departments, topics, FAQ articles)');
  let demo: Awaited<ReturnType<typeof seedDemo>> | undefined;
  if (config.demo) demo = await seedDemo(services);

  const app = createApp(services);
  services.mail.worker.start();
  services.intake.processor.start();
  services.searchIndexer.start();
  const smtp = createSmtpListener({ config, store: services.intake.store, onStored: () => services.intake.processor.kick(), logger });
  const smtpPort = await smtp.listen();
  const imap = config.intake.imapUrl
    ? createImapWatcher({ config, store: services.intake.store, onStored: () => services.intake.processor.kick(), logger })
    : undefined;
  await imap?.start();
  logger.info({ port: smtpPort, addresses: config.intake.addresses, starttls: Boolean(config.intake.tls) }, 'SMTP intake listening');
  // Expired and idle sessions are removed hourly; they stop working the moment they expire anyway.
  const pruning = setInterval(() => {
    services.auth.pruneSessions().catch((err: unknown) => logger.warn({ err }, 'could not prune sessions'));
  }, 3_600_000);
  pruning.unref();
  // Retention (gallring) once a day at RETENTION_RUN_AT; instances sharing the database claim the day, so one of them runs it.
  if (config.retention.enabled) services.retentionJob.start();
  const server: Server = createServer(app);
  await services.live.attach(server);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  const lines = [
    `Servicecenter is running at ${config.publicUrl}`,
    `  residents: ${config.publicUrl}/`,
    `  staff:     ${config.publicUrl}/login`,
    `  mail in:   SMTP on port ${smtpPort} for ${config.intake.addresses.join(', ')}`,
    ...(imap ? [`  mail in:   IMAP ${config.intake.imapMailbox} (${config.intake.addresses[0]})`] : []),
  ];
  if (config.demo) {
    lines.push('  demo accounts: agent@borlange.example, editor@borlange.example, manager@borlange.example, admin@borlange.example');
    if (demo?.seeded && demo.generated) lines.push(`  demo password (shown only this once): ${demo.password}`);
    else if (demo?.seeded) lines.push('  demo password: the value of DEMO_PASSWORD');
    else lines.push('  demo password: as shown at first start (or DEMO_PASSWORD then)');
    if (!config.mail.smtpUrl) lines.push(`  outgoing mail: ${config.publicUrl}/demo/outbox (files in ${config.mail.outboxDir})`);
  } else if ((await services.auth.countUsers()) === 0) {
    lines.push('  no users yet: create one with `npm run cli -- user:create --email you@example.org --role admin --password …`');
  }
  logger.info({ url: config.publicUrl, port: config.port }, 'listening');
  // The welcome is for a person at a terminal, so it is plain text, not a JSON log line.
  process.stdout.write(`\n${lines.join('\n')}\n\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, finishing requests in flight');
    const forced = setTimeout(() => {
      logger.error('in-flight work did not finish in 15 s; exiting');
      process.exit(1);
    }, 15_000);
    forced.unref();
    await Promise.all([
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
      services.live.close(),
      smtp.close(),
      imap?.stop() ?? Promise.resolve(),
    ]);
    await services.intake.processor.stop();
    clearInterval(pruning);
    await services.retentionJob.stop();
    await services.searchIndexer.stop();
    await services.mail.worker.stop();
    services.mail.transport.close();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
