import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus series of the event pipeline. Label values come from fixed sets (topics, tables,
 * rejection reasons): never an event's content, so no identifier can reach a label.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  readonly eventsConsumed: Counter<'topic'>;
  readonly eventsStored: Counter<'table'>;
  readonly eventsRejected: Counter<'topic' | 'reason'>;
  readonly batchInsertSeconds: Histogram<'table'>;
  readonly storageWriteFailures: Counter<'table'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly eventsPublished: Counter<'topic'>;
  readonly dependencyUp: Gauge<'dependency'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.eventsConsumed = new Counter({
      name: 'vigil_events_consumed_total',
      help: 'Records read from an event topic, accepted or not.',
      labelNames: ['topic'],
      registers: [this.registry],
    });
    this.eventsStored = new Counter({
      name: 'vigil_events_stored_total',
      help: 'Events written to a raw table (a replayed event counts again; the table keeps one row).',
      labelNames: ['table'],
      registers: [this.registry],
    });
    this.eventsRejected = new Counter({
      name: 'vigil_events_rejected_total',
      help: 'Records sent to the dead-letter topic, by source topic and reason.',
      labelNames: ['topic', 'reason'],
      registers: [this.registry],
    });
    this.batchInsertSeconds = new Histogram({
      name: 'vigil_batch_insert_duration_seconds',
      help: 'Time to insert one batch into ClickHouse, successful attempts only.',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.storageWriteFailures = new Counter({
      name: 'vigil_storage_write_failures_total',
      help: 'Failed insert attempts; the batch is retried and its offsets stay uncommitted.',
      labelNames: ['table'],
      registers: [this.registry],
    });
    this.consumerLag = new Gauge({
      name: 'vigil_consumer_lag',
      help: 'Records behind the end of the partition after the last batch the collector handled; shown only by the collector that holds the partition.',
      labelNames: ['topic', 'partition'],
      registers: [this.registry],
    });
    this.eventsPublished = new Counter({
      name: 'vigil_events_published_total',
      help: 'Events published by this process (simulator, publisher).',
      labelNames: ['topic'],
      registers: [this.registry],
    });
    this.dependencyUp = new Gauge({
      name: 'vigil_dependency_up',
      help: 'Whether a dependency (storage, schema-registry) answered its last request: 1 yes, 0 no (retrying, nothing committed).',
      labelNames: ['dependency'],
      registers: [this.registry],
    });
  }
}

/** The part of a counter the event pipeline uses, so that a thread can count into another's registry. */
export interface CounterInstrument<Label extends string> {
  inc(labels: Partial<Record<Label, string>>, value?: number): void;
}

export interface GaugeInstrument<Label extends string> {
  set(labels: Partial<Record<Label, string>>, value: number): void;
  remove(labels: Partial<Record<Label, string>>): void;
}

export interface TimerInstrument<Label extends string> {
  /** Starts timing; the returned function ends it and records the seconds. */
  startTimer(labels: Partial<Record<Label, string>>): () => unknown;
}

/** The series a collector writes: PipelineMetrics itself, or a relay to the registry of another thread. */
export interface CollectorMetrics {
  eventsConsumed: CounterInstrument<'topic'>;
  eventsStored: CounterInstrument<'table'>;
  eventsRejected: CounterInstrument<'topic' | 'reason'>;
  batchInsertSeconds: TimerInstrument<'table'>;
  storageWriteFailures: CounterInstrument<'table'>;
  consumerLag: GaugeInstrument<'topic' | 'partition'>;
  dependencyUp: GaugeInstrument<'dependency'>;
}
