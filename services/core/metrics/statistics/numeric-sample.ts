import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { sortFloat64InPlace } from './float-sort.js';

/**
 * Values of a numeric feature. `null` marks a missing value. Every other entry must be a finite
 * number: NaN and ±Infinity are rejected, never dropped or passed on, because in monitoring data
 * they are almost always an upstream defect (a division by zero, a failed parse) that should be
 * seen rather than absorbed into a drift score.
 */
export type NumericValues = ArrayLike<number | null>;

/** A validated numeric feature, ready for the drift and quality metrics. */
export interface NumericSample {
  /** The non-missing values in ascending order. */
  readonly sorted: Float64Array;
  /** Entries in the input, missing ones included. */
  readonly totalCount: number;
  /** Entries that were null. */
  readonly missingCount: number;
}

export const isNumericSample = (input: NumericValues | NumericSample): input is NumericSample =>
  'sorted' in input && input.sorted instanceof Float64Array;

/** Why an entry is not acceptable as a numeric value, or null when it is (a finite number or null). */
export function invalidNumericEntry(value: unknown, index: number, side: string): string | null {
  if (value === null) return null;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return null;
    return `${side} value at index ${index} is ${value}; non-finite values are rejected (use null for a missing value)`;
  }
  return `${side} value at index ${index} is ${value === undefined ? 'undefined' : `of type ${typeof value}`}, not a number or null`;
}

/**
 * Validates and sorts one side of a comparison. `side` names it in the reason ("reference",
 * "current"). Sorting is the dominant cost for large inputs, so a reference compared against many
 * windows should be turned into a sample once and passed as such.
 */
export function numericSample(values: NumericValues, side: string): Outcome<NumericSample> {
  const totalCount = values.length;
  const present = new Float64Array(totalCount);
  let presentCount = 0;
  for (let index = 0; index < totalCount; index += 1) {
    const value = values[index];
    if (typeof value === 'number' && Number.isFinite(value)) {
      present[presentCount] = value;
      presentCount += 1;
      continue;
    }
    const reason = invalidNumericEntry(value, index, side);
    if (reason !== null) return undefinedBecause(reason);
  }
  const sorted = presentCount === totalCount ? present : present.subarray(0, presentCount);
  sortFloat64InPlace(sorted);
  return defined({ sorted, totalCount, missingCount: totalCount - presentCount });
}

/** The sample itself when already prepared, otherwise the validated, sorted values. */
export const toNumericSample = (input: NumericValues | NumericSample, side: string): Outcome<NumericSample> =>
  isNumericSample(input) ? defined(input) : numericSample(input, side);
