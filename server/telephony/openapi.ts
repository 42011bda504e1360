import { z } from 'zod';
import { callEventBatchSchema, callEventSchema, CALL_OUTCOMES, MAX_EVENTS_PER_REQUEST } from './schemas.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.js';

type JsonSchema = Record<string, unknown>;

/**
 * The telephony part of the OpenAPI document, for server/platform/openapi.ts
 * to merge: `components.securitySchemes`, `components.schemas` and `paths`.
 * The event schemas are generated from the zod schemas the endpoint
 * validates with; references between them point into components/schemas.
 */
export function telephonyOpenApi(): { securitySchemes: Record<string, JsonSchema>; schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const schemas: Record<string, JsonSchema> = {};
  const add = (name: string, schema: z.ZodType) => {
    const out = JSON.parse(
      JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })).replaceAll('"#/$defs/', '"#/components/schemas/'),
    ) as JsonSchema & { $defs?: Record<string, JsonSchema>; $schema?: string };
    const { $defs, $schema: _s, ...rest } = out;
    Object.assign(schemas, $defs ?? {});
    if (!$defs?.[name]) schemas[name] = rest;
  };
  add('CallEvent', callEventSchema);
  add('CallEventBatch', callEventBatchSchema);
  add('TelephonyReceipt', receiptSchema);
  add('Call', callSchema);

  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
  const error = (description: string) => ({ description, ...json('Error') });
  const security = [{ bearer: [] }, { session: [] }];

  return {
    securitySchemes: {
      telephonySignature: {
        type: 'apiKey',
        in: 'header',
        name: SIGNATURE_HEADER,
        description: `\`sha256=\` and the hex HMAC-SHA256, keyed with the shared secret (TELEPHONY_SECRET), of \`<${TIMESTAMP_HEADER}>.<raw request body>\`. Sent with ${TIMESTAMP_HEADER} (unix seconds), which must be within the allowed skew of the server's clock (300 seconds by default, TELEPHONY_MAX_SKEW_SECONDS).`,
      },
    },
    schemas,
    paths: {
      '/api/v1/telephony/events': {
        post: {
          summary: 'Call events from the telephony platform',
          description: [
            `One event, or \`{ "events": [...] }\` with up to ${MAX_EVENTS_PER_REQUEST}. Each request is signed (see the telephonySignature scheme); the signature is the only authentication, and a session or API token does not replace it.`,
            'Every event is stored once: a repeated `id` is acknowledged as a duplicate and changes nothing, so the platform can safely retry. A call is worked out from all of its events in the order of their `at` times, so events may arrive in any order.',
            `When a call is answered by a known agent (by \`agent\` e-mail, or \`extension\` set on the user), that agent's dashboard shows the caller's earlier cases and callbacks. A call that ends ${CALL_OUTCOMES.filter((o) => o !== 'completed').join(', ')} without being answered, from a number, leaves a callback case (once per call).`,
            'All events of a request are validated before any is stored: one invalid event refuses the whole request.',
          ].join('\n\n'),
          security: [{ telephonySignature: [] }],
          parameters: [
            { name: TIMESTAMP_HEADER, in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9]{1,12}$' }, description: 'Unix time in seconds when the request was signed' },
            { name: SIGNATURE_HEADER, in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-fA-F]{64}$' }, description: 'sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">' },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('CallEvent'), ref('CallEventBatch')] } } } },
          responses: {
            '200': { description: 'Stored (or recognised as duplicates)', ...json('TelephonyReceipt') },
            '400': error('Not JSON, or an invalid event: a message per field, such as `events.3.outcome`'),
            '401': error('Unsigned, a signature that does not match, or a stale or future timestamp (signature_missing, signature_invalid, timestamp_invalid)'),
            '415': error('The body is not application/json'),
            '503': error('Telephony is not configured on this server (no TELEPHONY_SECRET)'),
          },
        },
      },
      '/api/v1/telephony/calls': {
        get: {
          summary: 'The call log, newest first',
          description: 'Keyset pagination: pass `next` from one answer as `cursor` to get older calls.',
          security,
          parameters: [
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          ],
          responses: {
            '200': {
              description: 'A page of calls',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { items: { type: 'array', items: ref('Call') }, next: { type: ['string', 'null'] } }, required: ['items', 'next'] },
                },
              },
            },
            '400': error('A cursor this API did not give out, or a bad limit'),
            '401': error('Not signed in, or the API token is invalid'),
            '403': error('Signed in without the agent role'),
          },
        },
      },
    },
  };
}

const receiptSchema = z.object({
  accepted: z.number().int().meta({ description: 'Events stored by this request' }),
  duplicates: z.number().int().meta({ description: 'Events whose id was already known: acknowledged, nothing changed' }),
  callbacks: z.number().int().meta({ description: 'Callback cases this request created for missed calls' }),
});

const callSchema = z.object({
  callId: z.string(),
  caller: z.string().nullable().meta({ description: 'null: a hidden number, or a number of a resident with protected identity (callerProtected)' }),
  callerProtected: z.boolean().meta({ description: 'The number belongs to a resident with protected identity (skyddad identitet): it is never listed' }),
  queue: z.string().nullable(),
  state: z.enum(['offered', 'answered', 'ended']),
  outcome: z.enum(CALL_OUTCOMES).nullable(),
  offeredAt: z.iso.datetime().nullable(),
  answeredAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  agent: z.object({ id: z.number().int(), name: z.string().nullable() }).nullable(),
  extension: z.string().nullable(),
  waitSeconds: z.number().int().nullable().meta({ description: 'Until answered, or until the caller hung up' }),
  talkSeconds: z.number().int().nullable().meta({ description: 'From answered to ended' }),
  callback: z.object({ reference: z.string() }).nullable().meta({ description: 'The callback case a missed call left' }),
});
