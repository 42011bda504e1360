import { byId, fill } from './dom.js';

/** Quiet this long after the last key before searching. */
const DEBOUNCE_MS = 250;
/** Fewer letters than this find nearly everything: no search while typing. */
const MIN_QUERY = 2;
const RESULTS = 5;

interface SearchItem {
  category: string;
  slug: string;
  title: string;
  summary: string;
}

/** GET /api/v1/faq/articles/:category/:slug (server/faq/article-schemas.ts). */
interface Article extends SearchItem {
  lang: string;
  requestedLang: string;
  fallback: boolean;
  url: string;
  text: string;
}

interface Result extends SearchItem {
  fallback: boolean;
}

const key = (a: { category: string; slug: string }) => `${a.category}/${a.slug}`;

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', ...(signal ? { signal } : {}) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

/**
 * The FAQ panel of an agent's case page (views/partials/agent-faq.hbs).
 * Without this script it is a GET form whose results carry their text to
 * copy. With it, results come while typing (the count read out politely),
 * and "Infoga i svaret" puts an article (title, text, "Läs mer" link, in the
 * resident's language) into the reply where the cursor was, then hands the
 * focus back to the reply.
 */
export class FaqPanel {
  private readonly lang: string;
  private readonly text: DOMStringMap;
  private readonly input = byId<HTMLInputElement>('f-faq');
  private readonly status = byId('faq-status');
  private readonly list = byId<HTMLOListElement>('faq-results');
  private readonly articles = new Map<string, Promise<Article>>();
  private timer: number | undefined;
  private running: AbortController | undefined;
  private lastQuery: string;
  /** Whether the agent has been in the reply box: until then an article goes after what is there. */
  private cursorKnown = false;
  private inserting = false;

