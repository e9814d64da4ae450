import { LabelDelaySketch, type SerializedLabelDelaySketch } from '../metrics/sketches/label-delay-sketch.js';
import { MAXIMUM_RESOLUTION, type SerializedScoreLabelSketch } from '../metrics/sketches/score-label-sketch.js';
import type { ReferenceProfile } from '../metrics/sketches/window-sketch.js';
import { ByteReader, ByteWriter } from './byte-codec.js';
import {
  ACCOUNTING_FIELDS,
  MalformedWindowCellsError,
  windowCellsOf,
  type CategoricalColumns,
  type CellColumns,
  type NumericColumns,
  type ScoreLabelColumns,
  type WindowAccounting,
  type WindowCells,
} from './window-parts.js';

/**
 * The stored form of a window's cells: a binary document read on the reference profile the cells
 * were binned on, which gives the features' names, types, bins and grids and the segment
 * attributes, so none of them is written. A day of a million predictions has about 300,000
 * non-empty cells: as JSON they take 10 MB and a second to parse; here a few bytes each.
 *
 * Layout (byte-codec.ts: varints, doubles, strings):
 *   'V' 'C' 2                                          magic and version
 *   8 × count                                          the accounting, in ACCOUNTING_FIELDS order
 *   per segment attribute of the profile:             predictions per group
 *     count n, n × (string group, count)
 *   count n, n × (double key, count, double min, double max)   label delay buckets
 *   per feature of the profile:
 *     numeric:     1, count bins, bins × count, count missing, count out of range,
 *                  count cells, cells × (index, count, double sum, double min, double max)
 *     categorical: 2, count total, count missing, count n, n × (string category, count)
 *   scores: count resolution, count n, n × (bin gap, count, double sum)
 *   the population's score-label bins, then per segment attribute: count n, n × (string group, score-label bins)
 *     score-label bins: count resolution, count n, n × (bin gap, positives, negatives, double sum),
 *                       double squared scores, double positive scores, double log loss
 * Indices ascend. A grid cell's index is written as its step from the previous one, or as 0 and
 * then the index as a double (the first cell, or a step beyond a safe integer); a bin as the number
 * of empty bins before it. The document ends with its last field: trailing bytes are refused.
 */

const MAGIC = [0x56, 0x43] as const;
const VERSION = 2;
const NUMERIC = 1;
const CATEGORICAL = 2;

export function encodeWindowCells(profile: ReferenceProfile, cells: WindowCells): Uint8Array {
  const out = new ByteWriter();
  for (const byte of MAGIC) out.byte(byte);
  out.byte(VERSION);
  for (const field of ACCOUNTING_FIELDS) out.uint(cells.accounting[field]);
  for (const segment of profile.shape.segments) {
    const groups = cells.segmentGroups.get(segment) ?? new Map<string, number>();
    out.uint(groups.size);
    for (const [group, count] of groups) {
      out.string(group);
      out.uint(count);
    }
  }
  out.uint(cells.labelDelays.buckets.length);
  for (const [key, count, minimum, maximum] of cells.labelDelays.buckets) {
    out.double(key);
    out.uint(count);
    out.double(minimum);
    out.double(maximum);
  }
  for (const feature of profile.features) {
    const stored = cells.sketch.features[feature.name];
    if (stored === undefined) throw new RangeError(`the cells have no feature ${feature.name}`);
    if (feature.type === 'numeric') {
      if (!('values' in stored)) throw new RangeError(`feature ${feature.name} is numeric, its cells are not`);
      out.byte(NUMERIC);
      out.uint(stored.counts.length);
      for (const count of stored.counts) out.uint(count);
      out.uint(stored.missingCount);
      out.uint(stored.outOfRangeCount);
      out.uint(stored.values.cells.length);
      let previous: number | null = null;
      for (const [index, count, sum, minimum, maximum] of stored.values.cells) {
        const step: number = previous === null ? 0 : index - previous;
        if (previous !== null && step >= 1 && Number.isSafeInteger(step) && previous + step === index) out.uint(step);
        else {
          out.uint(0);
          out.double(index);
        }
        out.uint(count);
        out.double(sum);
        out.double(minimum);
        out.double(maximum);
        previous = index;
      }
    } else {
      if ('values' in stored) throw new RangeError(`feature ${feature.name} is categorical, its cells are not`);
      out.byte(CATEGORICAL);
      out.uint(stored.totalCount);
      out.uint(stored.missingCount);
      const categories = Object.entries(stored.counts);
      out.uint(categories.length);
      for (const [category, count] of categories) {
        out.string(category);
        out.uint(count);
      }
    }
  }
  const { scores } = cells.sketch;
  out.uint(scores.resolution);
  out.uint(scores.bins.length);
  let previousBin = -1;
  for (const [bin, count, sum] of scores.bins) {
    out.uint(bin - previousBin - 1);
    out.uint(count);
    out.double(sum);
    previousBin = bin;
  }
  writeScoreLabel(out, cells.sketch.labelled);
  for (const segment of profile.shape.segments) {
    const groups = Object.entries(cells.sketch.groups[segment] ?? {});
    out.uint(groups.length);
    for (const [group, sketch] of groups) {
      out.string(group);
      writeScoreLabel(out, sketch);
    }
  }
  return out.finish();
}

