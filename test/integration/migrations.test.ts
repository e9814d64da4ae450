import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, toOutcomeRow, toPredictionRow, type EventLineage } from '../../services/adapters/clickhouse/event-store.js';
import { applyMigrations, loadMigrations, type Migration } from '../../services/adapters/clickhouse/migrations.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { createStorageClient, type StorageTarget } from '../../services/adapters/clickhouse/storage-client.js';
import { sampleOutcome, samplePrediction } from '../support/sample-events.js';
import { testStorageTarget } from '../support/test-storage.js';

// The raw tables move from (model_id, event_id) to event-time order by copying each into a table of
// the new order that then takes its place. A database holding events in the old order keeps every
// event, replays still collapse, and a migration cut short at any statement completes when it runs
// again.

const REORDER = '0005_event_time_order';
const lineage = (offset: number): EventLineage => ({ topic: 'vigil.predictions.v1', partition: 0, offset: String(offset), schemaId: 1 });

/** The migration files up to (not including) `version`, in a folder of their own. */
function migrationsBefore(version: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  const source = projectPath('infra', 'clickhouse', 'migrations');
  for (const name of readdirSync(source)) if (name < version) copyFileSync(join(source, name), join(folder, name));
  return folder;
}

async function sortingKeys(client: ClickHouseClient, database: string): Promise<Record<string, string>> {
  const rows = await (
    await client.query({ query: `SELECT name, sorting_key FROM system.tables WHERE database = {database:String} AND name IN ('predictions', 'outcomes')`, query_params: { database }, format: 'JSONEachRow' })
  ).json<{ name: string; sorting_key: string }>();
  return Object.fromEntries(rows.map((row) => [row.name, row.sorting_key]));
}

async function tables(client: ClickHouseClient, database: string): Promise<string[]> {
  const rows = await (await client.query({ query: 'SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name', query_params: { database }, format: 'JSONEachRow' })).json<{ name: string }>();
  return rows.map((row) => row.name);
}

/** Every stored event, in a defined order, as the reads see them (FINAL). */
async function storedEvents(client: ClickHouseClient, database: string): Promise<unknown[]> {
  const predictions = await (await client.query({ query: `SELECT * FROM ${database}.predictions ORDER BY event_id`, format: 'JSONEachRow' })).json();
  const outcomes = await (await client.query({ query: `SELECT * FROM ${database}.outcomes ORDER BY event_id`, format: 'JSONEachRow' })).json();
  return [predictions, outcomes];
}

