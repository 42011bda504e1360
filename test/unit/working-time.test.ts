import { strict as assert } from 'node:assert';
import { parseOpeningHours } from '../../server/calendar/opening-hours.js';
import { createWorkingTime } from '../../server/stats/working-time.js';

// Instants are written with their Stockholm offset: +01:00 in winter, +02:00 in summer
// (2026: summer time from 29 March 02:00 to 25 October 03:00).
const at = (iso: string) => new Date(iso);
const HOUR = 3600;
const MIN = 60;
const TZ = 'Europe/Stockholm';

const workingTime = (hours: string, closedOn?: string[]) =>
  createWorkingTime(parseOpeningHours({ hours, timeZone: TZ, ...(closedOn ? { closedOn } : {}) }), TZ);

/** Mon–Fri 08:00–16:30, closed on red days and the eves (the default). */
const office = workingTime('mon-fri 08:00-16:30');
/** Open round the clock every day, no holidays: working time is wall time. */
const always = workingTime('mon-sun 00:00-24:00', []);

/** Working seconds and KKiK working days from arrival to answer. */
function measure(wt: typeof office, arrival: string, answer: string) {
  return { seconds: wt.workingSeconds(at(arrival), at(answer)), days: wt.workingDaysToAnswer(at(arrival), at(answer)) };
}

