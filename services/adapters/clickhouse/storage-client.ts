import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** Where events and metrics are stored: chDB inside this process, or a ClickHouse server. */
export type StorageTarget =
  | { kind: 'embedded'; dataDirectory: string; database: string }
  | { kind: 'server'; url: string; username: string; password: string; database: string };

export function describeStorage(target: StorageTarget): string {
  if (target.kind === 'embedded') return `embedded ClickHouse (chDB) in ${resolve(target.dataDirectory)}`;
  const url = new URL(target.url);
  return `ClickHouse server ${url.protocol}//${url.host}`;
}

/**
 * Every read counts each event once, whether or not background merges have run: `final = 1` makes
 * ClickHouse read the ReplacingMergeTree raw tables as with FINAL (and changes nothing for other
 * tables), so a replayed duplicate is never counted twice, in Vigil's queries or an operator's.
 */
const EXACT_READS = { final: 1 } as const;

/**
 * One @clickhouse/client for both: chDB plugs in as the client's connection. Queries name their
 * database explicitly, because chDB ignores the client's `database` option; and no query passes
 * settings of its own, because chDB keeps them for every later query of the process (the client-wide
 * `final = 1` is the same for every query, so keeping it is what is wanted).
 */
export function createStorageClient(target: StorageTarget, options: { requestTimeoutMs?: number } = {}): ClickHouseClient {
  if (target.kind === 'embedded') {
    const path = resolve(target.dataDirectory, 'clickhouse');
    mkdirSync(path, { recursive: true });
    // chDB types its connection against the retired @clickhouse/client-common package; the shape is
    // the one @clickhouse/client expects, only the declarations come from two packages.
    const connection = createChdbConnection({ path }) as unknown as ClientConnection;
    return createClient({ connection, clickhouse_settings: EXACT_READS });
  }
  return createClient({
    url: target.url,
    username: target.username,
    password: target.password,
    database: target.database,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    clickhouse_settings: EXACT_READS,
  });
}
