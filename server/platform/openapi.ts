import { z } from 'zod';
import { caseUpdateSchema, forwardSchema, newCaseSchema, noteSchema, queueQuerySchema, replySchema } from '../cases/schemas.js';
import { CHANNELS, STATUSES } from '../cases/lifecycle.js';
import type { Services } from '../services.js';
import { clientEvents } from '../live/protocol.js';
import { callbackAttemptSchema, callbackRequestSchema } from '../callbacks/service.js';
import { contactSchema } from '../contacts/service.js';
import { telephonyOpenApi } from '../telephony/openapi.js';
import { faqOpenApi } from '../faq/openapi.js';
import { caseSearchOpenApi } from '../cases/search-openapi.js';
import { staffingOpenApi } from '../stats/staffing-openapi.js';
import { statsLiveOpenApi } from '../stats/live-openapi.js';
import { statsReportOpenApi } from '../stats/openapi.js';
import type { RouteDef } from './routing.js';

type JsonSchema = Record<string, unknown>;

/** Converts a validation schema to JSON Schema as a client sends it (before our transforms). */
function toSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
  delete out.$schema;
  if (typeof out.$ref === 'string' && out.$defs) {
    const id = out.$ref.replace('#/$defs/', '');
    return out.$defs[id] ?? out;
  }
  return out;
}

// Response shapes: described here, produced by toApiCase/toApiQueueItem.
const caseSummary = z.object({
  reference: z.string().meta({ example: 'SC-2026-000123' }),
  status: z.enum(STATUSES),
  channel: z.enum(CHANNELS),
  category: z.string(),
  subject: z.string().meta({ description: 'As in every list: each personnummer and samordningsnummer masked (••••••-••••); GET /api/v1/cases/{reference} has the text in full.' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  assignee: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  department: z.string().nullable(),
  residentName: z.string().nullable().meta({ description: 'Masked as the subject is. Null for a resident with protected identity (skyddad identitet), in every list.' }),
  protectedIdentity: z.boolean().meta({ description: 'The resident has protected identity: no name here, and no automatic e-mail goes to them' }),
});

const caseDetail = z.object({
  reference: z.string(),
  status: z.enum(STATUSES),
  channel: z.enum(CHANNELS),
  category: z.string(),
  subject: z.string(),
  language: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  firstResponseAt: z.iso.datetime().nullable(),
  resolvedAt: z.iso.datetime().nullable(),
  closedAt: z.iso.datetime().nullable(),
  resolvedAtFirstContact: z.boolean().nullable(),
  legalHold: z.boolean().meta({ description: 'Under a legal hold: retention (gallring) never removes the case while it holds.' }),
  assignee: z.object({ id: z.number().int(), name: z.string().nullable() }).nullable(),
  department: z.object({ slug: z.string(), name: z.string() }).nullable(),
  resident: z
    .object({
      name: z.string().nullable(),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      protectedIdentity: z.boolean(),
    })
    .meta({
      description:
        'With protected identity (skyddad identitet), name, email and phone are null (and personnummer too, and contact details in event payloads are left out) unless the user may see protected identities; each answer that shows them is written to the access log.',
    }),
  personnummer: z.string().nullable().meta({ description: 'Given with a topic that asks for one: twelve digits, YYYYMMDDNNNN. Only this answer carries it.', example: '191212121212' }),
  messages: z.array(
    z.object({
      id: z.number().int(),
      kind: z.enum(['resident', 'reply', 'note']),
      internal: z.boolean(),
      author: z.object({ id: z.number().int(), name: z.string() }).nullable(),
      body: z.string(),
      createdAt: z.iso.datetime(),
      attachments: z.array(z.object({ id: z.string(), filename: z.string(), contentType: z.string(), size: z.number().int(), url: z.string() })),
    }),
  ),
  events: z.array(
    z.object({
      id: z.number().int().meta({ description: 'Append-only, increasing event id' }),
      type: z.string().meta({ example: 'status.changed' }),
      actor: z.object({ type: z.enum(['resident', 'user', 'system']), id: z.number().int().optional(), name: z.string().optional() }),
      internal: z.boolean(),
      payload: z.record(z.string(), z.unknown()),
      createdAt: z.iso.datetime(),
    }),
  ),
});

const errorSchema = z.object({
  error: z.string().meta({ example: 'validation_failed' }),
  message: z.string(),
  fields: z.record(z.string(), z.string()).optional().meta({ description: 'One message per invalid field' }),
  errors: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })).optional(),
});

