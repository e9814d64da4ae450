import type { EventTable } from '../adapters/clickhouse/event-store.js';
import { clickhouseErrorIdentity } from '../adapters/clickhouse/storage-errors.js';
import type { CollectorMetrics, CounterInstrument, GaugeInstrument, TimerInstrument } from '../adapters/telemetry/pipeline-metrics.js';
import type { TopicNames } from '../config/vigil-config.js';
import type { EventLimits } from '../core/events/event-validation.js';

/**
 * What a collector thread and the thread that started it say to each other. The collector thread
 * consumes Kafka, decodes and judges records and builds each insert's file; the starting thread
 * owns storage (chDB's native sessions serve one thread of a process only) and the metrics registry.
 */

/** What a collector thread needs to start: plain data, since it crosses threads. */
export interface CollectorThreadSettings {
  kafka: { brokers: string[]; clientId: string; instanceId: string };
  schemaRegistryUrl: string;
  consumerGroup: string;
  topics: TopicNames;
  limits: EventLimits;
  maxEventBytes: number;
  /** The least level logged; each entry is passed to the starting thread's logger. */
  logLevel: string;
  /** Decoding threads beside the collector thread (default: defaultDecodingThreads()). */
  decodingThreads?: number;
  /** Whether the thread reports each batch's start and commit (for a benchmark's timing). */
  reportBatches?: boolean;
}

export type CollectorMetricName = keyof CollectorMetrics;

const COLLECTOR_METRIC_NAMES: ReadonlySet<string> = new Set<CollectorMetricName>([
  'eventsConsumed',
  'eventsStored',
  'eventsRejected',
  'batchInsertSeconds',
  'storageWriteFailures',
  'consumerLag',
  'dependencyUp',
]);

/** One change to a collector series: a counter's increment, a gauge's value or removal, a timer's seconds. */
export interface MetricChange {
  metric: CollectorMetricName;
  change: 'inc' | 'set' | 'remove' | 'observe';
  labels: Record<string, string>;
  value: number;
}

/** A ClickHouse failure as it crosses threads: what classifyStorageError and describeStorageError read. */
export interface StorageFailure {
  name: string;
  message: string;
  identity: { type: string; code: string } | null;
  cause: string | null;
}

export type FromCollectorThread =
  /** The file is `length` bytes of `buffer` from `offset`; the buffer is handed over and comes back with the answer. */
  | { type: 'insert'; id: number; table: EventTable; buffer: ArrayBuffer; offset: number; length: number }
  | { type: 'metrics'; changes: MetricChange[] }
  | { type: 'consuming' }
  /** Log entries as pino writes them, one JSON object per line. */
  | { type: 'log'; lines: string }
  | { type: 'batch'; phase: 'started' | 'committed'; topic: string; records: number }
  | { type: 'stopped'; loopDelay: { worstMs: number; p99Ms: number } }
  | { type: 'failed'; error: string };

export type ToCollectorThread =
  | { type: 'inserted'; id: number; buffer: ArrayBuffer }
  | { type: 'insert-failed'; id: number; buffer: ArrayBuffer; failure: StorageFailure }
  | { type: 'stop' };

export function storageFailureOf(error: unknown): StorageFailure {
  const identity = clickhouseErrorIdentity(error);
  if (error instanceof Error) {
    return { name: error.name, message: error.message, identity, cause: error.cause instanceof Error ? error.cause.message : null };
  }
  return { name: 'Error', message: String(error), identity, cause: null };
}

/** The error again, as storage-errors.ts classifies and describes it. */
export function storageErrorOf(failure: StorageFailure): Error {
  const error = new Error(failure.message, failure.cause === null ? undefined : { cause: new Error(failure.cause) });
  error.name = failure.name;
  if (failure.identity !== null) Object.assign(error, failure.identity);
  return error;
}

/**
 * The collector's series as a relay: every change is queued and sent in one message per turn of
 * the event loop (or at `flush`), to be applied to the real series by applyMetricChange.
 */
export function relayedCollectorMetrics(send: (changes: MetricChange[]) => void): { metrics: CollectorMetrics; flush: () => void } {
  let queued: MetricChange[] = [];
  const flush = (): void => {
    if (queued.length === 0) return;
    const changes = queued;
    queued = [];
    send(changes);
  };
  const queue = (change: MetricChange): void => {
    if (queued.length === 0) setImmediate(flush);
    queued.push(change);
  };
  const counter = <Label extends string>(metric: CollectorMetricName): CounterInstrument<Label> => ({
    inc: (labels, value = 1) => queue({ metric, change: 'inc', labels: labels as Record<string, string>, value }),
  });
  const gauge = <Label extends string>(metric: CollectorMetricName): GaugeInstrument<Label> => ({
    set: (labels, value) => queue({ metric, change: 'set', labels: labels as Record<string, string>, value }),
    remove: (labels) => queue({ metric, change: 'remove', labels: labels as Record<string, string>, value: 0 }),
  });
  const timer = <Label extends string>(metric: CollectorMetricName): TimerInstrument<Label> => ({
    startTimer: (labels) => {
      const start = performance.now();
      return () => queue({ metric, change: 'observe', labels: labels as Record<string, string>, value: (performance.now() - start) / 1000 });
    },
  });
  return {
    flush,
    metrics: {
      eventsConsumed: counter('eventsConsumed'),
      eventsStored: counter('eventsStored'),
      eventsRejected: counter('eventsRejected'),
      batchInsertSeconds: timer('batchInsertSeconds'),
      storageWriteFailures: counter('storageWriteFailures'),
      consumerLag: gauge('consumerLag'),
      dependencyUp: gauge('dependencyUp'),
    },
  };
}

/** The real series of a collector, as PipelineMetrics has them. */
export interface CollectorSeries {
  eventsConsumed: { inc(labels: Record<string, string>, value: number): void };
  eventsStored: { inc(labels: Record<string, string>, value: number): void };
  eventsRejected: { inc(labels: Record<string, string>, value: number): void };
  batchInsertSeconds: { observe(labels: Record<string, string>, value: number): void };
  storageWriteFailures: { inc(labels: Record<string, string>, value: number): void };
  consumerLag: { set(labels: Record<string, string>, value: number): void; remove(labels: Record<string, string>): void };
  dependencyUp: { set(labels: Record<string, string>, value: number): void; remove(labels: Record<string, string>): void };
}

/** Applies one relayed change; a change that names no collector series or does not fit it is refused. */
export function applyMetricChange(series: CollectorSeries, change: MetricChange): void {
  if (!COLLECTOR_METRIC_NAMES.has(change.metric)) throw new Error(`not a collector series: ${String(change.metric)}`);
  const target = series[change.metric] as Partial<Record<MetricChange['change'], (labels: Record<string, string>, value?: number) => void>>;
  const apply = target[change.change];
  if (apply === undefined) throw new Error(`${change.metric} has no ${change.change}`);
  if (change.change === 'remove') apply.call(target, change.labels);
  else apply.call(target, change.labels, change.value);
}
