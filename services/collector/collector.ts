import type { Logger } from 'pino';
import { validateOutcome, validatePrediction, type EventLimits } from '../core/events/event-validation.js';
import type { EventKind } from '../core/events/event-types.js';
import type { DecodedEvent, EventCodec } from '../adapters/schema-registry/event-codec.js';
import { SchemaSourceUnavailableError } from '../adapters/schema-registry/schema-source.js';
import {
  toOutcomeRow,
  toPredictionRow,
  type EventStore,
  type OutcomeRow,
  type PredictionRow,
} from '../adapters/clickhouse/event-store.js';
import type { PipelineMetrics } from '../adapters/telemetry/pipeline-metrics.js';
import type { BatchControl, BatchResult, OutgoingRecord, RecordBatch } from '../adapters/transport/record-transport.js';
import type { TopicNames } from '../config/vigil-config.js';
import { deadLetterFor, type RejectionReason } from './dead-letter.js';

export interface CollectorOptions {
  codec: EventCodec;
  store: EventStore;
  metrics: PipelineMetrics;
  logger: Logger;
  topics: TopicNames;
  limits: EventLimits;
  maxEventBytes: number;
  clock?: () => number;
  /** Back-off between attempts while storage or the registry is unavailable. */
  retryDelaysMs?: { initial: number; max: number };
}

/** The batch was given up because the consumer is stopping or lost the partition; it will come again. */
export class BatchAbandonedError extends Error {
  readonly retriable = true;
  constructor(topic: string, partition: number) {
    super(`batch of ${topic}/${partition} abandoned uncommitted: the consumer is stopping or lost the partition`);
    this.name = 'BatchAbandonedError';
  }
}

interface SortedBatch {
  predictions: PredictionRow[];
  outcomes: OutcomeRow[];
  deadLetters: OutgoingRecord[];
  rejections: Map<RejectionReason, number>;
}

/**
 * Turns consumed records into stored rows or dead letters. A batch is committed only after its rows
 * are in ClickHouse; while storage or the schema registry is unavailable the batch is retried with
 * back-off and nothing is committed, so nothing is lost. Bad records never stop the collector:
 * each goes to the dead-letter topic with its original bytes and the reason.
 */
export class Collector {
  private readonly clock: () => number;
  private readonly retryDelays: { initial: number; max: number };
  private storageHealthy = true;

  constructor(private readonly options: CollectorOptions) {
    this.clock = options.clock ?? Date.now;
    this.retryDelays = options.retryDelaysMs ?? { initial: 200, max: 5_000 };
  }

  /** False while the last write attempt failed; drives /readyz. */
  get isStorageHealthy(): boolean {
    return this.storageHealthy;
  }

