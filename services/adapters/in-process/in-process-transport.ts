import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type {
  BatchHandler,
  BatchOutput,
  BatchResult,
  ConsumedRecord,
  ConsumerEvents,
  OutgoingRecord,
  RecordConsumer,
  RecordProducer,
  RecordTransport,
  TopicSpec,
} from '../transport/record-transport.js';

interface StoredRecord {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

/** One partition's log; records below `firstOffset` were consumed by every group and dropped. */
interface PartitionLog {
  firstOffset: number;
  records: StoredRecord[];
}

const MAX_RECORDS_PER_BATCH = 5_000;
/** Records kept of a topic no consumer reads (the dead-letter topic): the newest, like a retention limit. */
const DEFAULT_UNREAD_TOPIC_RETENTION = 10_000;
const IDLE_WAIT_MS = 200;
const FAILED_BATCH_PAUSE_MS = 500;

export interface InProcessTransportOptions {
  logger?: Logger;
  /** How many records a topic that no consumer reads keeps, newest first (default 10,000). */
  unreadTopicRetention?: number;
}

/**
 * An in-memory event log for the embedded mode (`npm start` without Kafka). One partition per
 * topic, consumer-group offsets committed after the handler succeeds, redelivery after a failure:
 * the collector cannot tell it from Kafka. Nothing survives the process; that is what Kafka is for.
 * Memory stays bounded: records every reading group has consumed are dropped, and a topic no
 * consumer reads (the dead-letter topic) keeps only its newest records, like a Kafka retention limit.
 */
export class InProcessTransport implements RecordTransport {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly committedOffsets = new Map<string, Map<string, number>>();
  private readonly subscribedTopics = new Set<string>();
  private readonly appended = new EventEmitter();
  private readonly unreadTopicRetention: number;
  private readonly retentionAnnounced = new Set<string>();
  readonly logger: Logger | undefined;

  constructor(options: InProcessTransportOptions = {}) {
    this.appended.setMaxListeners(0);
    this.logger = options.logger;
    this.unreadTopicRetention = options.unreadTopicRetention ?? DEFAULT_UNREAD_TOPIC_RETENTION;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    for (const topic of topics) this.logFor(topic.name);
  }

  createConsumer(groupId: string): RecordConsumer {
    return new InProcessConsumer(this, groupId);
  }

  /** Marks topics as read by a consumer group: their records stay until every group consumed them. */
  subscribe(topics: readonly string[]): void {
    for (const topic of topics) this.subscribedTopics.add(topic);
  }

  async createProducer(): Promise<RecordProducer> {
    return {
      send: async (topic: string, records: readonly OutgoingRecord[]) => this.append(topic, records),
      close: async () => {},
    };
  }

  async close(): Promise<void> {
    this.appended.emit('close');
  }

  /** The records of a topic from `offset` on, at most `limit`; for consumers and for tests. */
  read(topic: string, offset: number, limit: number): ConsumedRecord[] {
    const log = this.logFor(topic);
    const start = Math.max(offset, log.firstOffset);
    const slice = log.records.slice(start - log.firstOffset, start - log.firstOffset + limit);
    return slice.map((record, index) => ({
      topic,
      partition: 0,
      offset: String(start + index),
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestamp: record.timestamp,
    }));
  }

  endOffset(topic: string): number {
    const log = this.logFor(topic);
    return log.firstOffset + log.records.length;
  }

  committedOffset(groupId: string, topic: string): number {
    return this.committedOffsets.get(groupId)?.get(topic) ?? this.logFor(topic).firstOffset;
  }

  /** Appends a batch's outputs and commits its offset in one synchronous step: nothing can interleave. */
  commitWithOutputs(groupId: string, topic: string, nextOffset: number, outputs: readonly BatchOutput[]): void {
    for (const output of outputs) this.append(output.topic, output.records);
    this.commit(groupId, topic, nextOffset);
  }

  private commit(groupId: string, topic: string, nextOffset: number): void {
    let offsets = this.committedOffsets.get(groupId);
    if (!offsets) {
      offsets = new Map();
      this.committedOffsets.set(groupId, offsets);
    }
    offsets.set(topic, nextOffset);
    this.dropConsumedRecords(topic);
  }

