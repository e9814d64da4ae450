import { calibrationMetrics, type ReliabilityBin } from '../calibration/calibration.js';
import type { CategoricalValues } from '../drift/categorical-drift.js';
import { estimateWithReference, fitEstimationReference } from '../estimation/reference-estimation.js';
import { groupFairness, MISSING_GROUP } from '../fairness/group-fairness.js';
import { binaryClassificationMetrics } from '../performance/binary-classification.js';
import { undefinedBecause, type Outcome, type ResultRow } from '../result-row.js';
import { DEFAULT_RESOLUTION } from '../sketches/score-label-sketch.js';
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
  /**
   * 0 or 1 per row, null for a row without a label; null when the dataset has no label column:
   * performance is then estimated, not measured.
   */
  labels: ArrayLike<number | null> | null;
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

/** The current rows that have a label, and how many do not. */
interface LabelledRows {
  scores: Float64Array;
  /** Float64Array rather than Uint8Array, so that a label other than 0 or 1 reaches the metrics' checks unchanged. */
  labels: Float64Array;
  /** Index in the current data of each labelled row. */
  rows: number[];
  unlabelledCount: number;
}

function labelledRows(scores: ArrayLike<number>, labels: ArrayLike<number | null>): LabelledRows {
  const rows: number[] = [];
  for (let row = 0; row < labels.length; row++) if (labels[row] !== null) rows.push(row);
  return {
    scores: Float64Array.from(rows, (row) => scores[row] as number),
    labels: Float64Array.from(rows, (row) => labels[row] as number),
    rows,
    unlabelledCount: labels.length - rows.length,
  };
}

/**
 * Everything Vigil reports on a dataset, computed exactly: drift and quality of every feature and
 * of the score, then performance, calibration and fairness on the current rows that have a label
 * (the others are left out, and every row of those kinds says how many), and the label-free CBPE
 * estimate on all rows in every case, calibrated on the reference's labelled rows with its
 * sampling-error band (reference-estimation.ts).
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

  const labelled = current.labels === null ? null : labelledRows(current.scores, current.labels);
  let reliability: Outcome<ReliabilityBin[]>;
  if (labelled === null || labelled.rows.length === 0) {
    const why = labelled === null ? 'the current data has no label column' : 'no row of the current data has a label';
    rows.push(...unmeasuredPerformanceRows(current.rowCount, why));
    reliability = undefinedBecause(why);
  } else {
    const measured = measuredRows(input, labelled);
    rows.push(...measured.rows);
    reliability = measured.reliability;
  }
  // Calibrated on the reference's labelled rows as a monitored window's profile is, so both give one estimate.
  const estimation = fitEstimationReference(reference.scores, reference.labels, DEFAULT_RESOLUTION);
  const { report, context } = estimateWithReference(estimation, current.scores, input.decisionThreshold, DEFAULT_RESOLUTION);
  rows.push(...estimationRows(report, thresholds, context));
  return { rows, reliability };
}

/** Performance, calibration and fairness on the labelled rows, each noting the rows left out. */
function measuredRows(input: DatasetReportInput, labelled: LabelledRows): DatasetReport {
  const { scores, labels, unlabelledCount } = labelled;
  const { thresholds, decisionThreshold: threshold } = input;
  const rows: ResultRow[] = [];
  rows.push(...performanceRows(binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold }), thresholds));
  const calibration = calibrationMetrics(scores, labels);
  rows.push(...calibrationRows(calibration, thresholds));
  for (const segment of input.segments) {
    const values = input.current.segment(segment);
    const groups = labelled.rows.map((row) => values[row] ?? MISSING_GROUP);
    rows.push(...fairnessRows(segment, groupFairness({ scores, labels, groups, threshold, minimumGroupSize: input.minimumGroupSize }), thresholds));
  }
  if (unlabelledCount === 0) return { rows, reliability: calibration.reliability };
  const leftOut = `${unlabelledCount} row${unlabelledCount === 1 ? '' : 's'} without a label left out`;
  return {
    rows: rows.map((row) => ({ ...row, reason: row.reason === null ? leftOut : `${row.reason}; ${leftOut}` })),
    reliability: calibration.reliability,
  };
}
