/**
 * Erlang C staffing: how many agents a phone queue needs to answer a target
 * share of calls within a target time. Pure functions, no I/O.
 *
 * The model (M/M/N, see ../shared/domain/contact-center-research.md 5.2):
 * Poisson arrivals, exponential handling times, N agents, an unlimited queue
 * served first come first served, and no caller ever hangs up. Traffic
 * A = arrivals per hour × AHT / 3600 Erlangs. With N > A:
 *
 *   P(wait)  = C(N, A)                        (Erlang C)
 *   SL(t)    = 1 − C · e^(−(N − A)·t / AHT)   (share answered within t)
 *   ASA      = C · AHT / (N − A)              (average speed of answer)
 *   occupancy = A / N
 *
 * With N ≤ A the queue grows without bound: every caller waits (C = 1), the
 * service level is 0, the ASA is infinite and the agents are always busy.
 * Because abandonment is not modelled, Erlang C errs on the side of too many
 * agents, which is the safe side for planning.
 *
 * C is computed from the Erlang B recursion B(k) = A·B(k−1) / (k + A·B(k−1)),
 * B(0) = 1, then C = N·B / (N − A·(1 − B)). Every intermediate value lies in
 * [0, 1], so there are no factorials or powers to overflow, and the cost is
 * O(N): 2 000 Erlangs take microseconds.
 */

/** The largest number of agents any function here will consider. */
export const MAX_AGENTS = 10_000;

/** Hours in a week: Monday 00–01 is hour 0, Sunday 23–24 is hour 167. */
export const HOURS_PER_WEEK = 168;

/** Day names for `WeeklyStaffingRow.day` (0 = Monday), as in the opening-hours syntax. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A computed service level within this of the target counts as meeting it (floating-point noise). */
const TOLERANCE = 1e-12;

export interface QueueParams {
  /** Agents on the phones (a whole number, 0 … MAX_AGENTS). */
  agents: number;
  /** Offered calls per hour (≥ 0). */
  arrivalsPerHour: number;
  /** Average handling time in seconds, talk plus wrap-up (> 0). */
  ahtSeconds: number;
}

export interface ServiceLevelParams extends QueueParams {
  /** The answer-time target in seconds, e.g. 20 for "80 % within 20 s" (≥ 0). */
  targetSeconds: number;
}

export interface StaffingParams {
  arrivalsPerHour: number;
  ahtSeconds: number;
  targetSeconds: number;
  /** The share to answer within `targetSeconds`, as a fraction in (0, 1]: 0.8 for 80 %. */
  targetServiceLevel: number;
  /** The share of paid time not on the phones (breaks, training, absence), in [0, 1): 0.3 for 30 %. */
  shrinkage: number;
  /** Optional ceiling on occupancy, in (0, 1]: 0.85 keeps agents from running flat out. */
  maxOccupancy?: number;
}

export interface StaffingResult {
  /** Agents needed on the phones at the same time (before shrinkage). */
  agents: number;
  /** Agents to schedule: `agents / (1 − shrinkage)`, rounded up. */
  scheduled: number;
  /** Predicted share answered within the target time, 0 … 1. */
  serviceLevel: number;
  /** Predicted average speed of answer in seconds, over all calls. */
  asa: number;
  /** Predicted share of the agents' time spent on calls, 0 … 1. */
  occupancy: number;
  /** Predicted probability that a caller has to wait at all (Erlang C). */
  probabilityOfWaiting: number;
  /** Offered traffic in Erlangs. */
  trafficErlangs: number;
}

export interface WeeklyStaffingRow extends StaffingResult {
  /** 0 … 167, Monday 00:00 first. */
  hourOfWeek: number;
  /** 0 … 6, Monday first (see WEEKDAYS). */
  day: number;
  /** 0 … 23, the hour the row starts. */
  hour: number;
  /** Arrivals per hour used for this row. */
  arrivals: number;
}

/** Offered traffic in Erlangs: arrivals per hour × AHT in hours. */
export function trafficErlangs(arrivalsPerHour: number, ahtSeconds: number): number {
  checkNonNegative('arrivalsPerHour', arrivalsPerHour);
  checkPositive('ahtSeconds', ahtSeconds);
  return (arrivalsPerHour * ahtSeconds) / 3600;
}

