import { describe, expect, it } from 'vitest';
import { empiricalCdfDistances } from '../../../services/core/metrics/drift/numeric-drift.js';
import { cdfDistancesOfGrids, ValueGridSketch, type ValueGrid } from '../../../services/core/metrics/sketches/value-grid-sketch.js';
import { createRandom } from '../../../services/simulator/random.js';

const sketchOf = (grid: ValueGrid, values: ArrayLike<number>): ValueGridSketch => {
  const sketch = new ValueGridSketch(grid);
  for (let index = 0; index < values.length; index++) sketch.add(values[index]!);
  return sketch;
};

describe('cdfDistancesOfGrids', () => {
  it('holds the exact KS statistic and Wasserstein distance within its stated bounds on 2,000 random cases', () => {
    const random = createRandom(42);
    let largestKsShare = 0;
    for (let trial = 0; trial < 2000; trial++) {
      // Coarse grids, few distinct values, lopsided sizes and clumps: the cases where bounds are tight.
      const width = 10 ** (random.uniform() * 3 - 2);
      const grid = { origin: random.normal(0, 1), width };
      const draw = (size: number, centre: number, spread: number, rounding: number): Float64Array =>
        Float64Array.from({ length: size }, () => {
          const value = random.normal(centre, spread);
          return rounding > 0 ? Math.round(value * rounding) / rounding : value;
        }).sort();
      const rounding = random.chance(0.3) ? [1, 4, 10][Math.floor(random.uniform() * 3)]! : 0;
      const a = draw(1 + Math.floor(random.uniform() * 300), 0, 1, rounding);
      const b = draw(1 + Math.floor(random.uniform() * 300), random.normal(0, 0.5), 0.2 + random.uniform() * 2, rounding);
      const exact = empiricalCdfDistances(a, b);
      const sketched = cdfDistancesOfGrids(sketchOf(grid, a), sketchOf(grid, b));
      if (!sketched.defined) throw new Error(sketched.reason);
      const { supremum, integral } = sketched.value;
      expect(Math.abs(supremum.value - exact.supremum), `trial ${trial} KS`).toBeLessThanOrEqual(supremum.maximumError + 1e-12);
      expect(Math.abs(integral.value - exact.integral), `trial ${trial} Wasserstein`).toBeLessThanOrEqual(integral.maximumError * (1 + 1e-9) + 1e-12);
      expect(integral.maximumError, `trial ${trial} Wasserstein bound ≤ grid width`).toBeLessThanOrEqual(width * (1 + 1e-9));
      largestKsShare = Math.max(largestKsShare, supremum.maximumError);
    }
    expect(largestKsShare).toBeGreaterThan(0);
  });

  it('is exact when every cell holds one distinct value', () => {
    const grid = { origin: 0, width: 0.5 };
    const a = Float64Array.from([0, 1, 1, 2, 3]);
    const b = Float64Array.from([1, 2, 2, 4]);
    const exact = empiricalCdfDistances(a, b);
    const sketched = cdfDistancesOfGrids(sketchOf(grid, a), sketchOf(grid, b));
    if (!sketched.defined) throw new Error(sketched.reason);
    expect(sketched.value.supremum.maximumError).toBe(0);
    expect(sketched.value.integral.maximumError).toBe(0);
    expect(sketched.value.supremum.value).toBeCloseTo(exact.supremum, 14);
    expect(sketched.value.integral.value).toBeCloseTo(exact.integral, 14);
  });

  it('keeps values far from the origin in their own cells, and refuses what it cannot place', () => {
    const sketch = sketchOf({ origin: 0, width: 1e-6 }, [1e300, -1e300, 5]);
    expect(sketch.cellCount).toBe(3);
    expect(() => sketch.add(Number.NaN)).toThrow(RangeError);
    expect(() => new ValueGridSketch({ origin: 0, width: 0 })).toThrow(RangeError);
    expect(cdfDistancesOfGrids(sketch, new ValueGridSketch(sketch.grid))).toMatchObject({ defined: false });
    expect(() => sketch.merge(new ValueGridSketch({ origin: 1, width: 1e-6 }))).toThrow(RangeError);
    expect(ValueGridSketch.fromJSON(JSON.parse(JSON.stringify(sketch))).toJSON()).toEqual(sketch.toJSON());
  });
});
