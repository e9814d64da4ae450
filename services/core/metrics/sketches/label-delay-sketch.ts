import type { BoundedValue } from './value-grid-sketch.js';

/**
 * Label delays (observed_at of an outcome minus occurred_at of its prediction, whole milliseconds)
 * as counts, minima and maxima in logarithmic buckets: the mergeable form from which a window's
 * delay quantiles are taken with a stated bound, so that windows evaluated in parts, or made of
 * smaller windows, report them without holding one number per outcome.
 *
 * A delay's bucket is the top BUCKET_BITS bits of its magnitude as an IEEE double (sign bit,
 * exponent and the first 8 bits of the mantissa), negated for a negative delay (an outcome stamped
 * before its prediction), so buckets order as delays do. Every bucket spans at most 1/256 of its
 * lower end: the key is found with integer operations on the double's bits, the same in ClickHouse
 * and here, with no logarithm to round differently. The buckets are bounded by the range of
 * delays, not by their number: a century of milliseconds spans 43 binades, at most 11,009
 * buckets on each side of zero.
 *
 * Quantiles interpolate linearly between order statistics (Hyndman and Fan's type 7, numpy's
 * default). An order statistic lies within its bucket's [minimum, maximum], and is that minimum
 * (maximum) when it is the bucket's first (last) delay; the quantile lies in the interval those
 * bounds allow, and is given as its midpoint with half its width as the maximum error. A quantile
 * whose order statistics sit in buckets of one distinct delay, or at their edges, is exact.
 *
 * Counts, minima and maxima of merge(a, b) equal those of the sketch of a ∪ b exactly.
 */
export class LabelDelaySketch {
  private readonly buckets = new Map<number, Bucket>();

  /** Adds one delay in whole milliseconds. */
  add(delayMs: number): void {
    if (!Number.isSafeInteger(delayMs)) throw new RangeError(`delay ${delayMs} is not a whole number of milliseconds`);
    this.addBucket(delayBucket(delayMs), { count: 1, minimum: delayMs, maximum: delayMs });
  }

  private addBucket(key: number, bucket: Readonly<Bucket>): void {
    const existing = this.buckets.get(key);
    if (existing === undefined) {
      this.buckets.set(key, { ...bucket });
      return;
    }
    existing.count += bucket.count;
    if (bucket.minimum < existing.minimum) existing.minimum = bucket.minimum;
    if (bucket.maximum > existing.maximum) existing.maximum = bucket.maximum;
  }

  get count(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.count;
    return total;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }

  merge(other: LabelDelaySketch): LabelDelaySketch {
    const merged = new LabelDelaySketch();
    for (const source of [this, other]) for (const [key, bucket] of source.buckets) merged.addBucket(key, bucket);
    return merged;
  }

  /**
   * The type-7 quantile at probability p of the delays, in seconds, with its maximum error; null
   * when there is no delay.
   */
  quantileSeconds(probability: number): BoundedValue | null {
    if (!(probability >= 0 && probability <= 1)) throw new RangeError(`probability must lie in [0, 1], got ${probability}`);
    const total = this.count;
    if (total === 0) return null;
    const position = (total - 1) * probability;
    const lowerRank = Math.floor(position);
    const fraction = position - lowerRank;
    const upperRank = Math.min(lowerRank + 1, total - 1);
    const ordered = this.orderedBuckets();
    const lower = enclosureOfRank(ordered, lowerRank);
    const upper = enclosureOfRank(ordered, upperRank);
    // In milliseconds, then to seconds: division by 1000 keeps the order of the bounds.
    const low = (1 - fraction) * lower.low + fraction * upper.low;
    const high = (1 - fraction) * lower.high + fraction * upper.high;
    if (low === high) return { value: low / 1000, maximumError: 0 };
    return { value: (low + (high - low) / 2) / 1000, maximumError: (high - low) / 2000 };
  }

  /** Non-empty buckets in ascending order of delay. */
  private orderedBuckets(): [number, Bucket][] {
    return [...this.buckets].sort(([left], [right]) => left - right);
  }

  toJSON(): SerializedLabelDelaySketch {
    return { buckets: this.orderedBuckets().map(([key, bucket]) => [key, bucket.count, bucket.minimum, bucket.maximum]) };
  }

  /**
   * Revives a serialised sketch, refusing one that no sketch could have written: buckets out of
   * order, counts that are not positive whole numbers, or a minimum or maximum outside its bucket.
   */
  static fromJSON(serialized: SerializedLabelDelaySketch): LabelDelaySketch {
    if (serialized === null || typeof serialized !== 'object' || !Array.isArray(serialized.buckets)) throw new RangeError('label delays must be an object with a buckets array');
    const sketch = new LabelDelaySketch();
    let previous = -Infinity;
    for (const entry of serialized.buckets as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 4) throw new RangeError('a label delay bucket must be [key, count, minimum, maximum]');
      const [key, count, minimum, maximum] = entry as unknown[];
      if (!isWhole(key) || (key as number) <= previous) throw new RangeError(`label delay bucket ${String(key)} is not an integer after ${previous}`);
      if (!isWhole(count) || (count as number) < 1) throw new RangeError(`label delay bucket ${String(key)} has count ${String(count)}`);
      if (!isWhole(minimum) || !isWhole(maximum) || (minimum as number) > (maximum as number)) throw new RangeError(`label delay bucket ${String(key)} has a malformed range`);
      if (delayBucket(minimum as number) !== key || delayBucket(maximum as number) !== key) throw new RangeError(`label delay bucket ${String(key)} holds delays of another bucket`);
      if (count === 1 && minimum !== maximum) throw new RangeError(`label delay bucket ${String(key)} holds one delay with two values`);
      previous = key as number;
      sketch.buckets.set(key as number, { count: count as number, minimum: minimum as number, maximum: maximum as number });
    }
    return sketch;
  }
}

/** A safe integer written as one: -0 is refused, so that what is read writes back as it was. */
const isWhole = (value: unknown): boolean => Number.isSafeInteger(value) && !Object.is(value, -0);

interface Bucket {
  count: number;
  minimum: number;
  maximum: number;
}

export interface SerializedLabelDelaySketch {
  /** [bucket key, count, minimum, maximum] per non-empty bucket, ascending; delays in milliseconds. */
  buckets: [number, number, number, number][];
}

/** Bits of a delay's magnitude, as a double, that make its bucket: sign, exponent and 8 mantissa bits. */
export const BUCKET_BITS = 20;

const scratch = new DataView(new ArrayBuffer(8));

/**
 * The bucket of a delay in whole milliseconds: the top BUCKET_BITS bits of |delay| as a double,
 * and −(that) − 1 for a negative delay, so that keys order as delays do.
 */
export function delayBucket(delayMs: number): number {
  scratch.setFloat64(0, Math.abs(delayMs));
  const key = scratch.getUint32(0) >>> (32 - BUCKET_BITS);
  return delayMs < 0 ? -key - 1 : key;
}

/** Where the order statistic of the given rank (from 0) lies: its bucket's range, or an edge of it. */
function enclosureOfRank(ordered: readonly [number, Bucket][], rank: number): { low: number; high: number } {
  let before = 0;
  for (const [, bucket] of ordered) {
    if (rank < before + bucket.count) {
      if (rank === before) return { low: bucket.minimum, high: bucket.minimum };
      if (rank === before + bucket.count - 1) return { low: bucket.maximum, high: bucket.maximum };
      return { low: bucket.minimum, high: bucket.maximum };
    }
    before += bucket.count;
  }
  throw new RangeError(`rank ${rank} is beyond the ${before} delays`);
}