  waitForRecords(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.appended.off('append', done);
        this.appended.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, IDLE_WAIT_MS);
      this.appended.once('append', done);
      this.appended.once('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private append(topic: string, records: readonly OutgoingRecord[]): void {
    const log = this.logFor(topic);
    const now = Date.now();
    for (const record of records) {
      log.records.push({
        key: record.key === null ? null : Buffer.isBuffer(record.key) ? record.key : Buffer.from(record.key),
        value: record.value,
        headers: { ...record.headers },
        timestamp: now,
      });
    }
    if (!this.subscribedTopics.has(topic)) this.applyRetention(topic, log);
    if (records.length > 0) this.appended.emit('append');
  }

  private applyRetention(topic: string, log: PartitionLog): void {
    const excess = log.records.length - this.unreadTopicRetention;
    if (excess <= 0) return;
    log.records.splice(0, excess);
    log.firstOffset += excess;
    if (!this.retentionAnnounced.has(topic)) {
      this.retentionAnnounced.add(topic);
      this.logger?.warn({ topic, kept: this.unreadTopicRetention }, 'in-process log keeps only the newest records of this topic; run with Kafka to keep them all');
    }
  }

  private dropConsumedRecords(topic: string): void {
    const log = this.logFor(topic);
    let consumedByAll = Infinity;
    for (const offsets of this.committedOffsets.values()) {
      consumedByAll = Math.min(consumedByAll, offsets.get(topic) ?? log.firstOffset);
    }
    const droppable = Math.min(consumedByAll, log.firstOffset + log.records.length) - log.firstOffset;
    // Splicing the array head is linear; doing it in chunks keeps the cost amortised.
    if (droppable >= 10_000) {
      log.records.splice(0, droppable);
      log.firstOffset += droppable;
    }
  }

  private logFor(topic: string): PartitionLog {
    let log = this.logs.get(topic);
    if (!log) {
      log = { firstOffset: 0, records: [] };
      this.logs.set(topic, log);
    }
    return log;
  }
}

class InProcessConsumer implements RecordConsumer {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly transport: InProcessTransport,
    private readonly groupId: string,
  ) {}

  async start(topics: readonly string[], handler: BatchHandler, events: ConsumerEvents = {}): Promise<void> {
    this.transport.subscribe(topics);
    // One consumer per group, holding the one partition of every topic; it never rebalances.
    events.onAssignment?.(new Map(topics.map((topic) => [topic, [0]])));
    this.loop = this.consume([...topics], handler);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async consume(topics: string[], handler: BatchHandler): Promise<void> {
    const signal = this.stopping.signal;
    const control = { heartbeat: async () => {}, isActive: () => !signal.aborted };
    while (!signal.aborted) {
      let delivered = false;
      for (const topic of topics) {
        if (signal.aborted) break;
        const nextOffset = this.transport.committedOffset(this.groupId, topic);
        const records = this.transport.read(topic, nextOffset, MAX_RECORDS_PER_BATCH);
        if (records.length === 0) continue;
        delivered = true;
        const lastOffset = nextOffset + records.length - 1;
        let result: BatchResult;
        try {
          result = await handler({ topic, partition: 0, records, lag: this.transport.endOffset(topic) - lastOffset - 1 }, control);
        } catch (error) {
          // Not committed: the same records come again on the next pass, as after a Kafka restart.
          if (!signal.aborted) {
            this.transport.logger?.error(
              { topic, group: this.groupId, firstOffset: nextOffset, error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error).slice(0, 300) },
              'batch handler failed; the batch comes again',
            );
          }
          await delay(FAILED_BATCH_PAUSE_MS, undefined, { signal }).catch(() => {});
          continue;
        }
        this.transport.commitWithOutputs(this.groupId, topic, lastOffset + 1, result.outputs);
        result.onCommitted?.();
      }
      if (!delivered) await this.transport.waitForRecords(signal);
    }
  }
}
