import type { LiveConnection } from './connection.js';
import { byId, fromHtml } from './dom.js';

/** Cards kept in the panel: the call in hand and the few before it. */
const MAX_CARDS = 3;

/**
 * The dashboard's caller panel: when the telephony platform reports that
 * this agent answered a call, the server pushes a card with the caller's
 * earlier cases and callbacks (rendered from views/partials/caller-card.hbs,
 * for this agent only). The newest card goes first, into a polite live
 * region, so a screen reader reads it out without taking focus from
 * whatever the agent is doing.
 */
export class CallerPanel {
  private readonly section = byId('caller-panel');
  private readonly cards = byId('caller-cards');
  private readonly empty = byId('caller-panel-empty');

  constructor(live: LiveConnection) {
    if (!this.section || !this.cards) return;
    this.section.hidden = false;
    live.socket.on('caller', (c) => this.show(c));
  }

  show(c: { callId: string; html: string }): void {
    if (!this.cards || typeof c?.html !== 'string' || typeof c.callId !== 'string') return;
    const card = fromHtml(c.html).firstElementChild;
    if (!(card instanceof HTMLElement)) return;
    // The same call again (answered on a second page, say): the newer card replaces the older.
    for (const old of this.cards.querySelectorAll<HTMLElement>('[data-call-id]')) if (old.dataset.callId === c.callId) old.remove();
    this.cards.prepend(card);
    while (this.cards.childElementCount > MAX_CARDS) this.cards.lastElementChild?.remove();
    if (this.empty) this.empty.hidden = true;
  }
}
