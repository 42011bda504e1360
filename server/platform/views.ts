import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { textDirection, translate } from './i18n.js';
import { describeSize } from './uploads.js';
import { maskPersonnummer } from '../privacy/personnummer.js';
import { formatPersonnummer } from '../privacy/personnummer-field.js';

import { VIEWS_DIR } from './paths.js';

export { VIEWS_DIR };

type Template = Handlebars.TemplateDelegate;

const TIME_ZONE = 'Europe/Stockholm';

/**
 * One Handlebars environment for pages, partials and e-mails. Partials are
 * registered by their path under views/partials ("case-row", "forms/field"), so
 * a live update can render the same partial the page was rendered with.
 */
export class Views {
  readonly hbs = Handlebars.create();
  private cache = new Map<string, Template>();

  constructor(private readonly root = VIEWS_DIR) {
    registerHelpers(this.hbs);
    const partialsDir = path.join(root, 'partials');
    for (const file of walk(partialsDir)) {
      const name = path.relative(partialsDir, file).replace(/\\/g, '/').replace(/\.hbs$/, '');
      this.hbs.registerPartial(name, readFileSync(file, 'utf8'));
    }
  }

  /**
   * A compiled template; `text` compiles it without HTML escaping (for e-mail
   * text parts). HTML templates do not indent a partial's lines to where it
   * was called: that indentation would go into a <textarea>'s text.
   */
  template(name: string, mode: 'html' | 'text' = 'html'): Template {
    const key = `${mode}:${name}`;
    let tpl = this.cache.get(key);
    if (!tpl) {
      tpl = this.hbs.compile(readFileSync(path.join(this.root, `${name}.hbs`), 'utf8'), mode === 'text' ? { noEscape: true } : { strict: false, preventIndent: true });
      this.cache.set(key, tpl);
    }
    return tpl;
  }

  /** Plain text (e-mails): the same helpers, no HTML escaping. */
  text(name: string, data: Record<string, unknown>): string {
    return this.template(name, 'text')({ lang: 'sv', ...data, plainText: true });
  }

  /** Renders a page inside a layout (default "layouts/main"). */
  page(name: string, data: Record<string, unknown>): string {
    const lang = typeof data.lang === 'string' ? data.lang : 'sv';
    const ctx = { ...data, lang, dir: textDirection(lang) };
    const body = this.template(name)(ctx);
    const layout = data.layout === false ? null : String(data.layout ?? 'main');
    return layout ? this.template(`layouts/${layout}`)({ ...ctx, body }) : body;
  }

  partial(name: string, data: Record<string, unknown>): string {
    const tpl = this.hbs.partials[name];
    if (!tpl) throw new Error(`Unknown partial ${name}`);
    const compiled = typeof tpl === 'function' ? (tpl as Template) : this.hbs.compile(tpl as string);
    return compiled(data);
  }

  /** An express view engine: res.render('resident/home', locals). */
  engine() {
    return (filePath: string, options: object, callback: (e: unknown, rendered?: string) => void) => {
      try {
        const name = path.relative(this.root, filePath).replace(/\\/g, '/').replace(/\.hbs$/, '');
        callback(null, this.page(name, options as Record<string, unknown>));
      } catch (err) {
        callback(err);
      }
    };
  }
}

function walk(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out = out.concat(walk(full));
    else if (entry.endsWith('.hbs')) out.push(full);
  }
  return out;
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
function dateTimeFormat(lang: string): Intl.DateTimeFormat {
  let f = dateTimeFormats.get(lang);
  if (!f) {
    // The 24-hour clock in every language, as in Sweden (Arabic would otherwise write 2:05 م).
    f = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { timeZone: TIME_ZONE, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
    dateTimeFormats.set(lang, f);
  }
  return f;
}

export function formatDateTime(value: unknown, lang: string): string {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? '' : dateTimeFormat(lang).format(d);
}

const windowFormats = new Map<string, { day: Intl.DateTimeFormat; shortDay: Intl.DateTimeFormat; time: Intl.DateTimeFormat }>();
function windowFormat(lang: string) {
  let f = windowFormats.get(lang);
  if (!f) {
    const locale = lang === 'en' ? 'en-GB' : lang;
    f = {
      day: new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long' }),
      shortDay: new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, weekday: 'short', day: 'numeric', month: 'short' }),
      time: new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    };
    windowFormats.set(lang, f);
  }
  return f;
}

/** "tisdag 1 december 08:00–10:00": a time window on one day, for callbacks. */
export function formatWindow(start: unknown, end: unknown, lang: string): string {
  const s = start instanceof Date ? start : new Date(String(start));
  const e = end instanceof Date ? end : new Date(String(end));
  if (Number.isNaN(s.getTime()) || Number.isNaN(e.getTime())) return '';
  const f = windowFormat(lang);
  return `${f.day.format(s)} ${f.time.format(s)}–${f.time.format(e)}`;
}

/** "tisdag 1 december": the day of a window, to group the windows a resident chooses from. */
export function formatDay(value: Date, lang: string): string {
  return windowFormat(lang).day.format(value);
}

/** "08:00–10:00": a window's times without its day. */
export function formatTimeRange(start: Date, end: Date, lang: string): string {
  const f = windowFormat(lang);
  return `${f.time.format(start)}–${f.time.format(end)}`;
}

