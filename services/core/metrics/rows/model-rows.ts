import type { CalibrationReport } from '../calibration/calibration.js';
import type { ConfidenceBasedEstimationReport, Estimate } from '../estimation/confidence-based-estimation.js';
import type { EstimationContext } from '../estimation/reference-estimation.js';
import type { GroupFairnessReport } from '../fairness/group-fairness.js';
import type { AurocEstimate, BinaryClassificationReport, ProportionEstimate } from '../performance/binary-classification.js';
import { resultRow, type Outcome, type ResultKind, type ResultRow } from '../result-row.js';
import { normalQuantile } from '../statistics/normal.js';
import { classify, type ThresholdLookup } from './threshold-policy.js';

/** Where a row belongs: the whole population, or one group of a segment attribute. */
export interface RowScope {
  segment: string | null;
  group: string | null;
}

const POPULATION: RowScope = { segment: null, group: null };

function baseRow(kind: ResultKind, metric: string, scope: RowScope, nCurrent: number | null): ResultRow {
  return resultRow({ kind, metric, segment: scope.segment, group: scope.group, n_current: nCurrent });
}

interface RowValue {
  value: number;
  interval?: { lower: number; upper: number };
  reason?: string;
}

function row(kind: ResultKind, metric: string, scope: RowScope, nCurrent: number | null, outcome: Outcome<RowValue>, thresholds: ThresholdLookup): ResultRow {
  const base = baseRow(kind, metric, scope, nCurrent);
  if (!outcome.defined) return { ...base, status: 'undefined', reason: outcome.reason };
  const { status, threshold } = classify(outcome.value.value, thresholds(metric), scope.segment);
  return {
    ...base,
    value: outcome.value.value,
    ci_low: outcome.value.interval?.lower ?? null,
    ci_high: outcome.value.interval?.upper ?? null,
    threshold,
    status,
    reason: outcome.value.reason ?? null,
  };
}

const map = <T>(outcome: Outcome<T>, toValue: (value: T) => RowValue): Outcome<RowValue> =>
  outcome.defined ? { defined: true, value: toValue(outcome.value) } : outcome;

const plain = (outcome: Outcome<number>): Outcome<RowValue> => map(outcome, (value) => ({ value }));
const proportion = (outcome: Outcome<ProportionEstimate>): Outcome<RowValue> =>
  map(outcome, (estimate) => ({ value: estimate.value, interval: estimate.interval, reason: `${estimate.numerator} of ${estimate.denominator}` }));
const auroc = (outcome: Outcome<AurocEstimate>): Outcome<RowValue> =>
  map(outcome, (estimate) =>
    estimate.interval.defined
      ? { value: estimate.value, interval: estimate.interval.value }
      : { value: estimate.value, reason: `no DeLong interval: ${estimate.interval.reason}` },
  );

const PERFORMANCE_METRICS = ['auroc', 'average_precision', 'brier', 'log_loss', 'sensitivity', 'specificity', 'ppv', 'npv', 'f1', 'accuracy', 'prevalence'];

/** auroc … prevalence as undefined, when no labels are there to measure them by. */
export function unmeasuredPerformanceRows(rowCount: number, why: string): ResultRow[] {
  return PERFORMANCE_METRICS.map((metric) => ({
    ...baseRow('performance', metric, POPULATION, rowCount),
    status: 'undefined' as const,
    reason: `${why}; see cbpe_auroc for the estimate from scores`,
  }));
}

/** auroc … prevalence for the population or one group, with 95% DeLong and Wilson intervals. */
export function performanceRows(report: BinaryClassificationReport, thresholds: ThresholdLookup, scope: RowScope = POPULATION): ResultRow[] {
  const rows = report.counts.defined ? report.counts.value.rows : null;
  const metric = (name: string, outcome: Outcome<RowValue>): ResultRow => row('performance', name, scope, rows, outcome, thresholds);
  return [
    metric('auroc', auroc(report.auroc)),
    metric('average_precision', plain(report.averagePrecision)),
    metric('brier', plain(report.brierScore)),
    metric('log_loss', plain(report.logLoss)),
    metric('sensitivity', proportion(report.sensitivity)),
    metric('specificity', proportion(report.specificity)),
    metric('ppv', proportion(report.positivePredictiveValue)),
    metric('npv', proportion(report.negativePredictiveValue)),
    metric('f1', plain(report.f1)),
    metric('accuracy', proportion(report.accuracy)),
    metric('prevalence', proportion(report.prevalence)),
  ];
}

