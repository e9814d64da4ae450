/**
 * Calibration of probability scores against observed binary outcomes.
 *
 * Reliability bins: 10 equal-width bins on [0, 1] with edges at the doubles k/10. Bin k holds the
 * scores with k/10 ≤ score < (k + 1)/10, and the last bin is closed on the right, so a score of
 * exactly 1.0 falls in [0.9, 1.0] and a score equal to an inner edge goes to the bin above it.
 *
 * Expected calibration error: Σ_b (n_b / n)·|mean score_b − observed rate_b| over the non-empty
 * bins, each weighted by its share of the rows.
 *
 * Calibration intercept and slope come from logistic models of the label on x = logit(score),
 * with the score first clipped to [1e-15, 1 − 1e-15] so that scores of exactly 0 and 1 have a
 * finite logit of about ∓34.5:
 *   - intercept (calibration-in-the-large): logit P(y = 1) = a + x, x an offset; a = 0 when the
 *     mean score matches the event rate;
 *   - slope: logit P(y = 1) = a + b·x with both free; b is reported, 1 when the spread of the
 *     scores is right, below 1 when they are too extreme.
 * Both are unpenalised maximum-likelihood fits by Newton–Raphson with step halving, which are
 * what statsmodels' GLM(Binomial) computes. A fit is undefined when the maximum does not exist
 * (one class only; for the slope also constant logits, or labels separated by the score, where
 * the likelihood keeps rising as the slope grows) or when the iteration does not converge.
 *
 * Observed/expected ratio: Σ labels / Σ scores, on the raw scores.
 */

import { clipProbability, invalidBinaryDataReason } from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';

export const CALIBRATION_BIN_COUNT = 10;

/**
 * Scores are clipped to [LOGIT_CLIP, 1 − LOGIT_CLIP] before the logit. No library prescribes this
 * clip (statsmodels fits whatever logits it is given); 1e-15 is the one the oracles' fits use.
 */
export const LOGIT_CLIP = 1e-15;

const MAX_ITERATIONS = 100;

/** Newton has converged once a full step moves no coefficient by more than this, relatively. */
const STEP_TOLERANCE = 1e-11;

const MAX_STEP_HALVINGS = 60;

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanScore: Outcome<number>;
  observedRate: Outcome<number>;
}

export interface LogisticCoefficient {
  value: number;
  /** √ of the coefficient's diagonal element of the inverse Fisher information at the maximum. */
  standardError: number;
  iterations: number;
}

export interface CalibrationReport {
  rows: number;
  expectedCalibrationError: Outcome<number>;
  calibrationIntercept: Outcome<LogisticCoefficient>;
  calibrationSlope: Outcome<LogisticCoefficient>;
  observedExpectedRatio: Outcome<number>;
  reliability: Outcome<ReliabilityBin[]>;
}

/** The reliability bin of a score in [0, 1] (see the module comment for the edges). */
export function calibrationBin(score: number): number {
  let bin = Math.min(Math.floor(score * CALIBRATION_BIN_COUNT), CALIBRATION_BIN_COUNT - 1);
  // score·10 can round across an edge; the edges themselves are the doubles k/10.
  if (score < bin / CALIBRATION_BIN_COUNT) bin -= 1;
  else if (bin < CALIBRATION_BIN_COUNT - 1 && score >= (bin + 1) / CALIBRATION_BIN_COUNT) bin += 1;
  return bin;
}

/** Per reliability bin: rows, sum of scores, sum of labels; and the totals over all rows. */
export interface CalibrationSums {
  rows: number;
  counts: Float64Array;
  scoreSums: Float64Array;
  labelSums: Float64Array;
  scoreTotal: number;
  labelTotal: number;
}

/**
 * Rows grouped by their logit x: `positives[i]` and `negatives[i]` rows have logit `logits[i]`.
 * One group per row (counts 1 and 0) is the exact fit; groups of nearby scores are a sketch's.
 */