/** "kl. 10:00" today, "tis 1 dec. kl. 10:00" on another day: when something is due, short enough for a queue row. */
export function formatDue(value: unknown, lang: string, now = new Date()): string {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(d.getTime())) return '';
  const f = windowFormat(lang);
  const time = f.time.format(d);
  if (f.day.format(d) === f.day.format(now)) return translate(lang, 'time.at_today', { time });
  return translate(lang, 'time.at_day', { day: f.shortDay.format(d), time });
}

/** A Swedish number as people write it (070-123 45 67, 0243-740 00); anything else as it was stored. */
export function formatPhone(value: unknown): string {
  const v = String(value ?? '');
  const mobile = /^(07\d)(\d{3})(\d{2})(\d{2})$/.exec(v);
  if (mobile) return `${mobile[1]}-${mobile[2]} ${mobile[3]} ${mobile[4]}`;
  const intl = /^\+46(7\d)(\d{3})(\d{2})(\d{2})$/.exec(v);
  if (intl) return `+46 ${intl[1]}-${intl[2]} ${intl[3]} ${intl[4]}`;
  return v;
}

function rootLang(options: Handlebars.HelperOptions): string {
  const root = (options.data as { root?: { lang?: string } } | undefined)?.root;
  return root?.lang ?? 'sv';
}

/**
 * A text with its values; when a value is markup a helper made (such as
 * {{ltr}}), the text is escaped and the markup kept, so the page still escapes everything else.
 */
function translateMarkup(hbs: typeof Handlebars, lang: string, key: string, vars: Record<string, unknown>): string | Handlebars.SafeString {
  if (!Object.values(vars).some((v) => v instanceof hbs.SafeString)) return translate(lang, key, vars);
  const html = hbs.escapeExpression(translate(lang, key)).replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = vars[name];
    return v === undefined ? m : v instanceof hbs.SafeString ? v.toHTML() : hbs.escapeExpression(String(v));
  });
  return new hbs.SafeString(html);
}

function registerHelpers(hbs: typeof Handlebars): void {
  // {{t "key" name=value}}: text from the locale files in the page's language.
  hbs.registerHelper('t', function (key: unknown, options: Handlebars.HelperOptions) {
    return translateMarkup(hbs, rootLang(options), String(key), options.hash as Record<string, unknown>);
  });
  // {{tk "prefix" value}}: a key built from parts, such as status.open.
  hbs.registerHelper('tk', function (...args: unknown[]) {
    const options = args.pop() as Handlebars.HelperOptions;
    return translateMarkup(hbs, rootLang(options), args.map(String).join('.'), options.hash as Record<string, unknown>);
  });
  // {{ltr value}}: a value that reads left to right (a phone number, a case number, an address, a link)
  // kept so inside right-to-left text: in a right-to-left page or mail isolated with dir="ltr" (HTML) or
  // Unicode isolates (plain text); elsewhere the value as it is. strong=true: in <strong> (HTML), for a
  // value put in a sentence by {{t}}.
  hbs.registerHelper('ltr', function (value: unknown, options: Handlebars.HelperOptions) {
    const text = value === undefined || value === null ? '' : String(value);
    const rtl = textDirection(rootLang(options)) === 'rtl';
    if ((options.data as { root?: { plainText?: boolean } } | undefined)?.root?.plainText) return rtl && text ? `\u2066${text}\u2069` : text;
    const tag = options.hash?.strong ? 'strong' : rtl && text ? 'span' : undefined;
    return tag ? new hbs.SafeString(`<${tag}${rtl ? ' dir="ltr"' : ''}>${hbs.escapeExpression(text)}</${tag}>`) : text;
  });
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b || (a != null && b != null && String(a) === String(b)));
  hbs.registerHelper('not', (a: unknown) => !a);
  hbs.registerHelper('default', (a: unknown, b: unknown) => (a === undefined || a === null || a === '' ? b : a));
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper('includes', (list: unknown, v: unknown) => Array.isArray(list) && list.map(String).includes(String(v)));
  hbs.registerHelper('datetime', function (value: unknown, options: Handlebars.HelperOptions) {
    return formatDateTime(value, rootLang(options));
  });
  hbs.registerHelper('phone', (value: unknown) => formatPhone(value));
  hbs.registerHelper('timewindow', function (start: unknown, end: unknown, options: Handlebars.HelperOptions) {
    return formatWindow(start, end, rootLang(options));
  });
  hbs.registerHelper('due', function (value: unknown, options: Handlebars.HelperOptions) {
    return formatDue(value, rootLang(options));
  });
  hbs.registerHelper('inc', (n: unknown) => Number(n ?? 0) + 1);
  hbs.registerHelper('isodate', (value: unknown) => {
    if (!value) return '';
    const d = value instanceof Date ? value : new Date(String(value));
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
  });
  // Keeps line breaks in plain text without ever emitting the author's HTML.
  hbs.registerHelper('multiline', (text: unknown) => {
    const escaped = hbs.escapeExpression(String(text ?? ''));
    return new hbs.SafeString(escaped.replace(/\r?\n/g, '<br>'));
  });
  hbs.registerHelper('filesize', (bytes: unknown) => (Number.isFinite(Number(bytes)) ? describeSize(Number(bytes)) : ''));
  // {{masked text}}: outside text (a subject, a message, a name) in a list, a preview or a mail, with every
  // personnummer and samordningsnummer masked. Only the case view shows such text as it was written.
  hbs.registerHelper('masked', (text: unknown) => (text === undefined || text === null ? '' : maskPersonnummer(String(text))));
  // {{personnummer c.personnummer}}: a stored twelve-digit number as people read it (YYYYMMDD-NNNN), for the case view.
  hbs.registerHelper('personnummer', (value: unknown) => formatPersonnummer(value));
}
