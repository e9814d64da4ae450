import { describe, expect, it } from 'vitest';

import { kolmogorovTwoSidedSurvival, smirnovOneSidedSurvival } from '../../../services/core/metrics/statistics/kolmogorov.js';
import { oracle, relativeError } from './oracle-fixture.js';

/**
 * Both functions evaluate the same formulas as scipy in every region (exact sums, Durbin's
 * matrix, Pomeranz's recursion, the Pelz–Good expansion), so agreement is limited only by
 * rounding: observed ≤ 2e-12 relative. The tolerance is 1e-9 relative everywhere except for
 * probabilities below 1e-280, which scipy computes with gradual underflow; there only absolute
 * agreement within 1e-290 is asked.
 */
const RELATIVE_TOLERANCE = 1e-9;
const UNDERFLOW_REGION = 1e-280;

function expectAgreement(actual: number, expected: number, label: string): void {
  if (expected < UNDERFLOW_REGION) {
    expect(Math.abs(actual - expected), label).toBeLessThanOrEqual(1e-290);
  } else {
    expect(relativeError(actual, expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  }
}

describe('kolmogorovTwoSidedSurvival (scipy.stats.kstwo.sf)', () => {
  it(`matches scipy ${oracle.versions.scipy} on ${oracle.kolmogorov.length} points across every method region`, () => {
    expect(oracle.kolmogorov.length).toBeGreaterThan(500);
    for (const [n, d, expected] of oracle.kolmogorov) {
      expectAgreement(kolmogorovTwoSidedSurvival(d, n), expected, `n=${n} d=${d}`);
    }
  });

  it('is 1 at and below the smallest attainable statistic 1/(2n) and 0 at 1', () => {
    expect(kolmogorovTwoSidedSurvival(0, 10)).toBe(1);
    expect(kolmogorovTwoSidedSurvival(0.05, 10)).toBe(1);
    expect(kolmogorovTwoSidedSurvival(1, 10)).toBe(0);
  });

  it('has the closed forms of Ruben and Gambino at both ends', () => {
    // 1/(2n) ≤ d ≤ 1/n: P(D_n ≤ d) = n!/n^n (2nd − 1)^n
    const n = 4;
    const d = 0.2;
    expect(kolmogorovTwoSidedSurvival(d, n)).toBeCloseTo(1 - (24 / 256) * (2 * n * d - 1) ** n, 15);
    // d ≥ 1 − 1/n: P(D_n ≥ d) = 2(1 − d)^n
    expect(kolmogorovTwoSidedSurvival(0.8, 5)).toBeCloseTo(2 * 0.2 ** 5, 15);
  });

  it('decreases as the statistic grows', () => {
    for (const n of [7, 140, 5000]) {
      let previous = 1;
      for (let d = 0.001; d < 1; d += 0.001) {
        const probability = kolmogorovTwoSidedSurvival(d, n);
        expect(probability).toBeLessThanOrEqual(previous + 1e-15);
        previous = probability;
      }
    }
  });

  it('rejects a non-integer or non-positive sample size and a NaN statistic', () => {
    expect(() => kolmogorovTwoSidedSurvival(0.1, 0)).toThrow(RangeError);
    expect(() => kolmogorovTwoSidedSurvival(0.1, 2.5)).toThrow(RangeError);
    expect(() => kolmogorovTwoSidedSurvival(Number.NaN, 10)).toThrow(RangeError);
  });
});

describe('smirnovOneSidedSurvival (scipy.special.smirnov)', () => {
  it(`matches scipy on ${oracle.smirnov.length} points, n from 1 to 10^6`, () => {
    for (const [n, d, expected] of oracle.smirnov) {
      expectAgreement(smirnovOneSidedSurvival(d, n), expected, `n=${n} d=${d}`);
    }
  });

  it('is exactly 1 − d for a single observation', () => {
    expect(smirnovOneSidedSurvival(0.3, 1)).toBe(0.7);
  });
});
