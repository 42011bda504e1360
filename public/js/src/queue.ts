import type { AgentPresence, LiveMessage, LiveRow, QueueCounts } from '../../../server/live/protocol.js';
import type { LiveConnection } from './connection.js';
import { byId, fill, firstElement, formatDateTime, minutesSince, replaceKeepingFocus } from './dom.js';
import type { Notices } from './notices.js';

/** The statuses the filter "active" shows (as the server's queue does). */
const ACTIVE_STATUSES = new Set(['new', 'open', 'waiting', 'forwarded']);
const TICK_MS = 20_000;

interface Filter {
  status: string;
  channel: string;
  category: string;
}

function matches(filter: Filter, row: Pick<LiveRow, 'status' | 'channel' | 'category'>): boolean {
  const statusOk = filter.status === 'all' || (filter.status === 'active' || filter.status === '' ? ACTIVE_STATUSES.has(row.status) : row.status === filter.status);
  return statusOk && (!filter.channel || row.channel === filter.channel) && (!filter.category || row.category === filter.category);
}

/** Cases already announced as waiting too long, kept for the tab's session so a reload does not repeat them. */
const WAITED_KEY = 'sc-live-waited';
const WAITED_KEEP = 200;

function loadAnnouncedWaits(): Set<string> {
  try {
    const list: unknown = JSON.parse(sessionStorage.getItem(WAITED_KEY) ?? '[]');
    return new Set(Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : []);
  } catch {
    return new Set();
  }
}

function saveAnnouncedWaits(refs: Set<string>): void {
  try {
    sessionStorage.setItem(WAITED_KEY, JSON.stringify([...refs].slice(-WAITED_KEEP)));
  } catch {
    // Storage may be full or off; then a reload may announce a case again.
  }
}

/** Queue order: received time, then id, both ascending. */
function compareRows(a: HTMLElement, b: HTMLElement): number {
  const byTime = Date.parse(a.dataset.queueAt ?? '') - Date.parse(b.dataset.queueAt ?? '');
  if (byTime) return byTime;
  return Number(a.dataset.id) - Number(b.dataset.id);
}

/**
 * The dashboard: queue rows placed, replaced or dropped as cases change, the
 * live counts, the waiting times ticking, the agent's own status and, for
 * managers, everyone's.
 */
