/**
 * FAQ suggestions on the contact form: while the resident writes the subject
 * or the message, up to three articles that may answer it are shown after the
 * message field. Opening one is recorded for the deflection statistics (with
 * the form's visit token, never the text), and what the resident typed is
 * kept in sessionStorage so the form is filled again when they come back.
 * Without this script the form works as before; errors are silent.
 */
import { fill } from './dom.js';

interface Suggestion {
  category: string;
  slug: string;
  title: string;
  summary: string;
}

interface SavedForm {
  visit: string;
  fields: Record<string, string>;
  category: string;
}

const DEBOUNCE_MS = 300;
const MIN_LETTERS = 3;
const LIMIT = 3;
/** The search API's longest query. */
const MAX_QUERY = 200;
/** How long opening an article waits for the recording before leaving anyway. */
const RECORD_WAIT_MS = 1500;
const STORAGE_KEY = 'servicecenter.contact-form';
/** What the resident typed that comes back; never the files. The topic is saved separately. */
const SAVED_FIELDS = ['subject', 'message', 'name', 'email', 'phone'] as const;
const VISIT_TOKEN = /^[A-Za-z0-9_-]{22}$/;
const LANGS = ['sv', 'en', 'ar'];

/** The words to search for: subject and message together, cut at a word within the API's limit. */
export function queryText(subject: string, message: string): string {
  const q = `${subject} ${message}`.replace(/\s+/g, ' ').trim();
  if (q.length <= MAX_QUERY) return q;
  const cut = q.slice(0, MAX_QUERY);
  return /\s/.test(q.charAt(MAX_QUERY)) ? cut.trim() : cut.replace(/\s+\S*$/, '');
}

const letterCount = (q: string) => (q.match(/\p{L}/gu) ?? []).length;

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

function readSaved(): SavedForm | undefined {
  try {
    const raw = storage()?.getItem(STORAGE_KEY);
    const saved = raw ? (JSON.parse(raw) as Partial<SavedForm>) : undefined;
    if (!saved || typeof saved !== 'object' || typeof saved.fields !== 'object' || !saved.fields) return undefined;
    return { visit: typeof saved.visit === 'string' ? saved.visit : '', fields: saved.fields, category: typeof saved.category === 'string' ? saved.category : '' };
  } catch {
    return undefined;
  }
}

/** After the form was sent (the receipt page): nothing typed is kept any longer. */
export function forgetContactForm(): void {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    /* storage may be switched off */
  }
}

function control(form: HTMLFormElement, name: string): HTMLInputElement | HTMLTextAreaElement | null {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el : null;
}

function checkedTopic(form: HTMLFormElement): HTMLInputElement | null {
  return form.querySelector<HTMLInputElement>('input[type="radio"][name="category"]:checked');
}

function saveForm(form: HTMLFormElement): void {
  const fields: Record<string, string> = {};
  for (const name of SAVED_FIELDS) fields[name] = control(form, name)?.value ?? '';
  const saved: SavedForm = { visit: control(form, 'faq_visit')?.value ?? '', fields, category: checkedTopic(form)?.value ?? '' };
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(saved));
  } catch {
    /* full or switched off: the resident only loses the convenience */
  }
}

/**
 * Fills in what was saved when the resident left for an article. Only empty
 * fields are filled: a form the server sent back with the resident's values
 * (after an error) keeps them. The visit token comes back too, so sending the
 * form counts for the visit that opened the suggestion.
 */
function restoreForm(form: HTMLFormElement, saved: SavedForm): void {
  for (const name of SAVED_FIELDS) {
    const el = control(form, name);
    const value = saved.fields[name];
    if (el && !el.value && typeof value === 'string') el.value = value;
  }
  if (saved.category && !checkedTopic(form)) {
    const topic = [...form.querySelectorAll<HTMLInputElement>('input[type="radio"][name="category"]')].find((r) => r.value === saved.category);
    if (topic) topic.checked = true;
  }
  const visit = control(form, 'faq_visit');
  if (visit && VISIT_TOKEN.test(saved.visit)) visit.value = saved.visit;
}

function parseSuggestions(body: unknown): Suggestion[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  return items
    .filter((i): i is Suggestion => !!i && typeof i === 'object' && ['category', 'slug', 'title', 'summary'].every((k) => typeof (i as Record<string, unknown>)[k] === 'string'))
    .slice(0, LIMIT);
}

