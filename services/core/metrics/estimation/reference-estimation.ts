import { aurocWithDeLong, DEFAULT_CONFIDENCE_LEVEL, sortScoresByClass } from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { scoreBin } from '../sketches/score-label-sketch.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';
import { estimateConfidenceBasedPerformance, type ConfidenceBasedEstimationReport } from './confidence-based-estimation.js';
import { calibratedBinProbabilities, calibrateScores, fitBinnedCalibration, type ScoreCalibration } from './isotonic-calibration.js';
import { aurocSamplingError, aurocSamplingErrorComponents, samplingErrorBand, type AurocSamplingErrorComponents, type SamplingErrorBand } from './sampling-error.js';
import { stableOrder } from './stable-order.js';

/**
 * What CBPE fits on the reference, as NannyML's CBPE.fit does for a binary classifier: the
 * calibration it applies to a window's scores before estimating, and the sampling-error components
 * of ROC AUC from which each window's band follows. Both need the reference's labels; rows without
 * one are left out (NannyML requires a fully labelled reference). Without any label, CBPE uses the
 * raw scores, as it did before calibration, and reports no band.
 *
 * Whether to calibrate: NannyML calibrates only when calibration helps (nannyml/calibration.py,
 * needs_calibration): not when the labels are of one class or the reference's AUROC is above
 * 0.999, otherwise when isotonic calibration fitted on training folds lowers the expected
 * calibration error of the held-out rows. NannyML draws its 10 folds with StratifiedShuffleSplit
 * (10 random 10% test sets, random_state 42), which only numpy's generator can reproduce; here the
 * 10 folds are deterministic and stratified: the j-th row of each class, in an order given by a
 * hash of each row's score and label, is held out in fold j mod 10, so every row is held out once
 * and the folds do not depend on the order the reference's rows were read in. The held-out rows of all folds,
 * concatenated fold after fold, are scored as NannyML scores them
 * (_calculate_expected_calibration_error): sorted by value (ties in that order), cut into
 * NannyML's 10 equal-count bins (_get_bin_index_edges: width ⌊n/10⌋, the last bin taking the
 * rest), Σ (rows in bin / n)·|mean value − share of positives|. Calibration is applied when the
 * ECE of the calibrated values is strictly lower than that of the raw scores. Each fold's
 * calibration is fitted on the score bins as the final one is (isotonic-calibration.ts).
 *
 * Why the check rather than always calibrating: calibration matters where scores are off, and
 * there the check applies it; on the simulator's scores (a model that runs high and too extreme;
 * 20,000 reference encounters, 20 windows of 2,000) it calibrates and the estimate moves from
 * 0.056 above the realised AUROC on average to 0.005 below. Where scores are calibrated already,
 * isotonic steps merge nearby scores into ties and lower the estimate a little (0.003 on average
 * with the simulator's true risk as the score), for no gain; the check then often, not always,
 * keeps the raw scores, as NannyML's does. Both compare two noisy ECEs: on uniform scores that are
 * calibrated by construction (300 to 20,000 rows, 20 draws each), NannyML's check calibrated in 8
 * to 14 of 20 draws, this one in 5 to 18.
 *
 * The sampling-error components are fitted on the raw reference scores, as NannyML fits its
 * metrics before its calibrator.
 */

export interface EstimationReference {
  /** Reference rows with a label, the rows the calibration and the components are fitted on. */
  labelledRows: number;
  /** The expected calibration errors the decision to calibrate compared, when it was made. */
  crossValidatedEce: { uncalibrated: number; calibrated: number } | null;
  /** The calibration CBPE applies to scores, or why it uses them as they are. */
  calibration: Outcome<ScoreCalibration>;
  /** NannyML's sampling-error components of ROC AUC, or why there is no band. */
  aurocSamplingError: Outcome<AurocSamplingErrorComponents>;
}

/** NannyML's needs_calibration defaults: 10 folds, ECE on 10 bins, no calibration above this AUROC. */
const CALIBRATION_FOLDS = 10;
const CALIBRATION_ERROR_BINS = 10;
const SEPARABLE_AUROC = 0.999;

export const NO_REFERENCE_LABELS = 'the reference has no labels';

