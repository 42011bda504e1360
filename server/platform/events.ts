import { EventEmitter } from 'node:events';

export interface CommittedCaseEvent {
  id: number;
  caseId: number;
  reference: string;
  type: string;
  actorType: 'resident' | 'user' | 'system';
  actorId: number | null;
  internal: boolean;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * In-process fan-out of case events after their transaction has committed.
 * Listeners (mail worker, and later the live workspace) do the side effects;
 * nothing is published for a transaction that rolled back.
 */
export class CaseEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(50);
  }

  publish(events: CommittedCaseEvent[]): void {
    for (const e of events) this.emitter.emit('event', e);
  }

  /** Mail was queued by a committed transaction: wake the outbox worker. */
  mailQueued(): void {
    this.emitter.emit('mail');
  }

  onMailQueued(listener: () => void): () => void {
    this.emitter.on('mail', listener);
    return () => this.emitter.off('mail', listener);
  }

  subscribe(listener: (e: CommittedCaseEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
