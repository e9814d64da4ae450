import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, readDataset, type DatasetRequest } from '../../../services/adapters/dataset/dataset-file.js';

const folder = mkdtempSync(join(tmpdir(), 'vigil-dataset-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
};
const request: DatasetRequest = { numeric: ['lactate'], categorical: ['note'], score: 'score', label: 'label' };

describe('readDataset (CSV)', () => {
  it('reads quoted fields, doubled quotes, embedded newlines, CRLF, a BOM and missing tokens', async () => {
    const path = file('quoted.csv', '\uFEFFlactate,note,score,label\r\n1.5,"ED, then ward",0.25,1\r\n,"says ""hi""",0.5,0\r\nNA,"two\nlines",1,0\r\n2,,0,1\r\n');
    const dataset = await readDataset(path, request);
    expect(dataset.rowCount).toBe(4);
    expect(dataset.numeric.get('lactate')).toEqual([1.5, null, null, 2]);
    expect(dataset.categorical.get('note')).toEqual(['ED, then ward', 'says "hi"', 'two\nlines', null]);
    expect([...dataset.scores]).toEqual([0.25, 0.5, 1, 0]);
    expect([...(dataset.labels ?? [])]).toEqual([1, 0, 0, 1]);
  });

  it('keeps a doubled quote that straddles two read chunks', async () => {
    const padding = 'x'.repeat(65536 - 'lactate,note,score,label\n1,"'.length - 1);
    const path = file('boundary.csv', `lactate,note,score,label\n1,"${padding}""tail",0.5,1\n`);
    const dataset = await readDataset(path, request);
    expect(dataset.categorical.get('note')?.[0]).toBe(`${padding}"tail`);
  });

  it('names file, row and column of a value it will not guess', async () => {
    const cases: Array<[string, RegExp]> = [
      ['lactate,note,score,label\n1,a,0.5,1\nabc,b,0.5,0\n', /bad\.csv row 2, column "lactate": "abc" is not a number/],
      ['lactate,note,score,label\nNaN,a,0.5,1\n', /row 1, column "lactate": "NaN" is not a number/],
      ['lactate,note,score,label\n1,a,1.5,1\n', /row 1, column "score": score 1.5 is outside \[0, 1\]/],
      ['lactate,note,score,label\n1,a,0.5,2\n', /row 1, column "label": label must be 0 or 1, got 2/],
      ['lactate,note,score,label\n1,a,0.5\n', /row 1: has 3 fields; the header has 4/],
      ['lactate,score\n1,0.5\n', /missing columns "note", "label"/],
      ['lactate,note,score,label,lactate\n1,a,0.5,1,2\n', /bad\.csv, column "lactate": appears more than once in the header/],
      ['lactate,note,score,label\n0x1A,a,0.5,1\n', /row 1, column "lactate": "0x1A" is not a number/],
      ['lactate,note,score,label\n1e400,a,0.5,1\n', /row 1, column "lactate": "1e400" is too large to be a finite number/],
      ['lactate,note,score,label\n1,"a\n', /row 1: the file ends inside a quoted field/],
      ['', /bad\.csv: has no header row/],
    ];
    for (const [content, message] of cases) {
      const attempt = readDataset(file('bad.csv', content), request);
      await expect(attempt).rejects.toBeInstanceOf(DatasetError);
      await expect(attempt).rejects.toThrow(message);
    }
  });

  it('keeps a row without a label, its label null', async () => {
    const dataset = await readDataset(file('some-labels.csv', 'lactate,note,score,label\n1,a,0.5,\n2,b,0.6,1\n3,c,0.7,NA\n'), request);
    expect(dataset.rowCount).toBe(3);
    expect(dataset.labels).toEqual([null, 1, null]);
  });

  it('keeps a carriage return inside quotes and drops a CRLF split across read chunks', async () => {
    const header = 'lactate,note,score,label\r\n';
    const padding = 'x'.repeat(65536 - header.length - '1,'.length - ',0.5,1\r'.length);
    const path = file('carriage-returns.csv', `${header}1,${padding},0.5,1\r\n2,"ends in a return\r",0.5,0\r\n`);
    const dataset = await readDataset(path, request);
    expect(dataset.categorical.get('note')).toEqual([padding, 'ends in a return\r']);
    expect(dataset.labels).toEqual([1, 0]);
  });

  it('reads a current file without labels when they are optional, and reports progress', async () => {
    let calls = 0;
    const dataset = await readDataset(file('unlabelled.csv', 'lactate,note,score\n1,a,0.1\n2,b,0.9\n'), { ...request, labelOptional: true, onProgress: () => (calls += 1) });
    expect(dataset.labels).toBeNull();
    expect(dataset.rowCount).toBe(2);
    expect(calls).toBeGreaterThan(0);
  });
});

describe('readDataset (NDJSON)', () => {
  it('reads objects line by line, absent keys and null as missing', async () => {
    const dataset = await readDataset(file('rows.ndjson', '{"lactate":1.5,"note":"ED","score":0.2,"label":1}\n\n{"note":null,"score":0.7,"label":0}\n'), request);
    expect(dataset.numeric.get('lactate')).toEqual([1.5, null]);
    expect(dataset.categorical.get('note')).toEqual(['ED', null]);
  });

  it('takes its columns from every row, so the first row may lack any of them', async () => {
    const dataset = await readDataset(file('sparse.ndjson', '{"score":0.2}\n{"lactate":1.5,"note":"ED","score":0.7,"label":1}\n{"lactate":2,"score":0.4,"label":0}\n'), request);
    expect(dataset.numeric.get('lactate')).toEqual([null, 1.5, 2]);
    expect(dataset.categorical.get('note')).toEqual([null, 'ED', null]);
    expect(dataset.labels).toEqual([null, 1, 0]);
  });

  it('reads labels null only when no row has the label, and refuses a column that no row has', async () => {
    const unlabelled = await readDataset(file('unlabelled.ndjson', '{"lactate":1,"note":"a","score":0.2}\n{"lactate":2,"note":"b","score":0.4}\n'), { ...request, labelOptional: true });
    expect(unlabelled.labels).toBeNull();
    await expect(readDataset(file('no-note.ndjson', '{"lactate":1,"score":0.2,"label":1}\n{"lactate":2,"score":0.4}\n'), request)).rejects.toThrow(/no-note\.ndjson: missing column "note"$/);
  });

  it('takes a column named like an object property only from the row itself', async () => {
    const dataset = await readDataset(file('prototype.ndjson', '{"score":0.2}\n{"toString":3,"score":0.4}\n'), { numeric: ['toString'], categorical: [], score: 'score', label: 'label', labelOptional: true });
    expect(dataset.numeric.get('toString')).toEqual([null, 3]);
  });

  it('names the line of invalid JSON and of a non-numeric value', async () => {
    await expect(readDataset(file('broken.ndjson', '{"lactate":1,"note":"a","score":0.2,"label":1}\n{oops\n'), request)).rejects.toThrow(/broken\.ndjson row 2: is not valid JSON/);
    await expect(readDataset(file('typed.ndjson', '{"lactate":"high","note":"a","score":0.2,"label":1}\n'), request)).rejects.toThrow(/row 1, column "lactate": "high" is not a number/);
  });
});