/** A reference without labels: raw scores, no band. */
export function unlabelledEstimationReference(reason = NO_REFERENCE_LABELS): EstimationReference {
  return { labelledRows: 0, crossValidatedEce: null, calibration: undefinedBecause(reason), aurocSamplingError: undefinedBecause(reason) };
}

/**
 * Fits CBPE on the reference: `labels` 0, 1 or null per row (null: no label), or null when the
 * reference has no label column. A labelled row whose label is not 0 or 1 or whose score is not a
 * probability leaves both undefined, with the row in the reason, as any metric of unusable data.
 */
export function fitEstimationReference(scores: ArrayLike<number>, labels: ArrayLike<number | null> | null, resolution: number): EstimationReference {
  if (labels === null) return unlabelledEstimationReference();
  if (labels.length !== scores.length) throw new RangeError(`${scores.length} reference scores but ${labels.length} labels`);
  const labelledScores: number[] = [];
  const labelledLabels: number[] = [];
  for (let row = 0; row < scores.length; row++) {
    const label = labels[row];
    if (label === null || label === undefined) continue;
    const score = scores[row]!;
    if (label !== 0 && label !== 1) return unlabelledEstimationReference(`the reference's label at row ${row} is ${String(label)}, not 0 or 1`);
    if (!(score >= 0 && score <= 1)) return unlabelledEstimationReference(`the reference's score at row ${row} is ${String(score)}, not a probability`);
    labelledScores.push(score);
    labelledLabels.push(label);
  }
  if (labelledScores.length === 0) return unlabelledEstimationReference();
  // In an order set by the rows' own values, so that the folds and the order of tied scores are the
  // same however the reference's rows were read (a baseline by cityHash64(event_id), its export by
  // occurred_at); rows equal in score and label are interchangeable. The order is a hash of the
  // values, not the values themselves: folds of rows in score order would hold out every tenth
  // score, each between two close training scores, which flatters calibration against NannyML's
  // random folds.
  const keys = labelledScores.map((score, row) => rowHash(score, labelledLabels[row]!));
  const canonical = Array.from(labelledScores, (_, row) => row).sort(
    (left, right) => keys[left]! - keys[right]! || labelledScores[left]! - labelledScores[right]! || labelledLabels[left]! - labelledLabels[right]!,
  );
  const sortedScores = canonical.map((row) => labelledScores[row]!);
  const sortedLabels = canonical.map((row) => labelledLabels[row]!);
  return fitOnCanonicalRows(sortedScores, sortedLabels, resolution);
}

function fitOnCanonicalRows(labelledScores: number[], labelledLabels: number[], resolution: number): EstimationReference {
  const binned = binnedRows(labelledScores, labelledLabels, resolution);
  const check = calibrationCheck(labelledScores, labelledLabels, binned);
  return {
    labelledRows: labelledScores.length,
    crossValidatedEce: check.ece,
    calibration: check.calibrate ? fitBinnedCalibration(binned.positives, binned.rows) : undefinedBecause(check.reason),
    aurocSamplingError: aurocSamplingErrorComponents(labelledScores, labelledLabels),
  };
}

/** Labelled rows by score bin: each row's bin, and per bin its rows and positives. */
interface BinnedRows {
  bins: Int32Array;
  rows: Float64Array;
  positives: Float64Array;
}

function binnedRows(scores: readonly number[], labels: readonly number[], resolution: number): BinnedRows {
  const bins = Int32Array.from(scores, (score) => scoreBin(score, resolution));
  const rows = new Float64Array(resolution);
  const positives = new Float64Array(resolution);
  bins.forEach((bin, row) => {
    rows[bin]! += 1;
    positives[bin]! += labels[row]!;
  });
  return { bins, rows, positives };
}

type CalibrationDecision = { calibrate: true; ece: { uncalibrated: number; calibrated: number } } | { calibrate: false; reason: string; ece: { uncalibrated: number; calibrated: number } | null };

