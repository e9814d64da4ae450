/**
 * Drift of a numeric feature: the current sample against the reference sample.
 *
 * Missing values (null) are left out of every metric here; their share is a quality metric.
 * NaN and ±Infinity are rejected (see NumericValues): every metric is then undefined with a reason
 * naming the side and index. The binned metrics use the reference bins of binning.ts: PSI and KL
 * divergence over floored proportions, Jensen–Shannon and Hellinger distances over raw ones.
 */

import { binCounts, DEFAULT_BIN_COUNT, flooredProportions, proportions, referenceBinEdges } from '../binning.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';
import {
  hellingerDistance,
  jensenShannonDistance,
  klDivergence,
  populationStabilityIndex,
} from '../statistics/divergences.js';
import { kolmogorovTwoSidedSurvival } from '../statistics/kolmogorov.js';
import { toNumericSample, type NumericSample, type NumericValues } from '../statistics/numeric-sample.js';

export interface KolmogorovSmirnovResult {
  /** D = sup |F_reference − F_current| of the right-continuous empirical CDFs; ties are handled exactly. */
  statistic: number;
  /**
   * Two-sided asymptotic p-value as scipy.stats.ks_2samp(method="asymp"):
   * P(D_N ≥ D) of the one-sample Kolmogorov distribution at N = effectiveSampleSize.
   */
  pValue: number;
  /** N = m·n/(m + n) rounded half to even (as numpy.round), m and n the two sample sizes. */
  effectiveSampleSize: number;
}

export interface NumericDrift {
  /** Non-missing reference values used; null when the reference was rejected. */
  referenceCount: number | null;
  /** Non-missing current values used; null when the current sample was rejected. */
  currentCount: number | null;
  /** Inner edges of the reference bins (binning.ts); null when no bins could be built. */
  binEdges: Float64Array | null;
  kolmogorovSmirnov: Outcome<KolmogorovSmirnovResult>;
  /** Wasserstein-1 distance between the two empirical distributions (scipy.stats.wasserstein_distance). */
  wasserstein: Outcome<number>;
  /**
   * Wasserstein-1 divided by the population standard deviation (ddof = 0, numpy's default) of the
   * reference; undefined when the reference is constant.
   */
  normalizedWasserstein: Outcome<number>;
  /** Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ) over the floored bin proportions. */
  populationStabilityIndex: Outcome<number>;
  /** Jensen–Shannon distance, base 2, over the raw bin proportions; in [0, 1]. */
  jensenShannonDistance: Outcome<number>;
  /** KL(current ‖ reference) = Σ cᵢ·ln(cᵢ/rᵢ) in nats over the floored bin proportions. */
  klDivergence: Outcome<number>;
  /** Hellinger distance over the raw bin proportions; in [0, 1]. */
  hellingerDistance: Outcome<number>;
}

export interface NumericDriftOptions {
  /** Number of reference quantile bins before duplicate edges are collapsed; 10 unless given. */
  binCount?: number;
}

/** x rounded to the nearest integer, halves to the even neighbour (numpy.round). */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface EmpiricalCdfDistances {
  /** sup |F_a − F_b|: the Kolmogorov–Smirnov statistic D. */
  supremum: number;
  /** ∫ |F_a − F_b|: the Wasserstein-1 distance. */
  integral: number;
}

/**
 * Both distances between the right-continuous empirical CDFs of two non-empty ascending samples,
 * in one walk over the merged values: after each group of tied values the CDF difference is
 * compared with the supremum, and it weights the gap up to the next value in the integral.
 * Ties are therefore exact, and each term is the one scipy forms (count/size differences).
 */
export function empiricalCdfDistances(sortedA: Float64Array, sortedB: Float64Array): EmpiricalCdfDistances {
  const countA = sortedA.length;
  const countB = sortedB.length;
  if (countA === 0 || countB === 0) throw new RangeError('empirical CDF distance of an empty sample');
  const integral = new CompensatedSum();
  let supremum = 0;
  let indexA = 0;
  let indexB = 0;
  let previous = Math.min(sortedA[0]!, sortedB[0]!);
  while (indexA < countA || indexB < countB) {
    const value =
      indexB >= countB || (indexA < countA && sortedA[indexA]! <= sortedB[indexB]!) ? sortedA[indexA]! : sortedB[indexB]!;
    const gap = value - previous;
    if (gap !== 0) integral.add(Math.abs(indexA / countA - indexB / countB) * gap);
    while (indexA < countA && sortedA[indexA] === value) indexA += 1;
    while (indexB < countB && sortedB[indexB] === value) indexB += 1;
    const difference = Math.abs(indexA / countA - indexB / countB);
    if (difference > supremum) supremum = difference;
    previous = value;
  }
  return { supremum, integral: integral.value };
}

/**
 * Two-sample Kolmogorov–Smirnov test from its statistic and the two sample sizes; see
 * KolmogorovSmirnovResult. Undefined when m·n/(m + n) rounds to 0: one value on each side, or an
 * empty side.
 */
