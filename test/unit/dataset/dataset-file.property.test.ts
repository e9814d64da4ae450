import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, MAXIMUM_RECORD_LENGTH, readDataset, type Dataset, type DatasetRequest } from '../../../services/adapters/dataset/dataset-file.js';

// The dataset reader parses untrusted files: whatever the bytes, it returns a dataset or throws a
// DatasetError naming the file (and the row and column where there is one), and nothing else.

const folder = mkdtempSync(join(tmpdir(), 'vigil-dataset-properties-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const file = (name: string, content: string): string => {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
};

const request: DatasetRequest = { numeric: ['lactate'], categorical: ['note'], score: 'score', label: 'label', labelOptional: true };

/** The dataset, or the DatasetError it was refused with; any other exception fails the test. */
async function readOrRefusal(path: string, columns: DatasetRequest = request): Promise<Dataset | DatasetError> {
  try {
    return await readDataset(path, columns);
  } catch (error) {
    if (error instanceof DatasetError) return error;
    throw error;
  }
}

async function refusal(path: string, columns: DatasetRequest = request): Promise<DatasetError> {
  const result = await readOrRefusal(path, columns);
  if (!(result instanceof DatasetError)) throw new Error(`${basename(path)} was read, not refused`);
  return result;
}

/** What any dataset the reader returns holds: equal-length columns of valid values. */
function expectWellFormed(dataset: Dataset): void {
  expect(dataset.scores.length).toBe(dataset.rowCount);
  for (const values of [...dataset.numeric.values(), ...dataset.categorical.values()]) expect(values.length).toBe(dataset.rowCount);
  for (const values of dataset.numeric.values()) for (const value of values) expect(value === null || Number.isFinite(value)).toBe(true);
  for (const score of dataset.scores) expect(score >= 0 && score <= 1).toBe(true);
  if (dataset.labels !== null) {
    expect(dataset.labels.length).toBe(dataset.rowCount);
    for (const label of dataset.labels) expect([0, 1, null]).toContain(label);
  }
}

function expectReadOrRefused(result: Dataset | DatasetError, path: string): void {
  if (result instanceof DatasetError) {
    expect(result.file).toBe(path);
    expect(result.message.startsWith(basename(path))).toBe(true);
  } else expectWellFormed(result);
}

const awkward = fc.constantFrom(
  '"', '""', ',', '\n', '\r\n', '\r', '\uFEFF', '\u0000', '\u0007', '\u001b[2J', ' ', '\t', 'NA', 'null', '0', '1', '0.5', '-1e400',
  '1e999', '0x1A', 'NaN', 'Infinity', 'lactate', 'note', 'score', 'label', '{', '}', '[', ']', ':', '{"score":0.5}', '[[[[', '😀', '\ud800',
);
const text = fc.array(fc.oneof(awkward, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 150 }).map((parts) => parts.join(''));

describe('readDataset on arbitrary content', () => {
  it('reads or refuses any CSV with a DatasetError naming the file', async () => {
    const header = fc.constantFrom('', 'lactate,note,score,label\n', 'score,label,note,lactate\r\n', '\uFEFFlactate,note,score\n');
    await fc.assert(
      fc.asyncProperty(header, text, async (head, body) => {
        const path = file('arbitrary.csv', head + body);
        expectReadOrRefused(await readOrRefusal(path), path);
      }),
      { numRuns: 300 },
    );
  });

  it('reads or refuses any NDJSON with a DatasetError naming the file', async () => {
    const cell = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.double({ min: 0, max: 1, noNaN: true }));
    const object = fc.dictionary(fc.constantFrom('lactate', 'note', 'score', 'label', 'toString', '__proto__', 'other'), cell).map((value) => JSON.stringify(value));
    // Written by hand: JSON.stringify itself overflows the stack on such nesting.
    const deep = fc
      .tuple(fc.constantFrom('lactate', 'note', 'other'), fc.integer({ min: 1, max: 100_000 }))
      .map(([key, depth]) => `{"score":0.5,"${key}":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const line = fc.oneof(object, object, text, deep, fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value) ?? ''));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), async (lines, lineEnding) => {
        const path = file('arbitrary.ndjson', lines.join(lineEnding));
        expectReadOrRefused(await readOrRefusal(path), path);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readDataset bounds what one row can cost', () => {
  const tooLong = `is longer than ${MAXIMUM_RECORD_LENGTH} characters`;

  it('refuses a CSV record over the limit, quoted or not, header included', async () => {
    const header = 'lactate,note,score,label\n';
    for (const [content, row] of [
      [`${header}1,${'x'.repeat(MAXIMUM_RECORD_LENGTH)},0.5,1\n`, 1],
      [`${header}1,a,0.5,1\n2,"${'x'.repeat(2 * MAXIMUM_RECORD_LENGTH)}`, 2],
      [`${'lactate,'.repeat(MAXIMUM_RECORD_LENGTH / 4)}\n`, null],
    ] as const) {
      const error = await refusal(file('long.csv', content));
      expect(error.message).toContain(tooLong);
      expect(error.row).toBe(row);
    }
  });

  it('refuses an NDJSON line over the limit, ended or not', async () => {
    const first = '{"lactate":1,"note":"a","score":0.5,"label":1}\n';
    for (const ending of ['', '\n']) {
      const error = await refusal(file('long.ndjson', `${first}{"note":"${'x'.repeat(MAXIMUM_RECORD_LENGTH)}"}${ending}`));
      expect(error.message).toContain(tooLong);
      expect(error.row).toBe(2);
    }
  });

  it('refuses nesting 100,000 deep in a column by its type, and ignores it elsewhere', async () => {
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const numeric = await refusal(file('nested.ndjson', `{"lactate":${nested},"note":"a","score":0.5}\n`));
    expect(numeric.message).toMatch(/row 1, column "lactate": a JSON array is not a number$/);
    const categorical = await refusal(file('nested.ndjson', `{"lactate":1,"note":${nested},"score":0.5}\n`));
    expect(categorical.message).toMatch(/row 1, column "note": a JSON array is not a category/);
    const objects = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const dataset = await readDataset(file('nested.ndjson', `{"lactate":1,"note":"a","score":0.5,"extra":${objects}}\n`), request);
    expect(dataset.numeric.get('lactate')).toEqual([1]);
  });

  it('refuses numbers too large for a double, however written', async () => {
    const digits = '9'.repeat(5000);
    expect((await refusal(file('huge.ndjson', `{"lactate":1e400,"note":"a","score":0.5}\n`))).message).toContain('Infinity is not a finite number');
    expect((await refusal(file('huge.ndjson', `{"lactate":${digits},"note":"a","score":0.5}\n`))).message).toContain('Infinity is not a finite number');
    expect((await refusal(file('huge.csv', `lactate,note,score\n${digits},a,0.5\n`))).message).toContain(`"${'9'.repeat(40)}" is too large to be a finite number`);
  });
});

