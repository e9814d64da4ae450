import { Kafka, Partitioners, logLevel, type Consumer, type Producer, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type {
  BatchHandler,
  BatchOutput,
  OutgoingRecord,
  RecordConsumer,
  RecordProducer,
  RecordTransport,
  TopicSpec,
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
}

const MAX_COMMIT_ATTEMPTS = 10;

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
        logger[kafkaLogLevels[entry.level] ?? 'info']({ namespace: entry.namespace, ...extra }, message);
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
        heartbeatInterval: 1_000,
      }),
      this.options.partitionsConsumedConcurrently ?? 3,
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

  constructor(
    private readonly groupId: string,
    private readonly transactionalProducer: Producer,
    private readonly consumer: Consumer,
    private readonly concurrency: number,
  ) {}

  async start(topics: readonly string[], handler: BatchHandler): Promise<void> {
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
          { heartbeat, isActive: () => isRunning() && !isStale() },
        );
        const lastOffset = batch.lastOffset();
        const commit = this.commitQueue.then(() => this.commitWithOutputs(batch.topic, batch.partition, (BigInt(lastOffset) + 1n).toString(), result.outputs));
        this.commitQueue = commit.catch(() => {});
        await commit;
        resolveOffset(lastOffset);
        result.onCommitted?.();
      },
    });
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
