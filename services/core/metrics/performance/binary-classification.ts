/**
 * Performance of a binary classifier from its scores (probability of the positive class) and the
 * observed labels (0 or 1).
 *
 * Definitions, each matching the scikit-learn function named:
 *   - AUROC: the Mann–Whitney probability P(score of a positive > score of a negative) with ties
 *     counted ½, which is the trapezoidal area under the ROC curve (roc_auc_score).
 *   - Average precision: Σ_k (R_k − R_{k−1})·P_k over the distinct scores in decreasing order,
 *     tied scores forming one step (average_precision_score).
 *   - Brier score: mean (score − label)² (brier_score_loss).
 *   - Log loss: mean −[y·ln p + (1 − y)·ln(1 − p)] with p the score clipped to [ε, 1 − ε],
 *     ε = 2⁻⁵² the float64 machine epsilon, so that a confident error costs ~36.04 nats rather
 *     than infinity (log_loss, which clips to np.finfo(y_pred.dtype).eps by default since
 *     scikit-learn 1.2 and always since 1.5, when its `eps` parameter was removed).
 *   - At the decision threshold a row is predicted positive when score ≥ threshold: a score equal
 *     to the threshold counts as positive. Sensitivity TP/(TP+FN), specificity TN/(TN+FP),
 *     PPV TP/(TP+FP), NPV TN/(TN+FN), accuracy (TP+TN)/n, prevalence (TP+FN)/n and
 *     F1 2TP/(2TP+FP+FN).
 *
 * Intervals: every proportion carries a Wilson score interval (statsmodels proportion_confint,
 * method "wilson"). F1 has none: it is not a proportion of independent trials. AUROC carries
 * DeLong's interval AUROC ± z·SE on the AUROC scale, truncated to [0, 1], with SE from the
 * midrank form of DeLong's variance (Sun & Xu 2014): after one sort per class every structural
 * component follows from counts of the other class below and tied with each distinct score, so
 * the whole computation is O(n log n) and needs no per-row component arrays. When every
 * component equals the AUROC (complete separation, or a single distinct score) the variance is 0
 * and the interval is the point itself, as the formula gives.
 *
 * Invalid data (a score that is not a finite number in [0, 1], a label other than 0 or 1, no rows)
 * makes every metric undefined with a reason naming the first offending row; nothing is dropped.
 * Metrics with a zero denominator or a missing class are undefined with a reason of their own.
 *
 * Inputs and reports carry the task as `kind`, so that regression and multi-class inputs and
 * reports can join them as a discriminated union.
 */

import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';
import { sortFloat64InPlace } from '../statistics/float-sort.js';
import { normalQuantile } from '../statistics/normal.js';

export const DEFAULT_CONFIDENCE_LEVEL = 0.95;

/** Scores are clipped to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP] for log loss, as scikit-learn clips float64 scores. */
export const LOG_LOSS_CLIP = Number.EPSILON;

export interface BinaryClassificationInput {
  kind: 'binary-classification';
  /** Probability of the positive class per row, each a finite number in [0, 1]. */
  scores: ArrayLike<number>;
  /** Observed outcome per row: 1 positive, 0 negative. */
  labels: ArrayLike<number>;
  /** A row is predicted positive when its score is ≥ this value. */
  threshold: number;
  /** Coverage of every interval; 0.95 unless given. */
  confidenceLevel?: number;
}

export interface ConfidenceInterval {
  lower: number;
  upper: number;
  level: number;
  method: 'wilson' | 'delong';
}

export interface ProportionEstimate {
  value: number;
  numerator: number;
  denominator: number;
  interval: ConfidenceInterval;
}

export interface AurocEstimate {
  value: number;
  /** √ of DeLong's variance; undefined with fewer than two rows of either class. */
  standardError: Outcome<number>;
  interval: Outcome<ConfidenceInterval>;
}

