import type { SerializedLabelDelaySketch } from '../metrics/sketches/label-delay-sketch.js';
import type { SerializedScoreLabelSketch } from '../metrics/sketches/score-label-sketch.js';
import type { ReferenceProfile, SerializedWindowSketch } from '../metrics/sketches/window-sketch.js';
import type { SegmentGroupCounts } from './volume-rows.js';

/**
 * A window's cells (its sketches, the accounting of its stored events, its label delays and its
 * predictions per segment group) and how the cells of adjacent spans add up to those of the span
 * they cover. Every prediction belongs to the span of its occurred_at and every outcome to the span
 * of its prediction (or of its own observed_at when its prediction is not stored), whatever the
 * span's length, so the cells of a window are those of its parts merged: counts, minima and maxima
 * exactly, sums with compensation (WindowCellsMerger).
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

export const ACCOUNTING_FIELDS = [
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
 * A window's cells in columns, the form parts are merged in: each sketch's non-empty cells as
 * typed arrays, ascending, in the order of the reference profile's features and segment
 * attributes. decodeCellColumns reads stored cells into it directly, with a handful of
 * allocations per sketch however many cells it has; cellColumnsOf takes cells read from events.
 */
export interface CellColumns {
  accounting: WindowAccounting;
  /** Per segment attribute of the profile, [group, predictions] pairs. */
  segmentGroups: (readonly [string, number])[][];
  labelDelays: SerializedLabelDelaySketch['buckets'];
  /** Per feature of the profile. */
  features: (NumericColumns | CategoricalColumns)[];
  scores: { resolution: number; bins: Uint32Array; counts: Float64Array; sums: Float64Array };
  labelled: ScoreLabelColumns;
  /** Per segment attribute of the profile, [group, bins] pairs. */
  groups: (readonly [string, ScoreLabelColumns])[][];
}

export interface NumericColumns {
  type: 'numeric';
  counts: number[];
  missingCount: number;
  outOfRangeCount: number;
  indices: Float64Array;
  cellCounts: Float64Array;
  sums: Float64Array;
  minima: Float64Array;
  maxima: Float64Array;
}

export interface CategoricalColumns {
  type: 'categorical';
  counts: (readonly [string, number])[];
  totalCount: number;
  missingCount: number;
}

export interface ScoreLabelColumns {
  resolution: number;
  bins: Uint32Array;
  positives: Float64Array;
  negatives: Float64Array;
  sums: Float64Array;
  squaredScoreSum: number;
  positiveScoreSum: number;
  logLossSum: number;
}

/** The columns of cells in their serialised form, on the profile they were binned on. */
export function cellColumnsOf(profile: ReferenceProfile, cells: WindowCells): CellColumns {
  const scoreLabel = (sketch: SerializedScoreLabelSketch): ScoreLabelColumns => ({
    resolution: sketch.resolution,
    bins: Uint32Array.from(sketch.bins, (bin) => bin[0]),
    positives: Float64Array.from(sketch.bins, (bin) => bin[1]),
    negatives: Float64Array.from(sketch.bins, (bin) => bin[2]),
    sums: Float64Array.from(sketch.bins, (bin) => bin[3]),
    squaredScoreSum: sketch.squaredScoreSum,
    positiveScoreSum: sketch.positiveScoreSum,
    logLossSum: sketch.logLossSum,
  });
  const { sketch } = cells;
  return {
    accounting: { ...cells.accounting },
    segmentGroups: profile.shape.segments.map((segment) => [...(cells.segmentGroups.get(segment) ?? [])]),
    labelDelays: cells.labelDelays.buckets,
    features: profile.features.map((feature) => {
      const stored = sketch.features[feature.name];
      if (stored === undefined) throw new RangeError(`the cells have no feature ${feature.name}`);
      if (feature.type === 'numeric') {
        if (!('values' in stored)) throw new RangeError(`feature ${feature.name} is numeric, its cells are not`);
        const grid = stored.values.cells;
        return {
          type: 'numeric',
          counts: [...stored.counts],
          missingCount: stored.missingCount,
          outOfRangeCount: stored.outOfRangeCount,
          indices: Float64Array.from(grid, (cell) => cell[0]),
          cellCounts: Float64Array.from(grid, (cell) => cell[1]),
          sums: Float64Array.from(grid, (cell) => cell[2]),
          minima: Float64Array.from(grid, (cell) => cell[3]),
          maxima: Float64Array.from(grid, (cell) => cell[4]),
        };
      }
      if ('values' in stored) throw new RangeError(`feature ${feature.name} is categorical, its cells are not`);
      return { type: 'categorical', counts: Object.entries(stored.counts), totalCount: stored.totalCount, missingCount: stored.missingCount };
    }),
    scores: {
      resolution: sketch.scores.resolution,
      bins: Uint32Array.from(sketch.scores.bins, (bin) => bin[0]),
      counts: Float64Array.from(sketch.scores.bins, (bin) => bin[1]),
      sums: Float64Array.from(sketch.scores.bins, (bin) => bin[2]),
    },
    labelled: scoreLabel(sketch.labelled),
    groups: profile.shape.segments.map((segment) => Object.entries(sketch.groups[segment] ?? {}).map(([group, bins]) => [group, scoreLabel(bins)] as const)),
  };
}

