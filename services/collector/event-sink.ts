import type { EventRow, EventTable } from '../adapters/clickhouse/event-store.js';

/**
 * Where the collector writes accepted events: the ClickHouse event store in production, anything
 * with the same contract in tests. An insert either stores every row or fails as a whole, and
 * inserting a row again is harmless (the raw tables keep one row per event id).
 */
export interface EventSink {
  insert(table: EventTable, rows: readonly EventRow[]): Promise<void>;
}
