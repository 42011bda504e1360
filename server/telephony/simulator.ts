import { DateTime } from 'luxon';
import { z } from 'zod';
import { ValidationError } from '../platform/errors.js';
import { fieldErrors, type CallEventType, type CallOutcome } from './schemas.js';
import { signedHeaders } from './signature.js';

/**
 * A day of calls played against the telephony endpoint, as the platform
 * would send them: arrivals peaking mid-morning and after lunch within
 * 08:00–16:30, about 15 % abandoned in the queue after 30–180 s, some busy
 * or unanswered, talks of 1–10 minutes. Time is compressed by `speed`
 * (60: a simulated minute per second). Every request is signed; a few
 * events are sent twice and some out of order, on purpose, so the
 * endpoint's idempotence and ordering are exercised too.
 */

export interface Answerer {
  email?: string | undefined;
  extension?: string | null | undefined;
}

export interface SimulationOptions {
  url: string;
  secret: string;
  /** Numbers, or their text as the command line gives them (checked: bad values are a ValidationError). */
  calls: number | string;
  speed: number | string;
  seed: number | string;
  /** Who answers: by extension when they have one, else by e-mail. None: answered events name nobody. */
  agents: Answerer[];
  /** The simulated day's 08:00 (default: today in Europe/Stockholm). */
  dayStart?: Date;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SimulationSummary {
  calls: number;
  answered: number;
  abandoned: number;
  busy: number;
  noAnswer: number;
  anonymous: number;
  events: number;
  requests: number;
  accepted: number;
  duplicatesSent: number;
  duplicatesAcknowledged: number;
  outOfOrder: number;
  callbacksCreated: number;
  failedRequests: number;
  /** The call ids all start with this. */
  callIdPrefix: string;
}

export const simulationOptionsSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'give the service address, such as http://localhost:3000' }),
  secret: z.string({ error: 'required (or set TELEPHONY_SECRET)' }).min(32, 'the shared secret is at least 32 characters (TELEPHONY_SECRET on the server)'),
  calls: z.coerce.number({ error: 'a whole number' }).int('a whole number').min(1, 'at least 1').max(100_000, 'at most 100000'),
  speed: z.coerce.number({ error: 'a number' }).positive('more than 0').max(10_000_000, 'at most 10000000'),
  seed: z.coerce.number({ error: 'a whole number' }).int('a whole number').min(0, 'at least 0').max(2 ** 31, 'at most 2147483648'),
});

const DAY_MINUTES = 8 * 60 + 30;
const QUEUES = [
  ['vaxel', 0.5],
  ['bygglov', 0.2],
  ['forsorjningsstod', 0.15],
  ['forskola', 0.15],
] as const;
const BATCH_MAX = 20;

/** mulberry32: a small seeded generator, so a seed plays the same day. */
function randomFrom(seed: number) {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const between = (lo: number, hi: number) => lo + next() * (hi - lo);
  const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  return { next, between, normal, pick };
}

type Rng = ReturnType<typeof randomFrom>;

/** Minutes after 08:00: a morning peak around 09:45, an afternoon one around 13:15, and a steady trickle. */
function arrivalMinute(r: Rng): number {
  for (;;) {
    const u = r.next();
    const m = u < 0.45 ? r.normal(105, 45) : u < 0.8 ? r.normal(315, 50) : r.between(0, DAY_MINUTES);
    if (m >= 0 && m < DAY_MINUTES - 1) return m;
  }
}

function phoneNumber(r: Rng): string {
  const digits = Array.from({ length: 7 }, () => Math.floor(r.next() * 10)).join('');
  const prefix = r.pick(['070', '072', '073', '076', '023']);
  // Written the ways platforms write them; the server matches them all to the same caller.
  return r.next() < 0.5 ? `+46${prefix.slice(1)}${digits}` : `${prefix}-${digits.slice(0, 3)} ${digits.slice(3, 5)} ${digits.slice(5)}`;
}

interface PlannedEvent {
  /** Simulated milliseconds after 08:00 when it is sent. */
  sendAt: number;
  body: Record<string, unknown>;
  duplicate: boolean;
}