export function kolmogorovSmirnovTest(
  statistic: number,
  referenceCount: number,
  currentCount: number,
): Outcome<KolmogorovSmirnovResult> {
  const larger = Math.max(referenceCount, currentCount);
  const smaller = Math.min(referenceCount, currentCount);
  const effectiveSampleSize = roundHalfToEven((larger * smaller) / (larger + smaller));
  if (!(effectiveSampleSize >= 1)) {
    return undefinedBecause(
      `the asymptotic p-value needs m·n/(m + n) to round to at least 1 (m = ${referenceCount}, n = ${currentCount})`,
    );
  }
  const pValue = kolmogorovTwoSidedSurvival(statistic, effectiveSampleSize);
  return defined({ statistic, pValue, effectiveSampleSize });
}

/** Population standard deviation (ddof = 0) of a non-empty ascending sample; exactly 0 when constant. */
export function populationStandardDeviation(sorted: Float64Array): number {
  const count = sorted.length;
  if (count === 0) throw new RangeError('standard deviation of an empty sample');
  // A constant sample's computed mean can be off by an ulp, which would make its spread tiny but not 0.
  if (sorted[0] === sorted[count - 1]) return 0;
  const sum = new CompensatedSum();
  for (let index = 0; index < count; index += 1) sum.add(sorted[index]!);
  const mean = sum.value / count;
  const squares = new CompensatedSum();
  for (let index = 0; index < count; index += 1) {
    const deviation = sorted[index]! - mean;
    squares.add(deviation * deviation);
  }
  return Math.sqrt(squares.value / count);
}

/** Every metric undefined for one reason. */
export function undefinedNumericDrift(reason: string, referenceCount: number | null, currentCount: number | null): NumericDrift {
  const missing = undefinedBecause(reason);
  return {
    referenceCount,
    currentCount,
    binEdges: null,
    kolmogorovSmirnov: missing,
    wasserstein: missing,
    normalizedWasserstein: missing,
    populationStabilityIndex: missing,
    jensenShannonDistance: missing,
    klDivergence: missing,
    hellingerDistance: missing,
  };
}

/**
 * All numeric drift metrics of `current` against `reference`. Either side may be given as raw
 * values or as a prepared NumericSample (to sort a reference once for many windows).
 */
export function numericDrift(
  reference: NumericValues | NumericSample,
  current: NumericValues | NumericSample,
  options: NumericDriftOptions = {},
): NumericDrift {
  const binCount = options.binCount ?? DEFAULT_BIN_COUNT;
  if (!Number.isInteger(binCount) || binCount < 2) throw new RangeError(`bin count must be an integer ≥ 2, got ${binCount}`);

  const referenceSample = toNumericSample(reference, 'reference');
  const currentSample = toNumericSample(current, 'current');
  const referenceCount = referenceSample.defined ? referenceSample.value.sorted.length : null;
  const currentCount = currentSample.defined ? currentSample.value.sorted.length : null;
  if (!referenceSample.defined || !currentSample.defined) {
    const reasons = [referenceSample, currentSample].flatMap((sample) => (sample.defined ? [] : [sample.reason]));
    return undefinedNumericDrift(reasons.join('; '), referenceCount, currentCount);
  }
  const sortedReference = referenceSample.value.sorted;
  const sortedCurrent = currentSample.value.sorted;
  if (sortedReference.length === 0) return undefinedNumericDrift('reference has no non-missing values', referenceCount, currentCount);
  const binEdges = referenceBinEdges(sortedReference, binCount);
  if (sortedCurrent.length === 0) {
    return { ...undefinedNumericDrift('current has no non-missing values', referenceCount, currentCount), binEdges };
  }

  const distances = empiricalCdfDistances(sortedReference, sortedCurrent);
  const wasserstein = distances.integral;
  const referenceSpread = populationStandardDeviation(sortedReference);

  return {
    referenceCount,
    currentCount,
    binEdges,
    kolmogorovSmirnov: kolmogorovSmirnovTest(distances.supremum, sortedReference.length, sortedCurrent.length),
    wasserstein: defined(wasserstein),
    normalizedWasserstein:
      referenceSpread > 0
        ? defined(wasserstein / referenceSpread)
        : undefinedBecause('reference standard deviation is 0 (constant reference)'),
    ...binnedDivergences(binCounts(sortedReference, binEdges), binCounts(sortedCurrent, binEdges)),
  };
}

/** PSI and KL over floored bin proportions, Jensen–Shannon and Hellinger over raw ones. */
export function binnedDivergences(
  referenceCounts: Float64Array,
  currentCounts: Float64Array,
): Pick<NumericDrift, 'populationStabilityIndex' | 'jensenShannonDistance' | 'klDivergence' | 'hellingerDistance'> {
  const referenceFloored = flooredProportions(referenceCounts);
  const currentFloored = flooredProportions(currentCounts);
  const referenceShares = proportions(referenceCounts);
  const currentShares = proportions(currentCounts);
  return {
    populationStabilityIndex: defined(populationStabilityIndex(referenceFloored, currentFloored)),
    jensenShannonDistance: defined(jensenShannonDistance(referenceShares, currentShares)),
    klDivergence: defined(klDivergence(currentFloored, referenceFloored)),
    hellingerDistance: defined(hellingerDistance(referenceShares, currentShares)),
  };
}