/**
 * Erlang C: the probability that a caller has to wait, with `agents` agents
 * and `trafficErlangs` Erlangs offered. 1 when agents ≤ traffic.
 */
export function erlangC(agents: number, trafficErlangs: number): number {
  checkAgents(agents);
  checkNonNegative('trafficErlangs', trafficErlangs);
  return waitProbability(agents, trafficErlangs);
}

/** The share of calls answered within `targetSeconds`; 1 when no calls arrive, 0 when agents ≤ traffic. */
export function serviceLevel(params: ServiceLevelParams): number {
  checkAgents(params.agents);
  checkNonNegative('targetSeconds', params.targetSeconds);
  const a = trafficErlangs(params.arrivalsPerHour, params.ahtSeconds);
  return serviceLevelAt(params.agents, a, params.ahtSeconds, params.targetSeconds, waitProbability(params.agents, a));
}

/** Average speed of answer in seconds over all calls; 0 when no calls arrive, Infinity when agents ≤ traffic. */
export function averageSpeedOfAnswer(params: QueueParams): number {
  checkAgents(params.agents);
  const a = trafficErlangs(params.arrivalsPerHour, params.ahtSeconds);
  return asaAt(params.agents, a, params.ahtSeconds, waitProbability(params.agents, a));
}

/** Occupancy A / N; 0 when no calls arrive, capped at 1 (agents cannot be busier than always). */
export function occupancy(params: QueueParams): number {
  checkAgents(params.agents);
  return occupancyAt(params.agents, trafficErlangs(params.arrivalsPerHour, params.ahtSeconds));
}

/**
 * The smallest number of agents that answers `targetServiceLevel` of the
 * calls within `targetSeconds` (and, if given, keeps occupancy at or below
 * `maxOccupancy`), with the predictions for that number. No arrivals need no
 * agents. Throws a RangeError for invalid input, and when more than
 * MAX_AGENTS agents would be needed.
 */
export function agentsNeeded(params: StaffingParams): StaffingResult {
  checkStaffingParams(params);
  return solve(params.arrivalsPerHour, params);
}

/**
 * `agentsNeeded` for each hour of a week. `arrivalsByHourOfWeek` holds 168
 * arrival rates (calls per hour), Monday 00–01 first; the other parameters
 * apply to every hour.
 */
export function weeklyStaffing(arrivalsByHourOfWeek: readonly number[], params: Omit<StaffingParams, 'arrivalsPerHour'>): WeeklyStaffingRow[] {
  if (!Array.isArray(arrivalsByHourOfWeek) || arrivalsByHourOfWeek.length !== HOURS_PER_WEEK) {
    const got = Array.isArray(arrivalsByHourOfWeek) ? `${arrivalsByHourOfWeek.length} values` : typeof arrivalsByHourOfWeek;
    throw new RangeError(`arrivalsByHourOfWeek must hold ${HOURS_PER_WEEK} values, one per hour from Monday 00:00 (got ${got})`);
  }
  arrivalsByHourOfWeek.forEach((v, i) => checkNonNegative(`arrivalsByHourOfWeek[${i}]`, v));
  checkStaffingParams({ ...params, arrivalsPerHour: 0 });
  // Closed hours repeat the same rate (0) many times: solve each rate once.
  const solved = new Map<number, StaffingResult>();
  return arrivalsByHourOfWeek.map((arrivals, hourOfWeek) => {
    let result = solved.get(arrivals);
    if (!result) {
      result = solve(arrivals, params);
      solved.set(arrivals, result);
    }
    return { hourOfWeek, day: Math.floor(hourOfWeek / 24), hour: hourOfWeek % 24, arrivals, ...result };
  });
}

/** Agents to schedule so that `agents` are on the phones after shrinkage. */
export function scheduledAgents(agents: number, shrinkage: number): number {
  checkAgents(agents);
  checkFraction('shrinkage', shrinkage, { min: 0, minInclusive: true, max: 1, maxInclusive: false });
  // 14 / (1 − 0.3) is 20.000000000000004 in floating point: round away the noise before rounding up.
  return Math.ceil(Math.round((agents / (1 - shrinkage)) * 1e6) / 1e6);
}

// ---------------------------------------------------------------------------

