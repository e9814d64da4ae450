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
  const current = column(2, 2000, ['ED', 'ward', 'ICU-transfer', 'direct', 'transfer', 'clinic', 'hospice', 'outpatient', 'theatre', 'maternity', 'psychiatry', 'rehabilitation']);

  it('gives exactly the drift of the raw values', () => {
    expect(categoricalDrift(sketchOf(reference), sketchOf(current))).toEqual(categoricalDrift(reference, current));
  });

  it('merges to the counts and the metrics of the union, whatever order categories come in', () => {
    const merged = sketchOf(current.slice(0, 700)).merge(sketchOf(current.slice(700)));
    const whole = sketchOf(current);
    const reversed = sketchOf([...current].reverse());
    expect(new Map([...merged.counts].sort())).toEqual(new Map([...whole.counts].sort()));
    expect([merged.totalCount, merged.missingCount]).toEqual([whole.totalCount, whole.missingCount]);
    expect([...reversed.counts.keys()]).not.toEqual([...whole.counts.keys()]);
    const fromWhole = categoricalDrift(sketchOf(reference), whole);
    expect(categoricalDrift(sketchOf(reference), merged)).toEqual(fromWhole);
    expect(categoricalDrift(sketchOf(reference), reversed)).toEqual(fromWhole);
    expect(CategoryCountSketch.fromJSON(JSON.parse(JSON.stringify(whole))).toJSON()).toEqual(whole.toJSON());
  });
});
