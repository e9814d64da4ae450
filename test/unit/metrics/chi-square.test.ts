import { describe, expect, it } from 'vitest';

import { chiSquareSurvival } from '../../../services/core/metrics/statistics/chi-square.js';
import { logGamma, regularizedUpperGamma } from '../../../services/core/metrics/statistics/gamma.js';
import { oracle, relativeError } from './oracle-fixture.js';

/** Series and continued fraction converge to full precision; 1e-9 relative is the contract. */
const RELATIVE_TOLERANCE = 1e-9;

describe('chiSquareSurvival (scipy.stats.chi2.sf)', () => {
  it(`matches scipy on ${oracle.chiSquare.length} points, 1 to 100000 degrees of freedom, p from 1e-12 to 1`, () => {
    for (const [x, degreesOfFreedom, expected] of oracle.chiSquare) {
      const actual = chiSquareSurvival(x, degreesOfFreedom);
      expect(relativeError(actual, expected), `x=${x} dof=${degreesOfFreedom}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
        RELATIVE_TOLERANCE,
      );
    }
  });

  it('is 1 at 0 and exp(−x/2) for two degrees of freedom', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(relativeError(chiSquareSurvival(7.3, 2), Math.exp(-7.3 / 2))).toBeLessThan(1e-14);
  });

  it('rejects non-positive degrees of freedom and a NaN statistic', () => {
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError);
    expect(() => chiSquareSurvival(Number.NaN, 1)).toThrow(RangeError);
  });
});

describe('gamma functions', () => {
  it('logGamma agrees with log factorials and Γ(½) = √π', () => {
    let logFactorial = 0;
    for (let k = 1; k <= 30; k += 1) {
      expect(Math.abs(logGamma(k) - logFactorial)).toBeLessThan(1e-13 * Math.max(1, logFactorial));
      logFactorial += Math.log(k);
    }
    expect(relativeError(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
  });

  it('Q(1, x) = e^(−x)', () => {
    for (const x of [0.01, 0.5, 1.9, 2.1, 40]) {
      expect(relativeError(regularizedUpperGamma(1, x), Math.exp(-x))).toBeLessThan(1e-14);
    }
  });
});
