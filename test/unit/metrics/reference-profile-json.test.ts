import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetColumns } from '../../../services/adapters/dataset/model-dataset.js';
import type { Dataset } from '../../../services/adapters/dataset/dataset-file.js';
import { windowReport } from '../../../services/core/metrics/rows/window-report.js';
import type { NumericReferenceProfile } from '../../../services/core/metrics/sketches/numeric-feature-sketch.js';
import {
  MalformedReferenceProfileError,
  parseReferenceProfile,
  referenceProfileFromJSON,
  referenceProfileToJSON,
  serializeReferenceProfile,
  VERSION_1_ESTIMATION,
} from '../../../services/core/metrics/sketches/reference-profile-json.js';
import { fitReferenceProfile, WindowSketch, type ReferenceProfile, type WindowShape } from '../../../services/core/metrics/sketches/window-sketch.js';
import { reportSettings, type ModelSpec } from '../../../services/core/model-spec/model-spec.js';
import { datasetWindow, loadProfiledReportFixture } from '../../support/report-fixture.js';

let spec: ModelSpec;
let current: Dataset;
let profile: ReferenceProfile;

beforeAll(async () => {
  ({ spec, current, profile } = await loadProfiledReportFixture());
});

/** The bit patterns of doubles: equal exactly when every value, −0 included, came back unchanged. */
const bitsOf = (values: ArrayLike<number>): bigint[] => Array.from(new BigUint64Array(Float64Array.from(values).buffer));

/** Every double of a numeric profile, in a fixed order. */
function doublesOf(numeric: NumericReferenceProfile): number[] {
  const { grid } = numeric.values;
  const cells = numeric.values.orderedCells().flatMap(({ index, cell }) => [index, cell.count, cell.sum, cell.minimum, cell.maximum]);
  return [...numeric.innerEdges, ...numeric.counts, numeric.minimum, numeric.maximum, numeric.totalCount, numeric.missingCount, numeric.standardDeviation, grid.origin, grid.width, ...cells];
}

function expectSameProfile(revived: ReferenceProfile, original: ReferenceProfile): void {
  expect(revived.features.map(({ name, type }) => [name, type])).toEqual(original.features.map(({ name, type }) => [name, type]));
  revived.features.forEach((feature, index) => {
    const expected = original.features[index]!;
    if (feature.type === 'numeric' && expected.type === 'numeric') {
      expect(bitsOf(doublesOf(feature.profile)), feature.name).toEqual(bitsOf(doublesOf(expected.profile)));
      expect(feature.profile.innerEdges).toBeInstanceOf(Float64Array);
      expect(feature.profile.counts).toBeInstanceOf(Float64Array);
    } else if (feature.type === 'categorical' && expected.type === 'categorical') {
      expect([...feature.counts.counts], feature.name).toEqual([...expected.counts.counts]);
      expect([feature.counts.totalCount, feature.counts.missingCount]).toEqual([expected.counts.totalCount, expected.counts.missingCount]);
    }
  });
}

const rowsOf = (window: WindowSketch) => windowReport({ window, ...reportSettings(spec) }).rows;

type PathStep = string | number;

/** A deep copy of the JSON value with the value at `path` replaced, or removed when `value` is undefined. */
function withValueAt(root: unknown, path: readonly PathStep[], value: unknown): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(root));
  if (path.length === 0) return value;
  let parent = copy as Record<PathStep, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<PathStep, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** Every place in a JSON value, the value itself first. */
function pathsOf(value: unknown, prefix: PathStep[] = []): PathStep[][] {
  const children = Array.isArray(value)
    ? value.flatMap((item, index) => pathsOf(item, [...prefix, index]))
    : typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key]))
      : [];
  return [prefix, ...children];
}

/** The profile, or the MalformedReferenceProfileError it was refused with; any other exception fails the test. */
function revivedOrRefusal(serialized: unknown): ReferenceProfile | MalformedReferenceProfileError {
  try {
    return referenceProfileFromJSON(serialized);
  } catch (error) {
    if (error instanceof MalformedReferenceProfileError) return error;
    throw error;
  }
}

function refusal(serialized: unknown): MalformedReferenceProfileError {
  const result = revivedOrRefusal(serialized);
  if (!(result instanceof MalformedReferenceProfileError)) throw new Error('the profile was revived, not refused');
  return result;
}