describe('readDataset round trip', () => {
  // -0 is written as "0" by String and JSON alike: the same value in a dataset.
  const positiveZero = (value: number): number => (value === 0 ? 0 : value);
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map(positiveZero);
  const category = fc
    .string({ unit: fc.oneof(fc.constantFrom('"', ',', '\n', '\r', ' ', '\t', '\u0000', '\uFEFF', '{', '['), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 })
    .filter((value) => !['', 'NA', 'null'].includes(value));
  const row = fc.record({
    lactate: fc.option(finite),
    age: fc.option(finite),
    note: fc.option(category),
    site: fc.option(category),
    score: fc.double({ min: 0, max: 1, noNaN: true }).map(positiveZero),
    label: fc.option(fc.constantFrom<0 | 1>(0, 1)),
    /** How CSV spells this row's missing values. */
    missing: fc.constantFrom('', 'NA', 'null'),
    /** Whether NDJSON leaves this row's missing values out rather than writing null. */
    omitted: fc.boolean(),
  });
  type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;
  const layout = fc.record({ rows: fc.array(row, { minLength: 1, maxLength: 25 }), lineEnding: fc.constantFrom('\n', '\r\n'), bom: fc.boolean(), endsWithLineEnding: fc.boolean() });
  const columns: DatasetRequest = { numeric: ['lactate', 'age'], categorical: ['note', 'site'], score: 'score', label: 'label', labelOptional: true };
  const names = ['lactate', 'age', 'note', 'site', 'score', 'label'] as const;

  const expectColumns = (dataset: Dataset, rows: Row[]): void => {
    expect(dataset.rowCount).toBe(rows.length);
    expect(dataset.numeric.get('lactate')).toEqual(rows.map((written) => written.lactate));
    expect(dataset.numeric.get('age')).toEqual(rows.map((written) => written.age));
    expect(dataset.categorical.get('note')).toEqual(rows.map((written) => written.note));
    expect(dataset.categorical.get('site')).toEqual(rows.map((written) => written.site));
    expect(Array.from(dataset.scores)).toEqual(rows.map((written) => written.score));
  };
  const document = (lines: string[], { lineEnding, bom, endsWithLineEnding }: { lineEnding: string; bom: boolean; endsWithLineEnding: boolean }): string =>
    `${bom ? '\uFEFF' : ''}${lines.join(lineEnding)}${endsWithLineEnding ? lineEnding : ''}`;

  it('reads back the values of any CSV it is given', async () => {
    const field = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
    await fc.assert(
      fc.asyncProperty(layout, async (generated) => {
        const lines = [names.join(','), ...generated.rows.map((written) => names.map((name) => (written[name] === null ? written.missing : field(String(written[name])))).join(','))];
        const dataset = await readDataset(file('round-trip.csv', document(lines, generated)), columns);
        expectColumns(dataset, generated.rows);
        expect(dataset.labels).toEqual(generated.rows.map((written) => written.label));
      }),
      { numRuns: 300 },
    );
  });

  it('reads back the values of any NDJSON it is given, keys absent from any row', async () => {
    await fc.assert(
      fc.asyncProperty(layout, async (generated) => {
        const objects = generated.rows.map((written) => Object.fromEntries(names.filter((name) => written[name] !== null || !written.omitted).map((name) => [name, written[name]])));
        const path = file('round-trip.ndjson', document(objects.map((object) => JSON.stringify(object)), generated));
        const result = await readOrRefusal(path, columns);
        const absent = names.filter((name) => objects.every((object) => !(name in object)));
        const missingRequired = absent.filter((name) => name !== 'label');
        if (missingRequired.length > 0) {
          expect(result).toBeInstanceOf(DatasetError);
          expect((result as DatasetError).message).toContain(`missing column${missingRequired.length > 1 ? 's' : ''} ${missingRequired.map((name) => `"${name}"`).join(', ')}`);
          return;
        }
        if (result instanceof DatasetError) throw result;
        expectColumns(result, generated.rows);
        expect(result.labels).toEqual(absent.includes('label') ? null : generated.rows.map((written) => written.label));
      }),
      { numRuns: 300 },
    );
  });
});
