import { Kafka, Partitioners, logLevel, type Consumer, type Producer, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import {
  BatchAbandonedError,
  type BatchHandler,
  type BatchOutput,
  type ConsumerEvents,
  type OutgoingRecord,
  type RecordConsumer,
  type RecordProducer,
  type RecordTransport,
  type TopicSpec,
} from '../transport/record-transport.js';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Upper bound of one fetch per partition; larger batches mean fewer, larger inserts. */
  maxBytesPerPartition?: number;
  /** Names this process among a group's consumers; must stay the same across its restarts. */
  instanceId: string;
  /** How many partitions' batches are handled at once (default 3). */
  partitionsConsumedConcurrently?: number;
  /**
   * How long the group waits for this member to rejoin once a rebalance starts (default 60 s). A
   * batch still running then is given up uncommitted, since its partition may already be elsewhere.
   */
  rebalanceTimeoutMs?: number;
}

const MAX_COMMIT_ATTEMPTS = 10;
const HEARTBEAT_INTERVAL_MS = 1_000;

function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && (error as { retriable: unknown }).retriable === true;
}

const kafkaLogLevels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export class KafkaTransport implements RecordTransport {
  private readonly kafka: Kafka;

  constructor(private readonly options: KafkaTransportOptions) {
    const logger = options.logger.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, ...extra } = entry.log;
        // kafkajs's connections log every error response at error level, the retriable ones too
        // (CONCURRENT_TRANSACTIONS right after a commit): the request's caller retries it or fails
        // and says so, so the response itself is only worth a debug line.
        const level = entry.namespace === 'Connection' && message.startsWith('Response ') ? 'debug' : (kafkaLogLevels[entry.level] ?? 'info');
        logger[level]({ namespace: entry.namespace, ...extra }, message);
      },
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic.name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions, replicationFactor: -1 })),
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  createConsumer(groupId: string): RecordConsumer {
    // A transactional id that is stable across restarts lets a restarted collector fence the
    // transaction its killed predecessor left open instead of waiting for it to time out.
    const transactionalProducer = this.kafka.producer({
      transactionalId: `${groupId}.${this.options.instanceId}`,
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, so that a stop during a Kafka outage ends (kafkajs warns that idempotence prefers
      // unbounded retries); a transaction that gives up is aborted and its batch comes again.
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2_000 },
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    return new KafkaRecordConsumer(
      groupId,
      transactionalProducer,
      this.kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        maxBytesPerPartition: this.options.maxBytesPerPartition ?? 8 * 1024 * 1024,
        maxBytes: 64 * 1024 * 1024,
        maxWaitTimeInMs: 250,
        // A short session lets the group move a crashed collector's partitions on within seconds;
        // long retries inside a batch heartbeat, so they do not expire it.
        sessionTimeout: 10_000,
        rebalanceTimeout: this.options.rebalanceTimeoutMs ?? 60_000,
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      }),
      this.options.partitionsConsumedConcurrently ?? 3,
      this.options.logger.child({ component: 'kafka-consumer', group: groupId }),
    );
  }

  async createProducer(): Promise<RecordProducer> {
    const producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new KafkaRecordProducer(producer);
  }

  async close(): Promise<void> {}
}

class KafkaRecordConsumer implements RecordConsumer {
  /** One transaction at a time on the producer: commits of concurrent batches queue here. */
  private commitQueue: Promise<void> = Promise.resolve();
  private readonly membership: GroupMembership;