function writeScoreLabel(out: ByteWriter, sketch: SerializedScoreLabelSketch): void {
  out.uint(sketch.resolution);
  out.uint(sketch.bins.length);
  let previous = -1;
  for (const [bin, positives, negatives, sum] of sketch.bins) {
    out.uint(bin - previous - 1);
    out.uint(positives);
    out.uint(negatives);
    out.double(sum);
    previous = bin;
  }
  out.double(sketch.squaredScoreSum);
  out.double(sketch.positiveScoreSum);
  out.double(sketch.logLossSum);
}

/**
 * Reads a document encodeWindowCells wrote on the same profile into columns, as WindowCellsMerger
 * adds them. Anything else (another format, another profile's shape, a truncated or damaged
 * document, cells out of order or empty, a declared size beyond the bytes that follow, trailing
 * bytes) is a MalformedWindowCellsError: every declared count is checked against the bytes left
 * before anything is allocated for it, so reading takes time and memory in proportion to the
 * document's length.
 */
export function decodeCellColumns(profile: ReferenceProfile, bytes: Uint8Array): CellColumns {
  try {
    return readColumns(profile, new ByteReader(bytes));
  } catch (error) {
    if (error instanceof MalformedWindowCellsError) throw error;
    if (error instanceof RangeError) throw new MalformedWindowCellsError(error.message, { cause: error });
    throw error;
  }
}

/** Reads a document encodeWindowCells wrote on the same profile back into the cells it was written from. */
export function decodeWindowCells(profile: ReferenceProfile, bytes: Uint8Array): WindowCells {
  return windowCellsOf(profile, decodeCellColumns(profile, bytes));
}