export function startFaqSuggestions(root: HTMLElement): void {
  const form = root.closest('form');
  const status = root.querySelector<HTMLElement>('[data-faq-suggest-status]');
  const box = root.querySelector<HTMLElement>('[data-faq-suggest-box]');
  const list = root.querySelector<HTMLElement>('[data-faq-suggest-list]');
  if (!form || !status || !box || !list) return;
  const inputs = ['subject', 'message'].map((n) => control(form, n)).filter((el): el is HTMLInputElement | HTMLTextAreaElement => el !== null);
  const pageLang = document.documentElement.lang;
  const lang = LANGS.includes(pageLang) ? pageLang : 'sv';

  const saved = readSaved();
  if (saved) restoreForm(form, saved);
  // Once the resident has left for an article, the saved copy follows what they change afterwards.
  const keepSaved = () => {
    if (readSaved()) saveForm(form);
  };
  form.addEventListener('input', keepSaved);
  form.addEventListener('change', keepSaved);

  let timer: number | undefined;
  let inFlight: AbortController | undefined;
  let lastQuery = '';
  let shownKey = '';

  function countText(n: number): string {
    return fill((n === 1 ? root.dataset.countOne : root.dataset.countOther) ?? '{count}', { count: n });
  }

  function render(items: Suggestion[]): void {
    list!.replaceChildren(
      ...items.map((s) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `/fragor/${encodeURIComponent(s.category)}/${encodeURIComponent(s.slug)}`;
        a.textContent = s.title;
        a.dataset.category = s.category;
        a.dataset.slug = s.slug;
        const summary = document.createElement('p');
        summary.className = 'faq-suggest-summary';
        summary.textContent = s.summary;
        li.append(a, summary);
        return li;
      }),
    );
    box!.hidden = items.length === 0;
  }

  /** Shows a new set of suggestions; the status (a polite live region) says how many, only when the set changed. */
  function show(items: Suggestion[], announce: boolean): void {
    const key = items.map((s) => `${s.category}/${s.slug}`).join('|');
    if (key === shownKey) return;
    shownKey = key;
    render(items);
    if (!announce) return;
    const text = items.length ? countText(items.length) : '';
    if (text && text === status!.textContent) {
      // The same count with other articles: empty it first, or screen readers stay silent.
      status!.textContent = '';
      window.setTimeout(() => (status!.textContent = text), 150);
    } else {
      status!.textContent = text;
    }
  }

  async function search(announce: boolean): Promise<void> {
    const q = queryText(inputs[0]?.value ?? '', inputs[1]?.value ?? '');
    if (letterCount(q) < MIN_LETTERS) {
      inFlight?.abort();
      lastQuery = '';
      show([], announce);
      return;
    }
    if (q === lastQuery) return;
    lastQuery = q;
    // The latest text wins: an answer to older text is dropped.
    inFlight?.abort();
    const request = new AbortController();
    inFlight = request;
    try {
      const params = new URLSearchParams({ q, lang, limit: String(LIMIT) });
      const res = await fetch(`/api/v1/faq/search?${params.toString()}`, { signal: request.signal, headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) throw new Error(`search answered ${res.status}`);
      const items = parseSuggestions(await res.json());
      if (request.signal.aborted) return;
      show(items, announce);
    } catch {
      // Silent for the resident; the next keystroke tries again.
      if (inFlight === request) lastQuery = '';
    }
  }

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void search(true), DEBOUNCE_MS);
  };
  for (const el of inputs) el.addEventListener('input', schedule);

  function record(link: HTMLAnchorElement): Promise<unknown> {
    const token = control(form!, 'faq_visit')?.value ?? '';
    const csrf = control(form!, '_csrf')?.value ?? '';
    return fetch('/api/v1/faq/deflections', {
      method: 'POST',
      keepalive: true,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ token, category: link.dataset.category, slug: link.dataset.slug }),
    }).catch(() => undefined);
  }

  function open(event: MouseEvent): void {
    const link = (event.target as Element | null)?.closest<HTMLAnchorElement>('a[data-slug]');
    if (!link || event.defaultPrevented) return;
    saveForm(form!);
    const recorded = record(link);
    // A new tab or window: this page stays, nothing to wait for.
    if (event.type !== 'click' || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const leave = () => window.location.assign(link.href);
    void Promise.race([recorded, new Promise((resolve) => window.setTimeout(resolve, RECORD_WAIT_MS))]).then(leave, leave);
  }
  list.addEventListener('click', open);
  list.addEventListener('auxclick', (e) => {
    if (e.button === 1) open(e);
  });

  // Text already there (sent back after an error, or restored): suggest at once, without announcing on load.
  void search(false);
}