/** Cells in their serialised form from their columns, on the profile they were binned on. */
export function windowCellsOf(profile: ReferenceProfile, columns: CellColumns): WindowCells {
  const scoreLabel = (bins: ScoreLabelColumns): SerializedScoreLabelSketch => ({
    resolution: bins.resolution,
    bins: Array.from(bins.bins, (bin, index) => [bin, bins.positives[index]!, bins.negatives[index]!, bins.sums[index]!]),
    squaredScoreSum: bins.squaredScoreSum,
    positiveScoreSum: bins.positiveScoreSum,
    logLossSum: bins.logLossSum,
  });
  const features: SerializedWindowSketch['features'] = {};
  profile.features.forEach((feature, position) => {
    const stored = columns.features[position]!;
    if (feature.type === 'numeric' && stored.type === 'numeric') {
      features[feature.name] = {
        counts: [...stored.counts],
        missingCount: stored.missingCount,
        outOfRangeCount: stored.outOfRangeCount,
        values: {
          grid: { ...feature.profile.values.grid },
          cells: Array.from(stored.indices, (index, cell) => [index, stored.cellCounts[cell]!, stored.sums[cell]!, stored.minima[cell]!, stored.maxima[cell]!]),
        },
      };
    } else if (feature.type === 'categorical' && stored.type === 'categorical') {
      features[feature.name] = { counts: Object.fromEntries(stored.counts), totalCount: stored.totalCount, missingCount: stored.missingCount };
    } else throw new RangeError(`feature ${feature.name} is ${feature.type}, its cells are not`);
  });
  const { scores } = columns;
  return {
    sketch: {
      version: 1,
      features,
      scores: { resolution: scores.resolution, bins: Array.from(scores.bins, (bin, index) => [bin, scores.counts[index]!, scores.sums[index]!]) },
      labelled: scoreLabel(columns.labelled),
      groups: Object.fromEntries(profile.shape.segments.map((segment, position) => [segment, Object.fromEntries(columns.groups[position]!.map(([group, bins]) => [group, scoreLabel(bins)]))])),
    },
    accounting: { ...columns.accounting },
    labelDelays: { buckets: columns.labelDelays.map((bucket) => [...bucket]) },
    segmentGroups: new Map(profile.shape.segments.map((segment, position) => [segment, new Map(columns.segmentGroups[position])])),
  };
}

/**
 * The cells of the span that parts cover together, added one part at a time into running sums on
 * the parts' common reference profile: dense arrays for the score bins, the non-empty grid cells of
 * each numeric feature in ascending columns. It holds the sums and one part, whatever the number
 * of parts, and adds a part in time proportional to its cells.
 *
 * Every sum keeps the rounding error of each addition beside it (Neumaier's compensation) and is
 * rounded once, when the cells are taken: a merged sum is the parts' sums added to within about
 * one rounding, so it does not depend on the order the parts come in (it could only where the
 * exact total falls within about 2⁻¹⁰⁶ of it of a rounding boundary). Monitors that read a
 * window's stored parts in whatever order their queries return, or compute some of them first,
 * give the same cells.
 */