function readColumns(profile: ReferenceProfile, input: ByteReader): CellColumns {
  for (const byte of MAGIC) if (input.byte() !== byte) throw new RangeError('not a window cells document');
  const version = input.byte();
  if (version !== VERSION) throw new RangeError(`version ${version}, not ${VERSION}`);
  const accounting = {} as WindowAccounting;
  for (const field of ACCOUNTING_FIELDS) accounting[field] = input.uint();
  const segmentGroups = profile.shape.segments.map((segment) => {
    const groups = new Map<string, number>();
    const count = input.count(2, `groups of segment ${segment}`);
    for (let index = 0; index < count; index++) {
      const group = input.string();
      if (groups.has(group)) throw new RangeError(`group ${group} of segment ${segment} appears twice`);
      groups.set(group, input.uint());
    }
    return [...groups];
  });
  const labelDelays: SerializedLabelDelaySketch['buckets'] = [];
  const bucketCount = input.count(25, 'label delay buckets');
  for (let index = 0; index < bucketCount; index++) labelDelays.push([input.double(), input.uint(), input.double(), input.double()]);
  // The sketch's own checks: keys in order, each delay within its bucket.
  LabelDelaySketch.fromJSON({ buckets: labelDelays });

  const features = profile.features.map((feature): NumericColumns | CategoricalColumns => {
    const type = input.byte();
    if (feature.type === 'numeric') {
      if (type !== NUMERIC) throw new RangeError(`feature ${feature.name} is not numeric in the document`);
      const binCount = input.count(1, `bins of ${feature.name}`);
      if (binCount !== feature.profile.innerEdges.length + 1) throw new RangeError(`feature ${feature.name} has ${binCount} bins, its profile ${feature.profile.innerEdges.length + 1}`);
      const counts = Array.from({ length: binCount }, () => input.uint());
      const missingCount = input.uint();
      const outOfRangeCount = input.uint();
      const cellCount = input.count(26, `cells of ${feature.name}`);
      const columns: NumericColumns = {
        type: 'numeric',
        counts,
        missingCount,
        outOfRangeCount,
        indices: new Float64Array(cellCount),
        cellCounts: new Float64Array(cellCount),
        sums: new Float64Array(cellCount),
        minima: new Float64Array(cellCount),
        maxima: new Float64Array(cellCount),
      };
      let previous = -Infinity;
      for (let cell = 0; cell < cellCount; cell++) {
        const step = input.uint();
        const index = step === 0 ? input.double() : previous + step;
        if (!Number.isSafeInteger(index) || index <= previous || Object.is(index, -0)) throw new RangeError(`cell ${index} of ${feature.name} is not a whole index after ${previous}`);
        const count = input.uint();
        const sum = input.double();
        const minimum = input.double();
        const maximum = input.double();
        if (count < 1 || !(minimum <= maximum)) throw new RangeError(`cell ${index} of ${feature.name} is malformed`);
        columns.indices[cell] = index;
        columns.cellCounts[cell] = count;
        columns.sums[cell] = sum;
        columns.minima[cell] = minimum;
        columns.maxima[cell] = maximum;
        previous = index;
      }
      return columns;
    }
    if (type !== CATEGORICAL) throw new RangeError(`feature ${feature.name} is not categorical in the document`);
    const totalCount = input.uint();
    const missingCount = input.uint();
    const categoryCount = input.count(2, `categories of ${feature.name}`);
    const counts = new Map<string, number>();
    let counted = missingCount;
    for (let index = 0; index < categoryCount; index++) {
      const category = input.string();
      if (counts.has(category)) throw new RangeError(`category ${category} of ${feature.name} appears twice`);
      const count = input.uint();
      if (count < 1) throw new RangeError(`category ${category} of ${feature.name} has no value`);
      counts.set(category, count);
      counted += count;
    }
    if (counted !== totalCount) throw new RangeError(`feature ${feature.name} counts ${counted} values, its total is ${totalCount}`);
    return { type: 'categorical', counts: [...counts], totalCount, missingCount };
  });
  const resolution = readResolution(input);
  const scoreCount = input.count(10, 'score bins');
  const scores = { resolution, bins: new Uint32Array(scoreCount), counts: new Float64Array(scoreCount), sums: new Float64Array(scoreCount) };
  let previousBin = -1;
  for (let index = 0; index < scoreCount; index++) {
    const bin = previousBin + 1 + input.uint();
    if (bin >= resolution) throw new RangeError(`score bin ${bin} is beyond ${resolution} bins`);
    const count = input.uint();
    if (count < 1) throw new RangeError(`score bin ${bin} is empty`);
    scores.bins[index] = bin;
    scores.counts[index] = count;
    scores.sums[index] = input.double();
    previousBin = bin;
  }
  const labelled = readScoreLabel(input, 'the population');
  const groups = profile.shape.segments.map((segment) => {
    const bySegment = new Map<string, ScoreLabelColumns>();
    const count = input.count(27, `score-label groups of ${segment}`);
    for (let index = 0; index < count; index++) {
      const group = input.string();
      if (bySegment.has(group)) throw new RangeError(`group ${group} of segment ${segment} appears twice`);
      bySegment.set(group, readScoreLabel(input, `${segment}=${group}`));
    }
    return [...bySegment];
  });
  if (!input.atEnd) throw new RangeError(`${input.remaining} bytes follow the document`);
  return { accounting, segmentGroups, labelDelays, features, scores, labelled, groups };
}

function readResolution(input: ByteReader): number {
  const resolution = input.uint();
  if (resolution < 1 || resolution > MAXIMUM_RESOLUTION) throw new RangeError(`a resolution of ${resolution} bins is outside 1 to ${MAXIMUM_RESOLUTION}`);
  return resolution;
}

function readScoreLabel(input: ByteReader, of: string): ScoreLabelColumns {
  const resolution = readResolution(input);
  const count = input.count(11, `score-label bins of ${of}`);
  const columns: ScoreLabelColumns = {
    resolution,
    bins: new Uint32Array(count),
    positives: new Float64Array(count),
    negatives: new Float64Array(count),
    sums: new Float64Array(count),
    squaredScoreSum: 0,
    positiveScoreSum: 0,
    logLossSum: 0,
  };
  let previous = -1;
  for (let index = 0; index < count; index++) {
    const bin = previous + 1 + input.uint();
    if (bin >= resolution) throw new RangeError(`score-label bin ${bin} of ${of} is beyond ${resolution} bins`);
    const positives = input.uint();
    const negatives = input.uint();
    if (positives + negatives < 1) throw new RangeError(`score-label bin ${bin} of ${of} is empty`);
    columns.bins[index] = bin;
    columns.positives[index] = positives;
    columns.negatives[index] = negatives;
    columns.sums[index] = input.double();
    previous = bin;
  }
  columns.squaredScoreSum = input.double();
  columns.positiveScoreSum = input.double();
  columns.logLossSum = input.double();
  return columns;
}