export class QueueView {
  private readonly filter: Filter;
  private readonly hasNext: boolean;
  private readonly hasPrev: boolean;
  private readonly waitTarget: number;
  private readonly minutesText: string;
  private readonly waitedText: string;
  private readonly tbody = byId<HTMLTableSectionElement>('queue-rows');
  private readonly tableWrap = byId('queue-wrap');
  private readonly emptyLine = byId('queue-empty');
  private readonly announcedWaits = loadAnnouncedWaits();
  private oldest: QueueCounts['oldest'] = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly live: LiveConnection,
    private readonly notices: Notices,
  ) {
    const d = root.dataset;
    this.filter = { status: d.filterStatus ?? 'active', channel: d.filterChannel ?? '', category: d.filterCategory ?? '' };
    this.hasNext = d.hasNext === 'true';
    this.hasPrev = d.hasPrev === 'true';
    this.waitTarget = Number(d.waitTarget);
    this.minutesText = d.minutes ?? '{n} min';
    this.waitedText = d.textWaited ?? '';

    const oldestSince = root.querySelector<HTMLElement>('[data-count="oldest"] [data-waiting-since]')?.dataset.waitingSince;
    const oldestRef = root.querySelector('[data-count="oldest"] a')?.textContent;
    if (oldestSince && oldestRef) this.oldest = { reference: oldestRef, since: oldestSince };

    live.socket.on('counts', (c) => this.showCounts(c));
    live.socket.on('presence', (p) => this.showPresence(p.agents));
    this.interceptPresenceForm();
    this.tick();
    window.setInterval(() => this.tick(), TICK_MS);
  }

  onSubscribed(counts: QueueCounts | undefined): void {
    if (counts) this.showCounts(counts);
  }

  onMessage(m: LiveMessage): void {
    if (m.scope === 'queue') this.placeRow(m.reference, m.row);
  }

  private placeRow(reference: string, row: LiveRow | null): void {
    if (!this.tbody) return;
    const existing = byId(`case-${reference}`);
    const tr = row ? firstElement<HTMLTableRowElement>(row.html, 'tr') : null;
    if (!row || !tr || !matches(this.filter, row)) {
      existing?.remove();
    } else if (existing) {
      replaceKeepingFocus(existing, tr);
    } else {
      const rows = [...this.tbody.rows];
      const after = rows.find((r) => compareRows(r, tr) > 0);
      if (after) {
        // Before the first row of a later page, the row belongs to an earlier one.
        if (!(this.hasPrev && after === rows[0])) after.before(tr);
      } else if (!this.hasNext) {
        // Past the last row of a page with a next page, the row belongs to a later one.
        this.tbody.append(tr);
      }
    }
    this.tickIn(this.tbody);
    const empty = this.tbody.rows.length === 0;
    if (this.tableWrap) this.tableWrap.hidden = empty;
    if (this.emptyLine) this.emptyLine.hidden = !empty;
  }

  private showCounts(c: QueueCounts): void {
    const set = (name: string, value: number) => {
      const el = this.root.querySelector(`[data-count="${name}"]`);
      if (el) el.textContent = String(value);
    };
    set('waiting', c.waiting);
    set('active', c.active);

    const oldest = this.root.querySelector<HTMLElement>('[data-count="oldest"]');
    if (oldest) {
      if (c.oldest) {
        // Updated in place, so a keyboard user on the link stays on it.
        let a = oldest.querySelector('a');
        let since = oldest.querySelector<HTMLElement>('[data-waiting-since]');
        if (!a || !since) {
          a = document.createElement('a');
          since = document.createElement('span');
          oldest.replaceChildren(a, ', ', since);
        }
        a.href = `/agent/cases/${encodeURIComponent(c.oldest.reference)}`;
        a.textContent = c.oldest.reference;
        since.dataset.waitingSince = c.oldest.since;
      } else {
        oldest.textContent = oldest.dataset.textNone ?? '–';
      }
    }
    this.oldest = c.oldest;

    for (const el of this.root.querySelectorAll<HTMLElement>('[data-count-channel]')) {
      el.textContent = String(c.byChannel[el.dataset.countChannel ?? ''] ?? 0);
    }
    const categories = byId('counts-categories');
    if (categories) {
      categories.replaceChildren(
        ...c.byCategory.map((cat) => {
          const li = document.createElement('li');
          li.textContent = `${cat.name}: ${cat.count}`;
          return li;
        }),
      );
    }
    this.tick();
  }

  /** Waiting times move on; a case that has waited past the target is announced once. */
  private tick(): void {
    this.tickIn(this.root);
    if (!this.oldest || !(this.waitTarget > 0) || !this.waitedText) return;
    const waited = minutesSince(this.oldest.since);
    const ref = this.oldest.reference;
    if (waited !== null && waited > this.waitTarget && !this.announcedWaits.has(ref)) {
      this.announcedWaits.add(ref);
      saveAnnouncedWaits(this.announcedWaits);
      this.notices.notify(fill(this.waitedText, { reference: ref, minutes: this.waitTarget }), ref);
    }
  }

  private tickIn(container: ParentNode): void {
    const now = Date.now();
    for (const el of container.querySelectorAll<HTMLElement>('[data-waiting-since]')) {
      const n = minutesSince(el.dataset.waitingSince ?? '', now);
      if (n !== null) el.textContent = fill(this.minutesText, { n });
    }
  }

  /** With a connection the status changes over the socket; without one the form posts as usual. */
  private interceptPresenceForm(): void {
    const form = byId<HTMLFormElement>('presence-form');
    const select = byId<HTMLSelectElement>('presence-status');
    const result = byId('presence-result');
    if (!form || !select) return;
    form.addEventListener('submit', (event) => {
      if (!this.live.connected) return;
      event.preventDefault();
      const status = select.value as AgentPresence['status'];
      const label = select.selectedOptions[0]?.textContent?.trim() ?? status;
      this.live.socket
        .timeout(10_000)
        .emitWithAck('presence', { status })
        .then((ack) => {
          if (!ack.ok) throw new Error(ack.message);
          if (result) result.textContent = fill(result.dataset.textChanged ?? '{status}', { status: label });
        })
        .catch(() => form.submit());
    });
  }

  private showPresence(agents: AgentPresence[]): void {
    const table = byId<HTMLTableElement>('presence-table');
    const tbody = table?.tBodies[0];
    if (!table || !tbody) return;
    const text = table.dataset;
    const statusText: Record<string, string | undefined> = { available: text.textAvailable, busy: text.textBusy, break: text.textBreak };
    tbody.replaceChildren(
      ...agents.map((agent) => {
        const tr = document.createElement('tr');
        tr.dataset.user = String(agent.userId);
        const cell = (...content: (Node | string)[]) => {
          const td = document.createElement('td');
          td.append(...content);
          return td;
        };
        const time = document.createElement('time');
        time.dateTime = agent.since;
        time.textContent = formatDateTime(agent.since);
        tr.append(
          cell(agent.name),
          cell(statusText[agent.status] ?? agent.status),
          cell(time),
          cell((agent.online ? text.textOnline : text.textOffline) ?? ''),
        );
        return tr;
      }),
    );
    const none = byId('presence-none');
    if (none) none.hidden = agents.length > 0;
  }
}
