import { hostname } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { EventStore } from '../adapters/clickhouse/event-store.js';
import { applyMigrations } from '../adapters/clickhouse/migrations.js';
import { createStorageClient, describeStorage } from '../adapters/clickhouse/storage-client.js';
import { startOperationalServer } from '../adapters/http/operational-server.js';
import { InProcessTransport } from '../adapters/in-process/in-process-transport.js';
import { KafkaTransport } from '../adapters/kafka/kafka-transport.js';
import { ConfluentSchemaSource } from '../adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { InProcessSchemaSource } from '../adapters/schema-registry/in-process-schema-source.js';
import { PipelineMetrics } from '../adapters/telemetry/pipeline-metrics.js';
import type { RecordTransport } from '../adapters/transport/record-transport.js';
import type { Target, VigilConfig } from '../config/vigil-config.js';
import { claimInstanceSlot } from './instance-slot.js';
import type { RunningTarget, SharedServices, TargetTable } from './target-contract.js';

/**
 * chDB sessions beside the main one for the collector's inserts. Measured on two cores with three
 * partitions (medians of four runs): one session 50,000 events/s, two 56,500, three 60,000.
 */
const EXTRA_INSERT_SESSIONS = 2;
/** How long one migration statement may run on a ClickHouse server: copying a large table takes a while. */
const MIGRATION_TIMEOUT_MS = 6 * 3_600_000;

export interface RunningVigil {
  metricsUrl: string;
  targets: RunningTarget[];
  /** Settles when a target fails for good, with the target and the reason; the process should then stop. */
  failed: Promise<{ target: Target; error: Error }>;
  stop(): Promise<void>;
}

function lazy<T>(build: () => T): () => T {
  let built: { value: T } | null = null;
  return () => (built ??= { value: build() }).value;
}

/**
 * Starts the chosen targets in one process, like Loki's and Mimir's monolithic mode: `all` runs
 * every service against shared connections; one target runs alone in production.
 */
export async function startVigil(config: VigilConfig, targets: readonly Target[], logger: Logger, targetTable: TargetTable): Promise<RunningVigil> {
  const metrics = new PipelineMetrics();
  const closers: Array<() => Promise<void>> = [];

  const transport = lazy<RecordTransport>(() => {
    const built = config.transport.kind === 'kafka' ? new KafkaTransport({ brokers: config.transport.brokers, clientId: config.transport.clientId, instanceId: instanceId(), logger }) : new InProcessTransport({ logger });
    closers.push(() => built.close());
    return built;
  });

  const instanceId = lazy(() => {
    if (config.instanceId !== undefined) return config.instanceId;
    const slot = claimInstanceSlot(config.consumerGroup);
    closers.push(async () => slot.release());
    logger.info({ instanceId: slot.instanceId }, 'instance id claimed (VIGIL_INSTANCE_ID is unset)');
    return slot.instanceId;
  });

  const codec = lazy(async () => {
    const source = config.transport.kind === 'kafka' ? new ConfluentSchemaSource(config.transport.schemaRegistryUrl) : new InProcessSchemaSource();
    const built = new EventCodec(source);
    await built.registerSchemas(config.topics);
    return built;
  });

  const storageClient = lazy(async (): Promise<ClickHouseClient> => {
    const client = createStorageClient(config.storage);
    closers.push(() => client.close());
    // A migration that copies a table into a new order can outlast a query's timeout on a server.
    const migrating = config.storage.kind === 'server' ? createStorageClient(config.storage, { requestTimeoutMs: MIGRATION_TIMEOUT_MS }) : client;
    let applied: string[];
    try {
      applied = await applyMigrations(migrating, config.storage.database);
    } finally {
      if (migrating !== client) await migrating.close();
    }
    logger.info({ storage: describeStorage(config.storage), database: config.storage.database, migrationsApplied: applied }, 'storage ready');
    return client;
  });

  const eventStore = lazy(async () => {
    const client = await storageClient();
    if (config.storage.kind === 'server') return new EventStore(client, config.storage);
    // More chDB sessions, so that inserts of several partitions run at once (see EventStore).
    const insertSessions = Array.from({ length: EXTRA_INSERT_SESSIONS }, () => createStorageClient(config.storage));
    for (const session of insertSessions) closers.push(() => session.close());
    return new EventStore(client, config.storage, insertSessions);
  });

  const shared: SharedServices = { config, logger, metrics, transport, codec, eventStore, storage: storageClient, instanceId };
  const running: RunningTarget[] = [];
  const stopAll = async (): Promise<void> => {
    // Stop in reverse start order: producers of traffic before its consumers, then shared clients.
    for (const target of [...running].reverse()) {
      await target.stop().catch((error: unknown) => logger.error({ target: target.name, error: String(error) }, 'target did not stop cleanly'));
    }
    await server?.close();
    for (const close of closers.reverse()) await close().catch(() => {});
  };

  let server: Awaited<ReturnType<typeof startOperationalServer>> | undefined;
  try {
    if (config.transport.kind === 'kafka' || targets.includes('collector')) {
      await transport().ensureTopics([
        { name: config.topics.predictions, partitions: config.topicPartitions },
        { name: config.topics.outcomes, partitions: config.topicPartitions },
        { name: config.topics.deadLetters, partitions: config.topicPartitions },
      ]);
    }
    for (const [name, start] of Object.entries(targetTable) as [Target, TargetTable[Target]][]) {
      if (targets.includes(name)) running.push(await start(shared));
    }
    server = await startOperationalServer({
      host: config.http.host,
      port: config.http.port,
      registry: metrics.registry,
      readinessChecks: () => running.flatMap((target) => target.readiness),
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  logger.info({ targets, metrics: `${server.url}/metrics`, host: hostname() }, 'vigil started');
  const failed = Promise.race(running.flatMap((target) => (target.failed === undefined ? [] : [target.failed.then((error) => ({ target: target.name, error }))])));
  return { metricsUrl: `${server.url}/metrics`, targets: running, failed, stop: stopAll };
}