describe('migrations', () => {
  let target: StorageTarget;
  let client: ClickHouseClient;
  const folders: string[] = [];

  beforeAll(() => {
    target = testStorageTarget();
    client = createStorageClient(target);
  });

  afterEach(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${target.database}` });
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  afterAll(async () => {
    await client.close();
  });

  /** A database in the order before the reordering, holding events, some of them stored twice. */
  async function databaseInTheOldOrder(): Promise<void> {
    const folder = migrationsBefore(REORDER);
    folders.push(folder);
    await applyMigrations(client, target.database, loadMigrations(folder));
    expect(await sortingKeys(client, target.database)).toEqual({ predictions: 'model_id, event_id', outcomes: 'model_id, event_id' });
    const store = new EventStore(client, target);
    const start = Date.UTC(2026, 10, 30, 23);
    const predictions = Array.from({ length: 60 }, (_, index) =>
      toPredictionRow(samplePrediction(index, { occurred_at: start + index * 120_000 }), lineage(index), start + 3_600_000),
    );
    const outcomes = Array.from({ length: 40 }, (_, index) => toOutcomeRow(sampleOutcome(index, { observed_at: start + 7_200_000 + index * 60_000 }), lineage(index), start + 9_000_000));
    await store.insert('predictions', predictions);
    await store.insert('predictions', predictions.slice(0, 25));
    await store.insert('outcomes', outcomes);
    await store.insert('outcomes', outcomes.slice(10, 20));
  }

  it('creates the raw tables in event-time order', async () => {
    await applyMigrations(client, target.database);
    expect(await sortingKeys(client, target.database)).toEqual({ predictions: 'model_id, occurred_at, event_id', outcomes: 'model_id, observed_at, event_id' });
    expect(await tables(client, target.database)).not.toContain('predictions_reordered');
  });

  it('reorders a database of the old order and keeps every event, each once', async () => {
    await databaseInTheOldOrder();
    const before = await storedEvents(client, target.database);
    expect(await applyMigrations(client, target.database)).toContain(REORDER);
    expect(await sortingKeys(client, target.database)).toEqual({ predictions: 'model_id, occurred_at, event_id', outcomes: 'model_id, observed_at, event_id' });
    expect(await storedEvents(client, target.database)).toEqual(before);
    const [predictions, outcomes] = before as unknown[][];
    expect([predictions!.length, outcomes!.length]).toEqual([60, 40]);
    expect((await tables(client, target.database)).filter((name) => name.endsWith('_reordered'))).toEqual([]);
    // Replays after the move still collapse into one row.
    const store = new EventStore(client, target);
    const start = Date.UTC(2026, 10, 30, 23);
    await store.insert('predictions', [toPredictionRow(samplePrediction(3, { occurred_at: start + 3 * 120_000 }), lineage(3), start + 3_600_000)]);
    expect(await store.count('predictions')).toBe(60);
  });

  const reorder = (): Migration => loadMigrations().find((migration) => migration.version === REORDER)!;

  it('guards every step that cannot run twice, and only those', () => {
    const guarded = reorder().statements.map((statement) => [statement.sql.split(/\s+/).slice(0, 2).join(' '), statement.unless !== null]);
    expect(guarded).toEqual([
      ['DROP TABLE', true],
      ['CREATE TABLE', true],
      ['INSERT INTO', true],
      ['EXCHANGE TABLES', true],
      ['DROP TABLE', false],
      ['DROP TABLE', true],
      ['CREATE TABLE', true],
      ['INSERT INTO', true],
      ['EXCHANGE TABLES', true],
      ['DROP TABLE', false],
    ]);
  });

  // A crash after each statement of the reordering: the statements run so far, then the whole run again.
  for (const cut of [2, 3, 4, 7, 9]) {
    it(`completes when it runs again after stopping at statement ${cut}`, async () => {
      await databaseInTheOldOrder();
      const before = await storedEvents(client, target.database);
      for (const statement of reorder().statements.slice(0, cut)) await client.command({ query: statement.sql.replaceAll('{database}', target.database) });
      // The reordering, then the migrations after it, each once.
      expect(await applyMigrations(client, target.database)).toEqual(loadMigrations().flatMap(({ version }) => (version >= REORDER ? [version] : [])));
      expect(await sortingKeys(client, target.database)).toEqual({ predictions: 'model_id, occurred_at, event_id', outcomes: 'model_id, observed_at, event_id' });
      expect(await storedEvents(client, target.database)).toEqual(before);
      expect((await tables(client, target.database)).filter((name) => name.endsWith('_reordered'))).toEqual([]);
    });
  }

  it('reads a guard from its line and leaves statements without one unguarded', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
    folders.push(folder);
    writeFileSync(
      join(folder, '0001_test.sql'),
      ['-- a comment', "-- unless: SELECT 1 FROM system.one", 'CREATE TABLE {database}.a (x UInt8) ENGINE = Memory', '-- statement', 'DROP TABLE IF EXISTS {database}.b', ''].join('\n'),
    );
    expect(loadMigrations(folder)).toEqual([
      {
        version: '0001_test',
        statements: [
          { sql: 'CREATE TABLE {database}.a (x UInt8) ENGINE = Memory', unless: 'SELECT 1 FROM system.one' },
          { sql: 'DROP TABLE IF EXISTS {database}.b', unless: null },
        ],
      },
    ]);
  });

  it('skips a statement whose guard says it has nothing left to do', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
    folders.push(folder);
    writeFileSync(
      join(folder, '0001_test.sql'),
      [
        'CREATE TABLE {database}.kept (x UInt8) ENGINE = Memory',
        '-- statement',
        "-- unless: SELECT count() = 1 FROM system.tables WHERE database = '{database}' AND name = 'kept'",
        'CREATE TABLE {database}.skipped (x UInt8) ENGINE = Memory',
        '-- statement',
        "-- unless: SELECT count() = 1 FROM system.tables WHERE database = '{database}' AND name = 'absent'",
        'CREATE TABLE {database}.made (x UInt8) ENGINE = Memory',
      ].join('\n'),
    );
    await applyMigrations(client, target.database, loadMigrations(folder));
    expect(await tables(client, target.database)).toEqual(['kept', 'made', 'schema_migrations']);
  });
});