function solve(arrivalsPerHour: number, params: Omit<StaffingParams, 'arrivalsPerHour'>): StaffingResult {
  const { ahtSeconds, targetSeconds, targetServiceLevel, shrinkage } = params;
  const maxOccupancy = params.maxOccupancy ?? 1;
  const a = (arrivalsPerHour * ahtSeconds) / 3600;
  if (a === 0) {
    return { agents: 0, scheduled: 0, serviceLevel: 1, asa: 0, occupancy: 0, probabilityOfWaiting: 0, trafficErlangs: 0 };
  }
  if (a >= MAX_AGENTS) throw tooMany(a);
  // Walk N upward, carrying Erlang B along, so the whole search is O(N).
  let b = 1;
  for (let n = 1; n <= MAX_AGENTS; n++) {
    b = (a * b) / (n + a * b);
    if (n <= a) continue;
    const c = fromErlangB(n, a, b);
    const sl = serviceLevelAt(n, a, ahtSeconds, targetSeconds, c);
    const occ = a / n;
    if (sl >= targetServiceLevel - TOLERANCE && occ <= maxOccupancy + TOLERANCE) {
      return {
        agents: n,
        scheduled: scheduledAgents(n, shrinkage),
        serviceLevel: sl,
        asa: asaAt(n, a, ahtSeconds, c),
        occupancy: occ,
        probabilityOfWaiting: c,
        trafficErlangs: a,
      };
    }
  }
  throw tooMany(a);
}

function tooMany(a: number): RangeError {
  return new RangeError(`the target needs more than ${MAX_AGENTS} agents (traffic ${round(a)} Erlangs): check the arrivals and the handling time`);
}

function waitProbability(n: number, a: number): number {
  if (n <= a) return 1;
  if (a === 0) return 0;
  let b = 1;
  for (let k = 1; k <= n; k++) b = (a * b) / (k + a * b);
  return fromErlangB(n, a, b);
}

function fromErlangB(n: number, a: number, b: number): number {
  return Math.min(1, (n * b) / (n - a * (1 - b)));
}

function serviceLevelAt(n: number, a: number, aht: number, t: number, c: number): number {
  if (a === 0) return 1;
  if (n <= a) return 0;
  return Math.min(1, Math.max(0, 1 - c * Math.exp((-(n - a) * t) / aht)));
}

function asaAt(n: number, a: number, aht: number, c: number): number {
  if (a === 0) return 0;
  if (n <= a) return Infinity;
  return (c * aht) / (n - a);
}

function occupancyAt(n: number, a: number): number {
  if (a === 0) return 0;
  if (n <= a) return 1;
  return a / n;
}

function checkStaffingParams(p: StaffingParams): void {
  if (p === null || typeof p !== 'object') throw new RangeError('staffing parameters must be an object');
  checkNonNegative('arrivalsPerHour', p.arrivalsPerHour);
  checkPositive('ahtSeconds', p.ahtSeconds);
  checkNonNegative('targetSeconds', p.targetSeconds);
  checkFraction('targetServiceLevel', p.targetServiceLevel, { min: 0, minInclusive: false, max: 1, maxInclusive: true });
  checkFraction('shrinkage', p.shrinkage, { min: 0, minInclusive: true, max: 1, maxInclusive: false });
  if (p.maxOccupancy !== undefined) checkFraction('maxOccupancy', p.maxOccupancy, { min: 0, minInclusive: false, max: 1, maxInclusive: true });
}

function checkAgents(agents: number): void {
  if (typeof agents !== 'number' || !Number.isInteger(agents) || agents < 0 || agents > MAX_AGENTS) {
    throw new RangeError(`agents must be a whole number from 0 to ${MAX_AGENTS} (got ${String(agents)})`);
  }
}

function checkNonNegative(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number ≥ 0 (got ${String(value)})`);
  }
}

function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0 (got ${String(value)})`);
  }
}

function checkFraction(name: string, value: number, r: { min: number; minInclusive: boolean; max: number; maxInclusive: boolean }): void {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (r.minInclusive ? value >= r.min : value > r.min) &&
    (r.maxInclusive ? value <= r.max : value < r.max);
  if (!ok) {
    const range = `${r.minInclusive ? '[' : '('}${r.min}, ${r.max}${r.maxInclusive ? ']' : ')'}`;
    throw new RangeError(`${name} must be a fraction in ${range}, e.g. 0.8 for 80 % (got ${String(value)})`);
  }
}

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}
