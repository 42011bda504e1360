import { strict as assert } from 'node:assert';
import { DateTime } from 'luxon';
import { agentsNeeded } from '../../server/stats/erlang-c.js';
import { arrivalsByLocalHourSql, firstCallQuery } from '../../server/stats/staffing-store.js';
import type { StaffingPlan } from '../../server/stats/staffing.js';
import { translate } from '../../server/platform/i18n.js';
import { databaseKind } from '../support/database.js';
import { startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { apiUser } from './helpers.js';

/**
 * The staffing page and API (server/stats/staffing.ts): arrivals per hour of
 * the week counted from a small hand-built history with known answers, by
 * local wall time across both daylight-saving changes of 2026 and without a
 * holiday the centre was closed; Erlang C per hour against the published
 * worked example; who may see it; refused input; and the history query's
 * plan (index range scans only, so its cost follows the period, not the
 * history).
 */

const TZ = 'Europe/Stockholm';
const OFFICE_HOURS = 'mon-fri 08:00-16:30';
const API = '/api/v1/stats/staffing';
const PAGE = '/agent/statistik/bemanning';
/** Hour of the week: day 0 = Monday. */
const how = (day: number, hour: number) => day * 24 + hour;
const MON = 0;
const TUE = 1;
const WED = 2;
const FRI = 4;
const SUN = 6;

function near(actual: number | null, expected: number, tolerance: number, what: string) {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected} ± ${tolerance}, got ${actual}`);
}

describe('staffing with Erlang C: /agent/statistik/bemanning and /api/v1/stats/staffing', function () {
  this.timeout(120_000);
  let t: TestApp;
  let manager: { auth: { Authorization: string } };
  let residentId: number;
  let categoryId: number;
  let seq = 0;

  before(async () => {
    t = await startTestApp({ config: { calendar: { openingHours: OFFICE_HOURS, statsOfficeHours: OFFICE_HOURS, closedOn: ['public', 'bank'], timeZone: TZ } } });
    manager = await apiUser(t, 'manager');
    const [resident] = await t.db('residents').insert({ name: 'Bemanning Test', email: 'bemanning@example.com' }).returning('id');
    residentId = (resident as { id: number }).id;
    categoryId = (await t.db('categories').orderBy('id').first('id')).id;
  });
  after(() => t?.close());

  async function addCase(at: string, channel: string) {
    const n = ++seq;
    await t.db('cases').insert({
      reference: `SC-2026-9${String(n).padStart(5, '0')}`,
      status: 'closed',
      channel,
      category_id: categoryId,
      resident_id: residentId,
      subject: `Fråga ${n}`,
      resident_token: `staffing-token-${n}-${'x'.repeat(40)}`,
      created_at: new Date(at),
    });
  }

  async function addCall(at: string) {
    await t.db('calls').insert({ call_id: `staffing-call-${++seq}`, state: 'ended', outcome: 'completed', offered_at: new Date(at) });
  }

  async function plan(query: Record<string, string | number>) {
    const res = await t.request().get(API).set(manager.auth).query(query);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as StaffingPlan;
  }

  describe('arrivals per hour of the week from history', () => {
    before(async () => {
      // Spring, 2026-03-16 (Mon) to 2026-04-05 (Sun): summer time starts Sunday 29 March at 01:00 UTC.
      // Sunday 23:30 UTC is Monday 00:30 local in winter and Monday 01:30 in summer.
      await addCase('2026-03-22T23:30:00Z', 'email'); // Mon 23 Mar 00:30 CET
      await addCase('2026-03-29T23:30:00Z', 'email'); // Mon 30 Mar 01:30 CEST
      await addCase('2026-03-28T23:30:00Z', 'web'); // Sun 29 Mar 00:30 CET (before the change)
      // Sunday 02:xx local exists on 22 March, and not on 29 March (02:00 → 03:00): 2 occurrences, not 3.
      await addCall('2026-03-22T01:30:00Z'); // Sun 22 Mar 02:30 CET
      // Tuesdays 09:xx local: two web cases each week, one phone call each week, and a phone case that is not a call again.
      for (const day of ['2026-03-17T08:10:00Z', '2026-03-24T08:10:00Z', '2026-03-31T07:10:00Z']) {
        await addCase(day, 'web');
        await addCase(day.replace(':10:', ':40:'), 'web');
        await addCall(day.replace(':10:', ':20:'));
        await addCase(day.replace(':10:', ':25:'), 'phone');
      }
      // Fridays 10:xx local: 3, 3, and 1 on Good Friday (3 April, långfredagen, closed): the holiday is left out.
      for (const at of ['2026-03-20T09:05:00Z', '2026-03-20T09:15:00Z', '2026-03-20T09:25:00Z', '2026-03-27T09:05:00Z', '2026-03-27T09:15:00Z', '2026-03-27T09:25:00Z', '2026-04-03T08:30:00Z']) {
        await addCall(at);
      }
      // Just outside the period on both sides.
      await addCase('2026-03-15T22:59:00Z', 'email'); // Sun 15 Mar 23:59 local
      await addCase('2026-04-05T22:00:00Z', 'email'); // Mon 6 Apr 00:00 local (summer time)

      // Autumn, 2026-10-12 (Mon) to 2026-11-01 (Sun): winter time starts Sunday 25 October at 01:00 UTC.
      await addCall('2026-10-18T23:30:00Z'); // Mon 19 Oct 01:30 CEST
      await addCall('2026-10-25T23:30:00Z'); // Mon 26 Oct 00:30 CET
      // Sunday 25 October has 02:00–03:00 twice: 4 occurrences of Sunday 02 in three weeks.
      await addCall('2026-10-25T00:30:00Z'); // 02:30 CEST
      await addCall('2026-10-25T01:30:00Z'); // 02:30 CET
    });

    it('spring: by local hour across the change to summer time, averaged over the weeks, all channels', async () => {
      const p = await plan({ from: '2026-03-16', to: '2026-04-05', ahtSeconds: 180 });
      assert.equal(p.hours.length, 168);
      assert.equal(p.inputs.period!.weeks, 3);
      assert.equal(p.inputs.channel, null);
      const a = (day: number, hour: number) => p.hours[how(day, hour)]!.arrivals;
      near(a(MON, 0), 1 / 3, 1e-9, 'Mon 00–01 (23 March, winter time)');
      near(a(MON, 1), 1 / 3, 1e-9, 'Mon 01–02 (30 March, summer time)');
      near(a(SUN, 0), 1 / 3, 1e-9, 'Sun 00–01');
      near(a(SUN, 23), 0, 0, 'Sun 23–24 (the case before the period)');
      near(a(SUN, 2), 1 / 2, 1e-9, 'Sun 02–03 occurs twice: 29 March skips it');
      // Two web cases and one call each Tuesday; the phone cases are not counted beside the calls.
      near(a(TUE, 9), 3, 1e-9, 'Tue 09–10');
      near(a(FRI, 10), 3, 1e-9, 'Fri 10–11 without Good Friday');
      assert.deepEqual(p.inputs.period!.closedDays, [{ day: '2026-04-03', name: 'långfredagen' }]);
      const total = p.hours.reduce((s, h) => s + h.arrivals, 0);
      near(total, 1 / 3 + 1 / 3 + 1 / 3 + 1 / 2 + 3 + 3, 1e-9, 'nothing else counted (the cases outside the period neither)');
      // Monday night is closed: shown as arrivals, no staff.
      assert.equal(p.hours[how(MON, 0)]!.open, false);
      assert.equal(p.hours[how(MON, 0)]!.agents, null);
      near(p.week.arrivalsWhileClosed, 1 / 3 + 1 / 3 + 1 / 3 + 1 / 2, 1e-9, 'arrivals while closed');
      near(p.week.arrivals, 6, 1e-9, 'arrivals within office hours');
    });

    it('spring by channel: phone is the calls, web is the web cases', async () => {
      const phone = await plan({ from: '2026-03-16', to: '2026-04-05', ahtSeconds: 180, channel: 'phone' });
      near(phone.hours[how(TUE, 9)]!.arrivals, 1, 1e-9, 'phone Tue 09–10');
      near(phone.hours[how(FRI, 10)]!.arrivals, 3, 1e-9, 'phone Fri 10–11');
      near(phone.hours[how(SUN, 2)]!.arrivals, 1 / 2, 1e-9, 'phone Sun 02–03');
      near(phone.hours[how(MON, 0)]!.arrivals, 0, 0, 'no phone at Mon 00–01');
      const web = await plan({ from: '2026-03-16', to: '2026-04-05', ahtSeconds: 180, channel: 'web' });
      near(web.hours[how(TUE, 9)]!.arrivals, 2, 1e-9, 'web Tue 09–10');
      near(web.hours[how(SUN, 0)]!.arrivals, 1 / 3, 1e-9, 'web Sun 00–01');
      near(web.week.arrivals + web.week.arrivalsWhileClosed, 2 + 1 / 3, 1e-9, 'web in all');
    });

    it('a period without a single call (no telephony events) counts the phone cases as the phone arrivals', async () => {
      // January 2026, weeks 12–25: phone cases registered by hand, no call in the log.
      for (const at of ['2026-01-13T08:10:00Z', '2026-01-13T08:20:00Z', '2026-01-20T08:10:00Z']) await addCase(at, 'phone');
      await addCase('2026-01-14T08:10:00Z', 'web');
      const phone = await plan({ from: '2026-01-12', to: '2026-01-25', ahtSeconds: 180, channel: 'phone' });
      near(phone.hours[how(TUE, 9)]!.arrivals, 3 / 2, 1e-9, 'phone Tue 09–10: three phone cases over two weeks');
      const all = await plan({ from: '2026-01-12', to: '2026-01-25', ahtSeconds: 180 });
      near(all.hours[how(TUE, 9)]!.arrivals, 3 / 2, 1e-9, 'every channel: the phone cases too');
      near(all.hours[how(WED, 9)]!.arrivals, 1 / 2, 1e-9, 'and the web case');
      // With calls in the period (spring, above), phone cases are not counted beside them.
      const spring = await plan({ from: '2026-03-16', to: '2026-04-05', ahtSeconds: 180, channel: 'phone' });
      near(spring.hours[how(TUE, 9)]!.arrivals, 1, 1e-9, 'calls only when there are calls');
    });

    it('autumn: by local hour across the change to winter time, with the doubled hour counted twice', async () => {
      const p = await plan({ from: '2026-10-12', to: '2026-11-01', ahtSeconds: 180, channel: 'phone' });
      const a = (day: number, hour: number) => p.hours[how(day, hour)]!.arrivals;
      near(a(MON, 1), 1 / 3, 1e-9, 'Mon 01–02 (19 October, summer time)');
      near(a(MON, 0), 1 / 3, 1e-9, 'Mon 00–01 (26 October, winter time)');
      near(a(SUN, 2), 2 / 4, 1e-9, 'Sun 02–03: two calls in four occurrences');
      assert.deepEqual(p.inputs.period!.closedDays, [], 'Alla helgons dag is a Saturday: no office hours lost');
    });

    it('without a period, the last eight full weeks, Monday to Sunday, in local time', async () => {
      const p = await plan({ ahtSeconds: 180 });
      const monday = DateTime.now().setZone(TZ).startOf('week');
      assert.deepEqual([p.inputs.period!.from, p.inputs.period!.to, p.inputs.period!.weeks], [monday.minus({ weeks: 8 }).toISODate(), monday.minus({ days: 1 }).toISODate(), 8]);
      assert.equal(p.inputs.source, 'history');
    });
  });

  describe('the staffing for a known input', () => {
    // The Call Centre Helper worked example (test/unit/erlang-c.test.ts): 100 calls per 30 minutes,
    // AHT 180 s, 80 % within 20 s, max occupancy 85 %, 30 % shrinkage → 14 agents, 20 scheduled,
    // SL 0.8884, occupancy 0.7143, ASA 7.836 s.
    const known = { source: 'entered', arrivalsPerHour: 200, ahtSeconds: 180, target: '80-20', shrinkage: 30, maxOccupancy: 85 };

    it('the API: every office hour as the example (the half hour 16:00–16:30 with half the contacts), closed hours without staff, and the week', async () => {
      const p = await plan(known);
      assert.deepEqual(
        { ...p.inputs, period: undefined },
        { source: 'entered', target: '80-20', ahtSeconds: 180, targetServiceLevel: 80, targetSeconds: 20, shrinkage: 30, maxOccupancy: 85, channel: null, period: undefined, officeHours: OFFICE_HOURS },
      );
      assert.equal(p.inputs.period, null);
      for (let day = 0; day < 5; day++) {
        for (let hour = 8; hour < 16; hour++) {
          const h = p.hours[how(day, hour)]!;
          assert.equal(h.open, true);
          assert.equal(h.openMinutes, 60);
          assert.equal(h.arrivals, 200);
          assert.equal(h.agents, 14, `${h.day} ${hour}`);
          assert.equal(h.scheduled, 20, `${h.day} ${hour}`);
          near(h.serviceLevel, 0.8884, 0.00005, 'service level');
          near(h.occupancy, 0.7143, 0.00005, 'occupancy');
          near(h.asa, 7.836, 0.001, 'ASA');
        }
        // 16:00–16:30: open half the hour, so half the contacts at the same rate, and the same staff.
        const half = p.hours[how(day, 16)]!;
        assert.deepEqual([half.openMinutes, half.arrivals, half.arrivalRate, half.agents, half.scheduled], [30, 100, 200, 14, 20]);
        for (const hour of [0, 7, 17, 23]) {
          const closed = p.hours[how(day, hour)]!;
          assert.deepEqual([closed.open, closed.arrivals, closed.agents, closed.scheduled, closed.serviceLevel], [false, 0, null, null, null], `${closed.day} ${hour} is closed`);
        }
      }
      for (const day of [5, 6]) assert.ok(p.hours.slice(day * 24, day * 24 + 24).every((h) => !h.open && h.agents === null), 'the weekend is closed');
      near(p.week.agentHours, 5 * 8.5 * 14, 1e-9, 'agent-hours');
      near(p.week.scheduledHours, 5 * 8.5 * 20, 1e-9, 'scheduled hours');
      near(p.week.arrivals, 5 * 8.5 * 200, 1e-9, 'contacts in the week');
      assert.equal(p.week.peakScheduled, 20);
      near(p.week.serviceLevel, 0.8884, 0.00005, 'the week’s service level');
    });

    it('an entered hour open in part holds the contacts of its open part: 200 in 16:00–16:30 is 400 an hour', async () => {
      const p = await plan({ source: 'entered', [`h${how(TUE, 16)}`]: 200, [`h${how(TUE, 15)}`]: 200, [`h${how(SUN, 12)}`]: 999, ahtSeconds: 180, target: '80-20', shrinkage: 30 });
      const expected = agentsNeeded({ arrivalsPerHour: 400, ahtSeconds: 180, targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0.3 });
      const half = p.hours[how(TUE, 16)]!;
      assert.deepEqual([half.arrivals, half.arrivalRate, half.agents, half.scheduled], [200, 400, expected.agents, expected.scheduled]);
      assert.equal(p.hours[how(TUE, 15)]!.agents, 14);
      assert.deepEqual([p.hours[how(SUN, 12)]!.arrivals, p.hours[how(SUN, 12)]!.agents], [0, null], 'a closed hour ignores what was entered');
      near(p.week.agentHours, 14 + 0.5 * expected.agents, 1e-9, 'agent-hours');
      assert.equal(p.hours.filter((h) => h.agents).length, 2, 'every other open hour needs no one');
    });

    it('the page: the tables show the example (Swedish numbers), closed hours as closed', async () => {
      const me = await t.loginAs('manager');
      const res = await me.agent.get(PAGE).query(known).expect(200);
      const html = res.text;
      const mondayTable = /<table class="staffing-table" id="staffing-hours-mon">[\s\S]*?<\/table>/.exec(html)?.[0];
      assert.ok(mondayTable, 'a table for Monday');
      assert.match(mondayTable, /<caption[^>]*>Måndag: bemanning per timme<\/caption>/);
      assert.match(mondayTable, /<th scope="col" class="num">Agenter i telefon<\/th>/);
      // 08:00–09:00: 200 contacts, 14 on the phones, 20 to schedule, 88,8 % within 20 s, ASA 7,8 s, occupancy 71,4 %.
      assert.match(mondayTable, /<th scope="row">08:00–09:00<\/th>\s*<td>200<\/td>\s*<td>14<\/td><td>20<\/td><td>88,8\s%<\/td><td>7,8 s<\/td><td>71,4\s%<\/td>/);
      assert.match(mondayTable, /<th scope="row">16:00–16:30<\/th>/, 'the half-open hour by its open part');
      assert.match(mondayTable, /<th scope="row">00:00–08:00<\/th>\s*<td>0<\/td>\s*<td colspan="5" class="text staffing-closed">Stängt<\/td>/, 'the night as one closed row');
      assert.match(mondayTable, /<th scope="row">17:00–24:00<\/th>/);
      const matrix = /<table class="staffing-table" id="staffing-matrix">[\s\S]*?<\/table>/.exec(html)![0];
      assert.match(matrix, /<th scope="row">08:00–09:00<\/th>\s*<td>20<\/td><td>20<\/td><td>20<\/td><td>20<\/td><td>20<\/td><td class="staffing-closed">Stängt<\/td><td class="staffing-closed">Stängt<\/td>/);
      assert.doesNotMatch(html, /id="staffing-hours-sat"/, 'no hour table for a closed day');
      assert.match(html, /<tr data-day="sat">\s*<th scope="row">Lördag<\/th>\s*<td class="text staffing-closed">Stängt<\/td>/);
      // In English, English numbers.
      const en = await me.agent.get(PAGE).query({ ...known, lang: 'en' }).expect(200);
      assert.match(en.text, /<td>88\.8%<\/td><td>7\.8 s<\/td><td>71\.4%<\/td>/);
    });

    it('the OpenAPI document describes the endpoint and its answer', async () => {
      const doc = (await t.request().get('/api/v1/openapi.json').expect(200)).body;
      const op = doc.paths['/api/v1/stats/staffing'].get;
      assert.deepEqual(op.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/StaffingPlan' });
      assert.ok(['source', 'from', 'to', 'channel', 'target', 'ahtSeconds', 'shrinkage', 'maxOccupancy', 'arrivalsPerHour'].every((n) => op.parameters.some((x: { name: string }) => x.name === n)));
      const answer = await plan(known);
      assert.deepEqual(Object.keys(doc.components.schemas.StaffingPlan.properties).sort(), Object.keys(answer).sort());
      assert.deepEqual(Object.keys(doc.components.schemas.StaffingPlan.properties.hours.items.properties).sort(), Object.keys(answer.hours[0]!).sort());
    });

    it('a custom target of 90 % within 300 s is the 90/300 preset', async () => {
      const preset = await plan({ ...known, target: '90-300' });
      const custom = await plan({ ...known, target: 'custom', targetServiceLevel: 90, targetSeconds: 300 });
      assert.deepEqual(custom.hours.map((h) => h.agents), preset.hours.map((h) => h.agents));
      assert.equal(preset.inputs.targetSeconds, 300);
      assert.ok(preset.hours[how(MON, 8)]!.agents! < 14, 'five minutes is an easier target than 20 s');
    });
  });

  describe('who may see it', () => {
    it('a manager (and an admin) may; an agent and an editor get 403 on the page and the API; no one signed in is sent to sign in (page) or gets 401 (API)', async () => {
      for (const role of ['agent', 'editor'] as const) {
        const me: SignedIn = await t.loginAs(role);
        await me.agent.get(PAGE).expect(403);
        await me.agent.get(API).query({ ahtSeconds: 180 }).expect(403);
        const token = await apiUser(t, role);
        await t.request().get(API).set(token.auth).query({ ahtSeconds: 180 }).expect(403);
      }
      for (const role of ['manager', 'admin'] as const) {
        const me = await t.loginAs(role);
        const page = await me.agent.get(PAGE).expect(200);
        assert.match(page.text, /<h1>Bemanning \(Erlang C\)<\/h1>/);
        assert.match(page.text, /aria-current="page"[^>]*>Bemanning<|href="\/agent\/statistik\/bemanning" aria-current="page"/, 'the statistics menu marks the page');
        assert.doesNotMatch(page.text, /id="resultat"/, 'the empty form shows no result yet');
        const english = await me.agent.get(PAGE).query({ lang: 'en' }).expect(200);
        assert.match(english.text, /<h1>Staffing \(Erlang C\)<\/h1>/, 'switching language is not sending the form');
        await me.agent.get(API).query({ ahtSeconds: 180 }).expect(200);
      }
      const anonymous = await t.request().get(PAGE).expect(303);
      assert.match(anonymous.headers.location!, /^\/login\?next=/);
      await t.request().get(API).query({ ahtSeconds: 180 }).expect(401);
    });
  });

  describe('refused input', () => {
    const bad = { source: 'history', from: '2026-03-16', to: '2026-04-05', target: 'custom', targetServiceLevel: '101', targetSeconds: '0', ahtSeconds: 'tre minuter', shrinkage: '100', maxOccupancy: '' };

    it('the page answers 400 with the error summary, each field marked, and no result', async () => {
      const me = await t.loginAs('manager');
      const res = await me.agent.get(PAGE).query(bad).expect(400);
      const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(res.text)?.[0];
      assert.ok(summary, 'an error summary');
      const links = [...summary.matchAll(/<a href="#([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1], m[2]]);
      const sv = (key: string) => translate('sv', key);
      assert.deepEqual(links, [
        ['f-targetServiceLevel', sv('stats.staffing.errors.targetServiceLevel')],
        ['f-targetSeconds', sv('stats.staffing.errors.targetSeconds')],
        ['f-ahtSeconds', sv('stats.staffing.errors.ahtSeconds')],
        ['f-shrinkage', sv('stats.staffing.errors.shrinkage')],
      ]);
      for (const field of ['targetServiceLevel', 'targetSeconds', 'ahtSeconds', 'shrinkage']) {
        assert.match(res.text, new RegExp(`<p class="field-error" id="f-${field}-error">`), `${field}: its message next to it`);
        assert.match(res.text, new RegExp(`id="f-${field}" name="${field}" type="text" value="[^"]*"[^>]*aria-invalid="true"`), `${field} marked invalid`);
      }
      assert.match(res.text, /id="f-ahtSeconds" name="ahtSeconds" type="text" value="tre minuter"/, 'what was typed is kept');
      assert.doesNotMatch(res.text, /id="resultat"|staffing-matrix/, 'nothing else: no result');
    });

    it('a bad hour of an entered week names that hour', async () => {
      const me = await t.loginAs('manager');
      const res = await me.agent.get(PAGE).query({ source: 'entered', target: '80-20', ahtSeconds: '180', shrinkage: '30', [`h${how(TUE, 9)}`]: 'många' }).expect(400);
      assert.match(res.text, /<a href="#f-h33">Tisdag 09:00–10:00: skriv ett antal kontakter från 0 till 100 000\.<\/a>/);
      assert.match(res.text, /<details class="staffing-entered" open>/, 'the entered week is open to fix it');
      assert.match(res.text, /id="f-h33" name="h33" value="många"[^>]*aria-invalid="true"/);
    });

    it('the API answers 400 JSON naming each field', async () => {
      const res = await t.request().get(API).set(manager.auth).query(bad).expect(400);
      assert.equal(res.body.error, 'validation_failed');
      assert.deepEqual(Object.keys(res.body.fields).sort(), ['ahtSeconds', 'shrinkage', 'targetSeconds', 'targetServiceLevel']);
      assert.equal(res.body.fields.shrinkage, translate('en', 'stats.staffing.errors.shrinkage'));
      const dates = await t.request().get(API).set(manager.auth).query({ ahtSeconds: 180, from: '2026-02-30', channel: 'fax' }).expect(400);
      assert.deepEqual(Object.keys(dates.body.fields).sort(), ['channel', 'from']);
      const order = await t.request().get(API).set(manager.auth).query({ ahtSeconds: 180, from: '2026-04-05', to: '2026-03-16' }).expect(400);
      assert.deepEqual(order.body.errors.map((e: { field: string; code: string }) => [e.field, e.code]), [['to', 'stats.errors.to_before_from']]);
      const missing = await t.request().get(API).set(manager.auth).query({ source: 'entered', ahtSeconds: 180 }).expect(400);
      assert.deepEqual(Object.keys(missing.body.fields), ['arrivalsPerHour']);
      const tooMany = await t.request().get(API).set(manager.auth).query({ source: 'entered', arrivalsPerHour: 100000, ahtSeconds: 36000 }).expect(400);
      assert.deepEqual(Object.keys(tooMany.body.fields), ['ahtSeconds']);
      assert.match(tooMany.body.fields.ahtSeconds, /more than 10000 agents/);
    });
  });

  describe('the history query plan', () => {
    interface PlanNode {
      'Node Type': string;
      'Relation Name'?: string;
      'Index Name'?: string;
      Plans?: PlanNode[];
    }
    const flatten = (node: PlanNode, out: PlanNode[] = []): PlanNode[] => {
      out.push(node);
      for (const child of node.Plans ?? []) flatten(child, out);
      return out;
    };

    before(async () => {
      // Two years of history, one case and one call every 2 hours: 8 760 of each.
      await t.db.raw(
        `INSERT INTO cases (reference, status, channel, category_id, resident_id, subject, resident_token, created_at)
         SELECT 'SC-2025-' || lpad(g::text, 7, '0'), 'closed', (ARRAY['web','email','phone','visit'])[1 + g % 4], ?, ?, 'Plan ' || g,
                md5(g::text) || md5((g * 3)::text), timestamptz '2024-11-01 00:00Z' + g * interval '2 hours'
           FROM generate_series(1, 8760) AS g`,
        [categoryId, residentId],
      );
      await t.db.raw(
        `INSERT INTO calls (call_id, state, outcome, offered_at)
         SELECT 'plan-' || g, 'ended', 'completed', timestamptz '2024-11-01 01:00Z' + g * interval '2 hours'
           FROM generate_series(1, 8760) AS g`,
      );
      await t.db.raw('ANALYZE cases');
      await t.db.raw('ANALYZE calls');
    });

    it('eight weeks of every channel read cases and calls through their time indexes: no sequential scan', async () => {
      const range = { from: new Date('2026-09-28T00:00:00+02:00'), to: new Date('2026-11-23T00:00:00+01:00'), timeZone: TZ };
      const { sql, bindings } = arrivalsByLocalHourSql(range, undefined);
      const { rows } = await t.db.raw<{ rows: Record<string, unknown>[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, bindings);
      const raw = Object.values(rows[0]!)[0];
      const nodes = flatten(((typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[])[0]!.Plan);
      const scans = nodes.filter((n) => n['Relation Name'] || n['Index Name']).map((n) => `${n['Node Type']} on ${n['Relation Name'] ?? '-'} using ${n['Index Name'] ?? '-'}`);
      assert.ok(!nodes.some((n) => n['Node Type'] === 'Seq Scan'), `no sequential scan (${databaseKind}): ${scans.join('; ')}`);
      // Every read of a table is an index scan (or a bitmap heap scan fed by one) on its time index.
      for (const n of nodes.filter((x) => x['Relation Name'])) assert.match(n['Node Type'], /^(Index Scan|Index Only Scan|Bitmap Heap Scan)$/, scans.join('; '));
      const indexes = new Set(nodes.map((n) => n['Index Name']).filter(Boolean));
      assert.ok(indexes.has('calls_offered_idx'), `calls by calls_offered_idx: ${scans.join('; ')}`);
      assert.ok(indexes.has('cases_arrival_metrics_idx') || indexes.has('cases_created_idx'), `cases by created_at: ${scans.join('; ')}`);
      assert.deepEqual([...indexes].filter((i) => !['calls_offered_idx', 'cases_arrival_metrics_idx', 'cases_created_idx'].includes(i!)), [], 'no other index');

      // The check for a period without calls (then phone cases count) reads the first call by its index.
      const first = firstCallQuery(t.db, range).toSQL().toNative();
      const { rows: firstRows } = await t.db.raw<{ rows: Record<string, unknown>[] }>(`EXPLAIN (FORMAT JSON) ${first.sql.replace(/\$\d+/g, '?')}`, first.bindings as never);
      const firstRaw = Object.values(firstRows[0]!)[0];
      const firstNodes = flatten(((typeof firstRaw === 'string' ? JSON.parse(firstRaw) : firstRaw) as { Plan: PlanNode }[])[0]!.Plan);
      assert.ok(!firstNodes.some((n) => n['Node Type'] === 'Seq Scan'), `the first call by its index (${databaseKind})`);
      assert.ok(firstNodes.some((n) => n['Index Name'] === 'calls_offered_idx'), 'through calls_offered_idx');
    });
  });
});
