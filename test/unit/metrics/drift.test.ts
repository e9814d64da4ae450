import { describe, expect, it } from 'vitest';

import { binCounts } from '../../../services/core/metrics/binning.js';
import {
  empiricalCdfDistances,
  kolmogorovSmirnovTest,
  numericDrift,
  populationStandardDeviation,
  type NumericDrift,
} from '../../../services/core/metrics/drift/numeric-drift.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';
import { numericSample, type NumericValues } from '../../../services/core/metrics/statistics/numeric-sample.js';
import { oracle, relativeError } from './oracle-fixture.js';

/**
 * Tolerances against scipy/numpy:
 * - the KS statistic, the bin edges and the bin counts are computed with the same floating-point
 *   operations as scipy/numpy and must agree exactly;
 * - everything else is exact mathematics evaluated in a different order and must agree to 1e-9
 *   relative (observed ≤ 2e-13; the largest gaps are KL divergences of nearly equal histograms,
 *   a sum of terms that cancel).
 */
const RELATIVE_TOLERANCE = 1e-9;

const METRICS = [
  'kolmogorovSmirnov',
  'wasserstein',
  'normalizedWasserstein',
  'populationStabilityIndex',
  'jensenShannonDistance',
  'klDivergence',
  'hellingerDistance',
] as const satisfies readonly (keyof NumericDrift)[];

function valueOf<T>(outcome: Outcome<T>, label: string): T {
  if (!outcome.defined) throw new Error(`${label} is undefined: ${outcome.reason}`);
  return outcome.value;
}

