import type { VigilConfig } from '../config/vigil-config.js';
import type { ClickHouseClient } from '@clickhouse/client';
import { createStorageClient } from '../adapters/clickhouse/storage-client.js';

const READ_ONLY_STATEMENT = /^\s*(select|with|show|describe|desc|explain|exists)\b/i;

/** `vigil sql`: one read-only query against the configured storage, printed as a table or as JSON lines. */
export async function sqlCommand(config: VigilConfig, query: string, format: 'table' | 'json'): Promise<number> {
  if (!READ_ONLY_STATEMENT.test(query)) {
    process.stderr.write('vigil sql: only read-only statements (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS) are allowed\n');
    return 2;
  }
  let client: ClickHouseClient;
  try {
    client = createStorageClient(config.storage);
  } catch (error) {
    if (config.storage.kind === 'embedded' && /Failed to create connection|Cannot lock file/.test(String(error))) {
      process.stderr.write(
        `vigil sql: the embedded database in ${config.storage.dataDirectory} is open in another process (a running vigil run?); embedded ClickHouse allows one process per data folder: stop it, or use a ClickHouse server (CLICKHOUSE_URL)\n`,
      );
      return 1;
    }
    throw error;
  }
  try {
    // Unqualified table names mean Vigil's database. chDB keeps USE for the session; a server
    // client sends the database with every request.
    if (config.storage.kind === 'embedded') await client.command({ query: `USE ${config.storage.database}` });
    // readonly=2 refuses writes and DDL but still lets the query set its own settings.
    const result = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: { readonly: '2' } });
    const rows = await result.json<Record<string, unknown>>();
    process.stdout.write(format === 'json' ? rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '') : renderTable(rows));
    return 0;
  } finally {
    await client.close();
  }
}

function cell(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function renderTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]): string => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n') + `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}
