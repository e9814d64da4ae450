import { calibrationMetrics, type ReliabilityBin } from '../calibration/calibration.js';
import type { CategoricalValues } from '../drift/categorical-drift.js';
import { estimateConfidenceBasedPerformance } from '../estimation/confidence-based-estimation.js';
import { groupFairness, MISSING_GROUP } from '../fairness/group-fairness.js';
import { binaryClassificationMetrics } from '../performance/binary-classification.js';
import type { Outcome, ResultRow } from '../result-row.js';
import type { NumericValues } from '../statistics/numeric-sample.js';
import { compareColumns, driftAndQualityRows, type FeatureColumns } from './drift-rows.js';
import { calibrationRows, estimationRows, fairnessRows, performanceRows, unmeasuredPerformanceRows } from './model-rows.js';
import type { ThresholdLookup } from './threshold-policy.js';

/** One side of the comparison, column by column. */
export interface DatasetColumns {
  rowCount: number;
  numeric(name: string): NumericValues;
  categorical(name: string): CategoricalValues;
  scores: ArrayLike<number>;
  /** null when the dataset has no label column: performance is then estimated, not measured. */
  labels: ArrayLike<number> | null;
  segment(name: string): CategoricalValues;
}

export interface DatasetReportInput {
  features: readonly { name: string; type: 'numeric' | 'categorical' }[];
  scoreColumn: string;
  segments: readonly string[];
  decisionThreshold: number;
  minimumGroupSize: number;
  falseDiscoveryRate: number;
  binCount?: number;
  thresholds: ThresholdLookup;
  reference: DatasetColumns;
  current: DatasetColumns;
}

export interface DatasetReport {
  rows: ResultRow[];
  /** For plots: the current data's reliability table, when labels allow one. */
  reliability: Outcome<ReliabilityBin[]>;
}

/**
 * Everything Vigil reports on a dataset, computed exactly: drift and quality of every feature and
 * of the score, then performance, calibration and fairness on the current data when it has labels,
 * and the label-free CBPE estimate in every case.
 */
export function datasetReport(input: DatasetReportInput): DatasetReport {
  const { reference, current, thresholds } = input;
  const columns: FeatureColumns[] = input.features.map((feature) =>
    feature.type === 'numeric'
      ? { name: feature.name, type: 'numeric', reference: reference.numeric(feature.name), current: current.numeric(feature.name) }
      : { name: feature.name, type: 'categorical', reference: reference.categorical(feature.name), current: current.categorical(feature.name) },
  );
  columns.push({ name: input.scoreColumn, type: 'numeric', reference: reference.scores, current: current.scores });
  const rows = driftAndQualityRows(
    columns.map((column) => compareColumns(column, input.binCount)),
    { thresholds, falseDiscoveryRate: input.falseDiscoveryRate },
  );

  const labels = current.labels;
  let reliability: Outcome<ReliabilityBin[]> = { defined: false, reason: 'the current data has no label column' };
  if (labels === null) {
    rows.push(...unmeasuredPerformanceRows(current.rowCount, 'the current data has no label column'));
  } else {
    rows.push(...performanceRows(binaryClassificationMetrics({ kind: 'binary-classification', scores: current.scores, labels, threshold: input.decisionThreshold }), thresholds));
    const calibration = calibrationMetrics(current.scores, labels);
    reliability = calibration.reliability;
    rows.push(...calibrationRows(calibration, thresholds));
    for (const segment of input.segments) {
      const groups = Array.from(current.segment(segment), (group) => group ?? MISSING_GROUP);
      rows.push(...fairnessRows(segment, groupFairness({ scores: current.scores, labels, groups, threshold: input.decisionThreshold, minimumGroupSize: input.minimumGroupSize }), thresholds));
    }
  }
  rows.push(...estimationRows(estimateConfidenceBasedPerformance(current.scores, input.decisionThreshold), thresholds));
  return { rows, reliability };
}
