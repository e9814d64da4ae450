import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageTarget } from '../../services/adapters/clickhouse/storage-client.js';

/**
 * Storage for a test: a ClickHouse server when CLICKHOUSE_URL is set, otherwise embedded chDB.
 * chDB binds one data folder per process, so every test of a process shares one folder and gets a
 * database of its own instead.
 */
const embeddedFolder = join(tmpdir(), `vigil-test-chdb-${process.pid}`);

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function testStorageTarget(database = uniqueName('vigil_test')): StorageTarget {
  const url = process.env.CLICKHOUSE_URL;
  if (url) {
    return { kind: 'server', url, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '', database };
  }
  return { kind: 'embedded', dataDirectory: embeddedFolder, database };
}
