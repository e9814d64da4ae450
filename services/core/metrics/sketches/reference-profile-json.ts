import type { CategoryCounts } from '../drift/categorical-drift.js';
import { unlabelledEstimationReference, type EstimationReference } from '../estimation/reference-estimation.js';
import type { ScoreCalibration } from '../estimation/isotonic-calibration.js';
import type { AurocSamplingErrorComponents } from '../estimation/sampling-error.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import type { NumericReferenceProfile } from './numeric-feature-sketch.js';
import { ValueGridSketch } from './value-grid-sketch.js';
import type { FeatureReference, ReferenceProfile, WindowShape } from './window-sketch.js';

/**
 * The JSON form of a ReferenceProfile, so that a fitted baseline can be stored and used again
 * instead of being refitted. The round trip is exact: every double comes back with the same bits
 * (NaN as the one NaN JavaScript has), and a revived profile gives the same windowReport rows.
 * A stored profile may be old or damaged, so reading one checks all of it and refuses anything
 * toJSON would not have written with a MalformedReferenceProfileError naming the place.
 *
 * Version 2 added what confidence-based estimation fits on the reference (`estimation`: its
 * calibration and sampling-error components). A version 1 profile, stored before, still loads, as a
 * profile whose estimation has no calibration and no band, which is how it was used when stored;
 * its rows say so.
 */

/** Raise on any change to the format; a stored profile of another version is refused, never guessed at. */
export const REFERENCE_PROFILE_VERSION = 2;

/** The version before `estimation`, read as a reference without labels. */
const UNCALIBRATED_PROFILE_VERSION = 1;

export const VERSION_1_ESTIMATION = 'the baseline was stored before Vigil calibrated on the reference (reference profile version 1)';

/**
 * A double as JSON carries it without loss. A JSON number gives back any finite double except −0
 * (JSON.stringify writes it as 0); −0 and the values JSON has no number for (an empty reference's
 * range is [+∞, −∞]) are written as strings.
 */
export type SerializedDouble = number | '-0' | 'NaN' | 'Infinity' | '-Infinity';

export interface SerializedWindowShape {
  features: { name: string; type: 'numeric' | 'categorical' }[];
  scoreColumn: string;
  segments: string[];
}

export interface SerializedNumericReferenceProfile {
  innerEdges: SerializedDouble[];
  counts: number[];
  minimum: SerializedDouble;
  maximum: SerializedDouble;
  totalCount: number;
  missingCount: number;
  standardDeviation: SerializedDouble;
  values: {
    grid: { origin: SerializedDouble; width: SerializedDouble };
    /** [cell index, count, sum, minimum, maximum] per non-empty cell, ascending. */
    cells: [number, number, SerializedDouble, SerializedDouble, SerializedDouble][];
  };
}

export interface SerializedCategoryCounts {
  /** [category, occurrences] in order of first appearance, which an object would not keep for names such as "2". */
  counts: [string, number][];
  totalCount: number;
  missingCount: number;
}

export type SerializedFeatureReference =
  | { name: string; type: 'numeric'; profile: SerializedNumericReferenceProfile }
  | { name: string; type: 'categorical'; counts: SerializedCategoryCounts };

export interface SerializedEstimationReference {
  labelledRows: number;
  /** [uncalibrated, calibrated] cross-validated ECE that decided the calibration, or null. */
  crossValidatedEce: [number, number] | null;
  /** The isotonic calibration's [bin, probability] points, or why there is none. */
  calibration: { resolution: number; points: [number, number][] } | { reason: string };
  aurocSamplingError: { standardDeviation: number; positiveFraction: number } | { reason: string };
}

export interface SerializedReferenceProfile {
  version: typeof REFERENCE_PROFILE_VERSION;
  shape: SerializedWindowShape;
  /** The shape's features, then its score column, as in ReferenceProfile. */
  features: SerializedFeatureReference[];
  estimation: SerializedEstimationReference;
}

/** A stored profile that cannot be used as it is. `path` locates the fault, e.g. `$.features[2].profile.counts[4]`. */
export class MalformedReferenceProfileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`reference profile ${path}: ${problem}`);
    this.name = 'MalformedReferenceProfileError';
  }
}

