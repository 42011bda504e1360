import { z } from 'zod';
import { CHANNELS } from '../cases/lifecycle.js';
import { PRESENCE_STATUSES } from '../live/protocol.js';

type JsonSchema = Record<string, unknown>;

const count = z.number().int().min(0);
const shareOrNull = z.number().min(0).max(1).nullable();
const agentCounts = z.strictObject({ total: count, connected: count.meta({ description: 'Of them, with the live workspace open now' }) });

/** GET /api/v1/stats/live as it answers (LiveBoardSnapshot in server/live/protocol.ts); the tests check answers against it. */
export const liveBoardSchema = z.strictObject({
  at: z.iso.datetime().meta({ description: 'When the figures were computed' }),
  day: z.iso.date().meta({ description: 'Today, the local date in the statistics time zone' }),
  timeZone: z.string().meta({ example: 'Europe/Stockholm' }),
  waiting: z.strictObject({
    total: count.meta({ description: 'New cases nobody has taken that want attention now (a callback waits for its time)' }),
    byChannel: z.array(z.strictObject({ channel: z.enum(CHANNELS), count })).meta({ description: 'Every channel, 0 included' }),
    byCategory: z.array(z.strictObject({ slug: z.string(), nameSv: z.string(), nameEn: z.string(), count })).meta({ description: 'Topics with something waiting, most first' }),
    oldest: z
      .strictObject({ reference: z.string().meta({ example: 'SC-2026-000123' }), since: z.iso.datetime(), waitSeconds: count })
      .nullable()
      .meta({ description: 'The case that has waited longest, since it wanted attention' }),
  }),
  agents: z.strictObject(Object.fromEntries(PRESENCE_STATUSES.map((s) => [s, agentCounts])) as Record<(typeof PRESENCE_STATUSES)[number], typeof agentCounts>).meta({
    description: 'Active staff by their status',
  }),
  today: z.strictObject({
    contacts: count.meta({ description: 'Cases that arrived today (since local midnight)' }),
    answeredDirectly: count.meta({ description: 'Of those, resolved at the first contact' }),
    answeredDirectlyShare: shareOrNull,
    byChannel: z.array(z.strictObject({ channel: z.enum(CHANNELS), contacts: count, answeredDirectly: count })),
  }),
  phone: z.strictObject({
    offered: count.meta({ description: 'Calls offered today' }),
    answered: count,
    abandoned: count.meta({ description: 'Ended without being answered' }),
    inQueue: count.meta({ description: 'Offered, neither answered nor ended yet' }),
    answeredWithinTarget: count.meta({ description: 'Answered at most targetSeconds after being offered' }),
    serviceLevel: shareOrNull.meta({ description: 'answeredWithinTarget / offered; null with no calls' }),
    targetSeconds: count.meta({ description: 'STATS_SERVICE_LEVEL_SECONDS' }),
    goal: z.number().min(0).max(1).meta({ description: 'STATS_SERVICE_LEVEL_GOAL_PERCENT as a share' }),
  }),
  callbacks: z.strictObject({ dueNow: count.meta({ description: 'Pending, due now or earlier' }), laterToday: count.meta({ description: 'Pending, due later today' }) }),
});

/** The live board's part of the OpenAPI document, for server/platform/openapi.ts to merge: `components.schemas` and `paths`. */
export function statsLiveOpenApi(): { schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const { $schema: _s, ...schema } = z.toJSONSchema(liveBoardSchema, { io: 'output', unrepresentable: 'any' }) as JsonSchema & { $schema?: string };
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    schemas: { LiveBoard: schema },
    paths: {
      '/api/v1/stats/live': {
        get: {
          summary: 'The live board',
          description: [
            'What is waiting now (per channel and topic, the longest wait), agents by status, and today so far: contacts, answered directly, calls and the service level, callbacks due. "Today" is the local day in the statistics time zone (TIME_ZONE), from midnight.',
            'For agents and up, and the one call a wallboard token (`npm run cli -- token:create --email … --scope wallboard`) may make: such a token gets 403 everywhere else. The live workspace pushes the same figures to a subscribed socket (`subscribe` with `{ board: true }`, event `board`).',
          ].join('\n\n'),
          security: [{ bearer: [] }, { session: [] }],
          responses: {
            '200': { description: 'The board now', content: { 'application/json': { schema: { $ref: '#/components/schemas/LiveBoard' } } } },
            '401': error('Not signed in, or the API token is invalid or revoked'),
            '403': error('Signed in without the agent role'),
          },
        },
      },
    },
  };
}
