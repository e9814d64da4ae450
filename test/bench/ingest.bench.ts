/**
 * Ingest benchmark on real Kafka: the raw kafkajs consume rate and Vigil's consume + decode +
 * validate + insert + commit rate, on the same broker, topic and events, in one run.
 *   npm run bench:ingest -- [--events=200000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import { applyMigrations } from '../../services/adapters/clickhouse/migrations.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { KafkaTransport } from '../../services/adapters/kafka/kafka-transport.js';
import { ConfluentSchemaSource } from '../../services/adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../../services/adapters/schema-registry/event-codec.js';
import { PipelineMetrics } from '../../services/adapters/telemetry/pipeline-metrics.js';
import { defaultEventLimits } from '../../services/core/events/event-validation.js';
import type { PredictionEvent } from '../../services/core/events/event-types.js';
import { Collector } from '../../services/collector/collector.js';
import { TransportEventPublisher } from '../../services/publisher/transport-event-publisher.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, partitions: { type: 'string', default: '3' } } });
const eventCount = Number(values.events);
const partitions = Number(values.partitions);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';
if (brokers.length === 0 || !registryUrl) throw new Error('KAFKA_BROKERS and SCHEMA_REGISTRY_URL must be set (npm run bench:ingest sets them)');

const logger = pino({ level: 'warn' });
const runId = Date.now().toString(36);
const topics = { predictions: `bench.predictions.${runId}`, outcomes: `bench.outcomes.${runId}`, deadLetters: `bench.dlq.${runId}` };

let peakHeapBytes = 0;
const heapSampler = setInterval(() => (peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed)), 50);

function prediction(index: number): PredictionEvent {
  const now = Date.now();
  return {
    event_id: `${runId}-${index}`,
    model_id: 'sepsis-risk',
    model_version: '2.3.0',
    prediction_id: `${runId}-p-${index}`,
    occurred_at: now - 60_000,
    entity_key: `enc-${(index * 2654435761 >>> 0).toString(16)}`,
    features: {
      heart_rate: 60 + (index % 70),
      respiratory_rate: 12 + (index % 20),
      temperature_c: 36 + (index % 40) / 10,
      systolic_bp: 90 + (index % 60),
      spo2: 88 + (index % 12),
      wbc: index % 13 === 0 ? null : 4 + (index % 15),
      lactate: index % 17 === 0 ? null : 0.5 + (index % 9) / 2,
      creatinine: 0.6 + (index % 20) / 10,
      platelets: 150 + (index % 200),
      age: 18 + (index % 80),
      on_antibiotics: index % 4 === 0,
      admission_source: index % 3 === 0 ? 'ED' : 'ward',
    },
    score: (index % 997) / 997,
    predicted_label: index % 997 >= 300 ? 1 : 0,
    decision_threshold: 0.3,
    segments: { site: `site-${index % 3}`, sex: index % 2 ? 'F' : 'M', age_band: '45-64', race_ethnicity: 'unknown', payer: 'medicare' },
    producer: { service: 'bench', request_id: null },
    input_hash: null,
  };
}

async function publish(transport: KafkaTransport, codec: EventCodec): Promise<number> {
  const producer = await transport.createProducer();
  const publisher = new TransportEventPublisher(producer, codec, topics);
  let bytes = 0;
  for (let start = 0; start < eventCount; start += 5_000) {
    const events = Array.from({ length: Math.min(5_000, eventCount - start) }, (_, offset) => prediction(start + offset));
    await publisher.publishPredictions(events);
    if (start === 0) bytes = (await codec.encodePrediction(topics.predictions, events[0] as PredictionEvent)).length;
  }
  await producer.close();
  return bytes;
}

async function rawConsumeSeconds(): Promise<number> {
  const consumer = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-raw-${runId}`,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.predictions, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        seen += batch.messages.length;
        last = performance.now();
        if (seen >= eventCount) resolve();
      },
    });
  });
  await consumer.disconnect();
  return (last - first) / 1000;
}

async function vigilIngestSeconds(transport: KafkaTransport, codec: EventCodec, dataDirectory: string): Promise<number> {
  const storage = { kind: 'embedded' as const, dataDirectory, database: 'vigil_bench' };
  const client = createStorageClient(storage);
  await applyMigrations(client, storage.database);
  const store = new EventStore(client, storage.database);
  const metrics = new PipelineMetrics();
  const collector = new Collector({ codec, sink: store, metrics, logger, topics, limits: defaultEventLimits, maxEventBytes: 256 * 1024 });
  const consumer = transport.createConsumer(`bench-vigil-${runId}`);
  let handled = 0;
  let first = 0;
  let last = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .start([topics.predictions], async (batch, control) => {
        if (first === 0) first = performance.now();
        const result = await collector.handleBatch(batch, control);
        return {
          outputs: result.outputs,
          onCommitted: () => {
            result.onCommitted?.();
            handled += batch.records.length;
            last = performance.now();
            if (handled >= eventCount) setImmediate(resolve);
          },
        };
      })
      .catch(reject);
  });
  await consumer.stop();
  const stored = await store.count('predictions');
  await client.close();
  if (stored !== eventCount) throw new Error(`stored ${stored} rows, expected ${eventCount}`);
  return (last - first) / 1000;
}

const transport = new KafkaTransport({ brokers, clientId: 'bench', instanceId: runId, logger });
await transport.ensureTopics([
  { name: topics.predictions, partitions },
  { name: topics.deadLetters, partitions },
]);
const codec = new EventCodec(new ConfluentSchemaSource(registryUrl));
await codec.registerSchemas(topics);
const publishStart = performance.now();
const eventBytes = await publish(transport, codec);
const publishSeconds = (performance.now() - publishStart) / 1000;
const rawSeconds = await rawConsumeSeconds();
const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const vigilSeconds = await vigilIngestSeconds(transport, codec, dataDirectory);
clearInterval(heapSampler);
rmSync(dataDirectory, { recursive: true, force: true });

const rawRate = eventCount / rawSeconds;
const vigilRate = eventCount / vigilSeconds;
const format = (rate: number): string => Math.round(rate).toLocaleString('en-US');
process.stdout.write(
  [
    `bench:ingest  ${eventCount.toLocaleString('en-US')} prediction events (${eventBytes} bytes each on the wire, 12 features), ${partitions} partitions, Kafka ${brokers.join(',')}`,
    `  publish (Vigil publisher, acks=all):             ${format(eventCount / publishSeconds)} events/s`,
    `  raw kafkajs consume:                             ${format(rawRate)} events/s`,
    `  Vigil consume+decode+validate+insert+commit:     ${format(vigilRate)} events/s  (${(vigilRate / rawRate * 100).toFixed(0)}% of raw; embedded ClickHouse)`,
    `  peak memory: RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, heap ${(peakHeapBytes / 1024 / 1024).toFixed(0)} MiB`,
    `  targets: >= 20,000 events/s and >= 50% of raw -> ${vigilRate >= 20_000 && vigilRate >= rawRate / 2 ? 'met' : 'NOT met'}`,
    '',
  ].join('\n'),
);
await transport.close();
