import type { Knex } from 'knex';
import type { CaseStatus } from './lifecycle.js';

/**
 * What one search looks for, already parsed and made safe by the service
 * (server/cases/search.ts). Every part is optional; the parts that are there
 * are alternatives: a case matches if any of them does.
 */
export interface SearchPlan {
  /** A whole case reference, upper-cased: compared exactly. */
  reference?: string;
  /** A personnummer: the 12 digits of cases.personnummer, and a POSIX regex for every way it can be written in text. */
  personnummer?: { normalized: string; pattern: string };
  /** A whole e-mail address, lower-cased: compared with the resident's. */
  email?: string;
  /** Something that looks like a phone number, as typed: compared by sc_phone_key(). */
  phone?: string;
  /** Lower-cased words of at least three characters: each must be in the same text (name, subject or one message). */
  words: string[];
  /**
   * Phone numbers written in the query (the whole query's digits and each
   * word's, as digits; the SQL keys them with sc_phone_key()): a protected
   * resident's case found by text is hidden when one of them is that
   * resident's number.
   */
  phoneKeys: string[];
}

export const MATCH_KINDS = ['reference', 'personnummer', 'email', 'phone', 'name', 'subject', 'message'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

export interface SearchHitRow {
  id: number;
  reference: string;
  status: CaseStatus;
  subject: string;
  created_at: Date;
  category_slug: string;
  category_name_sv: string;
  category_name_en: string;
  /** Comma-separated MatchKind values. */
  matched: string;
  /** The resident has a protected identity and the viewer may not see their contact details. */
  contact_hidden: boolean;
  resident_name: string;
  resident_email: string | null;
  resident_phone: string | null;
}

export interface SearchPage {
  /** Older than this (created_at, id), for the next page. */
  after?: { createdAt: Date; id: number };
  limit: number;
}

/** LIKE's wildcards and its escape character, taken literally. */
const likeEscape = (word: string) => word.replace(/[\\%_]/g, (c) => `\\${c}`);
const contains = (word: string) => `%${likeEscape(word)}%`;

/**
 * The search's SQL and bindings, exposed so a test can EXPLAIN exactly what
 * runs. Each kind of match is its own small SELECT that an index answers
 * (unique reference, personnummer, lower(email), phone_key, and the trigram
 * index on search_texts for names, subjects and message text); UNION ALL
 * joins them and the outer query orders the matched cases newest first, a
 * page at a time. search_texts is brought up to date before each search
 * (indexBatch), so it holds every committed case.
 *
 * Protected identity: the viewer's permission is read from users here, at
 * the time of the search. Without it, a protected resident's case is never
 * found by their e-mail, phone or name, nor by text whose words are in their
 * name or e-mail or whose number is their phone: either would tell who is
 * behind the case.
 */
export function searchQuery(plan: SearchPlan, viewerId: number, page: SearchPage): { sql: string; bindings: Knex.RawBinding[] } {
  const parts: string[] = [];
  const bindings: Knex.RawBinding[] = [viewerId];
  const visible = 'NOT r.protected_identity OR v.sees';

  if (plan.reference) {
    parts.push(`SELECT c.id, 'reference' FROM cases c WHERE c.reference = ?`);
    bindings.push(plan.reference);
  }
  if (plan.personnummer) {
    parts.push(`SELECT c.id, 'personnummer' FROM cases c WHERE c.personnummer = ?`);
    parts.push(`SELECT s.case_id, 'personnummer' FROM search_texts s WHERE s.kind = 'subject' AND s.body ~ ?`);
    parts.push(`SELECT s.case_id, 'personnummer' FROM search_texts s WHERE s.kind = 'message' AND s.body ~ ?`);
    bindings.push(plan.personnummer.normalized, plan.personnummer.pattern, plan.personnummer.pattern);
  }
  if (plan.email) {
    parts.push(`SELECT c.id, 'email' FROM residents r JOIN cases c ON c.resident_id = r.id CROSS JOIN viewer v WHERE lower(r.email) = ? AND (${visible})`);
    bindings.push(plan.email);
  }
  if (plan.phone) {
    parts.push(`SELECT c.id, 'phone' FROM residents r JOIN cases c ON c.resident_id = r.id CROSS JOIN viewer v WHERE r.phone_key = sc_phone_key(?) AND (${visible})`);
    bindings.push(plan.phone);
  }
  if (plan.words.length) {
    const all = plan.words.map(() => `s.body ILIKE ?`).join(' AND ');
    const patterns = plan.words.map(contains);
    // Whether the query names the protected resident: a word in their name or e-mail, or their phone number.
    const aboutResident = [
      ...plan.words.map(() => `r.name ILIKE ? OR coalesce(r.email, '') ILIKE ?`),
      ...(plan.phoneKeys.length ? [`r.phone_key IN (${plan.phoneKeys.map(() => 'sc_phone_key(?)').join(', ')})`] : []),
    ].join(' OR ');
    const aboutBindings = [...patterns.flatMap((p) => [p, p]), ...plan.phoneKeys];
    parts.push(`SELECT c.id, 'name' FROM search_texts s JOIN residents r ON r.id = s.source_id JOIN cases c ON c.resident_id = r.id CROSS JOIN viewer v WHERE s.kind = 'name' AND ${all} AND (${visible})`);
    bindings.push(...patterns);
    parts.push(
      `SELECT c.id, 'subject' FROM search_texts s JOIN cases c ON c.id = s.source_id JOIN residents r ON r.id = c.resident_id CROSS JOIN viewer v WHERE s.kind = 'subject' AND ${all} AND (${visible} OR NOT (${aboutResident}))`,
    );
    bindings.push(...patterns, ...aboutBindings);
    parts.push(
      `SELECT s.case_id, 'message' FROM search_texts s JOIN cases c ON c.id = s.case_id JOIN residents r ON r.id = c.resident_id CROSS JOIN viewer v WHERE s.kind = 'message' AND ${all} AND (${visible} OR NOT (${aboutResident}))`,
    );
    bindings.push(...patterns, ...aboutBindings);
  }

  const after = page.after ? 'WHERE (c.created_at, c.id) < (?, ?)' : '';
  if (page.after) bindings.push(page.after.createdAt, page.after.id);
  bindings.push(page.limit);
  const sql = `
    WITH viewer AS (SELECT coalesce((SELECT u.sees_protected FROM users u WHERE u.id = ?), false) AS sees),
    hits (case_id, kind) AS (${parts.join('\n      UNION ALL ')}),
    matched AS (SELECT case_id, string_agg(DISTINCT kind, ',') AS matched FROM hits GROUP BY case_id)
    SELECT c.id, c.reference, c.status, c.subject, c.created_at,
           cat.slug AS category_slug, cat.name_sv AS category_name_sv, cat.name_en AS category_name_en,
           h.matched, (r.protected_identity AND NOT v.sees) AS contact_hidden,
           r.name AS resident_name, r.email AS resident_email, r.phone AS resident_phone
      FROM matched h
      JOIN cases c ON c.id = h.case_id
      JOIN residents r ON r.id = c.resident_id
      JOIN categories cat ON cat.id = c.category_id
      CROSS JOIN viewer v
      ${after}
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT ?`;
  return { sql, bindings };
}

export interface SnippetSource {
  case_id: number;
  body: string;
}

export function createCaseSearchStore(db: Knex) {
  return {
    /**
     * Brings search_texts up to the event log, one batch of events at a time:
     * for each case with new events, its subject, its resident's name and its
     * messages (the row of a message retention removed goes too). Intake
     * writes nothing for search; this runs after commit (the search index
     * loop) and before every search. Answers how many events it read (0: up
     * to date). The state row is locked, so two runs never do the same batch.
     */
    async indexBatch(limit = 2000): Promise<number> {
      // Most searches find the index up to date: that is one read, no lock and no transaction.
      const behind = await db.raw<{ rows: { behind: boolean }[] }>(
        'SELECT EXISTS (SELECT 1 FROM case_events WHERE id > (SELECT last_event_id FROM search_index_state)) AS behind',
      );
      if (!behind.rows[0]?.behind) return 0;
      return db.transaction(async (trx) => {
        const state = await trx('search_index_state').forUpdate().first('last_event_id');
        const events: { id: number | string; case_id: number | string }[] = await trx('case_events')
          .where('id', '>', Number(state?.last_event_id ?? 0))
          .orderBy('id')
          .limit(limit)
          .select('id', 'case_id');
        if (!events.length) return 0;
        const ids = [...new Set(events.map((e) => Number(e.case_id)))];
        const list = ids.map(() => '?').join(', ');
        const upsert = 'ON CONFLICT (kind, source_id) DO UPDATE SET body = excluded.body WHERE search_texts.body IS DISTINCT FROM excluded.body';
        await trx.raw(`INSERT INTO search_texts (kind, source_id, case_id, body) SELECT 'subject', c.id, c.id, c.subject FROM cases c WHERE c.id IN (${list}) ${upsert}`, ids);
        await trx.raw(
          `INSERT INTO search_texts (kind, source_id, case_id, body) SELECT DISTINCT 'name', r.id, NULL::bigint, r.name FROM cases c JOIN residents r ON r.id = c.resident_id WHERE c.id IN (${list}) ${upsert}`,
          ids,
        );
        await trx.raw(`INSERT INTO search_texts (kind, source_id, case_id, body) SELECT 'message', m.id, m.case_id, m.body FROM messages m WHERE m.case_id IN (${list}) ON CONFLICT (kind, source_id) DO NOTHING`, ids);
        await trx.raw(`DELETE FROM search_texts s WHERE s.kind = 'message' AND s.case_id IN (${list}) AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.source_id)`, ids);
        await trx('search_index_state').update({ last_event_id: Number(events[events.length - 1]!.id) });
        return events.length;
      });
    },

    async search(plan: SearchPlan, viewerId: number, page: SearchPage): Promise<SearchHitRow[]> {
      const { sql, bindings } = searchQuery(plan, viewerId, page);
      const { rows } = await db.raw<{ rows: SearchHitRow[] }>(sql, bindings);
      return rows.map((r) => ({ ...r, id: Number(r.id), created_at: new Date(r.created_at) }));
    },

    /**
     * For each case, the newest message that holds the words (all of them) or
     * the personnummer: the text a snippet is cut from.
     */
    async matchingMessages(caseIds: number[], match: { words: string[] } | { pattern: string }): Promise<SnippetSource[]> {
      if (!caseIds.length) return [];
      const q = db('messages as m').distinctOn('m.case_id').select('m.case_id', 'm.body').whereIn('m.case_id', caseIds).orderBy([{ column: 'm.case_id' }, { column: 'm.id', order: 'desc' }]);
      if ('words' in match) for (const w of match.words) q.andWhereRaw('m.body ILIKE ?', [contains(w)]);
      else q.andWhereRaw('m.body ~ ?', [match.pattern]);
      return (await q).map((r: SnippetSource) => ({ case_id: Number(r.case_id), body: r.body }));
    },

    /** For each case, its first message: the snippet when the match was not in a message. */
    async firstMessages(caseIds: number[]): Promise<SnippetSource[]> {
      if (!caseIds.length) return [];
      const rows = await db('messages').distinctOn('case_id').select('case_id', 'body').whereIn('case_id', caseIds).orderBy([{ column: 'case_id' }, { column: 'id' }]);
      return rows.map((r: SnippetSource) => ({ case_id: Number(r.case_id), body: r.body }));
    },
  };
}

export type CaseSearchStore = ReturnType<typeof createCaseSearchStore>;
