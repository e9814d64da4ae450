import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads a dataset file (CSV with a header row, or NDJSON) into columns, streaming, for the report.
 * Rows are numbered from 1 at the first data row; the CSV header and blank lines are not counted.
 * Missing values: an empty field, NA or null, and in NDJSON an absent key. An NDJSON file has no
 * header: its columns are the keys of all its rows, so a key may be absent from any one row, the
 * first included, and only a column absent from every row is a missing column. A row without a
 * label is kept, with its label null. Anything else that is not a finite decimal number in a
 * numeric column, or a JSON array or object in any column, is an error naming file, row and
 * column: Vigil never guesses.
 *
 * The files are untrusted, so the work one row can cost is bounded by its length: a record (a CSV
 * record, quoted line breaks included, or an NDJSON line) over MAXIMUM_RECORD_LENGTH characters is
 * an error. Within that, nesting costs no stack: JSON.parse does not recurse, and nested values
 * are refused by their type without being converted to text.
 */

/** Far above any real row (a thousand features of a thousand characters each fit), yet one row's text stays a few megabytes. */
export const MAXIMUM_RECORD_LENGTH = 1 << 20;

export interface DatasetRequest {
  numeric: readonly string[];
  categorical: readonly string[];
  score: string;
  label: string;
  /** When true, a file without the label column is read with labels null. */
  labelOptional?: boolean;
  onProgress?: (bytesRead: number, totalBytes: number, rowsRead: number) => void;
}

export interface Dataset {
  file: string;
  rowCount: number;
  numeric: Map<string, (number | null)[]>;
  categorical: Map<string, (string | null)[]>;
  scores: Float64Array;
  /** null when the file has no label column; an entry is null for a row without a label. */
  labels: (0 | 1 | null)[] | null;
}

export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly row: number | null,
    readonly column: string | null,
    problem: string,
  ) {
    super(`${basename(file)}${row === null ? '' : ` row ${row}`}${column === null ? '' : `, column "${column}"`}: ${problem}`);
    this.name = 'DatasetError';
  }
}

/** The missing tokens '', 'NA' and 'null', compared by length first: most cells are none of them. */
const isMissingToken = (value: string): boolean =>
  value.length === 0 || (value.length === 2 && value === 'NA') || (value.length === 4 && value === 'null');
/** Whether trim() could change the value: an end that is not a printable ASCII character (trim also removes Unicode spaces). */
const hasSpaceAtEnds = (value: string): boolean => {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return !(first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f);
};
/** A decimal number as CSV writers print one; Number() alone would also take hexadecimal "0x1A" or binary "0b101". */
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A value named in an error: strings quoted and cut short, nested JSON by its type alone. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value === 'object' && value !== null) return 'a JSON object';
  return String(value);
}

class ColumnBuilder {
  readonly numeric = new Map<string, (number | null)[]>();
  readonly categorical = new Map<string, (string | null)[]>();
  readonly scores: number[] = [];
  readonly labels: (0 | 1 | null)[] = [];
  rows = 0;

  constructor(
    private readonly file: string,
    private readonly request: DatasetRequest,
  ) {
    for (const name of request.numeric) this.numeric.set(name, []);
    for (const name of request.categorical) this.categorical.set(name, []);
  }

  /** Adds the next row; `cell` gives a column's value, undefined when the row lacks it. */
  add(cell: (column: string) => unknown): void {
    const row = ++this.rows;
    for (const [name, values] of this.numeric) values.push(this.number(cell(name), row, name));
    for (const [name, values] of this.categorical) values.push(this.category(cell(name), row, name));
    const score = this.number(cell(this.request.score), row, this.request.score);
    if (score === null || score < 0 || score > 1) throw new DatasetError(this.file, row, this.request.score, `score ${score === null ? 'is missing' : `${score} is outside [0, 1]`}`);
    this.scores.push(score);
    const label = this.number(cell(this.request.label), row, this.request.label);
    if (label !== null && label !== 0 && label !== 1) throw new DatasetError(this.file, row, this.request.label, `label must be 0 or 1, got ${label}`);
    this.labels.push(label);
  }