export function referenceProfileToJSON(profile: ReferenceProfile): SerializedReferenceProfile {
  const { shape } = profile;
  return {
    version: REFERENCE_PROFILE_VERSION,
    // The shape is often a larger settings object (the spec's report settings); only its shape is the profile's.
    shape: { features: shape.features.map(({ name, type }) => ({ name, type })), scoreColumn: shape.scoreColumn, segments: [...shape.segments] },
    features: profile.features.map((feature): SerializedFeatureReference => {
      if (feature.type === 'categorical') {
        const { counts, totalCount, missingCount } = feature.counts;
        return { name: feature.name, type: 'categorical', counts: { counts: [...counts], totalCount, missingCount } };
      }
      return { name: feature.name, type: 'numeric', profile: numericProfileToJSON(feature.profile) };
    }),
    estimation: estimationToJSON(profile.estimation),
  };
}

function estimationToJSON(estimation: EstimationReference): SerializedEstimationReference {
  const { calibration, aurocSamplingError: components, crossValidatedEce: ece } = estimation;
  return {
    labelledRows: estimation.labelledRows,
    crossValidatedEce: ece === null ? null : [ece.uncalibrated, ece.calibrated],
    calibration: calibration.defined
      ? { resolution: calibration.value.resolution, points: calibration.value.points.map(([bin, probability]) => [bin, probability]) }
      : { reason: calibration.reason },
    aurocSamplingError: components.defined
      ? { standardDeviation: components.value.standardDeviation, positiveFraction: components.value.positiveFraction }
      : { reason: components.reason },
  };
}

function numericProfileToJSON(profile: NumericReferenceProfile): SerializedNumericReferenceProfile {
  const { grid } = profile.values;
  return {
    innerEdges: Array.from(profile.innerEdges, serializeDouble),
    counts: [...profile.counts],
    minimum: serializeDouble(profile.minimum),
    maximum: serializeDouble(profile.maximum),
    totalCount: profile.totalCount,
    missingCount: profile.missingCount,
    standardDeviation: serializeDouble(profile.standardDeviation),
    values: {
      grid: { origin: serializeDouble(grid.origin), width: serializeDouble(grid.width) },
      cells: profile.values
        .orderedCells()
        .map(({ index, cell }) => [index, cell.count, serializeDouble(cell.sum), serializeDouble(cell.minimum), serializeDouble(cell.maximum)]),
    },
  };
}

export function serializeReferenceProfile(profile: ReferenceProfile): string {
  return JSON.stringify(referenceProfileToJSON(profile));
}

/** The profile in a text serializeReferenceProfile wrote; text that is not JSON is refused like any other fault. */
export function parseReferenceProfile(text: string): ReferenceProfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedReferenceProfileError('$', `is not JSON (${(error as Error).message})`);
  }
  return referenceProfileFromJSON(parsed);
}

/** Revives what referenceProfileToJSON wrote, possibly long ago; anything else is refused. */
export function referenceProfileFromJSON(serialized: unknown): ReferenceProfile {
  const root = objectAt(serialized, '$');
  // The version first: a profile of another version is refused for that, not for its fields.
  const { version } = root;
  if (version !== REFERENCE_PROFILE_VERSION && version !== UNCALIBRATED_PROFILE_VERSION) {
    fail('$.version', `expected version ${REFERENCE_PROFILE_VERSION} (or ${UNCALIBRATED_PROFILE_VERSION}, read without calibration), got ${describe(version)}`);
  }
  const current = version === REFERENCE_PROFILE_VERSION;
  expectFields(root, '$', current ? ['version', 'shape', 'features', 'estimation'] : ['version', 'shape', 'features']);
  const shape = shapeFrom(root.shape, '$.shape');
  const expected = [...shape.features, { name: shape.scoreColumn, type: 'numeric' as const }];
  const features = arrayAt(root.features, '$.features');
  if (features.length !== expected.length) fail('$.features', `expected ${expected.length} entries (the shape's features, then its score column), got ${features.length}`);
  return {
    shape,
    features: expected.map((feature, index) => featureFrom(features[index], `$.features[${index}]`, feature)),
    estimation: current ? estimationFrom(root.estimation, '$.estimation') : unlabelledEstimationReference(VERSION_1_ESTIMATION),
  };
}

