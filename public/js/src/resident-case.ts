import type { LiveMessage } from '../../../server/live/protocol.js';
import { byId, fromHtml, replaceContentKeepingFocus } from './dom.js';
import type { Notices } from './notices.js';

/** A resident's case page: new messages and the status follow the case. */
export class ResidentCaseView {
  private readonly conversation = byId<HTMLOListElement>('conversation-list');
  private readonly status = byId('case-status');

  constructor(
    private readonly root: HTMLElement,
    private readonly notices: Notices,
  ) {}

  onMessage(m: LiveMessage): void {
    if (m.scope !== 'resident') return;
    let changed = false;
    if (m.entry && this.conversation) {
      const li = fromHtml(m.entry).querySelector('li');
      const event = li?.dataset.event;
      const known = event ? this.conversation.querySelector(`li[data-event="${CSS.escape(event)}"]`) : null;
      if (li && !known) {
        this.conversation.append(li);
        changed = true;
      }
    }
    if (m.statusHtml !== null && this.status) {
      replaceContentKeepingFocus(this.status, m.statusHtml);
      changed = true;
    }
    if (changed && this.root.dataset.textUpdated) this.notices.announce(this.root.dataset.textUpdated);
  }
}
