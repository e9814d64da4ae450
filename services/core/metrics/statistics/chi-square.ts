import { regularizedUpperGamma } from './gamma.js';

/**
 * Survival function of the chi-square distribution, P(X ≥ statistic) for X ~ χ²(degreesOfFreedom),
 * i.e. Q(k/2, x/2) — the same quantity as scipy.stats.chi2.sf.
 */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0) || !Number.isFinite(degreesOfFreedom)) {
    throw new RangeError(`chi-square degrees of freedom must be finite and positive, got ${degreesOfFreedom}`);
  }
  if (Number.isNaN(statistic)) throw new RangeError('chi-square statistic is NaN');
  if (statistic <= 0) return 1;
  return regularizedUpperGamma(degreesOfFreedom / 2, statistic / 2);
}
