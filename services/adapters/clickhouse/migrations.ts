import { readFileSync, readdirSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import { projectPath } from '../project/project-files.js';

/**
 * Versioned SQL migrations from infra/clickhouse/migrations, applied in file-name order at start-up
 * and recorded in `schema_migrations`. A file is applied once; its statements are idempotent
 * (IF NOT EXISTS) so that a crash between a statement and the record is harmless. A statement that
 * cannot be idempotent by itself (EXCHANGE TABLES) carries a guard, a line `-- unless: <query>`:
 * the statement is skipped when the query's first value is 1, so a file run again after a crash
 * goes on from where the database is.
 */

const STATEMENT_SEPARATOR = /^-- statement$/m;
const GUARD = /^-- unless: (.+)$/m;
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface MigrationStatement {
  sql: string;
  /** A query whose first value is 1 when the statement has nothing left to do. */
  unless: string | null;
}

export interface Migration {
  version: string;
  statements: MigrationStatement[];
}

export function loadMigrations(folder = projectPath('infra', 'clickhouse', 'migrations')): Migration[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({
      version: name.replace(/\.sql$/, ''),
      statements: readFileSync(`${folder}/${name}`, 'utf8')
        .split(STATEMENT_SEPARATOR)
        .map((text) => ({ sql: text.replace(/^\s*--.*$/gm, '').trim(), unless: GUARD.exec(text)?.[1]?.trim() ?? null }))
        .filter((statement) => statement.sql.length > 0),
    }));
}

export function assertDatabaseName(database: string): void {
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid ClickHouse database name "${database}": use letters, digits and underscores`);
}

/** Applies what is not yet recorded; returns the versions applied now. */
export async function applyMigrations(client: ClickHouseClient, database: string, migrations = loadMigrations()): Promise<string[]> {
  assertDatabaseName(database);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (version String, applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version`,
  });
  const applied = new Set(
    (await (await client.query({ query: `SELECT version FROM ${database}.schema_migrations`, format: 'JSONEachRow' })).json<{ version: string }>()).map(
      (row) => row.version,
    ),
  );
  const appliedNow: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) {
      if (statement.unless !== null) {
        const guard = await client.query({ query: statement.unless.replaceAll('{database}', database), format: 'JSONCompactEachRow' });
        const [first] = await guard.json<unknown[]>();
        if (first !== undefined && Number(first[0]) === 1) continue;
      }
      await client.command({ query: statement.sql.replaceAll('{database}', database) });
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, applied_at: Date.now() }],
      format: 'JSONEachRow',
    });
    appliedNow.push(migration.version);
  }
  return appliedNow;
}
