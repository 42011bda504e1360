import { STATUSES } from './lifecycle.js';
import { MAX_QUERY_LENGTH, MIN_WORD_LENGTH, PAGE_SIZE, SNIPPET_LENGTH } from './search.js';
import { MATCH_KINDS } from './search-store.js';

type JsonSchema = Record<string, unknown>;

/** The case search's part of the OpenAPI document, for server/platform/openapi.ts to merge. */
export function caseSearchOpenApi(): { schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
  return {
    schemas: {
      CaseSearchResult: {
        type: 'object',
        required: ['reference', 'status', 'category', 'categoryName', 'subject', 'snippet', 'createdAt', 'matched'],
        properties: {
          reference: { type: 'string', examples: ['SC-2026-000123'] },
          status: { type: 'string', enum: [...STATUSES] },
          category: { type: 'string', description: "The topic's slug" },
          categoryName: { type: 'object', properties: { sv: { type: 'string' }, en: { type: 'string' } }, required: ['sv', 'en'] },
          subject: { type: 'string', description: 'Each personnummer and samordningsnummer masked (••••••-••••)' },
          snippet: { type: 'string', description: `About ${SNIPPET_LENGTH} characters of the matching message (or the first one), masked like the subject; "…" where text was left out` },
          createdAt: { type: 'string', format: 'date-time' },
          matched: { type: 'array', items: { type: 'string', enum: [...MATCH_KINDS] }, description: 'What the query matched' },
        },
      },
    },
    paths: {
      '/api/v1/cases/search': {
        get: {
          summary: 'Search cases, newest first',
          description: [
            'One query finds cases by: a case reference (exact, any case: `sc-2026-000123`); a personnummer or samordningsnummer in any form (10 or 12 digits, with or without `-` or `+`), in the case and written in its subject or messages; the resident\'s e-mail address (exact) or phone number (compared as digits with the country code: `070-123 45 67` is `+46701234567`); and words in the resident\'s name, the subject or a message (each word, as part of a word, in the same text).',
            `Words shorter than ${MIN_WORD_LENGTH} characters are left out; an empty query, or one with nothing else in it, answers an empty list. At most ${PAGE_SIZE} cases per page: pass \`next\` as \`cursor\` for older ones.`,
            'Subjects and snippets are masked: GET /api/v1/cases/{reference} has the full text. A resident with a protected identity is never found by their e-mail, phone or name (nor by words in their name or e-mail) for a user without the permission to see protected residents.',
            'The query is not logged.',
          ].join('\n\n'),
          security: [{ bearer: [] }, { session: [] }],
          parameters: [
            { name: 'q', in: 'query', required: false, schema: { type: 'string', maxLength: MAX_QUERY_LENGTH }, description: 'What to look for, as typed' },
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: '`next` from the previous page' },
          ],
          responses: {
            '200': {
              description: 'The matching cases, newest first',
              content: {
                'application/json': {
                  schema: { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: ref('CaseSearchResult') }, next: { type: ['string', 'null'] } } },
                },
              },
            },
            '400': error(`q longer than ${MAX_QUERY_LENGTH} characters, or a cursor this search did not give out (a message per field)`),
            '401': error('Not signed in, or the API token is invalid'),
            '403': error('Signed in without the agent role'),
          },
        },
      },
    },
  };
}
