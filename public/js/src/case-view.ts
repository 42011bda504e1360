import type { LiveMessage, Viewer } from '../../../server/live/protocol.js';
import type { LiveConnection } from './connection.js';
import { byId, fill, fromHtml, replaceContentKeepingFocus } from './dom.js';
import { FaqPanel } from './faq-panel.js';
import type { Notices } from './notices.js';

/** At most one "typing" per this interval, and "stopped" after this much quiet. */
const TYPING_EVERY_MS = 3_000;
const TYPING_IDLE_MS = 5_000;

/**
 * An agent's case page: the timeline and details follow the case, the
 * viewers panel shows colleagues on the same case and whether they are
 * writing, and this agent's writing is told to them.
 */
export class CaseView {
  private readonly reference: string;
  private readonly userId: number;
  private readonly timeline = byId<HTMLOListElement>('timeline-list');
  private readonly details = byId('case-details');
  private readonly replyBox = byId<HTMLTextAreaElement>('f-body');
  private readonly viewersPanel = byId('live-viewers');
  private readonly viewersList = byId<HTMLUListElement>('viewers-list');
  private readonly viewersNone = byId('viewers-none');
  private viewers = new Map<number, Viewer>();

  constructor(
    private readonly root: HTMLElement,
    private readonly live: LiveConnection,
    private readonly notices: Notices,
  ) {
    this.reference = root.dataset.reference ?? '';
    this.userId = Number(root.dataset.userId);
    if (this.viewersPanel) this.viewersPanel.hidden = false;
    live.socket.on('viewers', (v) => {
      if (v.reference === this.reference) this.showViewers(v.viewers);
    });
    this.reportTyping();
    const faq = byId('faq');
    if (faq) new FaqPanel(faq, this.replyBox);
  }

  onSubscribed(viewers: Viewer[] | undefined): void {
    if (viewers) this.showViewers(viewers);
  }

  onMessage(m: LiveMessage): void {
    if (m.scope !== 'case' || m.reference !== this.reference) return;
    const byColleague = m.actorId !== this.userId;
    let added: HTMLElement | null = null;
    if (m.entry && this.timeline) {
      const li = fromHtml(m.entry).querySelector('li');
      const id = li?.id || `event-${m.id}`;
      if (li && !document.getElementById(id)) {
        this.timeline.append(li);
        added = li;
      }
    }
    if (m.details !== null && this.details) replaceContentKeepingFocus(this.details, m.details);
    // The reply form says what the agent has seen, so the server refuses a reply that crosses a colleague's unseen one.
    const seen = byId<HTMLInputElement>('reply-seen');
    if (seen && m.id > Number(seen.value || 0)) seen.value = String(m.id);

    if (m.kind === 'reply' && byColleague && this.replyBox?.value.trim()) {
      const actor = (m.actorId !== null ? this.viewers.get(m.actorId)?.name : undefined) ?? this.root.dataset.textColleague ?? '';
      this.notices.notify(fill(this.root.dataset.textColleagueReplied ?? '', { actor, reference: m.reference }), m.reference);
    } else if (added && byColleague) {
      const what = added.querySelector('.meta')?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
      this.notices.announce(fill(this.root.dataset.textNewEntry ?? '{text}', { text: what }));
    }
  }

  private showViewers(all: Viewer[]): void {
    const others = all.filter((v) => v.userId !== this.userId);
    const panel = this.viewersPanel?.dataset ?? {};
    for (const v of others) {
      if (v.typing && !this.viewers.get(v.userId)?.typing) this.notices.announce(fill(panel.textTyping ?? '{name}', { name: v.name }));
    }
    this.viewers = new Map(others.map((v) => [v.userId, v]));
    if (!this.viewersList) return;
    this.viewersList.replaceChildren(
      ...others.map((v) => {
        const li = document.createElement('li');
        li.textContent = fill((v.typing ? panel.textTyping : panel.textViewing) ?? '{name}', { name: v.name });
        if (v.typing) li.className = 'typing';
        return li;
      }),
    );
    if (this.viewersNone) this.viewersNone.hidden = others.length > 0;
  }

  /** Tells colleagues this agent is writing a reply: throttled, and "stopped" when idle, on leaving the box or on sending. */
  private reportTyping(): void {
    const box = this.replyBox;
    if (!box) return;
    let lastStarted = -Infinity;
    let typing = false;
    let idle: number | undefined;
    const send = (value: boolean) => {
      if (!this.live.connected) return;
      this.live.socket.emit('typing', { case: this.reference, typing: value }, () => {});
    };
    const stop = () => {
      window.clearTimeout(idle);
      if (!typing) return;
      typing = false;
      send(false);
    };
    box.addEventListener('input', () => {
      const now = Date.now();
      if (now - lastStarted >= TYPING_EVERY_MS) {
        lastStarted = now;
        typing = true;
        send(true);
      }
      window.clearTimeout(idle);
      idle = window.setTimeout(stop, TYPING_IDLE_MS);
    });
    box.addEventListener('blur', stop);
    box.form?.addEventListener('submit', stop);
  }
}
