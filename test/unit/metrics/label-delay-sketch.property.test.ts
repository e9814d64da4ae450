import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKET_BITS, delayBucket, LabelDelaySketch, type SerializedLabelDelaySketch } from '../../../services/core/metrics/sketches/label-delay-sketch.js';

const sketchOf = (delays: readonly number[]): LabelDelaySketch => {
  const sketch = new LabelDelaySketch();
  for (const delay of delays) sketch.add(delay);
  return sketch;
};

/** numpy.quantile's default (linear, type 7) on the delays, in seconds. */
function exactQuantileSeconds(delays: readonly number[], probability: number): number {
  const sorted = [...delays].sort((left, right) => left - right);
  const position = (sorted.length - 1) * probability;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const fraction = position - lower;
  return ((1 - fraction) * sorted[lower]! + fraction * sorted[upper]!) / 1000;
}

const DAY_MS = 86_400_000;
// Delays as they come: mostly seconds to weeks, some zero, some negative (a clock ahead of another),
// clumps of one value, and the extremes of whole milliseconds.
const delay = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 * DAY_MS }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 1000, 3_600_000, DAY_MS, -1, -60_000) },
  { weight: 1, arbitrary: fc.integer({ min: -DAY_MS, max: 0 }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER) },
);
const delays = fc.array(delay, { minLength: 1, maxLength: 400 });
const probability = fc.oneof(fc.constantFrom(0, 0.5, 0.9, 1), fc.double({ min: 0, max: 1, noNaN: true }));

describe('LabelDelaySketch', () => {
  it('holds the exact type-7 quantile within its stated bound, a bound of at most 1/256 of the delays around it', () => {
    fc.assert(
      fc.property(delays, probability, (values, p) => {
        const estimate = sketchOf(values).quantileSeconds(p)!;
        const exact = exactQuantileSeconds(values, p);
        const rounding = 1e-12 * Math.max(1, Math.abs(exact));
        expect(Math.abs(estimate.value - exact)).toBeLessThanOrEqual(estimate.maximumError + rounding);
        // A bucket spans at most 1/256 of its lower end, so the interval is as narrow relative to the delays.
        const largest = Math.max(...values.map(Math.abs)) / 1000;
        expect(estimate.maximumError).toBeLessThanOrEqual(largest / 2 ** (BUCKET_BITS - 12) + rounding);
      }),
      { numRuns: 500 },
    );
  });

  it('is exact where every bucket holds one distinct delay', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 1_000, 60_000, 3_600_000, 7_200_000, DAY_MS, -5_000), { minLength: 1, maxLength: 200 }), probability, (values, p) => {
        const estimate = sketchOf(values).quantileSeconds(p)!;
        expect(estimate.maximumError).toBe(0);
        expect(estimate.value).toBeCloseTo(exactQuantileSeconds(values, p), 9);
      }),
    );
  });

  it('merges into the sketch of the union, whatever the split', () => {
    fc.assert(
      fc.property(delays, delays, (left, right) => {
        expect(sketchOf(left).merge(sketchOf(right)).toJSON()).toEqual(sketchOf([...left, ...right]).toJSON());
      }),
    );
  });

  it('orders buckets as delays, so that a bucket of a larger delay never comes first', () => {
    fc.assert(
      fc.property(delay, delay, (left, right) => {
        if (left <= right) expect(delayBucket(left)).toBeLessThanOrEqual(delayBucket(right));
      }),
    );
  });

  it('reads back what it wrote', () => {
    fc.assert(
      fc.property(delays, (values) => {
        const sketch = sketchOf(values);
        expect(LabelDelaySketch.fromJSON(JSON.parse(JSON.stringify(sketch)) as SerializedLabelDelaySketch).toJSON()).toEqual(sketch.toJSON());
      }),
    );
  });

  it('refuses with a RangeError anything no sketch wrote', () => {
    const hostile = fc.oneof(
      fc.anything(),
      fc.record({ buckets: fc.array(fc.array(fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER), fc.string()), { maxLength: 5 }), { maxLength: 50 }) }),
      // Well-formed entries that lie: counts of zero, ranges outside their bucket, buckets out of order.
      fc.record({ buckets: fc.array(fc.tuple(fc.integer(), fc.integer({ min: -2, max: 3 }), fc.integer(), fc.integer()), { maxLength: 20 }) }),
    );
    fc.assert(
      fc.property(hostile, (input) => {
        let revived: LabelDelaySketch | undefined;
        try {
          revived = LabelDelaySketch.fromJSON(input as SerializedLabelDelaySketch);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
          return;
        }
        // What was accepted is a sketch some delays could have made: writing it again gives the input.
        expect(revived.toJSON()).toEqual(input);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the largest sketch there can be, every bucket of whole milliseconds on both sides of zero', () => {
    const keys = new Map<number, number>();
    for (let exponent = 0; exponent < 53; exponent++) {
      for (let step = 0; step < 256; step++) {
        const delayMs = Math.ceil(2 ** exponent * (1 + step / 256));
        if (Number.isSafeInteger(delayMs)) keys.set(delayBucket(delayMs), delayMs);
      }
    }
    keys.set(delayBucket(0), 0);
    for (const [, delayMs] of [...keys]) if (delayMs > 0) keys.set(delayBucket(-delayMs), -delayMs);
    const largest: SerializedLabelDelaySketch = { buckets: [...keys].sort(([left], [right]) => left - right).map(([key, delayMs]) => [key, 1, delayMs, delayMs]) };
    expect(largest.buckets.length).toBeGreaterThan(20_000);
    expect(LabelDelaySketch.fromJSON(largest).bucketCount).toBe(largest.buckets.length);
  });

  it('has no quantile without delays and refuses a probability outside [0, 1]', () => {
    expect(new LabelDelaySketch().quantileSeconds(0.5)).toBeNull();
    expect(() => sketchOf([1]).quantileSeconds(1.5)).toThrow(RangeError);
    expect(() => new LabelDelaySketch().add(0.5)).toThrow(RangeError);
  });
});