export interface LogitGroups {
  logits: Float64Array;
  positives: ArrayLike<number>;
  negatives: ArrayLike<number>;
}

/** x = logit of the score clipped to [LOGIT_CLIP, 1 − LOGIT_CLIP]. */
export function clippedLogit(score: number): number {
  const clipped = clipProbability(score, LOGIT_CLIP);
  return Math.log(clipped) - Math.log1p(-clipped);
}

function binRows(scores: ArrayLike<number>, labels: ArrayLike<number>): CalibrationSums {
  const counts = new Float64Array(CALIBRATION_BIN_COUNT);
  const labelSums = new Float64Array(CALIBRATION_BIN_COUNT);
  const scoreSums = Array.from({ length: CALIBRATION_BIN_COUNT }, () => new CompensatedSum());
  const scoreTotal = new CompensatedSum();
  let labelTotal = 0;
  for (let row = 0; row < scores.length; row += 1) {
    const score = scores[row]!;
    const label = labels[row]!;
    const bin = calibrationBin(score);
    counts[bin]! += 1;
    labelSums[bin]! += label;
    scoreSums[bin]!.add(score);
    scoreTotal.add(score);
    labelTotal += label;
  }
  return { rows: scores.length, counts, scoreSums: Float64Array.from(scoreSums, (sum) => sum.value), labelSums, scoreTotal: scoreTotal.value, labelTotal };
}

function reliabilityTable({ counts, scoreSums, labelSums }: CalibrationSums): ReliabilityBin[] {
  const table: ReliabilityBin[] = [];
  for (let bin = 0; bin < CALIBRATION_BIN_COUNT; bin += 1) {
    const count = counts[bin]!;
    const empty = undefinedBecause('no scores in this bin');
    table.push({
      lower: bin / CALIBRATION_BIN_COUNT,
      upper: (bin + 1) / CALIBRATION_BIN_COUNT,
      count,
      meanScore: count === 0 ? empty : defined(scoreSums[bin]! / count),
      observedRate: count === 0 ? empty : defined(labelSums[bin]! / count),
    });
  }
  return table;
}

function expectedCalibrationError(table: ReliabilityBin[], rows: number): number {
  const sum = new CompensatedSum();
  for (const bin of table) {
    if (bin.meanScore.defined && bin.observedRate.defined) {
      sum.add((bin.count / rows) * Math.abs(bin.meanScore.value - bin.observedRate.value));
    }
  }
  return sum.value;
}

interface LikelihoodState {
  logLikelihood: number;
  interceptGradient: number;
  slopeGradient: number;
  interceptInformation: number;
  crossInformation: number;
  slopeInformation: number;
}

/** Log-likelihood, score vector and Fisher information of logit P(y = 1) = a + b·x at (a, b). */
function likelihoodAt({ logits, positives, negatives }: LogitGroups, intercept: number, slope: number): LikelihoodState {
  const logLikelihood = new CompensatedSum();
  let interceptGradient = 0;
  let slopeGradient = 0;
  let interceptInformation = 0;
  let crossInformation = 0;
  let slopeInformation = 0;
  for (let row = 0; row < logits.length; row += 1) {
    const x = logits[row]!;
    const label = positives[row]!;
    const rows = label + negatives[row]!;
    const eta = intercept + slope * x;
    // One exponential serves both the probability and ln(1 + e^η); taking it of −|η| keeps it
    // from overflowing and keeps the small tail probability exact.
    const exponential = Math.exp(-Math.abs(eta));
    const likelier = 1 / (1 + exponential);
    const probability = eta >= 0 ? likelier : exponential * likelier;
    const residual = label - rows * probability;
    // p(1 − p) = e^−|η|/(1 + e^−|η|)², free of the cancellation in 1 − p when p is near 1.
    const weight = rows * exponential * likelier * likelier;
    logLikelihood.add(label * eta - rows * (Math.max(eta, 0) + Math.log1p(exponential)));
    interceptGradient += residual;
    slopeGradient += residual * x;
    interceptInformation += weight;
    crossInformation += weight * x;
    slopeInformation += weight * x * x;
  }
  return {
    logLikelihood: logLikelihood.value,
    interceptGradient,
    slopeGradient,
    interceptInformation,
    crossInformation,
    slopeInformation,
  };
}