  private number(value: unknown, row: number, column: string): number | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new DatasetError(this.file, row, column, `${value} is not a finite number`);
      return value;
    }
    if (typeof value === 'string') {
      if (isMissingToken(value)) return null;
      if (!DECIMAL_NUMBER.test(hasSpaceAtEnds(value) ? value.trim() : value)) throw new DatasetError(this.file, row, column, `${describeValue(value)} is not a number`);
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) throw new DatasetError(this.file, row, column, `${describeValue(value)} is too large to be a finite number`);
      return parsed;
    }
    throw new DatasetError(this.file, row, column, `${describeValue(value)} is not a number`);
  }

  private category(value: unknown, row: number, column: string): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return isMissingToken(value) ? null : value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new DatasetError(this.file, row, column, `${describeValue(value)} is not a category (expected a string, number or boolean)`);
  }

  build(hasLabelColumn: boolean): Dataset {
    return {
      file: this.file,
      rowCount: this.rows,
      numeric: this.numeric,
      categorical: this.categorical,
      scores: Float64Array.from(this.scores),
      labels: hasLabelColumn ? this.labels : null,
    };
  }
}

function requestedColumns(request: DatasetRequest): string[] {
  return [...request.numeric, ...request.categorical, request.score, request.label];
}

function requiredColumns(request: DatasetRequest): string[] {
  return [...request.numeric, ...request.categorical, request.score, ...(request.labelOptional ? [] : [request.label])];
}

