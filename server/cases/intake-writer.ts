import type { Knex } from 'knex';
import type { CaseStore, InsertedCase, NewCaseRow } from './store.js';

interface Pending {
  row: NewCaseRow;
  resolve(r: InsertedCase): void;
  reject(e: unknown): void;
}

const emailKey = (row: NewCaseRow) => ('id' in row.resident ? undefined : row.resident.email.toLowerCase());

/**
 * Writes new cases in small batches. A case that arrives while the database is
 * busy with earlier ones waits for the next statement and goes in with the
 * others that arrived meanwhile; each caller gets its answer only after the
 * statement holding its case has committed. A lone case goes out at once,
 * so a quiet service pays no delay. If a batch fails, its cases are retried
 * one by one, so one bad case cannot sink its neighbours.
 */
export function createIntakeWriter(deps: { db: Knex; cases: Pick<CaseStore, 'insertNewCases'>; maxBatch?: number; maxInFlight?: number }) {
  const { db, cases } = deps;
  const maxBatch = deps.maxBatch ?? 100;
  const maxInFlight = deps.maxInFlight ?? 4;
  const queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || inFlight >= maxInFlight || !queue.length) return;
    scheduled = true;
    // Let the requests that arrived in this same turn join the batch.
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  /** The next batch: in arrival order, at most one case per e-mail address. */
  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const emails = new Set<string>();
    for (let i = 0; i < queue.length && batch.length < maxBatch; ) {
      const key = emailKey(queue[i]!.row);
      if (key && emails.has(key)) {
        i++;
        continue;
      }
      if (key) emails.add(key);
      batch.push(queue.splice(i, 1)[0]!);
    }
    return batch;
  }

  async function flush(): Promise<void> {
    const batch = takeBatch();
    if (!batch.length) return;
    inFlight++;
    try {
      await write(batch);
    } finally {
      inFlight--;
      schedule();
    }
  }

  async function write(batch: Pending[]): Promise<void> {
    try {
      const rows = await cases.insertNewCases(db, batch.map((p) => p.row));
      const byReference = new Map(rows.map((r) => [r.reference, r]));
      for (const p of batch) {
        const row = byReference.get(p.row.reference);
        if (row) p.resolve(row);
        else p.reject(new Error(`case ${p.row.reference} was not written`));
      }
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const p of batch) await write([p]);
    }
  }

  return {
    write(row: NewCaseRow): Promise<InsertedCase> {
      return new Promise<InsertedCase>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        schedule();
      });
    },
  };
}

export type IntakeWriter = ReturnType<typeof createIntakeWriter>;
