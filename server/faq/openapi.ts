import { z } from 'zod';
import { faqSearchResponseSchema, faqSearchResultSchema, MAX_LIMIT, MAX_QUERY_LENGTH } from './schemas.js';
import { FAQ_LANGS } from './store.js';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema & { $schema?: string };
  return rest;
}

/** The FAQ part of the OpenAPI document, for server/platform/openapi.ts to merge: `components.schemas` and `paths`. */
export function faqOpenApi(): { schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  return {
    schemas: {
      FaqSearchResult: toSchema(faqSearchResultSchema),
      FaqSearchResponse: { ...toSchema(faqSearchResponseSchema), properties: { items: { type: 'array', items: ref('FaqSearchResult') } } },
    },
    paths: {
      '/api/v1/faq/search': {
        get: {
          summary: 'Search the FAQ',
          description: [
            'Full-text search over the published FAQ articles in one language (Swedish stemming for sv, English for en, plain words for ar), best first.',
            'The last word also matches as a prefix, so results come while typing; title and keywords also match by trigram similarity, for typos and compound words ("bygglovsansökan").',
            'Only words count: punctuation and search operators in `q` are ignored, and a query without any word answers an empty list. Public; no sign-in needed.',
          ].join('\n\n'),
          security: [],
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: MAX_QUERY_LENGTH }, description: 'What the resident is asking, as typed' },
            { name: 'lang', in: 'query', required: false, schema: { type: 'string', enum: [...FAQ_LANGS], default: 'sv' }, description: 'The language of the articles to search' },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 10 }, description: 'At most this many results' },
          ],
          responses: {
            '200': { description: 'The matching articles, best first; `score` only orders them', content: { 'application/json': { schema: ref('FaqSearchResponse') } } },
            '400': { description: 'Invalid parameters, with a message per field', content: { 'application/json': { schema: ref('Error') } } },
          },
        },
      },
    },
  };
}
