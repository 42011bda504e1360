import { ConflictError } from '../platform/errors.js';

export const STATUSES = ['new', 'open', 'waiting', 'forwarded', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof STATUSES)[number];

/** Statuses that count as "in the queue": not yet resolved. */
export const ACTIVE_STATUSES: readonly CaseStatus[] = ['new', 'open', 'waiting', 'forwarded'];

export const CHANNELS = ['web', 'email', 'phone', 'visit', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * new → open → waiting (on the resident) or forwarded (to a department) →
 * resolved → closed. Resolved cases can be reopened; closed ones cannot.
 */
const TRANSITIONS: Record<CaseStatus, readonly CaseStatus[]> = {
  new: ['open', 'waiting', 'forwarded', 'resolved'],
  open: ['waiting', 'forwarded', 'resolved'],
  waiting: ['open', 'forwarded', 'resolved'],
  forwarded: ['open', 'waiting', 'resolved'],
  resolved: ['open', 'closed'],
  closed: [],
};

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: CaseStatus): readonly CaseStatus[] {
  return TRANSITIONS[from];
}

export class InvalidTransitionError extends ConflictError {
  constructor(
    readonly from: CaseStatus,
    readonly to: CaseStatus,
  ) {
    super(
      from === to
        ? `The case is already ${to}`
        : `A case that is ${from} cannot become ${to}; allowed: ${TRANSITIONS[from].join(', ') || 'none (the case is closed)'}`,
      'invalid_transition',
    );
  }
}

export function assertTransition(from: CaseStatus, to: CaseStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}

export class ConflictErrorForClosed extends ConflictError {
  constructor() {
    super('The case is closed and cannot be changed', 'case_closed');
  }
}

/** What a resident's new message does to the status: it reopens a case that waits on them or was resolved. */
export function statusAfterResidentMessage(current: CaseStatus): CaseStatus {
  if (current === 'closed') throw new ConflictError('The case is closed; please start a new case', 'case_closed');
  return current === 'waiting' || current === 'resolved' ? 'open' : current;
}

