import { byId } from './dom.js';

const MAX_NOTICES = 20;
const MAX_ANNOUNCEMENTS = 3;

/**
 * What the live workspace tells the agent: a visible list, a polite live
 * region for screen readers, and an unread count in the page title while the
 * window is not in front. All of it is text; nothing relies on colour.
 */
export class Notices {
  private readonly announcer = byId('live-announcer');
  private readonly section = byId('live-notices');
  private readonly list = byId<HTMLOListElement>('notices-list');
  private readonly empty = byId('notices-empty');
  private readonly baseTitle = document.title;
  private unread = 0;

  constructor() {
    if (this.section) this.section.hidden = false;
    window.addEventListener('focus', () => this.markRead());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && document.hasFocus()) this.markRead();
    });
  }

  /** Read out politely, without a visible trace (for changes the page itself shows). */
  announce(text: string): void {
    if (!this.announcer) return;
    // A new node each time, so the same text twice is read twice.
    const p = document.createElement('p');
    p.textContent = text;
    this.announcer.append(p);
    while (this.announcer.childElementCount > MAX_ANNOUNCEMENTS) this.announcer.firstElementChild?.remove();
  }

  /** A notification: listed (newest first, linking the case), announced, and counted in the title. */
  notify(text: string, reference?: string): void {
    if (this.list) {
      const li = document.createElement('li');
      if (reference) {
        const a = document.createElement('a');
        a.href = `/agent/cases/${encodeURIComponent(reference)}`;
        a.textContent = text;
        li.append(a);
      } else {
        li.textContent = text;
      }
      const now = new Date();
      const time = document.createElement('time');
      time.dateTime = now.toISOString();
      time.textContent = now.toLocaleTimeString(document.documentElement.lang || 'sv', { hour: '2-digit', minute: '2-digit' });
      li.append(' · ', time);
      this.list.prepend(li);
      while (this.list.childElementCount > MAX_NOTICES) this.list.lastElementChild?.remove();
      if (this.empty) this.empty.hidden = true;
    }
    this.announce(text);
    // An agent looking at the page sees the list; the title count is for a window in the background.
    if (document.visibilityState === 'hidden' || !document.hasFocus()) {
      this.unread += 1;
      document.title = `(${this.unread}) ${this.baseTitle}`;
    }
  }

  private markRead(): void {
    if (!this.unread) return;
    this.unread = 0;
    document.title = this.baseTitle;
  }
}