export interface ConfusionCounts {
  rows: number;
  positives: number;
  negatives: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface BinaryClassificationReport {
  kind: 'binary-classification';
  threshold: number;
  confidenceLevel: number;
  counts: Outcome<ConfusionCounts>;
  prevalence: Outcome<ProportionEstimate>;
  auroc: Outcome<AurocEstimate>;
  averagePrecision: Outcome<number>;
  brierScore: Outcome<number>;
  logLoss: Outcome<number>;
  sensitivity: Outcome<ProportionEstimate>;
  specificity: Outcome<ProportionEstimate>;
  positivePredictiveValue: Outcome<ProportionEstimate>;
  negativePredictiveValue: Outcome<ProportionEstimate>;
  accuracy: Outcome<ProportionEstimate>;
  f1: Outcome<number>;
}

/** Why a score cannot be used, or null when it is a finite probability. */
function invalidScore(score: unknown, row: number): string | null {
  if (typeof score === 'number' && score >= 0 && score <= 1) return null;
  return `score at row ${row} is ${String(score)}; scores must be finite probabilities in [0, 1]`;
}

/** The reason the first unusable score makes the scores unusable, or null when all are usable. */
export function invalidScoreReason(scores: ArrayLike<number>): string | null {
  const length = scores.length;
  for (let row = 0; row < length; row += 1) {
    const reason = invalidScore(scores[row], row);
    if (reason !== null) return reason;
  }
  return null;
}

/** The reason the first label other than 0 or 1 makes the labels unusable, or null. */
export function invalidLabelReason(labels: ArrayLike<number>): string | null {
  const length = labels.length;
  for (let row = 0; row < length; row += 1) {
    const label = labels[row];
    if (label !== 0 && label !== 1) return `label at row ${row} is ${String(label)}; labels must be 0 or 1`;
  }
  return null;
}

/**
 * Why scores and labels cannot be scored together, or null: equal lengths are a caller's
 * contract and throw; empty input and invalid entries are data and are reported.
 */
export function invalidBinaryDataReason(scores: ArrayLike<number>, labels: ArrayLike<number>): string | null {
  if (scores.length !== labels.length) {
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  }
  if (scores.length === 0) return 'no rows';
  return invalidScoreReason(scores) ?? invalidLabelReason(labels);
}

export function assertConfidenceLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
}

/** The two-sided critical value z with P(|Z| ≤ z) = level. */
export function criticalValue(level: number): number {
  return -normalQuantile((1 - level) / 2);
}

/**
 * Wilson score interval for `successes` out of `trials`, written as
 * (2x + z² ∓ z·√(z² + 4x(n − x)/n)) / (2(n + z²)): the same interval as statsmodels, in a form
 * whose bounds at x = 0 and x = n are exactly 0 and 1 rather than within rounding of them.
 */
export function wilsonInterval(successes: number, trials: number, level: number): ConfidenceInterval {
  const z = criticalValue(level);
  const zSquared = z * z;
  const centre = 2 * successes + zSquared;
  const spread = z * Math.sqrt(zSquared + (4 * successes * (trials - successes)) / trials);
  const denominator = 2 * (trials + zSquared);
  return {
    lower: successes === 0 ? 0 : Math.max(0, (centre - spread) / denominator),
    upper: successes === trials ? 1 : Math.min(1, (centre + spread) / denominator),
    level,
    method: 'wilson',
  };
}

export function proportionEstimate(
  numerator: number,
  denominator: number,
  level: number,
  zeroDenominatorReason: string,
): Outcome<ProportionEstimate> {
  if (denominator === 0) return undefinedBecause(zeroDenominatorReason);
  return defined({
    value: numerator / denominator,
    numerator,
    denominator,
    interval: wilsonInterval(numerator, denominator, level),
  });
}


/** Scores split by label, each class sorted ascending. */
export interface ScoresByClass {
  positives: Float64Array;
  negatives: Float64Array;
}

