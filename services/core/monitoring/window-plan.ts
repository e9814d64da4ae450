import { sha256Hex } from '../baseline/baseline-version.js';
import { resultRow, type ResultRow } from '../metrics/result-row.js';
import { ScoreLabelSketch } from '../metrics/sketches/score-label-sketch.js';
import type { WindowSketch } from '../metrics/sketches/window-sketch.js';
import type { ModelSpec } from '../model-spec/model-spec.js';
import { DAY_MS } from '../time/duration.js';

/**
 * What the monitor decides about a window without touching storage: where windows start, when a
 * window is final, which production range a trailing baseline covers, and the row of a window
 * too small to report on.
 */

/** The start of the tumbling window of `size` holding `time`: windows start at whole multiples of their size since the epoch. */
export const windowStartOf = (time: number, sizeMs: number): number => Math.floor(time / sizeMs) * sizeMs;

/**
 * A window is final once the model's event-time watermark (its latest stored prediction) has passed
 * the window's end by the label horizon: by then every outcome of its predictions should be in.
 */
export function windowState(windowEnd: number, watermark: number, labelHorizonMs: number): 'provisional' | 'final' {
  return watermark >= windowEnd + labelHorizonMs ? 'final' : 'provisional';
}

/** A production range of one model's predictions by occurred_at, `from` included, `to` excluded. */
export interface ProductionRange {
  from: number;
  to: number;
}

/**
 * The trailing baseline of a window: `length` of traffic ending `offset` before the window's day
 * starts. Aligning to the day (rather than to the window) lets every window of a day share one
 * fitted baseline, so a day of hourly windows fits one baseline, not 24.
 */
export function trailingBaselineRange(windowStart: number, lengthMs: number, offsetMs: number): ProductionRange {
  const to = windowStartOf(windowStart, DAY_MS) - offsetMs;
  return { from: to - lengthMs, to };
}

export type WindowTooSmall = { side: 'window' | 'baseline'; predictions: number; needed: number; baselinePredictions: number };

/**
 * The one row of a window whose metrics are undefined because it, or its baseline, holds fewer
 * predictions than the spec's min_window_size: a single row rather than every metric marked
 * undefined, because without enough predictions no metric row is meaningful, and one row keeps the
 * stored results and the Prometheus series of such a window small (a short window keeps only its
 * volume rows beside it: see windowRows). `threshold` is the number needed.
 */
export function tooSmallRow({ side, predictions, needed, baselinePredictions }: WindowTooSmall): ResultRow {
  const counted = side === 'window' ? predictions : baselinePredictions;
  return resultRow({
    kind: 'quality',
    metric: 'sample_size',
    n_current: predictions,
    n_reference: baselinePredictions,
    threshold: needed,
    status: 'undefined',
    reason: `${side} has ${counted} prediction${counted === 1 ? '' : 's'}; at least ${needed} needed`,
  });
}

/** The group every group beyond a segment's max_groups_per_segment most frequent ones is pooled into. */
export const POOLED_GROUP = 'other';

/**
 * Keeps the `maximumGroups` most frequent groups of each segment (ties by name) and pools the
 * others into `other`, so that the fairness rows of a window, and the series made of them, stay
 * bounded whatever values a segment attribute takes in production.
 */
export function poolRareGroups(window: WindowSketch, maximumGroups: number): void {
  for (const bySegment of window.groups.values()) {
    if (bySegment.size <= maximumGroups) continue;
    const size = (sketch: ScoreLabelSketch): number => sketch.positiveCount + sketch.negativeCount;
    const ranked = [...bySegment].sort(([leftName, left], [rightName, right]) => size(right) - size(left) || (leftName < rightName ? -1 : leftName > rightName ? 1 : 0));
    let pooled = new ScoreLabelSketch();
    for (const [group, sketch] of ranked.slice(maximumGroups)) {
      pooled = pooled.merge(sketch);
      bySegment.delete(group);
    }
    const existing = bySegment.get(POOLED_GROUP);
    bySegment.set(POOLED_GROUP, existing === undefined ? pooled : existing.merge(pooled));
  }
}

/** JSON with every object's keys in ascending order, so that equal specs give equal text whatever order their keys were built in. */
function canonicalText(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    typeof member === 'object' && member !== null && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member as Record<string, unknown>).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)))
      : member,
  );
}

/** The spec's hash as results record it: sha256 of its canonical JSON. */
export const specHash = (spec: ModelSpec): string => sha256Hex(canonicalText(spec));
