import type { Logger } from 'pino';
import type { EventLimits } from '../core/events/event-validation.js';
import type { EventKind } from '../core/events/event-types.js';
import type { EventRow, EventTable } from '../adapters/clickhouse/event-store.js';
import { classifyStorageError, describeStorageError } from '../adapters/clickhouse/storage-errors.js';
import type { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { SchemaSourceUnavailableError } from '../adapters/schema-registry/schema-source.js';
import { DependencyHealth } from '../adapters/telemetry/dependency-health.js';
import type { CollectorMetrics } from '../adapters/telemetry/pipeline-metrics.js';
import { BatchAbandonedError, type BatchControl, type BatchResult, type ConsumedRecord, type OutgoingRecord, type PartitionAssignment, type RecordBatch } from '../adapters/transport/record-transport.js';
import type { TopicNames } from '../config/vigil-config.js';
import { deadLetterFor, type RejectionReason } from './dead-letter.js';
import { DecodingPool } from './decoding-pool.js';
import type { EventSink } from './event-sink.js';
import type { EventVerdict } from './event-verdicts.js';

export interface CollectorOptions {
  codec: EventCodec;
  sink: EventSink;
  metrics: CollectorMetrics;
  logger: Logger;
  topics: TopicNames;
  limits: EventLimits;
  maxEventBytes: number;
  clock?: () => number;
  /** Back-off between attempts while storage or the registry is unavailable. */
  retryDelaysMs?: { initial: number; max: number };
  /** Worker threads that decode and validate batches (default: defaultDecodingThreads()). */
  decodingThreads?: number;
}

/** An event that passed every check, with the record it came from (for a dead letter if storage refuses it). */
type Accepted = { record: ConsumedRecord; row: EventRow };
type DecodableRecord = ConsumedRecord & { value: Buffer };

/**
 * Records per step of a batch's pipeline: large enough that an insert's fixed cost stays small,
 * small enough that decoding the next step overlaps most of the insert of this one.
 */
const PIPELINE_CHUNK_RECORDS = 8_192;

interface SortedBatch {
  /** Events of the batch's own kind, the only kind its topic may hold. */
  accepted: Accepted[];
  deadLetters: OutgoingRecord[];
  rejections: Map<RejectionReason, number>;
}

/**
 * Turns consumed records into stored rows or dead letters. A batch is committed only after its rows
 * are in ClickHouse; while storage or the schema registry is unavailable the batch is retried with
 * back-off and nothing is committed, so nothing is lost. Bad records never stop the collector: each
 * goes to the dead-letter topic with its original bytes and the reason, including a row that
 * ClickHouse itself refuses, which is isolated by splitting the insert.
 */
export class Collector {
  private readonly clock: () => number;
  private readonly retryDelays: { initial: number; max: number };
  /** (topic, partition) of every consumer-lag series this collector shows. */
  private readonly lagShown = new Set<string>();
  readonly storageHealth: DependencyHealth;
  readonly registryHealth: DependencyHealth;
  /** Decoding runs off this thread, which stays free for Kafka, heartbeats, /metrics and the monitor. */
  private readonly decoding: DecodingPool;

  constructor(private readonly options: CollectorOptions) {
    this.decoding = new DecodingPool(options.codec.schemaSource, options.decodingThreads);
    this.clock = options.clock ?? Date.now;
    this.retryDelays = options.retryDelaysMs ?? { initial: 200, max: 5_000 };
    this.storageHealth = new DependencyHealth('storage', options.metrics.dependencyUp, options.logger);
    this.registryHealth = new DependencyHealth('schema-registry', options.metrics.dependencyUp, options.logger);
  }

  /**
   * After a rebalance, drops the lag of the partitions this collector no longer holds: their new
   * holder reports it, and a stale value here would stand beside it for ever.
   */
  readonly assigned = (assignment: PartitionAssignment): void => {
    for (const key of [...this.lagShown]) {
      const [topic, partition] = key.split('\u0000') as [string, string];
      if (assignment.get(topic)?.includes(Number(partition))) continue;
      this.options.metrics.consumerLag.remove({ topic, partition });
      this.lagShown.delete(key);
    }
  };

  readonly handleBatch = async (batch: RecordBatch, control: BatchControl): Promise<BatchResult> => {
    const kind = this.kindOf(batch.topic);
    const table = kind === 'prediction' ? 'predictions' : 'outcomes';
    const sorted: SortedBatch = { accepted: [], deadLetters: [], rejections: new Map() };
    const now = this.clock();
    const decodable = this.screen(batch, sorted, now);
    // A pipeline over the batch's chunks: the decoding threads judge one chunk while ClickHouse
    // stores the one before, at most one insert of the batch in flight.
    const refused: RefusedRow[] = [];
    let storing: Promise<void> = Promise.resolve();
    try {
      for (let start = 0; start < decodable.length; start += PIPELINE_CHUNK_RECORDS) {
        const chunk = decodable.slice(start, start + PIPELINE_CHUNK_RECORDS);
        const accepted = await this.retryWhileUnavailable(batch, control, this.registryHealth, () => this.judge(batch, chunk, kind, now, sorted, control));
        await storing;
        storing = this.store(batch, control, table, accepted).then((rows) => void refused.push(...rows));
        // Held here so that a failure waits for the await below or in the catch, not for the process.
        storing.catch(() => {});
      }
      await storing;
    } catch (error) {
      // No insert of an abandoned batch goes on retrying behind the batch that replaces it.
      await storing.catch(() => {});
      throw error;
    }
    const refusedAt = this.clock();
    for (const { record, detail } of refused) this.reject(sorted, record, 'storage-rejected', detail, refusedAt);
    const storedCount = sorted.accepted.length - refused.length;

    return {
      outputs: sorted.deadLetters.length > 0 ? [{ topic: this.options.topics.deadLetters, records: sorted.deadLetters }] : [],
      // Counted once committed: a batch that fails to commit comes again and must not count twice.
      onCommitted: () => {
        const { metrics } = this.options;
        metrics.eventsConsumed.inc({ topic: batch.topic }, batch.records.length);
        metrics.eventsStored.inc({ table }, storedCount);
        metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
        this.lagShown.add(lagKey(batch.topic, batch.partition));
        for (const [reason, count] of sorted.rejections) metrics.eventsRejected.inc({ topic: batch.topic, reason }, count);
        if (sorted.rejections.size > 0) {
          this.options.logger.warn(
            { topic: batch.topic, partition: batch.partition, rejected: Object.fromEntries(sorted.rejections), deadLetterTopic: this.options.topics.deadLetters },
            'records rejected to the dead-letter topic',
          );
        }
      },
    };
  };

  private kindOf(topic: string): EventKind {
    if (topic === this.options.topics.predictions) return 'prediction';
    if (topic === this.options.topics.outcomes) return 'outcome';
    throw new Error(`the collector does not consume topic ${topic}`);
  }

  private reject(sorted: SortedBatch, record: ConsumedRecord, reason: RejectionReason, detail: string, now: number): void {
    sorted.deadLetters.push(deadLetterFor(record, reason, detail, now));
    sorted.rejections.set(reason, (sorted.rejections.get(reason) ?? 0) + 1);
  }

  /** Sets aside the records that cannot be decoded at all: empty, or larger than the limit. */
  private screen(batch: RecordBatch, sorted: SortedBatch, now: number): DecodableRecord[] {
    const decodable: DecodableRecord[] = [];
    for (const record of batch.records) {
      if (record.value === null || record.value.length === 0) this.reject(sorted, record, 'empty-value', 'the record has no value', now);
      else if (record.value.length > this.options.maxEventBytes) this.reject(sorted, record, 'payload-too-large', `the record is ${record.value.length} bytes; the limit is ${this.options.maxEventBytes}`, now);
      else decodable.push(record as DecodableRecord);
    }
    return decodable;
  }

  /** Decodes and validates records on the decoding threads; returns the accepted ones and dead-letters the rest. */
  private async judge(batch: RecordBatch, records: readonly DecodableRecord[], kind: EventKind, now: number, sorted: SortedBatch, control: BatchControl): Promise<Accepted[]> {
    const verdicts = await this.decoding.judge(
      records.map((record) => record.value),
      kind,
      now,
      this.options.limits,
    );
    if (!control.isActive()) throw new BatchAbandonedError(batch.topic, batch.partition);
    const accepted: Accepted[] = [];
    records.forEach((record, index) => {
      const verdict = verdicts[index] as EventVerdict;
      if (!verdict.accepted) {
        this.reject(sorted, record, verdict.reason, verdict.detail, now);
        return;
      }
      const lineage = { topic: record.topic, partition: record.partition, offset: record.offset, schemaId: verdict.schemaId };
      const item = { record, row: { readerBody: verdict.readerBody, lineage, ingestedAtMs: now } };
      accepted.push(item);
      sorted.accepted.push(item);
    });
    return accepted;
  }

  /** Ends the decoding threads; a batch in flight fails uncommitted. */
  async close(): Promise<void> {
    await this.decoding.close();
  }

  /**
   * Stores the rows and returns the ones ClickHouse refuses. An insert that fails on the data is
   * split in halves until each refused row stands alone (a few inserts per bad row, none for a good
   * batch); one under memory pressure is split too. An outage is retried with back-off on the same
   * rows, never split and never dead-lettered. Inserting a half again is harmless: rows are idempotent.
   */
  private async store(batch: RecordBatch, control: BatchControl, table: EventTable, rows: Accepted[]): Promise<RefusedRow[]> {
    const refused: RefusedRow[] = [];
    const pending: Accepted[][] = rows.length > 0 ? [rows] : [];
    const { sink, metrics } = this.options;
    while (pending.length > 0) {
      const chunk = pending.pop() as Accepted[];
      const outcome = await this.retryWhileUnavailable(batch, control, this.storageHealth, async () => {
        const stopTimer = metrics.batchInsertSeconds.startTimer({ table });
        try {
          await sink.insert(table, chunk.map((item) => item.row));
        } catch (error) {
          metrics.storageWriteFailures.inc({ table });
          const kind = classifyStorageError(error);
          // A single row under memory pressure cannot be made smaller: wait for the pressure to pass.
          if (kind === 'unavailable' || (kind === 'too-large' && chunk.length === 1)) throw new StorageUnavailableError(error);
          return { stored: false as const, error };
        }
        stopTimer();
        return { stored: true as const };
      });
      if (outcome.stored) continue;
      if (chunk.length === 1) {
        refused.push({ record: (chunk[0] as Accepted).record, detail: `ClickHouse refused the row: ${describeStorageError(outcome.error)}` });
        continue;
      }
      const middle = Math.ceil(chunk.length / 2);
      pending.push(chunk.slice(middle), chunk.slice(0, middle));
    }
    if (refused.length > 0) {
      this.options.logger.warn({ topic: batch.topic, partition: batch.partition, table, refusedRows: refused.length }, 'ClickHouse refused rows; they go to the dead-letter topic');
    }
    return refused;
  }

  /**
   * Runs `attempt` until it succeeds or fails for a reason other than an outage. Outages (of storage
   * or the registry) are retried with exponential back-off up to a cap, marking the dependency down
   * meanwhile; the batch is abandoned, uncommitted, only when the consumer stops or loses the partition.
   */
  private async retryWhileUnavailable<T>(batch: RecordBatch, control: BatchControl, health: DependencyHealth, attempt: () => Promise<T>): Promise<T> {
    let delay = this.retryDelays.initial;
    for (;;) {
      try {
        const result = await attempt();
        health.markUp();
        return result;
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) && !(error instanceof SchemaSourceUnavailableError)) throw error;
        health.markDown(error instanceof StorageUnavailableError ? describeStorageError(error.cause) : error.message);
      }
      const deadline = Date.now() + delay;
      while (Date.now() < deadline) {
        if (!control.isActive()) throw new BatchAbandonedError(batch.topic, batch.partition);
        await control.heartbeat();
        await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now()))));
      }
      if (!control.isActive()) throw new BatchAbandonedError(batch.topic, batch.partition);
      delay = Math.min(delay * 2, this.retryDelays.max);
    }
  }
}

interface RefusedRow {
  record: ConsumedRecord;
  detail: string;
}

/** Storage cannot take rows right now; retrying later can succeed. */
class StorageUnavailableError extends Error {
  constructor(cause: unknown) {
    super(describeStorageError(cause), { cause });
    this.name = 'StorageUnavailableError';
  }
}

const lagKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
