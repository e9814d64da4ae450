import { LabelDelaySketch, type SerializedLabelDelaySketch } from '../metrics/sketches/label-delay-sketch.js';
import { WindowSketch, type ReferenceProfile, type SerializedWindowSketch } from '../metrics/sketches/window-sketch.js';
import type { SegmentGroupCounts } from './volume-rows.js';

/**
 * A window's cells (its sketches, the accounting of its stored events, its label delays and its
 * predictions per segment group) and how the cells of adjacent spans add up to those of the span
 * they cover. Every prediction belongs to the span of its occurred_at and every outcome to the span
 * of its prediction (or of its own observed_at when its prediction is not stored), whatever the
 * span's length, so the cells of a window are those of its parts merged: counts, minima and maxima
 * exactly, sums up to the order of floating-point addition.
 */

/** Where every stored event of a window went. */
export interface WindowAccounting {
  /** Predictions in the window's sketches. */
  predictions: number;
  /** Stored predictions of the window whose prediction_id an earlier stored prediction carries. */
  repeatedPredictions: number;
  /** Predictions of the window left out whole: a feature of the wrong type, or a score outside [0, 1]. */
  refusedPredictions: number;
  /** Outcomes in the window's score-label sketches: the latest outcome of a sketched prediction, binary. */
  outcomes: number;
  /** Outcomes of the window's predictions that a later outcome of the same prediction replaced. */
  supersededOutcomes: number;
  /** Latest outcomes of sketched predictions that are not a binary 0/1 label. */
  unscoredOutcomes: number;
  /** Outcomes of refused predictions. */
  outcomesOfRefusedPredictions: number;
  /** Outcomes observed in the window whose prediction is not stored. */
  outcomesWithoutPrediction: number;
}

const ACCOUNTING_FIELDS = [
  'predictions',
  'repeatedPredictions',
  'refusedPredictions',
  'outcomes',
  'supersededOutcomes',
  'unscoredOutcomes',
  'outcomesOfRefusedPredictions',
  'outcomesWithoutPrediction',
] as const satisfies readonly (keyof WindowAccounting)[];

export interface WindowCells {
  /** The window's sketches in their serialised form: WindowSketch.fromJSON(profile, sketch). */
  sketch: SerializedWindowSketch;
  accounting: WindowAccounting;
  /** Milliseconds from prediction to outcome of the `accounting.outcomes`: LabelDelaySketch.fromJSON(labelDelays). */
  labelDelays: SerializedLabelDelaySketch;
  /** The window's predictions (those sketched) per group of each segment attribute. */
  segmentGroups: SegmentGroupCounts;
}

/**
 * The cells of the span that parts cover together, merged one part at a time on the parts' common
 * reference profile, so that it holds one part's cells beside the sum so far, whatever the number of parts.
 */
export class WindowCellsMerger {
  private sketch: WindowSketch;
  private delays = new LabelDelaySketch();
  private readonly accounting: WindowAccounting = Object.fromEntries(ACCOUNTING_FIELDS.map((field) => [field, 0])) as unknown as WindowAccounting;
  private readonly segmentGroups = new Map<string, Map<string, number>>();
  private parts = 0;

  constructor(private readonly profile: ReferenceProfile) {
    this.sketch = new WindowSketch(profile);
    for (const segment of profile.shape.segments) this.segmentGroups.set(segment, new Map());
  }

  /** Adds the cells of a part read from its events. */
  add(part: WindowCells): void {
    this.addRevived({ ...part, sketch: WindowSketch.fromJSON(this.profile, part.sketch), delays: LabelDelaySketch.fromJSON(part.labelDelays) });
  }

  /** Adds the cells of a part read back from storage (reviveWindowCells, on the same profile). */
  addRevived(part: RevivedWindowCells): void {
    this.sketch = this.sketch.merge(part.sketch);
    this.delays = this.delays.merge(part.delays);
    for (const field of ACCOUNTING_FIELDS) this.accounting[field] += part.accounting[field];
    for (const [segment, groups] of part.segmentGroups) {
      let merged = this.segmentGroups.get(segment);
      if (merged === undefined) this.segmentGroups.set(segment, (merged = new Map()));
      for (const [group, count] of groups) merged.set(group, (merged.get(group) ?? 0) + count);
    }
    this.parts += 1;
  }

  /** The merged cells; at least one part must have been added. */
  cells(): WindowCells {
    if (this.parts === 0) throw new RangeError('no window cells to merge');
    return { sketch: this.sketch.toJSON(), accounting: { ...this.accounting }, labelDelays: this.delays.toJSON(), segmentGroups: this.segmentGroups };
  }
}

/**
 * The window size a window of `sizeMs` is made of: the largest of the other sizes that divides it,
 * or null when none does. Windows start at multiples of their size, so such parts tile it exactly.
 */