  constructor(
    private readonly groupId: string,
    private readonly transactionalProducer: Producer,
    private readonly consumer: Consumer,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {
    this.membership = new GroupMembership(consumer, logger);
  }

  async start(topics: readonly string[], handler: BatchHandler, events: ConsumerEvents = {}): Promise<void> {
    const { onAssignment } = events;
    if (onAssignment) {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => onAssignment(new Map(Object.entries(event.payload.memberAssignment))));
    }
    await this.transactionalProducer.connect();
    await this.consumer.connect();
    // A new group starts at the earliest offset: events published before the collector first ran are not lost.
    await this.consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Batches of different partitions overlap: one decodes while another waits for its insert.
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.isEmpty()) return;
        const generation = this.membership.generation;
        const owned = (): boolean => isRunning() && !isStale() && this.membership.holds(generation);
        // Heartbeats go on whatever the batch waits for (an insert, the registry, the commit queue),
        // so that a slow step never costs the group membership.
        const beating = this.membership.keepAlive(heartbeat);
        try {
          const result = await handler(
            {
              topic: batch.topic,
              partition: batch.partition,
              lag: Number(batch.offsetLag()),
              records: batch.messages.map((message) => ({
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                key: message.key,
                value: message.value,
                headers: textHeaders(message.headers),
                timestamp: Number(message.timestamp),
              })),
            },
            { heartbeat: () => this.membership.beat(heartbeat), isActive: owned },
          );
          const lastOffset = batch.lastOffset();
          const commit = this.commitQueue.then(async () => {
            // The last check before the transaction: kafkajs commits offsets without the group's
            // generation, so nothing on the broker stops a member that lost the partition from
            // moving its offset back or publishing its dead letters a second time.
            await this.membership.beat(heartbeat);
            if (!owned()) throw this.givenUp(batch.topic, batch.partition);
            await this.commitWithOutputs(batch.topic, batch.partition, (BigInt(lastOffset) + 1n).toString(), result.outputs);
          });
          this.commitQueue = commit.catch(() => {});
          await commit;
          resolveOffset(lastOffset);
          result.onCommitted?.();
        } catch (error) {
          // A lost membership is rethrown as kafkajs' own error, which makes it rejoin the group at once.
          throw this.membership.lostError(generation) ?? error;
        } finally {
          beating.stop();
        }
      },
    });
  }

  private givenUp(topic: string, partition: number): Error {
    this.logger.info({ topic, partition }, 'batch given up uncommitted: the partition may belong to another member now');
    return new BatchAbandonedError(topic, partition);
  }

  /**
   * Dead letters and the offset commit become visible together or not at all (read_committed). A
   * transaction the broker refuses with a retriable error (e.g. CONCURRENT_TRANSACTIONS while it
   * still writes the markers of the previous one) is aborted and made again, a bounded number of times.
   */
  private async commitWithOutputs(topic: string, partition: number, nextOffset: string, outputs: readonly BatchOutput[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const transaction = await this.transactionalProducer.transaction();
      try {
        for (const output of outputs) {
          if (output.records.length === 0) continue;
          await transaction.send({
            topic: output.topic,
            messages: output.records.map((record) => ({ key: record.key, value: record.value, headers: record.headers })),
          });
        }
        await transaction.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
        await transaction.commit();
        return;
      } catch (error) {
        await transaction.abort().catch(() => {});
        if (attempt >= MAX_COMMIT_ATTEMPTS || !isRetriable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.transactionalProducer.disconnect();
  }
}

/** kafkajs error types that mean this member's view of the group is out of date. */
const MEMBERSHIP_LOST_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);

/**
 * Whether this consumer still holds the partitions it was given. Every heartbeat of any batch
 * feeds it; a heartbeat refused because the group is rebalancing, or because the member is unknown,
 * marks the current generation lost, so every batch of that generation is given up uncommitted.
 * The next join starts a new generation.
 */
class GroupMembership {
  generation = 0;
  private lost: { generation: number; error: Error } | null = null;

  constructor(
    consumer: Consumer,
    private readonly logger: Logger,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.generation += 1;
      this.lost = null;
    });
  }

  holds(generation: number): boolean {
    return generation === this.generation && this.lost === null;
  }

  lostError(generation: number): Error | null {
    return this.lost !== null && this.lost.generation === generation ? this.lost.error : null;
  }

  /** One heartbeat (kafkajs sends it unless one went out within the heartbeat interval). */
  async beat(heartbeat: () => Promise<void>): Promise<void> {
    const generation = this.generation;
    try {
      await heartbeat();
    } catch (error) {
      const type = typeof error === 'object' && error !== null && 'type' in error ? String((error as { type: unknown }).type) : '';
      if (MEMBERSHIP_LOST_TYPES.has(type)) {
        if (this.lost === null && generation === this.generation) {
          this.lost = { generation, error: error as Error };
          this.logger.info({ reason: type }, 'group membership lost; batches in flight are given up uncommitted');
        }
        return;
      }
      // Any other failure (the coordinator unreachable for a moment) says nothing about ownership yet.
      this.logger.debug({ error: error instanceof Error ? error.message : String(error) }, 'heartbeat failed');
    }
  }

  /** Heartbeats every interval until stopped. */
  keepAlive(heartbeat: () => Promise<void>): { stop(): void } {
    const timer = setInterval(() => void this.beat(heartbeat), HEARTBEAT_INTERVAL_MS);
    return { stop: () => clearInterval(timer) };
  }
}

class KafkaRecordProducer implements RecordProducer {
  constructor(private readonly producer: Producer) {}

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({
      topic,
      acks: -1,
      messages: records.map((record) => ({ key: record.key, value: record.value, headers: record.headers })),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

function textHeaders(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) text[name] = last.toString();
  }
  return text;
}
