import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Knex's file loader guesses between require and import; the migrations are
 * TypeScript modules, so we list and import them ourselves.
 */
class TypeScriptMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(name: string): string {
    return name.replace(/\.(ts|js)$/, '');
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const mod = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name)).href)) as MigrationModule;
    return { up: mod.up, down: mod.down };
  }
}

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource: new TypeScriptMigrationSource() })) as [number, string[]];
  return applied;
}

export async function migrateRollback(knex: Knex, all = false): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback({ migrationSource: new TypeScriptMigrationSource() }, all)) as [number, string[]];
  return undone;
}

/** Migrations not applied yet, read without writing anything (a dry run must not migrate). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list({ migrationSource: new TypeScriptMigrationSource() })) as [unknown[], { file?: string; name?: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : (p.file ?? p.name ?? String(p))));
}
