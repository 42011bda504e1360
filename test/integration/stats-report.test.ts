import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Report } from '../../server/stats/report.js';
import { startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { parseCsv } from '../support/csv.js';

/**
 * The history report on a small hand-built history whose every figure is
 * worked out by hand below. Office hours for the statistics: weekdays
 * 08:00–17:00 in Europe/Stockholm, closed on public holidays. The period is
 * 2026-03-23 (Monday) to 2026-04-05 (Sunday): summer time starts on Sunday
 * 2026-03-29 (02:00 → 03:00), Good Friday is 2026-04-03 and Easter Monday
 * 2026-04-06. "Now" for the KKiK deadlines is Tuesday 2026-04-07 12:00.
 */
const TZ = 'Europe/Stockholm';
const at = (local: string) => DateTime.fromISO(local, { zone: TZ }).toJSDate();
const NOW = at('2026-04-07T12:00');
const PERIOD = { from: '2026-03-23', to: '2026-04-05' };

describe('statistics: the history report', function () {
  this.timeout(120_000);
  let t: TestApp;
  let manager: SignedIn;
  let agent: SignedIn;
  let anna: { id: number };
  let bo: { id: number };
  let evil: { id: number };
  const ids: Record<string, number> = {};

  async function insertCase(
    key: string,
    c: { channel: string; created: string; category: string; status: string; firstResponse?: string; resolved?: string; direct?: boolean; assignee?: number; department?: number },
  ) {
    const [resident] = await t.db('residents').insert({ name: `Invånare ${key}`, email: `${key}.${randomBytes(3).toString('hex')}@test.example` }).returning('id');
    const category = await t.db('categories').where({ slug: c.category }).first('id');
    const created = at(c.created);
    const firstResponse = c.firstResponse ? at(c.firstResponse) : null;
    const resolved = c.resolved ? at(c.resolved) : null;
    const metrics = t.services.workingTime.caseMetrics({ created_at: created, first_response_at: firstResponse, resolved_at: resolved });
    const [row] = await t
      .db('cases')
      .insert({
        reference: `T-${key}-${randomBytes(3).toString('hex')}`,
        status: c.status,
        channel: c.channel,
        category_id: category.id,
        department_id: c.department ?? null,
        assignee_id: c.assignee ?? null,
        resident_id: resident.id ?? resident,
        subject: `Fråga ${key}`,
        resident_token: randomBytes(32).toString('base64url'),
        created_at: created,
        queue_at: created,
        first_response_at: firstResponse,
        resolved_at: resolved,
        resolved_at_first_contact: resolved ? (c.direct ?? false) : null,
        ...metrics,
      })
      .returning('id');
    ids[key] = Number(row.id ?? row);
  }

  async function insertCall(key: string, offered: string, answerAfterS: number | null, agentId: number | null, outcome: string) {
    const o = at(offered);
    await t.db('calls').insert({
      call_id: `call-${key}-${randomBytes(3).toString('hex')}`,
      caller: '0701234567',
      state: 'ended',
      outcome,
      offered_at: o,
      answered_at: answerAfterS === null ? null : new Date(o.getTime() + answerAfterS * 1000),
      ended_at: new Date(o.getTime() + 600_000),
      agent_id: agentId,
    });
  }

  async function insertCallback(caseKey: string, created: string, windowEnd: string, status: string, completed?: string) {
    await t.db('callbacks').insert({
      case_id: ids[caseKey],
      phone: '0701234567',
      window_start: at(created),
      window_end: at(windowEnd),
      status,
      attempts: 1,
      max_attempts: 3,
      next_attempt_at: at(created),
      source: 'agent',
      created_at: at(created),
      completed_at: completed ? at(completed) : null,
    });
  }

  before(async () => {
    t = await startTestApp({
      config: {
        calendar: { openingHours: 'mon-fri 08:00-16:30', statsOfficeHours: 'mon-fri 08:00-17:00', closedOn: ['public'], timeZone: TZ },
        stats: { serviceLevelSeconds: 20, serviceLevelGoal: 0.8 },
      },
    });
    manager = await t.loginAs('manager', 'Maja Chef');
    agent = await t.loginAs('agent', 'Alva Agent');
    anna = await t.services.auth.createUser({ email: `anna.${randomBytes(3).toString('hex')}@test.example`, name: 'Anna Andersson', role: 'agent', password: 'correct horse battery staple' });
    bo = await t.services.auth.createUser({ email: `bo.${randomBytes(3).toString('hex')}@test.example`, name: 'Bo Berg', role: 'agent', password: 'correct horse battery staple' });
    evil = await t.services.auth.createUser({ email: `evil.${randomBytes(3).toString('hex')}@test.example`, name: '=HYPERLINK("http://evil.example","x")', role: 'agent', password: 'correct horse battery staple' });
    const [dept] = await t.db('departments').insert({ slug: 'samhallsbyggnad-test', name: 'Samhällsbyggnad' }).returning('id');
    const departmentId = Number(dept.id ?? dept);
    const topics = (await t.db('categories').orderBy('id').limit(2).select('slug')).map((r) => r.slug as string);
    const [X, Y] = topics as [string, string];

    // Just outside the period on both sides.
    await insertCase('P', { channel: 'email', created: '2026-03-22T23:59', category: Y, status: 'new' });
    await insertCase('H', { channel: 'email', created: '2026-04-06T00:30', category: Y, status: 'new' });
    // A: answered after 2 working hours; resolved Tuesday 10:00 = 8 h Monday + 2 h = 10 working hours.
    await insertCase('A', { channel: 'email', created: '2026-03-23T09:00', firstResponse: '2026-03-23T11:00', resolved: '2026-03-24T10:00', category: X, status: 'resolved', assignee: anna.id });
    // C: Friday 16:30 (winter time), answered Monday 16:45 (summer time): 0.5 + 8.75 = 9.25 h, late for 1 day (deadline Monday 16:30), in time for 2.
    await insertCase('C', { channel: 'email', created: '2026-03-27T16:30', firstResponse: '2026-03-30T16:45', category: Y, status: 'open', assignee: anna.id });
    // D: Saturday, never answered: the clock starts Monday 08:00; both deadlines have passed by now.
    await insertCase('D', { channel: 'email', created: '2026-03-28T10:00', category: Y, status: 'new' });
    // E: phone, resolved at the first contact after 5 minutes.
    await insertCase('E', { channel: 'phone', created: '2026-03-30T10:00', firstResponse: '2026-03-30T10:00', resolved: '2026-03-30T10:05', direct: true, category: Y, status: 'resolved', assignee: bo.id });
    // F: phone, forwarded, resolved Thursday 11:00: 6 + 9 + 3 = 18 working hours.
    await insertCase('F', { channel: 'phone', created: '2026-03-31T11:00', firstResponse: '2026-03-31T11:00', resolved: '2026-04-02T11:00', category: Y, status: 'resolved', assignee: bo.id, department: departmentId });
    // B: web, Thursday 16:00 before Easter, answered Tuesday 09:00 after it: 1 + 1 = 2 working hours, within 1 working day.
    await insertCase('B', { channel: 'web', created: '2026-04-02T16:00', firstResponse: '2026-04-07T09:00', category: X, status: 'open', assignee: bo.id });
    // G: web, Sunday 23:30, the last day of the period; its deadlines have not passed by now.
    await insertCase('G', { channel: 'web', created: '2026-04-05T23:30', category: Y, status: 'new' });

    await insertCall('c1', '2026-03-30T10:00', 20, anna.id, 'completed');
    await insertCall('c2', '2026-03-30T10:10', 60, anna.id, 'completed');
    await insertCall('c3', '2026-03-30T10:20', 61, bo.id, 'completed');
    await insertCall('c4', '2026-03-30T10:30', null, null, 'abandoned');
    await insertCall('c5', '2026-04-05T23:59:59', 5, bo.id, 'completed');
    await insertCall('c6', '2026-04-06T00:00', 5, bo.id, 'completed');

    await insertCallback('E', '2026-03-30T10:00', '2026-03-30T12:00', 'completed', '2026-03-30T11:00');
    await insertCallback('F', '2026-03-31T11:00', '2026-03-31T13:00', 'completed', '2026-03-31T15:00');
    await insertCallback('G', '2026-04-05T23:30', '2026-04-07T10:00', 'failed');

    const article = await t.db('faq_articles').orderBy('id').first('id');
    const articles = await t.db('faq_articles').orderBy('id').limit(2).select('id');
    await t.db('faq_reply_uses').insert([
      { article_id: articles[0]!.id, case_id: ids.A, message_id: 1, created_at: at('2026-03-23T11:00') },
      { article_id: articles[1]!.id, case_id: ids.A, message_id: 1, created_at: at('2026-03-23T11:00') },
      { article_id: article.id, case_id: ids.B, message_id: 2, created_at: at('2026-04-07T09:00') },
    ]);
    await t.db('faq_deflections').insert([
      { token: 'defl-aaaaaaaaaaaaaaaa', opened_at: at('2026-03-24T10:00'), last_opened_at: at('2026-03-24T10:00') },
      { token: 'defl-bbbbbbbbbbbbbbbb', opened_at: at('2026-03-25T10:00'), last_opened_at: at('2026-03-25T10:02') },
      { token: 'defl-cccccccccccccccc', opened_at: at('2026-03-26T10:00'), last_opened_at: at('2026-03-26T10:00'), submitted_at: at('2026-03-26T10:05'), case_id: ids.C },
      { token: 'defl-dddddddddddddddd', opened_at: at('2026-04-06T10:00'), last_opened_at: at('2026-04-06T10:00') },
    ]);
    void evil;
  });
  after(() => t?.close());

  const report = (q: Record<string, unknown> = {}, withTables = true): Promise<Report> => t.services.reports.report({ ...PERIOD, ...q }, { withTables, now: NOW });

  it('counts arrivals per day, week and month in local days, the period edges included and excluded', async () => {
    const r = await report();
    assert.equal(r.volumes.per, 'day');
    assert.equal(r.volumes.total, 7);
    assert.equal(r.volumes.rows.length, 14, 'every day of the period, empty ones as 0');
    const day = (d: string) => r.volumes.rows.find((x) => x.period === d)!;
    assert.equal(day('2026-03-23').total, 1, 'A at 09:00; P at 23:59 the day before is outside');
    assert.equal(day('2026-03-29').total, 0);
    assert.equal(day('2026-04-05').total, 1, 'G at 23:30 local is 21:30 UTC, still the 5th');
    assert.deepEqual(day('2026-03-31').byChannel, { web: 0, email: 0, phone: 1, visit: 0, api: 0 });

    const weeks = await report({ per: 'week' });
    assert.deepEqual(
      weeks.volumes.rows.map((x) => [x.period, x.total]),
      [
        ['2026-03-23', 3],
        ['2026-03-30', 4],
      ],
    );
    const months = await report({ per: 'month' });
    assert.deepEqual(
      months.volumes.rows.map((x) => [x.period, x.total]),
      [
        ['2026-03', 5],
        ['2026-04', 2],
      ],
    );
  });

  it('places arrivals in the hour-of-week grid by local time, across the change to summer time', async () => {
    const r = await report();
    const cells: [number, number, number][] = [];
    r.hourOfWeek.forEach((hours, d) => hours.forEach((n, h) => n && cells.push([d, h, n])));
    // Monday 09 (A), Monday 10 (E), Tuesday 11 (F), Thursday 16 (B), Friday 16 (C), Saturday 10 (D), Sunday 23 (G).
    assert.deepEqual(cells, [
      [0, 9, 1],
      [0, 10, 1],
      [1, 11, 1],
      [3, 16, 1],
      [4, 16, 1],
      [5, 10, 1],
      [6, 23, 1],
    ]);
  });

  it('gives first response and resolution, median and 90th percentile, in working hours', async () => {
    const r = await report();
    // First responses of A, B, C, E, F: 2, 2, 9.25, 0, 0 h.
    assert.deepEqual(r.firstResponse, { arrivals: 7, answered: 5, medianHours: 2, p90Hours: 6.35 });
    // Resolved in the period: A 10 h, E 5 min, F 18 h.
    assert.deepEqual(r.resolution, { resolved: 3, medianHours: 10, p90Hours: 16.4 });
  });

  it("computes KKiK's written questions answered within 1 and 2 working days over the decided ones", async () => {
    const r = await report();
    // Decided by Tuesday 12:00: A, B (answered in time), C and D (deadlines passed); G still has time.
    assert.deepEqual(r.kkik.writtenWithin1Day, { count: 2, of: 4, share: 0.5 });
    assert.deepEqual(r.kkik.writtenWithin2Days, { count: 3, of: 4, share: 0.75 });
    assert.deepEqual(r.kkik.phoneResolvedDirectly, { count: 1, of: 2, share: 0.5 });
  });

  it('gives the phone measures: answered within 60 s, abandoned, service level and speed of answer', async () => {
    const { calls } = (await report()).kkik;
    assert.ok(calls);
    assert.equal(calls.offered, 5, 'c6 at midnight after the period is outside');
    assert.equal(calls.answered, 4);
    assert.deepEqual(calls.answeredWithin60s, { count: 3, of: 5, share: 0.6 }, '60 s exactly counts, 61 s does not');
    assert.deepEqual(calls.abandoned, { count: 1, of: 5, share: 0.2 });
    assert.deepEqual(calls.serviceLevel, { count: 2, of: 5, share: 0.4, targetSeconds: 20, goal: 0.8 });
    assert.equal(calls.averageSpeedOfAnswerSeconds, 36.5);
  });

  it('gives callbacks completed and completed in time', async () => {
    const cb = (await report()).kkik.callbacks;
    assert.equal(cb.requested, 3);
    assert.deepEqual(cb.completed, { count: 2, of: 3, share: 2 / 3 });
    assert.deepEqual(cb.completedInTime, { count: 1, of: 3, share: 1 / 3 });
    assert.equal(cb.failed, 1);
  });

  it('walks the backlog back from the open cases now', async () => {
    const r = await report();
    const open = (d: string) => r.backlog.find((b) => b.period === d)!.open;
    assert.equal(open('2026-03-23'), 2, 'P and A');
    assert.equal(open('2026-03-24'), 1, 'A resolved on the 24th');
    assert.equal(open('2026-03-30'), 3, 'P, C, D (E came and went)');
    assert.equal(open('2026-04-05'), 5, 'P, C, D, B, G');
  });

  it('counts FAQ deflections and reply uses in the period', async () => {
    const { faq } = await report();
    assert.deepEqual(faq, { visitsWithSuggestion: 3, submitted: 1, deflected: 2, deflectionRate: 2 / 3, replyUses: 2, casesWithUse: 1 });
  });

  it('gives per-agent and per-department tables', async () => {
    const r = await report();
    const row = (name: string) => r.agents!.find((a) => a.name === name)!;
    assert.deepEqual(row('Anna Andersson'), {
      agent_id: anna.id,
      name: 'Anna Andersson',
      cases: 2,
      answered: 2,
      first_response_median_hours: 5.63,
      resolved_direct: 0,
      resolved: 1,
      resolution_median_hours: 10,
      calls_answered: 2,
    });
    assert.deepEqual(row('Bo Berg'), {
      agent_id: bo.id,
      name: 'Bo Berg',
      cases: 3,
      answered: 3,
      first_response_median_hours: 0,
      resolved_direct: 1,
      resolved: 2,
      resolution_median_hours: 9.04,
      calls_answered: 2,
    });
    assert.deepEqual(r.departments, [{ department_id: r.departments![0]!.department_id, name: 'Samhällsbyggnad', cases: 1, resolved: 1, resolution_median_hours: 18 }]);
  });

  it('applies each filter: channel, topic, department and agent', async () => {
    const email = await report({ channel: 'email' });
    assert.equal(email.volumes.total, 3);
    assert.deepEqual(email.kkik.writtenWithin1Day, { count: 1, of: 3, share: 1 / 3 });
    assert.equal(email.kkik.calls, null, 'calls are phone contacts');

    const [X] = (await t.db('categories').orderBy('id').limit(1).select('slug')).map((r) => r.slug as string);
    const topic = await report({ category: X });
    assert.equal(topic.volumes.total, 2, 'A and B');
    assert.equal(topic.kkik.calls, null, 'calls have no topic');

    const dept = await report({ department: 'samhallsbyggnad-test' });
    assert.equal(dept.volumes.total, 1);
    assert.deepEqual(dept.resolution, { resolved: 1, medianHours: 18, p90Hours: 18 });

    const byAnna = await report({ agent: String(anna.id) });
    assert.equal(byAnna.volumes.total, 2);
    assert.equal(byAnna.kkik.calls!.offered, 2, "the agent's own calls");
    assert.equal(byAnna.kkik.callbacks.requested, 0);
  });

  it('refuses a bad period or filter, naming the field', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ from: '2026-02-30' }, 'from'],
      [{ from: '2026-13-01' }, 'from'],
      [{ to: 'yesterday' }, 'to'],
      [{ from: '2026-04-05', to: '2026-04-01' }, 'to'],
      [{ from: '2019-01-01', to: '2026-04-01' }, 'from'],
      [{ channel: 'fax' }, 'channel'],
      [{ category: 'no-such-topic' }, 'category'],
      [{ category: '../etc' }, 'category'],
      [{ department: 'nope' }, 'department'],
      [{ agent: 'abc' }, 'agent'],
      [{ agent: '999999' }, 'agent'],
      [{ per: 'year' }, 'per'],
    ];
    for (const [query, field] of bad) {
      const res = await manager.agent.get('/api/v1/stats/report').query(query).expect(400);
      assert.equal(res.body.error, 'validation_failed', JSON.stringify(query));
      assert.ok(res.body.fields[field], `${JSON.stringify(query)} names ${field}: ${JSON.stringify(res.body.fields)}`);
    }
    const page = await manager.agent.get('/agent/statistik').query({ from: '2026-02-30' }).expect(400);
    assert.match(page.text, /data-error-summary/);
    assert.match(page.text, /href="#f-from"/);
    assert.doesNotMatch(page.text, /id="t-volumes"/);
  });

  it('shows agents the centre’s figures but not the per-agent or per-department tables', async () => {
    const page = await agent.agent.get('/agent/statistik').query(PERIOD).expect(200);
    assert.match(page.text, /id="t-volumes"/);
    assert.match(page.text, /id="t-kkik"/);
    assert.doesNotMatch(page.text, /id="t-agents"/);
    assert.doesNotMatch(page.text, /Anna Andersson/);
    assert.doesNotMatch(page.text, /id="f-agent"/);
    const api = await agent.agent.get('/api/v1/stats/report').query(PERIOD).expect(200);
    assert.equal(api.body.agents, undefined);
    assert.equal(api.body.departments, undefined);
    await agent.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'agents' }).expect(403);
    await agent.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'departments' }).expect(403);
    await agent.agent.get('/api/v1/stats/report').query({ ...PERIOD, agent: String(anna.id) }).expect(403);
    await agent.agent.get('/agent/statistik').query({ ...PERIOD, agent: String(anna.id) }).expect(403);
    await agent.agent.get('/api/v1/stats/report').query({ ...PERIOD, agent: String(agent.user.id) }).expect(200);
    // Checked on the validated filter: a malformed agent is bad input (400), not a refusal; the CSV is refused like the page.
    const bad = await agent.agent.get('/api/v1/stats/report').query({ ...PERIOD, agent: 'abc' }).expect(400);
    assert.equal(bad.body.fields.agent !== undefined, true, JSON.stringify(bad.body));
    await agent.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'volumes', agent: String(anna.id) }).expect(403);
    await t.request().get('/api/v1/stats/report').expect(401);
    await t.request().get('/agent/statistik').expect(303);

    const mine = await manager.agent.get('/agent/statistik').query(PERIOD).expect(200);
    assert.match(mine.text, /id="t-agents"/);
    assert.match(mine.text, /id="t-departments"/);
    assert.match(mine.text, /Anna Andersson/);
  });

  it('exports each table as CSV with the same cells as the page', async () => {
    const page = await manager.agent.get('/agent/statistik').query(PERIOD).expect(200);
    for (const id of ['volumes', 'hour-of-week', 'times', 'kkik', 'callbacks', 'backlog', 'faq', 'agents', 'departments']) {
      const html = new RegExp(`<table[^>]*id="t-${id}"[\\s\\S]*?</table>`).exec(page.text)?.[0];
      assert.ok(html, `table ${id} on the page`);
      const cells = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => decode(c[1]!)));
      const res = await manager.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: id }).expect(200);
      assert.match(res.headers['content-type']!, /^text\/csv/);
      assert.match(res.headers['content-disposition']!, new RegExp(`attachment; filename="statistik-${id}-2026-03-23-2026-04-05\\.csv"`));
      assert.ok(res.text.startsWith('\uFEFF'));
      const csv = parseCsv(res.text.slice(1));
      assert.deepEqual(csv, cells, `CSV of ${id} equals the page`);
    }
    await manager.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'nope' }).expect(400);
    await manager.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'volumes', from: 'x' }).expect(400);
  });

  it('keeps a formula in a name from running in a spreadsheet', async () => {
    // Evil becomes the assignee of a case in the period, so the per-agent table lists the name.
    await t.db('cases').where({ id: ids.D }).update({ assignee_id: evil.id });
    try {
      const res = await manager.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'agents' }).expect(200);
      const line = res.text.split('\r\n').find((l) => l.includes('HYPERLINK'));
      assert.ok(line);
      assert.ok(line.startsWith(`"'=HYPERLINK(""http://evil.example"",""x"")"`), line);
      for (const l of res.text.slice(1).split('\r\n').filter(Boolean)) {
        for (const cell of parseCsv(l, false)[0]!) assert.doesNotMatch(cell, /^[\s]*[=+@\t\r]/, `no cell starts a formula: ${cell}`);
      }
    } finally {
      await t.db('cases').where({ id: ids.D }).update({ assignee_id: null });
    }
  });

  it('serves the same report as JSON for API tokens, and the page with its chart data', async () => {
    const api = await manager.agent.get('/api/v1/stats/report').query(PERIOD).expect(200);
    assert.equal(api.body.volumes.total, 7);
    assert.equal(api.body.period.from, '2026-03-23');
    const page = await manager.agent.get('/agent/statistik').query(PERIOD).expect(200);
    const json = /<script type="application\/json" id="stats-chart-data">([\s\S]*?)<\/script>/.exec(page.text)?.[1];
    assert.ok(json);
    const charts = JSON.parse(json);
    assert.equal(charts.volumes.labels.length, 14);
    assert.deepEqual(
      charts.volumes.datasets.map((d: { channel: string }) => d.channel),
      ['web', 'email', 'phone'],
    );
    const openapi = await t.request().get('/api/v1/openapi.json').expect(200);
    assert.ok(openapi.body.paths['/api/v1/stats/report']?.get, 'in the OpenAPI document');
  });

  it('shows the service survey indices when there are answers, as SKR computes them', async () => {
    assert.equal((await report()).survey, null, 'the survey is off and has nothing in the period: no table');
    const row = (caseKey: string, answered: string | null, a: [number | null, number | null, number | null]) => ({
      case_id: ids[caseKey],
      token_hash: randomBytes(32).toString('hex'),
      language: 'sv',
      channel: 'email',
      category_id: 1,
      created_at: at('2026-03-24T10:00'),
      expires_at: at('2026-04-24T10:00'),
      answered_at: answered ? at(answered) : null,
      treatment: a[0],
      ease: a[1],
      clarity: a[2],
    });
    const keys = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
    await t.db('service_surveys').insert([row('A', '2026-03-25T09:00', [5, 4, 3]), row('E', '2026-03-31T09:00', [4, null, 1]), row('F', null, [null, null, null])]);
    try {
      // Two answers: too few to show indices without giving away one resident's answers.
      const few = await report();
      assert.deepEqual(few.survey, { suppressed: true, minimum: 5, invited: 3, answered: 2, responseRate: 2 / 3 });
      const page = await manager.agent.get('/agent/statistik').query(PERIOD).expect(200);
      assert.match(page.text, /id="t-survey"/);
      assert.doesNotMatch(/<table[^>]*id="t-survey"[\s\S]*?<\/table>/.exec(page.text)![0], /87,5/);

      await t.db('service_surveys').insert([row('B', '2026-03-26T09:00', [3, 5, 5]), row('C', '2026-03-27T09:00', [1, 2, 3]), row('D', '2026-03-28T09:00', [5, null, null])]);
      const r = await report();
      assert.ok(r.survey && !r.survey.suppressed);
      assert.equal(r.survey.invited, 6);
      assert.equal(r.survey.answered, 5);
      // Treatment 5, 4, 3, 1, 5 → 100, 75, 50, 0, 100: mean 65. Ease 4, 5, 2 → 75, 100, 25: 66.7. Clarity 3, 1, 5, 3 → 50, 0, 100, 50: 50.
      assert.deepEqual(r.survey.treatment, { index: 65, responses: 5, distribution: [1, 0, 1, 1, 2] });
      assert.deepEqual(r.survey.ease, { index: 66.7, responses: 3, distribution: [0, 1, 0, 1, 1] });
      assert.deepEqual(r.survey.clarity, { index: 50, responses: 4, distribution: [1, 0, 2, 0, 1] });
      const csv = await manager.agent.get('/agent/statistik/export.csv').query({ ...PERIOD, table: 'survey' }).expect(200);
      const rows = parseCsv(csv.text.slice(1));
      assert.deepEqual(rows[1], ['Bemötande', '65,0', '5', '1', '0', '1', '1', '2']);
    } finally {
      await t.db('service_surveys').whereIn('case_id', keys.map((k) => ids[k]!)).delete();
    }
  });

  it('uses the default period (the last 30 days) with no query', async () => {
    const r = await t.services.reports.report({}, { withTables: false, now: NOW });
    assert.equal(r.period.to, '2026-04-07');
    assert.equal(r.period.from, '2026-03-09');
    assert.equal(r.volumes.total, 9, 'everything from 03-09 to 04-07, P and H included');
  });
});

function decode(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}