function estimationFrom(value: unknown, path: string): EstimationReference {
  const stored = expectFields(objectAt(value, path), path, ['labelledRows', 'crossValidatedEce', 'calibration', 'aurocSamplingError']);
  const labelledRows = countAt(stored.labelledRows, `${path}.labelledRows`);
  let crossValidatedEce: EstimationReference['crossValidatedEce'] = null;
  if (stored.crossValidatedEce !== null) {
    const at = `${path}.crossValidatedEce`;
    const pair = arrayAt(stored.crossValidatedEce, at);
    if (pair.length !== 2) fail(at, `expected [uncalibrated, calibrated] or null, got ${pair.length} entries`);
    crossValidatedEce = { uncalibrated: proportionAt(pair[0], `${at}[0]`), calibrated: proportionAt(pair[1], `${at}[1]`) };
  }
  const calibration = reasonOr(stored.calibration, `${path}.calibration`, ['resolution', 'points'], (fields, at): ScoreCalibration => {
    const resolution = countAt(fields.resolution, `${at}.resolution`);
    if (resolution === 0) fail(`${at}.resolution`, 'expected at least one bin');
    const points = arrayAt(fields.points, `${at}.points`);
    if (points.length === 0) fail(`${at}.points`, 'expected at least one point');
    let previous: readonly [number, number] | null = null;
    return {
      resolution,
      // Array.from visits holes, which map would skip.
      points: Array.from(points, (entry, index): [number, number] => {
        const pointAt = `${at}.points[${index}]`;
        const pair = arrayAt(entry, pointAt);
        if (pair.length !== 2) fail(pointAt, `expected [bin, probability], got ${pair.length} entries`);
        const bin = countAt(pair[0], `${pointAt}[0]`);
        if (bin >= resolution) fail(`${pointAt}[0]`, `bin ${bin} is outside the ${resolution} bins`);
        const probability = proportionAt(pair[1], `${pointAt}[1]`);
        if (previous !== null && !(bin > previous[0])) fail(`${pointAt}[0]`, `bin ${bin} does not follow bin ${previous[0]}: points are stored in ascending order, each once`);
        if (previous !== null && !(probability >= previous[1])) fail(`${pointAt}[1]`, `${probability} is below the probability before it, ${previous[1]}: a calibration does not decrease`);
        const point: [number, number] = [bin, probability];
        previous = point;
        return point;
      }),
    };
  });
  const aurocSamplingError = reasonOr(stored.aurocSamplingError, `${path}.aurocSamplingError`, ['standardDeviation', 'positiveFraction'], (fields, at): AurocSamplingErrorComponents => {
    const standardDeviation = finiteAt(fields.standardDeviation, `${at}.standardDeviation`);
    if (!(standardDeviation >= 0)) fail(`${at}.standardDeviation`, `expected a standard deviation ≥ 0, got ${standardDeviation}`);
    const positiveFraction = finiteAt(fields.positiveFraction, `${at}.positiveFraction`);
    // After NannyML's flip the positives are the less frequent class: at most half, and at least one.
    if (!(positiveFraction > 0 && positiveFraction <= 0.5)) fail(`${at}.positiveFraction`, `expected a fraction in (0, 0.5], got ${positiveFraction}`);
    return { standardDeviation, positiveFraction };
  });
  return { labelledRows, crossValidatedEce, calibration, aurocSamplingError };
}

/** A `{ reason }` object as an undefined outcome, or an object of exactly `fields` read by `read`. */
function reasonOr<Field extends string, T>(
  value: unknown,
  path: string,
  fields: readonly Field[],
  read: (fields: Readonly<Record<Field, unknown>>, path: string) => T,
): Outcome<T> {
  const object = objectAt(value, path);
  if (Object.hasOwn(object, 'reason')) {
    const { reason } = expectFields(object, path, ['reason']);
    const text = stringAt(reason, `${path}.reason`);
    if (text.length === 0) fail(`${path}.reason`, 'expected a reason, got an empty string');
    return undefinedBecause(text);
  }
  return defined(read(expectFields(object, path, fields), path));
}

function proportionAt(value: unknown, path: string): number {
  const number = finiteAt(value, path);
  if (!(number >= 0 && number <= 1)) fail(path, `expected a number in [0, 1], got ${number}`);
  // −0 is written as a string and would come back as a string; a proportion of −0 is 0.
  return number + 0;
}

