import { describe, expect, it } from 'vitest';

import type { CategoricalValues } from '../../../services/core/metrics/drift/categorical-drift.js';
import { categoricalFeatureQuality, numericFeatureQuality } from '../../../services/core/metrics/quality/feature-quality.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';
import { numericSample, type NumericValues } from '../../../services/core/metrics/statistics/numeric-sample.js';
import { oracle } from './oracle-fixture.js';

/** Shares are ratios of counts and a difference of two such ratios: exact to 1e-15 relative. */
const RELATIVE_TOLERANCE = 1e-15;

function expectOutcome(actual: Outcome<number>, expected: number | null | undefined, label: string): void {
  if (expected === null || expected === undefined) {
    expect(actual.defined, label).toBe(false);
    return;
  }
  expect(actual.defined, label).toBe(true);
  if (actual.defined) {
    expect(Math.abs(actual.value - expected), `${label}: ${actual.value} vs ${expected}`).toBeLessThanOrEqual(
      RELATIVE_TOLERANCE * Math.abs(expected),
    );
  }
}

describe('feature quality against numpy', () => {
  for (const testCase of oracle.quality) {
    it(`${testCase.kind}: ${testCase.name}`, () => {
      const quality =
        testCase.kind === 'numeric'
          ? numericFeatureQuality(testCase.reference as NumericValues, testCase.current as NumericValues)
          : categoricalFeatureQuality(testCase.reference as CategoricalValues, testCase.current as CategoricalValues);
      expectOutcome(quality.referenceMissingShare, testCase.expected.referenceMissingShare, 'reference missing share');
      expectOutcome(quality.currentMissingShare, testCase.expected.currentMissingShare, 'current missing share');
      expectOutcome(quality.missingShareChange, testCase.expected.missingShareChange, 'missing share change');
      if (testCase.kind === 'numeric' && 'outOfRangeShare' in quality) {
        expectOutcome(quality.outOfRangeShare as Outcome<number>, testCase.expected.outOfRangeShare, 'out-of-range share');
      }
    });
  }
});

describe('numericFeatureQuality', () => {
  const reference = [1, 5, null, 3];
  const current = [0, 5, 5.5, null, null, 2];

  it('counts values strictly outside the reference range among the non-missing current values', () => {
    const quality = numericFeatureQuality(reference, current);
    expect(quality.outOfRangeShare).toEqual({ defined: true, value: 2 / 4 });
    expect(quality.referenceMissingShare).toEqual({ defined: true, value: 1 / 4 });
    expect(quality.currentMissingShare).toEqual({ defined: true, value: 2 / 6 });
    expect(quality.missingShareChange).toEqual({ defined: true, value: 2 / 6 - 1 / 4 });
  });

  it('gives the same result for prepared samples', () => {
    const referenceSample = numericSample(reference, 'reference');
    const currentSample = numericSample(current, 'current');
    if (!referenceSample.defined || !currentSample.defined) throw new Error('samples should be valid');
    expect(numericFeatureQuality(referenceSample.value, currentSample.value)).toEqual(numericFeatureQuality(reference, current));
  });

  it('rejects NaN on one side and keeps the metrics of the other side', () => {
    const quality = numericFeatureQuality([1, 2, null], [1, Number.NaN]);
    expect(quality.referenceMissingShare).toEqual({ defined: true, value: 1 / 3 });
    const expectedReason = 'current value at index 1 is NaN; non-finite values are rejected (use null for a missing value)';
    expect(quality.currentMissingShare).toEqual({ defined: false, reason: expectedReason });
    expect(quality.missingShareChange).toEqual({ defined: false, reason: expectedReason });
    expect(quality.outOfRangeShare).toEqual({ defined: false, reason: expectedReason });
  });

  it('rejects Infinity in the reference', () => {
    const quality = numericFeatureQuality([Infinity], [1]);
    expect(quality.referenceMissingShare.defined).toBe(false);
    expect(quality.outOfRangeShare.defined).toBe(false);
    expect(quality.currentMissingShare).toEqual({ defined: true, value: 0 });
  });

  it('is undefined with a reason for empty and all-missing sides', () => {
    expect(numericFeatureQuality([], [1]).referenceMissingShare).toEqual({ defined: false, reason: 'reference has no entries' });
    expect(numericFeatureQuality([null], [1]).outOfRangeShare).toEqual({
      defined: false,
      reason: 'reference has no non-missing values',
    });
  });
});

describe('categoricalFeatureQuality', () => {
  it('rejects entries that are not strings or null', () => {
    const quality = categoricalFeatureQuality(['a', 1 as unknown as string], ['a', null]);
    expect(quality.referenceMissingShare.defined).toBe(false);
    expect(quality.currentMissingShare).toEqual({ defined: true, value: 0.5 });
  });
});