/** A record the CSV grammar cannot take: the caller adds the file and row. */
export class CsvFormatError extends Error {}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits CSV text into records across chunk boundaries: quotes, doubled quotes, CRLF, line breaks
 * in quotes. A carriage return is part of the line break only outside quotes and before a line feed.
 * A quote opens a quoted field only as the field's first character; elsewhere it is text.
 *
 * Each run of plain characters is taken as one slice of the chunk, never a character at a time: a
 * field built by appending characters is a chain of small strings that every later use (a lookup, a
 * trim, a number's parse) has to flatten first, which cost more than the parsing itself. A record
 * counts every character it spans, its line break included, and one over MAXIMUM_RECORD_LENGTH is
 * refused before the next run is read, so one record holds at most that plus one chunk.
 */
export class CsvRecords {
  private field = '';
  private record: string[] = [];
  private recordLength = 0;
  private quoted = false;
  private quoteSeen = false;
  private carriageReturnSeen = false;

  push(text: string, emit: (record: string[]) => void): void {
    let index = 0;
    const length = text.length;
    while (index < length) {
      if (this.quoted) {
        const quote = text.indexOf('"', index);
        const runEnd = quote === -1 ? length : quote;
        this.field += text.slice(index, runEnd);
        this.count(runEnd - index);
        if (quote === -1) return;
        if (quote + 1 === length) {
          // The quote may be the first of a doubled pair split across chunks.
          this.count(1);
          this.quoteSeen = true;
          this.quoted = false;
          return;
        }
        if (text.charCodeAt(quote + 1) === QUOTE) {
          this.field += '"';
          this.count(2);
          index = quote + 2;
        } else {
          this.count(1);
          this.quoted = false;
          index = quote + 1;
        }
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (text.charCodeAt(index) === QUOTE) {
          this.field += '"';
          this.count(1);
          this.quoted = true;
          index++;
          continue;
        }
      }
      if (this.carriageReturnSeen) {
        this.carriageReturnSeen = false;
        if (text.charCodeAt(index) !== LINE_FEED) this.field += '\r';
      }
      let special = index;
      let code = 0;
      while (special < length) {
        code = text.charCodeAt(special);
        if (code === COMMA || code === LINE_FEED || code === CARRIAGE_RETURN || code === QUOTE) break;
        special++;
      }
      if (special > index) this.field += text.slice(index, special);
      this.count(special - index);
      if (special === length) return;
      this.count(1);
      index = special + 1;
      if (code === COMMA) {
        this.record.push(this.field);
        this.field = '';
      } else if (code === LINE_FEED) this.endRecord(emit);
      else if (code === CARRIAGE_RETURN) this.carriageReturnSeen = true;
      else if (this.field === '') this.quoted = true;
      else this.field += '"';
    }
  }

  finish(emit: (record: string[]) => void): void {
    if (this.quoted) throw new CsvFormatError('the file ends inside a quoted field');
    if (this.field !== '' || this.record.length > 0) this.endRecord(emit);
  }

  private count(characters: number): void {
    this.recordLength += characters;
    if (this.recordLength > MAXIMUM_RECORD_LENGTH) throw new CsvFormatError(`is longer than ${MAXIMUM_RECORD_LENGTH} characters`);
  }

  private endRecord(emit: (record: string[]) => void): void {
    this.record.push(this.field);
    emit(this.record);
    this.record = [];
    this.field = '';
    this.recordLength = 0;
  }
}

export async function readDataset(file: string, request: DatasetRequest): Promise<Dataset> {
  const extension = extname(file).toLowerCase();
  if (!['.csv', '.ndjson', '.jsonl'].includes(extension)) throw new DatasetError(file, null, null, 'expected a .csv, .ndjson or .jsonl file');
  const totalBytes = (await stat(file)).size;
  const decoder = new StringDecoder('utf8');
  const builder = new ColumnBuilder(file, request);
  const requested = requestedColumns(request);
  /** The requested columns the file has: the CSV header's, or the keys of any NDJSON row. */
  const present = new Set<string>();
  let bytesRead = 0;
  let firstText = true;

  const checkRequiredColumns = (): void => {
    const missing = requiredColumns(request).filter((column) => !present.has(column));
    if (missing.length > 0) throw new DatasetError(file, null, null, `missing column${missing.length > 1 ? 's' : ''} ${missing.map((column) => `"${column}"`).join(', ')}`);
  };

  const csv = new CsvRecords();
  let header: string[] | null = null;
  let positions = new Map<string, number>();
  const onCsvRecord = (record: string[]): void => {
    if (header === null) {
      header = record.map((name) => name.trim());
      for (const column of requested) {
        if (header.indexOf(column) !== header.lastIndexOf(column)) throw new DatasetError(file, null, column, 'appears more than once in the header');
      }
      positions = new Map(header.map((name, index) => [name, index]));
      for (const column of requested) if (positions.has(column)) present.add(column);
      checkRequiredColumns();
      return;
    }
    if (record.length === 1 && record[0] === '') return;
    if (record.length !== header.length) throw new DatasetError(file, builder.rows + 1, null, `has ${record.length} fields; the header has ${header.length}`);
    builder.add((column) => record[positions.get(column) ?? -1]);
  };
  const readCsv = (step: () => void): void => {
    try {
      step();
    } catch (error) {
      if (error instanceof CsvFormatError) throw new DatasetError(file, header === null ? null : builder.rows + 1, null, error.message);
      throw error;
    }
  };

  let pendingLine = '';
  const tooLong = (): DatasetError => new DatasetError(file, builder.rows + 1, null, `is longer than ${MAXIMUM_RECORD_LENGTH} characters`);
  const onJsonLine = (line: string): void => {
    if (line.length > MAXIMUM_RECORD_LENGTH) throw tooLong();
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DatasetError(file, builder.rows + 1, null, 'is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError(file, builder.rows + 1, null, 'is not a JSON object');
    const object = value as Record<string, unknown>;
    for (const column of requested) if (Object.hasOwn(object, column)) present.add(column);
    // Own keys only: a column named like an Object.prototype member ("toString") is absent, not a function.
    builder.add((column) => (Object.hasOwn(object, column) ? object[column] : undefined));
  };

  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    bytesRead += buffer.length;
    let text = decoder.write(buffer);
    if (firstText && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      firstText = false;
    }
    if (extension === '.csv') readCsv(() => csv.push(text, onCsvRecord));
    else {
      const lines = (pendingLine + text).split('\n');
      pendingLine = lines.pop() ?? '';
      for (const line of lines) onJsonLine(line);
      if (pendingLine.length > MAXIMUM_RECORD_LENGTH) throw tooLong();
    }
    request.onProgress?.(bytesRead, totalBytes, builder.rows);
  }
  const rest = decoder.end();
  if (extension === '.csv') {
    readCsv(() => {
      csv.push(rest, onCsvRecord);
      csv.finish(onCsvRecord);
    });
    if (header === null) throw new DatasetError(file, null, null, 'has no header row');
  } else {
    onJsonLine(pendingLine + rest);
    if (builder.rows === 0) throw new DatasetError(file, null, null, 'has no rows');
    checkRequiredColumns();
  }
  return builder.build(present.has(request.label));
}