function shapeFrom(value: unknown, path: string): WindowShape {
  const shape = expectFields(objectAt(value, path), path, ['features', 'scoreColumn', 'segments']);
  const features = Array.from(arrayAt(shape.features, `${path}.features`), (entry, index): WindowShape['features'][number] => {
    const at = `${path}.features[${index}]`;
    const feature = expectFields(objectAt(entry, at), at, ['name', 'type']);
    const { type } = feature;
    if (type !== 'numeric' && type !== 'categorical') fail(`${at}.type`, `expected "numeric" or "categorical", got ${describe(type)}`);
    return { name: stringAt(feature.name, `${at}.name`), type };
  });
  return {
    features,
    scoreColumn: stringAt(shape.scoreColumn, `${path}.scoreColumn`),
    segments: Array.from(arrayAt(shape.segments, `${path}.segments`), (segment, index) => stringAt(segment, `${path}.segments[${index}]`)),
  };
}

function featureFrom(value: unknown, path: string, expected: WindowShape['features'][number]): FeatureReference {
  const feature = objectAt(value, path);
  if (feature.name !== expected.name) fail(`${path}.name`, `expected ${JSON.stringify(expected.name)}, as in the shape, got ${describe(feature.name)}`);
  if (feature.type !== expected.type) fail(`${path}.type`, `expected "${expected.type}", as in the shape, got ${describe(feature.type)}`);
  if (expected.type === 'categorical') {
    const categorical = expectFields(feature, path, ['name', 'type', 'counts']);
    return { name: expected.name, type: 'categorical', counts: categoryCountsFrom(categorical.counts, `${path}.counts`) };
  }
  const numeric = expectFields(feature, path, ['name', 'type', 'profile']);
  return { name: expected.name, type: 'numeric', profile: numericProfileFrom(numeric.profile, `${path}.profile`) };
}

function numericProfileFrom(value: unknown, path: string): NumericReferenceProfile {
  const profile = expectFields(objectAt(value, path), path, ['innerEdges', 'counts', 'minimum', 'maximum', 'totalCount', 'missingCount', 'standardDeviation', 'values']);
  const innerEdges = Float64Array.from(arrayAt(profile.innerEdges, `${path}.innerEdges`), (edge, index) => finiteAt(edge, `${path}.innerEdges[${index}]`));
  innerEdges.forEach((edge, index) => {
    // Windows find a value's bin by bisection, which needs strictly increasing edges.
    if (index > 0 && !(edge > innerEdges[index - 1]!)) fail(`${path}.innerEdges[${index}]`, `${edge} does not exceed the edge before it, ${innerEdges[index - 1]}`);
  });
  const counts = Float64Array.from(arrayAt(profile.counts, `${path}.counts`), (count, index) => countAt(count, `${path}.counts[${index}]`));
  if (counts.length !== innerEdges.length + 1) fail(`${path}.counts`, `expected ${innerEdges.length + 1} bins (one more than the inner edges), got ${counts.length}`);
  const { totalCount, missingCount, valueCount } = entryCounts(profile, path);
  const binned = counts.reduce((sum, count) => sum + count, 0);
  if (binned !== valueCount) fail(`${path}.counts`, `the bins hold ${binned} values, but totalCount − missingCount is ${valueCount}`);
  const values = valueGridFrom(profile.values, `${path}.values`);
  if (values.count !== valueCount) fail(`${path}.values.cells`, `the cells hold ${values.count} values, but totalCount − missingCount is ${valueCount}`);
  return {
    innerEdges,
    counts,
    minimum: doubleAt(profile.minimum, `${path}.minimum`),
    maximum: doubleAt(profile.maximum, `${path}.maximum`),
    totalCount,
    missingCount,
    standardDeviation: doubleAt(profile.standardDeviation, `${path}.standardDeviation`),
    values,
  };
}

function valueGridFrom(value: unknown, path: string): ValueGridSketch {
  const stored = expectFields(objectAt(value, path), path, ['grid', 'cells']);
  const grid = expectFields(objectAt(stored.grid, `${path}.grid`), `${path}.grid`, ['origin', 'width']);
  const origin = finiteAt(grid.origin, `${path}.grid.origin`);
  const width = finiteAt(grid.width, `${path}.grid.width`);
  if (!(width > 0)) fail(`${path}.grid.width`, `expected a positive width, got ${width}`);
  let previousIndex = -Infinity;
  const cells = Array.from(arrayAt(stored.cells, `${path}.cells`), (entry, position): [number, number, number, number, number] => {
    const at = `${path}.cells[${position}]`;
    const cell = arrayAt(entry, at);
    if (cell.length !== 5) fail(at, `expected [index, count, sum, minimum, maximum], got ${cell.length} entries`);
    const index = cell[0];
    if (typeof index !== 'number' || !Number.isSafeInteger(index)) fail(`${at}[0]`, `expected a whole cell index, got ${describe(index)}`);
    if (!(index > previousIndex)) fail(`${at}[0]`, `cell ${index} does not follow cell ${previousIndex}: cells are stored in ascending order, each once`);
    previousIndex = index;
    const count = countAt(cell[1], `${at}[1]`);
    if (count === 0) fail(`${at}[1]`, 'a stored cell holds at least one value');
    const minimum = finiteAt(cell[3], `${at}[3]`);
    const maximum = finiteAt(cell[4], `${at}[4]`);
    if (!(minimum <= maximum)) fail(`${at}[3]`, `the minimum ${minimum} is above the maximum ${maximum}`);
    return [index, count, doubleAt(cell[2], `${at}[2]`), minimum, maximum];
  });
  return ValueGridSketch.fromJSON({ grid: { origin, width }, cells });
}

