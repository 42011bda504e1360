import type { Knex } from 'knex';

/**
 * Runs a script of SQL statements one at a time. PGlite's knex client sends
 * each query as a prepared statement, which takes a single command. Statements
 * are split at a semicolon that ends a line, so keep semicolons inside string
 * literals off line ends.
 */
export async function runStatements(knex: Knex, script: string): Promise<void> {
  for (const statement of script.split(/;\s*\n/)) {
    if (statement.replace(/--[^\n]*/g, '').trim()) await knex.raw(statement);
  }
}
