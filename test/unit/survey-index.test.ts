import { strict as assert } from 'node:assert';
import { indicesFrom, surveyIndex } from '../../server/survey/stats.js';

/** Counts per grade [n1..n5] from a list of answers. */
const countsOf = (answers: number[]) => [1, 2, 3, 4, 5].map((g) => answers.filter((a) => a === g).length);

/** SKR's index by its definition, unrounded: 5 = 100, 4 = 75, 3 = 50, 2 = 25, 1 = 0, the mean. */
const skr = (answers: number[]) => answers.map((a) => (a - 1) * 25).reduce((x, y) => x + y, 0) / answers.length;

describe('the service survey index (SKR servicemätning)', () => {
  it('all answers 5 is 100, all 1 is 0, all 3 is 50', () => {
    assert.deepEqual(surveyIndex([0, 0, 0, 0, 7]), { index: 100, responses: 7, distribution: [0, 0, 0, 0, 7] });
    assert.equal(surveyIndex([4, 0, 0, 0, 0]).index, 0);
    assert.equal(surveyIndex([0, 0, 2, 0, 0]).index, 50);
  });

  it('each grade by itself: 1 = 0, 2 = 25, 3 = 50, 4 = 75, 5 = 100', () => {
    for (const g of [1, 2, 3, 4, 5]) assert.equal(surveyIndex(countsOf([g])).index, (g - 1) * 25, `a single ${g}`);
  });

  it('the mean: [5, 4] is 87.5, [5, 1] is 50, [4, 3, 2] is 50', () => {
    assert.equal(surveyIndex(countsOf([5, 4])).index, 87.5);
    assert.equal(surveyIndex(countsOf([5, 1])).index, 50);
    assert.equal(surveyIndex(countsOf([4, 3, 2])).index, 50);
  });

  it('no answers: no index (null, not 0), and zero responses', () => {
    assert.deepEqual(surveyIndex([0, 0, 0, 0, 0]), { index: null, responses: 0, distribution: [0, 0, 0, 0, 0] });
  });

  it('rounds to one decimal, halves up: 91.67 → 91.7, 8.33 → 8.3, 6.25 → 6.3, 3.125 → 3.1', () => {
    assert.equal(surveyIndex(countsOf([5, 5, 4])).index, 91.7);
    assert.equal(surveyIndex(countsOf([2, 1, 1])).index, 8.3);
    assert.equal(surveyIndex(countsOf([2, 2, 1, 1, 1, 1, 1, 1])).index, 6.3);
    assert.equal(surveyIndex(countsOf([2, 1, 1, 1, 1, 1, 1, 1])).index, 3.1);
    assert.equal(surveyIndex(countsOf([5, 4, 4])).index, 83.3);
  });

  it('agrees with the definition on many mixes of answers (within the rounding)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 500; i++) {
      const answers = Array.from({ length: 1 + (next() % 40) }, () => 1 + (next() % 5));
      const { index, responses } = surveyIndex(countsOf(answers));
      assert.equal(responses, answers.length);
      assert.ok(Math.abs(index! - skr(answers)) <= 0.05 + 1e-9, `${answers.join(',')}: ${index} vs ${skr(answers)}`);
      assert.equal(Math.round(index! * 10), index! * 10, 'one decimal');
    }
  });

  it('refuses counts that are not five whole non-negative numbers', () => {
    assert.throws(() => surveyIndex([1, 2, 3, 4]), RangeError);
    assert.throws(() => surveyIndex([1, 2, 3, 4, 5, 6]), RangeError);
    assert.throws(() => surveyIndex([1, -1, 0, 0, 0]), RangeError);
    assert.throws(() => surveyIndex([1.5, 0, 0, 0, 0]), RangeError);
  });

  it('the indices of a period: each question on its own, with the response rate of the invitations', () => {
    const r = indicesFrom({
      distributions: { treatment: [0, 0, 0, 1, 1], ease: [1, 0, 0, 0, 0], clarity: [0, 0, 0, 0, 0] },
      answered: 2,
      invited: 8,
      invitedAnswered: 2,
    });
    assert.deepEqual(r.treatment, { index: 87.5, responses: 2, distribution: [0, 0, 0, 1, 1] });
    assert.deepEqual(r.ease, { index: 0, responses: 1, distribution: [1, 0, 0, 0, 0] });
    assert.deepEqual(r.clarity, { index: null, responses: 0, distribution: [0, 0, 0, 0, 0] });
    assert.equal(r.answered, 2);
    assert.equal(r.invited, 8);
    assert.equal(r.responseRate, 0.25);
    const none = [0, 0, 0, 0, 0] as [number, number, number, number, number];
    assert.equal(indicesFrom({ distributions: { treatment: none, ease: none, clarity: none }, answered: 0, invited: 0, invitedAnswered: 0 }).responseRate, null, 'no invitations: no rate');
  });
});
