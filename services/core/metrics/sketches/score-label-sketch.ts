import { clipProbability } from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';

/**
 * A mergeable summary of (score, label) pairs from which a window's performance and calibration are
 * computed without keeping the rows: counts of positives and negatives and the sum of scores in
 * `resolution` equal-width bins of [0, 1] (bin k holds k/resolution ≤ s < (k+1)/resolution, the last
 * also holds 1), plus exact sums for the Brier score and log loss.
 *
 * Exactness:
 * - counts, prevalence, and threshold metrics at a threshold t with t·resolution an integer: exact;
 * - Brier score, log loss, ECE on 10 bins (when resolution is a multiple of 10): exact up to
 *   floating-point summation order;
 * - AUROC: pairs in different bins are ordered exactly; pairs sharing a bin count as ties. The
 *   error is at most Σ_k positives_k · negatives_k / (2·P·N), which `auroc()` reports with the value.
 * merge(a, b) has the same counts as the sketch of a ∪ b, whatever the order; sums agree up to
 * summation order.
 */
export class ScoreLabelSketch {
  readonly positives: Float64Array;
  readonly negatives: Float64Array;
  readonly scoreSums: Float64Array;
  private squaredScoreSum = 0;
  private positiveScoreSum = 0;
  private logLossSum = 0;

  constructor(readonly resolution = DEFAULT_RESOLUTION) {
    if (!Number.isInteger(resolution) || resolution < 10 || resolution % 10 !== 0) throw new RangeError(`resolution must be a multiple of 10, got ${resolution}`);
    this.positives = new Float64Array(resolution);
    this.negatives = new Float64Array(resolution);
    this.scoreSums = new Float64Array(resolution);
  }

  binOf(score: number): number {
    return Math.min(this.resolution - 1, Math.floor(score * this.resolution));
  }

  /** Adds one row; the score must be a finite probability and the label 0 or 1 (validated upstream). */
  add(score: number, label: number): void {
    if (!(score >= 0 && score <= 1) || (label !== 0 && label !== 1)) throw new RangeError(`invalid row: score ${score}, label ${label}`);
    const bin = this.binOf(score);
    if (label === 1) {
      this.positives[bin]! += 1;
      this.positiveScoreSum += score;
      this.logLossSum -= Math.log(clipProbability(score));
    } else {
      this.negatives[bin]! += 1;
      this.logLossSum -= Math.log(1 - clipProbability(score));
    }
    this.scoreSums[bin]! += score;
    this.squaredScoreSum += score * score;
  }

  merge(other: ScoreLabelSketch): ScoreLabelSketch {
    if (other.resolution !== this.resolution) throw new RangeError(`cannot merge resolutions ${this.resolution} and ${other.resolution}`);
    const merged = new ScoreLabelSketch(this.resolution);
    for (let bin = 0; bin < this.resolution; bin++) {
      merged.positives[bin] = this.positives[bin]! + other.positives[bin]!;
      merged.negatives[bin] = this.negatives[bin]! + other.negatives[bin]!;
      merged.scoreSums[bin] = this.scoreSums[bin]! + other.scoreSums[bin]!;
    }
    merged.squaredScoreSum = this.squaredScoreSum + other.squaredScoreSum;
    merged.positiveScoreSum = this.positiveScoreSum + other.positiveScoreSum;
    merged.logLossSum = this.logLossSum + other.logLossSum;
    return merged;
  }

  get positiveCount(): number {
    return sum(this.positives);
  }

  get negativeCount(): number {
    return sum(this.negatives);
  }

  /** AUROC with ties inside a bin counted as half, and the largest possible error from binning. */
  auroc(): Outcome<{ value: number; maximumError: number }> {
    const positives = this.positiveCount;
    const negatives = this.negativeCount;
    if (positives === 0 || negatives === 0) return undefinedBecause(`AUROC needs both classes; the window has ${positives} positive and ${negatives} negative rows`);
    let negativesBelow = 0;
    let concordant = 0;
    let sharedBinPairs = 0;
    for (let bin = 0; bin < this.resolution; bin++) {
      const binPositives = this.positives[bin]!;
      const binNegatives = this.negatives[bin]!;
      concordant += binPositives * (negativesBelow + binNegatives / 2);
      sharedBinPairs += binPositives * binNegatives;
      negativesBelow += binNegatives;
    }
    const pairs = positives * negatives;
    return defined({ value: concordant / pairs, maximumError: sharedBinPairs / (2 * pairs) });
  }

