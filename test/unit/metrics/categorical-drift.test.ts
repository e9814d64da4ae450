import { describe, expect, it } from 'vitest';

import {
  categoricalDrift,
  categoryCounts,
  chiSquareHomogeneity,
  type CategoricalDrift,
  type CategoricalValues,
} from '../../../services/core/metrics/drift/categorical-drift.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';
import { oracle, relativeError } from './oracle-fixture.js';

/**
 * Every metric is exact mathematics evaluated in a different order from scipy/numpy: 1e-9
 * relative (observed ≤ 2e-12; the largest gap is the Jensen–Shannon distance of two nearly equal
 * distributions, a square root of a small difference). Degrees of freedom must match exactly.
 */
const RELATIVE_TOLERANCE = 1e-9;

const METRICS = [
  'populationStabilityIndex',
  'chiSquare',
  'jensenShannonDistance',
  'maxProportionDifference',
  'unseenCategoryShare',
] as const satisfies readonly (keyof CategoricalDrift)[];

function valueOf<T>(outcome: Outcome<T>, label: string): T {
  if (!outcome.defined) throw new Error(`${label} is undefined: ${outcome.reason}`);
  return outcome.value;
}

function expectClose(actual: number, expected: number, label: string): void {
  expect(relativeError(actual, expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
}

describe('categoricalDrift against scipy and numpy', () => {
  for (const testCase of oracle.categorical) {
    it(testCase.name, () => {
      const drift = categoricalDrift(testCase.reference, testCase.current);
      const expected = testCase.expected;
      if (expected.undefined) {
        for (const metric of METRICS) expect(drift[metric].defined, metric).toBe(false);
        return;
      }
      expectClose(valueOf(drift.populationStabilityIndex, 'PSI'), expected.populationStabilityIndex, 'PSI');
      const chiSquare = valueOf(drift.chiSquare, 'chi-square');
      expectClose(chiSquare.statistic, expected.chiSquare.statistic, 'chi-square statistic');
      expectClose(chiSquare.pValue, expected.chiSquare.pValue, 'chi-square p-value');
      expect(chiSquare.degreesOfFreedom).toBe(expected.chiSquare.degreesOfFreedom);
      expectClose(valueOf(drift.jensenShannonDistance, 'JS'), expected.jensenShannonDistance, 'Jensen–Shannon');
      expectClose(valueOf(drift.maxProportionDifference, 'L∞'), expected.maxProportionDifference, 'L∞');
      expectClose(valueOf(drift.unseenCategoryShare, 'unseen'), expected.unseenCategoryShare, 'unseen share');
    });
  }
});

describe('categoricalDrift semantics', () => {
  it('counts the current values whose category the reference never had', () => {
    const drift = categoricalDrift(['a', 'b', 'a', null], ['a', 'c', 'c', 'd', null, null]);
    expect(drift.unseenCategoryShare).toEqual({ defined: true, value: 3 / 4 });
    expect(drift.referenceCount).toBe(3);
    expect(drift.currentCount).toBe(4);
  });

  it('gives a distance of 0 and a PSI of 0 for identical proportions', () => {
    const drift = categoricalDrift(['x', 'y', 'y'], ['y', 'x', 'y', 'y', 'x', 'y']);
    expect(drift.jensenShannonDistance).toEqual({ defined: true, value: 0 });
    expect(drift.populationStabilityIndex).toEqual({ defined: true, value: 0 });
    expect(drift.maxProportionDifference).toEqual({ defined: true, value: 0 });
  });

  it('reports no degrees of freedom and p = 1 when both sides have one category, as scipy does', () => {
    expect(categoricalDrift(['a', 'a'], ['a']).chiSquare).toEqual({
      defined: true,
      value: { statistic: 0, pValue: 1, degreesOfFreedom: 0 },
    });
  });

  it('accepts prepared counts in place of values', () => {
    const reference = ['a', 'b', 'b', 'c', null];
    const current = ['b', 'c', 'c', 'd'];
    const counted = categoryCounts(reference, 'reference');
    expect(counted.defined).toBe(true);
    if (counted.defined) expect(categoricalDrift(counted.value, current)).toEqual(categoricalDrift(reference, current));
  });

  it('treats a prepared category with a zero count as absent', () => {
    const reference = { counts: new Map([['a', 3], ['b', 0], ['c', 1]]), totalCount: 4, missingCount: 0 };
    const withoutZero = { counts: new Map([['a', 3], ['c', 1]]), totalCount: 4, missingCount: 0 };
    const current = ['a', 'b', 'b', 'c'];
    const drift = categoricalDrift(reference, current);
    expect(drift).toEqual(categoricalDrift(withoutZero, current));
    expect(drift.unseenCategoryShare).toEqual({ defined: true, value: 0.5 });
  });

  const rejected: [string, CategoricalValues, CategoricalValues, string][] = [
    ['a number in the reference', ['a', 3 as unknown as string], ['a'], 'reference value at index 1 is of type number'],
    ['undefined in the current sample', ['a'], [undefined as unknown as null], 'current value at index 0 is undefined'],
  ];
  for (const [label, reference, current, reason] of rejected) {
    it(`rejects ${label} with a reason, leaving every metric undefined`, () => {
      const drift = categoricalDrift(reference, current);
      for (const metric of METRICS) {
        const outcome = drift[metric];
        expect(outcome.defined, metric).toBe(false);
        if (!outcome.defined) expect(outcome.reason).toContain(reason);
      }
    });
  }

  it('leaves every metric undefined when a side has no non-missing values', () => {
    const drift = categoricalDrift(['a'], [null]);
    for (const metric of METRICS) expect(drift[metric]).toEqual({ defined: false, reason: 'current has no non-missing values' });
    expect(categoricalDrift([], ['a']).chiSquare).toEqual({ defined: false, reason: 'reference has no non-missing values' });
  });
});

describe('chiSquareHomogeneity', () => {
  it('drops categories that are empty on both sides', () => {
    const withEmpty = chiSquareHomogeneity([10, 0, 5, 7], [4, 0, 9, 3]);
    const withoutEmpty = chiSquareHomogeneity([10, 5, 7], [4, 9, 3]);
    expect(withEmpty).toEqual(withoutEmpty);
    expect(valueOf(withEmpty, 'chi-square').degreesOfFreedom).toBe(2);
  });

  it('is undefined when one row is empty', () => {
    expect(chiSquareHomogeneity([0, 0], [1, 2])).toEqual({ defined: false, reason: 'reference has no non-missing values' });
  });
});