const created = z.object({
  reference: z.string().meta({ example: 'SC-2026-000123' }),
  status: z.literal('new'),
  statusUrl: z.url().meta({ description: "The resident's private link" }),
  createdAt: z.iso.datetime(),
});

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'Error', ...json('Error') }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input, with a message per field',
  401: 'Not signed in, or the API token is invalid',
  403: 'Signed in without the needed role, or a missing CSRF header on a cookie session',
  404: 'No such case',
  409: 'The change is not allowed in the case’s current status',
  429: 'Rate limited',
};
const referenceParam = { name: 'reference', in: 'path', required: true, schema: { type: 'string', pattern: '^SC-\\d{4}-\\d{6,}$' } };
const security = [{ bearer: [] }, { session: [] }];

export function buildOpenApi(publicUrl: string) {
  const queueParams = Object.entries((toSchema(queueQuerySchema).properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema,
  }));
  const telephony = telephonyOpenApi();
  const faq = faqOpenApi();
  const caseSearch = caseSearchOpenApi();
  const staffing = staffingOpenApi();
  const statsLive = statsLiveOpenApi();
  const statsReport = statsReportOpenApi();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Servicecenter API',
      version: '1.0.0',
      description:
        'Cases for a municipal service center. Agents authenticate with `Authorization: Bearer <token>` (create one with `npm run cli -- token:create --email …`) or a browser session; session calls that change something must send the page’s CSRF token in `X-CSRF-Token`.',
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'sc_session' },
        ...telephony.securitySchemes,
      },
      schemas: {
        NewCase: toSchema(newCaseSchema),
        Reply: toSchema(replySchema),
        Note: toSchema(noteSchema),
        CaseUpdate: toSchema(caseUpdateSchema),
        Forward: toSchema(forwardSchema),
        CaseCreated: toSchema(created),
        CaseSummary: toSchema(caseSummary),
        CaseDetail: toSchema(caseDetail),
        Error: toSchema(errorSchema),
        Presence: toSchema(clientEvents.presence),
        Contact: toSchema(contactSchema),
        CallbackRequest: toSchema(callbackRequestSchema),
        CallbackAttempt: toSchema(callbackAttemptSchema),
        ...telephony.schemas,
        ...faq.schemas,
        ...caseSearch.schemas,
        ...staffing.schemas,
        ...statsLive.schemas,
        ...statsReport.schemas,
      },
    },
    paths: {
      '/api/v1/cases': {
        post: {
          summary: 'Create a case',
          description: 'Open to anyone, like the web form, and rate limited the same way.',
          requestBody: { required: true, ...json('NewCase') },
          responses: { '201': { description: 'Created', ...json('CaseCreated') }, ...errors(400, 429) },
        },
        get: {
          summary: 'List cases, oldest first',
          description: 'Keyset pagination: pass `next` from one answer as `cursor` to get the following page.',
          security,
          parameters: queueParams,
          responses: {
            '200': {
              description: 'A page of cases',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { items: { type: 'array', items: ref('CaseSummary') }, next: { type: ['string', 'null'] } }, required: ['items', 'next'] },
                },
              },
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/v1/cases/{reference}': {
        get: { summary: 'A case with messages and events', security, parameters: [referenceParam], responses: { '200': { description: 'The case', ...json('CaseDetail') }, ...errors(401, 403, 404) } },
        patch: {
          summary: 'Change status and/or assignment',
          security,
          parameters: [referenceParam],
          requestBody: { required: true, ...json('CaseUpdate') },
          responses: { '200': { description: 'The changed case', ...json('CaseDetail') }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/v1/cases/{reference}/replies': {
        post: {
          summary: 'Reply to the resident',
          security,
          parameters: [referenceParam],
          requestBody: { required: true, ...json('Reply') },
          responses: { '201': { description: 'The changed case', ...json('CaseDetail') }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/v1/cases/{reference}/notes': {
        post: {
          summary: 'Add an internal note',
          security,
          parameters: [referenceParam],
          requestBody: { required: true, ...json('Note') },
          responses: { '201': { description: 'The changed case', ...json('CaseDetail') }, ...errors(400, 401, 403, 404) },
        },
      },
      '/api/v1/cases/{reference}/forward': {
        post: {
          summary: 'Forward to a department',
          security,
          parameters: [referenceParam],
          requestBody: { required: true, ...json('Forward') },
          responses: { '200': { description: 'The changed case', ...json('CaseDetail') }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/v1/queue/take-next': {
        post: {
          summary: 'Take the oldest waiting case',
          description: 'Assigns the oldest new, unassigned case to the caller and opens it. Concurrent callers never get the same case.',
          security,
          responses: { '200': { description: 'The case taken', ...json('CaseDetail') }, '204': { description: 'Nothing is waiting' }, ...errors(401, 403) },
        },
      },
      '/api/v1/queue/counts': {
        get: { summary: 'What is waiting now, per channel and topic, and the oldest waiting case', security, responses: { '200': { description: 'Counts' }, ...errors(401, 403) } },
      },
      '/api/v1/me/presence': {
        put: {
          summary: 'Set my status',
          security,
          requestBody: { required: true, ...json('Presence') },
          responses: { '200': { description: 'The status now', ...json('Presence') }, ...errors(400, 401, 403) },
        },
      },
      '/api/v1/presence': {
        get: { summary: "Agents' status and whether they are connected (managers)", security, responses: { '200': { description: 'Agents' }, ...errors(401, 403) } },
      },
      '/api/v1/contacts': {
        post: {
          summary: 'Register a phone call or a visit',
          description:
            'Outcome `answered`: resolved at once, counted as resolved at first contact. `forwarded`: handed to `department` with the summary as the note. `callback`: queued for `slot` (the start of one of /api/v1/callbacks/slots; empty: as soon as the center is open), needs `phone`. `case`: open, assigned to the caller of the API.',
          security,
          requestBody: { required: true, ...json('Contact') },
          responses: { '201': { description: '{ reference, outcome, status }' }, ...errors(400, 401, 403) },
        },
      },
      '/api/v1/callbacks/slots': {
        get: { summary: 'The windows a resident can choose to be called in (opening hours, holidays excluded)', responses: { '200': { description: '{ slots: [{ start, end }] }' } } },
      },
      '/api/v1/callbacks': {
        post: {
          summary: 'Ask to be called back',
          description: 'Open to anyone, like the web form, and rate limited the same way. `slot` must be the start of one of the offered windows.',
          requestBody: { required: true, ...json('CallbackRequest') },
          responses: { '201': { description: '{ reference, statusUrl, phone, window }' }, ...errors(400, 429) },
        },
        get: { summary: 'Pending callbacks, the first due first', security, responses: { '200': { description: '{ items }' }, ...errors(401, 403) } },
      },
      '/api/v1/cases/{reference}/callback-attempts': {
        post: {
          summary: 'Record an attempt to call back',
          description: 'No answer or busy: back in the queue after the pause (CALLBACK_RETRY_MINUTES), within opening hours. Wrong number, or the last attempt: the callback has failed. Reached: done; `resolve` resolves the case.',
          security,
          parameters: [referenceParam],
          requestBody: { required: true, ...json('CallbackAttempt') },
          responses: { '201': { description: '{ case, callback }' }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/v1/categories': { get: { summary: 'Topics', responses: { '200': { description: 'Active topics' } } } },
      '/api/v1/departments': { get: { summary: 'Departments', security, responses: { '200': { description: 'Active departments' }, ...errors(401, 403) } } },
      ...telephony.paths,
      ...faq.paths,
      ...caseSearch.paths,
      ...staffing.paths,
      ...statsLive.paths,
      ...statsReport.paths,
      '/healthz': { get: { summary: 'Health', responses: { '200': { description: '{"status":"ok"}' }, '503': { description: 'The database does not answer' } } } },
    },
  };
}

export function openApiRoutes(s: Services): RouteDef[] {
  const doc = buildOpenApi(s.config.publicUrl);
  return [
    {
      method: 'get',
      path: '/api/v1/openapi.json',
      access: 'public',
      summary: 'This API, described',
      handler: (_req, res) => {
        res.json(doc);
      },
    },
  ];
}