  readonly handleBatch = async (batch: RecordBatch, control: BatchControl): Promise<BatchResult> => {
    const kind = this.kindOf(batch.topic);
    const sorted = await this.retryWhileUnavailable(batch, control, 'decode', () => this.sort(batch, kind));
    const table = kind === 'prediction' ? 'predictions' : 'outcomes';
    if (kind === 'prediction') await this.write(batch, control, 'predictions', sorted.predictions);
    else await this.write(batch, control, 'outcomes', sorted.outcomes);

    return {
      outputs: sorted.deadLetters.length > 0 ? [{ topic: this.options.topics.deadLetters, records: sorted.deadLetters }] : [],
      // Counted once committed: a batch that fails to commit comes again and must not count twice.
      onCommitted: () => {
        const { metrics } = this.options;
        metrics.eventsConsumed.inc({ topic: batch.topic }, batch.records.length);
        metrics.eventsStored.inc({ table }, kind === 'prediction' ? sorted.predictions.length : sorted.outcomes.length);
        metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
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

  private async sort(batch: RecordBatch, kind: EventKind): Promise<SortedBatch> {
    const sorted: SortedBatch = { predictions: [], outcomes: [], deadLetters: [], rejections: new Map() };
    const now = this.clock();
    const reject = (record: RecordBatch['records'][number], reason: RejectionReason, detail: string): void => {
      sorted.deadLetters.push(deadLetterFor(record, reason, detail, now));
      sorted.rejections.set(reason, (sorted.rejections.get(reason) ?? 0) + 1);
    };
    const decodable: Array<RecordBatch['records'][number] & { value: Buffer }> = [];
    for (const record of batch.records) {
      if (record.value === null || record.value.length === 0) reject(record, 'empty-value', 'the record has no value');
      else if (record.value.length > this.options.maxEventBytes) reject(record, 'payload-too-large', `the record is ${record.value.length} bytes; the limit is ${this.options.maxEventBytes}`);
      else decodable.push(record as RecordBatch['records'][number] & { value: Buffer });
    }
    const decodedEvents = await this.options.codec.decodeAll(
      decodable.map((record) => record.value),
      kind,
    );
    decodable.forEach((record, index) => {
      const decoded = decodedEvents[index] as DecodedEvent;
      if (!decoded.ok) {
        reject(record, decoded.reason, decoded.detail);
        return;
      }
      const lineage = { topic: record.topic, partition: record.partition, offset: record.offset, schemaId: decoded.schemaId };
      if (decoded.kind === 'prediction') {
        const validation = validatePrediction(decoded.event, now, this.options.limits);
        if (!validation.valid) reject(record, 'invalid-event', validation.detail);
        else sorted.predictions.push(toPredictionRow(decoded.event, lineage, now));
      } else {
        const validation = validateOutcome(decoded.event, now, this.options.limits);
        if (!validation.valid) reject(record, 'invalid-event', validation.detail);
        else sorted.outcomes.push(toOutcomeRow(decoded.event, lineage, now));
      }
    });
    return sorted;
  }

  private async write(batch: RecordBatch, control: BatchControl, table: 'predictions', rows: PredictionRow[]): Promise<void>;
  private async write(batch: RecordBatch, control: BatchControl, table: 'outcomes', rows: OutcomeRow[]): Promise<void>;
  private async write(batch: RecordBatch, control: BatchControl, table: 'predictions' | 'outcomes', rows: PredictionRow[] | OutcomeRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { store, metrics } = this.options;
    await this.retryWhileUnavailable(batch, control, `insert into ${table}`, async () => {
      const stopTimer = metrics.batchInsertSeconds.startTimer({ table });
      try {
        if (table === 'predictions') await store.insert('predictions', rows as PredictionRow[]);
        else await store.insert('outcomes', rows as OutcomeRow[]);
      } catch (error) {
        metrics.storageWriteFailures.inc({ table });
        this.storageHealthy = false;
        throw error;
      }
      stopTimer();
      this.storageHealthy = true;
    });
  }

  /**
   * Runs `attempt` until it succeeds. Storage errors and registry outages are retried with
   * exponential back-off (heartbeating so the group keeps the partition); the batch is abandoned,
   * uncommitted, only when the consumer stops or loses the partition.
   */
  private async retryWhileUnavailable<T>(batch: RecordBatch, control: BatchControl, action: string, attempt: () => Promise<T>): Promise<T> {
    let delay = this.retryDelays.initial;
    for (let attemptNumber = 1; ; attemptNumber++) {
      try {
        return await attempt();
      } catch (error) {
        const isRegistryOutage = error instanceof SchemaSourceUnavailableError;
        if (action === 'decode' && !isRegistryOutage) throw error;
        this.options.logger.warn(
          { topic: batch.topic, partition: batch.partition, attempt: attemptNumber, retryInMs: delay, error: describeError(error) },
          `${action} failed; retrying without committing`,
        );
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

/**
 * ClickHouse's own error messages can quote the rejected input, which may hold identifiers: only
 * its error type and code are logged. Network and registry errors carry no event content.
 */
function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'type' in error && 'code' in error) {
    const { type, code } = error as { type: unknown; code: unknown };
    return `ClickHouse error ${String(type)} (code ${String(code)})`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name}: ${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