describe('working time: per-case metrics in office hours', () => {
  it('within one day: only the time between arrival and answer', () => {
    // Wednesday 14 January 2026.
    assert.deepEqual(measure(office, '2026-01-14T09:00:00+01:00', '2026-01-14T11:30:00+01:00'), { seconds: 2.5 * HOUR, days: 1 });
    assert.deepEqual(measure(office, '2026-01-14T09:00:00+01:00', '2026-01-14T09:00:00+01:00'), { seconds: 0, days: 1 });
  });

  it('overnight: the evening and the night do not count', () => {
    // Wed 15:00 → Thu 09:00: 1.5 h on Wednesday, 1 h on Thursday.
    assert.deepEqual(measure(office, '2026-01-14T15:00:00+01:00', '2026-01-15T09:00:00+01:00'), { seconds: 2.5 * HOUR, days: 1 });
    // The deadline for one working day is Thursday 15:00; a second later it took two.
    assert.equal(office.deadline(at('2026-01-14T15:00:00+01:00'), 1)?.toISOString(), at('2026-01-15T15:00:00+01:00').toISOString());
    assert.deepEqual(measure(office, '2026-01-14T15:00:00+01:00', '2026-01-15T15:00:01+01:00'), { seconds: 8.5 * HOUR + 1, days: 2 });
  });

  it('over a weekend: Saturday and Sunday are no working days', () => {
    // Fri 16 Jan 14:00 → Mon 19 Jan 10:00: 2.5 h + 2 h; due Monday 14:00.
    assert.deepEqual(measure(office, '2026-01-16T14:00:00+01:00', '2026-01-19T10:00:00+01:00'), { seconds: 4.5 * HOUR, days: 1 });
    assert.equal(office.deadline(at('2026-01-16T14:00:00+01:00'), 1)?.toISOString(), at('2026-01-19T14:00:00+01:00').toISOString());
    assert.equal(office.deadline(at('2026-01-16T14:00:00+01:00'), 2)?.toISOString(), at('2026-01-20T14:00:00+01:00').toISOString());
  });

  it('arrival outside office hours: the clock starts at the next opening', () => {
    // Saturday 17 Jan: the clock starts Monday 08:00, due Tuesday 08:00.
    assert.equal(office.deadline(at('2026-01-17T10:00:00+01:00'), 1)?.toISOString(), at('2026-01-20T08:00:00+01:00').toISOString());
    assert.deepEqual(measure(office, '2026-01-17T10:00:00+01:00', '2026-01-20T08:00:00+01:00'), { seconds: 8.5 * HOUR, days: 1 });
    assert.deepEqual(measure(office, '2026-01-17T10:00:00+01:00', '2026-01-20T08:00:00.001+01:00'), { seconds: 8.5 * HOUR, days: 2 });
    // Wednesday 20:00, answered the same evening before the center opened: nothing counted, within one day.
    assert.deepEqual(measure(office, '2026-01-14T20:00:00+01:00', '2026-01-14T21:00:00+01:00'), { seconds: 0, days: 1 });
    // Wednesday 20:00, answered Thursday 17:00 (after closing): 8.5 h, and before Friday 08:00, so one day.
    assert.deepEqual(measure(office, '2026-01-14T20:00:00+01:00', '2026-01-15T17:00:00+01:00'), { seconds: 8.5 * HOUR, days: 1 });
    // Early morning, before opening, counts from 08:00 that day.
    assert.equal(office.deadline(at('2026-01-14T06:30:00+01:00'), 1)?.toISOString(), at('2026-01-15T08:00:00+01:00').toISOString());
  });

  it('the 1 and 2 working-day boundaries exactly: at the deadline is in time, a millisecond later is not', () => {
    // Monday 12 Jan 10:00: due Tuesday 10:00 (1) and Wednesday 10:00 (2).
    const arrival = '2026-01-12T10:00:00+01:00';
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-01-13T10:00:00+01:00')), 1);
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-01-13T10:00:00.001+01:00')), 2);
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-01-14T10:00:00+01:00')), 2);
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-01-14T10:00:00.001+01:00')), 3);
    // One working day in working time is a full office day here.
    assert.equal(office.workingSeconds(at(arrival), at('2026-01-13T10:00:00+01:00')), 8.5 * HOUR);
  });

  it('over Easter: Långfredag and annandag påsk are closed', () => {
    // Thu 2 April 15:00 (skärtorsdagen, a working day) → Tue 7 April 09:00: 1.5 h + 1 h.
    const arrival = '2026-04-02T15:00:00+02:00';
    assert.deepEqual(measure(office, arrival, '2026-04-07T09:00:00+02:00'), { seconds: 2.5 * HOUR, days: 1 });
    assert.equal(office.deadline(at(arrival), 1)?.toISOString(), at('2026-04-07T15:00:00+02:00').toISOString());
    assert.equal(office.deadline(at(arrival), 2)?.toISOString(), at('2026-04-08T15:00:00+02:00').toISOString());
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-04-08T15:00:00+02:00')), 2);
    assert.equal(office.workingDaysToAnswer(at(arrival), at('2026-04-08T15:00:00.001+02:00')), 3);
    // Arriving on Långfredag itself: the clock starts Tuesday 08:00.
    assert.deepEqual(measure(office, '2026-04-03T11:00:00+02:00', '2026-04-07T09:00:00+02:00'), { seconds: 1 * HOUR, days: 1 });
    assert.equal(office.deadline(at('2026-04-03T11:00:00+02:00'), 1)?.toISOString(), at('2026-04-08T08:00:00+02:00').toISOString());
  });

  it('over midsommarafton (closed by default) and midsommardagen', () => {
    // Thu 18 June 16:00 → Mon 22 June 08:30: half an hour each side; Friday is midsommarafton.
    assert.deepEqual(measure(office, '2026-06-18T16:00:00+02:00', '2026-06-22T08:30:00+02:00'), { seconds: 1 * HOUR, days: 1 });
    assert.equal(office.deadline(at('2026-06-18T16:00:00+02:00'), 1)?.toISOString(), at('2026-06-22T16:00:00+02:00').toISOString());
    // A center open on the eves counts Friday as a working day.
    const openOnEves = workingTime('mon-fri 08:00-16:30', ['public']);
    assert.deepEqual(measure(openOnEves, '2026-06-18T16:00:00+02:00', '2026-06-22T08:30:00+02:00'), { seconds: 9.5 * HOUR, days: 2 });
  });

  it('over Christmas: julafton and juldagen are closed', () => {
    // Wed 23 Dec 12:00 → Mon 28 Dec 11:59: 4.5 h + 3 h 59 min; due Monday 12:00, then Tuesday 12:00.
    const arrival = '2026-12-23T12:00:00+01:00';
    assert.deepEqual(measure(office, arrival, '2026-12-28T11:59:00+01:00'), { seconds: 8 * HOUR + 29 * MIN, days: 1 });
    assert.equal(office.deadline(at(arrival), 1)?.toISOString(), at('2026-12-28T12:00:00+01:00').toISOString());
    assert.equal(office.deadline(at(arrival), 2)?.toISOString(), at('2026-12-29T12:00:00+01:00').toISOString());
    // Nyårsafton (Thursday) and nyårsdagen (Friday) too: from Wed 30 Dec 10:00 the next working day is Mon 4 January.
    assert.equal(office.deadline(at('2026-12-30T10:00:00+01:00'), 1)?.toISOString(), at('2027-01-04T10:00:00+01:00').toISOString());
    assert.equal(office.workingSeconds(at('2026-12-30T10:00:00+01:00'), at('2027-01-04T10:00:00+01:00')), 8.5 * HOUR);
  });

  it('across the change to summer time (29 March 2026): the clock time stays, the hour skipped is not counted', () => {
    // Fri 27 March 10:00 CET → Mon 30 March 10:00 CEST: 6.5 h + 2 h, though 71 h passed on the wall.
    assert.deepEqual(measure(office, '2026-03-27T10:00:00+01:00', '2026-03-30T10:00:00+02:00'), { seconds: 8.5 * HOUR, days: 1 });
    assert.equal(office.deadline(at('2026-03-27T10:00:00+01:00'), 1)?.toISOString(), '2026-03-30T08:00:00.000Z');
    assert.equal(office.workingDaysToAnswer(at('2026-03-27T10:00:00+01:00'), at('2026-03-30T10:00:00.001+02:00')), 2);
    // Round the clock: Saturday noon to Sunday noon is 23 hours, and still one day.
    assert.deepEqual(measure(always, '2026-03-28T12:00:00+01:00', '2026-03-29T12:00:00+02:00'), { seconds: 23 * HOUR, days: 1 });
    assert.equal(always.deadline(at('2026-03-28T12:00:00+01:00'), 1)?.toISOString(), '2026-03-29T10:00:00.000Z');
    // A clock time inside the skipped hour moves forward with the wall clock: 02:30 → 03:30.
    assert.equal(always.deadline(at('2026-03-28T02:30:00+01:00'), 1)?.toISOString(), at('2026-03-29T03:30:00+02:00').toISOString());
  });

  it('across the change back to winter time (25 October 2026): the extra hour counts once the center is open', () => {
    // Fri 23 Oct 15:00 CEST → Mon 26 Oct 09:00 CET: 1.5 h + 1 h; due Monday 15:00 CET.
    assert.deepEqual(measure(office, '2026-10-23T15:00:00+02:00', '2026-10-26T09:00:00+01:00'), { seconds: 2.5 * HOUR, days: 1 });
    assert.equal(office.deadline(at('2026-10-23T15:00:00+02:00'), 1)?.toISOString(), '2026-10-26T14:00:00.000Z');
    // Round the clock: Saturday noon to Sunday noon is 25 hours, and still one day.
    assert.deepEqual(measure(always, '2026-10-24T12:00:00+02:00', '2026-10-25T12:00:00+01:00'), { seconds: 25 * HOUR, days: 1 });
    assert.equal(always.workingDaysToAnswer(at('2026-10-24T12:00:00+02:00'), at('2026-10-25T12:00:00.001+01:00')), 2);
  });

  it('keeps the clock time on a next working day that closes earlier', () => {
    const shortFriday = workingTime('mon-thu 08:00-16:30, fri 08:00-15:00');
    // Thursday 16:00: due Friday 16:00, after Friday's closing; an answer Friday 15:30 is in time.
    assert.equal(shortFriday.deadline(at('2026-01-15T16:00:00+01:00'), 1)?.toISOString(), at('2026-01-16T16:00:00+01:00').toISOString());
    assert.deepEqual(measure(shortFriday, '2026-01-15T16:00:00+01:00', '2026-01-16T15:30:00+01:00'), { seconds: 7.5 * HOUR, days: 1 });
  });

  it('counts what the statistics office hours say, lunch included', () => {
    const withLunch = workingTime('mon-fri 08:00-12:00 13:00-16:30');
    assert.deepEqual(measure(withLunch, '2026-01-14T11:00:00+01:00', '2026-01-14T14:00:00+01:00'), { seconds: 2 * HOUR, days: 1 });
    // Arriving over lunch, the clock starts at 13:00.
    assert.equal(withLunch.deadline(at('2026-01-14T12:20:00+01:00'), 1)?.toISOString(), at('2026-01-15T13:00:00+01:00').toISOString());
  });

  describe('caseMetrics and metricsPatch', () => {
    const created = at('2026-04-02T15:00:00+02:00');

    it('computes nothing before the case is answered or resolved, and both once it is', () => {
      assert.deepEqual(office.caseMetrics({ created_at: created, first_response_at: null, resolved_at: null }), {
        first_response_working_s: null,
        resolution_working_s: null,
        first_response_working_days: null,
      });
      assert.deepEqual(office.caseMetrics({ created_at: created, first_response_at: at('2026-04-07T09:00:00+02:00'), resolved_at: at('2026-04-08T10:00:00+02:00') }), {
        first_response_working_s: 2.5 * HOUR,
        resolution_working_s: (1.5 + 8.5 + 2) * HOUR,
        first_response_working_days: 1,
      });
    });

    it('a response given before the case was written (a call answered directly) is 0 and within one day', () => {
      assert.deepEqual(office.caseMetrics({ created_at: at('2026-01-14T10:00:00.005+01:00'), first_response_at: at('2026-01-14T10:00:00+01:00'), resolved_at: at('2026-01-14T10:00:00+01:00') }), {
        first_response_working_s: 0,
        resolution_working_s: 0,
        first_response_working_days: 1,
      });
    });

    it('patches only what a change touches: a reopen clears the resolution time, a new resolve counts to it', () => {
      const before = { created_at: created, first_response_at: at('2026-04-07T09:00:00+02:00'), resolved_at: null };
      assert.deepEqual(office.metricsPatch(before, {}), {});
      assert.deepEqual(office.metricsPatch(before, { resolved_at: at('2026-04-07T10:00:00+02:00') }), { resolution_working_s: 3.5 * HOUR });
      assert.deepEqual(office.metricsPatch({ ...before, resolved_at: at('2026-04-07T10:00:00+02:00') }, { resolved_at: null }), { resolution_working_s: null });
      assert.deepEqual(office.metricsPatch({ ...before, first_response_at: null }, { first_response_at: at('2026-04-09T09:00:00+02:00') }), {
        first_response_working_s: (1.5 + 8.5 + 8.5 + 1) * HOUR,
        first_response_working_days: 3,
      });
    });
  });

  describe('decidedArrivalsUntil: which unanswered questions are already late', () => {
    it('is the last arrival whose deadline has passed', () => {
      // Monday 19 Jan 10:00: one-day deadlines up to then belong to arrivals up to Friday 10:00.
      const now = at('2026-01-19T10:00:00+01:00');
      const one = office.decidedArrivalsUntil(now, 1);
      assert.equal(one.toISOString(), at('2026-01-16T10:00:00+01:00').toISOString());
      assert.ok(office.deadline(one, 1)!.getTime() <= now.getTime());
      assert.ok(office.deadline(new Date(one.getTime() + 1), 1)!.getTime() > now.getTime());
      // Two days: Thursday 10:00.
      assert.equal(office.decidedArrivalsUntil(now, 2).toISOString(), at('2026-01-15T10:00:00+01:00').toISOString());
      // Before opening on Monday: Thursday's arrivals were due on Friday; from Thursday 16:30 (closed) the clock started Friday 08:00.
      assert.equal(office.decidedArrivalsUntil(at('2026-01-19T07:00:00+01:00'), 1).toISOString(), at('2026-01-15T16:29:59.999+01:00').toISOString());
    });
  });
});