export function partSizeOf(sizeMs: number, sizesMs: readonly number[]): number | null {
  const divisors = sizesMs.filter((candidate) => candidate < sizeMs && sizeMs % candidate === 0);
  return divisors.length === 0 ? null : Math.max(...divisors);
}

/** What the monitor's window summaries say of a window: the signature of its content and its stored predictions. */
export interface PartSummary {
  windowStart: number;
  signature: string;
  predictions: number;
}

/** A window's summary made of its parts' summaries, which it keeps, by start, for the merge to check stored cells against. */
export interface ComposedSummary extends PartSummary {
  parts: ReadonlyMap<number, PartSummary>;
}

/**
 * The summaries of the windows of `sizeMs` from those of their parts: predictions added up, the
 * signature the parts' signatures in order of start (a part without predictions has no summary and
 * adds nothing), so that it changes exactly when one of theirs does.
 */
export function composeSummaries(parts: readonly PartSummary[], sizeMs: number): ComposedSummary[] {
  const windows = new Map<number, PartSummary[]>();
  for (const part of parts) {
    const start = Math.floor(part.windowStart / sizeMs) * sizeMs;
    const members = windows.get(start);
    if (members === undefined) windows.set(start, [part]);
    else members.push(part);
  }
  return [...windows].map(([windowStart, members]) => {
    members.sort((left, right) => left.windowStart - right.windowStart);
    return {
      windowStart,
      signature: members.map((part) => `${part.windowStart}=${part.signature}`).join(' '),
      predictions: members.reduce((total, part) => total + part.predictions, 0),
      parts: new Map(members.map((part) => [part.windowStart, part])),
    };
  });
}

/** The starts of the parts of `partSizeMs` that tile the window [start, start + sizeMs). */
export function partStarts(windowStart: number, sizeMs: number, partSizeMs: number): number[] {
  if (sizeMs % partSizeMs !== 0 || windowStart % partSizeMs !== 0) throw new RangeError(`parts of ${partSizeMs} ms do not tile a window of ${sizeMs} ms from ${windowStart}`);
  return Array.from({ length: sizeMs / partSizeMs }, (_, index) => windowStart + index * partSizeMs);
}

/** The stored form of a window's cells: JSON, segment groups as [segment, [group, count][]][]. */
export function serializeWindowCells(cells: WindowCells): string {
  return JSON.stringify({
    version: 1,
    sketch: cells.sketch,
    accounting: cells.accounting,
    labelDelays: cells.labelDelays,
    segmentGroups: [...cells.segmentGroups].map(([segment, groups]) => [segment, [...groups]]),
  });
}

/** Stored cells that cannot be read on the profile: a malformed or foreign document. */
export class MalformedWindowCellsError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`stored window cells are malformed: ${reason}`, options);
    this.name = 'MalformedWindowCellsError';
  }
}

/** Stored cells read back into the core's sketches, ready to merge. */
export interface RevivedWindowCells {
  sketch: WindowSketch;
  delays: LabelDelaySketch;
  accounting: WindowAccounting;
  segmentGroups: SegmentGroupCounts;
}

/**
 * Reads stored cells back, checking every part on the profile they were computed with: the
 * sketches as WindowSketch.fromJSON and LabelDelaySketch.fromJSON check them, the counts as
 * non-negative whole numbers. Anything else is a MalformedWindowCellsError.
 */
export function reviveWindowCells(profile: ReferenceProfile, text: string): RevivedWindowCells {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new MalformedWindowCellsError('not JSON', { cause: error });
  }
  if (!isRecord(document) || document.version !== 1) throw new MalformedWindowCellsError('not a version 1 document');
  const { sketch, accounting, labelDelays, segmentGroups } = document;
  if (!isRecord(sketch) || !isRecord(accounting) || !isRecord(labelDelays) || !Array.isArray(segmentGroups)) throw new MalformedWindowCellsError('a part is missing');
  const counts = {} as WindowAccounting;
  for (const field of ACCOUNTING_FIELDS) {
    const value = accounting[field];
    if (!isCount(value)) throw new MalformedWindowCellsError(`accounting.${field} is not a count`);
    counts[field] = value;
  }
  const groups = new Map<string, Map<string, number>>();
  for (const entry of segmentGroups as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !Array.isArray(entry[1]) || groups.has(entry[0])) throw new MalformedWindowCellsError('segment groups are malformed');
    const bySegment = new Map<string, number>();
    for (const pair of entry[1] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isCount(pair[1]) || bySegment.has(pair[0])) throw new MalformedWindowCellsError(`groups of segment ${entry[0]} are malformed`);
      bySegment.set(pair[0], pair[1]);
    }
    groups.set(entry[0], bySegment);
  }
  try {
    return {
      sketch: WindowSketch.fromJSON(profile, sketch as unknown as SerializedWindowSketch),
      accounting: counts,
      delays: LabelDelaySketch.fromJSON(labelDelays as unknown as SerializedLabelDelaySketch),
      segmentGroups: groups,
    };
  } catch (error) {
    throw new MalformedWindowCellsError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
