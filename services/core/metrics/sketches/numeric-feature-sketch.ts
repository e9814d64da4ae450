import { binCounts, DEFAULT_BIN_COUNT, quantileOfSorted, referenceBinEdges } from '../binning.js';
import { binnedDivergences, kolmogorovSmirnovTest, populationStandardDeviation, undefinedNumericDrift, type NumericDrift } from '../drift/numeric-drift.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import type { NumericSample } from '../statistics/numeric-sample.js';
import { cdfDistancesOfGrids, ValueGridSketch, type SerializedValueGridSketch } from './value-grid-sketch.js';

/**
 * Grid cells per reference standard deviation. At 200 the Kolmogorov–Smirnov statistic is within
 * 0.001 and the normalised Wasserstein distance within 0.002 of the exact values on the tests'
 * data (continuous, heavy-tailed and rounded features); each result carries its own bound.
 */
export const DEFAULT_CELLS_PER_STANDARD_DEVIATION = 200;

/**
 * The reference side of a numeric feature, fitted once from the reference sample: its bin edges
 * (binning.ts) and bin counts, range, missing count and standard deviation, and the reference
 * itself on the value grid that windows are sketched on.
 */
export interface NumericReferenceProfile {
  innerEdges: Float64Array;
  counts: Float64Array;
  minimum: number;
  maximum: number;
  totalCount: number;
  missingCount: number;
  /** Population standard deviation (ddof = 0), exact. */
  standardDeviation: number;
  values: ValueGridSketch;
}

export interface NumericProfileOptions {
  binCount?: number;
  cellsPerStandardDeviation?: number;
}

/** The profile of a reference sample; one without values gives a profile whose drift is undefined. */
export function numericReferenceProfile(reference: NumericSample, options: NumericProfileOptions = {}): NumericReferenceProfile {
  const sorted = reference.sorted;
  if (sorted.length === 0) {
    return {
      innerEdges: new Float64Array(0),
      counts: new Float64Array(1),
      minimum: Infinity,
      maximum: -Infinity,
      totalCount: reference.totalCount,
      missingCount: reference.missingCount,
      standardDeviation: 0,
      values: new ValueGridSketch({ origin: 0, width: 1 }),
    };
  }
  const cellsPerStandardDeviation = options.cellsPerStandardDeviation ?? DEFAULT_CELLS_PER_STANDARD_DEVIATION;
  const innerEdges = referenceBinEdges(sorted, options.binCount ?? DEFAULT_BIN_COUNT);
  const standardDeviation = populationStandardDeviation(sorted);
  const origin = quantileOfSorted(sorted, 0.5);
  // A constant reference has no spread to scale by: a grid fine enough to keep distinct values
  // of its magnitude apart takes its place.
  const width = standardDeviation > 0 ? standardDeviation / cellsPerStandardDeviation : Math.max(Math.abs(origin), 1) * 1e-9;
  const values = new ValueGridSketch({ origin, width });
  for (const value of sorted) values.add(value);
  return {
    innerEdges,
    counts: binCounts(sorted, innerEdges),
    minimum: sorted[0]!,
    maximum: sorted[sorted.length - 1]!,
    totalCount: reference.totalCount,
    missingCount: reference.missingCount,
    standardDeviation,
    values,
  };
}

/** Bounds on the drift metrics a NumericFeatureSketch cannot give exactly. */
export interface SketchedDriftErrors {
  kolmogorovSmirnov: number;
  wasserstein: number;
  normalizedWasserstein: number;
}

/**
 * A window of one numeric feature: counts on the reference bins, the values on the reference's
 * value grid, and missing and out-of-range counts.
 *
 * - PSI, Jensen–Shannon, KL, Hellinger, missing share and out-of-range share come from counts and
 *   are exactly numericDrift's and numericFeatureQuality's on the same rows.
 * - The Kolmogorov–Smirnov statistic and the Wasserstein distances come from the value grids
 *   (value-grid-sketch.ts) with a bound on their error, returned alongside; the KS p-value is the
 *   asymptotic one of the sketched statistic.
 * merge(a, b) has exactly the counts of the sketch of a ∪ b.
 */
export class NumericFeatureSketch {
  readonly counts: Float64Array;
  missingCount = 0;
  outOfRangeCount = 0;
  values: ValueGridSketch;

  constructor(readonly profile: NumericReferenceProfile) {
    this.counts = new Float64Array(profile.innerEdges.length + 1);
    this.values = new ValueGridSketch(profile.values.grid);
  }

