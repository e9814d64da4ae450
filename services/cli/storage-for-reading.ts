import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createStorageClient, type StorageTarget } from '../adapters/clickhouse/storage-client.js';

export type StorageForReading = { kind: 'open'; client: ClickHouseClient } | { kind: 'absent' } | { kind: 'locked' };

/**
 * The configured storage for a read-only command (`vigil sql`, `vigil export`): `absent` when an
 * embedded folder holds no database (opening it would create one, which a read-only command should
 * not leave behind), `locked` when another process has it open, after saying so on stderr.
 */
export function openStorageForReading(storage: StorageTarget, command: string): StorageForReading {
  if (storage.kind === 'embedded' && !existsSync(resolve(storage.dataDirectory, 'clickhouse'))) return { kind: 'absent' };
  try {
    return { kind: 'open', client: createStorageClient(storage) };
  } catch (error) {
    if (storage.kind === 'embedded' && /Failed to create connection|Cannot lock file/.test(String(error))) {
      process.stderr.write(
        `vigil ${command}: the embedded database in ${storage.dataDirectory} is open in another process (a running vigil run?); embedded ClickHouse allows one process per data folder: stop it, or use a ClickHouse server (CLICKHOUSE_URL)\n`,
      );
      return { kind: 'locked' };
    }
    throw error;
  }
}
