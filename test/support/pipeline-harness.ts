import type { ClickHouseClient } from '@clickhouse/client';
import { pino } from 'pino';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import { applyMigrations } from '../../services/adapters/clickhouse/migrations.js';
import { createStorageClient, type StorageTarget } from '../../services/adapters/clickhouse/storage-client.js';
import { EventCodec } from '../../services/adapters/schema-registry/event-codec.js';
import { InProcessSchemaSource } from '../../services/adapters/schema-registry/in-process-schema-source.js';
import { PipelineMetrics } from '../../services/adapters/telemetry/pipeline-metrics.js';
import { defaultEventLimits } from '../../services/core/events/event-validation.js';
import { Collector } from '../../services/collector/collector.js';
import type { EventSink } from '../../services/collector/event-sink.js';
import type { TopicNames } from '../../services/config/vigil-config.js';
import { testStorageTarget, uniqueName } from './test-storage.js';

export const quietLogger = pino({ level: process.env.VIGIL_TEST_LOG_LEVEL ?? 'silent' });

export function uniqueTopics(): TopicNames {
  const suffix = uniqueName('t');
  return { predictions: `test.predictions.${suffix}`, outcomes: `test.outcomes.${suffix}`, deadLetters: `test.dlq.${suffix}` };
}

export interface StorageHarness {
  target: StorageTarget;
  client: ClickHouseClient;
  store: EventStore;
  close(): Promise<void>;
}

/** A migrated database of its own, in embedded chDB or the ClickHouse server of CLICKHOUSE_URL. */
export async function openTestStorage(): Promise<StorageHarness> {
  const target = testStorageTarget();
  const client = createStorageClient(target);
  await applyMigrations(client, target.database);
  return {
    target,
    client,
    store: new EventStore(client, target),
    close: async () => {
      await client.command({ query: `DROP DATABASE IF EXISTS ${target.database}` });
      await client.close();
    },
  };
}

export async function embeddedCollector(sink: EventSink, topics: TopicNames, codec = new EventCodec(new InProcessSchemaSource())) {
  await codec.registerSchemas(topics);
  const metrics = new PipelineMetrics();
  const collector = new Collector({
    codec,
    sink,
    metrics,
    logger: quietLogger,
    topics,
    limits: defaultEventLimits,
    maxEventBytes: 64 * 1024,
    retryDelaysMs: { initial: 20, max: 100 },
  });
  return { codec, metrics, collector };
}

export async function counterValue(metrics: PipelineMetrics, name: 'eventsConsumed' | 'eventsStored' | 'eventsRejected', labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metrics[name].get();
  return values
    .filter((sample) => Object.entries(labels).every(([key, value]) => (sample.labels as Record<string, string | number | undefined>)[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The environment of a Kafka-backed Vigil with its own topics, group, instance and database. */
export function kafkaCollectorEnvironment(options: {
  endpoints: { kafkaBrokers: string[]; schemaRegistryUrl: string };
  topics: TopicNames;
  group: string;
  instanceId: string;
  storage: StorageTarget;
  httpPort: number;
}): Record<string, string> {
  const { endpoints, topics, storage } = options;
  return {
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    VIGIL_PREDICTIONS_TOPIC: topics.predictions,
    VIGIL_OUTCOMES_TOPIC: topics.outcomes,
    VIGIL_DEAD_LETTER_TOPIC: topics.deadLetters,
    VIGIL_CONSUMER_GROUP: options.group,
    VIGIL_INSTANCE_ID: options.instanceId,
    VIGIL_HTTP_PORT: String(options.httpPort),
    CLICKHOUSE_DATABASE: storage.database,
    ...(storage.kind === 'server' ? { CLICKHOUSE_URL: storage.url } : { VIGIL_DATA_DIR: storage.dataDirectory }),
  };
}
