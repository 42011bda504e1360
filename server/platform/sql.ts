import { createHash } from 'node:crypto';
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

interface PgConnection {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs a hot statement as a named prepared statement on PostgreSQL, so the
 * server parses and plans it once per connection instead of per request.
 * Works inside a knex transaction (its client hands out the transaction's
 * connection). The embedded database goes through knex as usual: knex-pglite
 * already prepares every query it sends.
 */
export async function preparedQuery<R>(conn: Knex, sql: string, bindings: Knex.RawBinding[]): Promise<R[]> {
  const client = conn.client as Knex.Client & { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };
  if (typeof client.config.client !== 'string') {
    const { rows } = await conn.raw<{ rows: R[] }>(sql, bindings);
    return rows;
  }
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const name = `sc_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  // Announced like any knex query, so query logging and counting still see it.
  client.emit('query', { sql: text, bindings, method: 'raw', __knexQueryUid: name });
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name, text, values: bindings })).rows as R[];
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Claims up to `limit` due rows of a work queue table (one with status and
 * next_attempt_at) for `leaseMs`: a short transaction moves their next attempt
 * past the lease, so no other worker or instance takes them meanwhile, and
 * commits before the work starts. The work happens outside any transaction (a
 * slow relay or parser must not hold a connection; the embedded database has
 * only one). A worker that dies mid-way leaves its rows to be retried when
 * the lease runs out.
 */
export async function claimDue<R extends { id: number }>(db: Knex, table: string, waitingStatus: string, limit: number, leaseMs: number): Promise<R[]> {
  return db.transaction(async (trx) => {
    const rows = (await trx(table)
      .where('status', waitingStatus)
      .andWhere('next_attempt_at', '<=', trx.fn.now())
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()) as R[];
    if (rows.length) {
      await trx(table)
        .whereIn('id', rows.map((r) => r.id))
        .update({ next_attempt_at: new Date(Date.now() + leaseMs) });
    }
    return rows;
  });
}