/** One allocation of n doubles: positives fill it from the front, negatives from the back. */
export function sortScoresByClass(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  positiveCount: number,
): ScoresByClass {
  const length = scores.length;
  const buffer = new Float64Array(length);
  let nextPositive = 0;
  let nextNegative = length;
  for (let row = 0; row < length; row += 1) {
    if (labels[row] === 1) {
      buffer[nextPositive] = scores[row]!;
      nextPositive += 1;
    } else {
      nextNegative -= 1;
      buffer[nextNegative] = scores[row]!;
    }
  }
  const positives = buffer.subarray(0, positiveCount);
  const negatives = buffer.subarray(positiveCount);
  sortFloat64InPlace(positives);
  sortFloat64InPlace(negatives);
  return { positives, negatives };
}

/**
 * Visits the distinct scores in increasing order with how many positives and negatives equal it,
 * how many negatives lie strictly below it and how many positives strictly above.
 */
function visitDistinctScores(
  { positives, negatives }: ScoresByClass,
  visit: (positiveTies: number, negativeTies: number, negativesBelow: number, positivesAbove: number) => void,
): void {
  const positiveCount = positives.length;
  const negativeCount = negatives.length;
  let positiveIndex = 0;
  let negativeIndex = 0;
  while (positiveIndex < positiveCount || negativeIndex < negativeCount) {
    const value =
      negativeIndex === negativeCount ||
      (positiveIndex < positiveCount && positives[positiveIndex]! <= negatives[negativeIndex]!)
        ? positives[positiveIndex]!
        : negatives[negativeIndex]!;
    const positiveStart = positiveIndex;
    const negativeStart = negativeIndex;
    while (positiveIndex < positiveCount && positives[positiveIndex] === value) positiveIndex += 1;
    while (negativeIndex < negativeCount && negatives[negativeIndex] === value) negativeIndex += 1;
    visit(positiveIndex - positiveStart, negativeIndex - negativeStart, negativeStart, positiveCount - positiveIndex);
  }
}

/**
 * AUROC with DeLong's standard error and interval. Each positive's structural component is
 * V10 = (negatives below + ½·negatives tied)/n₀, each negative's V01 = (positives above +
 * ½·positives tied)/n₁; AUROC is the mean of either, and DeLong's variance is
 * var(V10)/n₁ + var(V01)/n₀ with n − 1 denominators. The Mann–Whitney count behind AUROC is a sum
 * of half-integers below 2⁵³, so AUROC itself is exact to one rounding.
 */
export function aurocWithDeLong(byClass: ScoresByClass, level: number): Outcome<AurocEstimate> {
  return aurocOfTieGroups((visit) => visitDistinctScores(byClass, visit), byClass.positives.length, byClass.negatives.length, level);
}

/**
 * Walks groups of tied scores in increasing order with how many positives and negatives the group
 * holds, how many negatives lie below it and how many positives above.
 */
export type TieGroupWalk = (
  visit: (positiveTies: number, negativeTies: number, negativesBelow: number, positivesAbove: number) => void,
) => void;

