import { categoricalDrift } from '../drift/categorical-drift.js';
import { binProbabilities, estimationContext } from '../estimation/reference-estimation.js';
import { compareGroups } from '../fairness/group-fairness.js';
import { DEFAULT_CONFIDENCE_LEVEL } from '../performance/binary-classification.js';
import { categoricalFeatureQuality } from '../quality/feature-quality.js';
import { defined, type ResultRow } from '../result-row.js';
import type { NumericFeatureSketch } from '../sketches/numeric-feature-sketch.js';
import type { ScoreLabelSketch } from '../sketches/score-label-sketch.js';
import type { WindowSketch } from '../sketches/window-sketch.js';
import type { DatasetReport } from './dataset-report.js';
import { driftAndQualityRows, sketchNote, type FeatureComparison } from './drift-rows.js';
import { calibrationRows, estimationRows, fairnessRows, performanceRows, unmeasuredPerformanceRows } from './model-rows.js';
import type { ThresholdLookup } from './threshold-policy.js';

export interface WindowReportInput {
  window: WindowSketch;
  decisionThreshold: number;
  minimumGroupSize: number;
  falseDiscoveryRate: number;
  thresholds: ThresholdLookup;
}

/**
 * The rows of datasetReport, from a window's sketches instead of its rows: the same metrics,
 * statuses and row shape. Counts-based metrics are exact; the others carry in their reason the
 * bound on their error (KS, Wasserstein, AUROC, average precision, the estimated AUROC) or say
 * that they were fitted on the score bins (calibration intercept and slope, DeLong intervals).
 */
export function windowReport(input: WindowReportInput): DatasetReport {
  const { window, thresholds, decisionThreshold } = input;
  const comparisons = window.profile.features.map((reference): FeatureComparison => {
    const current = window.feature(reference.name);
    if (reference.type === 'numeric') {
      const sketch = current.sketch as NumericFeatureSketch;
      const { drift, maximumErrors } = sketch.drift();
      return {
        name: reference.name,
        type: 'numeric',
        drift,
        maximumErrors,
        missingShare: sketch.missingShare(),
        outOfRangeShare: sketch.outOfRangeShare(),
        entries: { n_reference: reference.profile.totalCount, n_current: sketch.valueCount + sketch.missingCount },
      };
    }
    const counts = current.sketch as Exclude<typeof current.sketch, NumericFeatureSketch>;
    return {
      name: reference.name,
      type: 'categorical',
      drift: categoricalDrift(reference.counts, counts),
      missingShare: categoricalFeatureQuality(reference.counts, counts).currentMissingShare,
      entries: { n_reference: reference.counts.totalCount, n_current: counts.totalCount },
    };
  });
  const rows = driftAndQualityRows(comparisons, { thresholds, falseDiscoveryRate: input.falseDiscoveryRate });

  const labelled = window.labelled;
  const calibration = labelled.calibrationReport();
  if (window.outcomeCount === 0) {
    rows.push(...unmeasuredPerformanceRows(window.predictionCount, 'no outcome has arrived for this window yet'));
  } else {
    rows.push(...performanceRows(labelled.performanceReport(decisionThreshold), thresholds).map(binningNotes(labelled)));
    rows.push(...calibrationRows(calibration, thresholds).map(annotateCalibration));
    for (const [segment, bySegment] of window.groups) {
      const groups = [...bySegment].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
      const report = compareGroups(
        groups.map(([group, sketch]) => ({ group, size: sketch.positiveCount + sketch.negativeCount, performance: () => sketch.performanceReport(decisionThreshold) })),
        { threshold: decisionThreshold, minimumGroupSize: input.minimumGroupSize, confidenceLevel: DEFAULT_CONFIDENCE_LEVEL },
      );
      const notesOf = new Map(groups.map(([group, sketch]) => [group, binningNotes(sketch)]));
      rows.push(...fairnessRows(segment, report, thresholds).map((row) => (row.group === null ? row : notesOf.get(row.group)!(row))));
    }
  }
  // CBPE on each bin's calibrated probability when the reference has one, as the exact report applies it to each row.
  const estimation = window.profile.estimation;
  const probabilities = binProbabilities(estimation, window.scores.resolution);
  const estimate = window.scores.confidenceBasedEstimate(decisionThreshold, probabilities);
  const estimatedAuroc = window.scores.estimatedAuroc(probabilities);
  const context = estimationContext(estimation, window.predictionCount, estimatedAuroc.defined ? defined(estimatedAuroc.value.value) : estimatedAuroc);
  rows.push(...estimationRows(estimate, thresholds, context).map((row) => (estimatedAuroc.defined ? withNote(row, sketchNote(estimatedAuroc.value.maximumError)) : row)));
  return { rows, reliability: window.outcomeCount === 0 ? { defined: false, reason: 'no outcome has arrived for this window yet' } : calibration.reliability };
}

function withNote(row: ResultRow, note: string): ResultRow {
  if (row.status === 'undefined') return row;
  return { ...row, reason: row.reason === null ? note : `${row.reason}; ${note}` };
}

/**
 * Adds to a sketch's AUROC and average precision rows the bound on their error from binning the
 * scores; both bounds are computed once per sketch, however many rows pass through.
 */
function binningNotes(sketch: ScoreLabelSketch): (row: ResultRow) => ResultRow {
  const auroc = sketch.auroc();
  const averagePrecision = sketch.averagePrecision();
  return (row) => {
    if (row.metric === 'auroc' && auroc.defined) return withNote(row, `${sketchNote(auroc.value.maximumError)}; DeLong interval of the score bins`);
    if (row.metric === 'average_precision' && averagePrecision.defined) return withNote(row, sketchNote(averagePrecision.value.maximumError));
    return row;
  };
}

function annotateCalibration(row: ResultRow): ResultRow {
  return row.metric === 'calibration_intercept' || row.metric === 'calibration_slope'
    ? withNote(row, "from the window's sketches, fitted on the mean score of each score bin")
    : row;
}
