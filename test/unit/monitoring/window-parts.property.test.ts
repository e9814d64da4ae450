import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelDelaySketch } from '../../../services/core/metrics/sketches/label-delay-sketch.js';
import { fitReferenceProfile, WindowSketch } from '../../../services/core/metrics/sketches/window-sketch.js';
import {
  MalformedWindowCellsError,
  partSizeOf,
  partStarts,
  reviveWindowCells,
  serializeWindowCells,
  WindowCellsMerger,
  type WindowAccounting,
  type WindowCells,
} from '../../../services/core/monitoring/window-parts.js';
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
  it('are the cells of the rows of every part together: counts exactly, sums up to rounding', () => {
    fc.assert(
      fc.property(fc.array(fc.array(row, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const merger = new WindowCellsMerger(profile);
        parts.forEach((rows, index) => merger.addRevived(reviveWindowCells(profile, serializeWindowCells(cellsOf(rows, index)))));
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
    expect(Object.keys(actual), path).toEqual(Object.keys(expected));
    for (const [key, value] of Object.entries(expected)) expectSameUpToRounding((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else expect(actual, path).toEqual(expected);
}

describe('stored window cells', () => {
  it('read back as written: the same text written again, and the same cells but for -0, which JSON writes as 0', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.nat({ max: 1000 }), (rows, extra) => {
        const cells = cellsOf(rows, extra);
        const text = serializeWindowCells(cells);
        const revived = reviveWindowCells(profile, text);
        const read: WindowCells = { sketch: revived.sketch.toJSON(), accounting: revived.accounting, labelDelays: revived.delays.toJSON(), segmentGroups: revived.segmentGroups };
        expect(serializeWindowCells(read)).toBe(text);
        expect(read.accounting).toEqual(cells.accounting);
        expect(read.segmentGroups).toEqual(cells.segmentGroups);
        expect(read.sketch).toEqual(JSON.parse(JSON.stringify(cells.sketch)));
      }),
      { numRuns: 200 },
    );
  });

  it('refuse with a MalformedWindowCellsError whatever else they hold: foreign JSON, truncation, damage, huge declared sizes', () => {
    const written = serializeWindowCells(cellsOf([{ lactate: 1, source: 'ed', score: 0.4, site: 'a', label: 1, delayMs: 5_000 }], 1));
    const damaged = fc.oneof(
      fc.json(),
      fc.string(),
      fc.nat({ max: written.length - 1 }).map((length) => written.slice(0, length)),
      fc.tuple(fc.nat({ max: written.length - 1 }), fc.string({ minLength: 1, maxLength: 3 })).map(([at, text]) => written.slice(0, at) + text + written.slice(at + 1)),
      fc.constantFrom(
        written.replace('"resolution":10000', '"resolution":1000000000'),
        written.replace('"predictions":1', '"predictions":-1'),
        written.replace('"version":1', '"version":2'),
        '{"version":1,"sketch":{},"accounting":{},"labelDelays":{},"segmentGroups":[]}',
        `{"version":1,"segmentGroups":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      ),
    );
    fc.assert(
      fc.property(damaged, (text) => {
        try {
          reviveWindowCells(profile, text);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedWindowCellsError);
        }
      }),
      { numRuns: 1000 },
    );
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
