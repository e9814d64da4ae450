import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { EventStore, EventTable } from '../adapters/clickhouse/event-store.js';
import { compiledWorker } from '../adapters/project/project-files.js';
import type { PipelineMetrics } from '../adapters/telemetry/pipeline-metrics.js';
import {
  applyMetricChange,
  storageFailureOf,
  type CollectorThreadSettings,
  type FromCollectorThread,
  type ToCollectorThread,
} from './collector-thread-messages.js';

/** How long the collector thread's event loop was held at most, and at the 99th percentile. */
export interface CollectorThreadReport {
  loopDelay: { worstMs: number; p99Ms: number };
}

export interface CollectorThreadOptions {
  store: EventStore;
  metrics: PipelineMetrics;
  /** Where the collector thread's log entries go. */
  logger: Logger;
  /** Called as each batch starts and once it is committed, when settings.reportBatches is set. */
  onBatch?: (phase: 'started' | 'committed', topic: string, records: number) => void;
}

/**
 * The collector on a thread of its own, for Kafka: the consumer, decoding and judging, dead letters
 * and commits run there (collector-thread-worker.ts), while this thread stores each insert file the
 * collector thread hands over (chDB's sessions serve one thread only, and the monitor reads the same
 * ones) and applies its metric changes to this process's registry. Decoding a fetch response holds
 * kafkajs's thread for up to a few hundred milliseconds; that thread is no longer this one.
 *
 * An insert is committed only after this thread has stored it and said so, exactly as in one
 * thread: a failure travels back with its ClickHouse type and code, so the collector retries an
 * outage and isolates a refused row as before.
 */
export class CollectorThread {
  private consumingNow = false;
  private failure: string | null = null;
  private readonly dependencies = new Map<string, boolean>();
  private stopped: Promise<CollectorThreadReport> | null = null;
  private reportFailure: (error: Error) => void = () => {};
  /** Settles if the thread fails once started (an uncaught error, an exit, its consumer giving up), never when stopped. */
  readonly failed = new Promise<Error>((resolve) => (this.reportFailure = resolve));

  private constructor(
    private readonly worker: Worker,
    private readonly options: CollectorThreadOptions,
  ) {}

  /** Starts the thread and resolves once its consumer runs; rejects with the thread's reason when it cannot. */
  static async start(settings: CollectorThreadSettings, options: CollectorThreadOptions): Promise<CollectorThread> {
    const thread = new CollectorThread(new Worker(compiledWorker(import.meta.url, 'collector-thread-worker'), { workerData: settings }), options);
    await thread.started();
    return thread;
  }

  /** Whether the consumer runs: false before it starts, after it stops and once the thread has failed. */
  get consuming(): boolean {
    return this.consumingNow;
  }

  /** Whether a dependency (storage, schema-registry) answered the collector's last request. */
  isUp(dependency: string): boolean {
    return this.dependencies.get(dependency) ?? true;
  }

  /** Stops consuming (the batch in flight fails uncommitted) and ends the thread. */
  stop(): Promise<CollectorThreadReport> {
    this.stopped ??= new Promise<CollectorThreadReport>((resolve, reject) => {
      this.consumingNow = false;
      let report: CollectorThreadReport | null = null;
      let problem: string | null = null;
      this.worker.on('message', (message: FromCollectorThread) => {
        if (message.type === 'stopped') report = { loopDelay: message.loopDelay };
        else if (message.type === 'failed') problem = message.error;
        else return;
        // Its consumer stopped, the thread has nothing left to do.
        void this.worker.terminate();
      });
      this.worker.once('exit', () => {
        if (report !== null) resolve(report);
        else reject(new Error(`the collector thread did not stop cleanly: ${problem ?? this.failure ?? 'it exited first'}`));
      });
      this.send({ type: 'stop' });
    });
    return this.stopped;
  }

  private started(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let starting = true;
      const fail = (reason: string): void => {
        this.consumingNow = false;
        this.failure ??= reason;
        if (starting) {
          starting = false;
          void this.worker.terminate();
          reject(new Error(`the collector thread did not start: ${reason}`));
        } else if (this.stopped === null) {
          this.options.logger.error({ problem: reason }, 'the collector thread failed; nothing more is consumed');
          this.reportFailure(new Error(`the collector thread failed: ${reason}`));
        }
      };
      this.worker.on('message', (message: FromCollectorThread) => {
        switch (message.type) {
          case 'insert':
            this.store(message.id, message.table, Buffer.from(message.buffer, message.offset, message.length));
            return;
          case 'metrics':
            for (const change of message.changes) {
              applyMetricChange(this.options.metrics, change);
              if (change.metric === 'dependencyUp' && change.change === 'set') this.dependencies.set(change.labels.dependency ?? '', change.value === 1);
            }
            return;
          case 'log':
            this.log(message.lines);
            return;
          case 'batch':
            this.options.onBatch?.(message.phase, message.topic, message.records);
            return;
          case 'consuming':
            this.consumingNow = true;
            starting = false;
            resolve();
            return;
          case 'failed':
            fail(message.error);
            return;
          case 'stopped':
            return;
        }
      });
      this.worker.on('error', (error) => fail(error.message));
      this.worker.on('exit', (code) => fail(`the collector thread exited with code ${code}`));
    });
  }

  private store(id: number, table: EventTable, file: Buffer): void {
    const buffer = file.buffer as ArrayBuffer;
    this.options.store.insertEncoded(table, file).then(
      () => this.worker.postMessage({ type: 'inserted', id, buffer } satisfies ToCollectorThread, [buffer]),
      (error: unknown) => this.worker.postMessage({ type: 'insert-failed', id, buffer, failure: storageFailureOf(error) } satisfies ToCollectorThread, [buffer]),
    );
  }

  /** Logs the collector thread's entries with this thread's logger: its level names, its fields. */
  private log(lines: string): void {
    for (const line of lines.split('\n')) {
      if (line === '') continue;
      const { level, msg, ...fields } = JSON.parse(line) as { level: number; msg?: string } & Record<string, unknown>;
      const name = this.options.logger.levels.labels[level] as 'info' | undefined;
      this.options.logger[name ?? 'info'](fields, msg ?? '');
    }
  }

  private send(message: ToCollectorThread): void {
    this.worker.postMessage(message);
  }
}