  constructor(
    panel: HTMLElement,
    private readonly reply: HTMLTextAreaElement | null,
  ) {
    this.lang = panel.dataset.lang || 'sv';
    this.text = panel.dataset;
    this.lastQuery = this.input?.value.trim() ?? '';
    if (!this.input || !this.status || !this.list || !reply) return;
    for (const button of panel.querySelectorAll<HTMLButtonElement>('[data-faq-insert]')) button.hidden = false;
    for (const ev of ['focus', 'click', 'keyup', 'select']) reply.addEventListener(ev, () => (this.cursorKnown = true));
    this.input.addEventListener('input', () => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.search(), DEBOUNCE_MS);
    });
    this.input.form?.addEventListener('submit', (e) => {
      // The reply being written stays: the search happens in place.
      e.preventDefault();
      window.clearTimeout(this.timer);
      void this.search(true);
    });
    this.list.addEventListener('click', (e) => {
      const button = (e.target as Element | null)?.closest<HTMLButtonElement>('[data-faq-insert]');
      const item = button?.closest<HTMLElement>('[data-slug]');
      if (button && item) void this.insert(item.dataset.category ?? '', item.dataset.slug ?? '');
    });
  }

  private async search(asked = false): Promise<void> {
    const q = this.input!.value.trim();
    if (q === this.lastQuery && !asked) return;
    this.lastQuery = q;
    this.running?.abort();
    if (q.length < MIN_QUERY && !(asked && q)) {
      this.running = undefined;
      this.list!.replaceChildren();
      this.status!.textContent = '';
      return;
    }
    const running = (this.running = new AbortController());
    try {
      const results = await this.find(q, running.signal);
      if (running.signal.aborted) return;
      this.list!.replaceChildren(...results.map((r) => this.item(r)));
      const n = results.length;
      this.status!.textContent = n === 0 ? (this.text.textNone ?? '') : n === 1 ? (this.text.textCountOne ?? '') : fill(this.text.textCount ?? '{n}', { n });
    } catch (err) {
      if (running.signal.aborted) return;
      console.error('live: FAQ search failed', err);
      this.status!.textContent = this.text.textSearchFailed ?? '';
    }
  }

  /** As the server's suggestions (server/faq/reply-service.ts): the case's language first, then Swedish for what only it finds. */
  private async find(q: string, signal: AbortSignal): Promise<Result[]> {
    const search = (lang: string) =>
      getJson<{ items: SearchItem[] }>(`/api/v1/faq/search?${new URLSearchParams({ q, lang, limit: String(RESULTS) })}`, signal).then((r) => r.items);
    const own: Result[] = (await search(this.lang)).map((i) => ({ ...i, fallback: false }));
    if (this.lang === 'sv' || own.length >= RESULTS) return own;
    const seen = new Set(own.map(key));
    const more = (await search('sv')).filter((i) => !seen.has(key(i))).slice(0, RESULTS - own.length);
    // Whether those exist in the resident's language, and their title in it: the article says.
    const fetched = await Promise.all(more.map((i) => this.article(i.category, i.slug).catch(() => undefined)));
    return [...own, ...fetched.filter((a): a is Article => a !== undefined).map((a) => ({ category: a.category, slug: a.slug, title: a.title, summary: a.summary, fallback: a.fallback }))];
  }

  private article(category: string, slug: string): Promise<Article> {
    const k = `${category}/${slug}`;
    let p = this.articles.get(k);
    if (!p) {
      p = getJson<Article>(`/api/v1/faq/articles/${encodeURIComponent(category)}/${encodeURIComponent(slug)}?lang=${encodeURIComponent(this.lang)}`);
      // A failure is not kept: the next press tries again.
      p.catch(() => this.articles.delete(k));
      this.articles.set(k, p);
    }
    return p;
  }

  /** One result, as the server renders it (views/partials/agent-faq.hbs) but with the button instead of the text to copy. */
  private item(r: Result): HTMLLIElement {
    const li = document.createElement('li');
    li.className = 'agent-faq-result';
    li.dataset.category = r.category;
    li.dataset.slug = r.slug;
    const h3 = document.createElement('h3');
    const a = document.createElement('a');
    a.href = `/fragor/${encodeURIComponent(r.category)}/${encodeURIComponent(r.slug)}${this.lang === 'sv' ? '' : `?lang=${encodeURIComponent(this.lang)}`}`;
    a.target = '_blank';
    a.rel = 'noopener';
    a.append(`${r.title} `, this.hiddenText(this.text.textNewTab ?? ''));
    h3.append(a);
    li.append(h3);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.dataset.faqInsert = '';
    button.append(this.text.textInsert ?? '', this.hiddenText(`: ${r.title}`));
    if (r.fallback) {
      const note = document.createElement('p');
      note.className = 'agent-faq-note';
      note.id = `faq-note-${r.category}-${r.slug}`;
      note.textContent = this.text.textOnlySwedish ?? '';
      li.append(note);
      button.setAttribute('aria-describedby', note.id);
    }
    if (r.summary) {
      const p = document.createElement('p');
      p.className = 'agent-faq-summary';
      p.textContent = r.summary;
      li.append(p);
    }
    li.append(button);
    return li;
  }

  private hiddenText(text: string): HTMLSpanElement {
    const span = document.createElement('span');
    span.className = 'visually-hidden';
    span.textContent = text;
    return span;
  }

  private async insert(category: string, slug: string): Promise<void> {
    const reply = this.reply!;
    if (this.inserting) return;
    this.inserting = true;
    try {
      const a = await this.article(category, slug);
      const block = `${a.title}\n\n${a.text}\n\n${fill(this.text.readMore ?? '{url}', { url: a.url })}`;
      const at = this.cursorKnown ? reply.selectionStart : reply.value.length;
      const end = this.cursorKnown ? reply.selectionEnd : reply.value.length;
      const before = reply.value.slice(0, at);
      const after = reply.value.slice(end);
      // A paragraph of its own: blank lines from what comes before and after.
      const lead = before === '' || before.endsWith('\n\n') ? '' : before.endsWith('\n') ? '\n' : '\n\n';
      const trail = after === '' || after.startsWith('\n\n') ? '' : after.startsWith('\n') ? '\n' : '\n\n';
      reply.setRangeText(`${lead}${block}${trail}`, at, end, 'end');
      reply.setSelectionRange(at + lead.length + block.length, at + lead.length + block.length);
      reply.dispatchEvent(new Event('input', { bubbles: true }));
      reply.focus();
      this.cursorKnown = true;
      this.status!.textContent = this.text.textInserted ?? '';
    } catch (err) {
      console.error('live: FAQ article failed', err);
      this.status!.textContent = this.text.textFailed ?? '';
    } finally {
      this.inserting = false;
    }
  }
}