export class WindowCellsMerger {
  private readonly numeric = new Map<number, CompensatedNumericColumns>();
  private readonly categorical = new Map<number, { counts: Map<string, number>; totalCount: number; missingCount: number }>();
  private scores: { counts: Float64Array; sums: CompensatedSums } | null = null;
  private population: LabelledBins | null = null;
  /** Per segment attribute of the profile, its groups' score-label bins. */
  private readonly groups: Map<string, LabelledBins>[];
  private readonly delays = new Map<number, { count: number; minimum: number; maximum: number }>();
  private readonly accounting: WindowAccounting = emptyAccounting();
  private readonly segmentGroups: Map<string, number>[];
  private parts = 0;

  constructor(private readonly profile: ReferenceProfile) {
    this.groups = profile.shape.segments.map(() => new Map());
    this.segmentGroups = profile.shape.segments.map(() => new Map());
  }

  /** Adds a part's cells read from its events. */
  addCells(part: WindowCells): void {
    this.add(cellColumnsOf(this.profile, part));
  }

  /** Adds a part's cells in columns (decodeCellColumns, cellColumnsOf) on the merger's profile. */
  add(part: CellColumns): void {
    if (part.features.length !== this.profile.features.length) throw new RangeError(`a part has ${part.features.length} features, the profile ${this.profile.features.length}`);
    part.features.forEach((feature, position) => {
      if (feature.type === 'numeric') this.addNumeric(position, feature);
      else this.addCategorical(position, feature);
    });
    const { scores } = part;
    if (this.scores === null) this.scores = { counts: new Float64Array(scores.resolution), sums: compensatedSums(scores.resolution) };
    if (scores.resolution !== this.scores.counts.length) throw new RangeError(`a part has ${scores.resolution} score bins, the others ${this.scores.counts.length}`);
    for (let index = 0; index < scores.bins.length; index++) {
      const bin = scores.bins[index]!;
      this.scores.counts[bin]! += scores.counts[index]!;
      addCompensated(this.scores.sums, bin, scores.sums[index]!);
    }
    this.population = addLabelled(this.population, part.labelled);
    part.groups.forEach((groups, position) => {
      const sums = this.groups[position]!;
      for (const [group, bins] of groups) sums.set(group, addLabelled(sums.get(group) ?? null, bins));
    });
    for (const [key, count, minimum, maximum] of part.labelDelays) {
      const bucket = this.delays.get(key);
      if (bucket === undefined) this.delays.set(key, { count, minimum, maximum });
      else {
        bucket.count += count;
        if (minimum < bucket.minimum) bucket.minimum = minimum;
        if (maximum > bucket.maximum) bucket.maximum = maximum;
      }
    }
    for (const field of ACCOUNTING_FIELDS) this.accounting[field] += part.accounting[field];
    part.segmentGroups.forEach((groups, position) => {
      const sums = this.segmentGroups[position]!;
      for (const [group, count] of groups) sums.set(group, (sums.get(group) ?? 0) + count);
    });
    this.parts += 1;
  }

