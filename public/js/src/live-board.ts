/**
 * The live board (/agent/statistik/live) and the TV wallboard (/tavla): the
 * server renders every figure with data-figure="key"; each `board` event
 * brings the same texts (server/stats/live-board.ts describeBoard), and they
 * are put in place. Nothing here is announced: a board that changes every
 * second must not talk over a screen reader (the connection line alone is a
 * polite status).
 */
import type { BoardView } from '../../../server/live/protocol.js';
import { LiveConnection, type Subscribed } from './connection.js';

export function startLiveBoard(root: HTMLElement): void {
  const figures = () => root.querySelectorAll<HTMLElement>('[data-figure]');
  const categories = root.querySelector<HTMLElement>('[data-board-categories]');
  let shownCategories = '';

  function showCategories(rows: BoardView['categories']): void {
    if (!categories) return;
    const key = JSON.stringify(rows);
    if (key === shownCategories) return;
    shownCategories = key;
    const trs = rows.map((r) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = r.name;
      const td = document.createElement('td');
      td.textContent = r.count;
      tr.append(th, td);
      return tr;
    });
    if (!trs.length) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 2;
      td.textContent = categories.dataset.textEmpty ?? '';
      tr.append(td);
      trs.push(tr);
    }
    categories.replaceChildren(...trs);
  }

  function show(b: BoardView | undefined): void {
    if (!b || typeof b !== 'object' || !b.figures) return;
    for (const el of figures()) {
      const text = b.figures[el.dataset.figure ?? ''];
      if (text !== undefined && el.textContent !== text) el.textContent = text;
    }
    for (const el of root.querySelectorAll<HTMLElement>('[data-show-if="oldest"]')) el.hidden = !b.snapshot?.waiting?.oldest;
    if (Array.isArray(b.categories)) showCategories(b.categories);
    root.dataset.boardAt = b.snapshot?.at ?? '';
  }

  const live = new LiveConnection({
    root,
    follow: { board: true },
    // Notices about one's own cases belong to the workspace pages, not to the board.
    onMessage: () => undefined,
    onSubscribed: (s: Subscribed & { board?: BoardView }) => show(s.board),
  });
  live.socket.on('board', show);
}
