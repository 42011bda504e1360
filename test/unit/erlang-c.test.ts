import { strict as assert } from 'node:assert';
import {
  HOURS_PER_WEEK,
  MAX_AGENTS,
  agentsNeeded,
  averageSpeedOfAnswer,
  erlangC,
  occupancy,
  scheduledAgents,
  serviceLevel,
  trafficErlangs,
  weeklyStaffing,
  type StaffingParams,
} from '../../server/stats/erlang-c.js';
import { staffingInputSchema, toStaffingParams } from '../../server/stats/staffing-schema.js';
import { toFieldErrors } from '../../server/platform/validation.js';
import { hasKey } from '../../server/platform/i18n.js';

/** |actual − expected| ≤ tolerance, with both numbers in the failure message. */
function near(actual: number, expected: number, tolerance: number, what = 'value') {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected} ± ${tolerance}, got ${actual}`);
}

/**
 * An independent oracle: the textbook formula
 *   C = [A^N/N! · N/(N−A)] / [Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)]
 * evaluated term by term in log space (log-sum-exp), so it neither overflows
 * nor shares any code with the Erlang B recursion under test.
 */
function erlangCByLogSum(n: number, a: number): number {
  const logTerms: number[] = [];
  let logTerm = 0; // log(A^0 / 0!)
  for (let k = 0; k < n; k++) {
    logTerms.push(logTerm);
    logTerm += Math.log(a) - Math.log(k + 1);
  }
  const logLast = logTerm + Math.log(n / (n - a)); // log(A^N/N! · N/(N−A))
  const max = Math.max(logLast, ...logTerms);
  const sum = logTerms.reduce((s, t) => s + Math.exp(t - max), 0);
  const last = Math.exp(logLast - max);
  return last / (sum + last);
}

const base = { targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0 };

describe('Erlang C staffing', () => {
  describe('published worked examples', () => {
    it('Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls in 30 min, AHT 180 s, 80/20, 30 % shrinkage → 14 agents, 20 scheduled', () => {
      // Source: https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm
      // Inputs: 100 calls per 30 minutes (= 200 per hour), AHT 180 s, 80 % answered in 20 s,
      // maximum occupancy 85 %, shrinkage 30 %. Traffic = 100 × 180 / 1800 = 10 Erlangs.
      // The published outcome, as reproduced to four places by pyworkforce's README
      // (github.com/rodrigo-arenas/pyworkforce, ErlangC(transactions=100, aht=3, asa=20/60,
      // interval=30, shrinkage=0.3).required_positions(0.8, 0.85)): raw_positions 14,
      // positions 20, service_level 0.8884, occupancy 0.7143, waiting_probability 0.1741.
      const r = agentsNeeded({ arrivalsPerHour: 200, ahtSeconds: 180, targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0.3, maxOccupancy: 0.85 });
      assert.equal(r.trafficErlangs, 10);
      assert.equal(r.agents, 14);
      assert.equal(r.scheduled, 20); // 14 / 0.7 = 20 exactly
      near(r.serviceLevel, 0.8884, 0.00005, 'service level');
      near(r.occupancy, 0.7143, 0.00005, 'occupancy');
      near(r.probabilityOfWaiting, 0.1741, 0.00005, 'P(wait)');
      // Not in the source, computed here: ASA = 0.17413 × 180 / 4 = 7.84 s.
      near(r.asa, 7.836, 0.001, 'ASA');
      // 13 agents fall short (79.6 %), which is why the answer is 14.
      near(serviceLevel({ agents: 13, arrivalsPerHour: 200, ahtSeconds: 180, targetSeconds: 20 }), 0.7956, 0.0001, 'SL with 13');
    });

    it('mitan.co.uk "Erlang C" maths page: 360 calls in 30 min, AHT 240 s, 55 agents → P(wait) 0.239, ASA 8.2 s, 84.6 % within 15 s', () => {
      // Source: http://www.mitan.co.uk/erlang/elgcmath.htm (archived at
      // https://web.archive.org/web/20181209042241/http://www.mitan.co.uk/erlang/elgcmath.htm), whose example
      // values are the expected results in the gist cited in contact-center-research.md [S183]
      // (https://gist.github.com/tap52384/5310572f1a053cccc040): arrival rate 0.2 calls/s,
      // traffic 48 Erlangs, occupancy 0.873, P(wait) 0.239, ASA 8.2 s, SL(15 s) 0.846.
      const q = { agents: 55, arrivalsPerHour: 720, ahtSeconds: 240 };
      assert.equal(trafficErlangs(720, 240), 48);
      near(occupancy(q), 0.873, 0.0005, 'occupancy');
      near(erlangC(55, 48), 0.239, 0.0005, 'P(wait)');
      near(averageSpeedOfAnswer(q), 8.2, 0.05, 'ASA');
      near(serviceLevel({ ...q, targetSeconds: 15 }), 0.846, 0.0005, 'SL(15 s)');
      // Derived here: 55 is also the smallest staff for 80 % within 15 s (54 agents give 79.3 %).
      near(serviceLevel({ ...q, agents: 54, targetSeconds: 15 }), 0.7929, 0.0001, 'SL with 54');
      assert.equal(agentsNeeded({ arrivalsPerHour: 720, ahtSeconds: 240, targetSeconds: 15, targetServiceLevel: 0.8, shrinkage: 0 }).agents, 55);
    });

    it('Call Centre Helper forum, "AgentsFTE in CallCenter Helper Excel Calc jumps": one more second of AHT tips 4 agents to 5', () => {
      // Source: https://www.callcentrehelper.com/forum/agentsfte-in-callcenter-helper-excel-calc-jumps-116414.htm
      // 14 calls per 60 minutes, 80 % answered in 60 s, shrinkage 35 %, max occupancy 85 %.
      // AHT 577 s: 2.244 Erlangs, 4 agents before shrinkage. AHT 578 s: 2.248 Erlangs, and 4 agents
      // give "a service level of 79.9 %, just below the 80 % threshold", so one more agent is needed.
      const params = { arrivalsPerHour: 14, targetSeconds: 60, targetServiceLevel: 0.8, shrinkage: 0.35, maxOccupancy: 0.85 };
      const at577 = agentsNeeded({ ...params, ahtSeconds: 577 });
      const at578 = agentsNeeded({ ...params, ahtSeconds: 578 });
      near(at577.trafficErlangs, 2.244, 0.0005, 'Erlangs at 577 s');
      near(at578.trafficErlangs, 2.248, 0.0005, 'Erlangs at 578 s');
      assert.equal(at577.agents, 4);
      assert.ok(at577.serviceLevel >= 0.8 && at577.serviceLevel < 0.801, `577 s: ${at577.serviceLevel}`);
      near(serviceLevel({ agents: 4, arrivalsPerHour: 14, ahtSeconds: 578, targetSeconds: 60 }), 0.799, 0.0005, 'SL with 4 at 578 s');
      assert.equal(at578.agents, 5);
      // The thread: 4 / 0.65 = 6.15 and 5 / 0.65 = 7.69 agents after shrinkage. Its spreadsheet
      // showed the first as 6; we always round up, since 6 scheduled would leave 3.9 on the phones.
      assert.equal(at577.scheduled, 7);
      assert.equal(at578.scheduled, 8);
    });

    it('matches the staffing table of contact-center-research.md 5.3 (derived there from the same model)', () => {
      // calls/day, AHT s, [average hour 80/20, peak hour 80/20, peak hour 80/60]; the average hour
      // gets 1/8.5 of the day, the peak hour 14 %. SL and ASA as printed in the table.
      const table: [number, number, [number, number, number]][] = [
        [250, 240, [4, 5, 4]],
        [350, 240, [5, 6, 5]],
        [350, 300, [6, 7, 7]],
        [450, 240, [6, 7, 7]],
        [450, 300, [7, 8, 8]],
      ];
      for (const [perDay, aht, [avg, peak, peak60]] of table) {
        const label = `${perDay}/day, ${aht} s`;
        assert.equal(agentsNeeded({ ...base, arrivalsPerHour: perDay / 8.5, ahtSeconds: aht }).agents, avg, `${label}, average hour`);
        assert.equal(agentsNeeded({ ...base, arrivalsPerHour: perDay * 0.14, ahtSeconds: aht }).agents, peak, `${label}, peak hour`);
        assert.equal(agentsNeeded({ ...base, arrivalsPerHour: perDay * 0.14, ahtSeconds: aht, targetSeconds: 60 }).agents, peak60, `${label}, peak 80/60`);
      }
      const first = agentsNeeded({ ...base, arrivalsPerHour: 250 / 8.5, ahtSeconds: 240 });
      assert.equal(Math.round(first.serviceLevel * 100), 86);
      assert.equal(Math.round(first.asa), 19);
    });

    it('360 calls an hour at 240 s (24 Erlangs) needs 29 agents for 80/20, not 28', () => {
      // Computed here, not a published example: 28 agents give 76.1 % within 20 s (though an ASA
      // of 19.99 s, which is where "about 28" comes from); 29 give 84.0 %.
      near(serviceLevel({ agents: 28, arrivalsPerHour: 360, ahtSeconds: 240, targetSeconds: 20 }), 0.7613, 0.0001, 'SL with 28');
      near(averageSpeedOfAnswer({ agents: 28, arrivalsPerHour: 360, ahtSeconds: 240 }), 19.99, 0.005, 'ASA with 28');
      const r = agentsNeeded({ ...base, arrivalsPerHour: 360, ahtSeconds: 240 });
      assert.equal(r.agents, 29);
      near(r.serviceLevel, 0.8403, 0.0001, 'SL with 29');
    });
  });

  describe('erlangC', () => {
    it('agrees with closed forms for small queues', () => {
      assert.equal(erlangC(1, 0.5), 0.5); // M/M/1: P(wait) = ρ
      near(erlangC(2, 1), 1 / 3, 1e-15, 'M/M/2 at A = 1');
      near(erlangC(11, 10), 0.682118, 1e-6, 'N = 11, A = 10');
    });

    it('agrees with the textbook formula summed in log space, small to large', () => {
      for (const [n, a] of [[3, 2.5], [14, 10], [55, 48], [200, 180], [1000, 950], [2100, 2000]] as const) {
        const expected = erlangCByLogSum(n, a);
        assert.ok(Math.abs(erlangC(n, a) - expected) <= 1e-9 * Math.max(1, expected), `N=${n}, A=${a}: ${erlangC(n, a)} vs ${expected}`);
      }
    });

    it('is 1 when agents do not exceed the traffic, including traffic exactly equal to the agents', () => {
      assert.equal(erlangC(10, 10), 1);
      assert.equal(erlangC(9, 10), 1);
      assert.equal(erlangC(0, 0), 1);
      assert.ok(erlangC(11, 10) < 1);
    });

    it('is 0 with no traffic and at least one agent', () => {
      assert.equal(erlangC(1, 0), 0);
      assert.equal(erlangC(50, 0), 0);
    });

    it('stays finite and fast for 2 000 Erlangs and for the largest staff', () => {
      const started = performance.now();
      for (const n of [2001, 2010, 2050, 2200, 3000]) {
        const c = erlangC(n, 2000);
        assert.ok(Number.isFinite(c) && c > 0 && c < 1, `N=${n}: ${c}`);
      }
      const tiny = erlangC(MAX_AGENTS, 1); // underflows to 0 rather than NaN
      assert.ok(Number.isFinite(tiny) && tiny >= 0 && tiny < 1e-300, String(tiny));
      assert.ok(Number.isFinite(erlangC(MAX_AGENTS, MAX_AGENTS - 0.5)));
      assert.ok(performance.now() - started < 200, 'took too long');
    });

    it('refuses agent counts that are not whole numbers in range, and bad traffic', () => {
      assert.throws(() => erlangC(2.5, 1), { name: 'RangeError', message: /agents must be a whole number from 0 to 10000 \(got 2\.5\)/ });
      assert.throws(() => erlangC(-1, 1), RangeError);
      assert.throws(() => erlangC(MAX_AGENTS + 1, 1), RangeError);
      assert.throws(() => erlangC(Number.NaN, 1), RangeError);
      assert.throws(() => erlangC(3, Number.NaN), { name: 'RangeError', message: /trafficErlangs must be a finite number ≥ 0 \(got NaN\)/ });
      assert.throws(() => erlangC(3, -0.1), RangeError);
      assert.throws(() => erlangC(3, Infinity), RangeError);
    });
  });

  describe('service level, ASA and occupancy', () => {
    const q = { arrivalsPerHour: 200, ahtSeconds: 180, targetSeconds: 20 };

    it('more agents give a higher service level, a lower ASA, a lower P(wait) and a lower occupancy', () => {
      let prev = { sl: -1, asa: Infinity, c: 2, occ: 2 };
      for (let agents = 11; agents <= 40; agents++) {
        const now = { sl: serviceLevel({ ...q, agents }), asa: averageSpeedOfAnswer({ ...q, agents }), c: erlangC(agents, 10), occ: occupancy({ ...q, agents }) };
        assert.ok(now.sl >= prev.sl, `SL at ${agents}`);
        assert.ok(now.asa < prev.asa, `ASA at ${agents}`);
        assert.ok(now.c < prev.c, `P(wait) at ${agents}`);
        assert.ok(now.occ < prev.occ, `occupancy at ${agents}`);
        if (now.sl < 1) assert.ok(now.sl > prev.sl, `SL strictly rises at ${agents}`);
        prev = now;
      }
    });

    it('a longer target time gives a higher service level', () => {
      const sls = [0, 10, 20, 60, 300].map((targetSeconds) => serviceLevel({ ...q, agents: 12, targetSeconds }));
      for (let i = 1; i < sls.length; i++) assert.ok(sls[i]! > sls[i - 1]!, `target ${i}`);
      near(sls[0]!, 1 - erlangC(12, 10), 1e-15, 'SL at 0 s = 1 − P(wait)');
    });

    it('an overloaded queue (agents ≤ traffic) has service level 0, infinite ASA and full occupancy', () => {
      for (const agents of [0, 5, 10]) {
        assert.equal(serviceLevel({ ...q, agents }), 0);
        assert.equal(averageSpeedOfAnswer({ ...q, agents }), Infinity);
        assert.equal(occupancy({ ...q, agents }), 1);
      }
    });

    it('no calls: every (no) call answered in time, no wait, idle agents', () => {
      const none = { ...q, arrivalsPerHour: 0 };
      for (const agents of [0, 3]) {
        assert.equal(serviceLevel({ ...none, agents }), 1);
        assert.equal(averageSpeedOfAnswer({ ...none, agents }), 0);
        assert.equal(occupancy({ ...none, agents }), 0);
      }
    });

    it('occupancy is traffic over agents', () => {
      assert.equal(occupancy({ ...q, agents: 16 }), 10 / 16);
    });
  });

  describe('agentsNeeded', () => {
    it('returns the smallest staff that meets the target', () => {
      for (const arrivalsPerHour of [1, 7.5, 30, 200, 720, 5000]) {
        for (const targetServiceLevel of [0.5, 0.8, 0.9, 0.99]) {
          const params = { ...base, arrivalsPerHour, ahtSeconds: 240, targetServiceLevel };
          const r = agentsNeeded(params);
          assert.ok(r.serviceLevel >= targetServiceLevel, `${arrivalsPerHour}/h @ ${targetServiceLevel}: ${r.serviceLevel}`);
          assert.equal(r.serviceLevel, serviceLevel({ ...params, agents: r.agents }));
          assert.equal(r.asa, averageSpeedOfAnswer({ ...params, agents: r.agents }));
          assert.equal(r.occupancy, occupancy({ ...params, agents: r.agents }));
          assert.equal(r.probabilityOfWaiting, erlangC(r.agents, r.trafficErlangs));
          assert.ok(r.agents > r.trafficErlangs);
          if (r.agents - 1 > r.trafficErlangs) {
            assert.ok(serviceLevel({ ...params, agents: r.agents - 1 }) < targetServiceLevel, `${arrivalsPerHour}/h @ ${targetServiceLevel}: one fewer would do`);
          }
        }
      }
    });

    it('a stricter target never needs fewer agents', () => {
      let prev = 0;
      for (const targetServiceLevel of [0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 1]) {
        const { agents } = agentsNeeded({ ...base, arrivalsPerHour: 200, ahtSeconds: 180, targetServiceLevel });
        assert.ok(agents >= prev, `${targetServiceLevel}: ${agents} < ${prev}`);
        prev = agents;
      }
    });

    it('with integral traffic never answers with agents equal to the traffic', () => {
      const r = agentsNeeded({ ...base, arrivalsPerHour: 200, ahtSeconds: 180, targetServiceLevel: 0.01 }); // 10 Erlangs
      assert.equal(r.agents, 11);
    });

    it('respects a maximum occupancy', () => {
      const params = { ...base, arrivalsPerHour: 200, ahtSeconds: 180, targetServiceLevel: 0.5 };
      assert.equal(agentsNeeded(params).agents, 12); // 64.0 % within 20 s, occupancy 0.833
      const capped = agentsNeeded({ ...params, maxOccupancy: 0.8 });
      assert.equal(capped.agents, 13);
      assert.ok(capped.occupancy <= 0.8);
      assert.equal(agentsNeeded({ ...params, maxOccupancy: 0.5 }).agents, 20); // exactly 0.5 is allowed
    });

    it('needs no agents when nothing arrives', () => {
      assert.deepEqual(agentsNeeded({ ...base, arrivalsPerHour: 0, ahtSeconds: 300, shrinkage: 0.3 }), {
        agents: 0,
        scheduled: 0,
        serviceLevel: 1,
        asa: 0,
        occupancy: 0,
        probabilityOfWaiting: 0,
        trafficErlangs: 0,
      });
    });

    it('handles 2 000 Erlangs quickly and finitely', () => {
      const started = performance.now();
      const r = agentsNeeded({ ...base, arrivalsPerHour: 40_000, ahtSeconds: 180, shrinkage: 0.3 });
      assert.ok(performance.now() - started < 100, 'took too long');
      assert.equal(r.trafficErlangs, 2000);
      assert.ok(r.agents > 2000 && r.agents < 2100, String(r.agents));
      assert.ok(r.serviceLevel >= 0.8 && serviceLevel({ agents: r.agents - 1, arrivalsPerHour: 40_000, ahtSeconds: 180, targetSeconds: 20 }) < 0.8);
      for (const v of Object.values(r)) assert.ok(Number.isFinite(v), JSON.stringify(r));
      assert.ok(r.occupancy > 0.99); // large queues are efficient
    });

    it('refuses a target that would need more than MAX_AGENTS agents', () => {
      assert.throws(() => agentsNeeded({ ...base, arrivalsPerHour: 1_000_000, ahtSeconds: 3600 }), {
        name: 'RangeError',
        message: /needs more than 10000 agents \(traffic 1000000 Erlangs\)/,
      });
      // Below the cap in traffic, but the target is out of reach within it.
      assert.throws(() => agentsNeeded({ arrivalsPerHour: 9990 * 360, ahtSeconds: 10, targetSeconds: 0, targetServiceLevel: 1, shrinkage: 0 }), /more than 10000 agents/);
    });

    it('validates its input with clear messages', () => {
      const ok: StaffingParams = { arrivalsPerHour: 100, ahtSeconds: 180, targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0.3 };
      const bad: [Partial<StaffingParams>, RegExp][] = [
        [{ arrivalsPerHour: -1 }, /arrivalsPerHour must be a finite number ≥ 0 \(got -1\)/],
        [{ arrivalsPerHour: Number.NaN }, /arrivalsPerHour must be a finite number ≥ 0 \(got NaN\)/],
        [{ arrivalsPerHour: Infinity }, /arrivalsPerHour must be a finite number ≥ 0 \(got Infinity\)/],
        [{ ahtSeconds: 0 }, /ahtSeconds must be a finite number > 0 \(got 0\)/],
        [{ ahtSeconds: -180 }, /ahtSeconds must be a finite number > 0/],
        [{ ahtSeconds: Number.NaN }, /ahtSeconds must be a finite number > 0/],
        [{ targetSeconds: -1 }, /targetSeconds must be a finite number ≥ 0/],
        [{ targetSeconds: Number.NaN }, /targetSeconds must be a finite number ≥ 0/],
        [{ targetServiceLevel: 0 }, /targetServiceLevel must be a fraction in \(0, 1\], e\.g\. 0\.8 for 80 % \(got 0\)/],
        [{ targetServiceLevel: 80 }, /targetServiceLevel must be a fraction in \(0, 1\].*\(got 80\)/],
        [{ targetServiceLevel: Number.NaN }, /targetServiceLevel must be a fraction/],
        [{ shrinkage: 1 }, /shrinkage must be a fraction in \[0, 1\)/],
        [{ shrinkage: -0.1 }, /shrinkage must be a fraction in \[0, 1\)/],
        [{ shrinkage: 30 }, /shrinkage must be a fraction in \[0, 1\)/],
        [{ maxOccupancy: 0 }, /maxOccupancy must be a fraction in \(0, 1\]/],
        [{ maxOccupancy: 1.2 }, /maxOccupancy must be a fraction in \(0, 1\]/],
      ];
      for (const [change, message] of bad) {
        assert.throws(() => agentsNeeded({ ...ok, ...change }), (err: unknown) => err instanceof RangeError && message.test(err.message), JSON.stringify(change));
      }
      // Validated even when nothing arrives.
      assert.throws(() => agentsNeeded({ ...ok, arrivalsPerHour: 0, shrinkage: 1 }), RangeError);
      assert.doesNotThrow(() => agentsNeeded({ ...ok, targetSeconds: 0, targetServiceLevel: 1, shrinkage: 0, maxOccupancy: 1 }));
    });
  });

  describe('shrinkage', () => {
    it('divides by 1 − shrinkage and rounds up', () => {
      assert.equal(scheduledAgents(13, 0.3), 19); // 18.57
      assert.equal(scheduledAgents(4, 0.35), 7); // 6.15
      assert.equal(scheduledAgents(7, 0), 7);
      assert.equal(scheduledAgents(0, 0.3), 0);
      assert.equal(scheduledAgents(1, 0.01), 2); // 1.0101: a sliver of a person is still a person
    });

    it('does not add an agent for floating-point noise on exact quotients', () => {
      // In IEEE doubles 21 / (1 − 0.3) is 30.000000000000004 and 1 / (1 − 0.8) is 5.000000000000001.
      assert.equal(21 / (1 - 0.3) > 30, true);
      assert.equal(scheduledAgents(21, 0.3), 30);
      assert.equal(scheduledAgents(42, 0.3), 60);
      assert.equal(scheduledAgents(1, 0.8), 5);
      assert.equal(scheduledAgents(4, 0.8), 20);
      assert.equal(scheduledAgents(14, 0.3), 20);
    });

    it('is applied to the agents on the phones, which it does not change', () => {
      const without = agentsNeeded({ ...base, arrivalsPerHour: 200, ahtSeconds: 180 });
      const withShrinkage = agentsNeeded({ ...base, arrivalsPerHour: 200, ahtSeconds: 180, shrinkage: 0.3 });
      assert.equal(without.agents, withShrinkage.agents);
      assert.equal(without.scheduled, 14);
      assert.equal(withShrinkage.scheduled, 20);
    });
  });

  describe('weeklyStaffing', () => {
    // A small municipal center: open Monday–Friday 08–16, a Monday-morning peak, closed otherwise.
    const week: number[] = Array.from({ length: HOURS_PER_WEEK }, (_, h) => {
      const day = Math.floor(h / 24);
      const hour = h % 24;
      if (day > 4 || hour < 8 || hour >= 16) return 0;
      return day === 0 && hour < 11 ? 45 : 30;
    });
    const params = { ahtSeconds: 240, targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0.3 };

    it('returns 168 rows, Monday 00 first, with day and hour', () => {
      const rows = weeklyStaffing(week, params);
      assert.equal(rows.length, 168);
      rows.forEach((row, i) => {
        assert.equal(row.hourOfWeek, i);
        assert.equal(row.day * 24 + row.hour, i);
        assert.equal(row.arrivals, week[i]);
      });
      assert.deepEqual([rows[0]!.day, rows[0]!.hour], [0, 0]); // Monday 00–01
      assert.deepEqual([rows[33]!.day, rows[33]!.hour], [1, 9]); // Tuesday 09–10
      assert.deepEqual([rows[167]!.day, rows[167]!.hour], [6, 23]); // Sunday 23–24
    });

    it('each row is agentsNeeded for its hour; closed hours need no one', () => {
      const rows = weeklyStaffing(week, params);
      for (const row of rows) {
        const { hourOfWeek, day, hour, arrivals, ...result } = row;
        assert.deepEqual(result, agentsNeeded({ ...params, arrivalsPerHour: arrivals }), `hour ${hourOfWeek} (day ${day}, ${hour}:00)`);
      }
      assert.equal(rows[3]!.agents, 0); // Monday 03:00
      assert.equal(rows[5 * 24 + 10]!.agents, 0); // Saturday 10:00
      assert.equal(rows[9]!.agents, 5); // Monday 09:00, 45 calls: 3 Erlangs
      assert.equal(rows[9]!.scheduled, 8); // 5 / 0.7 = 7.14
      assert.equal(rows[24 + 9]!.agents, 4); // Tuesday 09:00, 30 calls: 2 Erlangs
    });

    it('is fast for a large center', () => {
      const big = week.map((v) => v * 100); // up to 300 Erlangs an hour
      const started = performance.now();
      const rows = weeklyStaffing(big, params);
      assert.ok(performance.now() - started < 200, 'took too long');
      assert.ok(rows.every((r) => Number.isFinite(r.agents) && r.serviceLevel >= (r.arrivals ? 0.8 : 1)));
    });

    it('refuses a week of the wrong length, bad rates and bad parameters', () => {
      assert.throws(() => weeklyStaffing(week.slice(0, 167), params), { name: 'RangeError', message: /must hold 168 values, one per hour from Monday 00:00 \(got 167 values\)/ });
      assert.throws(() => weeklyStaffing([], params), /got 0 values/);
      const negative = [...week];
      negative[50] = -2;
      assert.throws(() => weeklyStaffing(negative, params), { name: 'RangeError', message: /arrivalsByHourOfWeek\[50\] must be a finite number ≥ 0 \(got -2\)/ });
      const nan = [...week];
      nan[7] = Number.NaN;
      assert.throws(() => weeklyStaffing(nan, params), /arrivalsByHourOfWeek\[7\]/);
      // Parameters are checked even for an all-closed week.
      assert.throws(() => weeklyStaffing(new Array<number>(168).fill(0), { ...params, shrinkage: 1 }), /shrinkage must be a fraction/);
    });
  });

  describe('staffing input schema', () => {
    const form = { ahtSeconds: '180', targetSeconds: '20', targetServiceLevel: '80', shrinkage: '30' };

    it('reads the form as numbers in percent and converts to fractions', () => {
      const input = staffingInputSchema.parse({ ...form, arrivalsPerHour: '' });
      const { ahtSeconds, targetSeconds, targetServiceLevel, shrinkage, arrivalsPerHour, arrivalsByHourOfWeek } = input;
      assert.deepEqual({ ahtSeconds, targetSeconds, targetServiceLevel, shrinkage }, { ahtSeconds: 180, targetSeconds: 20, targetServiceLevel: 80, shrinkage: 30 });
      assert.equal(arrivalsPerHour, undefined);
      assert.equal(arrivalsByHourOfWeek, undefined);
      assert.deepEqual(toStaffingParams(input), { ahtSeconds: 180, targetSeconds: 20, targetServiceLevel: 0.8, shrinkage: 0.3 });
      const r = agentsNeeded({ ...toStaffingParams(input), arrivalsPerHour: 200 });
      assert.deepEqual([r.agents, r.scheduled], [14, 20]);
    });

    it('accepts a decimal comma and JSON numbers, and an override of arrivals', () => {
      const input = staffingInputSchema.parse({ ahtSeconds: '187,5', targetSeconds: 60, targetServiceLevel: 90, shrinkage: 0, arrivalsPerHour: ' 12,5 ' });
      assert.equal(input.ahtSeconds, 187.5);
      assert.equal(input.arrivalsPerHour, 12.5);
      const weekly = staffingInputSchema.parse({ ...form, arrivalsByHourOfWeek: new Array(168).fill(3) });
      assert.equal(weekly.arrivalsByHourOfWeek?.length, 168);
    });

    /** Field → locale code, as the routes will report them (the first issue per field). */
    function codes(input: unknown): Record<string, string> {
      const r = staffingInputSchema.safeParse(input);
      assert.equal(r.success, false);
      return Object.fromEntries(toFieldErrors(r.error!).map((f) => [f.field, f.code]));
    }

    it('says which fields are missing, of the wrong type or out of range, with existing locale codes', () => {
      assert.deepEqual(codes({}), {
        ahtSeconds: 'errors.required',
        targetSeconds: 'errors.required',
        targetServiceLevel: 'errors.required',
        shrinkage: 'errors.required',
      });
      assert.deepEqual(codes({ ahtSeconds: 'tre minuter', targetSeconds: '20.5', targetServiceLevel: ' ', shrinkage: true }), {
        ahtSeconds: 'errors.invalid_type',
        targetSeconds: 'errors.invalid_type',
        targetServiceLevel: 'errors.required',
        shrinkage: 'errors.invalid_type',
      });
      assert.deepEqual(codes({ ahtSeconds: 0, targetSeconds: 86_401, targetServiceLevel: 0, shrinkage: 91, arrivalsPerHour: -1 }), {
        ahtSeconds: 'errors.invalid',
        targetSeconds: 'errors.invalid',
        targetServiceLevel: 'errors.invalid',
        shrinkage: 'errors.invalid',
        arrivalsPerHour: 'errors.invalid',
      });
      assert.deepEqual(codes({ ...form, ahtSeconds: 36_001, targetServiceLevel: 100.5 }), { ahtSeconds: 'errors.invalid', targetServiceLevel: 'errors.invalid' });
      assert.deepEqual(codes({ ...form, arrivalsByHourOfWeek: [1, 2, 3] }), { arrivalsByHourOfWeek: 'errors.invalid' });
      assert.deepEqual(codes({ ...form, arrivalsByHourOfWeek: 'many' }), { arrivalsByHourOfWeek: 'errors.invalid_type' });
      assert.deepEqual(codes({ ...form, arrivalsPerHour: 5, arrivalsByHourOfWeek: new Array(168).fill(1) }), { arrivalsByHourOfWeek: 'errors.invalid' });
    });

    it('uses only codes that exist in the Swedish locale', () => {
      const all = [codes({}), codes({ ahtSeconds: 'x', targetSeconds: 0, targetServiceLevel: 101, shrinkage: -1, arrivalsByHourOfWeek: 'many' })];
      for (const code of all.flatMap((c) => Object.values(c))) assert.ok(hasKey('sv', code), code);
    });

    it('accepts the edges of every range', () => {
      assert.ok(staffingInputSchema.safeParse({ ahtSeconds: 1, targetSeconds: 1, targetServiceLevel: 1, shrinkage: 0 }).success);
      assert.ok(staffingInputSchema.safeParse({ ahtSeconds: 36_000, targetSeconds: 86_400, targetServiceLevel: 100, shrinkage: 90, arrivalsPerHour: 0 }).success);
    });
  });
});
