/**
 * Confidence-based performance estimation (CBPE, as NannyML defines it): performance estimated
 * without labels, from scores that are calibrated probabilities of the positive class. Each row
 * contributes its score as the expected number of positive outcomes and 1 − score as the expected
 * number of negatives; every figure here is therefore an estimate, and its type says so. The
 * estimates are only as good as the calibration of the scores on the data they are applied to,
 * which is why NannyML, and Vigil (reference-estimation.ts), first calibrate them on the reference.
 *
 * Expected confusion matrix at the threshold (predicted positive when score ≥ threshold):
 * TP = Σ score and FP = Σ (1 − score) over the predicted positives, FN = Σ score and
 * TN = Σ (1 − score) over the predicted negatives. Sensitivity, specificity, PPV, NPV, F1 and
 * accuracy follow from it by their usual formulas. Where a denominator is 0 NannyML returns 0;
 * here the estimate is undefined with a reason.
 *
 * Estimated AUROC (nannyml.performance_estimation.confidence_based.metrics.estimate_roc_auc):
 * rows in decreasing order of score; after the first k rows the expected true positives are the
 * running sum of their scores and the expected false positives k minus that sum; both are rounded
 * to 5 decimals (half to even, as numpy.round) as NannyML does, divided by their totals to give
 * an expected ROC curve from (0, 0) to (1, 1), and the curve is integrated by the trapezoidal
 * rule. Tied scores contribute collinear points, so their order is immaterial. The rounding is
 * kept so that the estimate is NannyML's; it moves the curve by at most 5e-6 of a row.
 */

import { invalidScoreReason } from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';
import { sortFloat64InPlace } from '../statistics/float-sort.js';

export type EstimationMethod = 'confidence-based-performance-estimation';

/** A performance figure estimated from scores alone, never observed from labels. */
export interface Estimate<T> {
  kind: 'estimate';
  method: EstimationMethod;
  value: T;
}

export interface ExpectedConfusionMatrix {
  rows: number;
  expectedTruePositives: number;
  expectedFalsePositives: number;
  expectedTrueNegatives: number;
  expectedFalseNegatives: number;
}

export interface ConfidenceBasedEstimationReport {
  kind: 'estimate';
  method: EstimationMethod;
  threshold: number;
  rows: number;
  expectedConfusionMatrix: Outcome<Estimate<ExpectedConfusionMatrix>>;
  estimatedAuroc: Outcome<Estimate<number>>;
  estimatedSensitivity: Outcome<Estimate<number>>;
  estimatedSpecificity: Outcome<Estimate<number>>;
  estimatedPositivePredictiveValue: Outcome<Estimate<number>>;
  estimatedNegativePredictiveValue: Outcome<Estimate<number>>;
  estimatedF1: Outcome<Estimate<number>>;
  estimatedAccuracy: Outcome<Estimate<number>>;
}

const METHOD: EstimationMethod = 'confidence-based-performance-estimation';

/** A value marked as estimated by CBPE. */
export const estimate = <T>(value: T): Outcome<Estimate<T>> => defined({ kind: 'estimate', method: METHOD, value });

/** NannyML rounds the expected cumulative counts to this many decimals. */
const ROUNDING_SCALE = 1e5;

/** numpy.round(x, 5): x·10⁵ rounded to the nearest integer, halves to even, then divided by 10⁵. */
export function roundToFiveDecimals(x: number): number {
  const scaled = x * ROUNDING_SCALE;
  let rounded = Math.round(scaled);
  if (rounded - scaled === 0.5 && rounded % 2 !== 0) rounded -= 1;
  return rounded / ROUNDING_SCALE;
}

/**
 * The estimated AUROC of scores sorted ascending (see the module comment). The running sums are
 * plain left-to-right sums in the order NannyML's cumsum takes them, so that the rounding to 5
 * decimals sees the same values.
 */
function estimatedAurocOfSorted(sorted: Float64Array): Outcome<number> {
  const rows = sorted.length;
  let expectedPositives = 0;
  for (let rank = rows - 1; rank >= 0; rank -= 1) expectedPositives += sorted[rank]!;
  const positiveTotal = roundToFiveDecimals(expectedPositives);
  const negativeTotal = roundToFiveDecimals(rows - expectedPositives);
  if (positiveTotal === 0) {
    return undefinedBecause('the expected number of positives (the sum of the scores) rounds to 0');
  }
  if (negativeTotal === 0) {
    return undefinedBecause('the expected number of negatives (the sum of 1 − score) rounds to 0');
  }
  const area = new CompensatedSum();
  let runningPositives = 0;
  let previousTruePositiveRate = 0;
  let previousFalsePositiveRate = 0;
  for (let taken = 1; taken <= rows; taken += 1) {
    runningPositives += sorted[rows - taken]!;
    const truePositiveRate = roundToFiveDecimals(runningPositives) / positiveTotal;
    const falsePositiveRate = roundToFiveDecimals(taken - runningPositives) / negativeTotal;
    area.add(((falsePositiveRate - previousFalsePositiveRate) * (truePositiveRate + previousTruePositiveRate)) / 2);
    previousTruePositiveRate = truePositiveRate;
    previousFalsePositiveRate = falsePositiveRate;
  }
  return defined(area.value);
}