/** AUROC and DeLong's interval (see aurocWithDeLong) over any grouping of the scores into ties. */
export function aurocOfTieGroups(
  walk: TieGroupWalk,
  positiveCount: number,
  negativeCount: number,
  level: number,
): Outcome<AurocEstimate> {
  if (positiveCount === 0 || negativeCount === 0) {
    return undefinedBecause(
      `AUROC needs both classes; there are ${positiveCount} positive and ${negativeCount} negative labels`,
    );
  }
  let mannWhitney = 0;
  walk((positiveTies, negativeTies, negativesBelow) => {
    mannWhitney += positiveTies * (negativesBelow + negativeTies / 2);
  });
  const auroc = mannWhitney / (positiveCount * negativeCount);
  if (positiveCount < 2 || negativeCount < 2) {
    const reason = `DeLong's variance needs at least two positive and two negative labels; there are ${positiveCount} and ${negativeCount}`;
    return defined({ value: auroc, standardError: undefinedBecause(reason), interval: undefinedBecause(reason) });
  }
  let positiveSquares = 0;
  let negativeSquares = 0;
  walk((positiveTies, negativeTies, negativesBelow, positivesAbove) => {
    if (positiveTies > 0) {
      const deviation = (negativesBelow + negativeTies / 2) / negativeCount - auroc;
      positiveSquares += positiveTies * deviation * deviation;
    }
    if (negativeTies > 0) {
      const deviation = (positivesAbove + positiveTies / 2) / positiveCount - auroc;
      negativeSquares += negativeTies * deviation * deviation;
    }
  });
  const variance =
    positiveSquares / ((positiveCount - 1) * positiveCount) + negativeSquares / ((negativeCount - 1) * negativeCount);
  const standardError = Math.sqrt(variance);
  const halfWidth = criticalValue(level) * standardError;
  return defined({
    value: auroc,
    standardError: defined(standardError),
    interval: defined({
      lower: Math.max(0, auroc - halfWidth),
      upper: Math.min(1, auroc + halfWidth),
      level,
      method: 'delong' as const,
    }),
  });
}

/**
 * Average precision as the step integral Σ_k (R_k − R_{k−1})·P_k over the distinct scores from
 * the highest down, every row tied at a score entering at once. Steps that add no positive add
 * no recall, so the walk stops after the lowest positive.
 */
export function averagePrecision({ positives, negatives }: ScoresByClass): Outcome<number> {
  const positiveCount = positives.length;
  if (positiveCount === 0) return undefinedBecause('average precision needs at least one positive label');
  let positiveIndex = positiveCount - 1;
  let negativeIndex = negatives.length - 1;
  let truePositives = 0;
  let falsePositives = 0;
  const sum = new CompensatedSum();
  while (positiveIndex >= 0) {
    const value =
      negativeIndex < 0 || positives[positiveIndex]! >= negatives[negativeIndex]!
        ? positives[positiveIndex]!
        : negatives[negativeIndex]!;
    const truePositivesBefore = truePositives;
    while (positiveIndex >= 0 && positives[positiveIndex] === value) {
      positiveIndex -= 1;
      truePositives += 1;
    }
    while (negativeIndex >= 0 && negatives[negativeIndex] === value) {
      negativeIndex -= 1;
      falsePositives += 1;
    }
    if (truePositives > truePositivesBefore) {
      sum.add(((truePositives - truePositivesBefore) / positiveCount) * (truePositives / (truePositives + falsePositives)));
    }
  }
  return defined(sum.value);
}

/** The score clipped to [clip, 1 − clip], so that its logarithms are finite. */
export function clipProbability(score: number, clip: number): number {
  return Math.min(Math.max(score, clip), 1 - clip);
}

/**
 * One row's log loss, −ln p for a positive and −ln(1 − p) for a negative, p the score clipped to
 * [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP]: the exact report and the sketches both sum this term.
 */
export function logLossTerm(score: number, label: number): number {
  const clipped = clipProbability(score, LOG_LOSS_CLIP);
  return label === 1 ? -Math.log(clipped) : -Math.log1p(-clipped);
}

interface RowSummary {
  counts: ConfusionCounts;
  brierScore: number;
  logLoss: number;
}

/** One pass over valid rows: the confusion counts at the threshold and the two mean losses. */
function summariseRows(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): RowSummary {
  const rows = scores.length;
  let positives = 0;
  let truePositives = 0;
  let falsePositives = 0;
  const squaredError = new CompensatedSum();
  const logLoss = new CompensatedSum();
  for (let row = 0; row < rows; row += 1) {
    const score = scores[row]!;
    const label = labels[row]!;
    const predictedPositive = score >= threshold;
    logLoss.add(logLossTerm(score, label));
    if (label === 1) {
      positives += 1;
      if (predictedPositive) truePositives += 1;
      squaredError.add((1 - score) * (1 - score));
    } else {
      if (predictedPositive) falsePositives += 1;
      squaredError.add(score * score);
    }
  }
  const negatives = rows - positives;
  return {
    counts: {
      rows,
      positives,
      negatives,
      truePositives,
      falsePositives,
      trueNegatives: negatives - falsePositives,
      falseNegatives: positives - truePositives,
    },
    brierScore: squaredError.value / rows,
    logLoss: logLoss.value / rows,
  };
}

