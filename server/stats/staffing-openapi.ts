import { z } from 'zod';
import { CHANNELS } from '../cases/lifecycle.js';
import { MAX_AGENTS, WEEKDAYS } from './erlang-c.js';
import { AHT_SECONDS_MAX, ARRIVALS_PER_HOUR_MAX, SHRINKAGE_PERCENT_MAX, STAFFING_DEFAULTS, TARGET_SECONDS_MAX } from './staffing-schema.js';
import { DEFAULT_HISTORY_WEEKS, STAFFING_SOURCES, TARGET_CHOICES } from './staffing.js';

type JsonSchema = Record<string, unknown>;

const share = (what: string) => z.number().min(0).max(1).nullable().meta({ description: `${what}, a share 0–1; null when closed` });

const totals = {
  arrivals: z.number().meta({ description: 'Contacts arriving within office hours' }),
  arrivalsWhileClosed: z.number().meta({ description: 'Contacts arriving outside office hours (not in the staffing)' }),
  agentHours: z.number().meta({ description: 'Hours of agents on the phones: Σ agents × open part of each hour' }),
  scheduledHours: z.number().meta({ description: 'Hours of agents to schedule, with the shrinkage' }),
  peakAgents: z.number().int(),
  peakScheduled: z.number().int(),
  serviceLevel: z.number().nullable().meta({ description: 'Predicted share answered within the target, weighted by arrivals; null without contacts' }),
  asa: z.number().nullable().meta({ description: 'Predicted average speed of answer in seconds, weighted by arrivals; null without contacts' }),
  occupancy: z.number().nullable().meta({ description: 'Traffic over agent time; null without agents' }),
};

const staffingPlanSchema = z.object({
  inputs: z.object({
    source: z.enum(STAFFING_SOURCES),
    target: z.enum(TARGET_CHOICES),
    ahtSeconds: z.number(),
    targetServiceLevel: z.number().meta({ description: 'Percent, e.g. 80' }),
    targetSeconds: z.number(),
    shrinkage: z.number().meta({ description: 'Percent, e.g. 30' }),
    maxOccupancy: z.number().nullable().meta({ description: 'Percent, or null for no limit' }),
    channel: z.enum(CHANNELS).nullable().meta({ description: 'History only; null for every channel' }),
    period: z
      .object({
        from: z.iso.date(),
        to: z.iso.date(),
        timeZone: z.string(),
        weeks: z.number(),
        closedDays: z.array(z.object({ day: z.iso.date(), name: z.string() })).meta({ description: 'Holidays whose office hours were left out of the average' }),
      })
      .nullable()
      .meta({ description: 'History only: the local days counted' }),
    officeHours: z.string().meta({ description: 'The weekly office hours (STATS_OFFICE_HOURS)', example: 'mon-fri 08:00-16:30' }),
  }),
  hours: z
    .array(
      z.object({
        hourOfWeek: z.number().int().min(0).max(167),
        day: z.enum(WEEKDAYS),
        hour: z.number().int().min(0).max(23),
        openMinutes: z.number().int().min(0).max(60),
        open: z.boolean(),
        arrivals: z.number().meta({ description: 'Contacts in this hour of the week (average per week, or as entered)' }),
        arrivalRate: z.number().nullable().meta({ description: 'Contacts per hour while open (arrivals × 60 / openMinutes), what Erlang C is given' }),
        trafficErlangs: z.number().nullable(),
        agents: z.number().int().nullable().meta({ description: 'Agents needed on the phones; null when closed' }),
        scheduled: z.number().int().nullable().meta({ description: 'Agents to schedule with the shrinkage; null when closed' }),
        serviceLevel: share('Predicted service level'),
        asa: z.number().nullable().meta({ description: 'Predicted average speed of answer in seconds' }),
        occupancy: share('Predicted occupancy'),
        probabilityOfWaiting: share('Predicted probability of waiting (Erlang C)'),
      }),
    )
    .length(168)
    .meta({ description: 'Monday 00–01 first, local time' }),
  days: z.array(z.object({ day: z.enum(WEEKDAYS), openPeriods: z.array(z.object({ start: z.string(), end: z.string() })), ...totals })).length(7),
  week: z.object(totals),
});

