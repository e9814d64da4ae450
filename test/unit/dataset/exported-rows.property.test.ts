import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WindowPredictionRow } from '../../../services/adapters/clickhouse/window-export.js';
import { readModelDataset } from '../../../services/adapters/dataset/model-dataset.js';
import { csvField, exportColumns, headerLine, rowLine, type DatasetFormat } from '../../../services/cli/export-command.js';
import type { ModelSpec } from '../../../services/core/model-spec/model-spec.js';

// What `vigil export` writes, the dataset reader `vigil report` uses reads back as written: every
// number to the bit, every text with its commas, quotes and line breaks, an empty cell or null as
// missing. The one loss is the reader's own rule: a text "", "NA" or "null" is missing to it.

const folder = mkdtempSync(join(tmpdir(), 'vigil-exported-rows-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// Column names a spec may hold, awkward ones included (a comma, a quote, a line break).
const spec: Pick<ModelSpec, 'features' | 'scoreColumn' | 'labelColumn' | 'segments'> = {
  features: [
    { name: 'lactate', type: 'numeric' },
    { name: 'admission, source', type: 'categorical' },
    { name: 'heart "rate"', type: 'numeric' },
    { name: 'note\nline', type: 'categorical' },
  ],
  scoreColumn: 'score',
  labelColumn: 'label',
  segments: ['site', 'payer'],
};

const awkwardText = fc.constantFrom('', 'NA', 'null', ',', '"', '""', '\n', '\r\n', '\r', ' padded ', '\t', '\u0000', 'a,b', 'say "hi"', '\uFEFF', '😀', '0', '1.5', 'true');
const text = fc.array(fc.oneof(awkwardText, fc.string({ unit: 'grapheme', maxLength: 6 })), { maxLength: 4 }).map((parts) => parts.join(''));
const category = fc.option(text, { nil: null });
const number = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null });

const row: fc.Arbitrary<WindowPredictionRow> = fc.record({
  predictionId: fc.uuid(),
  occurredAt: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
  numeric: fc.tuple(number, number),
  categorical: fc.tuple(category, category),
  score: fc.double({ min: 0, max: 1, noNaN: true }),
  label: fc.constantFrom(0 as const, 1 as const, null),
  segments: fc.tuple(category, category),
});

const READ_AS_MISSING = new Set(['', 'NA', 'null']);
const asRead = (value: string | null): string | null => (value === null || READ_AS_MISSING.has(value) ? null : value);
/** A file writes -0 as 0; every other double is written and read to the bit. */
const plusZero = (value: number | null): number | null => (value === 0 ? 0 : value);

describe('exported rows read back by the dataset reader', () => {
  const layout = exportColumns(spec);
  if (!layout.ok) throw new Error(layout.problem);

  it.each<DatasetFormat>(['csv', 'ndjson'])('%s: every value as written, missing as missing', async (format) => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
        const file = join(folder, `rows.${format}`);
        writeFileSync(file, headerLine(layout.columns, format) + rows.map((written) => rowLine(layout.columns, format, written)).join(''));
        const dataset = await readModelDataset(file, spec as ModelSpec);
        expect(dataset.rowCount).toBe(rows.length);
        expect(dataset.numeric.get('lactate')).toEqual(rows.map((written) => plusZero(written.numeric[0]!)));
        expect(dataset.numeric.get('heart "rate"')).toEqual(rows.map((written) => plusZero(written.numeric[1]!)));
        expect(dataset.categorical.get('admission, source')).toEqual(rows.map((written) => asRead(written.categorical[0]!)));
        expect(dataset.categorical.get('note\nline')).toEqual(rows.map((written) => asRead(written.categorical[1]!)));
        expect(dataset.categorical.get('site')).toEqual(rows.map((written) => asRead(written.segments[0]!)));
        expect(dataset.categorical.get('payer')).toEqual(rows.map((written) => asRead(written.segments[1]!)));
        expect([...dataset.scores]).toEqual(rows.map((written) => plusZero(written.score)));
        expect(dataset.labels).toEqual(rows.map((written) => written.label));
      }),
      { numRuns: 150 },
    );
  });

  it('quotes a CSV field only when it must', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(0.1)).toBe('0.1');
    expect(csvField(-1.5e-300)).toBe('-1.5e-300');
    expect(csvField('site-a')).toBe('site-a');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('carriage\rreturn')).toBe('"carriage\rreturn"');
  });

  it('puts prediction_id and occurred_at first, then the spec columns, and refuses a name used twice', () => {
    expect(layout.columns.map((column) => column.name)).toEqual(['prediction_id', 'occurred_at', 'lactate', 'admission, source', 'heart "rate"', 'note\nline', 'score', 'label', 'site', 'payer']);
    const written = rowLine(layout.columns, 'ndjson', {
      predictionId: 'p-1',
      occurredAt: Date.UTC(2026, 10, 30, 8),
      numeric: [null, 80],
      categorical: ['ED', null],
      score: 0.25,
      label: null,
      segments: ['site-a', null],
    });
    expect(JSON.parse(written)).toEqual({ prediction_id: 'p-1', occurred_at: '2026-11-30T08:00:00.000Z', lactate: null, 'admission, source': 'ED', 'heart "rate"': 80, 'note\nline': null, score: 0.25, label: null, site: 'site-a', payer: null });
    expect(exportColumns({ ...spec, segments: ['lactate'] })).toEqual({ ok: false, problem: expect.stringContaining('"lactate" twice') });
    const traced = exportColumns({ ...spec, segments: ['prediction_id'] });
    expect(traced.ok && traced.columns.map((column) => column.name)).toEqual(['occurred_at', 'lactate', 'admission, source', 'heart "rate"', 'note\nline', 'score', 'label', 'prediction_id']);
    expect(traced.ok && traced.dropped).toEqual(['prediction_id']);
  });
});
