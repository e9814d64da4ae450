import { binCounts, flooredProportions, proportions, referenceBinEdges } from '../binning.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { hellingerDistance, jensenShannonDistance, klDivergence, populationStabilityIndex } from '../statistics/divergences.js';
import type { NumericSample } from '../statistics/numeric-sample.js';

/**
 * The reference side of a numeric feature, fitted once: its bin edges (binning.ts), bin counts,
 * range and missing share. Windows are then summarised as BinnedFeatureSketch on the same edges.
 */
export interface NumericReferenceProfile {
  innerEdges: Float64Array;
  counts: Float64Array;
  minimum: number;
  maximum: number;
  totalCount: number;
  missingCount: number;
}

export function numericReferenceProfile(reference: NumericSample, binCount?: number): Outcome<NumericReferenceProfile> {
  const sorted = reference.sorted;
  if (sorted.length === 0) return undefinedBecause('reference has no non-missing values');
  const innerEdges = referenceBinEdges(sorted, binCount);
  return defined({
    innerEdges,
    counts: binCounts(sorted, innerEdges),
    minimum: sorted[0]!,
    maximum: sorted[sorted.length - 1]!,
    totalCount: reference.totalCount,
    missingCount: reference.missingCount,
  });
}

/**
 * A window of one numeric feature as counts on the reference bins, plus missing and out-of-range
 * counts. Everything binned is exact: PSI, Jensen–Shannon, KL and Hellinger equal numericDrift's on
 * the same rows, and missing and out-of-range shares equal the quality metrics. Counts only, so
 * merge(a, b) is exactly the sketch of a ∪ b. KS and Wasserstein need the values themselves and
 * are not derived from this sketch.
 */
export class BinnedFeatureSketch {
  readonly counts: Float64Array;
  missingCount = 0;
  outOfRangeCount = 0;

  constructor(readonly profile: NumericReferenceProfile) {
    this.counts = new Float64Array(profile.innerEdges.length + 1);
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
    if (value < this.profile.minimum || value > this.profile.maximum) this.outOfRangeCount += 1;
  }

  merge(other: BinnedFeatureSketch): BinnedFeatureSketch {
    if (other.profile !== this.profile) throw new RangeError('sketches of different reference profiles cannot be merged');
    const merged = new BinnedFeatureSketch(this.profile);
    this.counts.forEach((count, bin) => (merged.counts[bin] = count + other.counts[bin]!));
    merged.missingCount = this.missingCount + other.missingCount;
    merged.outOfRangeCount = this.outOfRangeCount + other.outOfRangeCount;
    return merged;
  }

  get valueCount(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  drift(): Outcome<{ populationStabilityIndex: number; jensenShannonDistance: number; klDivergence: number; hellingerDistance: number }> {
    if (this.valueCount === 0) return undefinedBecause('current has no non-missing values');
    const referenceFloored = flooredProportions(this.profile.counts);
    const currentFloored = flooredProportions(this.counts);
    const referenceShares = proportions(this.profile.counts);
    const currentShares = proportions(this.counts);
    return defined({
      populationStabilityIndex: populationStabilityIndex(referenceFloored, currentFloored),
      jensenShannonDistance: jensenShannonDistance(referenceShares, currentShares),
      klDivergence: klDivergence(currentFloored, referenceFloored),
      hellingerDistance: hellingerDistance(referenceShares, currentShares),
    });
  }

  missingShare(): Outcome<number> {
    const total = this.valueCount + this.missingCount;
    return total === 0 ? undefinedBecause('the window is empty') : defined(this.missingCount / total);
  }

  outOfRangeShare(): Outcome<number> {
    return this.valueCount === 0 ? undefinedBecause('current has no non-missing values') : defined(this.outOfRangeCount / this.valueCount);
  }

  toJSON(): { counts: number[]; missingCount: number; outOfRangeCount: number } {
    return { counts: [...this.counts], missingCount: this.missingCount, outOfRangeCount: this.outOfRangeCount };
  }

  static fromJSON(profile: NumericReferenceProfile, serialized: { counts: number[]; missingCount: number; outOfRangeCount: number }): BinnedFeatureSketch {
    const sketch = new BinnedFeatureSketch(profile);
    if (serialized.counts.length !== sketch.counts.length) throw new RangeError(`expected ${sketch.counts.length} bins, got ${serialized.counts.length}`);
    sketch.counts.set(serialized.counts);
    sketch.missingCount = serialized.missingCount;
    sketch.outOfRangeCount = serialized.outOfRangeCount;
    return sketch;
  }
}
