import { describe, expect, it } from 'vitest';

import { sortFloat64InPlace } from '../../../services/core/metrics/statistics/float-sort.js';

/** Deterministic generator so a failure reproduces. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function expectSameAsComparisonSort(values: Float64Array): void {
  const expected = values.slice().sort();
  sortFloat64InPlace(values);
  for (let index = 0; index < values.length; index += 1) {
    if (!Object.is(values[index], expected[index])) {
      throw new Error(`index ${index}: ${values[index]} vs ${expected[index]}`);
    }
  }
}

describe('sortFloat64InPlace', () => {
  const random = generator(42);
  const distributions: [string, () => number][] = [
    ['uniform with negatives', () => random() * 200 - 100],
    ['few distinct integers', () => Math.floor(random() * 7) - 3],
    ['many orders of magnitude, both signs', () => (random() < 0.5 ? -1 : 1) * Math.exp(random() * 1400 - 700)],
    ['only positive', () => random()],
    ['only negative', () => -random() * 1e6],
  ];
  for (const [label, draw] of distributions) {
    for (const length of [0, 1, 17, 4095, 4096, 50_000]) {
      it(`matches the comparison sort: ${label}, ${length} values`, () => {
        expectSameAsComparisonSort(Float64Array.from({ length }, draw));
      });
    }
  }

  it('orders signed zeros, subnormals and the extremes like the comparison sort', () => {
    const special = [0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2.2e-308, -2.2e-308];
    const values = Float64Array.from({ length: 10_000 }, (_, index) => special[index % special.length]! * (index % 3 === 0 ? 1 : 0.5));
    expectSameAsComparisonSort(values);
  });

  it('sorts a view that starts inside a larger buffer without touching the rest', () => {
    const buffer = Float64Array.from({ length: 20_000 }, () => random() - 0.5);
    const before = buffer.slice();
    const view = buffer.subarray(5_000, 15_000);
    expectSameAsComparisonSort(view);
    expect(Array.from(buffer.subarray(0, 5_000))).toEqual(Array.from(before.subarray(0, 5_000)));
    expect(Array.from(buffer.subarray(15_000))).toEqual(Array.from(before.subarray(15_000)));
  });
});
