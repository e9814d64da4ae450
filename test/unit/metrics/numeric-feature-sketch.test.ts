import { describe, expect, it } from 'vitest';
import { numericDrift } from '../../../services/core/metrics/drift/numeric-drift.js';
import { numericFeatureQuality } from '../../../services/core/metrics/quality/feature-quality.js';
import { NumericFeatureSketch, numericReferenceProfile, type NumericReferenceProfile } from '../../../services/core/metrics/sketches/numeric-feature-sketch.js';
import { numericSample } from '../../../services/core/metrics/statistics/numeric-sample.js';
import { createRandom } from '../../../services/simulator/random.js';

type Draw = (random: ReturnType<typeof createRandom>) => number;

function column(seed: number, size: number, draw: Draw, missingShare = 0.04): (number | null)[] {
  const random = createRandom(seed);
  return Array.from({ length: size }, () => (random.chance(missingShare) ? null : draw(random)));
}

const normal = (mean: number, sd = 1, roundTo = 0): Draw => (random) => {
  const value = random.normal(mean, sd);
  return roundTo > 0 ? Math.round(value * roundTo) / roundTo : value;
};

function profileOf(values: (number | null)[]): NumericReferenceProfile {
  const sample = numericSample(values, 'reference');
  if (!sample.defined) throw new Error(sample.reason);
  return numericReferenceProfile(sample.value);
}

const sketchOf = (profile: NumericReferenceProfile, values: readonly (number | null)[]): NumericFeatureSketch => {
  const sketch = new NumericFeatureSketch(profile);
  for (const value of values) sketch.add(value);
  return sketch;
};

const valueOf = <T>(outcome: { defined: true; value: T } | { defined: false; reason: string }): T => {
  if (!outcome.defined) throw new Error(outcome.reason);
  return outcome.value;
};

