import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { scoreBin } from '../sketches/score-label-sketch.js';

/**
 * Isotonic calibration of scores, as NannyML's IsotonicCalibrator fits it on the reference
 * (sklearn.isotonic.IsotonicRegression(increasing=True, out_of_bounds='clip')), on the score bins
 * of ScoreSketch instead of the raw scores, since a window holds nothing finer.
 *
 * The regression's x is the bin (bins have equal width, so the bin index and the bin centre give
 * the same fit), its weight the labelled reference rows in the bin and its y their share of
 * positives: exactly what sklearn computes from the rows with x = bin, since it first averages the
 * labels of equal x weighted by their rows (_make_unique). Pool-adjacent-violators then gives the
 * weighted least-squares non-decreasing fit. As sklearn, only the first and last bin of every
 * constant step are kept (X_thresholds_, y_thresholds_); a bin between two of them that held no
 * reference row is interpolated linearly between them, and a bin below the first or above the last
 * takes the nearest end's value (the clip). The calibrated probability is then constant within a
 * bin, so a window's sketch and the exact report over its rows apply the same function.
 */

export interface ScoreCalibration {
  /** Bins of [0, 1] the calibration is defined on; ScoreSketch's resolution. */
  resolution: number;
  /** [bin, calibrated probability] at the first and last bin of each step, bins strictly ascending, probabilities non-decreasing. */
  points: readonly (readonly [number, number])[];
}

/**
 * Weighted isotonic (non-decreasing) least-squares regression of `values` on their order, by
 * pool-adjacent-violators as sklearn's _inplace_contiguous_isotonic_regression runs it: a block is
 * merged with the following ones while they decrease, then the walk steps back one block. Each
 * pooled value is Σ w·y / Σ w of its block, so the weighted mean is kept. Unlike sklearn, equal
 * neighbours are not pooled: pooling them gives the same value up to a rounding, and leaving them
 * returns a non-decreasing input bit for bit. Weights must be > 0.
 */
export function isotonicRegression(values: ArrayLike<number>, weights: ArrayLike<number>): Float64Array {
  const length = values.length;
  if (weights.length !== length) throw new RangeError(`${length} values but ${weights.length} weights`);
  const fitted = Float64Array.from(values);
  const pooledWeights = Float64Array.from(weights);
  for (let index = 0; index < length; index++) {
    if (!Number.isFinite(fitted[index]!)) throw new RangeError(`value ${index} is ${fitted[index]}; expected a finite number`);
    if (!(pooledWeights[index]! > 0 && Number.isFinite(pooledWeights[index]!))) throw new RangeError(`weight ${index} is ${pooledWeights[index]}; expected a finite number > 0`);
  }
  // For an active block [i..j]: target[i] = j and target[j] = i; fitted[i] and pooledWeights[i] hold its mean and weight.
  const target = Int32Array.from({ length }, (_, index) => index);
  let block = 0;
  while (block < length) {
    let next = target[block]! + 1;
    if (next === length) break;
    if (fitted[block]! <= fitted[next]!) {
      block = next;
      continue;
    }
    let weightedSum = pooledWeights[block]! * fitted[block]!;
    let weightSum = pooledWeights[block]!;
    // The pooled mean lies between the means pooled; kept there when the products round (or underflow).
    let lowest = fitted[block]!;
    let highest = fitted[block]!;
    for (;;) {
      const previous = fitted[next]!;
      weightedSum += pooledWeights[next]! * previous;
      weightSum += pooledWeights[next]!;
      lowest = Math.min(lowest, previous);
      highest = Math.max(highest, previous);
      next = target[next]! + 1;
      if (next === length || previous <= fitted[next]!) {
        fitted[block] = Math.min(highest, Math.max(lowest, weightedSum / weightSum));
        pooledWeights[block] = weightSum;
        target[block] = next - 1;
        target[next - 1] = block;
        if (block > 0) block = target[block - 1]!;
        break;
      }
    }
  }
  for (let start = 0; start < length; ) {
    const end = target[start]! + 1;
    fitted.fill(fitted[start]!, start + 1, end);
    start = end;
  }
  return fitted;
}

/**
 * The calibration fitted from per-bin counts of labelled reference rows: `positives[bin]` of
 * `rows[bin]` were positive. Bins without rows carry no weight. Undefined without any row.
 */
export function fitBinnedCalibration(positives: ArrayLike<number>, rows: ArrayLike<number>): Outcome<ScoreCalibration> {
  const resolution = rows.length;
  if (positives.length !== resolution) throw new RangeError(`${positives.length} bins of positives but ${resolution} of rows`);
  const bins: number[] = [];
  const shares: number[] = [];
  const weights: number[] = [];
  for (let bin = 0; bin < resolution; bin++) {
    const count = rows[bin]!;
    if (count === 0) continue;
    const positive = positives[bin]!;
    if (!(positive >= 0 && positive <= count)) throw new RangeError(`bin ${bin} has ${positive} positives of ${count} rows`);
    bins.push(bin);
    shares.push(positive / count);
    weights.push(count);
  }
  if (bins.length === 0) return undefinedBecause('no labelled reference row to calibrate on');
  const fitted = isotonicRegression(shares, weights);
  // sklearn's _build_y: of each run of equal values only its first and last point are needed.
  const points: [number, number][] = [];
  for (let index = 0; index < bins.length; index++) {
    const value = fitted[index]!;
    const inner = index > 0 && index < bins.length - 1;
    if (!inner || value !== fitted[index - 1]! || value !== fitted[index + 1]!) points.push([bins[index]!, value]);
  }
  return defined({ resolution, points });
}

/** The calibration fitted on labelled rows (labels 0 or 1), their scores binned as ScoreSketch bins them. */
export function fitScoreCalibration(scores: ArrayLike<number>, labels: ArrayLike<number>, resolution: number): Outcome<ScoreCalibration> {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  const positives = new Float64Array(resolution);
  const rows = new Float64Array(resolution);
  for (let row = 0; row < scores.length; row++) {
    const bin = scoreBin(scores[row]!, resolution);
    rows[bin]! += 1;
    positives[bin]! += labels[row]!;
  }
  return fitBinnedCalibration(positives, rows);
}

/**
 * The calibrated probability of every bin: at a kept point its value, between two points the
 * straight line through them (scipy's interp1d, as sklearn's predict), outside them the nearest end.
 */
export function calibratedBinProbabilities(calibration: ScoreCalibration): Float64Array {
  const { resolution, points } = calibration;
  const probabilities = new Float64Array(resolution);
  const [firstBin, firstValue] = points[0]!;
  const [lastBin, lastValue] = points[points.length - 1]!;
  probabilities.fill(firstValue, 0, firstBin + 1);
  probabilities.fill(lastValue, lastBin, resolution);
  for (let index = 1; index < points.length; index++) {
    const [lowBin, lowValue] = points[index - 1]!;
    const [highBin, highValue] = points[index]!;
    const slope = (highValue - lowValue) / (highBin - lowBin);
    for (let bin = lowBin + 1; bin < highBin; bin++) probabilities[bin] = slope * (bin - lowBin) + lowValue;
    probabilities[highBin] = highValue;
  }
  return probabilities;
}

/** Each score's calibrated probability: that of its bin. */
export function calibrateScores(scores: ArrayLike<number>, probabilities: Float64Array): Float64Array {
  const resolution = probabilities.length;
  return Float64Array.from({ length: scores.length }, (_, row) => probabilities[scoreBin(scores[row]!, resolution)]!);
}