/** A report with every metric undefined for one reason. */
export function undefinedClassificationReport(threshold: number, confidenceLevel: number, reason: string): BinaryClassificationReport {
  const because = undefinedBecause(reason);
  return {
    kind: 'binary-classification',
    threshold,
    confidenceLevel,
    counts: because,
    prevalence: because,
    auroc: because,
    averagePrecision: because,
    brierScore: because,
    logLoss: because,
    sensitivity: because,
    specificity: because,
    positivePredictiveValue: because,
    negativePredictiveValue: because,
    accuracy: because,
    f1: because,
  };
}

export function binaryClassificationMetrics(input: BinaryClassificationInput): BinaryClassificationReport {
  const { scores, labels, threshold } = input;
  const level = input.confidenceLevel ?? DEFAULT_CONFIDENCE_LEVEL;
  assertConfidenceLevel(level);
  if (!Number.isFinite(threshold)) throw new RangeError(`threshold must be a finite number, got ${threshold}`);
  const invalid = invalidBinaryDataReason(scores, labels);
  if (invalid !== null) return undefinedClassificationReport(threshold, level, invalid);

  const { counts, brierScore, logLoss } = summariseRows(scores, labels, threshold);
  const byClass = sortScoresByClass(scores, labels, counts.positives);
  return {
    kind: 'binary-classification',
    threshold,
    confidenceLevel: level,
    counts: defined(counts),
    auroc: aurocWithDeLong(byClass, level),
    averagePrecision: averagePrecision(byClass),
    brierScore: defined(brierScore),
    logLoss: defined(logLoss),
    ...thresholdMetrics(counts, threshold, level),
  };
}

/** Prevalence and the metrics at the threshold, with Wilson intervals, from the confusion counts. */
export function thresholdMetrics(
  counts: ConfusionCounts,
  threshold: number,
  level: number,
): Pick<
  BinaryClassificationReport,
  'prevalence' | 'sensitivity' | 'specificity' | 'positivePredictiveValue' | 'negativePredictiveValue' | 'accuracy' | 'f1'
> {
  const { rows, positives, negatives, truePositives, falsePositives, trueNegatives, falseNegatives } = counts;
  const predictedPositives = truePositives + falsePositives;
  const predictedNegatives = trueNegatives + falseNegatives;
  const f1Denominator = 2 * truePositives + falsePositives + falseNegatives;
  return {
    prevalence: proportionEstimate(positives, rows, level, 'no rows'),
    sensitivity: proportionEstimate(truePositives, positives, level, 'no positive labels (TP + FN = 0)'),
    specificity: proportionEstimate(trueNegatives, negatives, level, 'no negative labels (TN + FP = 0)'),
    positivePredictiveValue: proportionEstimate(
      truePositives,
      predictedPositives,
      level,
      `no score is ≥ the threshold ${threshold}, so nothing is predicted positive (TP + FP = 0)`,
    ),
    negativePredictiveValue: proportionEstimate(
      trueNegatives,
      predictedNegatives,
      level,
      `every score is ≥ the threshold ${threshold}, so nothing is predicted negative (TN + FN = 0)`,
    ),
    accuracy: proportionEstimate(truePositives + trueNegatives, rows, level, 'no rows'),
    f1:
      f1Denominator === 0
        ? undefinedBecause('no positive labels and nothing predicted positive (2TP + FP + FN = 0)')
        : defined((2 * truePositives) / f1Denominator),
  };
}