  private addNumeric(position: number, part: NumericColumns): void {
    const sums = this.numeric.get(position);
    if (sums === undefined) {
      // The first part's columns are the sums so far: a merge makes new columns, never writes into a part's.
      this.numeric.set(position, { ...part, counts: [...part.counts], compensations: new Float64Array(part.indices.length) });
      return;
    }
    if (part.counts.length !== sums.counts.length) throw new RangeError(`a feature has ${part.counts.length} bins in a part, ${sums.counts.length} in the others`);
    part.counts.forEach((count, bin) => (sums.counts[bin]! += count));
    sums.missingCount += part.missingCount;
    sums.outOfRangeCount += part.outOfRangeCount;
    // Both ascending: one merge of the two columns into new ones.
    const length = sums.indices.length + part.indices.length;
    const merged = { indices: new Float64Array(length), cellCounts: new Float64Array(length), sums: compensatedSums(length), minima: new Float64Array(length), maxima: new Float64Array(length) };
    let left = 0;
    let right = 0;
    let cell = 0;
    while (left < sums.indices.length || right < part.indices.length) {
      const leftIndex = left < sums.indices.length ? sums.indices[left]! : Infinity;
      const rightIndex = right < part.indices.length ? part.indices[right]! : Infinity;
      if (leftIndex < rightIndex) {
        merged.indices[cell] = leftIndex;
        merged.cellCounts[cell] = sums.cellCounts[left]!;
        merged.sums.values[cell] = sums.sums[left]!;
        merged.sums.compensations[cell] = sums.compensations[left]!;
        merged.minima[cell] = sums.minima[left]!;
        merged.maxima[cell] = sums.maxima[left]!;
        left += 1;
      } else if (rightIndex < leftIndex) {
        merged.indices[cell] = rightIndex;
        merged.cellCounts[cell] = part.cellCounts[right]!;
        merged.sums.values[cell] = part.sums[right]!;
        merged.minima[cell] = part.minima[right]!;
        merged.maxima[cell] = part.maxima[right]!;
        right += 1;
      } else {
        merged.indices[cell] = leftIndex;
        merged.cellCounts[cell] = sums.cellCounts[left]! + part.cellCounts[right]!;
        merged.sums.values[cell] = sums.sums[left]!;
        merged.sums.compensations[cell] = sums.compensations[left]!;
        addCompensated(merged.sums, cell, part.sums[right]!);
        merged.minima[cell] = Math.min(sums.minima[left]!, part.minima[right]!);
        merged.maxima[cell] = Math.max(sums.maxima[left]!, part.maxima[right]!);
        left += 1;
        right += 1;
      }
      cell += 1;
    }
    sums.indices = merged.indices.subarray(0, cell);
    sums.cellCounts = merged.cellCounts.subarray(0, cell);
    sums.sums = merged.sums.values.subarray(0, cell);
    sums.compensations = merged.sums.compensations.subarray(0, cell);
    sums.minima = merged.minima.subarray(0, cell);
    sums.maxima = merged.maxima.subarray(0, cell);
  }

  private addCategorical(position: number, part: CategoricalColumns): void {
    let sums = this.categorical.get(position);
    if (sums === undefined) this.categorical.set(position, (sums = { counts: new Map(), totalCount: 0, missingCount: 0 }));
    for (const [category, count] of part.counts) sums.counts.set(category, (sums.counts.get(category) ?? 0) + count);
    sums.totalCount += part.totalCount;
    sums.missingCount += part.missingCount;
  }

  /** The merged cells; at least one part must have been added. */
  cells(): WindowCells {
    return windowCellsOf(this.profile, this.columns());
  }

  private columns(): CellColumns {
    if (this.parts === 0 || this.scores === null) throw new RangeError('no window cells to merge');
    const { counts, sums } = this.scores;
    const resolution = counts.length;
    const scoreBins = Uint32Array.from(nonEmptyBins(counts));
    return {
      accounting: { ...this.accounting },
      segmentGroups: this.segmentGroups.map((groups) => [...groups].sort(byKey)),
      labelDelays: [...this.delays].sort(([left], [right]) => left - right).map(([key, bucket]) => [key, bucket.count, bucket.minimum, bucket.maximum]),
      features: this.profile.features.map((feature, position) => {
        if (feature.type === 'numeric') {
          const { compensations, ...merged } = this.numeric.get(position)!;
          return { ...merged, sums: merged.sums.map((sum, cell) => sum + compensations[cell]!) };
        }
        const merged = this.categorical.get(position)!;
        return { type: 'categorical', counts: [...merged.counts].sort(byKey), totalCount: merged.totalCount, missingCount: merged.missingCount };
      }),
      scores: { resolution, bins: scoreBins, counts: Float64Array.from(scoreBins, (bin) => counts[bin]!), sums: Float64Array.from(scoreBins, (bin) => roundedSum(sums, bin)) },
      labelled: this.population === null ? emptyScoreLabel(resolution) : scoreLabelColumns(this.population),
      groups: this.groups.map((groups) => [...groups].sort(byKey).map(([group, bins]) => [group, scoreLabelColumns(bins)] as const)),
    };
  }
}

