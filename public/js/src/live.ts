/**
 * The live workspace in the browser: one Socket.IO connection per page that
 * keeps the server-rendered page current. Pages say what they are with
 * data-live="queue|case|resident" on their root; without this script they
 * work as plain pages with forms.
 */
import type { LiveMessage } from '../../../server/live/protocol.js';
import { CallerPanel } from './caller.js';
import { CaseView } from './case-view.js';
import { forgetContactForm, startFaqSuggestions } from './faq-suggest.js';
import { LiveConnection } from './connection.js';
import { Notices } from './notices.js';
import { QueueView } from './queue.js';
import { ResidentCaseView } from './resident-case.js';
import { startPersonnummerField } from './personnummer-field.js';
import { startLiveBoard } from './live-board.js';

interface PageView {
  onMessage(m: LiveMessage): void;
}

function start(root: HTMLElement): void {
  const notices = new Notices();
  let view: PageView | undefined;
  // Notices for the user (a case handed to me, a resident replied on my case) come on every staff page.
  const onMessage = (m: LiveMessage) => (m.scope === 'user' ? notices.notify(m.notice, m.reference) : view?.onMessage(m));

  switch (root.dataset.live) {
    case 'queue': {
      let queue: QueueView | undefined;
      const live = new LiveConnection({ root, follow: { queue: true }, onMessage, onSubscribed: (s) => queue?.onSubscribed(s.counts) });
      view = queue = new QueueView(root, live, notices);
      new CallerPanel(live);
      break;
    }
    case 'case': {
      let page: CaseView | undefined;
      const live = new LiveConnection({ root, follow: { case: root.dataset.reference ?? '' }, onMessage, onSubscribed: (s) => page?.onSubscribed(s.viewers) });
      view = page = new CaseView(root, live, notices);
      break;
    }
    case 'resident': {
      view = new ResidentCaseView(root, notices);
      new LiveConnection({ root, follow: {}, auth: { residentToken: root.dataset.residentToken ?? '' }, onMessage });
      break;
    }
  }
}

const root = document.querySelector<HTMLElement>('[data-live]');
if (root) start(root);

// The contact form's FAQ suggestions; the receipt after sending it forgets what the form kept.
const suggest = document.querySelector<HTMLElement>('[data-faq-suggest]');
if (suggest) startFaqSuggestions(suggest);
else if (document.querySelector('[data-faq-suggest-done]')) forgetContactForm();

// The contact form's personnummer field, shown for the topics that ask for one.
const personnummer = document.querySelector<HTMLElement>('[data-personnummer-field]');
if (personnummer) startPersonnummerField(personnummer);

const liveBoard = document.querySelector<HTMLElement>('[data-live-board]');
if (liveBoard) startLiveBoard(liveBoard);