function ratioEstimate(numerator: number, denominator: number, reason: string): Outcome<Estimate<number>> {
  return denominator === 0 ? undefinedBecause(reason) : estimate(numerator / denominator);
}

/** A report with every estimate undefined for one reason. */
export function undefinedEstimationReport(threshold: number, rows: number, reason: string): ConfidenceBasedEstimationReport {
  const because = undefinedBecause(reason);
  return {
    kind: 'estimate',
    method: METHOD,
    threshold,
    rows,
    expectedConfusionMatrix: because,
    estimatedAuroc: because,
    estimatedSensitivity: because,
    estimatedSpecificity: because,
    estimatedPositivePredictiveValue: because,
    estimatedNegativePredictiveValue: because,
    estimatedF1: because,
    estimatedAccuracy: because,
  };
}

/**
 * CBPE from calibrated scores; a row is predicted positive when its score is ≥ the threshold.
 * `probabilities`, when given, are the rows' calibrated probabilities (NannyML's calibrated
 * y_pred_proba beside the model's own scores): they give the expected counts and the expected ROC
 * curve, while the scores still decide what is predicted positive. The probabilities must be a
 * non-decreasing function of the scores, as a calibration is, so that ordering rows by either is
 * the same; without them the scores are taken as calibrated.
 */
export function estimateConfidenceBasedPerformance(
  scores: ArrayLike<number>,
  threshold: number,
  probabilities: ArrayLike<number> = scores,
): ConfidenceBasedEstimationReport {
  if (!Number.isFinite(threshold)) throw new RangeError(`threshold must be a finite number, got ${threshold}`);
  const rows = scores.length;
  if (probabilities.length !== rows) throw new RangeError(`${rows} scores but ${probabilities.length} probabilities`);
  const invalid = rows === 0 ? 'no rows' : (invalidScoreReason(scores) ?? (probabilities === scores ? null : invalidScoreReason(probabilities)));
  if (invalid !== null) return undefinedEstimationReport(threshold, rows, invalid);

  const truePositives = new CompensatedSum();
  const falsePositives = new CompensatedSum();
  const falseNegatives = new CompensatedSum();
  const trueNegatives = new CompensatedSum();
  const sorted = new Float64Array(rows);
  for (let row = 0; row < rows; row += 1) {
    const probability = probabilities[row]!;
    sorted[row] = probability;
    if (scores[row]! >= threshold) {
      truePositives.add(probability);
      falsePositives.add(1 - probability);
    } else {
      falseNegatives.add(probability);
      trueNegatives.add(1 - probability);
    }
  }
  sortFloat64InPlace(sorted);

  return estimationReportOf(
    threshold,
    { rows, expectedTruePositives: truePositives.value, expectedFalsePositives: falsePositives.value, expectedTrueNegatives: trueNegatives.value, expectedFalseNegatives: falseNegatives.value },
    estimatedAurocOfSorted(sorted),
  );
}

/** The report from an expected confusion matrix and the estimated AUROC, from rows or a sketch. */
export function estimationReportOf(
  threshold: number,
  expected: ExpectedConfusionMatrix,
  auroc: Outcome<number>,
): ConfidenceBasedEstimationReport {
  const { rows, expectedTruePositives: tp, expectedFalsePositives: fp, expectedTrueNegatives: tn, expectedFalseNegatives: fn } = expected;
  return {
    kind: 'estimate',
    method: METHOD,
    threshold,
    rows,
    expectedConfusionMatrix: estimate(expected),
    estimatedAuroc: auroc.defined ? estimate(auroc.value) : auroc,
    estimatedSensitivity: ratioEstimate(tp, tp + fn, 'every score is 0, so no positives are expected'),
    estimatedSpecificity: ratioEstimate(tn, tn + fp, 'every score is 1, so no negatives are expected'),
    estimatedPositivePredictiveValue: ratioEstimate(
      tp,
      tp + fp,
      `no score is ≥ the threshold ${threshold}, so nothing is predicted positive`,
    ),
    estimatedNegativePredictiveValue: ratioEstimate(
      tn,
      tn + fn,
      `every score is ≥ the threshold ${threshold}, so nothing is predicted negative`,
    ),
    estimatedF1: ratioEstimate(
      tp,
      tp + (fp + fn) / 2,
      'no positives are expected and nothing is predicted positive',
    ),
    estimatedAccuracy: estimate((tp + tn) / rows),
  };
}
