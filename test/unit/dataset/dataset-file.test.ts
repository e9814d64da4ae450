import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, readDataset, type DatasetRequest } from '../../../services/adapters/dataset/dataset-file.js';

const folder = mkdtempSync(join(tmpdir(), 'vigil-dataset-'));
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
    ];
    for (const [content, message] of cases) {
      const attempt = readDataset(file('bad.csv', content), request);
      await expect(attempt).rejects.toBeInstanceOf(DatasetError);
      await expect(attempt).rejects.toThrow(message);
    }
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

  it('names the line of invalid JSON and of a non-numeric value', async () => {
    await expect(readDataset(file('broken.ndjson', '{"lactate":1,"note":"a","score":0.2,"label":1}\n{oops\n'), request)).rejects.toThrow(/broken\.ndjson row 2: is not valid JSON/);
    await expect(readDataset(file('typed.ndjson', '{"lactate":"high","note":"a","score":0.2,"label":1}\n'), request)).rejects.toThrow(/row 1, column "lactate": "high" is not a number/);
  });
});
