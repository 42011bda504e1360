import { strict as assert } from 'node:assert';
import {
  allowedTransitions,
  assertTransition,
  canTransition,
  InvalidTransitionError,
  STATUSES,
  statusAfterResidentMessage,
  type CaseStatus,
} from '../../server/cases/lifecycle.js';
import { formatReference } from '../../server/cases/reference.js';

describe('case lifecycle', () => {
  const allowed: Record<CaseStatus, CaseStatus[]> = {
    new: ['open', 'waiting', 'forwarded', 'resolved'],
    open: ['waiting', 'forwarded', 'resolved'],
    waiting: ['open', 'forwarded', 'resolved'],
    forwarded: ['open', 'waiting', 'resolved'],
    resolved: ['open', 'closed'],
    closed: [],
  };

  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const ok = allowed[from].includes(to);
      it(`${from} → ${to}: ${ok ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), ok);
        if (ok) assertTransition(from, to);
        else assert.throws(() => assertTransition(from, to), (e: unknown) => e instanceof InvalidTransitionError && e.status === 409);
      });
    }
  }

  it('lists the allowed next statuses', () => {
    assert.deepEqual([...allowedTransitions('resolved')], ['open', 'closed']);
    assert.deepEqual([...allowedTransitions('closed')], []);
  });

  it("a resident's message reopens a case that waits on them or was resolved, and is refused on a closed case", () => {
    assert.equal(statusAfterResidentMessage('waiting'), 'open');
    assert.equal(statusAfterResidentMessage('resolved'), 'open');
    assert.equal(statusAfterResidentMessage('new'), 'new');
    assert.equal(statusAfterResidentMessage('forwarded'), 'forwarded');
    assert.throws(() => statusAfterResidentMessage('closed'), { code: 'case_closed' });
  });

  it('formats references with the Stockholm year', () => {
    assert.equal(formatReference(123, new Date('2026-06-01T12:00:00Z')), 'SC-2026-000123');
    // 23:30 UTC on New Year's Eve is already the new year in Stockholm.
    assert.equal(formatReference(7, new Date('2026-12-31T23:30:00Z')), 'SC-2027-000007');
    assert.equal(formatReference(1234567, new Date('2026-06-01T12:00:00Z')), 'SC-2026-1234567');
  });
});