interface PlannedCall {
  outcome: CallOutcome;
  answered: boolean;
  anonymous: boolean;
  outOfOrder: boolean;
  events: PlannedEvent[];
}

/** The whole day, planned up front from the seed. */
export function planDay(o: { calls: number; seed: number; agents: Answerer[]; dayStart: Date; runId: string }): PlannedCall[] {
  const r = randomFrom(o.seed);
  const regulars = Array.from({ length: Math.max(3, Math.round(o.calls / 15)) }, () => phoneNumber(r));
  const starts = Array.from({ length: o.calls }, () => arrivalMinute(r) * 60_000).sort((a, b) => a - b);
  const at = (ms: number) => new Date(o.dayStart.getTime() + ms).toISOString();
  return starts.map((offered, i) => {
    const callId = `${o.runId}-${String(i + 1).padStart(5, '0')}`;
    const anonymous = r.next() < 0.05;
    const caller = anonymous ? null : r.next() < 0.3 ? r.pick(regulars) : phoneNumber(r);
    let u = r.next();
    let queue: string = QUEUES[0][0];
    for (const [name, share] of QUEUES) {
      if (u < share) {
        queue = name;
        break;
      }
      u -= share;
    }
    const kind = r.next();
    let outcome: CallOutcome;
    let answeredAt: number | undefined;
    let endedAt: number;
    if (kind < 0.15) {
      outcome = 'abandoned';
      endedAt = offered + r.between(30, 180) * 1000;
    } else if (kind < 0.19) {
      outcome = 'busy';
      endedAt = offered + r.between(1, 5) * 1000;
    } else if (kind < 0.23) {
      outcome = 'no_answer';
      endedAt = offered + r.between(60, 120) * 1000;
    } else {
      outcome = 'completed';
      answeredAt = offered + Math.min(600, 5 + -Math.log(1 - r.next()) * 45) * 1000;
      endedAt = answeredAt + r.between(60, 600) * 1000;
    }
    const agent = answeredAt !== undefined && o.agents.length ? r.pick(o.agents) : undefined;
    const who = agent?.extension ? { extension: agent.extension } : agent?.email ? { agent: agent.email } : {};
    const event = (type: CallEventType, when: number, extra: Record<string, unknown> = {}) => ({
      id: `${callId}:${type.slice(5)}`,
      type,
      callId,
      at: at(when),
      ...extra,
    });
    const events: PlannedEvent[] = [{ sendAt: offered, body: event('call.offered', offered, { caller, queue }), duplicate: false }];
    if (answeredAt !== undefined) events.push({ sendAt: answeredAt, body: event('call.answered', answeredAt, who), duplicate: false });
    events.push({ sendAt: endedAt, body: event('call.ended', endedAt, { outcome }), duplicate: false });
    // Out of order on purpose: the ended event overtakes the answered one, or the offered one comes last.
    let outOfOrder = false;
    const shuffle = r.next();
    if (answeredAt !== undefined && shuffle < 0.05) {
      events[1]!.sendAt = endedAt + 500;
      outOfOrder = true;
    } else if (shuffle < 0.08) {
      events[0]!.sendAt = endedAt + 700;
      outOfOrder = true;
    }
    // And now and then the platform sends an event again (a retry after a lost answer).
    if (r.next() < 0.04) {
      const again = events[Math.floor(r.next() * events.length)]!;
      events.push({ sendAt: again.sendAt + r.between(1, 30) * 1000, body: again.body, duplicate: true });
    }
    return { outcome, answered: answeredAt !== undefined, anonymous, outOfOrder, events };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Plays the day and answers what happened, as the endpoint acknowledged it. */
export async function simulateDay(options: SimulationOptions): Promise<SimulationSummary> {
  const parsed = simulationOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
  const o = { ...options, ...parsed.data };
  const log = o.log ?? (() => {});
  const dayStart = o.dayStart ?? DateTime.now().setZone('Europe/Stockholm').set({ hour: 8, minute: 0, second: 0, millisecond: 0 }).toJSDate();
  const runId = `sim-${o.seed}-${Date.now().toString(36)}`;
  const plan = planDay({ calls: o.calls, seed: o.seed, agents: o.agents, dayStart, runId });
  const queue = plan.flatMap((c) => c.events).sort((a, b) => a.sendAt - b.sendAt);
  const endpoint = new URL('/api/v1/telephony/events', o.url).toString();
  const summary: SimulationSummary = {
    calls: plan.length,
    answered: plan.filter((c) => c.answered).length,
    abandoned: plan.filter((c) => c.outcome === 'abandoned').length,
    busy: plan.filter((c) => c.outcome === 'busy').length,
    noAnswer: plan.filter((c) => c.outcome === 'no_answer').length,
    anonymous: plan.filter((c) => c.anonymous).length,
    events: queue.length,
    requests: 0,
    accepted: 0,
    duplicatesSent: queue.filter((e) => e.duplicate).length,
    duplicatesAcknowledged: 0,
    outOfOrder: plan.filter((c) => c.outOfOrder).length,
    callbacksCreated: 0,
    failedRequests: 0,
    callIdPrefix: runId,
  };
  log(`Playing ${plan.length} calls (${queue.length} events) from 08:00 to 16:30 at ${o.speed}× to ${endpoint}`);

  async function send(events: PlannedEvent[]): Promise<void> {
    const body = JSON.stringify(events.length === 1 ? events[0]!.body : { events: events.map((e) => e.body) });
    for (let attempt = 1; ; attempt++) {
      summary.requests += 1;
      try {
        // Signed at the moment of sending: a retry gets a fresh timestamp.
        const res = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json', ...signedHeaders(o.secret, body) }, body });
        const answer = (await res.json().catch(() => ({}))) as { accepted?: number; duplicates?: number; callbacks?: number; message?: string };
        if (res.ok) {
          summary.accepted += answer.accepted ?? 0;
          summary.duplicatesAcknowledged += answer.duplicates ?? 0;
          summary.callbacksCreated += answer.callbacks ?? 0;
          return;
        }
        // A refusal (401, 400) will not change on retry: say so and go on.
        if (res.status < 500 || attempt >= 3) {
          summary.failedRequests += 1;
          log(`refused (${res.status}): ${answer.message ?? res.statusText}`);
          return;
        }
      } catch (err) {
        if (attempt >= 3) {
          summary.failedRequests += 1;
          log(`could not send: ${(err as Error).message}`);
          return;
        }
      }
      await sleep(200 * attempt);
    }
  }

  const started = Date.now();
  const concurrency = Math.max(1, o.concurrency ?? 4);
  let i = 0;
  let lastReport = 0;
  while (i < queue.length) {
    const dueIn = queue[i]!.sendAt / o.speed - (Date.now() - started);
    if (dueIn > 0) await sleep(Math.min(dueIn, 1000));
    const now = (Date.now() - started) * o.speed;
    const due: PlannedEvent[] = [];
    while (i < queue.length && queue[i]!.sendAt <= now) due.push(queue[i++]!);
    if (!due.length) continue;
    // Events due together go in batches, the rest one by one, a few requests at a time.
    const requests: PlannedEvent[][] = [];
    for (let k = 0; k < due.length; k += BATCH_MAX) requests.push(due.slice(k, k + BATCH_MAX));
    for (let k = 0; k < requests.length; k += concurrency) await Promise.all(requests.slice(k, k + concurrency).map(send));
    const hour = DateTime.fromJSDate(new Date(dayStart.getTime() + now)).setZone('Europe/Stockholm').toFormat('HH:mm');
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      log(`${hour}: ${i} of ${queue.length} events sent`);
    }
  }
  return summary;
}

export function describeSummary(s: SimulationSummary): string {
  return [
    `Calls: ${s.calls} (answered ${s.answered}, abandoned ${s.abandoned}, busy ${s.busy}, no answer ${s.noAnswer}; ${s.anonymous} from hidden numbers)`,
    `Events: ${s.events} in ${s.requests} requests; accepted ${s.accepted}, duplicates sent ${s.duplicatesSent}, duplicates acknowledged ${s.duplicatesAcknowledged}, calls sent out of order ${s.outOfOrder}`,
    `Callbacks created: ${s.callbacksCreated}`,
    ...(s.failedRequests ? [`Failed requests: ${s.failedRequests}`] : []),
    `Call ids: ${s.callIdPrefix}-*`,
  ].join('\n');
}
