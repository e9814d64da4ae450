import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';
import { stableOrder } from './stable-order.js';

/**
 * NannyML's sampling error of ROC AUC (nannyml/sampling_error/binary_classification.py) and the
 * band it draws and alerts with around an estimate (nannyml/performance_estimation/
 * confidence_based/metrics.py: estimate ± SAMPLING_ERROR_RANGE · sampling error, SAMPLING_ERROR_RANGE
 * = 3, clipped to AUROC's range [0, 1]).
 *
 * auroc_sampling_error_components, on the labelled reference rows and their raw scores:
 * - when more than half of the labels are positive, labels become 1 − label and scores 1 − score;
 * - rows are sorted by score ascending, each taking its position (0-based) as its rank;
 * - `np.unique(label · rank)[1:]` are the ranks of the positives, except one at rank 0, whose
 *   rank 0 merges with the negatives' zeros and is dropped with them; the i-th of them (from 0)
 *   less i is the number of rows below it that are not counted positives: for a positive its
 *   negatives below, plus one for every positive but the first when the lowest row is positive;
 * - divided by the number of negatives, their population standard deviation (np.std, ddof 0) is
 *   the component `standardDeviation`, and positives / rows the component `positiveFraction`.
 * The sampling error of a chunk of n rows is then standardDeviation / √(n · positiveFraction).
 *
 * Tied scores: NannyML sorts with np.argsort's default quicksort, which leaves the order of ties
 * unspecified, and the count of negatives below a positive depends on it. Here ties keep the
 * order of the reference rows (np.argsort(kind='stable')), so the components are deterministic;
 * without ties they are NannyML's. Sums are compensated where numpy's are pairwise, so the
 * components agree with NannyML's to about 1e-15 relative.
 */

/** The two numbers NannyML fits on the reference for ROC AUC's sampling error. */
export interface AurocSamplingErrorComponents {
  standardDeviation: number;
  positiveFraction: number;
}

/** NannyML's SAMPLING_ERROR_RANGE: the band is this many sampling errors either side. */
export const SAMPLING_ERROR_RANGE = 3;

/** The components from labelled rows (labels 0 or 1), in the order given; undefined where NannyML's would be NaN. */
export function aurocSamplingErrorComponents(scores: ArrayLike<number>, labels: ArrayLike<number>): Outcome<AurocSamplingErrorComponents> {
  const rows = scores.length;
  if (labels.length !== rows) throw new RangeError(`${rows} scores but ${labels.length} labels`);
  if (rows === 0) return undefinedBecause('no labelled reference row');
  let positives = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row];
    if (label !== 0 && label !== 1) throw new RangeError(`label ${row} is ${String(label)}; expected 0 or 1`);
    positives += label;
  }
  const flipped = positives / rows > 0.5;
  const ordered = Float64Array.from({ length: rows }, (_, row) => (flipped ? 1 - scores[row]! : scores[row]!));
  const isPositive = (row: number): boolean => (flipped ? labels[row] === 0 : labels[row] === 1);
  // Ties keep the reference's order.
  const order = stableOrder(ordered);
  const positiveCount = flipped ? rows - positives : positives;
  const negativeCount = rows - positiveCount;
  if (positiveCount === 0) return undefinedBecause('the reference has labels of one class only');
  const components: number[] = [];
  for (let rank = 1; rank < rows; rank++) {
    if (isPositive(order[rank]!)) components.push((rank - components.length) / negativeCount);
  }
  if (components.length === 0) return undefinedBecause('the reference has only one positive label (of the less frequent class), at its lowest score');
  const mean = sumOf(components) / components.length;
  const squares = new CompensatedSum();
  for (const component of components) squares.add((component - mean) ** 2);
  return defined({ standardDeviation: Math.sqrt(squares.value / components.length), positiveFraction: positiveCount / rows });
}

function sumOf(values: readonly number[]): number {
  const total = new CompensatedSum();
  for (const value of values) total.add(value);
  return total.value;
}

/** NannyML's auroc_sampling_error for a chunk of `rows` rows. */
export function aurocSamplingError(components: AurocSamplingErrorComponents, rows: number): number {
  return components.standardDeviation / Math.sqrt(rows * components.positiveFraction);
}

export interface SamplingErrorBand {
  samplingError: number;
  lower: number;
  upper: number;
}

/** estimate ± 3 sampling errors, clipped to [0, 1], as NannyML's confidence boundaries of ROC AUC. */
export function samplingErrorBand(estimate: number, samplingError: number): SamplingErrorBand {
  return {
    samplingError,
    lower: Math.max(0, estimate - SAMPLING_ERROR_RANGE * samplingError),
    upper: Math.min(1, estimate + SAMPLING_ERROR_RANGE * samplingError),
  };
}
