import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads a dataset file (CSV with a header row, or NDJSON) into columns, streaming, for the report.
 * Rows are numbered from 1 at the first data row (the CSV header is not counted). Missing values:
 * an empty field, NA or null (in NDJSON, null or an absent key). Anything else that is not a
 * finite number in a numeric column is an error naming file, row and column: Vigil never guesses.
 */

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
  labels: Uint8Array | null;
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

const MISSING_TOKENS = new Set(['', 'NA', 'null']);
type Cell = string | number | boolean | null | undefined;

class ColumnBuilder {
  readonly numeric = new Map<string, (number | null)[]>();
  readonly categorical = new Map<string, (string | null)[]>();
  readonly scores: number[] = [];
  readonly labels: number[] = [];
  rows = 0;

  constructor(
    private readonly file: string,
    private readonly request: DatasetRequest,
    readonly hasLabel: boolean,
  ) {
    for (const name of request.numeric) this.numeric.set(name, []);
    for (const name of request.categorical) this.categorical.set(name, []);
  }

  add(cell: (column: string) => Cell): void {
    const row = ++this.rows;
    for (const [name, values] of this.numeric) values.push(this.number(cell(name), row, name));
    for (const [name, values] of this.categorical) {
      const value = cell(name);
      values.push(value === null || value === undefined || (typeof value === 'string' && MISSING_TOKENS.has(value)) ? null : String(value));
    }
    const score = this.number(cell(this.request.score), row, this.request.score);
    if (score === null || score < 0 || score > 1) throw new DatasetError(this.file, row, this.request.score, `score ${score === null ? 'is missing' : `${score} is outside [0, 1]`}`);
    this.scores.push(score);
    if (this.hasLabel) {
      const label = this.number(cell(this.request.label), row, this.request.label);
      if (label !== 0 && label !== 1) throw new DatasetError(this.file, row, this.request.label, `label must be 0 or 1, got ${label === null ? 'a missing value' : label}`);
      this.labels.push(label);
    }
  }

  private number(value: Cell, row: number, column: string): number | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new DatasetError(this.file, row, column, `${value} is not a finite number`);
      return value;
    }
    if (typeof value === 'string') {
      if (MISSING_TOKENS.has(value)) return null;
      const parsed = Number(value);
      if (value.trim() === '' || !Number.isFinite(parsed)) throw new DatasetError(this.file, row, column, `"${value.slice(0, 40)}" is not a number`);
      return parsed;
    }
    throw new DatasetError(this.file, row, column, `${JSON.stringify(value)} is not a number`);
  }

  build(): Dataset {
    return {
      file: this.file,
      rowCount: this.rows,
      numeric: this.numeric,
      categorical: this.categorical,
      scores: Float64Array.from(this.scores),
      labels: this.hasLabel ? Uint8Array.from(this.labels) : null,
    };
  }
}

function requiredColumns(request: DatasetRequest): string[] {
  return [...request.numeric, ...request.categorical, request.score, ...(request.labelOptional ? [] : [request.label])];
}

/** Splits CSV text into records across chunk boundaries: quotes, doubled quotes, CRLF, newlines in quotes. */
class CsvRecords {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  private quoteSeen = false;

  push(text: string, emit: (record: string[]) => void): void {
    for (let index = 0; index < text.length; index++) {
      const character = text[index] as string;
      if (this.quoted) {
        if (character === '"') {
          if (text[index + 1] === '"') {
            this.field += '"';
            index++;
          } else if (index + 1 === text.length) {
            // The quote may be the first of a doubled pair split across chunks.
            this.quoteSeen = true;
            this.quoted = false;
          } else this.quoted = false;
        } else this.field += character;
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (character === '"') {
          this.field += '"';
          this.quoted = true;
          continue;
        }
      }
      if (character === '"' && this.field === '') this.quoted = true;
      else if (character === ',') {
        this.record.push(this.field);
        this.field = '';
      } else if (character === '\n') {
        this.record.push(this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field);
        emit(this.record);
        this.record = [];
        this.field = '';
      } else this.field += character;
    }
  }

  finish(emit: (record: string[]) => void): void {
    if (this.quoted) throw new Error('the file ends inside a quoted field');
    if (this.field !== '' || this.record.length > 0) {
      this.record.push(this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field);
      emit(this.record);
    }
  }
}

export async function readDataset(file: string, request: DatasetRequest): Promise<Dataset> {
  const extension = extname(file).toLowerCase();
  if (!['.csv', '.ndjson', '.jsonl'].includes(extension)) throw new DatasetError(file, null, null, 'expected a .csv, .ndjson or .jsonl file');
  const totalBytes = (await stat(file)).size;
  const decoder = new StringDecoder('utf8');
  let bytesRead = 0;
  let builder: ColumnBuilder | null = null;
  let lineNumber = 0;
  let firstText = true;

  const startBuilder = (present: ReadonlySet<string>): ColumnBuilder => {
    const missing = requiredColumns(request).filter((column) => !present.has(column));
    if (missing.length > 0) throw new DatasetError(file, null, null, `missing column${missing.length > 1 ? 's' : ''} ${missing.map((column) => `"${column}"`).join(', ')}`);
    return new ColumnBuilder(file, request, present.has(request.label));
  };

  const csv = new CsvRecords();
  let header: string[] | null = null;
  let positions = new Map<string, number>();
  const onCsvRecord = (record: string[]): void => {
    if (header === null) {
      header = record.map((name) => name.trim());
      positions = new Map(header.map((name, index) => [name, index]));
      builder = startBuilder(new Set(header));
      return;
    }
    if (record.length === 1 && record[0] === '') return;
    const active = builder as ColumnBuilder;
    if (record.length !== header.length) throw new DatasetError(file, active.rows + 1, null, `has ${record.length} fields; the header has ${header.length}`);
    active.add((column) => record[positions.get(column) ?? -1]);
  };

  let pendingLine = '';
  const onJsonLine = (line: string): void => {
    lineNumber++;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DatasetError(file, lineNumber, null, 'is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError(file, lineNumber, null, 'is not a JSON object');
    const object = value as Record<string, Cell>;
    builder ??= startBuilder(new Set(Object.keys(object)));
    builder.add((column) => object[column]);
  };

  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    bytesRead += buffer.length;
    let text = decoder.write(buffer);
    if (firstText && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      firstText = false;
    }
    if (extension === '.csv') csv.push(text, onCsvRecord);
    else {
      const lines = (pendingLine + text).split('\n');
      pendingLine = lines.pop() ?? '';
      for (const line of lines) onJsonLine(line);
    }
    request.onProgress?.(bytesRead, totalBytes, (builder as ColumnBuilder | null)?.rows ?? 0);
  }
  const rest = decoder.end();
  if (extension === '.csv') {
    try {
      csv.push(rest, onCsvRecord);
      csv.finish(onCsvRecord);
    } catch (error) {
      if (error instanceof DatasetError) throw error;
      throw new DatasetError(file, null, null, error instanceof Error ? error.message : String(error));
    }
  } else onJsonLine(pendingLine + rest);
  if (builder === null) throw new DatasetError(file, null, null, 'has no header or rows');
  return (builder as ColumnBuilder).build();
}
