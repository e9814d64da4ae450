import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessTransport } from '../../services/adapters/in-process/in-process-transport.js';
import { frameWithSchemaId } from '../../services/adapters/schema-registry/wire-format.js';
import { DEAD_LETTER_HEADERS } from '../../services/collector/dead-letter.js';
import { sampleOutcome, samplePrediction } from '../support/sample-events.js';
import { counterValue, embeddedCollector, openTestStorage, uniqueTopics, waitFor, type StorageHarness } from '../support/pipeline-harness.js';

describe('collector on the in-process transport and real ClickHouse', () => {
  let storage: StorageHarness;
  beforeEach(async () => {
    storage = await openTestStorage();
  });
  afterEach(async () => {
    await storage.close();
  });

  it('stores every good event with lineage and dead-letters each bad one with its reason', async () => {
    const topics = uniqueTopics();
    const transport = new InProcessTransport();
    const { codec, metrics, collector } = await embeddedCollector(storage.store, topics);
    const producer = await transport.createProducer();
    const predictions = await Promise.all(Array.from({ length: 500 }, (_, index) => codec.encodePrediction(topics.predictions, samplePrediction(index))));
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, index) => codec.encodeOutcome(topics.outcomes, sampleOutcome(index))));
    const invalid = await codec.encodePrediction(topics.predictions, samplePrediction(9999, { score: 1.5 }));
    await producer.send(topics.predictions, [
      ...predictions.slice(0, 250).map((value) => ({ key: null, value })),
      { key: null, value: Buffer.from('random bytes, not Avro') },
      { key: null, value: frameWithSchemaId(4242, Buffer.from([2, 4, 6])) },
      { key: null, value: invalid },
      ...predictions.slice(250).map((value) => ({ key: null, value })),
    ]);
    await producer.send(topics.outcomes, outcomes.map((value) => ({ key: null, value })));

    const consumer = transport.createConsumer('collector');
    await consumer.start([topics.predictions, topics.outcomes], collector.handleBatch);
    await waitFor(async () => (await counterValue(metrics, 'eventsConsumed')) === 803, 20_000, 'all records consumed');
    await consumer.stop();

    expect(await storage.store.count('predictions')).toBe(500);
    expect(await storage.store.count('outcomes')).toBe(300);
    const lineage = await storage.client.query({
      query: `SELECT min(source_offset) AS first, max(source_offset) AS last, uniqExact(source_offset) AS offsets, any(source_topic) AS topic, any(schema_id) AS schema FROM ${storage.target.database}.predictions FINAL`,
      format: 'JSONEachRow',
    });
    // Offsets 250-252 hold the three rejected records. A server quotes 64-bit integers, chDB does not.
    const [summary] = await lineage.json<Record<string, string | number>>();
    expect({ ...summary, first: Number(summary?.first), last: Number(summary?.last), offsets: Number(summary?.offsets) }).toEqual({
      first: 0,
      last: 502,
      offsets: 500,
      topic: topics.predictions,
      schema: 1,
    });

    const deadLetters = transport.read(topics.deadLetters, 0, 100);
    expect(deadLetters.map((record) => record.value?.toString('latin1'))).toEqual([
      'random bytes, not Avro',
      frameWithSchemaId(4242, Buffer.from([2, 4, 6])).toString('latin1'),
      invalid.toString('latin1'),
    ]);
    expect(deadLetters.map((record) => [record.headers[DEAD_LETTER_HEADERS.reason], record.headers[DEAD_LETTER_HEADERS.sourceOffset]])).toEqual([
      ['not-wire-format', '250'],
      ['unknown-schema', '251'],
      ['invalid-event', '252'],
    ]);
    expect(deadLetters[2]?.headers[DEAD_LETTER_HEADERS.detail]).toBe('score must be a finite probability in [0, 1]');
    expect(await counterValue(metrics, 'eventsRejected', { reason: 'not-wire-format' })).toBe(1);
    expect(await counterValue(metrics, 'eventsRejected', { reason: 'unknown-schema' })).toBe(1);
    expect(await counterValue(metrics, 'eventsRejected', { reason: 'invalid-event' })).toBe(1);
    expect(await counterValue(metrics, 'eventsStored', { table: 'predictions' })).toBe(500);
  });

  it('keeps one row per event when a batch is delivered again after a crash', async () => {
    const topics = uniqueTopics();
    const { codec, collector } = await embeddedCollector(storage.store, topics);
    const records = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => ({
        topic: topics.predictions,
        partition: 0,
        offset: String(index),
        key: null,
        value: await codec.encodePrediction(topics.predictions, samplePrediction(index)),
        headers: {},
        timestamp: Date.now(),
      })),
    );
    const control = { heartbeat: async () => {}, isActive: () => true };
    await collector.handleBatch({ topic: topics.predictions, partition: 0, records, lag: 0 }, control);
    // Redelivery overlaps the first delivery and runs past it, as after a crash before the commit.
    await collector.handleBatch({ topic: topics.predictions, partition: 0, records: records.slice(100), lag: 0 }, control);
    await collector.handleBatch({ topic: topics.predictions, partition: 0, records, lag: 0 }, control);
    expect(await storage.store.count('predictions')).toBe(200);
    // A plain count, as an operator or a dashboard would write it, is exact too; the duplicate rows
    // are there until a merge, as reading without FINAL shows.
    const count = async (query: string): Promise<number> => Number((await (await storage.client.query({ query, format: 'JSONEachRow' })).json<{ rows: string }>())[0]?.rows);
    expect(await count(`SELECT count() AS rows FROM ${storage.target.database}.predictions`)).toBe(200);
    expect(await count(`SELECT count() AS rows FROM ${storage.target.database}.predictions SETTINGS final = 0`)).toBeGreaterThan(200);
    // final = 0 above is kept by chDB's session: the exact default comes back with the next query's settings.
    expect(await count(`SELECT count() AS rows FROM ${storage.target.database}.predictions`)).toBe(200);
  });

  it('retries without committing while storage refuses writes, and loses nothing', async () => {
    const topics = uniqueTopics();
    const transport = new InProcessTransport();
    const { codec, metrics, collector } = await embeddedCollector(storage.store, topics);
    const producer = await transport.createProducer();
    const consumer = transport.createConsumer('collector');
    await consumer.start([topics.predictions, topics.outcomes], collector.handleBatch);

    await storage.client.command({ query: `DETACH TABLE ${storage.target.database}.predictions` });
    const values = await Promise.all(Array.from({ length: 300 }, (_, index) => codec.encodePrediction(topics.predictions, samplePrediction(index))));
    await producer.send(topics.predictions, values.map((value) => ({ key: null, value })));
    await waitFor(async () => (await metrics.storageWriteFailures.get()).values.some((sample) => sample.value >= 3), 10_000, 'failed insert attempts');
    expect(collector.storageHealth.isUp).toBe(false);
    expect(transport.committedOffset('collector', topics.predictions)).toBe(0);

    await storage.client.command({ query: `ATTACH TABLE ${storage.target.database}.predictions` });
    await waitFor(() => transport.committedOffset('collector', topics.predictions) === 300, 10_000, 'the batch to commit after storage returned');
    await consumer.stop();
    expect(collector.storageHealth.isUp).toBe(true);
    expect(await storage.store.count('predictions')).toBe(300);
    expect(await counterValue(metrics, 'eventsRejected')).toBe(0);
  });
  it('dead-letters the rows ClickHouse itself refuses, alone, and stores and commits everything else', async () => {
    const topics = uniqueTopics();
    const transport = new InProcessTransport();
    const { codec, metrics, collector } = await embeddedCollector(storage.store, topics);
    // A constraint stands for any row that passes Vigil's checks and that ClickHouse still refuses.
    await storage.client.command({
      query: `ALTER TABLE ${storage.target.database}.predictions ADD CONSTRAINT refuse_marked_version CHECK model_version != 'refused-by-clickhouse'`,
    });
    const refusedIndexes = [0, 137, 138, 299];
    const values = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        codec.encodePrediction(topics.predictions, samplePrediction(index, refusedIndexes.includes(index) ? { model_version: 'refused-by-clickhouse' } : {})),
      ),
    );
    const producer = await transport.createProducer();
    await producer.send(topics.predictions, values.map((value) => ({ key: null, value })));
    const consumer = transport.createConsumer('collector');
    await consumer.start([topics.predictions, topics.outcomes], collector.handleBatch);
    await waitFor(() => transport.committedOffset('collector', topics.predictions) === 300, 20_000, 'the partition to move past the refused rows');
    await consumer.stop();

    expect(await storage.store.count('predictions')).toBe(296);
    const deadLetters = transport.read(topics.deadLetters, 0, 100);
    expect(deadLetters.map((record) => record.headers[DEAD_LETTER_HEADERS.sourceOffset])).toEqual(refusedIndexes.map(String));
    expect(deadLetters.map((record) => record.value)).toEqual(refusedIndexes.map((index) => values[index]));
    for (const record of deadLetters) {
      expect(record.headers[DEAD_LETTER_HEADERS.reason]).toBe('storage-rejected');
      expect(record.headers[DEAD_LETTER_HEADERS.detail]).toBe('ClickHouse refused the row: ClickHouse error VIOLATED_CONSTRAINT (code 469)');
    }
    expect(await counterValue(metrics, 'eventsRejected', { reason: 'storage-rejected' })).toBe(4);
    expect(await counterValue(metrics, 'eventsStored', { table: 'predictions' })).toBe(296);
    // Splitting costs a few inserts per refused row (about log2 of the batch), not one per row.
    const failedInserts = (await metrics.storageWriteFailures.get()).values.reduce((sum, sample) => sum + sample.value, 0);
    expect(failedInserts).toBeLessThanOrEqual(refusedIndexes.length * Math.ceil(Math.log2(300)) + 1);
    expect(collector.storageHealth.isUp).toBe(true);
  });
});
