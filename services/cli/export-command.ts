import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { VigilConfig } from '../config/vigil-config.js';
import { describeStorage, type StorageTarget } from '../adapters/clickhouse/storage-client.js';
import { escapeControlCharacters, raisedByClickHouse } from '../adapters/clickhouse/read-only-query.js';
import { windowPredictionRows, type WindowPredictionRow } from '../adapters/clickhouse/window-export.js';
import { checkModelsFolder } from '../adapters/model-spec/models-folder.js';
import type { ModelSpec } from '../core/model-spec/model-spec.js';
import { openStorageForReading } from './storage-for-reading.js';

/**
 * `vigil export`: a model's predictions of a time range as a dataset file, one row per prediction
 * exactly as the monitor's windows count it (services/adapters/clickhouse/window-export.ts), with
 * the columns `vigil report` reads, so that a window the monitor evaluated can be recomputed
 * offline on its rows. Exit 0 with the rows written, 1 when storage or the models folder cannot be
 * read or the query fails, 2 when the command line is at fault (times out of order, an unknown model).
 */

export type DatasetFormat = 'csv' | 'ndjson';

export interface ExportArguments {
  model: string;
  /** Epoch milliseconds, included. */
  from: number;
  /** Epoch milliseconds, excluded. */
  to: number;
  /** When undefined: ndjson for an --out file ending .ndjson or .jsonl, csv otherwise. */
  format: DatasetFormat | undefined;
  out: string | undefined;
}

/** One column of the file: its name and its value in a row, null for an empty cell. */
export interface ExportColumn {
  name: string;
  value(row: WindowPredictionRow): number | string | null;
}

/** Added to the spec's columns so that each row can be traced to its prediction; `vigil report` ignores them. */
export const PREDICTION_ID_COLUMN = 'prediction_id';
export const OCCURRED_AT_COLUMN = 'occurred_at';

/**
 * What the dataset reader (services/adapters/dataset/dataset-file.ts) takes for a missing value.
 * A category spelled so is a category to the monitor, yet missing to `vigil report`: such values
 * are counted and reported, since the file cannot say otherwise.
 */
const READ_AS_MISSING: ReadonlySet<string> = new Set(['', 'NA', 'null']);

const USAGE_ERROR = 2;