/** Orders [key, value] pairs by key, so that merged cells list groups and categories in one order whatever the parts' order. */
const byKey = ([left]: readonly [string, unknown], [right]: readonly [string, unknown]): number => (left < right ? -1 : left > right ? 1 : 0);

/** Running sums, each with the rounding errors of its additions (Neumaier's compensation). */
interface CompensatedSums {
  values: Float64Array;
  compensations: Float64Array;
}

const compensatedSums = (length: number): CompensatedSums => ({ values: new Float64Array(length), compensations: new Float64Array(length) });

/** Adds `term` into sum `index`, keeping the addition's rounding error in its compensation. */
function addCompensated(sums: CompensatedSums, index: number, term: number): void {
  const sum = sums.values[index]!;
  const next = sum + term;
  // An infinite sum has no rounding error to keep (and ∞ − ∞ would make it NaN).
  if (Number.isFinite(next)) sums.compensations[index]! += Math.abs(sum) >= Math.abs(term) ? sum - next + term : term - next + sum;
  sums.values[index] = next;
}

const roundedSum = (sums: CompensatedSums, index: number): number => sums.values[index]! + sums.compensations[index]!;

/** A numeric feature's merged columns, with the compensation of each grid cell's sum. */
type CompensatedNumericColumns = NumericColumns & { compensations: Float64Array };

/** The score-label sums of squared scores, positive scores and log loss, in this order. */
const SQUARED_SCORES = 0;
const POSITIVE_SCORES = 1;
const LOG_LOSS = 2;

interface LabelledBins {
  resolution: number;
  positives: Float64Array;
  negatives: Float64Array;
  scoreSums: CompensatedSums;
  totals: CompensatedSums;
}

/** The running sums with a part's score-label bins added, new ones for the first. */
function addLabelled(sums: LabelledBins | null, part: ScoreLabelColumns): LabelledBins {
  const { resolution } = part;
  const into = sums ?? { resolution, positives: new Float64Array(resolution), negatives: new Float64Array(resolution), scoreSums: compensatedSums(resolution), totals: compensatedSums(3) };
  if (resolution !== into.resolution) throw new RangeError(`a part has ${resolution} score-label bins, the others ${into.resolution}`);
  for (let index = 0; index < part.bins.length; index++) {
    const bin = part.bins[index]!;
    into.positives[bin]! += part.positives[index]!;
    into.negatives[bin]! += part.negatives[index]!;
    addCompensated(into.scoreSums, bin, part.sums[index]!);
  }
  addCompensated(into.totals, SQUARED_SCORES, part.squaredScoreSum);
  addCompensated(into.totals, POSITIVE_SCORES, part.positiveScoreSum);
  addCompensated(into.totals, LOG_LOSS, part.logLossSum);
  return into;
}

/** The bins where `counts` (or the sum of both arrays) is not zero, ascending. */
function nonEmptyBins(counts: Float64Array, more?: Float64Array): number[] {
  const bins: number[] = [];
  for (let bin = 0; bin < counts.length; bin++) if (counts[bin]! + (more?.[bin] ?? 0) > 0) bins.push(bin);
  return bins;
}

function scoreLabelColumns(sums: LabelledBins): ScoreLabelColumns {
  const bins = Uint32Array.from(nonEmptyBins(sums.positives, sums.negatives));
  return {
    resolution: sums.resolution,
    bins,
    positives: Float64Array.from(bins, (bin) => sums.positives[bin]!),
    negatives: Float64Array.from(bins, (bin) => sums.negatives[bin]!),
    sums: Float64Array.from(bins, (bin) => roundedSum(sums.scoreSums, bin)),
    squaredScoreSum: roundedSum(sums.totals, SQUARED_SCORES),
    positiveScoreSum: roundedSum(sums.totals, POSITIVE_SCORES),
    logLossSum: roundedSum(sums.totals, LOG_LOSS),
  };
}

