import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import knexPkg, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Config } from '../config.js';

// bigint (int8) and numeric come back as strings by default; case ids and
// event ids fit comfortably in a JS number for the life of this system.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolMax'>): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, config.dbPoolMax);
  const dir = path.join(config.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
  return wrapPglite(pglite);
}

export function openPostgres(url: string, poolMax = 16): Database {
  const knex = knexPkg.knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: poolMax },
  });
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}

/** Wraps an already opened PGlite (the tests clone one from a template). */
export function wrapPglite(pglite: PGlite): Database {
  const knex = knexPkg.knex({
    client: ClientPgLite as unknown as typeof knexPkg.Client,
    dialect: 'postgres',
    // knex-pglite accepts an instance through a connection function.
    connection: (() => ({ pglite })) as unknown as Knex.StaticConnectionConfig,
  });
  return {
    knex,
    kind: 'embedded',
    close: async () => {
      await knex.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export async function createEmbeddedInstance(loadDataDir?: Blob): Promise<PGlite> {
  return PGlite.create({ extensions: { pg_trgm }, ...(loadDataDir ? { loadDataDir } : {}) });
}

export async function isHealthy(knex: Knex): Promise<boolean> {
  try {
    await knex.raw('select 1');
    return true;
  } catch {
    return false;
  }
}
