import {
  estimate,
  estimationReportOf,
  roundToFiveDecimals,
  undefinedEstimationReport,
  type ConfidenceBasedEstimationReport,
} from '../estimation/confidence-based-estimation.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { DEFAULT_RESOLUTION, edgeBin, MAXIMUM_RESOLUTION, scoreBin } from './score-label-sketch.js';
import type { BoundedValue } from './value-grid-sketch.js';

/**
 * The scores of every prediction in a window, labelled or not, as counts and score sums in
 * `resolution` equal-width bins of [0, 1] (the bins of ScoreLabelSketch): what confidence-based
 * performance estimation needs (confidence-based-estimation.ts).
 *
 * - expected confusion matrix at a threshold on a bin edge: exact up to summation order;
 * - estimated AUROC: the expected ROC curve is exact at the bin boundaries (its coordinates are
 *   cumulative score sums and counts, rounded to 5 decimals as NannyML does); between two
 *   boundaries the exact curve is monotone, so the trapezoid differs from it by at most
 *   ΔTPR·ΔFPR/2, and the sum of those is the stated bound.
 * With calibrated probabilities per bin (isotonic-calibration.ts), a bin's expected positives are
 * its count times its probability, every row of the bin having that probability. The exact curve
 * is then a straight line across each bin, and the bins give it exactly but for NannyML's rounding
 * of the row-level curve's points to 5 decimals: a point inside a bin is off the line by at most
 * 0.5·10⁻⁵ rows in each coordinate, a point on a bin boundary by at most 10⁻⁵ when its sum, taken
 * in another order, rounds the other way. Moving points by at most δx and δy (in rates) changes the
 * trapezoid area by at most δy·Σ|x₊ − x₋|/2 + δx·Σ|y₊ − y₋|/2 ≤ δx + δy, so the stated bound is
 * 2·10⁻⁵·(1/expected positives + 1/expected negatives), which covers both.
 * merge(a, b) has exactly the counts of the sketch of a ∪ b.
 */
export class ScoreSketch {
  readonly counts: Float64Array;
  readonly scoreSums: Float64Array;

  constructor(readonly resolution = DEFAULT_RESOLUTION) {
    if (!Number.isInteger(resolution) || resolution < 10 || resolution > MAXIMUM_RESOLUTION || resolution % 10 !== 0) {
      throw new RangeError(`resolution must be a multiple of 10 from 10 to ${MAXIMUM_RESOLUTION}, got ${resolution}`);
    }
    this.counts = new Float64Array(resolution);
    this.scoreSums = new Float64Array(resolution);
  }

  add(score: number): void {
    if (!(score >= 0 && score <= 1)) throw new RangeError(`score ${score} is not a probability`);
    const bin = scoreBin(score, this.resolution);
    this.counts[bin]! += 1;
    this.scoreSums[bin]! += score;
  }

  get count(): number {
    return this.counts.reduce((total, count) => total + count, 0);
  }

  merge(other: ScoreSketch): ScoreSketch {
    if (other.resolution !== this.resolution) throw new RangeError(`cannot merge resolutions ${this.resolution} and ${other.resolution}`);
    const merged = new ScoreSketch(this.resolution);
    for (let bin = 0; bin < this.resolution; bin++) {
      merged.counts[bin] = this.counts[bin]! + other.counts[bin]!;
      merged.scoreSums[bin] = this.scoreSums[bin]! + other.scoreSums[bin]!;
    }
    return merged;
  }

  /** Expected positives of a bin: its score sum, or with calibrated probabilities its count times its bin's probability. */
  private expectedPositives(probabilities: Float64Array | null): Float64Array {
    if (probabilities === null) return this.scoreSums;
    if (probabilities.length !== this.resolution) throw new RangeError(`${probabilities.length} calibrated probabilities for ${this.resolution} bins`);
    return this.counts.map((count, bin) => count * probabilities[bin]!);
  }

