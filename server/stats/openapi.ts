import { CHANNELS } from '../cases/lifecycle.js';
import { MAX_DAYS } from './filter.js';
import { PERIODS } from './report.js';

type JsonSchema = Record<string, unknown>;

const share: JsonSchema = {
  type: 'object',
  description: 'A part of a whole: `share` = `count` / `of`, null when `of` is 0',
  properties: { count: { type: 'integer' }, of: { type: 'integer' }, share: { type: ['number', 'null'], minimum: 0, maximum: 1 } },
  required: ['count', 'of', 'share'],
};

/** The query parameters every statistic takes (server/stats/filter.ts). */
export const statsFilterParameters = [
  { name: 'from', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: 'First local day, included (default: 29 days before `to`)' },
  { name: 'to', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: `Last local day, included (default: today); at most ${MAX_DAYS} days in all` },
  { name: 'channel', in: 'query', required: false, schema: { type: 'string', enum: [...CHANNELS] } },
  { name: 'category', in: 'query', required: false, schema: { type: 'string' }, description: "A topic's short name" },
  { name: 'department', in: 'query', required: false, schema: { type: 'string' }, description: "The short name of the department cases were forwarded to" },
  { name: 'agent', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, description: "A user's id: their cases (managers; an agent may give only their own)" },
];

/** The history report's part of the OpenAPI document, merged by server/platform/openapi.ts. */
export function statsReportOpenApi(): { schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const hours = { type: ['number', 'null'], description: 'Working hours' };
  return {
    schemas: {
      StatsShare: share,
      StatsReport: {
        type: 'object',
        properties: {
          period: { type: 'object', properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' }, timeZone: { type: 'string' } } },
          filter: { type: 'object' },
          volumes: {
            type: 'object',
            properties: {
              per: { type: 'string', enum: [...PERIODS] },
              total: { type: 'integer' },
              rows: { type: 'array', items: { type: 'object', properties: { period: { type: 'string' }, total: { type: 'integer' }, byChannel: { type: 'object', additionalProperties: { type: 'integer' } } } } },
            },
          },
          hourOfWeek: { type: 'array', description: 'Arrivals per local weekday (0 = Monday) and hour (0–23)', items: { type: 'array', items: { type: 'integer' } } },
          firstResponse: { type: 'object', properties: { arrivals: { type: 'integer' }, answered: { type: 'integer' }, medianHours: hours, p90Hours: hours } },
          resolution: { type: 'object', properties: { resolved: { type: 'integer' }, medianHours: hours, p90Hours: hours } },
          kkik: {
            type: 'object',
            description:
              'writtenWithin1Day / writtenWithin2Days: e-mail and web questions answered within 1 / 2 working days, over those decided (answered in time, or the deadline has passed). phoneResolvedDirectly: phone contacts resolved at the first contact. calls: null when the filter leaves calls out (another channel, a topic or a department).',
          },
          backlog: { type: 'array', items: { type: 'object', properties: { period: { type: 'string' }, open: { type: 'integer' } } } },
          faq: { type: 'object' },
          survey: { type: ['object', 'null'], description: 'The service survey indices (0–100, SKR: 5 = 100 … 1 = 0, the mean), null when none are collected' },
          agents: { type: 'array', description: 'Managers only', items: { type: 'object' } },
          departments: { type: 'array', description: 'Managers only', items: { type: 'object' } },
        },
      },
    },
    paths: {
      '/api/v1/stats/report': {
        get: {
          summary: 'The history report',
          description:
            'Volumes per day, week or month, arrivals per hour of the week, first response and resolution (median and 90th percentile in working hours), KKiK measures, calls, callbacks, the backlog, the FAQ and the service survey, for a period of local days and optional filters. Managers also get per-agent and per-department tables.',
          security: [{ bearer: [] }, { session: [] }],
          parameters: [...statsFilterParameters, { name: 'per', in: 'query', required: false, schema: { type: 'string', enum: [...PERIODS] }, description: 'Grouping of volumes and backlog (default by the length of the period)' }],
          responses: {
            '200': { description: 'The report', content: { 'application/json': { schema: { $ref: '#/components/schemas/StatsReport' } } } },
            '400': { description: 'A bad period or filter (a message per field)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
            '401': { description: 'Not signed in' },
            '403': { description: "An agent asked for another agent's figures" },
          },
        },
      },
    },
  };
}
