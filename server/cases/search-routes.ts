import type { Request, Response } from 'express';
import type { ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { MAX_QUERY_LENGTH, MIN_WORD_LENGTH, type CaseSearchItem, type CaseSearchResult } from './search.js';

/** Where each field of the search sits on the page, for the error summary's links. */
export function toApiSearchItem(i: CaseSearchItem) {
  return {
    reference: i.reference,
    status: i.status,
    category: i.category.slug,
    categoryName: { sv: i.category.name_sv, en: i.category.name_en },
    subject: i.subject,
    snippet: i.snippet,
    createdAt: i.createdAt.toISOString(),
    matched: i.matched,
  };
}

/**
 * Case search for staff: the page /agent/sok (a GET form, works without
 * JavaScript) and its JSON twin. The query is a GET parameter, so it is in
 * the URL: server/app.ts keeps it out of the request log.
 */
export function caseSearchRoutes(s: Services): RouteDef[] {
  const { caseSearch } = s;

  function render(req: Request, res: Response, status: number, result: CaseSearchResult | undefined, error?: ValidationError) {
    const lang = req.ctx.lang;
    // A bad cursor is about the same search: its error points to the query field too.
    const { errors, errorList } = errorSummary(error, lang, ['q']);
    const typed = typeof req.query.q === 'string' ? req.query.q : '';
    const q = result?.q ?? typed;
    res.status(status).render('agent/search', {
      lang,
      // Not the query: a title goes into the browser's history and window lists, and the query may be a personnummer.
      title: translate(lang, 'search.title'),
      q,
      maxLength: MAX_QUERY_LENGTH,
      minWord: MIN_WORD_LENGTH,
      errors,
      errorList,
      // Something was typed but nothing in it can be searched for (only very short words).
      unsearchable: Boolean(result && result.q && !result.searched),
      searched: result?.searched ?? false,
      items: result?.items ?? [],
      count: result?.items.length ?? 0,
      firstUrl: typeof req.query.cursor === 'string' && result?.searched ? `/agent/sok?${new URLSearchParams({ q: result.q }).toString()}` : undefined,
      nextUrl: result?.next ? `/agent/sok?${new URLSearchParams({ q: result.q, cursor: result.next }).toString()}` : undefined,
    });
  }

  return [
    {
      method: 'get',
      path: '/agent/sok',
      access: 'agent',
      summary: 'Search cases',
      handler: async (req, res) => {
        await orRerender(
          async () => render(req, res, 200, await caseSearch.search(req.ctx.user!, req.query)),
          (error) => render(req, res, 400, undefined, error),
        );
      },
    },
    {
      method: 'get',
      path: '/api/v1/cases/search',
      access: 'agent',
      summary: 'Search cases (reference, personnummer, e-mail, phone, name, words), newest first',
      handler: async (req, res) => {
        const result = await caseSearch.search(req.ctx.user!, req.query);
        res.json({ items: result.items.map(toApiSearchItem), next: result.next });
      },
    },
  ];
}