/** The deterministic counterpart of NannyML's needs_calibration (see the module comment). */
function calibrationCheck(scores: readonly number[], labels: readonly number[], binned: BinnedRows): CalibrationDecision {
  const rows = scores.length;
  const positives = labels.reduce((total, label) => total + label, 0);
  if (positives === 0 || positives === rows) return { calibrate: false, reason: "the reference's labels are all of one class", ece: null };
  if (positives < 2 || rows - positives < 2) return { calibrate: false, reason: 'the reference has fewer than 2 labels of one class, too few to cross-validate a calibration', ece: null };
  const auroc = aurocWithDeLong(sortScoresByClass(scores, labels, positives), DEFAULT_CONFIDENCE_LEVEL);
  if (auroc.defined && auroc.value.value > SEPARABLE_AUROC) {
    return { calibrate: false, reason: `the reference's AUROC ${auroc.value.value.toPrecision(4)} is above ${SEPARABLE_AUROC}, where NannyML does not calibrate`, ece: null };
  }
  // The rows of each fold, in the hashed order: the j-th row of each class is held out in fold j mod 10.
  const foldOf = new Int32Array(rows);
  const seen = [0, 0];
  const foldSizes = new Int32Array(CALIBRATION_FOLDS + 1);
  for (let row = 0; row < rows; row++) {
    foldOf[row] = seen[labels[row]!]!++ % CALIBRATION_FOLDS;
    foldSizes[foldOf[row]! + 1]! += 1;
  }
  for (let fold = 1; fold <= CALIBRATION_FOLDS; fold++) foldSizes[fold]! += foldSizes[fold - 1]!;
  const heldOutRows = new Int32Array(rows);
  const next = foldSizes.slice(0, CALIBRATION_FOLDS);
  for (let row = 0; row < rows; row++) heldOutRows[next[foldOf[row]!]!++] = row;
  // Fold after fold, each held-out row's score, its calibrated probability from the other folds' fit, and its label.
  const heldOutScores = new Float64Array(rows);
  const heldOutCalibrated = new Float64Array(rows);
  const heldOutLabels = new Uint8Array(rows);
  let heldOut = 0;
  for (let fold = 0; fold < CALIBRATION_FOLDS; fold++) {
    const [start, end] = [foldSizes[fold]!, foldSizes[fold + 1]!];
    const training = { rows: binned.rows.slice(), positives: binned.positives.slice() };
    for (let position = start; position < end; position++) {
      const row = heldOutRows[position]!;
      training.rows[binned.bins[row]!]! -= 1;
      training.positives[binned.bins[row]!]! -= labels[row]!;
    }
    const calibration = fitBinnedCalibration(training.positives, training.rows);
    if (!calibration.defined) continue;
    const probabilities = calibratedBinProbabilities(calibration.value);
    for (let position = start; position < end; position++) {
      const row = heldOutRows[position]!;
      heldOutScores[heldOut] = scores[row]!;
      heldOutCalibrated[heldOut] = probabilities[binned.bins[row]!]!;
      heldOutLabels[heldOut] = labels[row]!;
      heldOut += 1;
    }
  }
  const [scored, calibrated, labelled] = [heldOutScores, heldOutCalibrated, heldOutLabels].map((column) => column.subarray(0, heldOut));
  const ece = { uncalibrated: nannymlCalibrationError(scored!, labelled!), calibrated: nannymlCalibrationError(calibrated!, labelled!) };
  if (ece.calibrated < ece.uncalibrated) return { calibrate: true, ece };
  return {
    calibrate: false,
    reason: `isotonic calibration does not lower the reference's cross-validated ECE (${ece.uncalibrated.toPrecision(3)} uncalibrated, ${ece.calibrated.toPrecision(3)} calibrated)`,
    ece,
  };
}

/** NannyML's _get_bin_index_edges(rows, 10): [start, end) of equal-count bins of the sorted values. */
export function calibrationErrorBinEdges(rows: number, binCount = CALIBRATION_ERROR_BINS): [number, number][] {
  let bins = binCount;
  if (rows <= 2 * bins) {
    bins = Math.floor(rows / 2);
    if (bins < 2) throw new RangeError(`cannot split ${rows} rows into at least 2 bins`);
  }
  const width = Math.floor(rows / bins);
  const edges: number[] = [];
  for (let edge = 0; edge <= rows; edge += width) edges.push(edge);
  edges[edges.length - 1] = rows;
  return edges.slice(1).map((end, index) => [edges[index]!, end]);
}

