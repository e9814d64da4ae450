import { describe, expect, it } from 'vitest';
import { categoricalDrift } from '../../../services/core/metrics/drift/categorical-drift.js';
import { CategoryCountSketch } from '../../../services/core/metrics/sketches/category-count-sketch.js';
import { createRandom } from '../../../services/simulator/random.js';

function column(seed: number, size: number, categories: string[]): (string | null)[] {
  const random = createRandom(seed);
  return Array.from({ length: size }, () => (random.chance(0.03) ? null : (categories[Math.floor(random.uniform() ** 1.5 * categories.length)] as string)));
}

const sketchOf = (values: readonly (string | null)[]): CategoryCountSketch => {
  const sketch = new CategoryCountSketch();
  for (const value of values) sketch.add(value);
  return sketch;
};

describe('CategoryCountSketch', () => {
  const reference = column(1, 3000, ['ED', 'ward', 'ICU-transfer']);
  const current = column(2, 2000, ['ED', 'ward', 'ICU-transfer', 'direct']);

  it('gives exactly the drift of the raw values', () => {
    expect(categoricalDrift(sketchOf(reference), sketchOf(current))).toEqual(categoricalDrift(reference, current));
  });

  it('merges to the counts of the union; the metrics agree to a few ulps', () => {
    const merged = sketchOf(current.slice(0, 700)).merge(sketchOf(current.slice(700)));
    const whole = sketchOf(current);
    expect(new Map([...merged.counts].sort())).toEqual(new Map([...whole.counts].sort()));
    expect([merged.totalCount, merged.missingCount]).toEqual([whole.totalCount, whole.missingCount]);
    const fromMerged = categoricalDrift(sketchOf(reference), merged);
    const fromWhole = categoricalDrift(sketchOf(reference), whole);
    for (const key of ['populationStabilityIndex', 'jensenShannonDistance', 'maxProportionDifference', 'unseenCategoryShare'] as const) {
      const a = fromMerged[key];
      const b = fromWhole[key];
      if (!a.defined || !b.defined) throw new Error(key);
      expect(Math.abs(a.value - b.value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b.value)));
    }
    expect(CategoryCountSketch.fromJSON(JSON.parse(JSON.stringify(whole))).toJSON()).toEqual(whole.toJSON());
  });
});