function expectClose(actual: number, expected: number, label: string): void {
  expect(relativeError(actual, expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
}

function sortedPresent(values: (number | null)[]): Float64Array {
  return Float64Array.from(values.filter((value): value is number => value !== null)).sort();
}

describe('numericDrift against scipy and numpy', () => {
  for (const testCase of oracle.numeric) {
    it(testCase.name, () => {
      const drift = numericDrift(testCase.reference, testCase.current, { binCount: testCase.binCount });
      const expected = testCase.expected;
      if (expected.undefined) {
        for (const metric of METRICS) expect(drift[metric].defined, metric).toBe(false);
        expect(drift.binEdges === null ? null : Array.from(drift.binEdges)).toEqual(expected.binEdges);
        return;
      }

      if (expected.ks === null) {
        expect(drift.kolmogorovSmirnov.defined).toBe(false);
      } else {
        const ks = valueOf(drift.kolmogorovSmirnov, 'KS');
        expect(ks.statistic).toBe(expected.ks.statistic);
        expect(ks.effectiveSampleSize).toBe(expected.ks.effectiveSampleSize);
        expectClose(ks.pValue, expected.ks.pValue, 'KS p-value');
      }
      expectClose(valueOf(drift.wasserstein, 'W1'), expected.wasserstein, 'Wasserstein');
      if (expected.normalizedWasserstein === null) {
        expect(drift.normalizedWasserstein.defined).toBe(false);
      } else {
        expectClose(valueOf(drift.normalizedWasserstein, 'normalised W1'), expected.normalizedWasserstein, 'normalised Wasserstein');
      }

      expect(drift.binEdges).not.toBeNull();
      const edges = drift.binEdges!;
      expect(edges.length).toBe(expected.binEdges.length);
      expected.binEdges.forEach((edge, index) => expect(edges[index] === edge, `edge ${index}: ${edges[index]} vs ${edge}`).toBe(true));
      expect(Array.from(binCounts(sortedPresent(testCase.reference), edges))).toEqual(expected.referenceBinCounts);
      expect(Array.from(binCounts(sortedPresent(testCase.current), edges))).toEqual(expected.currentBinCounts);

      expectClose(valueOf(drift.populationStabilityIndex, 'PSI'), expected.populationStabilityIndex, 'PSI');
      expectClose(valueOf(drift.jensenShannonDistance, 'JS'), expected.jensenShannonDistance, 'Jensen–Shannon');
      expectClose(valueOf(drift.klDivergence, 'KL'), expected.klDivergence, 'KL');
      expectClose(valueOf(drift.hellingerDistance, 'Hellinger'), expected.hellingerDistance, 'Hellinger');
      expect(drift.referenceCount).toBe(sortedPresent(testCase.reference).length);
      expect(drift.currentCount).toBe(sortedPresent(testCase.current).length);
    });
  }
});

describe('numericDrift inputs', () => {
  const reference = [0.3, -1.2, null, 2.5, 0.7, 1.1, -0.4, null, 0.9, 1.6];
  const current = [0.5, 2.8, 3.1, null, -0.2, 1.9, 2.2];

  it('gives the same result for arrays, Float64Arrays and prepared samples', () => {
    const fromArrays = numericDrift(reference, current);
    const referenceSample = numericSample(reference, 'reference');
    expect(referenceSample.defined).toBe(true);
    if (!referenceSample.defined) return;
    const fromSample = numericDrift(referenceSample.value, current);
    const fromTyped = numericDrift(Float64Array.from(reference.filter((value) => value !== null)), current);
    expect(fromSample).toEqual(fromArrays);
    expect(fromTyped).toEqual(fromArrays);
  });

  it('does not reorder the caller’s values', () => {
    const typed = Float64Array.of(3, 1, 2);
    numericDrift(typed, [1, 2]);
    expect(Array.from(typed)).toEqual([3, 1, 2]);
  });

  const rejected: [string, NumericValues, NumericValues, string][] = [
    ['NaN in the reference', [1, 2, Number.NaN, 4], [1, 2], 'reference value at index 2 is NaN'],
    ['Infinity in the current sample', [1, 2, 3], [Infinity, 1], 'current value at index 0 is Infinity'],
    ['−Infinity in a Float64Array', [1, 2, 3], Float64Array.of(1, -Infinity), 'current value at index 1 is -Infinity'],
    ['undefined in place of null', [1, undefined as unknown as null, 3], [1], 'reference value at index 1 is undefined'],
    ['a string', [1, 2], [1, '2' as unknown as number], 'current value at index 1 is of type string'],
  ];
  for (const [label, referenceValues, currentValues, reason] of rejected) {
    it(`rejects ${label} with a reason, leaving every metric undefined`, () => {
      const drift = numericDrift(referenceValues, currentValues);
      for (const metric of METRICS) {
        const outcome = drift[metric];
        expect(outcome.defined, metric).toBe(false);
        if (!outcome.defined) expect(outcome.reason).toContain(reason);
      }
    });
  }

  it('names both sides when both are rejected', () => {
    const drift = numericDrift([Number.NaN], [Infinity]);
    expect(drift.wasserstein).toEqual({
      defined: false,
      reason: expect.stringMatching(/reference value at index 0 is NaN.*; current value at index 0 is Infinity/),
    });
    expect(drift.referenceCount).toBeNull();
    expect(drift.currentCount).toBeNull();
  });

  it('leaves every metric undefined when a side has no non-missing values', () => {
    const emptyCurrent = numericDrift([1, 2, 3], [null, null]);
    for (const metric of METRICS) {
      expect(emptyCurrent[metric]).toEqual({ defined: false, reason: 'current has no non-missing values' });
    }
    expect(emptyCurrent.currentCount).toBe(0);
    const emptyReference = numericDrift([], [1]);
    expect(emptyReference.wasserstein).toEqual({ defined: false, reason: 'reference has no non-missing values' });
    expect(emptyReference.binEdges).toBeNull();
  });

  it('leaves only the normalised Wasserstein undefined for a constant reference', () => {
    const drift = numericDrift([2, 2, 2, 2], [2, 3, 4]);
    expect(drift.normalizedWasserstein).toEqual({ defined: false, reason: 'reference standard deviation is 0 (constant reference)' });
    expect(drift.wasserstein).toEqual({ defined: true, value: 1 });
    // a constant reference keeps one edge at its value: (−∞, 2] and (2, +∞)
    expect(Array.from(drift.binEdges!)).toEqual([2]);
    expect(drift.populationStabilityIndex.defined).toBe(true);
  });

  it('leaves the KS test undefined when both samples have a single value', () => {
    const drift = numericDrift([1], [2]);
    expect(drift.kolmogorovSmirnov.defined).toBe(false);
    if (!drift.kolmogorovSmirnov.defined) expect(drift.kolmogorovSmirnov.reason).toContain('round');
  });

  it('rejects a bin count that is not an integer ≥ 2', () => {
    expect(() => numericDrift([1, 2], [1, 2], { binCount: 1 })).toThrow(RangeError);
    expect(() => numericDrift([1, 2], [1, 2], { binCount: 2.5 })).toThrow(RangeError);
  });
});

describe('numeric drift building blocks', () => {
  it('evaluates the empirical CDFs after whole groups of ties', () => {
    // At 1: F_a = 2/3, F_b = 0; from 2 on: F_a = 1, F_b = 1/2; the areas are 2/3·1 + 1/2·1.
    const distances = empiricalCdfDistances(Float64Array.of(1, 1, 2), Float64Array.of(2, 3));
    expect(distances.supremum).toBeCloseTo(2 / 3, 15);
    expect(distances.integral).toBeCloseTo(2 / 3 + 1 / 2, 15);
    expect(empiricalCdfDistances(Float64Array.of(1, 2), Float64Array.of(1, 2))).toEqual({ supremum: 0, integral: 0 });
  });

  it('gives the distance between point masses, symmetrically', () => {
    expect(empiricalCdfDistances(Float64Array.of(0), Float64Array.of(3))).toEqual({ supremum: 1, integral: 3 });
    const first = Float64Array.of(-1, 0.5, 0.5, 4);
    const second = Float64Array.of(0, 1, 2);
    expect(empiricalCdfDistances(first, second)).toEqual(empiricalCdfDistances(second, first));
  });

  it('uses the effective sample size m·n/(m + n) rounded half to even', () => {
    const test = (referenceCount: number, currentCount: number): number => {
      const result = kolmogorovSmirnovTest(0.5, referenceCount, currentCount);
      if (!result.defined) throw new Error(result.reason);
      return result.value.effectiveSampleSize;
    };
    expect(test(5, 5)).toBe(2);
    expect(test(7, 7)).toBe(4);
    expect(test(3, 1)).toBe(1);
    expect(kolmogorovSmirnovTest(1, 1, 1).defined).toBe(false);
  });

  it('standard deviation uses ddof = 0 and is exactly 0 for a constant sample', () => {
    expect(populationStandardDeviation(Float64Array.of(1, 3))).toBe(1);
    expect(populationStandardDeviation(Float64Array.of(0.1, 0.1, 0.1))).toBe(0);
  });
});
