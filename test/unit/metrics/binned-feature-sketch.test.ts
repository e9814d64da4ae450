import { describe, expect, it } from 'vitest';
import { numericDrift } from '../../../services/core/metrics/drift/numeric-drift.js';
import { numericFeatureQuality } from '../../../services/core/metrics/quality/feature-quality.js';
import { BinnedFeatureSketch, numericReferenceProfile, type NumericReferenceProfile } from '../../../services/core/metrics/sketches/binned-feature-sketch.js';
import { numericSample } from '../../../services/core/metrics/statistics/numeric-sample.js';
import { createRandom } from '../../../services/simulator/random.js';

function column(seed: number, size: number, mean: number, roundTo = 0): (number | null)[] {
  const random = createRandom(seed);
  return Array.from({ length: size }, () => {
    if (random.chance(0.04)) return null;
    const value = random.normal(mean, 1);
    return roundTo > 0 ? Math.round(value * roundTo) / roundTo : value;
  });
}

function profileOf(values: (number | null)[]): NumericReferenceProfile {
  const sample = numericSample(values, 'reference');
  if (!sample.defined) throw new Error(sample.reason);
  const profile = numericReferenceProfile(sample.value);
  if (!profile.defined) throw new Error(profile.reason);
  return profile.value;
}

const sketchOf = (profile: NumericReferenceProfile, values: readonly (number | null)[]): BinnedFeatureSketch => {
  const sketch = new BinnedFeatureSketch(profile);
  for (const value of values) sketch.add(value);
  return sketch;
};

describe('BinnedFeatureSketch', () => {
  it.each([
    ['continuous values', 0],
    ['values rounded to one decimal (ties on the edges)', 10],
  ])('gives the binned drift and quality metrics of the exact computation: %s', (_name, roundTo) => {
    const reference = column(1, 4000, 0, roundTo);
    const current = column(2, 3000, 0.4, roundTo);
    const profile = profileOf(reference);
    const sketch = sketchOf(profile, current);
    const exact = numericDrift(reference, current);
    const quality = numericFeatureQuality(reference, current);
    const drift = sketch.drift();
    if (!drift.defined || !exact.populationStabilityIndex.defined || !exact.jensenShannonDistance.defined || !exact.klDivergence.defined || !exact.hellingerDistance.defined) throw new Error('undefined');
    expect(drift.value.populationStabilityIndex).toBe(exact.populationStabilityIndex.value);
    expect(drift.value.jensenShannonDistance).toBe(exact.jensenShannonDistance.value);
    expect(drift.value.klDivergence).toBe(exact.klDivergence.value);
    expect(drift.value.hellingerDistance).toBe(exact.hellingerDistance.value);
    expect(sketch.missingShare()).toEqual(quality.currentMissingShare);
    expect(sketch.outOfRangeShare()).toEqual(quality.outOfRangeShare);
  });

  it('merges to exactly the sketch of the union and survives JSON', () => {
    const profile = profileOf(column(3, 2000, 0));
    const current = column(4, 2500, 0.2);
    const whole = sketchOf(profile, current);
    const merged = sketchOf(profile, current.slice(0, 999)).merge(sketchOf(profile, current.slice(999)));
    expect(merged.toJSON()).toEqual(whole.toJSON());
    expect(BinnedFeatureSketch.fromJSON(profile, JSON.parse(JSON.stringify(whole))).drift()).toEqual(whole.drift());
  });

  it('refuses non-finite values and sketches of another reference', () => {
    const profile = profileOf(column(5, 100, 0));
    const sketch = new BinnedFeatureSketch(profile);
    expect(() => sketch.add(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => sketch.merge(new BinnedFeatureSketch(profileOf(column(6, 100, 0))))).toThrow(RangeError);
    expect(sketch.drift()).toMatchObject({ defined: false });
  });
});
