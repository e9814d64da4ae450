import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { loadConfig } from '../../services/config/vigil-config.js';
import { DEAD_LETTER_HEADERS } from '../../services/collector/dead-letter.js';
import { startVigil, type RunningVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { ForeignProducer, foreignOutcome, foreignPrediction } from '../support/foreign-producer.js';
import { committedOffsets, groupCaughtUp, parseMetrics, readTopic, sumMetric } from '../support/kafka-inspection.js';
import { kafkaCollectorEnvironment, quietLogger, uniqueTopics, waitFor } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';

const EVENTS_PER_TOPIC = 10_000;

describe('collector on real Kafka, the schema registry and ClickHouse', () => {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const storage = testStorageTarget();
  const group = uniqueName('group');
  const runId = randomBytes(4).toString('hex');
  let vigil: RunningVigil;
  let producer: ForeignProducer;
  const predictionType = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
  const outcomeType = avro.Type.forSchema(ForeignProducer.schemaFile('outcome-event.avsc') as avro.Schema);

  beforeAll(async () => {
    const config = loadConfig(kafkaCollectorEnvironment({ endpoints, topics, group, instanceId: runId, storage, httpPort: 0 }));
    vigil = await startVigil(config, ['collector'], quietLogger, vigilTargets);
    producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
  });

  afterAll(async () => {
    await producer?.close();
    await vigil?.stop();
  });

  it('stores exactly the good events with lineage; the dead-letter topic holds exactly the bad ones; /metrics agrees', async () => {
    const predictionSchemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const outcomeSchemaId = await producer.register(`${topics.outcomes}-value`, ForeignProducer.schemaFile('outcome-event.avsc'));
    const predictions = Array.from({ length: EVENTS_PER_TOPIC }, (_, index) => ({
      key: `${runId}-${index}`,
      value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(index, runId)),
    }));
    const outcomes = Array.from({ length: EVENTS_PER_TOPIC }, (_, index) => ({
      key: `${runId}-${index}`,
      value: ForeignProducer.frame(outcomeSchemaId, outcomeType, foreignOutcome(index, runId)),
    }));
    const malformedPredictions = [
      // A leading byte other than the magic 0 makes these bytes not the wire format, whatever follows.
      { reason: 'not-wire-format', value: Buffer.concat([Buffer.from([0xff]), randomBytes(63)]) },
      { reason: 'not-wire-format', value: Buffer.from('{"score": 0.4}') },
      { reason: 'unknown-schema', value: ForeignProducer.frame(987_654, predictionType, foreignPrediction(1, runId)) },
      { reason: 'undecodable', value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(2, runId)).subarray(0, 40) },
      { reason: 'invalid-event', value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(3, runId, { event_id: `${runId}-bad-score`, score: 1.7 })) },
      { reason: 'invalid-event', value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(4, runId, { event_id: `${runId}-mrn`, entity_key: '004815162342' })) },
    ];
    const malformedOutcomes = [
      { reason: 'invalid-event', value: ForeignProducer.frame(outcomeSchemaId, outcomeType, foreignOutcome(5, runId, { event_id: `${runId}-bad-label`, label: { int: 5 } })) },
      { reason: 'wrong-event-type', value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(6, runId)) },
    ];
    // Bad records sit in the middle of the stream: good events after them must keep flowing.
    await producer.send(topics.predictions, [...predictions.slice(0, 5_000), ...malformedPredictions.map(({ value }) => ({ value })), ...predictions.slice(5_000)]);
    await producer.send(topics.outcomes, [...outcomes.slice(0, 5_000), ...malformedOutcomes.map(({ value }) => ({ value })), ...outcomes.slice(5_000)]);

    await waitFor(() => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions, topics.outcomes]), 90_000, 'the collector to commit every record');

    const client = createStorageClient(storage);
    try {
      const query = async (sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
      const [predictionSummary] = await query(
        `SELECT count() AS rows, uniqExact(source_partition, source_offset) AS positions, uniqExact(event_id) AS events, groupUniqArray(source_topic) AS source_topics, groupUniqArray(schema_id) AS schema_ids, countIf(ingested_at > now64(3) - INTERVAL 1 HOUR) AS fresh FROM ${storage.database}.predictions FINAL`,
      );
      expect(Number(predictionSummary?.rows)).toBe(EVENTS_PER_TOPIC);
      expect(Number(predictionSummary?.positions)).toBe(EVENTS_PER_TOPIC);
      expect(Number(predictionSummary?.events)).toBe(EVENTS_PER_TOPIC);
      expect(predictionSummary?.source_topics).toEqual([topics.predictions]);
      expect(predictionSummary?.schema_ids).toEqual([predictionSchemaId]);
      expect(Number(predictionSummary?.fresh)).toBe(EVENTS_PER_TOPIC);
      const [outcomeSummary] = await query(
        `SELECT count() AS rows, uniqExact(source_partition, source_offset) AS positions, sum(label_value) AS positives FROM ${storage.database}.outcomes FINAL`,
      );
      expect(Number(outcomeSummary?.rows)).toBe(EVENTS_PER_TOPIC);
      expect(Number(outcomeSummary?.positions)).toBe(EVENTS_PER_TOPIC);
      expect(Number(outcomeSummary?.positives)).toBe(EVENTS_PER_TOPIC / 10);
      const [sample] = await query(
        `SELECT features_numeric['heart_rate'] AS heart_rate, features_missing, features_text['admission_source'] AS admission_source, segments['site'] AS site FROM ${storage.database}.predictions FINAL WHERE event_id = '${runId}-p-11'`,
      );
      expect(sample).toEqual({ heart_rate: 81, features_missing: ['lactate'], admission_source: 'ED', site: 'site-2' });
    } finally {
      await client.close();
    }

    const deadLetters = await readTopic(endpoints.kafkaBrokers, topics.deadLetters, malformedPredictions.length + malformedOutcomes.length);
    expect(deadLetters).toHaveLength(malformedPredictions.length + malformedOutcomes.length);
    const byOrigin = (topic: string) => deadLetters.filter((record) => record.headers[DEAD_LETTER_HEADERS.sourceTopic] === topic);
    expect(byOrigin(topics.predictions).map((record) => record.headers[DEAD_LETTER_HEADERS.reason]).sort()).toEqual(malformedPredictions.map(({ reason }) => reason).sort());
    expect(byOrigin(topics.outcomes).map((record) => record.headers[DEAD_LETTER_HEADERS.reason]).sort()).toEqual(malformedOutcomes.map(({ reason }) => reason).sort());
    const originalBytes = new Set([...malformedPredictions, ...malformedOutcomes].map(({ value }) => value.toString('base64')));
    for (const record of deadLetters) {
      expect(originalBytes.has(record.value.toString('base64'))).toBe(true);
      expect(record.headers[DEAD_LETTER_HEADERS.sourceOffset]).toMatch(/^\d+$/);
      expect(record.headers[DEAD_LETTER_HEADERS.sourcePartition]).toMatch(/^\d+$/);
      expect(record.headers[DEAD_LETTER_HEADERS.detail]?.length).toBeGreaterThan(0);
      expect(record.headers[DEAD_LETTER_HEADERS.detail]).not.toContain('004815162342');
    }

    const metrics = parseMetrics(await (await fetch(vigil.metricsUrl)).text());
    expect(sumMetric(metrics, 'vigil_events_stored_total', 'table="predictions"')).toBe(EVENTS_PER_TOPIC);
    expect(sumMetric(metrics, 'vigil_events_stored_total', 'table="outcomes"')).toBe(EVENTS_PER_TOPIC);
    expect(sumMetric(metrics, 'vigil_events_rejected_total')).toBe(deadLetters.length);
    expect(sumMetric(metrics, 'vigil_events_rejected_total', 'reason="not-wire-format"')).toBe(2);
    expect(sumMetric(metrics, 'vigil_events_consumed_total')).toBe(2 * EVENTS_PER_TOPIC + deadLetters.length);
    expect(sumMetric(metrics, 'vigil_consumer_lag')).toBe(0);
    expect(sumMetric(metrics, 'vigil_batch_insert_duration_seconds_count')).toBeGreaterThan(0);
    expect(metrics.has('process_resident_memory_bytes')).toBe(true);
  });

  it('holds its offsets while ClickHouse refuses writes, then stores everything once it is back', async () => {
    const predictionSchemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const client = createStorageClient(storage);
    try {
      const before = await committedOffsets(endpoints.kafkaBrokers, group, topics.predictions);
      await client.command({ query: `DETACH TABLE ${storage.database}.predictions` });
      await producer.send(
        topics.predictions,
        Array.from({ length: 1_000 }, (_, index) => ({ value: ForeignProducer.frame(predictionSchemaId, predictionType, foreignPrediction(100_000 + index, runId)) })),
      );
      await waitFor(async () => sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_storage_write_failures_total') >= 3, 30_000, 'failed insert attempts');
      const readiness = await fetch(vigil.metricsUrl.replace(/metrics$/, 'readyz'));
      expect(readiness.status).toBe(503);
      expect(await committedOffsets(endpoints.kafkaBrokers, group, topics.predictions)).toEqual(before);

      await client.command({ query: `ATTACH TABLE ${storage.database}.predictions` });
      await waitFor(() => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions]), 60_000, 'the held batch to commit');
      const [row] = await (await client.query({ query: `SELECT count() AS rows FROM ${storage.database}.predictions FINAL`, format: 'JSONEachRow' })).json<{ rows: number | string }>();
      expect(Number(row?.rows)).toBe(EVENTS_PER_TOPIC + 1_000);
      expect((await fetch(vigil.metricsUrl.replace(/metrics$/, 'readyz'))).status).toBe(200);
    } finally {
      await client.close();
    }
  });
});
