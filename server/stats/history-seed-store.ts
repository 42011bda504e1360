import type { Knex } from 'knex';

/**
 * The SQL of `seed:history` (server/stats/history-seed.ts plans the calendar,
 * the arrivals and the batches). Everything is generated inside the database,
 * set-based: a batch is a generate_series over case indexes, and every random
 * choice is hashint8extended(case index, seed and stream), so a case comes out
 * the same whatever batch it falls in and on PostgreSQL and the embedded
 * database alike, with no state carried from row to row. (Generating in
 * Node and sending rows would ship every value over the wire and through
 * JSON; the database computes them where they are stored.)
 *
 * Ids: blocks of case and resident ids are reserved up front (a short table
 * lock keeps other writers from drawing in between); case numbers are drawn
 * from case_number_seq up front, as the intake draws them, so the allocator
 * never hands out one of them; both are given out in time order.
 *
 * One batch is one transaction:
 *   1. seed_plan (temporary): each case's arrival, resident, agents and the
 *      instants of every step of its life, reckoned in working seconds (agents
 *      act in opening hours) and turned into instants through the calendar,
 *      cut off at "now"; then what the steps made of the case;
 *   2. the residents first seen in the batch and the cases as of now;
 *   3. seed_events (temporary): the case events the steps wrote, in time order;
 *   4. after the previous batch has committed: its callbacks with their
 *      attempts and its calls (so their sequence ids follow the batch order),
 *      the commit-order lock of case_events (see the live_workspace
 *      migration), a block of event ids, the events and their messages, commit. Like every writer, the batch
 *      takes the lock before it draws an event id, so ids still become
 *      visible in order; it holds it only for step 4.
 * Two batches run at once on PostgreSQL (steps 1-3 of one beside step 4 of
 * the other). Where the role may, a batch skips the per-row triggers and does
 * their work itself (see ROW_TRIGGERS): that halves the time of the inserts.
 */

/** A run of arrivals of one channel in one stretch of time (all in epoch seconds). */
export interface SeedSlot {
  /** First case number, and how many. */
  f: number;
  n: number;
  /** Channel: 0 phone queue, 1 web, 2 e-mail, 3 visit. */
  c: number;
  /** Start and length of the stretch. */
  s: number;
  l: number;
  /** Working seconds (the calendar's clock) at s if open, else at the next opening. */
  w: number;
  /** End of the open period holding the stretch (open stretches), else s + l. */
  e: number;
  /** 1: within opening hours. */
  o: number;
  /** The first case's number within its resident pool (1, 2: e-mail residents; 0, 3: phone residents). */
  j: number;
}

/** What does not change between batches. */
export interface SeedConstants {
  seed: number;
  /** Epoch seconds. */
  now: number;
  timeZone: string;
  /** Open periods: starts (epoch s), working seconds before each (two sentinels at the end), and per working hour the period it falls in. */
  ps: number[];
  pc: number[];
  bp: number[];
  /** Average working seconds in an open day. */
  day: number;
  agentIds: number[];
  agentNames: string[];
  /** Per category (1-based in SQL): id, slug, department id (0: none), department name. */
  catIds: number[];
  catSlugs: string[];
  catDeptIds: number[];
  catDeptNames: string[];
  /** 100 entries each: category index for a written case, for a phone or visit contact. */
  catPickWritten: number[];
  catPickPhone: number[];
  /** Departments to forward to when the topic has none. */
  deptIds: number[];
  deptNames: string[];
  /** Texts per category, flattened: [offset, count] into the text arrays, 1-based. */
  writtenSv: { subjects: string[]; bodies: string[]; off: number[]; cnt: number[] };
  phoneSv: { subjects: string[]; bodies: string[]; off: number[]; cnt: number[] };
  writtenEn: { subjects: string[]; bodies: string[] };
  replies: string[];
  repliesEn: string[];
  followUps: string[];
  forwardNotes: string[];
  firstNames: string[];
  lastNames: string[];
  unnamed: string;
  callbackSubject: string;
  callbackNoMessage: string;
  missedSubject: string;
  missedBody: string;
  /** The rules of callbacks, from the configuration. */
  maxAttempts: number;
  retrySeconds: number;
  slotSeconds: number;
  /** The salt of residents' tokens: random per run, so no token can be derived from the seed. */
  tokenSalt: string;
}

export interface BatchInput {
  lo: number;
  hi: number;
  slots: SeedSlot[];
  /** The case numbers of cases lo…hi-1 in time order (drawn from case_number_seq beforehand). */
  numbers: number[];
  caseIdBase: number;
  /** Resident ids: pool e (web, e-mail) and pool p (phone, visits, callbacks) start here. */
  residentBaseE: number;
  residentBaseP: number;
}

export interface BatchCounts {
  residents: number;
  cases: number;
  case_events: number;
  messages: number;
  calls: number;
  callbacks: number;
  callback_attempts: number;
}

/**
 * Share of a pool's cases that come from someone not seen before, as a
 * fraction: case j of a pool is a newcomer's when ceil((j + 1) * share)
 * exceeds ceil(j * share), exactly (numeric in SQL), so the count of
 * residents is known before the first batch.
 */
export const NEW_RESIDENT_SHARE = { e: { num: 7, den: 10 }, p: { num: 11, den: 20 } } as const;

/** Stream numbers of the random draws, one per independent choice. */
const S = {
  time: 1, kind: 2, outcome: 3, category: 4, text: 5, language: 6, wait1: 7, wait2: 8, talk1: 9, talk2: 10, agentA: 11, agentB: 12,
  take: 13, take1: 14, take2: 15, act1a: 16, act1b: 17, act1kind: 18, follow: 19, follow1: 20, follow2: 21, rr1: 22, rr2: 23, manres: 24,
  dept1: 25, dept2: 26, close: 27, closeAt: 28, returning: 29, first: 30, last: 31, domain: 32, hasPhone: 33, prefix: 34, withheld: 35,
  missed: 36, ws1: 37, ws2: 38, r1: 39, r2: 40, r3: 41, a1a: 42, a1b: 43, a2a: 44, a2b: 45, a3a: 46, a3b: 47, cbResolve: 48, later1: 49,
  later2: 50, anon: 51, anonAt: 52, reply: 53, followText: 54, forwardDept: 55,
} as const;

/** The seed of one stream: the run's seed and the stream mixed into hashint8extended's 64-bit seed. */
const streamSeed = (seed: number, stream: number) => (BigInt(seed) * 1000003n + BigInt(stream)).toString();

function draws(seed: number) {
  /** Uniform in [0, 1) from the case number `of` (any bigint expression) and a stream. */
  const u = (stream: number, of = 'i') => `((hashint8extended(${of}, ${streamSeed(seed, stream)}) & 4503599627370495)::float8 / 4503599627370496.0)`;
  /** A lognormal draw: median and sigma of its logarithm (Box-Muller on two streams). */
  const ln = (median: number, sigma: number, a: number, b: number) =>
    `exp(${Math.log(median)} + ${sigma} * sqrt(-2.0 * ln(1.0 - ${u(a)})) * cos(2.0 * pi() * ${u(b)}))`;
  return { u, ln };
}

/** 1-based element `k` of a JSON array as a SQL array of `type`. */
const arr = (key: string, type: string) => `ARRAY(SELECT x::${type} FROM json_array_elements_text(j->'${key}') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ${key}`;

