import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { VigilConfig } from '../config/vigil-config.js';
import { describeStorage, type StorageTarget } from '../adapters/clickhouse/storage-client.js';
import { escapeControlCharacters, raisedByClickHouse, runReadOnlyQuery } from '../adapters/clickhouse/read-only-query.js';
import { openStorageForReading } from './storage-for-reading.js';

/**
 * `vigil sql`: one read-only statement against the configured storage, printed as a table or as JSON
 * lines. Exit 0 with the rows, 1 when there is nothing to query or the query fails, 2 when the
 * statement is refused.
 */
export async function sqlCommand(config: VigilConfig, query: string, format: 'table' | 'json'): Promise<number> {
  const storage = config.storage;
  const opened = openStorageForReading(storage, 'sql');
  if (opened.kind === 'absent') return noVigilTables(storage);
  if (opened.kind === 'locked') return 1;
  const client = opened.client;
  try {
    if (!(await hasTables(client, storage.database))) return noVigilTables(storage);
    // Unqualified table names mean Vigil's database. chDB keeps USE for the session; a server
    // client sends the database with every request.
    if (storage.kind === 'embedded') await client.command({ query: `USE ${storage.database}` });
    const result = await runReadOnlyQuery(client, query);
    if (!result.allowed) {
      process.stderr.write(`vigil sql: refused: ${result.reason}\n`);
      return 2;
    }
    process.stdout.write(format === 'json' ? jsonLines(result.rows) : renderTable(result.rows));
    return 0;
  } catch (error) {
    if (!raisedByClickHouse(error)) throw error;
    process.stderr.write(`vigil sql: ${escapeControlCharacters(error.message.trim())}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

async function hasTables(client: ClickHouseClient, database: string): Promise<boolean> {
  const result = await client.query({
    query: 'SELECT count() AS tables FROM system.tables WHERE database = {database:String}',
    query_params: { database },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ tables: number | string }>();
  return Number(row?.tables ?? 0) > 0;
}

function noVigilTables(storage: StorageTarget): number {
  const where = storage.kind === 'embedded' ? resolve(storage.dataDirectory) : `database ${storage.database} of the ${describeStorage(storage)}`;
  const setting = storage.kind === 'embedded' ? 'VIGIL_DATA_DIR' : 'CLICKHOUSE_DATABASE';
  process.stderr.write(`vigil sql: no Vigil tables in ${where}: nothing has been stored there yet (run vigil run first, or set ${setting})\n`);
  return 1;
}

/** JSON already escapes C0 controls; DEL and C1 controls get the same treatment, which keeps the lines valid JSON. */
function jsonLines(rows: readonly Record<string, unknown>[]): string {
  return rows
    .map((row) => JSON.stringify(row).replace(/[\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n')
    .join('');
}

/** Cells and column names are stored data: escaped, they cannot move the cursor or recolour the operator's terminal. */
function cell(value: unknown): string {
  return escapeControlCharacters(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
}

function renderTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = Object.keys(rows[0] ?? {});
  const headings = columns.map((column) => escapeControlCharacters(column));
  const widths = columns.map((column, index) => Math.max(headings[index]?.length ?? 0, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]): string => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return (
    [line(headings), line(widths.map((width) => '-'.repeat(width))), ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n') +
    `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`
  );
}