export function calibrationRows(report: CalibrationReport, thresholds: ThresholdLookup): ResultRow[] {
  const metric = (name: string, outcome: Outcome<RowValue>): ResultRow => row('calibration', name, POPULATION, report.rows, outcome, thresholds);
  // Wald intervals from the fit's standard error, at the 95% the other intervals use.
  const z = normalQuantile(0.975);
  const coefficient = (outcome: CalibrationReport['calibrationSlope']): Outcome<RowValue> =>
    map(outcome, (fit) => ({ value: fit.value, interval: { lower: fit.value - z * fit.standardError, upper: fit.value + z * fit.standardError } }));
  return [
    metric('ece', plain(report.expectedCalibrationError)),
    metric('calibration_intercept', coefficient(report.calibrationIntercept)),
    metric('calibration_slope', coefficient(report.calibrationSlope)),
    metric('oe_ratio', plain(report.observedExpectedRatio)),
  ];
}

/**
 * Per segment attribute: each group's selection rate and performance (or why it is suppressed),
 * then the three fairlearn differences over the groups large enough to compare.
 */
export function fairnessRows(segment: string, report: GroupFairnessReport, thresholds: ThresholdLookup): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const group of report.groups) {
    const scope = { segment, group: group.group };
    if (group.suppressed) {
      rows.push({ ...baseRow('fairness', 'selection_rate', scope, group.size), status: 'undefined', reason: group.reason });
      continue;
    }
    rows.push(row('fairness', 'selection_rate', scope, group.size, proportion(group.selectionRate), thresholds));
    rows.push(...performanceRows(group.performance, thresholds, scope));
  }
  const scope = { segment, group: null };
  const compared = report.groups.filter((group) => !group.suppressed).length;
  const difference = (name: string, outcome: GroupFairnessReport['demographicParityDifference']): ResultRow =>
    row('fairness', name, scope, null, map(outcome, (disparity) => ({
      value: disparity.value,
      reason: `highest ${disparity.highest.group} ${disparity.highest.rate.toPrecision(3)}, lowest ${disparity.lowest.group} ${disparity.lowest.rate.toPrecision(3)}, ${disparity.groupsCompared} groups compared`,
    })), thresholds);
  rows.push(
    difference('demographic_parity_difference', report.demographicParityDifference),
    difference('equal_opportunity_difference', report.equalOpportunityDifference),
    row('fairness', 'equalized_odds_difference', scope, null, map(report.equalizedOddsDifference, (odds) => ({ value: odds.value, reason: `the larger of the ${odds.largerOf} differences over ${compared} groups` })), thresholds),
  );
  return rows;
}

/**
 * Estimated, never observed: CBPE's AUROC from scores alone, marked as such in the reason. With
 * the estimate's context (reference-estimation.ts) the reason also says whether the scores were
 * calibrated on the reference, and the interval is NannyML's sampling-error band, or null with
 * the reason there is none.
 */
export function estimationRows(report: ConfidenceBasedEstimationReport, thresholds: ThresholdLookup, context?: EstimationContext): ResultRow[] {
  const estimated = 'estimated from scores alone (confidence-based performance estimation)';
  const estimate = (outcome: Outcome<Estimate<number>>): Outcome<RowValue> =>
    map(outcome, (value): RowValue => {
      if (context === undefined) return { value: value.value, reason: `${estimated}; assumes calibrated scores` };
      const band = context.aurocBand;
      if (!band.defined) return { value: value.value, reason: `${estimated}; ${context.calibrationNote}; ${band.reason}` };
      return {
        value: value.value,
        interval: { lower: band.value.lower, upper: band.value.upper },
        reason: `${estimated}; ${context.calibrationNote}; interval: NannyML's sampling-error band, ±3 σ from the reference (σ = ${band.value.samplingError.toPrecision(3)})`,
      };
    });
  return [row('performance', 'cbpe_auroc', POPULATION, report.rows, estimate(report.estimatedAuroc), thresholds)];
}
