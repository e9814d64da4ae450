import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { encodeInsertFile, type EventRow, type EventTable } from '../adapters/clickhouse/event-store.js';
import { KafkaTransport } from '../adapters/kafka/kafka-transport.js';
import { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { ConfluentSchemaSource } from '../adapters/schema-registry/confluent-schema-source.js';
import { Collector } from './collector.js';
import {
  relayedCollectorMetrics,
  storageErrorOf,
  type CollectorThreadSettings,
  type FromCollectorThread,
  type StorageFailure,
  type ToCollectorThread,
} from './collector-thread-messages.js';
import type { EventSink } from './event-sink.js';

/**
 * A collector thread (see CollectorThread): Kafka's consumer, the collector and its decoding threads
 * run here, so that decoding a fetch response, judging records and building inserts never hold the
 * event loop of the thread that serves /metrics and runs the monitor. Each insert's file is built
 * here and handed over (transferred, not copied) to the starting thread, which stores it.
 */

const port = parentPort;
if (port === null) throw new Error('collector-thread-worker runs as a worker thread only');
const settings = workerData as CollectorThreadSettings;
const send = (message: FromCollectorThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** Inserts waiting for the starting thread's answer. */
const pendingInserts = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextInsert = 0;

/**
 * Buffers of stored files, back from the starting thread, for the next files: a file's buffer is
 * handed over, never copied, and returned once stored, so that neither thread holds files waiting
 * for a garbage collection (an idle thread collects rarely).
 */
const spareBuffers: ArrayBuffer[] = [];
const SPARE_BUFFERS = 4;
const allocate = (bytes: number): Buffer => {
  const index = spareBuffers.findIndex((buffer) => buffer.byteLength >= bytes);
  // Never the shared pool of small Buffers, which cannot be handed over.
  if (index === -1) return Buffer.from(new ArrayBuffer(Math.max(bytes, 64 * 1024)));
  const [buffer] = spareBuffers.splice(index, 1);
  return Buffer.from(buffer as ArrayBuffer);
};

const sink: EventSink = {
  insert: (table: EventTable, rows: readonly EventRow[]) => {
    if (rows.length === 0) return Promise.resolve();
    const file = encodeInsertFile(table, rows, allocate);
    const id = ++nextInsert;
    return new Promise<void>((resolve, reject) => {
      pendingInserts.set(id, { resolve, reject });
      const buffer = file.buffer as ArrayBuffer;
      send({ type: 'insert', id, table, buffer, offset: file.byteOffset, length: file.byteLength }, [buffer]);
    });
  },
};

const settle = (id: number, buffer: ArrayBuffer, failure: StorageFailure | null): void => {
  if (spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(buffer);
  const pending = pendingInserts.get(id);
  if (pending === undefined) return;
  pendingInserts.delete(id);
  if (failure === null) pending.resolve();
  else pending.reject(storageErrorOf(failure));
};

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// Entries go to the starting thread's logger, configured once for the process.
const logLines = new Writable({
  write(chunk: Buffer, _encoding, done) {
    send({ type: 'log', lines: chunk.toString('utf8') });
    done();
  },
});
const relay = relayedCollectorMetrics((changes) => send({ type: 'metrics', changes }));
const logger = pino({ level: settings.logLevel, base: null, timestamp: false }, logLines);
const transport = new KafkaTransport({ ...settings.kafka, logger });
const collector = new Collector({
  codec: new EventCodec(new ConfluentSchemaSource(settings.schemaRegistryUrl)),
  sink,
  metrics: relay.metrics,
  logger,
  topics: settings.topics,
  limits: settings.limits,
  maxEventBytes: settings.maxEventBytes,
  ...(settings.decodingThreads === undefined ? {} : { decodingThreads: settings.decodingThreads }),
});
const consumer = transport.createConsumer(settings.consumerGroup);

let stopping: Promise<void> | null = null;
port.on('message', (message: ToCollectorThread) => {
  if (message.type === 'inserted') settle(message.id, message.buffer, null);
  else if (message.type === 'insert-failed') settle(message.id, message.buffer, message.failure);
  else if (message.type === 'stop') {
    stopping ??= (async () => {
      await consumer.stop();
      await collector.close();
      await transport.close();
      loopDelay.disable();
      // The last changes before the answer, which ends the thread.
      relay.flush();
      send({ type: 'stopped', loopDelay: { worstMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 } });
      port.close();
    })().catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }));
  }
});

try {
  await consumer.start(
    [settings.topics.predictions, settings.topics.outcomes],
    async (batch, control) => {
      if (settings.reportBatches) send({ type: 'batch', phase: 'started', topic: batch.topic, records: batch.records.length });
      const result = await collector.handleBatch(batch, control);
      return {
        outputs: result.outputs,
        onCommitted: () => {
          result.onCommitted?.();
          if (settings.reportBatches) send({ type: 'batch', phase: 'committed', topic: batch.topic, records: batch.records.length });
        },
      };
    },
    { onAssignment: collector.assigned },
  );
  send({ type: 'consuming' });
} catch (error) {
  send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
}
