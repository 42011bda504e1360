import { z } from 'zod';
import type { AuthUser } from '../auth/roles.js';
import { ValidationError } from '../platform/errors.js';
import { parseOrThrow } from '../platform/validation.js';
import { findPersonnummer, maskPersonnummer } from '../privacy/personnummer.js';
import type { CaseStatus } from './lifecycle.js';
import { MATCH_KINDS, type CaseSearchStore, type MatchKind, type SearchHitRow, type SearchPlan, type SnippetSource } from './search-store.js';

export const MAX_QUERY_LENGTH = 200;
export const PAGE_SIZE = 50;
export const SNIPPET_LENGTH = 160;
/** Shorter words cannot use a trigram index (and match almost everything). */
export const MIN_WORD_LENGTH = 3;
const MAX_WORDS = 10;

/** GET /agent/sok and /api/v1/cases/search: q (empty: nothing searched) and the cursor of a next page. */
export const caseSearchQuerySchema = z.object({
  // The limit is on what was typed; surrounding spaces are dropped after.
  q: z
    .string('errors.invalid_type')
    .max(MAX_QUERY_LENGTH, 'errors.too_long')
    .optional()
    .transform((v) => (v ?? '').trim()),
  cursor: z.string('errors.invalid_type').max(200, 'errors.too_long').optional(),
});

export interface CaseSearchItem {
  reference: string;
  status: CaseStatus;
  category: { slug: string; name_sv: string; name_en: string };
  /** Personnummer masked (and a protected resident's contact details, for a viewer who may not see them). */
  subject: string;
  /** About SNIPPET_LENGTH characters of the matching text, masked like the subject. */
  snippet: string;
  createdAt: Date;
  matched: MatchKind[];
}

export interface CaseSearchResult {
  q: string;
  /** Whether anything was looked for: false for an empty query or one with nothing searchable in it. */
  searched: boolean;
  items: CaseSearchItem[];
  /** The cursor of the next (older) page, or null on the last one. */
  next: string | null;
}

const REFERENCE = /^SC-\d{4}-\d{6,}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s\-()]+$/;

/**
 * A POSIX regular expression for every way the personnummer can stand in
 * text: twelve digits with or without "-", and ten digits with the separator
 * that gives the same person ("-" or none under 100 years, "+" from 100),
 * with no digit right before or after, as findPersonnummer() reads text.
 */
export function personnummerPattern(normalized: string): string {
  const century = normalized.slice(0, 2);
  const date = normalized.slice(2, 8);
  const last = normalized.slice(8);
  const forms = [`${century}${date}-?${last}`];
  if (findPersonnummer(`${date}-${last}`)[0]?.normalized === normalized) forms.push(`${date}-?${last}`);
  if (findPersonnummer(`${date}+${last}`)[0]?.normalized === normalized) forms.push(`${date}\\+${last}`);
  return `(^|[^0-9])(${forms.join('|')})([^0-9]|$)`;
}

/** What a query looks for: one kind by its shape (reference, personnummer, e-mail, phone), and words in text. */
export function planFor(q: string): SearchPlan {
  const plan: SearchPlan = { words: [], phoneKeys: [] };
  if (REFERENCE.test(q)) return { ...plan, reference: q.toUpperCase() };
  const found = findPersonnummer(q);
  if (found.length === 1 && found[0]!.text === q) plan.personnummer = { normalized: found[0]!.normalized, pattern: personnummerPattern(found[0]!.normalized) };
  if (EMAIL.test(q)) plan.email = q.toLowerCase();
  const digits = q.replace(/\D/g, '');
  // A ten-digit number can be both a personnummer and a phone number: both are looked for.
  if (PHONE.test(q) && digits.length >= 6 && digits.length <= 15) plan.phone = q;
  // The personnummer's own pattern finds it in text in every form; as words it would find only the one typed.
  if (plan.phone && !plan.personnummer) {
    // Its digit groups as words would match any text with "123" in it: the number is looked for in text as typed.
    plan.words = [q.toLowerCase()];
  } else if (!plan.personnummer) {
    const words = q
      .split(/\s+/)
      .map((w) => w.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '').toLowerCase())
      .filter((w) => [...w].length >= MIN_WORD_LENGTH);
    plan.words = [...new Set(words)].slice(0, MAX_WORDS);
  }
  // Their digits; the SQL keys them with sc_phone_key(), the one definition of "the same number".
  plan.phoneKeys = [...new Set([q, ...q.split(/\s+/)].map((w) => w.replace(/\D/g, '')).filter((d) => d.length >= 6))];
  return plan;
}

