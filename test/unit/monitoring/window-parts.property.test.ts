import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelDelaySketch } from '../../../services/core/metrics/sketches/label-delay-sketch.js';
import { fitReferenceProfile, WindowSketch } from '../../../services/core/metrics/sketches/window-sketch.js';
import { decodeCellColumns, decodeWindowCells, encodeWindowCells } from '../../../services/core/monitoring/window-cells-codec.js';
import { MalformedWindowCellsError, partSizeOf, partStarts, WindowCellsMerger, type WindowAccounting, type WindowCells } from '../../../services/core/monitoring/window-parts.js';
import { createRandom } from '../../../services/simulator/random.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const shape = { features: [{ name: 'lactate', type: 'numeric' as const }, { name: 'source', type: 'categorical' as const }], scoreColumn: 'score', segments: ['site'] };
const reference = createRandom(3);
const profile = fitReferenceProfile(shape, {
  numeric: () => Array.from({ length: 300 }, () => reference.normal(2, 1)),
  categorical: () => Array.from({ length: 300 }, () => (reference.chance(0.5) ? 'ed' : 'ward')),
  scores: Array.from({ length: 300 }, () => reference.uniform()),
});

interface Row {
  lactate: number | null;
  source: string | null;
  score: number;
  site: string;
  label: 0 | 1 | null;
  delayMs: number;
}

const row: fc.Arbitrary<Row> = fc.record({
  lactate: fc.option(fc.double({ min: -5, max: 12, noNaN: true }), { nil: null }),
  source: fc.option(fc.constantFrom('ed', 'ward', 'icu', '__proto__'), { nil: null }),
  score: fc.double({ min: 0, max: 1, noNaN: true }),
  site: fc.constantFrom('a', 'b', 'c'),
  label: fc.constantFrom(0 as const, 1 as const, null),
  delayMs: fc.integer({ min: -60_000, max: 10 * DAY }),
});

/** The cells the core gives a span of rows, with made-up but additive counts of what was not sketched. */
function cellsOf(rows: readonly Row[], extra: number): WindowCells {
  const sketch = new WindowSketch(profile);
  const delays = new LabelDelaySketch();
  const groups = new Map<string, number>();
  for (const each of rows) {
    sketch.addPrediction({ features: { lactate: each.lactate, source: each.source }, score: each.score });
    groups.set(each.site, (groups.get(each.site) ?? 0) + 1);
    if (each.label === null) continue;
    sketch.addOutcome({ score: each.score, label: each.label, segments: { site: each.site } });
    delays.add(each.delayMs);
  }
  const outcomes = rows.filter((each) => each.label !== null).length;
  const accounting: WindowAccounting = {
    predictions: rows.length,
    repeatedPredictions: extra,
    refusedPredictions: 2 * extra,
    outcomes,
    supersededOutcomes: extra,
    unscoredOutcomes: 3 * extra,
    outcomesOfRefusedPredictions: extra,
    outcomesWithoutPrediction: 5 * extra,
  };
  return { sketch: sketch.toJSON(), accounting, labelDelays: delays.toJSON(), segmentGroups: new Map([['site', groups]]) };
}

describe('window cells merged from parts', () => {
  it('are the cells of the rows of every part together, whether read from events or stored: counts exactly, sums up to rounding', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(row, { maxLength: 40 }), fc.boolean()), { minLength: 1, maxLength: 6 }), (described) => {
        const merger = new WindowCellsMerger(profile);
        const parts = described.map(([rows]) => rows);
        described.forEach(([rows, stored], index) => {
          const cells = cellsOf(rows, index);
          if (stored) merger.add(decodeCellColumns(profile, encodeWindowCells(profile, cells)));
          else merger.addCells(cells);
        });
        const merged = merger.cells();
        const expected = cellsOf(parts.flat(), (parts.length * (parts.length - 1)) / 2);
        expect(merged.accounting).toEqual(expected.accounting);
        expect(merged.labelDelays).toEqual(expected.labelDelays);
        expect(merged.segmentGroups.get('site')).toEqual(expected.segmentGroups.get('site'));
        expectSameUpToRounding(merged.sketch, expected.sketch, 'sketch');
      }),
      { numRuns: 150 },
    );
  });

  it('do not depend on the order the parts come in, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(row, { maxLength: 40 }), { minLength: 2, maxLength: 8 }).chain((parts) => fc.tuple(fc.constant(parts), fc.shuffledSubarray(parts, { minLength: parts.length }))),
        ([parts, shuffled]) => {
          const merged = (order: readonly Row[][]) => {
            const merger = new WindowCellsMerger(profile);
            for (const rows of order) merger.addCells(cellsOf(rows, 0));
            return encodeWindowCells(profile, merger.cells());
          };
          expect(Buffer.from(merged(shuffled)).toString('hex')).toBe(Buffer.from(merged(parts)).toString('hex'));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuse to give cells before any part is added', () => {
    expect(() => new WindowCellsMerger(profile).cells()).toThrow(RangeError);
  });
});

