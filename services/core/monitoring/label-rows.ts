import { resultRow, type ResultRow } from '../metrics/result-row.js';
import { sketchNote } from '../metrics/rows/drift-rows.js';
import { classify, type ThresholdLookup } from '../metrics/rows/threshold-policy.js';
import type { LabelDelaySketch } from '../metrics/sketches/label-delay-sketch.js';

/**
 * The labels of a window: how many of its predictions have an outcome, how long outcomes took,
 * and how many outcomes name no stored prediction. Thresholds apply by metric name.
 */

/** What storage counts of a window's labels. */
export interface WindowLabels {
  /** Predictions of the window. */
  predictions: number;
  /** Binary outcomes joined to them (the latest outcome of each prediction). */
  outcomes: number;
  /**
   * observed_at − occurred_at of those outcomes, whose quantiles (Hyndman and Fan's type 7, numpy's
   * default) the rows give within the bound the sketch states.
   */
  delays: LabelDelaySketch;
  /** Outcomes observed in the window whose prediction is not stored. */
  outcomesWithoutPrediction: number;
}

export const PROVISIONAL_COVERAGE_REASON = 'provisional: outcomes may still arrive';

/**
 * Rows `label_coverage`, `label_delay_median_seconds`, `label_delay_p90_seconds` and
 * `unmatched_outcomes`. A provisional window is still inside its label horizon, so its coverage is
 * expected to be low and is reported with status ok rather than judged: judging it would alert on
 * every recent window. Its delays are judged at once: the outcomes still to come are the slower
 * ones, which raise the quantiles rather than lower them, so a delay beyond its bound is news already.
 */
export function labelRows(labels: WindowLabels, state: 'provisional' | 'final', thresholds: ThresholdLookup): ResultRow[] {
  const judged = (metric: string, value: number, fields: Partial<ResultRow>): ResultRow => {
    const { status, threshold } = classify(value, thresholds(metric));
    return resultRow({ kind: 'labels', metric, value, status, threshold, ...fields });
  };

  const coverageFields = { n_current: labels.predictions };
  let coverage: ResultRow;
  if (labels.predictions === 0) coverage = resultRow({ kind: 'labels', metric: 'label_coverage', ...coverageFields, status: 'undefined', reason: 'the window has no prediction' });
  else {
    coverage = judged('label_coverage', labels.outcomes / labels.predictions, coverageFields);
    if (state === 'provisional') coverage = { ...coverage, status: 'ok', reason: PROVISIONAL_COVERAGE_REASON };
  }

  const delay = (metric: string, probability: number): ResultRow => {
    const quantile = labels.delays.quantileSeconds(probability);
    return quantile === null
      ? resultRow({ kind: 'labels', metric, n_current: 0, status: 'undefined', reason: 'no outcome has arrived for this window yet' })
      : judged(metric, quantile.value, { n_current: labels.delays.count, reason: sketchNote(quantile.maximumError) });
  };

  return [
    coverage,
    delay('label_delay_median_seconds', 0.5),
    delay('label_delay_p90_seconds', 0.9),
    judged('unmatched_outcomes', labels.outcomesWithoutPrediction, {}),
  ];
}

/** Rows judged on the labels that have arrived; the estimate from scores (cbpe_auroc) needs none. */
const LABELLED_KINDS: ReadonlySet<ResultRow['kind']> = new Set(['performance', 'calibration', 'fairness']);
const LABEL_FREE_METRICS: ReadonlySet<string> = new Set(['cbpe_auroc']);

/**
 * Performance measured on fewer labels than the spec's min_label_coverage is provisional: the
 * outcomes that arrive first are not a random share of them (quick deteriorations are adjudicated
 * first), so such a value is reported but not judged. Its status becomes ok and its reason says so,
 * with the status it would have had; the estimate from scores, which needs no label, is left as it is.
 */
export function provisionalBelowCoverage(rows: readonly ResultRow[], labels: Pick<WindowLabels, 'predictions' | 'outcomes'>, minimumCoverage: number): ResultRow[] {
  if (labels.predictions === 0) return [...rows];
  const coverage = labels.outcomes / labels.predictions;
  if (coverage >= minimumCoverage) return [...rows];
  const why = `provisional: label coverage ${formatPercent(coverage)} is below the minimum ${formatPercent(minimumCoverage)}`;
  return rows.map((row) => {
    if (!LABELLED_KINDS.has(row.kind) || LABEL_FREE_METRICS.has(row.metric) || row.status === 'undefined') return row;
    const judged = row.status === 'ok' ? '' : `; judged now it would be ${row.status}`;
    return { ...row, status: 'ok', reason: `${why}${judged}${row.reason ? `; ${row.reason}` : ''}` };
  });
}

const formatPercent = (share: number): string => `${(100 * share).toFixed(1).replace(/\.0$/, '')}%`;
