import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvFormatError, CsvRecords } from '../../../services/adapters/dataset/dataset-file.js';

// CsvRecords takes the text in runs, as slices of each chunk. Whatever the text and wherever the
// chunks end, it must give the records that reading the whole text one character at a time gives,
// by the rules written out plainly below: a quote opens a quoted field only as its first character,
// a doubled quote inside one is a quote, a carriage return before a line feed belongs to the line
// break, anywhere else outside quotes to the field.

/** The records of a whole text, one character at a time; a text ending inside quotes is refused. */
function referenceRecords(text: string): string[][] | 'ends inside quotes' {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character !== '"') field += character;
      else if (text[index + 1] === '"') {
        field += '"';
        index++;
      } else quoted = false;
    } else if (character === '"' && field === '') quoted = true;
    else if (character === ',') {
      record.push(field);
      field = '';
    } else if (character === '\n') {
      records.push([...record, field]);
      record = [];
      field = '';
    } else if (character === '\r' && text[index + 1] === '\n') continue;
    else if (character === '\r' && index + 1 === text.length) continue;
    else field += character;
  }
  if (quoted) return 'ends inside quotes';
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

/** The records CsvRecords gives for the text cut at the given places. */
function chunkedRecords(text: string, cuts: readonly number[]): string[][] | 'ends inside quotes' {
  const records: string[][] = [];
  const parser = new CsvRecords();
  const ends = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((left, right) => left - right);
  let start = 0;
  for (const end of [...ends, text.length]) {
    parser.push(text.slice(start, end), (record) => records.push(record));
    start = Math.max(start, end);
  }
  try {
    parser.finish((record) => records.push(record));
  } catch (error) {
    if (error instanceof CsvFormatError) return 'ends inside quotes';
    throw error;
  }
  return records;
}

const piece = fc.oneof(
  fc.constantFrom('"', '""', '"""', ',', '\n', '\r', '\r\n', '\n\r', 'a', 'NA', 'null', '0.5', ' ', '\uFEFF', '😀', '\ud800'),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const csvText = fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join(''));

describe('CsvRecords', () => {
  it('gives, for any text cut into any chunks, the records of the whole text read a character at a time', () => {
    fc.assert(
      fc.property(csvText, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        expect(chunkedRecords(text, cuts)).toEqual(referenceRecords(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a record one character over the limit, wherever the chunks end, and takes one at the limit', () => {
    // Small limits are not configurable, so the record is built around the real one.
    const limit = 1 << 20;
    fc.assert(
      fc.property(fc.boolean(), fc.nat({ max: 70_000 }), (quotedField, cut) => {
        // A record spans its characters and its line break: "x…x\n" has length + 1 of them.
        const exactly = (quotedField ? `"${'x'.repeat(limit - 3)}"` : 'x'.repeat(limit - 1)) + '\n';
        expect(exactly.length).toBe(limit);
        expect(() => chunkedRecords(exactly, [cut])).not.toThrow();
        expect(() => chunkedRecords(`y${exactly}`, [cut])).toThrow(CsvFormatError);
      }),
      { numRuns: 20 },
    );
  });
});