interface LogisticFit {
  intercept: number;
  slope: number;
  state: LikelihoodState;
  iterations: number;
}

/**
 * Maximises the log-likelihood by Newton–Raphson, halving a step that would lower it (the
 * likelihood is concave, so a short enough Newton step always rises), from (startingIntercept, 1).
 * With `freeSlope` false the slope stays at 1 and x acts as an offset.
 */
function fitLogistic(
  groups: LogitGroups,
  freeSlope: boolean,
  startingIntercept: number,
): Outcome<LogisticFit> {
  let intercept = startingIntercept;
  let slope = 1;
  let state = likelihoodAt(groups, intercept, slope);
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration += 1) {
    let interceptStep: number;
    let slopeStep = 0;
    if (freeSlope) {
      const determinant =
        state.interceptInformation * state.slopeInformation - state.crossInformation * state.crossInformation;
      if (!(determinant > 0)) return undefinedBecause('the Fisher information is singular');
      interceptStep =
        (state.slopeInformation * state.interceptGradient - state.crossInformation * state.slopeGradient) /
        determinant;
      slopeStep =
        (state.interceptInformation * state.slopeGradient - state.crossInformation * state.interceptGradient) /
        determinant;
    } else {
      if (!(state.interceptInformation > 0)) return undefinedBecause('the Fisher information is singular');
      interceptStep = state.interceptGradient / state.interceptInformation;
    }
    if (
      Math.abs(interceptStep) <= STEP_TOLERANCE * (1 + Math.abs(intercept)) &&
      Math.abs(slopeStep) <= STEP_TOLERANCE * (1 + Math.abs(slope))
    ) {
      // The information a step this small away differs from `state` far below the tolerance.
      return defined({ intercept: intercept + interceptStep, slope: slope + slopeStep, state, iterations: iteration });
    }
    let scale = 1;
    let next = likelihoodAt(groups, intercept + interceptStep, slope + slopeStep);
    // A rise smaller than rounding of the log-likelihood is not a fall.
    const slack = 1e-12 * (1 + Math.abs(state.logLikelihood));
    for (let halving = 0; halving < MAX_STEP_HALVINGS && !(next.logLikelihood >= state.logLikelihood - slack); halving += 1) {
      scale /= 2;
      next = likelihoodAt(groups, intercept + scale * interceptStep, slope + scale * slopeStep);
    }
    if (!(next.logLikelihood >= state.logLikelihood - slack)) {
      return undefinedBecause('no Newton step increased the likelihood');
    }
    intercept += scale * interceptStep;
    slope += scale * slopeStep;
    state = next;
    if (!Number.isFinite(intercept) || !Number.isFinite(slope)) {
      return undefinedBecause('the coefficients diverged');
    }
  }
  return undefinedBecause(`Newton–Raphson did not converge in ${MAX_ITERATIONS} iterations`);
}