/** Working seconds → instant, through the calendar (NULL beyond it: not happened by now). */
const bucket = (w: string) => `p.bp[floor((${w}) / 3600)::int + 1]`;
const period = (w: string) => `(${bucket(w)} + ((${w}) >= p.pc[${bucket(w)} + 1])::int + ((${w}) >= p.pc[${bucket(w)} + 2])::int)`;
const at = (w: string) => `to_timestamp(round((p.ps[${period(w)}] + ((${w}) - p.pc[${period(w)}])) * 1000) / 1000)`;
/** Milliseconds, as every instant the service writes through JavaScript. */
const ms = (epoch: string) => `to_timestamp(round((${epoch}) * 1000) / 1000)`;
const done = (t: string) => `coalesce(${t} <= p.now_t, false)`;
const iso = (t: string) => `to_char(${t} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function constantsCte(): string {
  return `p AS MATERIALIZED (
    SELECT (j->>'seed')::bigint AS seed, to_timestamp((j->>'now')::float8) AS now_t, j->>'timeZone' AS tz, (j->>'day')::float8 AS day,
      ${arr('ps', 'float8')}, ${arr('pc', 'float8')}, ${arr('bp', 'int')},
      ${arr('agentIds', 'int')}, ${arr('agentNames', 'text')},
      ${arr('catIds', 'int')}, ${arr('catSlugs', 'text')}, ${arr('catDeptIds', 'int')}, ${arr('catDeptNames', 'text')},
      ${arr('catPickWritten', 'int')}, ${arr('catPickPhone', 'int')}, ${arr('deptIds', 'int')}, ${arr('deptNames', 'text')},
      ARRAY(SELECT x FROM json_array_elements_text(j->'writtenSv'->'subjects') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ws_subj,
      ARRAY(SELECT x FROM json_array_elements_text(j->'writtenSv'->'bodies') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ws_body,
      ARRAY(SELECT x::int FROM json_array_elements_text(j->'writtenSv'->'off') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ws_off,
      ARRAY(SELECT x::int FROM json_array_elements_text(j->'writtenSv'->'cnt') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ws_cnt,
      ARRAY(SELECT x FROM json_array_elements_text(j->'phoneSv'->'subjects') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ps_subj,
      ARRAY(SELECT x FROM json_array_elements_text(j->'phoneSv'->'bodies') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ps_body,
      ARRAY(SELECT x::int FROM json_array_elements_text(j->'phoneSv'->'off') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ps_off,
      ARRAY(SELECT x::int FROM json_array_elements_text(j->'phoneSv'->'cnt') WITH ORDINALITY AS t(x, n) ORDER BY n) AS ps_cnt,
      ARRAY(SELECT x FROM json_array_elements_text(j->'writtenEn'->'subjects') WITH ORDINALITY AS t(x, n) ORDER BY n) AS we_subj,
      ARRAY(SELECT x FROM json_array_elements_text(j->'writtenEn'->'bodies') WITH ORDINALITY AS t(x, n) ORDER BY n) AS we_body,
      ${arr('replies', 'text')}, ${arr('repliesEn', 'text')}, ${arr('followUps', 'text')}, ${arr('forwardNotes', 'text')}, ${arr('firstNames', 'text')}, ${arr('lastNames', 'text')},
      j->>'unnamed' AS unnamed, j->>'callbackSubject' AS cb_subject, j->>'callbackNoMessage' AS cb_nomsg,
      j->>'missedSubject' AS missed_subject, j->>'missedBody' AS missed_body,
      (j->>'maxAttempts')::int AS max_attempts, (j->>'retrySeconds')::float8 AS retry_s, (j->>'slotSeconds')::float8 AS slot_s,
      j->>'tokenSalt' AS salt
    FROM (SELECT CAST(? AS json) AS j) AS input)`;
}


/** Picks element 1 + floor(u * length) of a SQL array. */
const pick = (array: string, uExpr: string) => `${array}[1 + floor(${uExpr} * cardinality(${array}))::int]`;

/**
 * The plan of every case of the batch: who, what, and when each step of its
 * life happens (in working seconds, then as instants), and what that makes
 * of the case by now. Everything later statements write comes from here.
 */
function planSql(seed: number): string {
  const { u, ln } = draws(seed);
  const retry = (r: string) => `${r} IN ('no_answer', 'busy')`;
  const result = (uExpr: string) => `CASE WHEN ${uExpr} < 0.72 THEN 'reached' WHEN ${uExpr} < 0.90 THEN 'no_answer' WHEN ${uExpr} < 0.97 THEN 'busy' ELSE 'wrong_number' END`;
  const share = (f: { num: number; den: number }) => `(${f.num} / ${f.den}.0)`;
  const newShare = (pool: string) => `CASE WHEN ${pool} = 'e' THEN ${share(NEW_RESIDENT_SHARE.e)} ELSE ${share(NEW_RESIDENT_SHARE.p)} END`;
  const digits = `lpad(((f.resident_id * 7919 + 1234567) % 10000000)::text, 7, '0')`;
  const first = pick('p.firstNames', u(S.first, 'f.person'));
  const last = pick('p.lastNames', u(S.last, 'f.person'));
  const ascii = (x: string) => `translate(lower(${x}), 'åäöéèüáàøæ ', 'aaoeeuaaoa-')`;
  const d = done;
  // Each layer ends in OFFSET 0: a fence, so the planner keeps it a step of its own and
  // later layers read its columns, instead of pasting every expression into the next
  // (which made planning take minutes).
  return `CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
  WITH ${constantsCte()},
  slot AS (
    SELECT * FROM json_to_recordset(CAST(? AS json)) AS s(f bigint, n int, c int, s float8, l float8, w float8, e float8, o int, j bigint)),
  g AS (
    SELECT slot.*, i FROM slot, generate_series(greatest(slot.f, ?::bigint), least(slot.f + slot.n, ?::bigint) - 1) AS i),
  a AS (
    SELECT g.i, g.c, g.o, g.s AS seg_s, g.e AS seg_e, g.w AS seg_w,
      CASE g.c WHEN 1 THEN 'web' WHEN 2 THEN 'email' WHEN 3 THEN 'visit' ELSE 'phone' END AS channel,
      CASE WHEN g.c IN (1, 2) THEN 'e' ELSE 'p' END AS pool,
      g.j + (g.i - g.f) AS pj,
      -- stratified within the stretch: arrivals are spread evenly and follow the case number
      g.s + g.l * ((g.i - g.f) + ${u(S.time)}) / g.n AS t_arr,
      -- of calls: about 91 % answered and registered, 7 % given up leaving a callback, 2 % callbacks asked for on the web
      CASE g.c WHEN 0 THEN (CASE WHEN ${u(S.kind)} < 0.91 THEN 'contact' WHEN ${u(S.kind)} < 0.98 THEN 'cb_tel' ELSE 'cb_web' END)
               WHEN 3 THEN 'contact' ELSE 'written' END AS kind,
      -- answered directly about 60 % of registered calls (KKiK: 60-70 % targeted, 40-70 % reached)
      CASE WHEN g.c = 3 THEN (CASE WHEN ${u(S.outcome)} < 0.55 THEN 'answered' WHEN ${u(S.outcome)} < 0.80 THEN 'forwarded' ELSE 'case' END)
           ELSE (CASE WHEN ${u(S.outcome)} < 0.60 THEN 'answered' WHEN ${u(S.outcome)} < 0.79 THEN 'forwarded' WHEN ${u(S.outcome)} < 0.93 THEN 'case' ELSE 'callback' END) END AS outcome,
      CASE WHEN g.c IN (1, 2) THEN p.catPickWritten[1 + floor(${u(S.category)} * 100)::int] ELSE p.catPickPhone[1 + floor(${u(S.category)} * 100)::int] END AS cat,
      CASE WHEN g.c IN (1, 2) AND ${u(S.language)} >= 0.90 THEN (CASE WHEN ${u(S.language)} < 0.97 THEN 'en' ELSE 'ar' END) ELSE 'sv' END AS language,
      ${ln(35, 1.0, S.wait1, S.wait2)} AS wait_s,
      ${ln(240, 0.55, S.talk1, S.talk2)} AS talk_s,
      ${ln(60, 0.6, S.talk2, S.wait1)} AS giveup_s,
      1 + floor(${u(S.agentA)} * cardinality(p.agentIds))::int AS ka,
      1 + floor(${u(S.agentB)} * cardinality(p.agentIds))::int AS kb,
      ${u(S.text)} AS u_text, ${u(S.returning)} AS u_ret, ${u(S.take)} AS u_take, ${u(S.act1kind)} AS u_act1, ${u(S.follow)} AS u_follow,
      ${u(S.manres)} AS u_manres, ${u(S.close)} AS u_close, ${u(S.closeAt)} AS u_close_at, ${u(S.withheld)} AS u_withheld, ${u(S.missed)} AS u_missed,
      ${result(u(S.r1))} AS r1, ${result(u(S.r2))} AS r2, ${result(u(S.r3))} AS r3,
      ${u(S.cbResolve)} AS u_cbres, ${u(S.anon)} AS u_anon, ${u(S.anonAt)} AS u_anon_at,
      ${u(S.reply)} AS u_reply, ${u(S.followText)} AS u_follow_text, ${u(S.forwardDept)} AS u_dept,
      -- waits in working seconds, skewed (lognormal), each capped so that a case is settled within about five weeks
      least(greatest(${ln(1.2 * 3600, 1.1, S.take1, S.take2)}, 60), 5 * p.day) AS d_take,
      least(greatest(${ln(15 * 60, 0.9, S.act1a, S.act1b)}, 30), 1 * p.day) AS d_after_take,
      least(greatest(${ln(2.5 * 3600, 1.3, S.act1a, S.act1b)}, 120), 10 * p.day) AS d_act1,
      least(greatest(${ln(5 * 3600, 1.2, S.follow1, S.follow2)}, 300), 10 * p.day) AS d_follow,
      least(greatest(${ln(2 * 3600, 1.2, S.rr1, S.rr2)}, 120), 5 * p.day) AS d_reply2,
      least(greatest(${ln(6 * 3600, 1.2, S.rr1, S.rr2)}, 300), 10 * p.day) AS d_case_reply,
      least(greatest(${ln(1.6 * 8.5 * 3600, 1.0, S.dept1, S.dept2)}, 600), 15 * p.day) AS d_dept,
      least(greatest(${ln(2 * 3600, 0.8, S.ws1, S.ws2)}, 1800), 3 * p.day) AS d_agent_window,
      least(greatest(${ln(3 * 3600, 0.9, S.ws1, S.ws2)}, 1800), 3 * p.day) AS d_web_window,
      least(greatest(${ln(25 * 60, 1.0, S.a1a, S.a1b)}, 60), 2 * p.day) AS d_a1,
      least(greatest(${ln(40 * 60, 1.0, S.a2a, S.a2b)}, 60), 2 * p.day) AS d_a2,
      least(greatest(${ln(40 * 60, 1.0, S.a3a, S.a3b)}, 60), 2 * p.day) AS d_a3,
      least(greatest(${ln(6 * 3600, 1.2, S.later1, S.later2)}, 300), 10 * p.day) AS d_later
    FROM g CROSS JOIN p OFFSET 0),
  b AS (
    -- a call is offered, then answered (or given up) within its open period
    SELECT a.*,
      round((CASE WHEN a.kind = 'contact' AND a.channel = 'phone' THEN a.t_arr + least(a.wait_s, 0.9 * (a.seg_e - a.t_arr))
                  WHEN a.kind = 'cb_tel' THEN a.t_arr + least(a.giveup_s + 10, 0.9 * (a.seg_e - a.t_arr))
                  ELSE a.t_arr END) * 1000) / 1000 AS e0,
      ceil((a.pj + 1) * ${newShare('a.pool')}) > ceil(a.pj * ${newShare('a.pool')}) AS is_new,
      CASE WHEN a.kind = 'written' THEN (CASE WHEN a.u_act1 < 0.58 THEN 'resolve' WHEN a.u_act1 < 0.85 THEN 'wait' ELSE 'forward' END) END AS act1,
      a.kind IN ('cb_tel', 'cb_web') OR (a.kind = 'contact' AND a.outcome = 'callback') AS has_cb
    FROM a OFFSET 0),
  c AS (
    SELECT b.*,
      CASE WHEN b.is_new THEN ceil((b.pj + 1) * ${newShare('b.pool')}) - 1 ELSE floor(b.u_ret * ceil(b.pj * ${newShare('b.pool')})) END::bigint AS r_idx,
      b.kind = 'written' AND (b.u_take < 0.45 OR b.act1 = 'forward') AS has_take,
      b.act1 = 'wait' AND b.u_follow < 0.75 AS has_follow,
      -- the clock of agents' work: working seconds at arrival, or at the next opening
      CASE WHEN b.o = 1 THEN b.seg_w + (b.e0 - b.seg_s) ELSE b.seg_w END AS w0
    FROM b OFFSET 0),
  w1 AS (
    SELECT c.*,
      CASE WHEN c.has_take THEN c.w0 + c.d_take END AS w_take,
      CASE WHEN c.kind = 'written' THEN (CASE WHEN c.has_take THEN c.w0 + c.d_take + c.d_after_take ELSE c.w0 + c.d_act1 END) END AS w_act1,
      CASE WHEN c.kind = 'cb_tel' THEN c.w0 WHEN c.kind = 'cb_web' THEN c.w0 + c.d_web_window WHEN c.has_cb THEN c.w0 + c.d_agent_window END AS w_ws,
      c.has_cb AND ${retry('c.r1')} AND p.max_attempts > 1 AS retry1,
      c.has_cb AND ${retry('c.r1')} AND p.max_attempts > 1 AND ${retry('c.r2')} AND p.max_attempts > 2 AS retry2
    FROM c CROSS JOIN p OFFSET 0),
  w2 AS (
    SELECT w1.*,
      CASE WHEN w1.has_follow THEN w1.w_act1 + w1.d_follow END AS w_follow,
      CASE WHEN w1.act1 = 'wait' AND NOT w1.has_follow THEN w1.w_act1 + (5 + w1.u_manres) * p.day END AS w_manres,
      w1.w_ws + w1.d_a1 AS w_a1,
      CASE WHEN w1.retry1 THEN w1.w_ws + w1.d_a1 + p.retry_s END AS w_n1,
      CASE WHEN w1.retry1 THEN w1.w_ws + w1.d_a1 + p.retry_s + w1.d_a2 END AS w_a2,
      CASE WHEN w1.retry2 THEN w1.w_ws + w1.d_a1 + p.retry_s + w1.d_a2 + p.retry_s END AS w_n2,
      CASE WHEN w1.retry2 THEN w1.w_ws + w1.d_a1 + p.retry_s + w1.d_a2 + p.retry_s + w1.d_a3 END AS w_a3,
      CASE WHEN w1.retry2 THEN 3 WHEN w1.retry1 THEN 2 WHEN w1.has_cb THEN 1 END AS fa,
      CASE WHEN w1.retry2 THEN w1.r3 WHEN w1.retry1 THEN w1.r2 WHEN w1.has_cb THEN w1.r1 END AS r_fa,
      -- a reply that resolves: after the resident's follow-up, from the department, or on a contact kept as a case
      CASE WHEN w1.has_follow THEN w1.w_act1 + w1.d_follow + w1.d_reply2
           WHEN w1.act1 = 'forward' THEN w1.w_act1 + w1.d_dept
           WHEN w1.kind = 'contact' AND w1.outcome = 'forwarded' THEN w1.w0 + w1.d_dept
           WHEN w1.kind = 'contact' AND w1.outcome = 'case' THEN w1.w0 + w1.d_case_reply END AS w_rr
    FROM w1 CROSS JOIN p OFFSET 0),
  w3 AS (
    SELECT w2.*,
      CASE w2.fa WHEN 1 THEN w2.w_a1 WHEN 2 THEN w2.w_a2 WHEN 3 THEN w2.w_a3 END AS w_fa,
      w2.r_fa = 'reached' AND w2.u_cbres >= 0.7 AS cb_open
    FROM w2 OFFSET 0),
  w4 AS (
    SELECT w3.*,
      CASE WHEN w3.cb_open THEN w3.w_fa + w3.d_later END AS w_later,
      CASE WHEN w3.kind = 'written' THEN (CASE w3.act1 WHEN 'resolve' THEN w3.w_act1 WHEN 'wait' THEN coalesce(w3.w_rr, w3.w_manres) ELSE w3.w_rr END)
           WHEN w3.has_cb THEN (CASE WHEN w3.cb_open THEN w3.w_fa + w3.d_later ELSE w3.w_fa END)
           WHEN w3.outcome = 'answered' THEN w3.w0
           ELSE w3.w_rr END AS w_res
    FROM w3 OFFSET 0),
  w5 AS (
    SELECT w4.*, CASE WHEN w4.u_close < 0.78 THEN w4.w_res + (2 + 6 * w4.u_close_at) * p.day END AS w_close
    FROM w4 CROSS JOIN p OFFSET 0),
  t AS (
    SELECT w5.*,
      to_timestamp(w5.e0) AS t_created,
      ${ms('w5.t_arr')} AS t_offered,
      ${at('w5.w_take')} AS t_take,
      ${at('w5.w_act1')} AS t_act1,
      ${at('w5.w_follow')} AS t_follow,
      ${at('w5.w_manres')} AS t_manres,
      ${at('w5.w_rr')} AS t_rr,
      ${at('w5.w_ws')} AS t_ws,
      ${at('w5.w_a1')} AS t_a1, ${at('w5.w_n1')} AS t_n1,
      ${at('w5.w_a2')} AS t_a2, ${at('w5.w_n2')} AS t_n2,
      ${at('w5.w_a3')} AS t_a3,
      ${at('w5.w_fa')} AS t_fa,
      ${at('w5.w_later')} AS t_later,
      CASE WHEN w5.kind = 'contact' AND w5.outcome = 'answered' THEN to_timestamp(w5.e0) ELSE ${at('w5.w_res')} END AS t_res,
      ${at('w5.w_close')} AS t_close
    FROM w5 CROSS JOIN p OFFSET 0),
  ranked AS (
    SELECT t.*, row_number() OVER (ORDER BY t.t_created, t.i) AS rn FROM t),
  numbers AS MATERIALIZED (SELECT CAST(? AS bigint[]) AS n),
  f AS (
    SELECT r.*,
      ?::bigint + r.rn - 1 AS id,
      'SC-' || to_char(r.t_created AT TIME ZONE p.tz, 'YYYY') || '-' || CASE WHEN nb.n[r.rn] < 1000000 THEN lpad(nb.n[r.rn]::text, 6, '0') ELSE nb.n[r.rn]::text END AS reference,
      (CASE WHEN r.pool = 'e' THEN ?::bigint ELSE ?::bigint END) + r.r_idx AS resident_id,
      r.r_idx * 2 + CASE WHEN r.pool = 'e' THEN 0 ELSE 1 END AS person,
      CASE WHEN r.has_cb THEN r.t_ws + make_interval(secs => p.slot_s) END AS t_we,
      p.agentIds[r.ka] AS agent_a, p.agentNames[r.ka] AS agent_a_name, p.agentIds[r.kb] AS agent_b, p.agentNames[r.kb] AS agent_b_name,
      p.catIds[r.cat] AS category_id, p.catSlugs[r.cat] AS category_slug,
      coalesce(nullif(p.catDeptIds[r.cat], 0), ${pick('p.deptIds', 'r.u_dept')}) AS fwd_dept,
      CASE WHEN nullif(p.catDeptIds[r.cat], 0) IS NOT NULL THEN p.catDeptNames[r.cat] ELSE ${pick('p.deptNames', 'r.u_dept')} END AS fwd_dept_name,
      CASE WHEN r.language = 'sv' THEN ${pick('p.replies', 'r.u_reply')} ELSE ${pick('p.repliesEn', 'r.u_reply')} END AS reply_body,
      CASE WHEN r.language = 'sv' THEN ${pick('p.replies', 'r.u_follow_text')} ELSE ${pick('p.repliesEn', 'r.u_follow_text')} END AS reply2_body,
      ${pick('p.followUps', 'r.u_follow_text')} AS follow_body,
      ${pick('p.forwardNotes', 'r.u_reply')} AS forward_note,
      CASE WHEN r.kind = 'written' THEN (CASE WHEN r.language = 'sv' THEN p.ws_subj[p.ws_off[r.cat] + floor(r.u_text * p.ws_cnt[r.cat])::int] ELSE ${pick('p.we_subj', 'r.u_text')} END)
           WHEN r.kind = 'contact' THEN p.ps_subj[p.ps_off[r.cat] + floor(r.u_text * p.ps_cnt[r.cat])::int]
           WHEN r.kind = 'cb_tel' THEN p.missed_subject
           ELSE replace(p.cb_subject, '{topic}', p.catSlugs[r.cat]) END AS subject_t,
      CASE WHEN r.kind = 'written' THEN (CASE WHEN r.language = 'sv' THEN p.ws_body[p.ws_off[r.cat] + floor(r.u_text * p.ws_cnt[r.cat])::int] ELSE ${pick('p.we_body', 'r.u_text')} END)
           WHEN r.kind = 'contact' THEN p.ps_body[p.ps_off[r.cat] + floor(r.u_text * p.ps_cnt[r.cat])::int]
           WHEN r.kind = 'cb_tel' THEN p.missed_body
           ELSE p.cb_nomsg END AS body_t,
      rtrim(translate(encode(sha256(convert_to(p.salt || ':' || r.i, 'UTF8')), 'base64'), '+/', '-_'), '=') AS token,
      p.max_attempts AS max_att,
      p.now_t
    FROM ranked r CROSS JOIN numbers nb CROSS JOIN p OFFSET 0),
  h AS (
    SELECT f.*,
      CASE WHEN f.pool = 'p' OR ${u(S.hasPhone, 'f.person')} < 0.4 THEN
        '07' || (ARRAY['0', '2', '3', '6', '9'])[1 + floor(${u(S.prefix, 'f.person')} * 5)::int] || '-' ||
        substr(${digits}, 1, 3) || ' ' || substr(${digits}, 4, 2) || ' ' || substr(${digits}, 6, 2) END AS phone,
      CASE WHEN NOT f.is_new THEN NULL WHEN f.kind = 'cb_tel' THEN p.unnamed ELSE ${first} || ' ' || ${last} END AS r_name,
      CASE WHEN f.is_new AND f.pool = 'e' THEN ${ascii(first)} || '.' || ${ascii(last)} || '.' || f.resident_id || '@' ||
        (ARRAY['example.com', 'example.net', 'example.org'])[1 + floor(${u(S.domain, 'f.person')} * 3)::int] END AS r_email,
      CASE WHEN f.kind = 'written' AND f.act1 = 'forward' THEN f.t_act1 WHEN f.kind = 'contact' AND f.outcome = 'forwarded' THEN f.t_created END AS t_fwd,
      CASE WHEN f.kind = 'written' AND f.act1 IN ('resolve', 'wait') THEN f.t_act1 END AS t_reply1,
      CASE WHEN f.kind = 'written' THEN (CASE WHEN f.act1 = 'forward' THEN f.t_rr ELSE f.t_act1 END)
           WHEN f.has_cb THEN (CASE WHEN f.r_fa = 'reached' THEN f.t_fa END)
           WHEN f.outcome = 'answered' THEN f.t_created
           ELSE f.t_rr END AS t_fr,
      -- resolved at first contact as statusPatch decides: one reply, no follow-up, never forwarded
      CASE WHEN f.kind = 'written' THEN f.act1 = 'resolve' OR (f.act1 = 'wait' AND NOT f.has_follow)
           WHEN f.has_cb THEN false
           ELSE f.outcome IN ('answered', 'case') END AS rafc,
      CASE WHEN f.act1 = 'forward' OR (f.kind = 'contact' AND f.outcome = 'forwarded') THEN f.kb ELSE f.ka END AS k_rr,
      CASE WHEN f.act1 = 'forward' OR (f.kind = 'contact' AND f.outcome = 'forwarded') THEN 'forwarded' ELSE 'open' END AS rr_from
    FROM f CROSS JOIN p OFFSET 0)
  SELECT h.*,
    p.agentIds[h.k_rr] AS rr_actor,
    replace(replace(replace(replace(h.subject_t, '{phone}', coalesce(h.phone, '')), '{queue}', ${queueOf('h.category_slug')}), '{at}', ${iso('h.t_created')}), '{topic}', h.category_slug) AS subject,
    replace(replace(replace(h.body_t, '{phone}', coalesce(h.phone, '')), '{queue}', ${queueOf('h.category_slug')}), '{at}', ${iso('h.t_created')}) AS body,
    CASE WHEN ${d('h.t_close')} THEN 'closed'
         WHEN ${d('h.t_res')} THEN 'resolved'
         WHEN ${d('h.t_follow')} THEN 'open'
         WHEN h.cb_open AND ${d('h.t_fa')} THEN 'open'
         WHEN ${d('h.t_fwd')} THEN 'forwarded'
         WHEN h.act1 = 'wait' AND ${d('h.t_act1')} THEN 'waiting'
         WHEN ${d('h.t_take')} OR (h.kind = 'contact' AND h.outcome = 'case') THEN 'open'
         ELSE 'new' END AS status,
    CASE WHEN h.has_cb THEN (CASE WHEN ${d('h.t_fa')} THEN h.agent_a END)
         WHEN h.kind = 'contact' OR ${d('h.t_take')} OR ${d('h.t_act1')} THEN h.agent_a END AS assignee,
    CASE WHEN h.has_cb THEN (CASE WHEN ${d('h.t_a2')} AND h.retry2 THEN h.t_n2 WHEN ${d('h.t_a1')} AND h.retry1 THEN h.t_n1 ELSE h.t_ws END) ELSE h.t_created END AS queue_at
  FROM h CROSS JOIN p`;
}

/** The telephony queue a topic's calls come in on, as in the simulator. */
function queueOf(slug: string): string {
  return `CASE ${slug} WHEN 'bygglov' THEN 'bygglov' WHEN 'forsorjningsstod' THEN 'forsorjningsstod' WHEN 'forskoleplats' THEN 'forskola' ELSE 'vaxel' END`;
}

const RESIDENTS_SQL = `INSERT INTO residents (id, name, email, phone, created_at, updated_at)
  SELECT resident_id, r_name, r_email, phone, t_created, t_created FROM seed_plan WHERE is_new ORDER BY resident_id`;

/** The cases as their steps have left them by now, with the metric columns as the case changer sets them. */
function casesSql(): string {
  const d = (c: string) => `coalesce(pl.${c} <= pl.now_t, false)`;
  const whenDone = (c: string) => `CASE WHEN ${d(c)} THEN pl.${c} END`;
  return `INSERT INTO cases (id, reference, status, channel, category_id, department_id, assignee_id, resident_id, subject, language, resident_token,
    created_at, updated_at, first_response_at, resolved_at, closed_at, resolved_at_first_contact, agent_reply_count, resident_message_count,
    forward_count, reopen_count, queue_at)
  SELECT pl.id, pl.reference, pl.status, pl.channel, pl.category_id, CASE WHEN ${d('t_fwd')} THEN pl.fwd_dept END, pl.assignee, pl.resident_id,
    pl.subject, pl.language, pl.token, pl.t_created,
    greatest(pl.t_created, ${['t_take', 't_act1', 't_follow', 't_manres', 't_rr', 't_a1', 't_a2', 't_a3', 't_later', 't_res', 't_close'].map(whenDone).join(', ')}),
    ${whenDone('t_fr')}, ${whenDone('t_res')}, ${whenDone('t_close')},
    CASE WHEN ${d('t_res')} THEN pl.rafc END,
    ${d('t_reply1')}::int + ${d('t_rr')}::int,
    1 + ${d('t_follow')}::int,
    ${d('t_fwd')}::int,
    0,
    pl.queue_at
  FROM seed_plan pl ORDER BY pl.id`;
}

/** Callbacks with their attempts so far, and the calls: answered ones behind phone contacts, missed ones behind callbacks, some anonymous. */
function phoneSql(): string {
  const d = (c: string) => `coalesce(pl.${c} <= pl.now_t, false)`;
  return `WITH cb AS (
    INSERT INTO callbacks (case_id, phone, window_start, window_end, status, attempts, max_attempts, next_attempt_at, source, call_id, outcome, created_at, completed_at)
    SELECT pl.id, pl.phone, pl.t_ws, pl.t_we,
      CASE WHEN ${d('t_fa')} THEN (CASE WHEN pl.r_fa = 'reached' THEN 'completed' ELSE 'failed' END) ELSE 'pending' END,
      ${d('t_a1')}::int + ${d('t_a2')}::int + ${d('t_a3')}::int, pl.max_att, pl.queue_at,
      CASE pl.kind WHEN 'cb_tel' THEN 'telephony' WHEN 'cb_web' THEN 'web' ELSE 'agent' END,
      CASE WHEN pl.kind = 'cb_tel' THEN 'hist-' || pl.id END,
      CASE WHEN ${d('t_fa')} THEN pl.r_fa END,
      pl.t_created,
      CASE WHEN ${d('t_fa')} THEN pl.t_fa END
    FROM seed_plan pl WHERE pl.has_cb ORDER BY pl.id
    RETURNING id, case_id),
  att AS (
    INSERT INTO callback_attempts (callback_id, user_id, result, note, attempted_at)
    SELECT cb.id, pl.agent_a, x.result, '', x.at
    FROM cb JOIN seed_plan pl ON pl.id = cb.case_id CROSS JOIN LATERAL (VALUES (pl.t_a1, pl.r1, 1), (pl.t_a2, pl.r2, 2), (pl.t_a3, pl.r3, 3)) AS x(at, result, k)
    WHERE x.at <= pl.now_t
    ORDER BY x.at, cb.id, x.k
    RETURNING 1),
  ins AS (
    INSERT INTO calls (call_id, caller, queue, state, outcome, offered_at, answered_at, ended_at, agent_id, callback_id, updated_at)
    SELECT x.* FROM (
      SELECT 'hist-' || pl.id, CASE WHEN pl.u_withheld >= 0.05 THEN pl.phone END, ${queueOf('pl.category_slug')},
        CASE WHEN pl.t_created + make_interval(secs => pl.talk_s) <= pl.now_t THEN 'ended' ELSE 'answered' END,
        CASE WHEN pl.t_created + make_interval(secs => pl.talk_s) <= pl.now_t THEN 'completed' END,
        pl.t_offered, pl.t_created,
        CASE WHEN pl.t_created + make_interval(secs => pl.talk_s) <= pl.now_t THEN ${ms('extract(epoch FROM pl.t_created) + pl.talk_s')} END,
        pl.agent_a, NULL::bigint,
        least(${ms('extract(epoch FROM pl.t_created) + pl.talk_s')}, pl.now_t)
      FROM seed_plan pl WHERE pl.kind = 'contact' AND pl.channel = 'phone'
      UNION ALL
      SELECT 'hist-' || pl.id, pl.phone, ${queueOf('pl.category_slug')}, 'ended',
        CASE WHEN pl.u_missed < 0.75 THEN 'abandoned' WHEN pl.u_missed < 0.9 THEN 'no_answer' ELSE 'busy' END,
        pl.t_offered, NULL, pl.t_created, NULL, cb.id, pl.t_created
      FROM seed_plan pl JOIN cb ON cb.case_id = pl.id WHERE pl.kind = 'cb_tel'
      UNION ALL
      -- callers who gave up without leaving a number: no callback, nobody to call
      SELECT 'hist-' || pl.id || '-a', NULL, 'vaxel', 'ended', 'abandoned',
        ${ms('pl.seg_s + (pl.t_arr - pl.seg_s) * pl.u_anon_at')}, NULL,
        ${ms('pl.seg_s + (pl.t_arr - pl.seg_s) * pl.u_anon_at + least(45, (pl.t_arr - pl.seg_s) * (1 - pl.u_anon_at))')},
        NULL, NULL,
        ${ms('pl.seg_s + (pl.t_arr - pl.seg_s) * pl.u_anon_at + least(45, (pl.t_arr - pl.seg_s) * (1 - pl.u_anon_at))')}
      FROM seed_plan pl WHERE pl.kind = 'contact' AND pl.channel = 'phone' AND pl.u_anon < 0.006
    ) AS x ORDER BY 6, 1
    RETURNING 1)
  SELECT (SELECT count(*) FROM cb) AS callbacks, (SELECT count(*) FROM att) AS attempts, (SELECT count(*) FROM ins) AS calls`;
}

/**
 * The events the steps wrote, as the services write them (types, actors,
 * payloads, internal flags), with the message of each that carries one, in
 * the order they happened. `seq` orders a case's events at the same instant
 * (one change writes several).
 */
function eventsSql(): string {
  const attempt = (k: number) => {
    const base = 60 + k * 10;
    const final = `CASE WHEN pl.fa = ${k} THEN pl.t_a${k} END`;
    return `(pl.t_a${k}, ${base}), (${final}, ${base + 1}), (${final}, ${base + 2}), (${final}, ${base + 3})`;
  };
  const k = '(x.seq / 10 - 6)';
  const rk = `(CASE ${k} WHEN 1 THEN pl.r1 WHEN 2 THEN pl.r2 ELSE pl.r3 END)`;
  const retryk = `(CASE ${k} WHEN 1 THEN pl.retry1 WHEN 2 THEN pl.retry2 ELSE false END)`;
  const nextk = `(CASE ${k} WHEN 1 THEN pl.t_n1 WHEN 2 THEN pl.t_n2 END)`;
  const toAgent = `jsonb_build_object('from', NULL, 'to', pl.agent_a, 'toName', pl.agent_a_name)`;
  const act1To = `(CASE pl.act1 WHEN 'resolve' THEN 'resolved' WHEN 'wait' THEN 'waiting' ELSE 'forwarded' END)`;
  const act1From = `(CASE WHEN pl.has_take THEN 'open' ELSE 'new' END)`;
  return `CREATE TEMP TABLE seed_events ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY e.at, e.case_id, e.seq) AS rn, e.* FROM (
    SELECT pl.id AS case_id, x.at, x.seq,
      CASE
        WHEN x.seq = 0 THEN 'case.created'
        WHEN x.seq = 1 THEN 'callback.requested'
        WHEN x.seq = 2 THEN (CASE WHEN pl.outcome = 'forwarded' THEN 'case.forwarded' ELSE 'assignment.changed' END)
        WHEN x.seq = 10 THEN 'assignment.changed'
        WHEN x.seq = 20 THEN (CASE WHEN pl.act1 = 'forward' THEN 'case.forwarded' ELSE 'reply.sent' END)
        WHEN x.seq = 30 THEN 'message.received'
        WHEN x.seq = 40 THEN 'reply.sent'
        WHEN x.seq BETWEEN 70 AND 99 THEN (CASE x.seq % 10 WHEN 0 THEN 'callback.attempted' WHEN 1 THEN (CASE WHEN ${rk} = 'reached' THEN 'callback.completed' ELSE 'callback.failed' END)
                                            WHEN 2 THEN 'status.changed' ELSE 'assignment.changed' END)
        ELSE 'status.changed' END AS type,
      CASE
        WHEN x.seq = 0 THEN (CASE WHEN pl.kind = 'contact' THEN 'user' ELSE 'resident' END)
        WHEN x.seq = 1 THEN (CASE pl.kind WHEN 'contact' THEN 'user' WHEN 'cb_tel' THEN 'system' ELSE 'resident' END)
        WHEN x.seq IN (30, 31) THEN 'resident'
        ELSE 'user' END AS actor_type,
      CASE
        WHEN x.seq IN (0, 1) THEN (CASE WHEN pl.kind = 'contact' THEN pl.agent_a END)
        WHEN x.seq IN (30, 31) THEN NULL
        WHEN x.seq IN (40, 41) THEN pl.rr_actor
        ELSE pl.agent_a END AS actor_id,
      CASE
        WHEN x.seq = 0 THEN (CASE
          WHEN pl.kind = 'written' THEN jsonb_build_object('channel', pl.channel, 'category', pl.category_slug, 'subject', pl.subject, 'attachments', 0)
          WHEN pl.kind = 'contact' THEN jsonb_build_object('channel', pl.channel, 'category', pl.category_slug, 'outcome', pl.outcome, 'registeredBy', pl.agent_a_name)
          ELSE jsonb_build_object('channel', 'phone', 'category', pl.category_slug, 'subject', pl.subject, 'callback', true)
               || CASE WHEN pl.kind = 'cb_tel' THEN jsonb_build_object('callId', 'hist-' || pl.id) ELSE '{}'::jsonb END END)
        WHEN x.seq = 1 THEN jsonb_build_object('phone', pl.phone, 'windowStart', ${iso('pl.t_ws')}, 'windowEnd', ${iso('pl.t_we')},
          'source', CASE pl.kind WHEN 'cb_tel' THEN 'telephony' WHEN 'cb_web' THEN 'web' ELSE 'agent' END,
          'callId', CASE WHEN pl.kind = 'cb_tel' THEN 'hist-' || pl.id END)
        WHEN x.seq = 2 THEN (CASE WHEN pl.outcome = 'forwarded'
          THEN jsonb_build_object('from', 'new', 'departmentId', pl.fwd_dept, 'departmentName', pl.fwd_dept_name, 'note', pl.body)
          ELSE ${toAgent} END)
        WHEN x.seq = 3 THEN jsonb_build_object('from', 'new', 'to', CASE pl.outcome WHEN 'answered' THEN 'resolved' WHEN 'forwarded' THEN 'forwarded' ELSE 'open' END)
          || CASE WHEN pl.outcome = 'answered' THEN '{"reason": "answered_directly"}'::jsonb ELSE '{}'::jsonb END
        WHEN x.seq = 10 THEN ${toAgent} || '{"via": "take_next"}'::jsonb
        WHEN x.seq = 11 THEN '{"from": "new", "to": "open"}'::jsonb
        WHEN x.seq = 20 THEN (CASE WHEN pl.act1 = 'forward'
          THEN jsonb_build_object('from', ${act1From}, 'departmentId', pl.fwd_dept, 'departmentName', pl.fwd_dept_name, 'note', pl.forward_note)
          ELSE '{"channel": "email"}'::jsonb END)
        WHEN x.seq = 21 THEN jsonb_build_object('from', ${act1From}, 'to', ${act1To})
        WHEN x.seq = 30 THEN jsonb_build_object('channel', pl.channel)
        WHEN x.seq = 31 THEN '{"from": "waiting", "to": "open", "reason": "resident_reply"}'::jsonb
        WHEN x.seq = 40 THEN '{"channel": "email"}'::jsonb
        WHEN x.seq = 41 THEN jsonb_build_object('from', pl.rr_from, 'to', 'resolved')
        WHEN x.seq = 60 THEN '{"from": "waiting", "to": "resolved"}'::jsonb
        WHEN x.seq BETWEEN 70 AND 99 THEN (CASE x.seq % 10
          WHEN 0 THEN jsonb_build_object('result', ${rk}, 'attempt', ${k}, 'of', pl.max_att, 'note', NULL,
                                         'nextAttemptAt', CASE WHEN ${retryk} THEN ${iso(nextk)} END)
          WHEN 1 THEN jsonb_build_object('attempts', ${k}, 'result', ${rk})
          WHEN 2 THEN jsonb_build_object('from', 'new', 'to', CASE WHEN pl.cb_open THEN 'open' ELSE 'resolved' END,
                                         'reason', CASE WHEN pl.r_fa = 'reached' THEN 'callback' ELSE 'callback_failed' END)
          ELSE ${toAgent} END)
        WHEN x.seq = 100 THEN '{"from": "open", "to": "resolved"}'::jsonb
        ELSE '{"from": "resolved", "to": "closed"}'::jsonb END AS payload,
      (x.seq = 2 AND pl.outcome = 'forwarded') OR (x.seq = 20 AND pl.act1 = 'forward') AS internal,
      CASE WHEN x.seq IN (0, 30) THEN 'resident' WHEN x.seq = 40 OR (x.seq = 20 AND pl.act1 <> 'forward') THEN 'reply' END AS msg_kind,
      CASE x.seq WHEN 0 THEN pl.body WHEN 20 THEN pl.reply_body WHEN 30 THEN pl.follow_body WHEN 40 THEN pl.reply2_body END AS msg_body,
      CASE WHEN x.seq IN (0, 30) THEN pl.channel ELSE 'email' END AS msg_channel,
      CASE x.seq WHEN 20 THEN pl.agent_a WHEN 40 THEN pl.rr_actor END AS msg_author
    FROM seed_plan pl CROSS JOIN LATERAL (VALUES
      (pl.t_created, 0),
      (CASE WHEN pl.has_cb THEN pl.t_created END, 1),
      (CASE WHEN pl.kind = 'contact' AND pl.outcome <> 'callback' THEN pl.t_created END, 2),
      (CASE WHEN pl.kind = 'contact' AND pl.outcome <> 'callback' THEN pl.t_created END, 3),
      (pl.t_take, 10), (pl.t_take, 11),
      (pl.t_act1, 20), (pl.t_act1, 21),
      (pl.t_follow, 30), (pl.t_follow, 31),
      (pl.t_rr, 40), (pl.t_rr, 41),
      (pl.t_manres, 60),
      ${attempt(1)}, ${attempt(2)}, ${attempt(3)},
      (pl.t_later, 100),
      (pl.t_close, 110)) AS x(at, seq)
    WHERE x.at <= pl.now_t) AS e`;
}

export function createHistorySeedStore(db: Knex) {
  return {
    /** Active agents (editors are agents too) to give the history to. */
    async agents(): Promise<{ id: number; name: string }[]> {
      return db('users').whereIn('role', ['agent', 'editor']).andWhere({ active: true }).orderBy('id').select('id', 'name');
    },

    /** Agents who cannot sign in ("!" is no argon2 hash, so no password matches it). */
    async createAgents(people: { name: string; email: string }[]): Promise<void> {
      if (!people.length) return;
      await db.raw(
        `INSERT INTO users (name, email, role, password_hash)
         SELECT name, email, 'agent', '!' FROM json_to_recordset(CAST(? AS json)) AS t(name text, email text)
         ON CONFLICT ((lower(email))) DO NOTHING`,
        [JSON.stringify(people)],
      );
    },

    async categories(): Promise<{ id: number; slug: string; department_id: number | null; department_name: string | null }[]> {
      return db('categories as c')
        .leftJoin('departments as d', 'd.id', 'c.department_id')
        .where('c.active', true)
        .orderBy([{ column: 'c.sort_order' }, { column: 'c.id' }])
        .select('c.id', 'c.slug', 'c.department_id', 'd.name as department_name');
    },

    async departments(): Promise<{ id: number; name: string }[]> {
      return db('departments').where({ active: true }).orderBy('id').select('id', 'name');
    },

    /**
     * A block of `count` ids of a table, in one short transaction: the lock
     * makes other writers of the table wait the moment it takes, so nobody
     * draws from its sequence in between and the block is whole.
     */
    async reserveIds(table: 'cases' | 'residents', count: number): Promise<number> {
      if (count <= 0) return 0;
      return db.transaction(async (trx) => {
        await trx.raw(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
        return takeBlock(trx, table, count);
      });
    },

    /**
     * Whether batches may skip the per-row triggers (see ROW_TRIGGERS): the
     * role may set session_replication_role, and the seeded tables have no
     * trigger but the ones whose work the batch does itself. Otherwise every
     * row goes through its triggers, which is correct and about twice as slow.
     */
    async bulkMode(): Promise<{ bulk: boolean; why: string }> {
      const { rows } = await db.raw<{ rows: { tgname: string; tgrelid: string }[] }>(
        `SELECT tgname, tgrelid::regclass::text AS tgrelid FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(?::text[])`,
        [`{${SEEDED_TABLES.join(',')}}`],
      );
      const unknown = rows.filter((r) => !ROW_TRIGGERS.includes(`${r.tgrelid}.${r.tgname}`));
      if (unknown.length) return { bulk: false, why: `triggers kept, since ${unknown.map((r) => `${r.tgrelid}.${r.tgname}`).join(', ')} must see every row` };
      try {
        await db.transaction((trx) => trx.raw('SET LOCAL session_replication_role = replica'));
        return { bulk: true, why: 'row triggers done in bulk' };
      } catch {
        return { bulk: false, why: 'triggers kept, since this role may not set session_replication_role' };
      }
    },

    /**
     * `count` case numbers from the reference sequence, as the intake takes
     * them (so none is ever handed out twice), in one statement: as runs of
     * consecutive numbers, ascending.
     */
    async takeCaseNumbers(count: number): Promise<{ first: number; count: number }[]> {
      const { rows } = await db.raw<{ rows: { first: number | string; count: number | string }[] }>(
        `SELECT min(n) AS first, count(*) AS count
         FROM (SELECT n, n - row_number() OVER (ORDER BY n) AS run FROM (SELECT nextval('case_number_seq') AS n FROM generate_series(1, ?::int)) AS drawn) AS numbered
         GROUP BY run ORDER BY 1`,
        [count],
      );
      return rows.map((r) => ({ first: Number(r.first), count: Number(r.count) }));
    },

    /**
     * One batch, in one transaction (see the top of this file). Batches may
     * run two at a time: `after` is the commit of the batch before, awaited
     * before the event lock is taken (so commits, and event ids, go in batch
     * order) and before anything refers to residents of earlier batches: in
     * bulk, their check; with row triggers, the cases themselves. The rest of
     * a batch is independent of the others.
     */
    async writeBatch(constants: SeedConstants, b: BatchInput, bulk: boolean, after: Promise<unknown> = Promise.resolve()): Promise<BatchCounts> {
      return db.transaction(async (trx) => {
        // Sorts and the plan table stay in memory; compiling these wide expressions would cost more than running them.
        await trx.raw(`SET LOCAL work_mem = '256MB'`);
        await trx.raw(`SET LOCAL temp_buffers = '256MB'`);
        if (typeof trx.client.config.client === 'string') await trx.raw('SET LOCAL jit = off');
        if (bulk) {
          await trx.raw('SET LOCAL session_replication_role = replica');
          // What the foreign key triggers would have locked: the agents and departments referred to.
          await trx.raw('SELECT 1 FROM users WHERE id = ANY(?::int[]) FOR KEY SHARE', [`{${constants.agentIds.join(',')}}`]);
          await trx.raw('SELECT 1 FROM departments WHERE id = ANY(?::int[]) FOR KEY SHARE', [`{${[0, ...constants.deptIds, ...constants.catDeptIds].join(',')}}`]);
        }
        await trx.raw(planSql(constants.seed), [
          JSON.stringify(constants),
          JSON.stringify(b.slots),
          b.lo,
          b.hi,
          `{${b.numbers.join(',')}}`,
          b.caseIdBase + b.lo,
          b.residentBaseE,
          b.residentBaseP,
        ]);
        const residents = await rowCount(trx, RESIDENTS_SQL);
        // A row-by-row foreign key check does not see residents of a batch not yet committed: wait for it.
        if (!bulk) await after;
        const cases = await rowCount(trx, casesSql());
        await trx.raw(eventsSql());
        await after;
        // Callbacks and calls draw their ids from sequences: after the batch before has written its
        // own, so the same seed gives the same ids however the two batches' work interleaves.
        const phone = await trx.raw<{ rows: { callbacks: number | string; attempts: number | string; calls: number | string }[] }>(phoneSql());
        if (bulk) {
          // The one reference that leaves the batch, unchecked per row here: residents first seen in earlier batches.
          const { rows: missing } = await trx.raw<{ rows: unknown[] }>(`SELECT 1 FROM seed_plan pl WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.id = pl.resident_id) LIMIT 1`);
          if (missing.length) throw new Error('seed:history: a case refers to a resident that was not written');
        }
        // From here to the commit other writers of events wait: the lock before any event id is drawn, as they do.
        await trx.raw('SELECT pg_advisory_xact_lock(7310385)');
        const { rows } = await trx.raw<{ rows: { n: number | string }[] }>('SELECT count(*) AS n FROM seed_events');
        const events = Number(rows[0]!.n);
        let messages = 0;
        if (events > 0) {
          const first = await takeBlock(trx, 'case_events', events);
          await trx.raw(
            `INSERT INTO case_events (id, case_id, type, actor_type, actor_id, payload, internal, created_at)
             SELECT ?::bigint + rn - 1, case_id, type, actor_type, actor_id, payload, internal, at FROM seed_events ORDER BY rn`,
            [first],
          );
          messages = await rowCount(
            trx,
            `INSERT INTO messages (case_id, event_id, kind, author_id, channel, body, created_at)
             SELECT case_id, ?::bigint + rn - 1, msg_kind, msg_author, msg_channel, msg_body, at FROM seed_events WHERE msg_kind IS NOT NULL ORDER BY rn`,
            [first],
          );
        }
        const r = phone.rows[0]!;
        return { residents, cases, case_events: events, messages, calls: Number(r.calls), callbacks: Number(r.callbacks), callback_attempts: Number(r.attempts) };
      });
    },

    /** Whether the cases have the working-time metric columns (migration 20261129000000_case_metrics). */
    async hasMetricColumns(): Promise<boolean> {
      const { rows } = await db.raw<{ rows: unknown[] }>(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'cases' AND column_name = 'first_response_working_s'`,
      );
      return rows.length > 0;
    },

    /** Fresh planner statistics for the tables that grew. */
    async analyze(): Promise<void> {
      for (const table of SEEDED_TABLES) await db.raw(`ANALYZE ${table}`);
    },
  };
}

export type HistorySeedStore = ReturnType<typeof createHistorySeedStore>;

export const SEEDED_TABLES = ['users', 'residents', 'cases', 'case_events', 'messages', 'calls', 'callbacks', 'callback_attempts'] as const;

/**
 * The triggers a bulk batch does the work of itself, so that it may skip the
 * per-row triggers (session_replication_role = replica, set for its own
 * transaction only):
 * - case_events_commit_order: the batch takes the same advisory lock before
 *   it draws its event ids and holds it to its commit;
 * - cases_queue_at: every case is written with its queue_at;
 * - the foreign keys (internal triggers): rows refer only to rows written
 *   earlier in the same transaction, to residents of earlier batches
 *   (checked in one query), and to agents and departments the batch locks
 *   FOR KEY SHARE as the checks would. Unique, check and not-null
 *   constraints and generated columns are not triggers and hold as ever.
 * Any other trigger on these tables makes the batches keep them all.
 */
const ROW_TRIGGERS = ['case_events.case_events_commit_order', 'cases.cases_queue_at'];

/** Takes `count` consecutive values of a table's id sequence; the caller sees to it that nobody else draws meanwhile. */
async function takeBlock(trx: Knex.Transaction, table: string, count: number): Promise<number> {
  const { rows } = await trx.raw<{ rows: { first: number | string }[] }>(
    `SELECT setval(pg_get_serial_sequence(?, 'id'), nextval(pg_get_serial_sequence(?, 'id')) + ?::bigint - 1) - ?::bigint + 1 AS first`,
    [table, table, count, count],
  );
  return Number(rows[0]!.first);
}

async function rowCount(trx: Knex.Transaction, sql: string, bindings: Knex.RawBinding[] = []): Promise<number> {
  const r = (await trx.raw(sql, bindings)) as { rowCount?: number | null; affectedRows?: number };
  return Number(r.rowCount ?? r.affectedRows ?? 0);
}
