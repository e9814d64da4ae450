import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow, EventTable } from '../../services/adapters/clickhouse/event-store.js';
import { KafkaTransport } from '../../services/adapters/kafka/kafka-transport.js';
import { ConfluentSchemaSource } from '../../services/adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../../services/adapters/schema-registry/event-codec.js';
import { PipelineMetrics } from '../../services/adapters/telemetry/pipeline-metrics.js';
import type { PartitionAssignment, RecordConsumer } from '../../services/adapters/transport/record-transport.js';
import { defaultEventLimits } from '../../services/core/events/event-validation.js';
import { Collector } from '../../services/collector/collector.js';
import { DEAD_LETTER_HEADERS } from '../../services/collector/dead-letter.js';
import type { EventSink } from '../../services/collector/event-sink.js';
import { capturingLogger } from '../support/captured-logs.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { committedOffsets, groupCaughtUp, readTopic } from '../support/kafka-inspection.js';
import { openTestStorage, uniqueTopics, waitFor, type StorageHarness } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { uniqueName } from '../support/test-storage.js';

const PARTITIONS = 3;
const REBALANCE_TIMEOUT_MS = 6_000;
/** Longer than the rebalance timeout: the group gives the slow member's partitions to the other one meanwhile. */
const SLOW_INSERT_MS = 10_000;
const WAVE = 1_500;
const MALFORMED_PER_WAVE = 6;

/** The real event store, whose first insert takes longer than the group waits for a member. */
class SlowFirstInsertSink implements EventSink {
  private slowed = false;
  readonly slowInsertStarted: Promise<void>;
  readonly slowInsertFinished: Promise<void>;
  private markStarted!: () => void;
  private markFinished!: () => void;

  constructor(private readonly sink: EventSink) {
    this.slowInsertStarted = new Promise((resolve) => (this.markStarted = resolve));
    this.slowInsertFinished = new Promise((resolve) => (this.markFinished = resolve));
  }

  async insert(table: EventTable, rows: readonly EventRow[]): Promise<void> {
    if (!this.slowed) {
      this.slowed = true;
      this.markStarted();
      await new Promise((resolve) => setTimeout(resolve, SLOW_INSERT_MS));
      this.markFinished();
    }
    await this.sink.insert(table, rows);
  }
}

describe('a rebalance in the middle of a slow batch', () => {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const group = uniqueName('group');
  const runId = randomBytes(4).toString('hex');
  const predictionType = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
  let storage: StorageHarness;
  let producer: ForeignProducer;
  const consumers: RecordConsumer[] = [];
  /** Each member's latest assignment from the group, as its collector was told. */
  const assignments = new Map<string, PartitionAssignment>();

  beforeAll(async () => {
    storage = await openTestStorage();
    producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
  });

  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop().catch(() => {});
    await producer?.close();
    await storage?.close();
  });

  async function startMember(name: string, sink: EventSink, logger: pino.Logger): Promise<void> {
    const transport = new KafkaTransport({ brokers: endpoints.kafkaBrokers, clientId: `rebalance-${name}`, instanceId: `${runId}-${name}`, logger, rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS });
    await transport.ensureTopics([topics.predictions, topics.outcomes, topics.deadLetters].map((topic) => ({ name: topic, partitions: PARTITIONS })));
    const codec = new EventCodec(new ConfluentSchemaSource(endpoints.schemaRegistryUrl));
    const collector = new Collector({ codec, sink, metrics: new PipelineMetrics(), logger, topics, limits: defaultEventLimits, maxEventBytes: 64 * 1024 });
    const consumer = transport.createConsumer(group);
    consumers.push(consumer);
    await consumer.start([topics.predictions, topics.outcomes], collector.handleBatch, {
      onAssignment: (assignment) => {
        assignments.set(name, assignment);
        collector.assigned(assignment);
      },
    });
  }

  it('moves no committed offset backwards and publishes no dead letter twice', async () => {
    const schemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const wave = async (first: number): Promise<void> => {
      const good = Array.from({ length: WAVE }, (_, index) => ({ key: `${runId}-${first + index}`, value: ForeignProducer.frame(schemaId, predictionType, foreignPrediction(first + index, runId)) }));
      // A first byte other than the magic 0: dead letters, one per partition key spread.
      const malformed = Array.from({ length: MALFORMED_PER_WAVE }, (_, index) => ({ key: `${runId}-bad-${first + index}`, value: Buffer.from(`\u00ffnot an event ${first + index}`) }));
      await producer.send(topics.predictions, [...malformed, ...good]);
    };

    const slowMember = capturingLogger();
    const slowSink = new SlowFirstInsertSink(storage.store);
    // Topics exist before the first wave: the slow member creates them.
    await startMember('slow', slowSink, slowMember.logger);
    await wave(0);
    await slowSink.slowInsertStarted;

    // Watch the committed offsets from here to the end: none may ever go down.
    const history: string[][] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        history.push(await committedOffsets(endpoints.kafkaBrokers, group, topics.predictions));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    await startMember('other', storage.store, pino({ level: 'silent' }));
    await wave(WAVE);
    await waitFor(async () => (await storage.store.count('predictions')) === 2 * WAVE, 60_000, 'every good event stored');
    await waitFor(() => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions]), 60_000, 'the group to commit every partition');
    // The slow member's batch ends long after its partition moved: give it time to try to commit.
    await slowSink.slowInsertFinished;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    watching = false;
    await watcher;

    expect(slowMember.lines.map((line) => line.msg)).toContain('group membership lost; batches in flight are given up uncommitted');
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const offsets = history.map((snapshot) => BigInt(snapshot[partition] ?? '-1'));
      for (let index = 1; index < offsets.length; index++) expect(offsets[index]).toBeGreaterThanOrEqual(offsets[index - 1] as bigint);
    }
    expect(await groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions])).toBe(true);

    const deadLetters = await readTopic(endpoints.kafkaBrokers, topics.deadLetters, 2 * MALFORMED_PER_WAVE, { settleMs: 2_000 });
    const sources = deadLetters.map((record) => `${record.headers[DEAD_LETTER_HEADERS.sourcePartition]}/${record.headers[DEAD_LETTER_HEADERS.sourceOffset]}`);
    expect(sources).toHaveLength(2 * MALFORMED_PER_WAVE);
    expect(new Set(sources).size).toBe(2 * MALFORMED_PER_WAVE);
    expect(await storage.store.count('predictions')).toBe(2 * WAVE);

    // After the rebalance each member was told its share: the two hold every partition of each topic, once.
    expect([...assignments.keys()].sort()).toEqual(['other', 'slow']);
    for (const topic of [topics.predictions, topics.outcomes]) {
      const held = [...assignments.values()].flatMap((assignment) => [...(assignment.get(topic) ?? [])]).sort();
      expect(held, topic).toEqual(Array.from({ length: PARTITIONS }, (_, partition) => partition));
    }
  }, 120_000);
});