/** Equal, but for sums added in another order: whole numbers exactly, others within 1e-12 relative. */
function expectSameUpToRounding(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    // -0 and 0 are one value here: a sum of zeros is either, whatever the order.
    if (Number.isInteger(expected) && Number.isInteger(actual)) expect(actual + 0, path).toBe(expected + 0);
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  } else if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null) {
    // Groups and categories in any order: the order of a record's keys says nothing.
    const keys = (value: object) => (Array.isArray(value) ? Object.keys(value) : Object.keys(value).sort());
    expect(keys(actual), path).toEqual(keys(expected));
    for (const [key, value] of Object.entries(expected)) expectSameUpToRounding((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else expect(actual, path).toEqual(expected);
}

describe('stored window cells', () => {
  it('read back as written, bit for bit, and write back the same bytes', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.nat({ max: 1000 }), (rows, extra) => {
        const cells = cellsOf(rows, extra);
        const bytes = encodeWindowCells(profile, cells);
        const read = decodeWindowCells(profile, bytes);
        expect(read).toEqual(cells);
        expect(encodeWindowCells(profile, read)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('keep grid cells at any whole index, however far apart, and any double in their sums and extremes', () => {
    const cells = cellsOf([{ lactate: 1, source: 'ed', score: 0.4, site: 'a', label: 1, delayMs: 5_000 }], 0);
    const lactate = cells.sketch.features.lactate as { values: { cells: [number, number, number, number, number][] } };
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.tuple(fc.double({ noNaN: true }), fc.double({ noNaN: true }), fc.double()), { minLength: 20, maxLength: 20 }),
        (indices, values) => {
          lactate.values.cells = [...indices]
            .sort((left, right) => left - right)
            .map((index, position) => {
              const [a, b, sum] = values[position]!;
              return [index, position + 1, sum, Math.min(a, b), Math.max(a, b)];
            });
          expect(decodeWindowCells(profile, encodeWindowCells(profile, cells))).toEqual(cells);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse with a MalformedWindowCellsError whatever else they hold: random bytes, truncation, damage, trailing bytes', () => {
    const written = encodeWindowCells(profile, cellsOf([{ lactate: 1, source: 'ed', score: 0.4, site: 'a', label: 1, delayMs: 5_000 }, { lactate: 3, source: 'ward', score: 0.9, site: 'b', label: 0, delayMs: 60_000 }], 1));
    const damaged = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.nat({ max: written.length - 1 }).map((length) => written.slice(0, length)),
      fc.tuple(fc.nat({ max: written.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
        const bytes = written.slice();
        bytes[at]! ^= flip;
        return bytes;
      }),
      fc.uint8Array({ minLength: 1, maxLength: 30 }).map((tail) => new Uint8Array([...written, ...tail])),
    );
    fc.assert(
      fc.property(damaged, (bytes) => {
        try {
          const read = decodeWindowCells(profile, bytes);
          // A flipped byte can still be a document (a count changed); then it is one that writes back to those bytes.
          expect(encodeWindowCells(profile, read)).toEqual(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedWindowCellsError);
        }
      }),
      { numRuns: 2000 },
    );
    // A second document after the first is refused, not read.
    expect(() => decodeWindowCells(profile, new Uint8Array([...written, ...written]))).toThrow(MalformedWindowCellsError);
  });

  it('refuse a declared count beyond what the bytes left can hold before allocating for it', () => {
    // The header, the accounting (eight zeros), then the site segment declaring 2^53 − 1 groups.
    const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    const bytes = new Uint8Array([0x56, 0x43, 2, 0, 0, 0, 0, 0, 0, 0, 0, ...huge]);
    expect(() => decodeWindowCells(profile, bytes)).toThrow(/declared, more than the 0 bytes left/);
    // Beyond a safe integer, or longer than a varint may be.
    expect(() => decodeWindowCells(profile, new Uint8Array([0x56, 0x43, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toThrow(/beyond a safe integer/);
    expect(() => decodeWindowCells(profile, new Uint8Array([0x56, 0x43, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(/longer than 8 bytes/);
  });

  it('refuse a document of another version or another profile', () => {
    const cells = cellsOf([{ lactate: 1, source: 'ed', score: 0.4, site: 'a', label: 1, delayMs: 5_000 }], 1);
    const written = encodeWindowCells(profile, cells);
    const otherVersion = written.slice();
    otherVersion[2] = 1;
    expect(() => decodeWindowCells(profile, otherVersion)).toThrow(/version 1, not 2/);
    const swapped = fitReferenceProfile({ ...shape, features: [shape.features[1]!, shape.features[0]!] }, {
      numeric: () => Array.from({ length: 300 }, (_, index) => index),
      categorical: () => Array.from({ length: 300 }, () => 'ed'),
      scores: Array.from({ length: 300 }, () => 0.5),
    });
    expect(() => decodeWindowCells(swapped, written)).toThrow(MalformedWindowCellsError);
  });
});

describe('parts of a window', () => {
  it('are the largest other window size that divides it', () => {
    expect(partSizeOf(DAY, [HOUR, DAY, 7 * DAY])).toBe(HOUR);
    expect(partSizeOf(7 * DAY, [HOUR, DAY, 7 * DAY])).toBe(DAY);
    expect(partSizeOf(HOUR, [HOUR, DAY])).toBeNull();
    expect(partSizeOf(DAY, [5 * HOUR, DAY])).toBeNull();
  });

  it('tile the window from its start', () => {
    expect(partStarts(DAY, DAY, 6 * HOUR)).toEqual([DAY, DAY + 6 * HOUR, DAY + 12 * HOUR, DAY + 18 * HOUR]);
    expect(() => partStarts(HOUR, DAY, 6 * HOUR)).toThrow(RangeError);
    expect(() => partStarts(0, DAY, 5 * HOUR)).toThrow(RangeError);
  });
});
