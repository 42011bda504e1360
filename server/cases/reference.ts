const yearFormat = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric' });

export function formatReference(number: number, at = new Date()): string {
  return `SC-${yearFormat.format(at)}-${String(number).padStart(6, '0')}`;
}

/**
 * Case numbers come from a PostgreSQL sequence, taken a block at a time so a
 * busy intake does not pay a round trip per case. Numbers are unique and
 * rising per instance; a restart may leave a gap, which is harmless.
 */
export function createReferenceAllocator(take: (count: number) => Promise<number[]>, blockSize = 20) {
  let pool: number[] = [];
  let refill: Promise<void> | undefined;

  async function fill(): Promise<void> {
    pool.push(...(await take(blockSize)));
  }

  return {
    async next(): Promise<string> {
      while (!pool.length) {
        refill ??= fill().finally(() => {
          refill = undefined;
        });
        await refill;
      }
      return formatReference(pool.shift()!);
    },
  };
}

export type ReferenceAllocator = ReturnType<typeof createReferenceAllocator>;
