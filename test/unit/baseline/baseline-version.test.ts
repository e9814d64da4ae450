import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselineVersion, ReferenceDigest, sha256Hex, type BaselineInputs, type ReferenceValue } from '../../../services/core/baseline/baseline-version.js';
import { canonicalJson, type CanonicalValue } from '../../../services/core/baseline/canonical-json.js';
import type { WindowShape } from '../../../services/core/metrics/sketches/window-sketch.js';
import { reportFixturePath } from '../../support/report-fixture.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const shape: WindowShape = {
  features: [
    { name: 'heart_rate', type: 'numeric' },
    { name: 'admission_source', type: 'categorical' },
  ],
  scoreColumn: 'score',
  segments: ['sex'],
};

/** The value with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reversedKeys(item)]));
}

describe('canonicalJson', () => {
  it('writes keys in code-unit order, numbers in their shortest round-trip form and −0 as -0', () => {
    expect(canonicalJson({ b: [1, { d: null, c: true }], a: 'x', B: 0.1 })).toBe('{"B":0.1,"a":"x","b":[1,{"c":true,"d":null}]}');
    expect(canonicalJson([0, -0, 1e21, 1e-7, 5e-324, 2 ** 53 + 2, 0.1 + 0.2, -1.5])).toBe('[0,-0,1e+21,1e-7,5e-324,9007199254740994,0.30000000000000004,-1.5]');
    expect(canonicalJson(['\ud800', 'é', '"\n'])).toBe('["\\ud800","é","\\"\\n"]');
  });

  it('refuses what JSON cannot hold', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, [Number.NEGATIVE_INFINITY]]) expect(() => canonicalJson(value as CanonicalValue)).toThrow(RangeError);
    for (const value of [undefined, { key: undefined }, new Map(), () => 1]) expect(() => canonicalJson(value as unknown as CanonicalValue)).toThrow(TypeError);
  });

  it('is valid JSON that reads back as the value, whatever order its keys were inserted in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value as CanonicalValue);
        expect(canonicalJson(reversedKeys(value) as CanonicalValue)).toBe(text);
        expect(JSON.parse(text)).toEqual(value);
      }),
    );
  });
});

describe('baselineVersion', () => {
  it('is the sha256 of the canonical inputs, the same on every run and machine', () => {
    // sha256 of {"binCount":10,"cellsPerStandardDeviation":200,"definition":2,"referenceDigest":"e3b0…b855",
    // "shape":{"features":[{"name":"heart_rate","type":"numeric"},{"name":"admission_source","type":"categorical"}],
    // "scoreColumn":"score","segments":["sex"]}}, computed with Python's hashlib. Definition 2: profiles
    // now hold CBPE's calibration, so the same inputs fit a different profile than under definition 1.
    expect(baselineVersion({ shape, binCount: 10, referenceDigest: EMPTY_SHA256 })).toBe('a5705e0085382f09f9330ee971963f940c7fba9dcdfe8937d093cf671644abd5');
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
    expect(sha256Hex(new Uint8Array())).toBe(EMPTY_SHA256);
  });

  it('depends on the shape the fit reads and nothing else of the settings object, and fills in defaults', () => {
    const version = baselineVersion({ shape, referenceDigest: EMPTY_SHA256 });
    const settings = {
      decisionThreshold: 0.3,
      segments: ['sex'],
      scoreColumn: 'score',
      features: [
        { type: 'numeric' as const, name: 'heart_rate', unit: 'bpm' },
        { type: 'categorical' as const, name: 'admission_source' },
      ],
    };
    expect(baselineVersion({ shape: settings, referenceDigest: EMPTY_SHA256 })).toBe(version);
    expect(baselineVersion({ shape, binCount: 10, cellsPerStandardDeviation: 200, referenceDigest: EMPTY_SHA256 })).toBe(version);
  });

  it('changes with every part of the shape, the bins, the grid and the reference', () => {
    const [heartRate, admissionSource] = shape.features;
    const variants: BaselineInputs[] = [
      { shape, referenceDigest: EMPTY_SHA256 },
      { shape, referenceDigest: sha256Hex('heart_rate,score\n80,0.1\n') },
      { shape, binCount: 20, referenceDigest: EMPTY_SHA256 },
      { shape, cellsPerStandardDeviation: 100, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, features: [admissionSource!, heartRate!] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, features: [heartRate!, { name: 'admission_source', type: 'numeric' }] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, features: [heartRate!, { name: 'admission', type: 'categorical' }] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, features: [heartRate!] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, scoreColumn: 'risk' }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, segments: [] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, segments: ['sex', 'site'] }, referenceDigest: EMPTY_SHA256 },
      { shape: { ...shape, segments: ['site', 'sex'] }, referenceDigest: EMPTY_SHA256 },
    ];
    const versions = variants.map(baselineVersion);
    expect(new Set(versions).size).toBe(variants.length);
    for (const version of versions) expect(version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tells a reference file from another by its bytes', () => {
    const digestOf = (name: string): string => sha256Hex(readFileSync(reportFixturePath(name)));
    expect(digestOf('reference.csv')).toBe(digestOf('reference.csv'));
    expect(baselineVersion({ shape, referenceDigest: digestOf('reference.csv') })).not.toBe(baselineVersion({ shape, referenceDigest: digestOf('current.csv') }));
  });

  it('refuses a reference digest that is not a sha256', () => {
    for (const referenceDigest of ['reference.csv', EMPTY_SHA256.toUpperCase(), `sha256:${EMPTY_SHA256}`, EMPTY_SHA256.slice(1)]) {
      expect(() => baselineVersion({ shape, referenceDigest })).toThrow(/reference digest must be a lower-case hex sha256/);
    }
  });
});

describe('ReferenceDigest', () => {
  const rows: Readonly<Record<string, ReferenceValue>>[] = [
    { lactate: 1.5, score: 0.25, ward: 'ICU' },
    { lactate: null, score: -0, ward: '1' },
    { lactate: 1e21, score: 5e-324 },
  ];

  it('hashes the column names, then each row as the canonical JSON of its values, one line each', () => {
    const digest = new ReferenceDigest(['ward', 'score', 'lactate']);
    for (const row of rows) digest.add(row);
    // Computed with Python's hashlib over the lines below.
    const lines = '["lactate","score","ward"]\n[1.5,0.25,"ICU"]\n[null,-0,"1"]\n[1e+21,5e-324,null]\n';
    expect(sha256Hex(lines)).toBe('5b99a543f2b8eed2a1caf754b93b9c4ad745a270d4e2efaa2f242f62feca00b8');
    expect(digest.digest()).toBe('5b99a543f2b8eed2a1caf754b93b9c4ad745a270d4e2efaa2f242f62feca00b8');
  });

  it('can be read at any time, and differs for rows in another order or with values of another type', () => {
    const digestOf = (added: readonly Readonly<Record<string, ReferenceValue>>[]): string => {
      const digest = new ReferenceDigest(['lactate', 'score', 'ward']);
      for (const row of added) digest.add(row);
      return digest.digest();
    };
    const digest = new ReferenceDigest(['lactate', 'score', 'ward']);
    digest.add(rows[0]!);
    expect(digest.digest()).toBe(digestOf(rows.slice(0, 1)));
    expect(digest.digest()).toBe(digestOf(rows.slice(0, 1)));
    digest.add(rows[1]!);
    expect(digest.digest()).toBe(digestOf(rows.slice(0, 2)));

    const variants = [
      digestOf(rows),
      digestOf([rows[1]!, rows[0]!, rows[2]!]),
      digestOf([{ ...rows[0]!, ward: 1 }]),
      digestOf([{ ...rows[0]!, ward: '1' }]),
      digestOf([{ ...rows[0]!, score: 0 }]),
      digestOf([{ ...rows[0]!, score: -0 }]),
      digestOf([{ ...rows[0]!, ward: null }]),
      digestOf([]),
    ];
    expect(new Set(variants).size).toBe(variants.length);
    expect(digestOf([{ ...rows[0]!, ward: null }])).toBe(digestOf([{ lactate: 1.5, score: 0.25 }]));
  });

  it('refuses a non-finite value without hashing any of its row, and a column named twice', () => {
    const digest = new ReferenceDigest(['constructor', 'score']);
    const before = digest.digest();
    expect(() => digest.add({ constructor: 1, score: Number.NaN })).toThrow(RangeError);
    expect(digest.digest()).toBe(before);
    // A column named like an Object.prototype member is read from the row only.
    digest.add({ score: 0.5 });
    expect(digest.digest()).toBe(sha256Hex('["constructor","score"]\n[null,0.5]\n'));
    expect(() => new ReferenceDigest(['score', 'lactate', 'score'])).toThrow(/column score is named twice/);
  });
});
