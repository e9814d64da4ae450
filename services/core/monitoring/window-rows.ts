import type { ResultRow } from '../metrics/result-row.js';
import { windowReport } from '../metrics/rows/window-report.js';
import type { WindowSketch } from '../metrics/sketches/window-sketch.js';
import { reportSettings, thresholdLookup, type ModelSpec } from '../model-spec/model-spec.js';
import { labelRows, provisionalBelowCoverage, type WindowLabels } from './label-rows.js';
import { volumeRows, type SegmentGroupCounts } from './volume-rows.js';
import { poolRareGroups, tooSmallRow } from './window-plan.js';

/** What the rows of one window are made of: the window's counts and sketch, its baseline's. */
export interface WindowRowsInput {
  spec: ModelSpec;
  state: 'provisional' | 'final';
  baseline: {
    /** Predictions the baseline was fitted on. */
    rowCount: number;
    /** The baseline's predictions per group of each segment attribute. */
    segmentGroups: SegmentGroupCounts;
  };
  window: WindowLabels & {
    /** The window's predictions per group of each segment attribute. */
    segmentGroups: SegmentGroupCounts;
    /** The window's sketch on the baseline's profile; built only when the window is large enough to be reported on. */
    sketch: () => WindowSketch;
  };
}

/**
 * Every result row of one window. A window, or a baseline, with fewer predictions than the spec's
 * min_window_size has the one `sample_size` row instead of its metrics. Its volume rows are kept
 * all the same when the baseline is large enough: a count needs no minimum to be meaningful, the
 * volume rule has its own (at least 20 predictions expected of a group), and a site gone silent
 * is what shrinks a window below the minimum, so dropping the rows there would hide the silence.
 */
export function windowRows({ spec, state, baseline, window }: WindowRowsInput): ResultRow[] {
  const needed = spec.monitoring.minimumWindowSize;
  const { predictions, outcomes } = window;
  if (baseline.rowCount < needed) return [tooSmallRow({ side: 'baseline', predictions, needed, baselinePredictions: baseline.rowCount })];
  const volume = volumeRows({
    segments: spec.segments,
    baseline: baseline.segmentGroups,
    window: window.segmentGroups,
    windowPredictions: predictions,
    maximumGroups: spec.monitoring.maximumGroupsPerSegment,
  });
  if (predictions < needed) return [tooSmallRow({ side: 'window', predictions, needed, baselinePredictions: baseline.rowCount }), ...volume];
  const sketch = window.sketch();
  poolRareGroups(sketch, spec.monitoring.maximumGroupsPerSegment);
  return [
    ...provisionalBelowCoverage(windowReport({ window: sketch, ...reportSettings(spec) }).rows, { predictions, outcomes }, spec.monitoring.minimumLabelCoverage),
    ...labelRows(window, state, thresholdLookup(spec)),
    ...volume,
  ];
}
