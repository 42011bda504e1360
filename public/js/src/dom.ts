/** Small DOM helpers shared by the live views. */

/** Fills {name} placeholders of a translated text the server put in a data attribute. */
export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (vars[name] !== undefined ? String(vars[name]) : whole));
}

/**
 * Parses HTML the server rendered from one of the page's own partials (the
 * server escapes everything in it). A <template> parses table rows and list
 * items in context and runs no scripts.
 */
export function fromHtml(html: string): DocumentFragment {
  const template = document.createElement('template');
  template.innerHTML = html.trim();
  return template.content;
}

export function firstElement<T extends Element = HTMLElement>(html: string, selector: string): T | null {
  return fromHtml(html).querySelector<T>(selector);
}

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

/** Where focus is inside a container, as the index among its focusable elements (or null). */
function focusIndex(container: Element): number | null {
  const active = document.activeElement;
  if (!active || !container.contains(active)) return null;
  const index = [...container.querySelectorAll(FOCUSABLE)].indexOf(active);
  return index >= 0 ? index : null;
}

function restoreFocus(container: Element, index: number | null): void {
  if (index === null) return;
  const target = container.querySelectorAll<HTMLElement>(FOCUSABLE)[index];
  target?.focus({ preventScroll: true });
}

/** Replaces an element; a keyboard user focused inside it stays on the same control. */
export function replaceKeepingFocus(old: Element, replacement: Element): void {
  const index = focusIndex(old);
  old.replaceWith(replacement);
  restoreFocus(replacement, index);
}

/** Replaces what a container holds, keeping focus on the same control inside it. */
export function replaceContentKeepingFocus(container: Element, html: string): void {
  const index = focusIndex(container);
  container.replaceChildren(fromHtml(html));
  restoreFocus(container, index);
}

/** The whole minutes since an ISO time, never negative (as the server rounds them). */
export function minutesSince(iso: string, now = Date.now()): number | null {
  const t = Date.parse(iso);
  // Not yet due (a callback later today): nothing to count yet.
  return Number.isNaN(t) || t > now ? null : Math.round((now - t) / 60_000);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** Date and time as the server's `datetime` helper writes them. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const lang = document.documentElement.lang || 'sv';
  let f = dateTimeFormats.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { timeZone: 'Europe/Stockholm', dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
    dateTimeFormats.set(lang, f);
  }
  return f.format(d);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}
