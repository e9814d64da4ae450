import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../../services/adapters/kafka/kafka-transport.js';
import { PipelineMetrics } from '../../services/adapters/telemetry/pipeline-metrics.js';
import { defaultEventLimits } from '../../services/core/events/event-validation.js';
import { CollectorThread } from '../../services/collector/collector-thread.js';
import { capturingLogger } from '../support/captured-logs.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { groupCaughtUp } from '../support/kafka-inspection.js';
import { counterValue, openTestStorage, quietLogger, uniqueTopics, waitFor, type StorageHarness } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { uniqueName } from '../support/test-storage.js';

const GOOD_EVENTS = 2_000;

describe('the collector on a thread of its own', () => {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const runId = randomBytes(4).toString('hex');
  const group = uniqueName('group');
  const predictionType = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
  let storage: StorageHarness;
  let producer: ForeignProducer;

  beforeAll(async () => {
    storage = await openTestStorage();
    await new KafkaTransport({ brokers: endpoints.kafkaBrokers, clientId: 'test', instanceId: runId, logger: quietLogger }).ensureTopics([
      { name: topics.predictions, partitions: 2 },
      { name: topics.outcomes, partitions: 1 },
      { name: topics.deadLetters, partitions: 1 },
    ]);
    producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
  });

  afterAll(async () => {
    await producer?.close();
    await storage?.close();
  });

  it('stores what it accepts through this thread, counts it in this registry and logs with this logger', async () => {
    const schemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const good = Array.from({ length: GOOD_EVENTS }, (_, index) => ({ value: ForeignProducer.frame(schemaId, predictionType, foreignPrediction(index, runId)) }));
    const truncated = { value: ForeignProducer.frame(schemaId, predictionType, foreignPrediction(GOOD_EVENTS, runId)).subarray(0, 30) };
    await producer.send(topics.predictions, [...good.slice(0, 1_000), truncated, ...good.slice(1_000)]);

    const metrics = new PipelineMetrics();
    const { logger, lines } = capturingLogger('info');
    const batches: { phase: string; records: number }[] = [];
    const thread = await CollectorThread.start(
      {
        kafka: { brokers: endpoints.kafkaBrokers, clientId: 'test', instanceId: uniqueName('instance') },
        schemaRegistryUrl: endpoints.schemaRegistryUrl,
        consumerGroup: group,
        topics,
        limits: defaultEventLimits,
        maxEventBytes: 64 * 1024,
        logLevel: 'info',
        reportBatches: true,
      },
      { store: storage.store, metrics, logger: logger.child({ target: 'collector' }), onBatch: (phase, _topic, records) => batches.push({ phase, records }) },
    );
    try {
      expect(thread.consuming).toBe(true);
      await waitFor(() => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions]), 60_000, 'the collector thread to commit every record');
      // Counted here, from the changes the collector thread relays.
      await waitFor(async () => (await counterValue(metrics, 'eventsConsumed')) === GOOD_EVENTS + 1, 10_000, 'the consumed count to arrive');
      expect(await counterValue(metrics, 'eventsStored', { table: 'predictions' })).toBe(GOOD_EVENTS);
      expect(await counterValue(metrics, 'eventsRejected', { topic: topics.predictions, reason: 'undecodable' })).toBe(1);
      expect((await metrics.batchInsertSeconds.get()).values.find((sample) => sample.metricName === 'vigil_batch_insert_duration_seconds_count')?.value).toBeGreaterThan(0);
      expect((await metrics.dependencyUp.get()).values.map((sample) => [sample.labels.dependency, sample.value]).sort()).toEqual([
        ['schema-registry', 1],
        ['storage', 1],
      ]);
      expect(thread.isUp('storage')).toBe(true);
      expect(await storage.store.count('predictions')).toBe(GOOD_EVENTS);

      const committed = batches.filter((batch) => batch.phase === 'committed').reduce((sum, batch) => sum + batch.records, 0);
      expect(committed).toBe(GOOD_EVENTS + 1);
      // The collector thread's entries, at their level, with this logger's bindings and their own.
      const rejected = lines.find((line) => line.msg === 'records rejected to the dead-letter topic');
      expect(rejected).toMatchObject({ level: 40, target: 'collector', topic: topics.predictions, rejected: { undecodable: 1 } });
      expect(JSON.stringify(lines)).not.toContain(runId);
    } finally {
      const report = await thread.stop();
      expect(thread.consuming).toBe(false);
      expect(report.loopDelay.worstMs).toBeGreaterThan(0);
      expect(report.loopDelay.p99Ms).toBeLessThanOrEqual(report.loopDelay.worstMs);
    }
    // Stopping again is the same stop.
    await expect(thread.stop()).resolves.toBeDefined();
  });

  it('does not start, and says why, when its consumer cannot start', async () => {
    const missing = uniqueTopics();
    const start = CollectorThread.start(
      {
        kafka: { brokers: endpoints.kafkaBrokers, clientId: 'test', instanceId: uniqueName('instance') },
        schemaRegistryUrl: endpoints.schemaRegistryUrl,
        consumerGroup: uniqueName('group'),
        topics: missing,
        limits: defaultEventLimits,
        maxEventBytes: 64 * 1024,
        logLevel: 'silent',
      },
      { store: storage.store, metrics: new PipelineMetrics(), logger: quietLogger },
    );
    await expect(start).rejects.toThrow(/^the collector thread did not start: .+/);
  });
});
