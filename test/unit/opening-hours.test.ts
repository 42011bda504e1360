import { strict as assert } from 'node:assert';
import { OpeningHoursError, parseOpeningHours, type OpeningHoursConfig } from '../../server/calendar/opening-hours.js';

// Every instant below is written with its Stockholm offset (+01:00 winter, +02:00 summer) and,
// where it matters, checked against the UTC instant worked out by hand.
const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;
const MINUTE = 60_000;
const TZ = 'Europe/Stockholm';

function calendar(hours: string, closedOn?: string[]) {
  const cfg: OpeningHoursConfig = { hours, timeZone: TZ };
  if (closedOn) cfg.closedOn = closedOn;
  return parseOpeningHours(cfg);
}

const office = calendar('mon-fri 08:00-16:30');
const withLunch = calendar('mon-fri 08:00-12:00 13:00-16:30');

function utcPairs(slots: { start: Date; end: Date }[]): string[] {
  return slots.map((s) => `${s.start.toISOString().slice(0, 16)}/${s.end.toISOString().slice(11, 16)}`);
}

describe('opening hours: the calendar', () => {
  describe('isOpen', () => {
    it('is open on a weekday within the hours and closed at the weekend', () => {
      assert.equal(office.isOpen(at('2026-01-14T10:00:00+01:00')), true); // Wednesday
      assert.equal(office.isOpen(at('2026-01-17T10:00:00+01:00')), false); // Saturday
      assert.equal(office.isOpen(at('2026-01-18T10:00:00+01:00')), false); // Sunday
    });

    it('opens at 08:00 sharp and is closed from 16:30 sharp, in local time winter and summer', () => {
      assert.equal(office.isOpen(at('2026-01-14T07:00:00Z')), true); // 08:00 CET
      assert.equal(office.isOpen(at('2026-01-14T06:59:59.999Z')), false);
      assert.equal(office.isOpen(at('2026-01-14T15:29:59.999Z')), true);
      assert.equal(office.isOpen(at('2026-01-14T15:30:00Z')), false); // 16:30 CET
      assert.equal(office.isOpen(at('2026-06-10T06:00:00Z')), true); // 08:00 CEST
      assert.equal(office.isOpen(at('2026-06-10T05:59:59.999Z')), false);
      assert.equal(office.isOpen(at('2026-06-10T14:29:59.999Z')), true);
      assert.equal(office.isOpen(at('2026-06-10T14:30:00Z')), false); // 16:30 CEST
    });

    it('is closed over lunch when the day has two periods', () => {
      assert.equal(withLunch.isOpen(at('2026-01-14T11:59:00+01:00')), true);
      assert.equal(withLunch.isOpen(at('2026-01-14T12:00:00+01:00')), false);
      assert.equal(withLunch.isOpen(at('2026-01-14T12:59:59+01:00')), false);
      assert.equal(withLunch.isOpen(at('2026-01-14T13:00:00+01:00')), true);
    });

    it('gives each day its own hours', () => {
      const shortFriday = calendar('mon-thu 08:00-16:30, fri 08:00-15:00');
      assert.equal(shortFriday.isOpen(at('2026-01-15T16:00:00+01:00')), true); // Thursday
      assert.equal(shortFriday.isOpen(at('2026-01-16T14:59:00+01:00')), true); // Friday
      assert.equal(shortFriday.isOpen(at('2026-01-16T15:00:00+01:00')), false);
    });

    it('accepts upper case and an en dash, as people type them', () => {
      const typed = calendar('Mon–Fri 08:00–16:30');
      assert.equal(typed.isOpen(at('2026-01-14T08:00:00+01:00')), true);
      assert.equal(typed.isOpen(at('2026-01-17T10:00:00+01:00')), false);
    });
  });

  describe('holidays', () => {
    it('closes on Swedish public holidays and names them', () => {
      const cases: [string, string][] = [
        ['2026-12-25T10:00:00+01:00', 'juldagen'], // Friday
        ['2026-04-03T10:00:00+02:00', 'långfredagen'],
        ['2026-04-06T10:00:00+02:00', 'annandag påsk'],
        ['2026-01-06T10:00:00+01:00', 'trettondedag jul'],
        ['2026-05-14T10:00:00+02:00', 'Kristi himmelsfärdsdag'],
      ];
      for (const [iso, name] of cases) {
        assert.equal(office.isOpen(at(iso)), false, iso);
        assert.equal(office.holidayOn(at(iso)), name, iso);
      }
      // The days around Easter are ordinary working days (skärtorsdagen is only an observance).
      assert.equal(office.isOpen(at('2026-04-02T10:00:00+02:00')), true);
      assert.equal(office.holidayOn(at('2026-04-02T10:00:00+02:00')), undefined);
      assert.equal(office.isOpen(at('2026-04-07T10:00:00+02:00')), true);
      assert.equal(office.holidayOn(at('2026-01-14T10:00:00+01:00')), undefined);
    });

    it('closes nationaldagen even for a center open every day', () => {
      const everyDay = calendar('mon-sun 10:00-14:00');
      assert.equal(everyDay.holidayOn(at('2026-06-06T12:00:00+02:00')), 'nationaldagen'); // Saturday
      assert.equal(everyDay.isOpen(at('2026-06-06T12:00:00+02:00')), false);
      assert.equal(everyDay.isOpen(at('2026-06-07T12:00:00+02:00')), true); // Sunday, ordinary
      assert.equal(everyDay.isOpen(at('2026-06-05T12:00:00+02:00')), true);
    });

    it('closes on julafton, midsommarafton and nyårsafton by default, but not with closedOn ["public"]', () => {
      const publicOnly = calendar('mon-fri 08:00-16:30', ['public']);
      const eves: [string, string][] = [
        ['2026-12-24T10:00:00+01:00', 'julafton'], // Thursday
        ['2026-06-19T10:00:00+02:00', 'midsommarafton'], // Friday
        ['2026-12-31T10:00:00+01:00', 'nyårsafton'], // Thursday
      ];
      for (const [iso, name] of eves) {
        assert.equal(office.isOpen(at(iso)), false, iso);
        assert.equal(office.holidayOn(at(iso)), name, iso);
        assert.equal(publicOnly.isOpen(at(iso)), true, iso);
        assert.equal(publicOnly.holidayOn(at(iso)), undefined, iso);
      }
      assert.equal(publicOnly.isOpen(at('2026-12-25T10:00:00+01:00')), false);
    });

    it('uses the local date, not the UTC date, near midnight', () => {
      // 00:10 CET on julafton is still 23 December in UTC; 23:30 CET is still julafton locally.
      assert.equal(office.holidayOn(at('2026-12-23T23:10:00Z')), 'julafton');
      assert.equal(office.holidayOn(at('2026-12-24T22:30:00Z')), 'julafton');
      assert.equal(office.holidayOn(at('2026-12-24T23:00:00Z')), 'juldagen');
      assert.equal(office.holidayOn(at('2026-12-23T22:59:59Z')), undefined);
    });

    it('closes on explicit extra dates, with or without a label', () => {
      const plain = calendar('mon-fri 08:00-16:30', ['public', 'bank', '2026-12-28']);
      assert.equal(plain.isOpen(at('2026-12-28T10:00:00+01:00')), false); // Monday
      assert.equal(plain.holidayOn(at('2026-12-28T10:00:00+01:00')), 'extra stängd dag');
      assert.equal(plain.isOpen(at('2026-12-29T10:00:00+01:00')), true);
      assert.equal(plain.isOpen(at('2026-12-24T10:00:00+01:00')), false);
      const labelled = calendar('mon-fri 08:00-16:30', ['public', '2026-12-28 Personaldag']);
      assert.equal(labelled.holidayOn(at('2026-12-28T10:00:00+01:00')), 'Personaldag');
      assert.equal(labelled.isOpen(at('2026-12-24T10:00:00+01:00')), true);
      assert.equal(office.isOpen(at('2026-12-28T10:00:00+01:00')), true);
    });

    it('closes half-day eves from 12:00 when "optional" is configured', () => {
      const halfDays = calendar('mon-fri 08:00-16:30', ['public', 'bank', 'optional']);
      const valborg = '2026-04-30'; // Thursday
      assert.equal(halfDays.holidayOn(at(`${valborg}T09:00:00+02:00`)), 'valborgsmässoafton');
      assert.equal(halfDays.isOpen(at(`${valborg}T11:59:00+02:00`)), true);
      assert.equal(halfDays.isOpen(at(`${valborg}T12:00:00+02:00`)), false);
      assert.equal(
        halfDays.workingMillisBetween(at(`${valborg}T00:00:00+02:00`), at('2026-05-01T00:00:00+02:00')),
        4 * HOUR,
      );
      assert.equal(office.isOpen(at(`${valborg}T14:00:00+02:00`)), true);
    });

    it('closes nothing for holidays with an empty closedOn', () => {
      const never = calendar('mon-fri 08:00-16:30', []);
      assert.equal(never.isOpen(at('2026-12-25T10:00:00+01:00')), true);
      assert.equal(never.holidayOn(at('2026-12-25T10:00:00+01:00')), undefined);
    });
  });

  describe('nextOpening', () => {
    it('returns the instant itself when open', () => {
      const now = at('2026-01-14T10:17:03.250+01:00');
      assert.equal(office.nextOpening(now).getTime(), now.getTime());
    });

    it('goes from Friday evening to Monday 08:00 local, winter and summer', () => {
      assert.equal(office.nextOpening(at('2026-01-16T18:00:00+01:00')).toISOString(), '2026-01-19T07:00:00.000Z');
      assert.equal(office.nextOpening(at('2026-08-14T17:00:00+02:00')).toISOString(), '2026-08-17T06:00:00.000Z');
    });

    it('goes to the same day\'s opening before 08:00 and to 13:00 from the lunch break', () => {
      assert.equal(office.nextOpening(at('2026-01-14T06:00:00+01:00')).toISOString(), '2026-01-14T07:00:00.000Z');
      assert.equal(withLunch.nextOpening(at('2026-01-14T12:30:00+01:00')).toISOString(), '2026-01-14T12:00:00.000Z');
    });

    it('skips holidays: from julafton to Monday 28 December, from långfredag to Tuesday after Easter', () => {
      assert.equal(office.nextOpening(at('2026-12-24T09:00:00+01:00')).toISOString(), '2026-12-28T07:00:00.000Z');
      assert.equal(office.nextOpening(at('2026-04-03T10:00:00+02:00')).toISOString(), '2026-04-07T06:00:00.000Z');
    });

    it('crosses the spring daylight-saving change: Friday 27 March CET to Monday 30 March CEST', () => {
      assert.equal(office.nextOpening(at('2026-03-27T17:00:00+01:00')).toISOString(), '2026-03-30T06:00:00.000Z');
    });

    it('searches 60 days ahead and then throws', () => {
      // Open Mondays only, with the nine Mondays from 5 January to 2 March closed.
      const mondays = ['01-05', '01-12', '01-19', '01-26', '02-02', '02-09', '02-16', '02-23', '03-02'];
      const rare = calendar('mon 08:00-09:00', mondays.map((d) => `2026-${d}`));
      assert.throws(() => rare.nextOpening(at('2026-01-05T06:00:00Z')), OpeningHoursError);
      // From 12 January, Monday 9 March is 56 days ahead.
      assert.equal(rare.nextOpening(at('2026-01-12T06:00:00Z')).toISOString(), '2026-03-09T07:00:00.000Z');
    });
  });

  describe('slots', () => {
    it('cuts a period into slots of at most slotMinutes, the last one short', () => {
      const slots = office.slots(at('2026-01-14T00:00:00+01:00'), 1, 120);
      assert.deepEqual(utcPairs(slots), [
        '2026-01-14T07:00/09:00',
        '2026-01-14T09:00/11:00',
        '2026-01-14T11:00/13:00',
        '2026-01-14T13:00/15:00',
        '2026-01-14T15:00/15:30',
      ]);
    });

    it('leaves out the lunch break and slots that ended before `from`', () => {
      const slots = withLunch.slots(at('2026-01-14T10:30:00+01:00'), 1, 120);
      assert.deepEqual(utcPairs(slots), ['2026-01-14T09:00/11:00', '2026-01-14T12:00/14:00', '2026-01-14T14:00/15:30']);
      assert.deepEqual(withLunch.slots(at('2026-01-14T17:00:00+01:00'), 1, 120), []);
    });

    it('keeps 08:00-16:30 local across the spring change (Sunday 29 March 2026)', () => {
      const slots = office.slots(at('2026-03-26T00:00:00+01:00'), 7, 510); // Thursday .. Wednesday
      assert.deepEqual(utcPairs(slots), [
        '2026-03-26T07:00/15:30',
        '2026-03-27T07:00/15:30',
        '2026-03-30T06:00/14:30',
        '2026-03-31T06:00/14:30',
        '2026-04-01T06:00/14:30',
      ]);
    });

    it('keeps 08:00-16:30 local across the autumn change (Sunday 25 October 2026)', () => {
      const slots = office.slots(at('2026-10-22T00:00:00+02:00'), 7, 510);
      assert.deepEqual(utcPairs(slots), [
        '2026-10-22T06:00/14:30',
        '2026-10-23T06:00/14:30',
        '2026-10-26T07:00/15:30',
        '2026-10-27T07:00/15:30',
        '2026-10-28T07:00/15:30',
      ]);
    });

    it('cuts a period that spans the change itself in real time', () => {
      const night = calendar('sun 01:00-04:00');
      // 29 March: 01:00 CET = 00:00Z, 04:00 CEST = 02:00Z: two real hours.
      assert.deepEqual(utcPairs(night.slots(at('2026-03-29T00:00:00+01:00'), 1, 60)), [
        '2026-03-29T00:00/01:00',
        '2026-03-29T01:00/02:00',
      ]);
      // 25 October: 01:00 CEST = 23:00Z the day before, 04:00 CET = 03:00Z: four real hours.
      assert.deepEqual(utcPairs(night.slots(at('2026-10-25T00:00:00+02:00'), 1, 60)), [
        '2026-10-24T23:00/00:00',
        '2026-10-25T00:00/01:00',
        '2026-10-25T01:00/02:00',
        '2026-10-25T02:00/03:00',
      ]);
    });

    it('skips holidays and returns nothing for zero days', () => {
      const slots = office.slots(at('2026-12-23T12:00:00+01:00'), 6, 510); // Wed 23 .. Mon 28
      assert.deepEqual(utcPairs(slots), ['2026-12-23T07:00/15:30', '2026-12-28T07:00/15:30']);
      assert.deepEqual(office.slots(at('2026-01-14T00:00:00+01:00'), 0, 60), []);
    });

    it('refuses nonsense arguments', () => {
      assert.throws(() => office.slots(at('2026-01-14T00:00:00Z'), 1, 0), RangeError);
      assert.throws(() => office.slots(at('2026-01-14T00:00:00Z'), -1, 60), RangeError);
      assert.throws(() => office.slots(new Date('nonsense'), 1, 60), RangeError);
    });
  });

  describe('workingMillisBetween', () => {
    it('counts within one day, around lunch', () => {
      assert.equal(office.workingMillisBetween(at('2026-01-14T09:00:00+01:00'), at('2026-01-14T11:15:00+01:00')), 2.25 * HOUR);
      assert.equal(withLunch.workingMillisBetween(at('2026-01-14T11:00:00+01:00'), at('2026-01-14T14:00:00+01:00')), 2 * HOUR);
      assert.equal(office.workingMillisBetween(at('2026-01-14T06:00:00+01:00'), at('2026-01-14T20:00:00+01:00')), 8.5 * HOUR);
      assert.equal(office.workingMillisBetween(at('2026-01-14T17:00:00+01:00'), at('2026-01-14T20:00:00+01:00')), 0);
    });

    it('is 0 for equal or reversed arguments', () => {
      const a = at('2026-01-14T09:00:00+01:00');
      const b = at('2026-01-14T11:00:00+01:00');
      assert.equal(office.workingMillisBetween(a, a), 0);
      assert.equal(office.workingMillisBetween(b, a), 0);
    });

    it('skips the weekend: Friday 15:00 to Monday 09:00 is 2.5 hours', () => {
      assert.equal(office.workingMillisBetween(at('2026-01-16T15:00:00+01:00'), at('2026-01-19T09:00:00+01:00')), 2.5 * HOUR);
    });

    it('skips holidays: Christmas and Easter', () => {
      // Wed 23 Dec 16:00 .. Mon 28 Dec 08:30: julafton, juldagen and the weekend are closed.
      assert.equal(office.workingMillisBetween(at('2026-12-23T16:00:00+01:00'), at('2026-12-28T08:30:00+01:00')), HOUR);
      // Thu 2 Apr 16:00 .. Tue 7 Apr 08:30: långfredag, Easter weekend, annandag påsk.
      assert.equal(office.workingMillisBetween(at('2026-04-02T16:00:00+02:00'), at('2026-04-07T08:30:00+02:00')), HOUR);
    });

    it('is right across the daylight-saving changes', () => {
      // 67.5 h of wall clock but 66.5 h of real time in spring; none of it the weekend's business.
      assert.equal(office.workingMillisBetween(at('2026-03-27T16:00:00+01:00'), at('2026-03-30T08:30:00+02:00')), HOUR);
      assert.equal(office.workingMillisBetween(at('2026-10-23T16:00:00+02:00'), at('2026-10-26T08:30:00+01:00')), HOUR);
      const always = calendar('mon-sun 00:00-24:00', []);
      assert.equal(always.workingMillisBetween(at('2026-03-29T00:00:00+01:00'), at('2026-03-30T00:00:00+02:00')), 23 * HOUR);
      assert.equal(always.workingMillisBetween(at('2026-10-25T00:00:00+02:00'), at('2026-10-26T00:00:00+01:00')), 25 * HOUR);
      const night = calendar('sun 01:00-04:00');
      assert.equal(night.workingMillisBetween(at('2026-03-28T00:00:00Z'), at('2026-03-30T00:00:00Z')), 2 * HOUR);
      assert.equal(night.workingMillisBetween(at('2026-10-24T00:00:00Z'), at('2026-10-26T00:00:00Z')), 4 * HOUR);
      // Inside the period on the autumn night: 01:30 CEST (23:30Z) to 02:30 CET (01:30Z) is two real hours.
      assert.equal(night.workingMillisBetween(at('2026-10-24T23:30:00Z'), at('2026-10-25T01:30:00Z')), 2 * HOUR);
    });

    it('crosses the new year', () => {
      // Wed 30 Dec 12:00 .. Mon 4 Jan 2027 09:00: nyårsafton, nyårsdagen and the weekend are closed.
      assert.equal(office.workingMillisBetween(at('2026-12-30T12:00:00+01:00'), at('2027-01-04T09:00:00+01:00')), 5.5 * HOUR);
    });

    it('counts a whole week and a whole year', () => {
      assert.equal(withLunch.workingMillisBetween(at('2026-01-12T00:00:00+01:00'), at('2026-01-19T00:00:00+01:00')), 5 * 7.5 * HOUR);
      // 2026 has 261 weekdays; ten of them are closed (1/1, 6/1, 3/4, 6/4, 1/5, 14/5, 19/6, 24/12, 25/12, 31/12).
      assert.equal(office.workingMillisBetween(at('2026-01-01T00:00:00+01:00'), at('2027-01-01T00:00:00+01:00')), 251 * 8.5 * HOUR);
    });

    it('counts a period ending at 24:00', () => {
      const evening = calendar('sat 20:00-24:00', []);
      assert.equal(evening.workingMillisBetween(at('2026-01-17T00:00:00+01:00'), at('2026-01-19T00:00:00+01:00')), 4 * HOUR);
      assert.equal(evening.isOpen(at('2026-01-17T23:59:59+01:00')), true);
      assert.equal(evening.isOpen(at('2026-01-18T00:00:00+01:00')), false);
    });
  });

  describe('addWorkingMillis', () => {
    it('moves over the weekend', () => {
      assert.equal(office.addWorkingMillis(at('2026-01-16T15:00:00+01:00'), 2.5 * HOUR).toISOString(), '2026-01-19T08:00:00.000Z');
    });

    it('stops at the end of a period rather than at the next opening', () => {
      assert.equal(office.addWorkingMillis(at('2026-01-14T08:00:00+01:00'), 8.5 * HOUR).toISOString(), '2026-01-14T15:30:00.000Z');
    });

    it('starts counting at the next opening when added from closed time', () => {
      assert.equal(office.addWorkingMillis(at('2026-01-17T10:00:00+01:00'), HOUR).toISOString(), '2026-01-19T08:00:00.000Z');
      assert.equal(withLunch.addWorkingMillis(at('2026-01-14T11:30:00+01:00'), HOUR).toISOString(), '2026-01-14T12:30:00.000Z');
    });

    it('gives the "within 2 working days" deadline over Christmas', () => {
      // Wed 23 Dec 10:00: 6.5 h that day, 8.5 h on Mon 28, 2 h on Tue 29.
      assert.equal(office.addWorkingMillis(at('2026-12-23T10:00:00+01:00'), 17 * HOUR).toISOString(), '2026-12-29T09:00:00.000Z');
    });

    it('crosses the spring change and the new year', () => {
      assert.equal(office.addWorkingMillis(at('2026-03-27T16:00:00+01:00'), HOUR).toISOString(), '2026-03-30T06:30:00.000Z');
      assert.equal(office.addWorkingMillis(at('2026-12-30T12:00:00+01:00'), 5.5 * HOUR).toISOString(), '2027-01-04T08:00:00.000Z');
    });

    it('is the inverse of workingMillisBetween', () => {
      const starts = [
        '2026-01-14T09:13:00+01:00',
        '2026-01-17T03:00:00+01:00',
        '2026-03-27T12:00:00+01:00',
        '2026-06-18T16:00:00+02:00',
        '2026-10-23T10:00:00+02:00',
        '2026-12-22T11:11:11+01:00',
      ];
      const amounts = [1, 59 * MINUTE, 4 * HOUR, 8.5 * HOUR, 17 * HOUR, 40 * HOUR + 7, 300 * HOUR];
      for (const cal of [office, withLunch]) {
        for (const iso of starts) {
          for (const ms of amounts) {
            const from = at(iso);
            const reached = cal.addWorkingMillis(from, ms);
            assert.equal(cal.workingMillisBetween(from, reached), ms, `${iso} + ${ms}`);
            assert.ok(reached.getTime() > from.getTime());
          }
        }
      }
    });

    it('returns `from` for 0 and refuses negative amounts', () => {
      const from = at('2026-01-17T10:00:00+01:00');
      assert.equal(office.addWorkingMillis(from, 0).getTime(), from.getTime());
      assert.throws(() => office.addWorkingMillis(from, -1), RangeError);
      assert.throws(() => office.addWorkingMillis(from, Number.NaN), RangeError);
    });
  });

  describe('parseOpeningHours: bad specs', () => {
    const bad = (hours: string, message: RegExp, closedOn?: string[], timeZone = TZ) =>
      assert.throws(
        () => parseOpeningHours(closedOn ? { hours, closedOn, timeZone } : { hours, timeZone }),
        (err: unknown) => err instanceof OpeningHoursError && message.test(err.message),
      );

    it('names an unknown day', () => bad('mon-fry 08:00-16:30', /Unknown day "fry"/));
    it('names an hour out of range', () => bad('mon-fri 08:00-25:00', /Bad time "25:00".*hours run 00-23/));
    it('names minutes out of range', () => bad('mon-fri 08:60-16:30', /Bad time "08:60".*minutes run 00-59/));
    it('refuses a period that ends before it starts', () => bad('mon-fri 16:00-08:00', /"16:00-08:00" .*ends before it starts/));
    it('refuses an empty period', () => bad('mon-fri 08:00-08:00', /"08:00-08:00" .*is empty/));
    it('refuses empty hours', () => {
      bad('', /opening hours are empty/);
      bad('   ', /opening hours are empty/);
    });
    it('refuses days without times and times without days', () => {
      bad('mon-fri', /"mon-fri" has no opening times/);
      bad('08:00-16:30', /must start with a day/);
    });
    it('refuses a malformed range', () => bad('mon-fri 8-16', /Bad time range "8-16"/));
    it('refuses a backwards day range', () => bad('fri-mon 08:00-16:30', /"fri-mon" .*runs backwards/));
    it('refuses overlapping periods', () => bad('mon 08:00-12:00 11:00-13:00', /08:00-12:00 and 11:00-13:00 overlap/));
    it('refuses a day given twice', () => bad('mon-fri 08:00-16:30, fri 08:00-15:00', /fri is given twice/));
    it('refuses a stray comma', () => bad('mon-fri 08:00-16:30,', /empty part/));
    it('refuses an unknown closed-day type or a date that does not exist', () => {
      bad('mon-fri 08:00-16:30', /Unknown closed day "holidays"/, ['holidays']);
      bad('mon-fri 08:00-16:30', /"2026-02-30" is not a real date/, ['2026-02-30']);
    });
    it('refuses an unknown time zone', () => bad('mon-fri 08:00-16:30', /Unknown time zone "Europe\/Stockholmm"/, undefined, 'Europe/Stockholmm'));
  });
});
