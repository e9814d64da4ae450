import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { loadConfig } from '../../services/config/vigil-config.js';
import { startVigil, type RunningVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { groupCaughtUp, parseMetrics, sumMetric } from '../support/kafka-inspection.js';
import { kafkaCollectorEnvironment, quietLogger, uniqueTopics, waitFor } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';

const EVENTS = 6_000;

describe('two collectors started with defaults on one host', () => {
  const endpoints = stackEndpoints();
  const running: RunningVigil[] = [];
  afterAll(async () => {
    for (const vigil of running) await vigil.stop();
  });

  it('both consume and commit: neither fences the other', async () => {
    const topics = uniqueTopics();
    const storage = testStorageTarget();
    const group = uniqueName('group');
    const runId = randomBytes(4).toString('hex');
    const environment = kafkaCollectorEnvironment({ endpoints, topics, group, instanceId: 'unused', storage, httpPort: 0 });
    delete environment.VIGIL_INSTANCE_ID;
    const config = loadConfig(environment);
    expect(config.instanceId).toBeUndefined();
    for (let instance = 0; instance < 2; instance++) running.push(await startVigil(config, ['collector'], quietLogger, vigilTargets));

    const producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
    try {
      const schemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
      const type = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
      await producer.send(
        topics.predictions,
        Array.from({ length: EVENTS }, (_, index) => ({ key: `${runId}-${index}`, value: ForeignProducer.frame(schemaId, type, foreignPrediction(index, runId)) })),
      );
    } finally {
      await producer.close();
    }

    await waitFor(() => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions]), 60_000, 'the group to commit every partition');
    const client = createStorageClient(storage);
    try {
      expect(await new EventStore(client, storage).count('predictions')).toBe(EVENTS);
    } finally {
      await client.close();
    }
    const consumedBy = await Promise.all(running.map(async (vigil) => sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_events_consumed_total')));
    // Each holds some of the three partitions and commits what it consumed; together, every event once.
    for (const consumed of consumedBy) expect(consumed).toBeGreaterThan(0);
    expect(consumedBy.reduce((sum, consumed) => sum + consumed, 0)).toBe(EVENTS);
  }, 120_000);
});