describe('the JSON form of a reference profile', () => {
  it('revives the fixture profile with the bits of every double, and the same windowReport rows', () => {
    const text = serializeReferenceProfile(profile);
    const revived = parseReferenceProfile(text);
    expectSameProfile(revived, profile);
    expect(revived.shape).toEqual({ features: spec.features.map(({ name, type }) => ({ name, type })), scoreColumn: spec.scoreColumn, segments: spec.segments });
    expect(serializeReferenceProfile(revived)).toBe(text);

    for (const [from, to, withOutcomes] of [[0, current.rowCount, true], [300, 900, true], [0, 400, false]] as const) {
      const original = datasetWindow(profile, spec, current, from, to, withOutcomes);
      expect(rowsOf(datasetWindow(revived, spec, current, from, to, withOutcomes))).toEqual(rowsOf(original));
      // A window stored against the fitted profile reads back against the stored one.
      expect(rowsOf(WindowSketch.fromJSON(revived, JSON.parse(JSON.stringify(original))))).toEqual(rowsOf(original));
    }
  });

  it('keeps the calibration and the sampling-error components the fit found, and the reasons where there are none', () => {
    expect(profile.estimation.calibration.defined).toBe(true);
    const revived = parseReferenceProfile(serializeReferenceProfile(profile));
    expect(revived.estimation).toEqual(profile.estimation);
    const unlabelled = fitReferenceProfile(reportSettings(spec), { ...datasetColumns(current), labels: null }, reportSettings(spec));
    expect(parseReferenceProfile(serializeReferenceProfile(unlabelled)).estimation).toEqual({
      labelledRows: 0,
      crossValidatedEce: null,
      calibration: { defined: false, reason: 'the reference has no labels' },
      aurocSamplingError: { defined: false, reason: 'the reference has no labels' },
    });
  });

  it('reads a version 1 profile, stored before calibration, as one without labels: raw scores and no band', () => {
    const { estimation: _estimation, ...rest } = referenceProfileToJSON(profile);
    const stored = { ...rest, version: 1 };
    const revived = referenceProfileFromJSON(stored);
    expectSameProfile(revived, profile);
    expect(revived.estimation).toMatchObject({ labelledRows: 0, calibration: { defined: false, reason: VERSION_1_ESTIMATION } });
    const window = datasetWindow(revived, spec, current, 0, 400, false);
    const cbpe = rowsOf(window).find((row) => row.metric === 'cbpe_auroc')!;
    expect(cbpe).toMatchObject({ ci_low: null, ci_high: null });
    const raw = window.scores.estimatedAuroc();
    expect(raw.defined && cbpe.value === raw.value.value).toBe(true);
    expect(cbpe.reason).toContain(`not calibrated: ${VERSION_1_ESTIMATION}; no sampling-error band: ${VERSION_1_ESTIMATION}`);
    // Written again, it is a version 2 profile that says the same.
    expect(parseReferenceProfile(serializeReferenceProfile(revived)).estimation).toEqual(revived.estimation);
  });

  it('keeps −0, the infinite range of a feature without values, and the order of categories named like indices', () => {
    const shape: WindowShape = { features: [{ name: 'lactate', type: 'numeric' }, { name: 'unit', type: 'numeric' }, { name: 'ward', type: 'categorical' }], scoreColumn: 'score', segments: ['site'] };
    const columns: Record<string, (number | null)[]> = { lactate: [null, null, null, null], unit: [-0, -0, 3, -0] };
    const fitted = fitReferenceProfile(shape, { numeric: (name) => columns[name]!, categorical: () => ['2', '__proto__', null, '1'], scores: [0.25, -0, 1, 0.5] });
    const serialized = referenceProfileToJSON(fitted);
    expect(serialized.features[0]).toMatchObject({ profile: { minimum: 'Infinity', maximum: '-Infinity', innerEdges: [], counts: [0] } });
    expect(serialized.features[1]).toMatchObject({ profile: { minimum: '-0', values: { grid: { origin: '-0' } } } });
    expect(serialized.features[2]).toMatchObject({ counts: { counts: [['2', 1], ['__proto__', 1], ['1', 1]], totalCount: 4, missingCount: 1 } });
    const revived = parseReferenceProfile(JSON.stringify(serialized));
    expectSameProfile(revived, fitted);
    expect(JSON.stringify(referenceProfileToJSON(revived))).toBe(JSON.stringify(serialized));
  });

  it('refuses a damaged or foreign profile with an error naming the place', () => {
    const serialized = referenceProfileToJSON(profile);
    const lactate = ['features', 1, 'profile'];
    const cases: [PathStep[], unknown, string, RegExp][] = [
      [['version'], 3, '$.version', /expected version 2 \(or 1, read without calibration\), got the number 3/],
      [['version'], undefined, '$.version', /expected version 2 \(or 1, read without calibration\), got nothing/],
      // Version 1 had no estimation: a profile of version 1 that has one is of neither.
      [['version'], 1, '$["estimation"]', /is not a field/],
      [['estimation'], undefined, '$.estimation', /is missing/],
      [['estimation', 'labelledRows'], -1, '$.estimation.labelledRows', /expected a count/],
      [['estimation', 'crossValidatedEce'], [0.1], '$.estimation.crossValidatedEce', /\[uncalibrated, calibrated\] or null/],
      [['estimation', 'calibration', 'points'], [], '$.estimation.calibration.points', /at least one point/],
      [['estimation', 'calibration', 'points', 1, 0], 0, '$.estimation.calibration.points[1][0]', /does not follow bin/],
      [['estimation', 'calibration', 'points', 3, 1], 0, '$.estimation.calibration.points[3][1]', /a calibration does not decrease/],
      [['estimation', 'calibration', 'points', 0, 0], 10_000, '$.estimation.calibration.points[0][0]', /outside the 10000 bins/],
      [['estimation', 'calibration', 'points', 0, 1], 1.5, '$.estimation.calibration.points[0][1]', /expected a number in \[0, 1\]/],
      [['estimation', 'calibration', 'reason'], 'why', '$.estimation.calibration["resolution"]', /is not a field/],
      [['estimation', 'aurocSamplingError'], { reason: '' }, '$.estimation.aurocSamplingError.reason', /empty string/],
      [['estimation', 'aurocSamplingError', 'positiveFraction'], 0.6, '$.estimation.aurocSamplingError.positiveFraction', /a fraction in \(0, 0.5\]/],
      [['estimation', 'aurocSamplingError', 'standardDeviation'], -0.1, '$.estimation.aurocSamplingError.standardDeviation', /a standard deviation ≥ 0/],
      [['checksum'], 'abc', '$["checksum"]', /is not a field/],
      [['shape', 'features', 0, 'type'], 'ordinal', '$.shape.features[0].type', /"numeric" or "categorical"/],
      [['features'], serialized.features.slice(1), '$.features', /expected 6 entries/],
      [['features', 1, 'name'], 'heart_rate', '$.features[1].name', /expected "lactate"/],
      [['features', 4, 'type'], 'numeric', '$.features[4].type', /expected "categorical"/],
      [[...lactate, 'innerEdges', 2], 0, '$.features[1].profile.innerEdges[2]', /does not exceed the edge before it/],
      [[...lactate, 'innerEdges', 0], 'NaN', '$.features[1].profile.innerEdges[0]', /expected a finite number/],
      [[...lactate, 'counts', 3], -1, '$.features[1].profile.counts[3]', /expected a count/],
      [[...lactate, 'counts', 3], 1.5, '$.features[1].profile.counts[3]', /expected a count/],
      [[...lactate, 'counts', 0], 0, '$.features[1].profile.counts', /the bins hold \d+ values, but totalCount − missingCount is \d+/],
      [[...lactate, 'missingCount'], 1e9, '$.features[1].profile.missingCount', /entries missing of/],
      [[...lactate, 'minimum'], 'nan', '$.features[1].profile.minimum', /expected a number or one of/],
      [[...lactate, 'values', 'grid', 'width'], 0, '$.features[1].profile.values.grid.width', /positive width/],
      [[...lactate, 'values', 'cells', 1, 0], -1e6, '$.features[1].profile.values.cells[1][0]', /ascending order/],
      [[...lactate, 'values', 'cells', 0], [0, 1, 1], '$.features[1].profile.values.cells[0]', /\[index, count, sum, minimum, maximum\]/],
      [['features', 4, 'counts', 'counts', 1, 0], (serialized.features[4] as { counts: { counts: [string, number][] } }).counts.counts[0]![0], '$.features[4].counts.counts[1][0]', /is listed twice/],
    ];
    for (const [path, value, place, problem] of cases) {
      const error = refusal(withValueAt(serialized, path, value));
      expect(error.path, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(place);
      expect(error.message).toMatch(problem);
      expect(error.message.startsWith(`reference profile ${place}: `)).toBe(true);
    }
    expect(() => parseReferenceProfile('{"version":1,')).toThrow(/^reference profile \$: is not JSON/);
    expect(() => parseReferenceProfile('{"version":1,')).toThrow(MalformedReferenceProfileError);
  });
});

// Columns of every kind the fit takes: ties, −0, the smallest subnormals, missing values, category
// names that an object would reorder or that name Object.prototype members.
const numericValue = fc.oneof(
  fc.constant(null),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(-0, 0, 1, 2.5, 5e-324, -5e-324),
  fc.integer({ min: -3, max: 3 }),
);
const categoryValue = fc.oneof(fc.constant(null), fc.constantFrom('a', 'b', '1', '2', '__proto__', 'constructor', ''), fc.string({ maxLength: 3 }));

const fittedProfile = fc
  .record({ types: fc.array(fc.constantFrom('numeric' as const, 'categorical' as const), { maxLength: 5 }), rows: fc.integer({ min: 0, max: 40 }) })
  .chain(({ types, rows }) =>
    fc.record({
      columns: fc.tuple(...types.map((type) => fc.array<number | string | null>(type === 'numeric' ? numericValue : categoryValue, { minLength: rows, maxLength: rows }))),
      scores: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: rows, maxLength: rows }),
      segments: fc.uniqueArray(fc.constantFrom('sex', 'site', 'ward'), { maxLength: 2 }),
      binCount: fc.integer({ min: 2, max: 12 }),
      cellsPerStandardDeviation: fc.constantFrom(undefined, 3, 200),
    }).map(({ columns, scores, segments, binCount, cellsPerStandardDeviation }) => {
      const shape: WindowShape = { features: types.map((type, index) => ({ name: `${type}_${index}`, type })), scoreColumn: 'score', segments };
      const column = (name: string) => columns[shape.features.findIndex((feature) => feature.name === name)]!;
      return fitReferenceProfile(
        shape,
        { numeric: (name) => column(name) as (number | null)[], categorical: (name) => column(name) as (string | null)[], scores },
        { binCount, cellsPerStandardDeviation },
      );
    }),
  );