function categoryCountsFrom(value: unknown, path: string): CategoryCounts {
  const stored = expectFields(objectAt(value, path), path, ['counts', 'totalCount', 'missingCount']);
  const counts = new Map<string, number>();
  Array.from(arrayAt(stored.counts, `${path}.counts`)).forEach((entry, index) => {
    const at = `${path}.counts[${index}]`;
    const pair = arrayAt(entry, at);
    if (pair.length !== 2) fail(at, `expected [category, occurrences], got ${pair.length} entries`);
    const category = stringAt(pair[0], `${at}[0]`);
    if (counts.has(category)) fail(`${at}[0]`, `category ${JSON.stringify(category)} is listed twice`);
    const occurrences = countAt(pair[1], `${at}[1]`);
    if (occurrences === 0) fail(`${at}[1]`, 'a category is listed only when it occurs');
    counts.set(category, occurrences);
  });
  const { totalCount, missingCount, valueCount } = entryCounts(stored, path);
  let counted = 0;
  for (const occurrences of counts.values()) counted += occurrences;
  if (counted !== valueCount) fail(`${path}.counts`, `the categories hold ${counted} values, but totalCount − missingCount is ${valueCount}`);
  return { counts, totalCount, missingCount };
}

function entryCounts(stored: JsonObject, path: string): { totalCount: number; missingCount: number; valueCount: number } {
  const totalCount = countAt(stored.totalCount, `${path}.totalCount`);
  const missingCount = countAt(stored.missingCount, `${path}.missingCount`);
  if (missingCount > totalCount) fail(`${path}.missingCount`, `${missingCount} entries missing of ${totalCount}`);
  return { totalCount, missingCount, valueCount: totalCount - missingCount };
}

const SPECIAL_DOUBLES: Readonly<Record<string, number>> = { '-0': -0, NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function serializeDouble(value: number): SerializedDouble {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return Object.is(value, -0) ? '-0' : value;
}

type JsonObject = { readonly [key: string]: unknown };

function fail(path: string, problem: string): never {
  throw new MalformedReferenceProfileError(path, problem);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${Object.is(value, -0) ? '-0' : value}`;
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function objectAt(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, `expected an object, got ${describe(value)}`);
  return value as JsonObject;
}

/** The object when it has exactly these fields: a field toJSON does not write is a sign of another format. */
function expectFields<Field extends string>(object: JsonObject, path: string, fields: readonly Field[]): Readonly<Record<Field, unknown>> {
  for (const key of Object.keys(object)) {
    if (!(fields as readonly string[]).includes(key)) fail(`${path}[${JSON.stringify(key)}]`, 'is not a field of a reference profile');
  }
  for (const field of fields) if (!Object.hasOwn(object, field)) fail(`${path}.${field}`, 'is missing');
  return object as Readonly<Record<Field, unknown>>;
}

function arrayAt(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) fail(path, `expected an array, got ${describe(value)}`);
  return value;
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
  return value;
}

function countAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, `expected a count (a whole number ≥ 0), got ${describe(value)}`);
  // JSON.parse reads the text -0 as −0; as a count it is 0.
  return value + 0;
}

function doubleAt(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && Object.hasOwn(SPECIAL_DOUBLES, value)) return SPECIAL_DOUBLES[value]!;
  return fail(path, `expected a number or one of "-0", "NaN", "Infinity", "-Infinity", got ${describe(value)}`);
}

function finiteAt(value: unknown, path: string): number {
  const double = doubleAt(value, path);
  if (!Number.isFinite(double)) fail(path, `expected a finite number, got ${describe(value)}`);
  return double;
}
