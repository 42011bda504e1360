import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../server/config.js';
import { seedReferenceData } from '../../server/demo/seed.js';
import { createEmbeddedInstance, openPostgres, wrapPglite, type Database } from '../../server/platform/db.js';
import { createLogger } from '../../server/platform/logger.js';
import { migrateLatest } from '../../server/platform/migrate.js';
import { createServices } from '../../server/services.js';

/**
 * Each test file gets its own database, cloned from a template that was
 * migrated and seeded once per run: on PostgreSQL with CREATE DATABASE …
 * TEMPLATE, on the embedded database by loading a dump of a migrated PGlite.
 * With DATABASE_URL set the tests run on that server, otherwise embedded.
 */
const adminUrl = process.env.DATABASE_URL;
export const databaseKind: 'postgres' | 'embedded' = adminUrl ? 'postgres' : 'embedded';

const prefix = `sc_t${process.pid}`;
const templateName = `${prefix}_tpl`;
let embeddedTemplate: Blob | undefined;
let admin: Database | undefined;
let counter = 0;
const created: string[] = [];

function urlFor(database: string): string {
  const u = new URL(adminUrl!);
  u.pathname = `/${database}`;
  return u.toString();
}

async function migrateAndSeed(knex: Knex): Promise<void> {
  await migrateLatest(knex);
  const config = loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_TIME_COST: '1' }, { sessionSecret: 'x'.repeat(8) + 'template-secret-0123456789abcdef', logLevel: 'silent', demo: false });
  const services = createServices({ config, db: knex, logger: createLogger(config) });
  await seedReferenceData(services);
  services.mail.transport.close();
}

export async function prepareTemplate(): Promise<void> {
  if (adminUrl) {
    admin = openPostgres(adminUrl, 2);
    await admin.knex.raw(`DROP DATABASE IF EXISTS ${templateName}`);
    await admin.knex.raw(`CREATE DATABASE ${templateName}`);
    const tpl = openPostgres(urlFor(templateName), 2);
    try {
      await migrateAndSeed(tpl.knex);
    } finally {
      await tpl.close();
    }
    return;
  }
  const pglite = await createEmbeddedInstance();
  const db = wrapPglite(pglite);
  await migrateAndSeed(db.knex);
  embeddedTemplate = await pglite.dumpDataDir('none');
  await db.close();
}

/** A fresh database for one test file, with the schema and the seeded topics. */
export async function freshDatabase(): Promise<{ database: Database; url: string | undefined }> {
  if (adminUrl) {
    if (!admin) throw new Error('prepareTemplate() has not run (test/support/root-hooks.ts)');
    const name = `${prefix}_${++counter}`;
    await admin.knex.raw(`CREATE DATABASE ${name} TEMPLATE ${templateName}`);
    created.push(name);
    const url = urlFor(name);
    return { database: openPostgres(url, 10), url };
  }
  if (!embeddedTemplate) throw new Error('prepareTemplate() has not run (test/support/root-hooks.ts)');
  return { database: wrapPglite(await createEmbeddedInstance(embeddedTemplate)), url: undefined };
}

/** On PostgreSQL: a new database with nothing in it, as a first start sees (URL), or undefined when embedded. */
export async function emptyPostgresDatabase(): Promise<string | undefined> {
  if (!adminUrl) return undefined;
  if (!admin) throw new Error('prepareTemplate() has not run (test/support/root-hooks.ts)');
  const name = `${prefix}_${++counter}`;
  await admin.knex.raw(`CREATE DATABASE ${name}`);
  created.push(name);
  return urlFor(name);
}

export async function dropAll(): Promise<void> {
  if (!admin) return;
  for (const name of [...created, templateName]) {
    await admin.knex.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  await admin.close();
  admin = undefined;
}

export type { Config };