  brierScore(): Outcome<number> {
    const rows = this.positiveCount + this.negativeCount;
    if (rows === 0) return undefinedBecause('the window is empty');
    return defined((this.squaredScoreSum - 2 * this.positiveScoreSum + this.positiveCount) / rows);
  }

  logLoss(): Outcome<number> {
    const rows = this.positiveCount + this.negativeCount;
    if (rows === 0) return undefinedBecause('the window is empty');
    return defined(this.logLossSum / rows);
  }

  /** Counts at a threshold on a bin edge (predicted positive when score ≥ threshold). */
  confusionAt(threshold: number): Outcome<{ truePositives: number; falsePositives: number; trueNegatives: number; falseNegatives: number }> {
    const edge = threshold * this.resolution;
    const firstPositiveBin = Math.round(edge);
    if (!(threshold >= 0 && threshold <= 1) || Math.abs(edge - firstPositiveBin) > 1e-9) {
      return undefinedBecause(`threshold ${threshold} is not on an edge of the sketch's ${this.resolution} bins`);
    }
    let truePositives = 0;
    let falsePositives = 0;
    for (let bin = firstPositiveBin; bin < this.resolution; bin++) {
      truePositives += this.positives[bin]!;
      falsePositives += this.negatives[bin]!;
    }
    return defined({ truePositives, falsePositives, trueNegatives: this.negativeCount - falsePositives, falseNegatives: this.positiveCount - truePositives });
  }

  /** Expected calibration error over 10 equal-width bins, as calibration.ts defines it. */
  expectedCalibrationError(): Outcome<number> {
    const rows = this.positiveCount + this.negativeCount;
    if (rows === 0) return undefinedBecause('the window is empty');
    const perCoarseBin = this.resolution / 10;
    let error = 0;
    for (let coarse = 0; coarse < 10; coarse++) {
      let count = 0;
      let positives = 0;
      let scores = 0;
      for (let bin = coarse * perCoarseBin; bin < (coarse + 1) * perCoarseBin; bin++) {
        count += this.positives[bin]! + this.negatives[bin]!;
        positives += this.positives[bin]!;
        scores += this.scoreSums[bin]!;
      }
      if (count > 0) error += (count / rows) * Math.abs(scores / count - positives / count);
    }
    return defined(error);
  }

  /** A compact JSON form: only non-empty bins are listed. */
  toJSON(): SerializedScoreLabelSketch {
    const bins: [number, number, number, number][] = [];
    for (let bin = 0; bin < this.resolution; bin++) {
      if (this.positives[bin] !== 0 || this.negatives[bin] !== 0) bins.push([bin, this.positives[bin]!, this.negatives[bin]!, this.scoreSums[bin]!]);
    }
    return { resolution: this.resolution, bins, squaredScoreSum: this.squaredScoreSum, positiveScoreSum: this.positiveScoreSum, logLossSum: this.logLossSum };
  }

  static fromJSON(serialized: SerializedScoreLabelSketch): ScoreLabelSketch {
    const sketch = new ScoreLabelSketch(serialized.resolution);
    for (const [bin, positives, negatives, scoreSum] of serialized.bins) {
      if (!Number.isInteger(bin) || bin < 0 || bin >= sketch.resolution) throw new RangeError(`bin ${bin} is outside the sketch`);
      sketch.positives[bin] = positives;
      sketch.negatives[bin] = negatives;
      sketch.scoreSums[bin] = scoreSum;
    }
    sketch.squaredScoreSum = serialized.squaredScoreSum;
    sketch.positiveScoreSum = serialized.positiveScoreSum;
    sketch.logLossSum = serialized.logLossSum;
    return sketch;
  }
}

export interface SerializedScoreLabelSketch {
  resolution: number;
  /** [bin, positives, negatives, sum of scores] for every non-empty bin, ascending. */
  bins: [number, number, number, number][];
  squaredScoreSum: number;
  positiveScoreSum: number;
  logLossSum: number;
}

/** 10,000 bins: AUROC within 0.002 of the exact value on the tests' data, 240 KB dense per sketch. */
export const DEFAULT_RESOLUTION = 10_000;

function sum(values: Float64Array): number {
  let total = 0;
  for (let index = 0; index < values.length; index++) total += values[index]!;
  return total;
}
