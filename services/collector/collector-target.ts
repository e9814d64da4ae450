import { defaultEventLimits } from '../core/events/event-validation.js';
import type { RunningTarget, SharedServices } from '../runtime/target-contract.js';
import { Collector } from './collector.js';
import { CollectorThread } from './collector-thread.js';

/**
 * The collector target: consumes both event topics in one consumer group and stores what it
 * accepts. From Kafka it runs on a thread of its own (CollectorThread), so that this thread stays
 * free for /metrics and the monitor; in process it consumes the simulator's records on this thread,
 * where they are published.
 */
export async function startCollectorTarget(shared: SharedServices): Promise<RunningTarget> {
  const { config, logger, metrics } = shared;
  const topics = [config.topics.predictions, config.topics.outcomes];
  const limits = { ...defaultEventLimits, maxFutureSkewMs: config.maxFutureSkewMs };
  // Schemas are registered before anything is consumed, whichever thread consumes.
  const codec = await shared.codec();
  const store = await shared.eventStore();
  let consumer: { consuming: () => boolean; storageUp: () => boolean; registryUp: () => boolean; stop: () => Promise<void>; failed?: Promise<Error> };
  if (config.transport.kind === 'kafka') {
    const thread = await CollectorThread.start(
      {
        kafka: { brokers: config.transport.brokers, clientId: config.transport.clientId, instanceId: shared.instanceId() },
        schemaRegistryUrl: config.transport.schemaRegistryUrl,
        consumerGroup: config.consumerGroup,
        topics: config.topics,
        limits,
        maxEventBytes: config.maxEventBytes,
        logLevel: config.logLevel,
      },
      { store, metrics, logger: logger.child({ target: 'collector' }) },
    );
    consumer = {
      consuming: () => thread.consuming,
      storageUp: () => thread.isUp('storage'),
      registryUp: () => thread.isUp('schema-registry'),
      stop: async () => void (await thread.stop()),
      failed: thread.failed,
    };
  } else {
    const collector = new Collector({ codec, sink: store, metrics, logger: logger.child({ target: 'collector' }), topics: config.topics, limits, maxEventBytes: config.maxEventBytes });
    const recordConsumer = shared.transport().createConsumer(config.consumerGroup);
    await recordConsumer.start(topics, collector.handleBatch, { onAssignment: collector.assigned });
    let consuming = true;
    consumer = {
      consuming: () => consuming,
      storageUp: () => collector.storageHealth.isUp,
      registryUp: () => collector.registryHealth.isUp,
      stop: async () => {
        consuming = false;
        await recordConsumer.stop();
        await collector.close();
      },
    };
  }
  logger.info({ topics, group: config.consumerGroup }, 'collector consuming');

  const counterTotal = async (name: 'eventsStored' | 'eventsRejected'): Promise<number> =>
    (await metrics[name].get()).values.reduce((sum, sample) => sum + sample.value, 0);
  let stored = 0;
  let rejected = 0;
  const refreshCounts = setInterval(() => {
    void counterTotal('eventsStored').then((value) => (stored = value));
    void counterTotal('eventsRejected').then((value) => (rejected = value));
  }, 1_000);
  refreshCounts.unref();

  return {
    name: 'collector',
    readiness: [
      { name: 'collector-consuming', check: consumer.consuming },
      { name: 'storage-writable', check: consumer.storageUp },
      { name: 'schema-registry-reachable', check: consumer.registryUp },
    ],
    status: () => `collector stored=${stored} rejected=${rejected}`,
    ...(consumer.failed === undefined ? {} : { failed: consumer.failed }),
    stop: async () => {
      clearInterval(refreshCounts);
      await consumer.stop();
    },
  };
}
