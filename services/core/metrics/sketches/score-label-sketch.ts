import { CALIBRATION_BIN_COUNT, calibrationReportOf, clippedLogit, type CalibrationReport } from '../calibration/calibration.js';
import {
  aurocOfTieGroups,
  DEFAULT_CONFIDENCE_LEVEL,
  logLossTerm,
  proportionEstimate,
  thresholdMetrics,
  undefinedClassificationReport,
  type BinaryClassificationReport,
} from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import type { BoundedValue } from './value-grid-sketch.js';

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
 * - average precision: the midpoint of the range the bins allow, with half its width as the bound
 *   (see averagePrecision()).
 * - DeLong interval, calibration intercept and slope: computed on the bins (every row of a bin
 *   tied, or at the bin's mean score); the tests hold them to the exact ones within 0.002.
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
    if (!Number.isInteger(resolution) || resolution < 10 || resolution > MAXIMUM_RESOLUTION || resolution % 10 !== 0) {
      throw new RangeError(`resolution must be a multiple of 10 from 10 to ${MAXIMUM_RESOLUTION}, got ${resolution}`);
    }
    this.positives = new Float64Array(resolution);
    this.negatives = new Float64Array(resolution);
    this.scoreSums = new Float64Array(resolution);
  }

  binOf(score: number): number {
    return scoreBin(score, this.resolution);
  }

  /** Adds one row; the score must be a finite probability and the label 0 or 1 (validated upstream). */
  add(score: number, label: number): void {
    if (!(score >= 0 && score <= 1) || (label !== 0 && label !== 1)) throw new RangeError(`invalid row: score ${score}, label ${label}`);
    const bin = this.binOf(score);
    if (label === 1) {
      this.positives[bin]! += 1;
      this.positiveScoreSum += score;
    } else {
      this.negatives[bin]! += 1;
    }
    this.logLossSum += logLossTerm(score, label);
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
  auroc(): Outcome<BoundedValue> {
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
    const firstPositiveBin = edgeBin(threshold, this.resolution);
    if (firstPositiveBin === null) {
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

  /**
   * Average precision, Σ over positives of the precision at their threshold, divided by P. Within
   * a bin of p positives and n negatives below TPa true positives among Aa rows, whatever the order
   * and ties of its rows, the j-th positive of the bin is credited a precision of at least
   * (TPa + j)/(Aa + n + j) and at most (TPa + p)/(Aa + p). The value is the midpoint of the summed
   * range and maximumError half its width.
   */
  averagePrecision(): Outcome<BoundedValue> {
    const positives = this.positiveCount;
    if (positives === 0) return undefinedBecause('average precision needs at least one positive label');
    let lower = 0;
    let upper = 0;
    let truePositivesAbove = 0;
    let rowsAbove = 0;
    for (let bin = this.resolution - 1; bin >= 0; bin--) {
      const binPositives = this.positives[bin]!;
      const binNegatives = this.negatives[bin]!;
      for (let j = 1; j <= binPositives; j++) lower += (truePositivesAbove + j) / (rowsAbove + binNegatives + j);
      if (binPositives > 0) upper += (binPositives * (truePositivesAbove + binPositives)) / (rowsAbove + binPositives);
      truePositivesAbove += binPositives;
      rowsAbove += binPositives + binNegatives;
    }
    return defined({ value: (lower + upper) / (2 * positives), maximumError: (upper - lower) / (2 * positives) });
  }

  /**
   * The report binaryClassificationMetrics gives on the rows, from the bins: the metrics at the
   * threshold need it on a bin edge; AUROC's DeLong interval treats the rows of a bin as tied.
   */
  performanceReport(threshold: number, confidenceLevel = DEFAULT_CONFIDENCE_LEVEL): BinaryClassificationReport {
    const positives = this.positiveCount;
    const negatives = this.negativeCount;
    const rows = positives + negatives;
    if (rows === 0) return undefinedClassificationReport(threshold, confidenceLevel, 'no rows');
    const confusion = this.confusionAt(threshold);
    const counts = confusion.defined ? defined({ rows, positives, negatives, ...confusion.value }) : confusion;
    const atThreshold = counts.defined
      ? thresholdMetrics(counts.value, threshold, confidenceLevel)
      : { prevalence: counts, sensitivity: counts, specificity: counts, positivePredictiveValue: counts, negativePredictiveValue: counts, accuracy: counts, f1: counts };
    const averagePrecision = this.averagePrecision();
    return {
      kind: 'binary-classification',
      threshold,
      confidenceLevel,
      counts,
      auroc: aurocOfTieGroups(
        (visit) => {
          let negativesBelow = 0;
          let positivesAbove = positives;
          for (let bin = 0; bin < this.resolution; bin++) {
            const binPositives = this.positives[bin]!;
            const binNegatives = this.negatives[bin]!;
            if (binPositives === 0 && binNegatives === 0) continue;
            positivesAbove -= binPositives;
            visit(binPositives, binNegatives, negativesBelow, positivesAbove);
            negativesBelow += binNegatives;
          }
        },
        positives,
        negatives,
        confidenceLevel,
      ),
      averagePrecision: averagePrecision.defined ? defined(averagePrecision.value.value) : averagePrecision,
      brierScore: this.brierScore(),
      logLoss: this.logLoss(),
      ...atThreshold,
      prevalence: proportionEstimate(positives, rows, confidenceLevel, 'no rows'),
    };
  }

  /**
   * The report calibrationMetrics gives on the rows. ECE, the reliability table and O/E come from
   * the bins' sums (exact up to summation order); the logistic fits take each bin's rows at the
   * logit of the bin's mean score.
   */
  calibrationReport(): CalibrationReport {
    const perCoarseBin = this.resolution / CALIBRATION_BIN_COUNT;
    const counts = new Float64Array(CALIBRATION_BIN_COUNT);
    const scoreSums = new Float64Array(CALIBRATION_BIN_COUNT);
    const labelSums = new Float64Array(CALIBRATION_BIN_COUNT);
    let scoreTotal = 0;
    for (let bin = 0; bin < this.resolution; bin++) {
      const coarse = Math.floor(bin / perCoarseBin);
      counts[coarse]! += this.positives[bin]! + this.negatives[bin]!;
      labelSums[coarse]! += this.positives[bin]!;
      scoreSums[coarse]! += this.scoreSums[bin]!;
      scoreTotal += this.scoreSums[bin]!;
    }
    const rows = this.positiveCount + this.negativeCount;
    return calibrationReportOf({ rows, counts, scoreSums, labelSums, scoreTotal, labelTotal: this.positiveCount }, () => {
      const logits: number[] = [];
      const positives: number[] = [];
      const negatives: number[] = [];
      for (let bin = 0; bin < this.resolution; bin++) {
        const binRows = this.positives[bin]! + this.negatives[bin]!;
        if (binRows === 0) continue;
        logits.push(clippedLogit(this.scoreSums[bin]! / binRows));
        positives.push(this.positives[bin]!);
        negatives.push(this.negatives[bin]!);
      }
      return { logits: Float64Array.from(logits), positives, negatives };
    });
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

/** The bin of a score in [0, 1] among `resolution` equal-width bins; 1 goes to the last. */
export function scoreBin(score: number, resolution: number): number {
  return Math.min(resolution - 1, Math.floor(score * resolution));
}

/** The threshold's bin edge, or null when it is not on one. */
export function edgeBin(threshold: number, resolution: number): number | null {
  const edge = threshold * resolution;
  const bin = Math.round(edge);
  return threshold >= 0 && threshold <= 1 && Math.abs(edge - bin) <= 1e-9 ? bin : null;
}

/** 10,000 bins: AUROC within 0.002 of the exact value on the tests' data, 240 KB dense per sketch. */
export const DEFAULT_RESOLUTION = 10_000;
/** The finest resolution a sketch may have: 1,000,000 bins of 8 bytes per array, which bounds what a serialised sketch can ask for. */
export const MAXIMUM_RESOLUTION = 1_000_000;

function sum(values: Float64Array): number {
  let total = 0;
  for (let index = 0; index < values.length; index++) total += values[index]!;
  return total;
}