/** Why no finite maximum-likelihood slope exists, or null when one does. */
function slopeUndefinedReason({ logits, positives, negatives }: LogitGroups): string | null {
  let positiveMinimum = Number.POSITIVE_INFINITY;
  let positiveMaximum = Number.NEGATIVE_INFINITY;
  let negativeMinimum = Number.POSITIVE_INFINITY;
  let negativeMaximum = Number.NEGATIVE_INFINITY;
  for (let row = 0; row < logits.length; row += 1) {
    const x = logits[row]!;
    if (positives[row]! > 0) {
      if (x < positiveMinimum) positiveMinimum = x;
      if (x > positiveMaximum) positiveMaximum = x;
    }
    if (negatives[row]! > 0) {
      if (x < negativeMinimum) negativeMinimum = x;
      if (x > negativeMaximum) negativeMaximum = x;
    }
  }
  if (Math.min(positiveMinimum, negativeMinimum) === Math.max(positiveMaximum, negativeMaximum)) {
    return 'every clipped score is the same, so the slope is not identifiable';
  }
  // With one covariate the maximum is finite exactly when the two classes' ranges overlap in more
  // than a point (Albert & Anderson 1984); otherwise a line through the gap separates them.
  if (negativeMaximum <= positiveMinimum) {
    return 'the score separates the labels (no negative scores above any positive), so the maximum-likelihood slope is infinite';
  }
  if (positiveMaximum <= negativeMinimum) {
    return 'the score separates the labels (no positive scores above any negative), so the maximum-likelihood slope is infinite';
  }
  return null;
}

function undefinedReport(rows: number, reason: string): CalibrationReport {
  const because = undefinedBecause(reason);
  return {
    rows,
    expectedCalibrationError: because,
    calibrationIntercept: because,
    calibrationSlope: because,
    observedExpectedRatio: because,
    reliability: because,
  };
}

export function calibrationMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>): CalibrationReport {
  const rows = scores.length;
  const invalid = invalidBinaryDataReason(scores, labels);
  if (invalid !== null) return undefinedReport(rows, invalid);
  return calibrationReportOf(binRows(scores, labels), () => ({
    logits: Float64Array.from(scores, clippedLogit),
    positives: labels,
    negatives: Uint8Array.from(labels, (label) => 1 - label),
  }));
}

/**
 * The calibration report from the reliability-bin sums and the rows grouped by logit (built only
 * when a fit is possible), whether they come from rows or from a sketch of them.
 */
export function calibrationReportOf(sums: CalibrationSums, logitGroups: () => LogitGroups): CalibrationReport {
  const { rows, labelTotal, scoreTotal } = sums;
  if (rows === 0) return undefinedReport(rows, 'no rows');
  const table = reliabilityTable(sums);

  let calibrationIntercept: Outcome<LogisticCoefficient>;
  let calibrationSlope: Outcome<LogisticCoefficient>;
  if (labelTotal === 0 || labelTotal === rows) {
    const reason = `every label is ${labelTotal === 0 ? 0 : 1}, so the maximum-likelihood fit does not exist`;
    calibrationIntercept = undefinedBecause(reason);
    calibrationSlope = undefinedBecause(reason);
  } else {
    const groups = logitGroups();
    const interceptFit = fitLogistic(groups, false, 0);
    calibrationIntercept = interceptFit.defined
      ? defined({
          value: interceptFit.value.intercept,
          standardError: 1 / Math.sqrt(interceptFit.value.state.interceptInformation),
          iterations: interceptFit.value.iterations,
        })
      : interceptFit;
    const slopeReason = slopeUndefinedReason(groups);
    if (slopeReason !== null) {
      calibrationSlope = undefinedBecause(slopeReason);
    } else {
      // The calibration-in-the-large fit is the slope-1 member of this model: a close start.
      const slopeFit = fitLogistic(groups, true, interceptFit.defined ? interceptFit.value.intercept : 0);
      if (slopeFit.defined) {
        const { state } = slopeFit.value;
        const determinant =
          state.interceptInformation * state.slopeInformation - state.crossInformation * state.crossInformation;
        calibrationSlope = defined({
          value: slopeFit.value.slope,
          standardError: Math.sqrt(state.interceptInformation / determinant),
          iterations: slopeFit.value.iterations,
        });
      } else {
        calibrationSlope = slopeFit;
      }
    }
  }

  return {
    rows,
    expectedCalibrationError: defined(expectedCalibrationError(table, rows)),
    calibrationIntercept,
    calibrationSlope,
    observedExpectedRatio:
      scoreTotal === 0
        ? undefinedBecause('every score is 0, so no events are expected')
        : defined(labelTotal / scoreTotal),
    reliability: defined(table),
  };
}
