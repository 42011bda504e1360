import { z } from 'zod';
import { faqSearchResponseSchema, faqSearchResultSchema, MAX_LIMIT, MAX_QUERY_LENGTH } from './schemas.js';
import { FAQ_CATEGORIES, FAQ_LANGS } from './store.js';
import { faqArticleResponseSchema } from './article-schemas.js';
import { deflectionOpenSchema, deflectionRecordedSchema } from './deflection.js';

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
      FaqArticle: toSchema(faqArticleResponseSchema),
      FaqDeflectionOpen: toSchema(deflectionOpenSchema),
      FaqDeflectionRecorded: toSchema(deflectionRecordedSchema),
    },
    paths: {
      '/api/v1/faq/deflections': {
        post: {
          summary: 'Record an opened suggestion',
          description: [
            'Called by the contact form when a resident opens one of the suggested articles, before leaving for it. `token` is the form\'s `faq_visit` value: the first open of a visit records it with its article, later opens only count.',
            'If the form is then sent, the visit is marked with the new case; a visit never marked is a contact the FAQ saved. Nothing the resident typed is sent or kept.',
            'Public, for the resident\'s browser: send the page\'s CSRF token (its `_csrf` field) as `X-CSRF-Token`, with the cookies the page set. Rate-limited per address.',
          ].join('\n\n'),
          security: [],
          parameters: [{ name: 'X-CSRF-Token', in: 'header', required: true, schema: { type: 'string' }, description: "The contact form's `_csrf` value" }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('FaqDeflectionOpen') } } },
          responses: {
            '201': { description: 'The first suggestion opened on this visit: recorded', content: { 'application/json': { schema: ref('FaqDeflectionRecorded') } } },
            '200': { description: 'Another suggestion opened on the same visit: counted', content: { 'application/json': { schema: ref('FaqDeflectionRecorded') } } },
            '400': { description: 'Not a JSON object, or a field is missing or invalid (a message per field)', content: { 'application/json': { schema: ref('Error') } } },
            '403': { description: 'The CSRF token is missing or wrong', content: { 'application/json': { schema: ref('Error') } } },
            '404': { description: 'No published article with that category and slug', content: { 'application/json': { schema: ref('Error') } } },
            '429': { description: 'Too many requests from this address', content: { 'application/json': { schema: ref('Error') } } },
          },
        },
      },
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
      '/api/v1/faq/articles/{category}/{slug}': {
        get: {
          summary: 'One FAQ article',
          description: [
            'A published article in the language asked for, or in Swedish when it is not translated into it (`fallback` is then true and `lang` is sv).',
            '`html` is the body rendered from Markdown and sanitized; `text` is the body as plain text, and `url` the public page, for an agent to put in a reply. Public; no sign-in needed.',
          ].join('\n\n'),
          security: [],
          parameters: [
            { name: 'category', in: 'path', required: true, schema: { type: 'string', enum: [...FAQ_CATEGORIES] }, description: "The article's category" },
            { name: 'slug', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,118}$' }, description: "The article's name in its URL" },
            { name: 'lang', in: 'query', required: false, schema: { type: 'string', enum: [...FAQ_LANGS], default: 'sv' }, description: 'The language wanted' },
          ],
          responses: {
            '200': { description: 'The article', content: { 'application/json': { schema: ref('FaqArticle') } } },
            '400': { description: 'Invalid parameters, with a message per field', content: { 'application/json': { schema: ref('Error') } } },
            '404': { description: 'No published article with that category and slug', content: { 'application/json': { schema: ref('Error') } } },
          },
        },
      },
    },
  };
}