function emptyScoreLabel(resolution: number): ScoreLabelColumns {
  return { resolution, bins: new Uint32Array(0), positives: new Float64Array(0), negatives: new Float64Array(0), sums: new Float64Array(0), squaredScoreSum: 0, positiveScoreSum: 0, logLossSum: 0 };
}

const emptyAccounting = (): WindowAccounting => Object.fromEntries(ACCOUNTING_FIELDS.map((field) => [field, 0])) as unknown as WindowAccounting;

/**
 * The window size a window of `sizeMs` is made of: the largest of the other sizes that divides it,
 * or null when none does. Windows start at multiples of their size, so such parts tile it exactly.
 */
export function partSizeOf(sizeMs: number, sizesMs: readonly number[]): number | null {
  const divisors = sizesMs.filter((candidate) => candidate < sizeMs && sizeMs % candidate === 0);
  return divisors.length === 0 ? null : Math.max(...divisors);
}

/** What a window holds, as the monitor's window summaries count it: what changes when its content does. */
export interface WindowContent {
  windowStart: number;
  /** Stored predictions of the window, replays and repeats included, and when the last of them was stored (epoch ms). */
  predictions: number;
  predictionsStoredAt: number;
  /** Stored outcomes of those predictions, and when the last of them was stored (epoch ms, 0 for none). */
  outcomes: number;
  outcomesStoredAt: number;
}

/** A window's content with its signature, the four numbers as one text. */
export interface WindowSummary extends WindowContent {
  signature: string;
}

export function summaryOf(content: WindowContent): WindowSummary {
  return { ...content, signature: `${content.predictions}:${content.predictionsStoredAt}:${content.outcomes}:${content.outcomesStoredAt}` };
}

/** A window's summary made of its parts' summaries, which it keeps, by start, for the merge to check stored cells against. */
export interface ComposedSummary extends WindowSummary {
  parts: ReadonlyMap<number, WindowSummary>;
}

/**
 * The summaries of the windows of `sizeMs` from those of their parts: counts added up, the latest
 * storing time kept (a part without predictions has no summary and adds nothing). That is the
 * summary of the window counted whole, so a window's signature is one text however it was
 * summarised, and a larger window's stored parts are recognised whoever stored them.
 */
export function composeSummaries(parts: readonly WindowSummary[], sizeMs: number): ComposedSummary[] {
  const windows = new Map<number, WindowSummary[]>();
  for (const part of parts) {
    const start = Math.floor(part.windowStart / sizeMs) * sizeMs;
    const members = windows.get(start);
    if (members === undefined) windows.set(start, [part]);
    else members.push(part);
  }
  return [...windows].map(([windowStart, members]) => ({
    ...summaryOf({
      windowStart,
      predictions: members.reduce((total, part) => total + part.predictions, 0),
      predictionsStoredAt: Math.max(...members.map((part) => part.predictionsStoredAt)),
      outcomes: members.reduce((total, part) => total + part.outcomes, 0),
      outcomesStoredAt: Math.max(...members.map((part) => part.outcomesStoredAt)),
    }),
    parts: new Map(members.map((part) => [part.windowStart, part])),
  }));
}

/** The starts of the parts of `partSizeMs` that tile the window [start, start + sizeMs). */
export function partStarts(windowStart: number, sizeMs: number, partSizeMs: number): number[] {
  if (sizeMs % partSizeMs !== 0 || windowStart % partSizeMs !== 0) throw new RangeError(`parts of ${partSizeMs} ms do not tile a window of ${sizeMs} ms from ${windowStart}`);
  return Array.from({ length: sizeMs / partSizeMs }, (_, index) => windowStart + index * partSizeMs);
}

/** Stored cells that cannot be read on the profile: a malformed or foreign document. */
export class MalformedWindowCellsError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`stored window cells are malformed: ${reason}`, options);
    this.name = 'MalformedWindowCellsError';
  }
}