  /** Adds one value; null is missing. Bins are right-closed, as binning.ts defines them. */
  add(value: number | null): void {
    if (value === null) {
      this.missingCount += 1;
      return;
    }
    if (!Number.isFinite(value)) throw new RangeError(`feature value ${value} is not finite (use null for missing)`);
    const edges = this.profile.innerEdges;
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (value <= edges[middle]!) high = middle;
      else low = middle + 1;
    }
    this.counts[low]! += 1;
    this.values.add(value);
    if (value < this.profile.minimum || value > this.profile.maximum) this.outOfRangeCount += 1;
  }

  merge(other: NumericFeatureSketch): NumericFeatureSketch {
    if (other.profile !== this.profile) throw new RangeError('sketches of different reference profiles cannot be merged');
    const merged = new NumericFeatureSketch(this.profile);
    this.counts.forEach((count, bin) => (merged.counts[bin] = count + other.counts[bin]!));
    merged.missingCount = this.missingCount + other.missingCount;
    merged.outOfRangeCount = this.outOfRangeCount + other.outOfRangeCount;
    merged.values = this.values.merge(other.values);
    return merged;
  }

  get valueCount(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  /** Every drift metric of numericDrift, with the bounds on the ones that are not exact. */
  drift(): { drift: NumericDrift; maximumErrors: Outcome<SketchedDriftErrors> } {
    const referenceCount = this.profile.totalCount - this.profile.missingCount;
    const currentCount = this.valueCount;
    const distances = cdfDistancesOfGrids(this.profile.values, this.values);
    if (!distances.defined) {
      const reason = referenceCount === 0 ? 'reference has no non-missing values' : 'current has no non-missing values';
      return { drift: { ...undefinedNumericDrift(reason, referenceCount, currentCount), binEdges: this.profile.innerEdges }, maximumErrors: undefinedBecause(reason) };
    }
    const { supremum, integral } = distances.value;
    const spread = this.profile.standardDeviation;
    return {
      drift: {
        referenceCount,
        currentCount,
        binEdges: this.profile.innerEdges,
        kolmogorovSmirnov: kolmogorovSmirnovTest(supremum.value, referenceCount, currentCount),
        wasserstein: defined(integral.value),
        normalizedWasserstein: spread > 0 ? defined(integral.value / spread) : undefinedBecause('reference standard deviation is 0 (constant reference)'),
        ...binnedDivergences(this.profile.counts, this.counts),
      },
      maximumErrors: defined({
        kolmogorovSmirnov: supremum.maximumError,
        wasserstein: integral.maximumError,
        normalizedWasserstein: spread > 0 ? integral.maximumError / spread : 0,
      }),
    };
  }

  missingShare(): Outcome<number> {
    const total = this.valueCount + this.missingCount;
    return total === 0 ? undefinedBecause('the window is empty') : defined(this.missingCount / total);
  }

  outOfRangeShare(): Outcome<number> {
    if (this.profile.totalCount === this.profile.missingCount) return undefinedBecause('reference has no non-missing values');
    return this.valueCount === 0 ? undefinedBecause('current has no non-missing values') : defined(this.outOfRangeCount / this.valueCount);
  }

  toJSON(): SerializedNumericFeatureSketch {
    return { counts: [...this.counts], missingCount: this.missingCount, outOfRangeCount: this.outOfRangeCount, values: this.values.toJSON() };
  }

  static fromJSON(profile: NumericReferenceProfile, serialized: SerializedNumericFeatureSketch): NumericFeatureSketch {
    const sketch = new NumericFeatureSketch(profile);
    if (serialized.counts.length !== sketch.counts.length) throw new RangeError(`expected ${sketch.counts.length} bins, got ${serialized.counts.length}`);
    sketch.counts.set(serialized.counts);
    sketch.missingCount = serialized.missingCount;
    sketch.outOfRangeCount = serialized.outOfRangeCount;
    const values = ValueGridSketch.fromJSON(serialized.values);
    if (values.grid.origin !== profile.values.grid.origin || values.grid.width !== profile.values.grid.width) throw new RangeError('the sketch was made on another grid');
    sketch.values = values;
    return sketch;
  }
}

export interface SerializedNumericFeatureSketch {
  counts: number[];
  missingCount: number;
  outOfRangeCount: number;
  values: SerializedValueGridSketch;
}
