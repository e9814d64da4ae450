import { defaultEventLimits } from '../core/events/event-validation.js';
import type { RunningTarget, SharedServices } from '../runtime/target-contract.js';
import { Collector } from './collector.js';

/** The collector target: consumes both event topics in one consumer group and stores what it accepts. */
export async function startCollectorTarget(shared: SharedServices): Promise<RunningTarget> {
  const { config, logger, metrics } = shared;
  const collector = new Collector({
    codec: await shared.codec(),
    sink: await shared.eventStore(),
    metrics,
    logger: logger.child({ target: 'collector' }),
    topics: config.topics,
    limits: { ...defaultEventLimits, maxFutureSkewMs: config.maxFutureSkewMs },
    maxEventBytes: config.maxEventBytes,
  });
  const consumer = shared.transport().createConsumer(config.consumerGroup);
  await consumer.start([config.topics.predictions, config.topics.outcomes], collector.handleBatch, { onAssignment: collector.assigned });
  let consuming = true;
  logger.info({ topics: [config.topics.predictions, config.topics.outcomes], group: config.consumerGroup }, 'collector consuming');

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
      { name: 'collector-consuming', check: () => consuming },
      { name: 'storage-writable', check: () => collector.storageHealth.isUp },
      { name: 'schema-registry-reachable', check: () => collector.registryHealth.isUp },
    ],
    status: () => `collector stored=${stored} rejected=${rejected}`,
    stop: async () => {
      clearInterval(refreshCounts);
      consuming = false;
      await consumer.stop();
      await collector.close();
    },
  };
}
