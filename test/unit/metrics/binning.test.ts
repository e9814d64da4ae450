import { describe, expect, it } from 'vitest';

import {
  binCounts,
  countAtMost,
  countBelow,
  flooredProportions,
  PROPORTION_FLOOR,
  proportions,
  quantileOfSorted,
  referenceBinEdges,
} from '../../../services/core/metrics/binning.js';
import { oracle } from './oracle-fixture.js';

describe('reference binning', () => {
  it('uses numpy’s linear quantile, interpolating from the upper neighbour past the midpoint', () => {
    const sorted = Float64Array.of(1, 2, 4, 8);
    // h = 3·0.1 = 0.3: 1 + 0.3·(2 − 1)
    expect(quantileOfSorted(sorted, 0.1)).toBe(1 + 0.30000000000000004 * 1);
    // h = 3·0.9 = 2.7: 8 − (1 − 0.7)·(8 − 4), evaluated from the upper value as numpy does
    const position = 3 * 0.9;
    expect(quantileOfSorted(sorted, 0.9)).toBe(8 - 4 * (1 - (position - 2)));
    expect(quantileOfSorted(sorted, 0)).toBe(1);
    expect(quantileOfSorted(sorted, 1)).toBe(8);
    expect(quantileOfSorted(Float64Array.of(5), 0.5)).toBe(5);
  });

  it('takes the deciles and collapses duplicate edges of tied data', () => {
    const values = Float64Array.from({ length: 100 }, (_, index) => (index < 70 ? 0 : index));
    const edges = referenceBinEdges(values);
    // q10 … q60 are 0 (kept once); q70 interpolates between the last 0 and 70, q80 and q90 above it
    expect(edges[0]).toBe(0);
    expect(edges[1]).toBeCloseTo(21, 10);
    expect(edges.length).toBe(4);
    expect(Array.from(edges).every((edge, index) => index === 0 || edge > edges[index - 1]!)).toBe(true);
  });

  it('keeps one edge at the value of a constant reference', () => {
    expect(Array.from(referenceBinEdges(Float64Array.of(4, 4, 4)))).toEqual([4]);
  });

  it('closes bins on the right: a value equal to an edge falls in the bin below', () => {
    const edges = Float64Array.of(1, 2);
    expect(Array.from(binCounts(Float64Array.of(0.5, 1, 1, 1.5, 2, 2.5), edges))).toEqual([3, 2, 1]);
    expect(countAtMost(Float64Array.of(1, 1, 2), 1)).toBe(2);
    expect(countBelow(Float64Array.of(1, 1, 2), 1)).toBe(0);
  });

  it('floors shares below 1e-4 and renormalises them to sum to 1', () => {
    expect(PROPORTION_FLOOR).toBe(oracle.proportionFloor);
    const floored = flooredProportions([0, 5, 5]);
    const total = 1e-4 + 0.5 + 0.5;
    expect(Array.from(floored)).toEqual([1e-4 / total, 0.5 / total, 0.5 / total]);
    // a share that is small but not empty is floored as well
    const small = flooredProportions([1, 99_999]);
    expect(small[0]).toBe(1e-4 / (1e-4 + 0.99999));
    // nothing below the floor: unchanged
    expect(Array.from(flooredProportions([1, 3]))).toEqual([0.25, 0.75]);
    expect(Array.from(proportions([0, 2, 6]))).toEqual([0, 0.25, 0.75]);
  });

  it('rejects an empty reference, an empty count vector and a bin count below 2', () => {
    expect(() => referenceBinEdges(new Float64Array(0))).toThrow(RangeError);
    expect(() => referenceBinEdges(Float64Array.of(1, 2), 1)).toThrow(RangeError);
    expect(() => proportions([0, 0])).toThrow(RangeError);
    expect(() => quantileOfSorted(new Float64Array(0), 0.5)).toThrow(RangeError);
  });
});
