import {
  estimate,
  estimationReportOf,
  roundToFiveDecimals,
  undefinedEstimationReport,
  type ConfidenceBasedEstimationReport,
} from '../estimation/confidence-based-estimation.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { DEFAULT_RESOLUTION, edgeBin, scoreBin } from './score-label-sketch.js';
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
 * merge(a, b) has exactly the counts of the sketch of a ∪ b.
 */
export class ScoreSketch {
  readonly counts: Float64Array;
  readonly scoreSums: Float64Array;

  constructor(readonly resolution = DEFAULT_RESOLUTION) {
    if (!Number.isInteger(resolution) || resolution < 10 || resolution % 10 !== 0) throw new RangeError(`resolution must be a multiple of 10, got ${resolution}`);
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

  /** The estimated AUROC with the bound on its error from binning (see the class comment). */
  estimatedAuroc(): Outcome<BoundedValue> {
    let expectedPositives = 0;
    let rows = 0;
    for (let bin = this.resolution - 1; bin >= 0; bin--) {
      expectedPositives += this.scoreSums[bin]!;
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
      runningPositives += this.scoreSums[bin]!;
      taken += this.counts[bin]!;
      const truePositiveRate = roundToFiveDecimals(runningPositives) / positiveTotal;
      const falsePositiveRate = roundToFiveDecimals(taken - runningPositives) / negativeTotal;
      const width = falsePositiveRate - previousFalsePositiveRate;
      const height = truePositiveRate - previousTruePositiveRate;
      area += (width * (truePositiveRate + previousTruePositiveRate)) / 2;
      maximumError += Math.abs(width * height) / 2;
      previousTruePositiveRate = truePositiveRate;
      previousFalsePositiveRate = falsePositiveRate;
    }
    return defined({ value: area, maximumError });
  }

  /** CBPE's report from the bins; the confusion estimates need the threshold on a bin edge. */
  confidenceBasedEstimate(threshold: number): ConfidenceBasedEstimationReport {
    const rows = this.count;
    if (rows === 0) return undefinedEstimationReport(threshold, rows, 'no rows');
    const auroc = this.estimatedAuroc();
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
        positiveScores += this.scoreSums[bin]!;
      } else negativeScores += this.scoreSums[bin]!;
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