/** The staffing part of the OpenAPI document, for server/platform/openapi.ts to merge. */
export function staffingOpenApi(): { schemas: Record<string, JsonSchema>; paths: Record<string, JsonSchema> } {
  const { $schema: _s, ...plan } = z.toJSONSchema(staffingPlanSchema, { io: 'output', unrepresentable: 'any' }) as JsonSchema & { $schema?: string };
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const num = (description: string, extra: JsonSchema = {}) => ({ in: 'query', required: false, schema: { type: 'number', ...extra }, description });
  return {
    schemas: { StaffingPlan: plan },
    paths: {
      '/api/v1/stats/staffing': {
        get: {
          summary: 'Staffing per hour of the week (Erlang C)',
          description: [
            'The agents needed each hour of the week to reach a service level target, with Erlang C (M/M/N: no abandonment, so it errs towards too many), the agents to schedule after shrinkage, and the predicted service level, average speed of answer and occupancy. The same parameters as the page /agent/statistik/bemanning. Needs the manager role.',
            `Arrivals come from history (\`source=history\`, the default): the average per hour of the week over \`from\`–\`to\` (local dates; default the last ${DEFAULT_HISTORY_WEEKS} full weeks), by local wall time, holidays the centre was closed left out. Phone arrivals are the calls offered (the call log); other channels the cases as they arrived; without \`channel\`, both. Or entered (\`source=entered\`): \`arrivalsPerHour\`, one rate for every office hour (an hour open for 30 minutes gets half as many contacts), or \`h0\`…\`h167\`, the contacts in each hour of the week (h0 is Monday 00–01, h33 Tuesday 09–10; for an hour open in part, the contacts in its open part; empty or missing is 0; hours outside office hours are ignored).`,
            'Hours outside the office hours (STATS_OFFICE_HOURS) are closed: no staff, fields null. An hour open in part is computed for its open part. Fractions in the answer are shares 0–1; the inputs are percent as given.',
          ].join('\n\n'),
          security: [{ bearer: [] }, { session: [] }],
          parameters: [
            { name: 'source', in: 'query', required: false, schema: { type: 'string', enum: [...STAFFING_SOURCES], default: 'history' } },
            { name: 'from', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: 'History: the first local day' },
            { name: 'to', in: 'query', required: false, schema: { type: 'string', format: 'date' }, description: 'History: the last local day, included' },
            { name: 'channel', in: 'query', required: false, schema: { type: 'string', enum: [...CHANNELS] }, description: 'History: one channel; every channel when left out' },
            { name: 'target', in: 'query', required: false, schema: { type: 'string', enum: [...TARGET_CHOICES] }, description: '80-20: 80 % within 20 s; 90-300: 90 % within 5 minutes; custom: targetServiceLevel and targetSeconds. Default custom when those are given, else 80-20' },
            { name: 'targetServiceLevel', ...num('Custom target: percent answered within targetSeconds', { minimum: 1, maximum: 100 }) },
            { name: 'targetSeconds', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: TARGET_SECONDS_MAX }, description: 'Custom target: seconds' },
            { name: 'ahtSeconds', ...num('Average handling time in seconds, talk plus wrap-up', { minimum: 1, maximum: AHT_SECONDS_MAX }), required: true },
            { name: 'shrinkage', ...num(`Percent of paid time off the phones; default ${STAFFING_DEFAULTS.shrinkage}`, { minimum: 0, maximum: SHRINKAGE_PERCENT_MAX }) },
            { name: 'maxOccupancy', ...num('Percent; the largest occupancy allowed; none when left out', { minimum: 1, maximum: 100 }) },
            { name: 'arrivalsPerHour', ...num('Entered: contacts per hour while open, the same every office hour', { minimum: 0, maximum: ARRIVALS_PER_HOUR_MAX }) },
          ],
          responses: {
            '200': { description: 'The inputs used, the 168 hours, the days and the week', content: { 'application/json': { schema: ref('StaffingPlan') } } },
            '400': {
              description: `Invalid parameters, a message per field (\`h33\` for an entered hour); also when the target would need more than ${MAX_AGENTS} agents (on ahtSeconds)`,
              content: { 'application/json': { schema: ref('Error') } },
            },
            '401': { description: 'Not signed in, or the API token is invalid', content: { 'application/json': { schema: ref('Error') } } },
            '403': { description: 'Signed in without the manager role', content: { 'application/json': { schema: ref('Error') } } },
          },
        },
      },
    },
  };
}