export const isSearchable = (plan: SearchPlan) => Boolean(plan.reference || plan.personnummer || plan.email || plan.phone || plan.words.length);

export function encodeSearchCursor(row: { created_at: Date; id: number }): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeSearchCursor(cursor: string): { createdAt: Date; id: number } {
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const createdAt = m ? new Date(m[1]!) : undefined;
  if (!m || !createdAt || Number.isNaN(createdAt.getTime())) {
    throw new ValidationError([{ field: 'cursor', code: 'errors.cursor_invalid', message: 'The cursor is not one this search gave out' }]);
  }
  return { createdAt, id: Number(m[2]) };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The text with every personnummer masked and, for a resident whose
 * identity is protected from this viewer, their name, e-mail and phone
 * number blotted out. Every replacement keeps the length, so a position
 * found in the original text still points at the same place.
 */
export function maskedText(text: string, hidden?: { name: string; email: string | null; phone: string | null }): string {
  let out = maskPersonnummer(text);
  if (out.length !== text.length) throw new Error('masking must keep the length of the text');
  if (!hidden) return out;
  const patterns: RegExp[] = [];
  for (const literal of [hidden.name, hidden.email]) if (literal && literal.trim()) patterns.push(new RegExp(escapeRegExp(literal.trim()), 'giu'));
  const digits = (hidden.phone ?? '').replace(/\D/g, '');
  // The number as stored, written with or without spaces and dashes between its digits.
  if (digits.length >= 6) patterns.push(new RegExp(`(?<!\\d)${[...digits].join('[\\s-]*')}(?!\\d)`, 'g'));
  for (const p of patterns) out = out.replace(p, (m) => '•'.repeat(m.length));
  return out;
}

/**
 * About `width` characters of (already masked) text around text[start, end),
 * cut at spaces where it can be, with "…" where text was left out and runs of
 * white space made one space. Without a place: the start of the text.
 */
export function snippetOf(text: string, at?: { start: number; end: number }, width = SNIPPET_LENGTH): string {
  const len = text.length;
  let from = 0;
  let to = Math.min(len, width);
  if (at) {
    from = Math.max(0, at.start - Math.floor((width - (at.end - at.start)) / 2));
    to = Math.min(len, from + width);
    from = Math.max(0, to - width);
    // Whole words at the edges, unless that would cut into the match.
    if (from > 0) {
      const space = text.slice(from, at.start).search(/\s/);
      if (space >= 0 && space < 30) from += space + 1;
    }
    if (to < len) {
      const tail = text.slice(at.end, to);
      const space = tail.search(/\s\S*$/);
      if (space >= 0 && tail.length - space < 30) to = at.end + space;
    }
  } else if (to < len) {
    const space = text.slice(0, to).search(/\s\S*$/);
    if (space > width - 30) to = space;
  }
  const body = text.slice(from, to).replace(/\s+/g, ' ').trim();
  return `${from > 0 ? '…' : ''}${body}${to < len ? '…' : ''}`;
}

/** Where the words (the first one found, in the query's order) or the personnummer stand in the text. */
function placeOf(text: string, plan: SearchPlan): { start: number; end: number } | undefined {
  if (plan.personnummer) {
    const m = findPersonnummer(text).find((f) => f.normalized === plan.personnummer!.normalized);
    if (m) return { start: m.start, end: m.end };
  }
  const lower = text.toLowerCase();
  // toLowerCase keeps the length for the scripts we meet; if it did not, positions would be off: start from the top then.
  if (lower.length !== text.length) return undefined;
  for (const w of plan.words) {
    const i = lower.indexOf(w);
    if (i >= 0) return { start: i, end: i + w.length };
  }
  return undefined;
}

/**
 * Case search for staff: by reference, personnummer (in the case or written
 * in its text), the resident's e-mail, phone or name, and words in the
 * subject or messages. Newest first, a page of PAGE_SIZE at a time.
 * Subjects and snippets come masked; the full text is only in the case view.
 * The query is never logged or stored: it may be a personnummer.
 */
export function createCaseSearch(deps: { store: CaseSearchStore }) {
  const { store } = deps;

  /** Brings the search index up to the newest committed event (server/cases/search-store.ts indexBatch). */
  async function catchUp(): Promise<number> {
    let read = 0;
    for (let n = await store.indexBatch(); n > 0; n = await store.indexBatch()) read += n;
    return read;
  }

  async function snippets(rows: SearchHitRow[], plan: SearchPlan): Promise<Map<number, SnippetSource>> {
    const out = new Map<number, SnippetSource>();
    const has = (r: SearchHitRow, kind: MatchKind) => r.matched.split(',').includes(kind);
    const byWords = rows.filter((r) => has(r, 'message')).map((r) => r.id);
    const byNumber = plan.personnummer ? rows.filter((r) => has(r, 'personnummer')).map((r) => r.id) : [];
    const [wordRows, numberRows] = await Promise.all([
      byWords.length ? store.matchingMessages(byWords, { words: plan.words }) : [],
      byNumber.length && plan.personnummer ? store.matchingMessages(byNumber, { pattern: plan.personnummer.pattern }) : [],
    ]);
    for (const s of [...wordRows, ...numberRows]) if (!out.has(s.case_id)) out.set(s.case_id, s);
    const rest = rows.filter((r) => !out.has(r.id)).map((r) => r.id);
    for (const s of await store.firstMessages(rest)) out.set(s.case_id, s);
    return out;
  }

  return {
    catchUp,
    async search(viewer: AuthUser, input: unknown): Promise<CaseSearchResult> {
      const query = parseOrThrow(caseSearchQuerySchema, input);
      const after = query.cursor ? decodeSearchCursor(query.cursor) : undefined;
      const plan = planFor(query.q);
      if (!isSearchable(plan)) return { q: query.q, searched: false, items: [], next: null };
      // Whatever the index loop has not reached yet is indexed now: a search never misses a committed case.
      await catchUp();
      const rows = await store.search(plan, viewer.id, { ...(after ? { after } : {}), limit: PAGE_SIZE + 1 });
      const page = rows.slice(0, PAGE_SIZE);
      const sources = await snippets(page, plan);
      const items = page.map((r): CaseSearchItem => {
        const hidden = r.contact_hidden ? { name: r.resident_name, email: r.resident_email, phone: r.resident_phone } : undefined;
        const source = sources.get(r.id);
        const body = source?.body ?? '';
        return {
          reference: r.reference,
          status: r.status,
          category: { slug: r.category_slug, name_sv: r.category_name_sv, name_en: r.category_name_en },
          subject: maskedText(r.subject, hidden),
          snippet: snippetOf(maskedText(body, hidden), placeOf(body, plan)),
          createdAt: r.created_at,
          matched: r.matched.split(',').filter((k): k is MatchKind => (MATCH_KINDS as readonly string[]).includes(k)),
        };
      });
      const last = page.at(-1);
      return { q: query.q, searched: true, items, next: rows.length > PAGE_SIZE && last ? encodeSearchCursor(last) : null };
    },
  };
}

export type CaseSearch = ReturnType<typeof createCaseSearch>;
