/**
 * The event transport as the collector and publishers see it: Kafka in production, an in-process
 * log in the embedded mode. Both keep Kafka's semantics that matter here: ordered partitions,
 * offsets committed per consumer group, redelivery of everything after the last commit.
 */

export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Kafka offsets exceed 2^53 in theory; kept as the decimal string kafkajs uses. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker or producer timestamp, epoch ms. */
  timestamp: number;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** Records still behind the last one of this batch in the partition. */
  lag: number;
}

export interface BatchControl {
  /** Keeps the consumer's group membership alive during long work on a batch. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch was revoked: abandon it uncommitted. */
  isActive(): boolean;
}

/** The batch was given up because the consumer is stopping or lost the partition; it will come again. */
export class BatchAbandonedError extends Error {
  readonly retriable = true;
  constructor(topic: string, partition: number) {
    super(`batch of ${topic}/${partition} abandoned uncommitted: the consumer is stopping or lost the partition`);
    this.name = 'BatchAbandonedError';
  }
}

/** Records a batch produces to other topics (dead letters), published together with its commit. */
export interface BatchOutput {
  topic: string;
  records: OutgoingRecord[];
}

/** What handling a batch produced. */
export interface BatchResult {
  outputs: BatchOutput[];
  /** Called once the outputs and the offset are committed; not called for a batch that will come again. */
  onCommitted?: () => void;
}

/**
 * Handles one batch. When the handler resolves, the consumer publishes its outputs and commits the
 * offset after the batch's last record as one atomic step (a Kafka transaction); when it rejects,
 * nothing is published or committed and the records are delivered again.
 */
export type BatchHandler = (batch: RecordBatch, control: BatchControl) => Promise<BatchResult>;

/** The partitions a consumer holds, per topic. */
export type PartitionAssignment = ReadonlyMap<string, readonly number[]>;

export interface ConsumerEvents {
  /** Called each time the group gives this consumer its partitions (after every rebalance). */
  onAssignment?: (assignment: PartitionAssignment) => void;
}

export interface RecordConsumer {
  /** Subscribes to the topics and starts delivering batches; resolves once running. */
  start(topics: readonly string[], handler: BatchHandler, events?: ConsumerEvents): Promise<void>;
  stop(): Promise<void>;
}

export interface OutgoingRecord {
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface RecordProducer {
  /** Resolves once every record is acknowledged by the transport (acks=all for Kafka). */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface RecordTransport {
  /** Creates missing topics; existing ones are left as they are. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  createConsumer(groupId: string): RecordConsumer;
  createProducer(): Promise<RecordProducer>;
  close(): Promise<void>;
}