/** NannyML's _calculate_expected_calibration_error, ties in the order given (see the module comment). */
export function nannymlCalibrationError(values: ArrayLike<number>, labels: ArrayLike<number>): number {
  const rows = values.length;
  const order = stableOrder(values);
  let total = 0;
  for (const [start, end] of calibrationErrorBinEdges(rows)) {
    const meanValue = new CompensatedSum();
    const meanLabel = new CompensatedSum();
    for (let position = start; position < end; position++) {
      meanValue.add(values[order[position]!]!);
      meanLabel.add(labels[order[position]!]!);
    }
    const size = end - start;
    total += (size / rows) * Math.abs(meanValue.value / size - meanLabel.value / size);
  }
  return total;
}

/** How a CBPE estimate relates to its reference: its calibration and its AUROC band, for the row. */
export interface EstimationContext {
  /** Said in the row's reason: "calibrated on the reference …" or "not calibrated: …". */
  calibrationNote: string;
  /** NannyML's band around the estimated AUROC, or why there is none. */
  aurocBand: Outcome<SamplingErrorBand>;
}

/** The calibrated probability of each bin, or null when the scores are used as they are. */
export function binProbabilities(reference: EstimationReference, resolution: number): Float64Array | null {
  if (!reference.calibration.defined) return null;
  const calibration = reference.calibration.value;
  if (calibration.resolution !== resolution) throw new RangeError(`the calibration has ${calibration.resolution} bins, the scores ${resolution}`);
  return calibratedBinProbabilities(calibration);
}

/** The row's note and band for an estimate over `rows` predictions. */
export function estimationContext(reference: EstimationReference, rows: number, estimatedAuroc: Outcome<number>): EstimationContext {
  const calibrationNote = reference.calibration.defined
    ? `calibrated on the reference (isotonic regression on ${reference.labelledRows} labelled rows${eceNote(reference)})`
    : `not calibrated: ${reference.calibration.reason}`;
  let aurocBand: Outcome<SamplingErrorBand>;
  if (!reference.aurocSamplingError.defined) aurocBand = undefinedBecause(`no sampling-error band: ${reference.aurocSamplingError.reason}`);
  else if (!estimatedAuroc.defined) aurocBand = undefinedBecause(estimatedAuroc.reason);
  else if (rows === 0) aurocBand = undefinedBecause('no rows');
  else aurocBand = defined(samplingErrorBand(estimatedAuroc.value, aurocSamplingError(reference.aurocSamplingError.value, rows)));
  return { calibrationNote, aurocBand };
}

function eceNote(reference: EstimationReference): string {
  const ece = reference.crossValidatedEce;
  return ece === null ? '' : `, cross-validated ECE ${ece.uncalibrated.toPrecision(3)} → ${ece.calibrated.toPrecision(3)}`;
}

/** CBPE over rows, calibrated as the reference says: each score takes its bin's calibrated probability. */
export function estimateWithReference(
  reference: EstimationReference,
  scores: ArrayLike<number>,
  threshold: number,
  resolution: number,
): { report: ConfidenceBasedEstimationReport; context: EstimationContext } {
  const probabilities = binProbabilities(reference, resolution);
  const report =
    probabilities === null || !validProbabilities(scores)
      ? estimateConfidenceBasedPerformance(scores, threshold)
      : estimateConfidenceBasedPerformance(scores, threshold, calibrateScores(scores, probabilities));
  return { report, context: estimationContext(reference, scores.length, report.estimatedAuroc.defined ? defined(report.estimatedAuroc.value.value) : report.estimatedAuroc) };
}

/** Scores that can be binned; the others are left to estimateConfidenceBasedPerformance to refuse with its reason. */
function validProbabilities(scores: ArrayLike<number>): boolean {
  for (let row = 0; row < scores.length; row++) if (!(scores[row]! >= 0 && scores[row]! <= 1)) return false;
  return true;
}

const hashView = new DataView(new ArrayBuffer(8));

/** A 32-bit hash of a score's 64 bits and its label (murmur3's finaliser over both halves). */
function rowHash(score: number, label: number): number {
  hashView.setFloat64(0, score);
  let hash = Math.imul(hashView.getUint32(0) ^ 0x9e3779b9, 0x85ebca6b) ^ hashView.getUint32(4) ^ (label * 0x27d4eb2f);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