describe('NumericFeatureSketch', () => {
  it.each([
    ['continuous values', 0],
    ['values rounded to one decimal (ties on the edges)', 10],
  ])('gives the binned drift and quality metrics of the exact computation: %s', (_name, roundTo) => {
    const reference = column(1, 4000, normal(0, 1, roundTo));
    const current = column(2, 3000, normal(0.4, 1, roundTo));
    const sketch = sketchOf(profileOf(reference), current);
    const exact = numericDrift(reference, current);
    const quality = numericFeatureQuality(reference, current);
    const { drift } = sketch.drift();
    expect(drift.populationStabilityIndex).toEqual(exact.populationStabilityIndex);
    expect(drift.jensenShannonDistance).toEqual(exact.jensenShannonDistance);
    expect(drift.klDivergence).toEqual(exact.klDivergence);
    expect(drift.hellingerDistance).toEqual(exact.hellingerDistance);
    expect(drift.referenceCount).toBe(exact.referenceCount);
    expect(drift.currentCount).toBe(exact.currentCount);
    expect(sketch.missingShare()).toEqual(quality.currentMissingShare);
    expect(sketch.outOfRangeShare()).toEqual(quality.outOfRangeShare);
  });

  it.each<[string, Draw, Draw]>([
    ['a small shift', normal(0), normal(0.1)],
    ['no drift', normal(5, 2), normal(5, 2)],
    ['a heavy tail', (random) => Math.exp(random.normal(0, 1)), (random) => Math.exp(random.normal(0.05, 1.1))],
    ['a shift far outside the reference range', normal(0), normal(8)],
    ['a discrete feature (one decimal)', normal(37, 0.8, 10), normal(37.2, 0.8, 10)],
    ['a small window', normal(0), normal(0.3)],
  ])('gives KS and Wasserstein within their stated bounds, and within 0.001 and 0.002·sd: %s', (name, drawReference, drawCurrent) => {
    const reference = column(3, 50_000, drawReference);
    const current = column(4, name === 'a small window' ? 60 : 20_000, drawCurrent);
    const exact = numericDrift(reference, current);
    const { drift, maximumErrors } = sketchOf(profileOf(reference), current).drift();
    const bounds = valueOf(maximumErrors);
    const ks = valueOf(drift.kolmogorovSmirnov);
    const exactKs = valueOf(exact.kolmogorovSmirnov);
    const ksError = Math.abs(ks.statistic - exactKs.statistic);
    expect(ksError).toBeLessThanOrEqual(bounds.kolmogorovSmirnov + 1e-12);
    expect(ksError).toBeLessThanOrEqual(0.001);
    expect(ks.effectiveSampleSize).toBe(exactKs.effectiveSampleSize);
    const wassersteinError = Math.abs(valueOf(drift.wasserstein) - valueOf(exact.wasserstein));
    expect(wassersteinError).toBeLessThanOrEqual(bounds.wasserstein * (1 + 1e-9) + 1e-12);
    const normalizedError = Math.abs(valueOf(drift.normalizedWasserstein) - valueOf(exact.normalizedWasserstein));
    expect(normalizedError).toBeLessThanOrEqual(bounds.normalizedWasserstein * (1 + 1e-9) + 1e-12);
    expect(normalizedError).toBeLessThanOrEqual(0.002);
  });

  it('is exact for a feature whose values fall one per grid cell', () => {
    const reference = column(5, 5000, (random) => Math.floor(random.uniform() * 6));
    const current = column(6, 3000, (random) => Math.floor(random.uniform() * 7));
    const exact = numericDrift(reference, current);
    const { drift, maximumErrors } = sketchOf(profileOf(reference), current).drift();
    expect(valueOf(maximumErrors)).toEqual({ kolmogorovSmirnov: 0, wasserstein: 0, normalizedWasserstein: 0 });
    expect(valueOf(drift.kolmogorovSmirnov).pValue).toBeCloseTo(valueOf(exact.kolmogorovSmirnov).pValue, 12);
    expect(valueOf(drift.wasserstein)).toBeCloseTo(valueOf(exact.wasserstein), 12);
  });

  it('merges to exactly the sketch of the union, in any split, and survives JSON', () => {
    const profile = profileOf(column(7, 2000, normal(0)));
    const current = column(8, 2500, normal(0.2));
    const whole = sketchOf(profile, current);
    for (const split of [1, 999, 2499]) {
      const merged = sketchOf(profile, current.slice(0, split)).merge(sketchOf(profile, current.slice(split)));
      expect(merged.counts).toEqual(whole.counts);
      expect([merged.missingCount, merged.outOfRangeCount]).toEqual([whole.missingCount, whole.outOfRangeCount]);
      const mergedCells = merged.values.toJSON().cells;
      const wholeCells = whole.values.toJSON().cells;
      expect(mergedCells.map(([index, count, , minimum, maximum]) => [index, count, minimum, maximum])).toEqual(
        wholeCells.map(([index, count, , minimum, maximum]) => [index, count, minimum, maximum]),
      );
      mergedCells.forEach(([, , sum], cell) => expect(sum).toBeCloseTo(wholeCells[cell]![2], 9));
    }
    const copy = NumericFeatureSketch.fromJSON(profile, JSON.parse(JSON.stringify(whole)));
    expect(copy.drift()).toEqual(whole.drift());
  });

  it('refuses non-finite values and sketches of another reference, and says why an empty window has no drift', () => {
    const profile = profileOf(column(9, 100, normal(0)));
    const sketch = new NumericFeatureSketch(profile);
    expect(() => sketch.add(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => sketch.add(Number.NaN)).toThrow(RangeError);
    expect(() => sketch.merge(new NumericFeatureSketch(profileOf(column(10, 100, normal(0)))))).toThrow(RangeError);
    sketch.add(null);
    const { drift, maximumErrors } = sketch.drift();
    expect(drift.kolmogorovSmirnov).toEqual({ defined: false, reason: 'current has no non-missing values' });
    expect(maximumErrors.defined).toBe(false);
    expect(sketch.missingShare()).toEqual({ defined: true, value: 1 });
  });
});

describe('NumericFeatureSketch of a reference without values', () => {
  it('says so for drift and range, like the exact computation, and still measures missingness', () => {
    const reference = [null, null, null];
    const current = [1, null, 2];
    const sketch = sketchOf(profileOf(reference), current);
    const exact = numericDrift(reference, current);
    const quality = numericFeatureQuality(reference, current);
    expect(sketch.drift().drift.kolmogorovSmirnov).toEqual(exact.kolmogorovSmirnov);
    expect(sketch.drift().drift.populationStabilityIndex).toEqual(exact.populationStabilityIndex);
    expect(sketch.outOfRangeShare()).toEqual(quality.outOfRangeShare);
    expect(sketch.missingShare()).toEqual(quality.currentMissingShare);
  });
});