  /**
   * The estimated AUROC with the bound on its error from binning (see the class comment), from
   * the scores or, when given, from each bin's calibrated probability.
   */
  estimatedAuroc(probabilities: Float64Array | null = null): Outcome<BoundedValue> {
    const binPositives = this.expectedPositives(probabilities);
    let expectedPositives = 0;
    let rows = 0;
    for (let bin = this.resolution - 1; bin >= 0; bin--) {
      expectedPositives += binPositives[bin]!;
      rows += this.counts[bin]!;
    }
    if (rows === 0) return undefinedBecause('no rows');
    const positiveTotal = roundToFiveDecimals(expectedPositives);
    const negativeTotal = roundToFiveDecimals(rows - expectedPositives);
    if (positiveTotal === 0) return undefinedBecause('the expected number of positives (the sum of the scores) rounds to 0');
    if (negativeTotal === 0) return undefinedBecause('the expected number of negatives (the sum of 1 − score) rounds to 0');
    let area = 0;
    let maximumError = 0;
    let runningPositives = 0;
    let taken = 0;
    let previousTruePositiveRate = 0;
    let previousFalsePositiveRate = 0;
    for (let bin = this.resolution - 1; bin >= 0; bin--) {
      if (this.counts[bin] === 0) continue;
      runningPositives += binPositives[bin]!;
      taken += this.counts[bin]!;
      const truePositiveRate = roundToFiveDecimals(runningPositives) / positiveTotal;
      const falsePositiveRate = roundToFiveDecimals(taken - runningPositives) / negativeTotal;
      const width = falsePositiveRate - previousFalsePositiveRate;
      const height = truePositiveRate - previousTruePositiveRate;
      area += (width * (truePositiveRate + previousTruePositiveRate)) / 2;
      if (probabilities === null) maximumError += Math.abs(width * height) / 2;
      previousTruePositiveRate = truePositiveRate;
      previousFalsePositiveRate = falsePositiveRate;
    }
    if (probabilities !== null) maximumError = 2e-5 * (1 / positiveTotal + 1 / negativeTotal);
    return defined({ value: area, maximumError });
  }

  /**
   * CBPE's report from the bins, from the scores or each bin's calibrated probability; the
   * confusion estimates need the threshold on a bin edge, and a bin is predicted positive by its
   * scores, whatever its calibrated probability.
   */
  confidenceBasedEstimate(threshold: number, probabilities: Float64Array | null = null): ConfidenceBasedEstimationReport {
    const rows = this.count;
    if (rows === 0) return undefinedEstimationReport(threshold, rows, 'no rows');
    const binPositives = this.expectedPositives(probabilities);
    const auroc = this.estimatedAuroc(probabilities);
    const firstPositiveBin = edgeBin(threshold, this.resolution);
    if (firstPositiveBin === null) {
      const report = undefinedEstimationReport(threshold, rows, `threshold ${threshold} is not on an edge of the sketch's ${this.resolution} bins`);
      return { ...report, estimatedAuroc: auroc.defined ? estimate(auroc.value.value) : auroc };
    }
    let positiveRows = 0;
    let positiveScores = 0;
    let negativeScores = 0;
    for (let bin = 0; bin < this.resolution; bin++) {
      if (bin >= firstPositiveBin) {
        positiveRows += this.counts[bin]!;
        positiveScores += binPositives[bin]!;
      } else negativeScores += binPositives[bin]!;
    }
    return estimationReportOf(
      threshold,
      {
        rows,
        expectedTruePositives: positiveScores,
        expectedFalsePositives: positiveRows - positiveScores,
        expectedFalseNegatives: negativeScores,
        expectedTrueNegatives: rows - positiveRows - negativeScores,
      },
      auroc.defined ? defined(auroc.value.value) : auroc,
    );
  }

  /** Only non-empty bins are listed. */
  toJSON(): SerializedScoreSketch {
    const bins: [number, number, number][] = [];
    for (let bin = 0; bin < this.resolution; bin++) if (this.counts[bin] !== 0) bins.push([bin, this.counts[bin]!, this.scoreSums[bin]!]);
    return { resolution: this.resolution, bins };
  }

  static fromJSON(serialized: SerializedScoreSketch): ScoreSketch {
    const sketch = new ScoreSketch(serialized.resolution);
    for (const [bin, count, scoreSum] of serialized.bins) {
      if (!Number.isInteger(bin) || bin < 0 || bin >= sketch.resolution) throw new RangeError(`bin ${bin} is outside the sketch`);
      sketch.counts[bin] = count;
      sketch.scoreSums[bin] = scoreSum;
    }
    return sketch;
  }
}

export interface SerializedScoreSketch {
  resolution: number;
  /** [bin, count, sum of scores] for every non-empty bin, ascending. */
  bins: [number, number, number][];
}