describe('the JSON form of a reference profile, for any input', () => {
  it('serialises a revived profile to the same text, so every double comes back with its bits', () => {
    fc.assert(
      fc.property(fittedProfile, (fitted) => {
        const text = serializeReferenceProfile(fitted);
        const revived = parseReferenceProfile(text);
        expect(serializeReferenceProfile(revived)).toBe(text);
        expectSameProfile(revived, fitted);
      }),
    );
  });

  it('throws nothing but a MalformedReferenceProfileError for any JSON or any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        expect(refusal(value).path.startsWith('$')).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => parseReferenceProfile(text)).toThrow(MalformedReferenceProfileError);
      }),
    );
  });

  // Most places hold numbers, so numbers and the special doubles' strings are the likeliest to be revived.
  const replacement = fc.oneof(
    fc.jsonValue(),
    fc.constant(undefined),
    fc.double(),
    fc.integer({ min: -2, max: 1_000 }),
    fc.constantFrom('-0', 'NaN', 'Infinity', '-Infinity', 'numeric', 'categorical'),
  );

  it('revives or refuses a stored profile with any one value changed, and what it revives serialises stably', () => {
    const serialized = referenceProfileToJSON(profile);
    const places = pathsOf(serialized);
    fc.assert(
      fc.property(fc.nat({ max: places.length - 1 }), replacement, (place, value) => {
        const result = revivedOrRefusal(withValueAt(serialized, places[place]!, value));
        if (result instanceof MalformedReferenceProfileError) return;
        const text = serializeReferenceProfile(result);
        expect(serializeReferenceProfile(parseReferenceProfile(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
