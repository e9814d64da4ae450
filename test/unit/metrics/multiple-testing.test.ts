import { describe, expect, it } from 'vitest';

import { benjaminiHochberg } from '../../../services/core/metrics/multiple-testing.js';
import { oracle, relativeError } from './oracle-fixture.js';

/** The adjusted p-values are the same divisions and minima as statsmodels: 1e-12 relative. */
const RELATIVE_TOLERANCE = 1e-12;

describe('benjaminiHochberg against statsmodels multipletests(method="fdr_bh")', () => {
  for (const testCase of oracle.multipleTesting) {
    it(testCase.name, () => {
      const result = benjaminiHochberg(testCase.pValues, testCase.falseDiscoveryRate);
      expect(result.rejected).toEqual(testCase.rejected);
      testCase.adjustedPValues.forEach((expected, index) => {
        expect(relativeError(result.adjustedPValues[index]!, expected), `index ${index}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
      });
    });
  }
});

describe('benjaminiHochberg', () => {
  it('rejects by the step-up rule even where an individual p-value exceeds its own threshold', () => {
    // thresholds k/5 · 0.05 = 0.01 … 0.05: p₍₅₎ = 0.05 ≤ 0.05, so all five are rejected
    const result = benjaminiHochberg([0.05, 0.011, 0.02, 0.03, 0.04], 0.05);
    expect(result.rejected).toEqual([true, true, true, true, true]);
    for (const adjusted of result.adjustedPValues) expect(adjusted).toBeCloseTo(0.05, 15);
  });

  it('handles an empty family', () => {
    expect(benjaminiHochberg([], 0.05)).toEqual({ adjustedPValues: [], rejected: [] });
  });

  it('rejects p-values outside [0, 1] and an invalid rate', () => {
    expect(() => benjaminiHochberg([0.1, Number.NaN], 0.05)).toThrow(/index 1 is NaN/);
    expect(() => benjaminiHochberg([1.5], 0.05)).toThrow(RangeError);
    expect(() => benjaminiHochberg([0.1], 0)).toThrow(RangeError);
  });
});
