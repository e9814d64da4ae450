import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { loadConfig } from '../../services/config/vigil-config.js';
import { DEAD_LETTER_HEADERS } from '../../services/collector/dead-letter.js';
import { startVigil, type RunningVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { readTopic } from '../support/kafka-inspection.js';
import { kafkaCollectorEnvironment, quietLogger, uniqueTopics, waitFor } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';

const GOOD_EVENTS = 2_000;

/** Avro's zig-zag varint, for any 64-bit value. */
function varint(value: bigint): Buffer {
  let unsigned = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(unsigned & 0x7fn);
    unsigned >>= 7n;
    bytes.push(unsigned > 0n ? low | 0x80 : low);
  } while (unsigned > 0n);
  return Buffer.from(bytes);
}
const text = (value: string): Buffer => Buffer.concat([varint(BigInt(Buffer.byteLength(value))), Buffer.from(value)]);

/**
 * Bodies for the registered prediction schema, written field by field as a hostile producer would:
 * valid up to one count or length that declares far more than the record holds.
 */
function decoderBombs(): Array<{ name: string; body: Buffer }> {
  const head = Buffer.concat([text('e'), text('m'), text('v'), text('p'), varint(BigInt(Date.now())), text('k')]);
  const oneFeature = Buffer.concat([text('a'), varint(0n)]); // key "a", union branch 0 (null)
  const validFeatures = Buffer.concat([varint(1n), oneFeature, varint(0n)]);
  const scoreAndOptionals = Buffer.concat([Buffer.alloc(8), varint(0n), varint(0n)]); // score 0.0, two null unions
  const bombs: Array<{ name: string; body: Buffer }> = [];
  for (const [name, count] of [['2^40', 2n ** 40n], ['2^62', 2n ** 62n], ['largest long', 2n ** 63n - 1n]] as const) {
    bombs.push({ name: `features map of ${name} entries`, body: Buffer.concat([head, varint(count), oneFeature]) });
    bombs.push({ name: `segments map of ${name} entries`, body: Buffer.concat([head, validFeatures, scoreAndOptionals, varint(count), text('site')]) });
    bombs.push({ name: `event_id of ${name} bytes`, body: Buffer.concat([varint(count), Buffer.from('abc')]) });
  }
  bombs.push({ name: 'negative features block count with a huge byte size', body: Buffer.concat([head, varint(-(2n ** 40n)), varint(2n ** 40n), oneFeature]) });
  bombs.push({ name: 'negative features block count with a negative byte size', body: Buffer.concat([head, varint(-1n), varint(-2n), oneFeature]) });
  bombs.push({ name: 'eleven-byte varint', body: Buffer.concat([head, Buffer.alloc(10, 0xff), Buffer.from([0x01])]) });
  bombs.push({ name: 'union branch 200 for a feature value', body: Buffer.concat([head, varint(1n), text('a'), varint(200n), varint(0n)]) });
  return bombs;
}

describe('a hostile producer on the registered prediction schema', () => {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const storage = testStorageTarget();
  const group = uniqueName('group');
  const runId = randomBytes(4).toString('hex');
  let vigil: RunningVigil;
  let producer: ForeignProducer;

  beforeAll(async () => {
    vigil = await startVigil(loadConfig(kafkaCollectorEnvironment({ endpoints, topics, group, instanceId: runId, storage, httpPort: 0 })), ['collector'], quietLogger, vigilTargets);
    producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
  });
  afterAll(async () => {
    await producer?.close();
    await vigil?.stop();
  });

  it('gets every decoder bomb and truncated body dead-lettered within seconds, every good event stored, and the collector keeps its membership', async () => {
    const schemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const type = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
    const valid = type.toBuffer(foreignPrediction(0, runId, { event_id: `${runId}-truncated` }));
    const hostile = [
      ...decoderBombs(),
      ...[1, 5, 12, 30, valid.length - 9, valid.length - 1].map((length) => ({ name: `valid body cut to ${length} bytes`, body: valid.subarray(0, length) })),
    ];

    // Watch the group from here: a collector whose thread hangs stops heartbeating and is dropped.
    const admin = new Kafka({ clientId: 'hostile-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const members = async (): Promise<string[]> => (await admin.describeGroups([group])).groups[0]?.members.map((member) => member.memberId) ?? [];
    await waitFor(async () => (await members()).length === 1, 30_000, 'the collector to join its group');
    const [memberId] = await members();
    const membershipSnapshots: string[][] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        membershipSnapshots.push(await members());
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    try {
      const sentAt = Date.now();
      const framed = hostile.map((bomb) => ForeignProducer.frameBody(schemaId, bomb.body));
      await producer.send(topics.predictions, framed.map((value, index) => ({ key: `${runId}-hostile-${index}`, value })));
      await producer.send(
        topics.predictions,
        Array.from({ length: GOOD_EVENTS }, (_, index) => ({ key: `${runId}-${index}`, value: ForeignProducer.frame(schemaId, type, foreignPrediction(index, runId)) })),
      );

      const deadLetters = await readTopic(endpoints.kafkaBrokers, topics.deadLetters, hostile.length, { timeoutMs: 30_000, settleMs: 1_000 });
      const deadLetteredWithin = Date.now() - sentAt;
      expect(deadLetters).toHaveLength(hostile.length);
      for (const record of deadLetters) {
        expect(record.headers[DEAD_LETTER_HEADERS.reason]).toBe('undecodable');
        // The detail names the field (or the body) at fault, never a value of the record.
        expect(record.headers[DEAD_LETTER_HEADERS.detail]).toMatch(/^(event_id|model_id|model_version|prediction_id|occurred_at|entity_key|features|score|segments|producer|input_hash|<body>)\b/);
      }
      expect(new Set(deadLetters.map((record) => record.value.toString('hex')))).toEqual(new Set(framed.map((value) => value.toString('hex'))));
      expect(deadLetteredWithin).toBeLessThan(30_000);

      const client = createStorageClient(storage);
      try {
        await waitFor(async () => (await new EventStore(client, storage).count('predictions')) === GOOD_EVENTS, 30_000, 'every good event stored');
      } finally {
        await client.close();
      }
    } finally {
      watching = false;
      await watcher;
      await admin.disconnect();
    }
    // One member, the same one, all along: no session expired, no rebalance.
    expect(membershipSnapshots.length).toBeGreaterThan(0);
    for (const snapshot of membershipSnapshots) expect(snapshot).toEqual([memberId]);
  }, 120_000);
});