export async function exportCommand(config: VigilConfig, args: ExportArguments, output: Writable = process.stdout): Promise<number> {
  if (!(args.from < args.to)) {
    process.stderr.write(`vigil export: --from (${new Date(args.from).toISOString()}) must be before --to (${new Date(args.to).toISOString()})\n`);
    return USAGE_ERROR;
  }
  const format = args.format ?? formatOfFile(args.out);
  const spec = await modelSpec(config.modelsDirectory, args.model);
  if (typeof spec === 'number') return spec;
  const layout = exportColumns(spec);
  if (!layout.ok) {
    process.stderr.write(`vigil export: ${layout.problem}\n`);
    return 1;
  }
  for (const name of layout.dropped) process.stderr.write(`vigil export: the spec names a column ${JSON.stringify(name)}, so the file has no ${name} column of its own\n`);

  const storage = config.storage;
  const opened = openStorageForReading(storage, 'export');
  if (opened.kind === 'absent') return noPredictions(storage);
  if (opened.kind === 'locked') return 1;
  const client = opened.client;
  try {
    if (!(await hasPredictionsTable(client, storage.database))) return noPredictions(storage);
    const rows = windowPredictionRows(client, storage.database, { modelId: spec.modelId, start: args.from, end: args.to }, layout.source);
    const out = args.out;
    let written: WrittenRows;
    if (out === undefined) written = await writeRows(rows, layout.columns, format, output);
    else {
      try {
        written = await writeFileAtomically(out, (file) => writeRows(rows, layout.columns, format, file));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (typeof code !== 'string' || raisedByClickHouse(error)) throw error;
        process.stderr.write(`vigil export: cannot write ${out}: ${code === 'ENOENT' ? 'no such folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message}\n`);
        return 1;
      }
    }
    const range = `from ${new Date(args.from).toISOString()} to ${new Date(args.to).toISOString()}`;
    if (written.rows === 0) process.stderr.write(`vigil export: no predictions of ${spec.modelId} ${range}\n`);
    if (written.readAsMissing > 0) {
      process.stderr.write(
        `vigil export: ${written.readAsMissing.toLocaleString('en-US')} categorical or segment value${written.readAsMissing === 1 ? ' is' : 's are'} "", "NA" or "null", which vigil report reads as missing\n`,
      );
    }
    if (out !== undefined && written.rows > 0) {
      process.stderr.write(`vigil export: ${written.rows.toLocaleString('en-US')} predictions of ${spec.modelId} (${written.labelled.toLocaleString('en-US')} with a label) ${range} written to ${out}\n`);
    }
    return 0;
  } catch (error) {
    if (!raisedByClickHouse(error)) throw error;
    process.stderr.write(`vigil export: ${escapeControlCharacters(error.message.trim().split('\n', 1)[0] ?? '')}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

const formatOfFile = (file: string | undefined): DatasetFormat => (file !== undefined && ['.ndjson', '.jsonl'].includes(extname(file).toLowerCase()) ? 'ndjson' : 'csv');

/** The model's valid specification in the folder, or the exit code after saying why there is none. */
async function modelSpec(folder: string, modelId: string): Promise<ModelSpec | number> {
  const { models, problems } = await checkModelsFolder(folder);
  const found = models.find(({ spec }) => spec.modelId === modelId);
  if (found !== undefined) return found.spec;
  const quoted = escapeControlCharacters(JSON.stringify(modelId));
  if (problems.length > 0) {
    process.stderr.write(
      `vigil export: no valid specification of model ${quoted} in ${folder}, which has ${problems.length} problem${problems.length === 1 ? '' : 's'}: run vigil models check ${folder}\n`,
    );
    return 1;
  }
  const known = models.map(({ spec }) => spec.modelId).join(', ');
  process.stderr.write(`vigil export: --model: no model ${quoted} in ${folder} (models: ${known})\n`);
  return USAGE_ERROR;
}

/**
 * The file's columns: prediction_id and occurred_at, the features in the spec's order, the score,
 * the label and the segment attributes, each named as the spec names it. A name the spec uses
 * twice (a segment named like a feature) would need two columns of one name: refused.
 */
export function exportColumns(
  spec: Pick<ModelSpec, 'features' | 'scoreColumn' | 'labelColumn' | 'segments'>,
): { ok: true; columns: ExportColumn[]; source: { numericFeatures: string[]; categoricalFeatures: string[]; segments: string[] }; dropped: string[] } | { ok: false; problem: string } {
  const numericFeatures: string[] = [];
  const categoricalFeatures: string[] = [];
  const specColumns: ExportColumn[] = spec.features.map((feature) => {
    if (feature.type === 'numeric') {
      const position = numericFeatures.push(feature.name) - 1;
      return { name: feature.name, value: (row) => row.numeric[position] ?? null };
    }
    const position = categoricalFeatures.push(feature.name) - 1;
    return { name: feature.name, value: (row) => row.categorical[position] ?? null };
  });
  specColumns.push({ name: spec.scoreColumn, value: (row) => row.score }, { name: spec.labelColumn, value: (row) => row.label });
  specColumns.push(...spec.segments.map((name, position): ExportColumn => ({ name, value: (row) => row.segments[position] ?? null })));
  const names = new Set<string>();
  for (const { name } of specColumns) {
    if (names.has(name)) return { ok: false, problem: `the spec names ${JSON.stringify(name)} twice (a feature and a segment?); a dataset file has one column of each name` };
    names.add(name);
  }
  const traceability: ExportColumn[] = [
    { name: PREDICTION_ID_COLUMN, value: (row) => row.predictionId },
    { name: OCCURRED_AT_COLUMN, value: (row) => new Date(row.occurredAt).toISOString() },
  ];
  return {
    ok: true,
    columns: [...traceability.filter(({ name }) => !names.has(name)), ...specColumns],
    source: { numericFeatures, categoricalFeatures, segments: [...spec.segments] },
    dropped: traceability.filter(({ name }) => names.has(name)).map(({ name }) => name),
  };
}

/** A CSV field the dataset reader reads back as written: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: number | string | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The header line of a CSV file; an NDJSON file has none. */
export function headerLine(columns: readonly ExportColumn[], format: DatasetFormat): string {
  return format === 'csv' ? columns.map(({ name }) => csvField(name)).join(',') + '\n' : '';
}

/** One row as a CSV record or an NDJSON line; an NDJSON row writes every key, null where the cell is empty. */
export function rowLine(columns: readonly ExportColumn[], format: DatasetFormat, row: WindowPredictionRow): string {
  if (format === 'csv') return columns.map((column) => csvField(column.value(row))).join(',') + '\n';
  return JSON.stringify(Object.fromEntries(columns.map((column) => [column.name, column.value(row)]))) + '\n';
}

interface WrittenRows {
  rows: number;
  labelled: number;
  readAsMissing: number;
}

/** Writes are gathered into chunks of about this many characters: one system call per chunk, not per row. */
const CHUNK_CHARACTERS = 1 << 16;

async function writeRows(rows: AsyncIterable<WindowPredictionRow>, columns: readonly ExportColumn[], format: DatasetFormat, output: Writable): Promise<WrittenRows> {
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  output.on('error', onError);
  const written: WrittenRows = { rows: 0, labelled: 0, readAsMissing: 0 };
  let chunk = headerLine(columns, format);
  const flush = async (): Promise<void> => {
    if (failure !== undefined) throw failure;
    const text = chunk;
    chunk = '';
    if (!output.write(text)) await drained(output);
    if (failure !== undefined) throw failure;
  };
  try {
    for await (const row of rows) {
      chunk += rowLine(columns, format, row);
      written.rows += 1;
      if (row.label !== null) written.labelled += 1;
      for (const value of [...row.categorical, ...row.segments]) if (value !== null && READ_AS_MISSING.has(value)) written.readAsMissing += 1;
      if (chunk.length >= CHUNK_CHARACTERS) await flush();
    }
    if (chunk !== '') await flush();
  } catch (error) {
    // A reader that stops early (`vigil export ... | head`) is done with the rows, not failed.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return written;
    throw error;
  } finally {
    output.off('error', onError);
  }
  return written;
}

/** Resolves once the output takes writes again, or will never do so (closed, failed: the caller checks which). */
function drained(output: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error'] as const) output.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error'] as const) output.on(event, done);
  });
}

/** Writes the file under a temporary name beside it and renames it when complete, so a failed export leaves no partial file. */
async function writeFileAtomically<T>(file: string, write: (output: Writable) => Promise<T>): Promise<T> {
  const partial = join(dirname(file), `.${basename(file)}.${process.pid}.partial`);
  const output = createWriteStream(partial, { flags: 'wx' });
  try {
    await once(output, 'open');
    const result = await write(output);
    output.end();
    await once(output, 'finish');
    await rename(partial, file);
    return result;
  } catch (error) {
    output.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

async function hasPredictionsTable(client: ClickHouseClient, database: string): Promise<boolean> {
  const result = await client.query({
    query: "SELECT count() AS tables FROM system.tables WHERE database = {database:String} AND name = 'predictions'",
    query_params: { database },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ tables: number | string }>();
  return Number(row?.tables ?? 0) > 0;
}

function noPredictions(storage: StorageTarget): number {
  const where = storage.kind === 'embedded' ? resolve(storage.dataDirectory) : `database ${storage.database} of the ${describeStorage(storage)}`;
  const setting = storage.kind === 'embedded' ? 'VIGIL_DATA_DIR' : 'CLICKHOUSE_DATABASE';
  process.stderr.write(`vigil export: no Vigil tables in ${where}: nothing has been stored there yet (run vigil run first, or set ${setting})\n`);
  return 1;
}
