import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { VIEWS_DIR } from './paths.js';

/** The resident pages' languages; staff pages are written in Swedish and English (Arabic falls back to Swedish there). */
export const LANGUAGES = ['sv', 'en', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'sv';
/** The staff pages' languages: a signed-in user who chose another one reads them in Swedish. */
export const STAFF_LANGUAGES = ['sv', 'en'] as const satisfies readonly Language[];
export type StaffLanguage = (typeof STAFF_LANGUAGES)[number];
/** Each language's name in itself, for the language links. */
export const LANGUAGE_NAMES: Record<Language, string> = { sv: 'Svenska', en: 'English', ar: 'العربية' };

const LOCALES_DIR = path.join(VIEWS_DIR, 'locales');

type Flat = Record<string, string>;

function flatten(obj: unknown, prefix = '', out: Flat = {}): Flat {
  if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (typeof v === 'string') out[key] = v;
      else flatten(v, key, out);
    }
  }
  return out;
}

/**
 * Each language's texts: <lang>.json, merged with any <lang>.<area>.json
 * (such as sv.faq.json), so each part of the product keeps its own file. A key
 * defined in two files of one language is a mistake and stops the start.
 */
function loadLocales(): Map<string, Flat> {
  const map = new Map<string, Flat>();
  for (const file of readdirSync(LOCALES_DIR).filter((f) => /^[a-z]{2}(\.[a-z0-9-]+)?\.json$/.test(f)).sort()) {
    const lang = file.slice(0, 2);
    const merged = map.get(lang) ?? {};
    for (const [key, text] of Object.entries(flatten(JSON.parse(readFileSync(path.join(LOCALES_DIR, file), 'utf8'))))) {
      if (key in merged) throw new Error(`The text ${key} is defined twice for ${lang} (again in views/locales/${file})`);
      merged[key] = text;
    }
    map.set(lang, merged);
  }
  return map;
}

const locales = loadLocales();

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

/** Looks a key up in the language, then in Swedish; a missing key shows itself. */
export function translate(lang: string, key: string, vars: Record<string, unknown> = {}): string {
  const text = locales.get(lang)?.[key] ?? locales.get(DEFAULT_LANGUAGE)?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (vars[name] !== undefined ? String(vars[name]) : m));
}

export function staffLanguage(lang: string): StaffLanguage {
  return (STAFF_LANGUAGES as readonly string[]).includes(lang) ? (lang as StaffLanguage) : 'sv';
}

export function hasKey(lang: string, key: string): boolean {
  return locales.get(lang)?.[key] !== undefined;
}

export function localeKeys(lang: string): string[] {
  return Object.keys(locales.get(lang) ?? {});
}

export function textDirection(lang: string): 'ltr' | 'rtl' {
  return lang === 'ar' ? 'rtl' : 'ltr';
}
