import { Kafka, logLevel } from 'kafkajs';

export interface InspectedRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning as a read_committed consumer until `expected` records arrived,
 * then keeps listening for `settleMs` more so that extra records would be seen too.
 */
export async function readTopic(brokers: string[], topic: string, expected: number, options: { timeoutMs?: number; settleMs?: number } = {}): Promise<InspectedRecord[]> {
  const kafka = new Kafka({ clientId: 'test-inspector', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `inspector-${topic}-${Date.now()}`, readUncommitted: false });
  const records: InspectedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = value.toString();
        records.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), headers });
      },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (records.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1_500));
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** True once the group has committed up to the end of every partition of the topics. */
export async function groupCaughtUp(brokers: string[], groupId: string, topics: string[]): Promise<boolean> {
  const admin = new Kafka({ clientId: 'test-inspector', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const topicCommits = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
      for (const end of ends) {
        const commit = topicCommits.find((entry) => entry.partition === end.partition)?.offset ?? '-1';
        if (BigInt(end.high) > 0n && BigInt(commit) < BigInt(end.high)) return false;
      }
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

/** The committed offsets of a group, `-1` where nothing was committed. */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<string[]> {
  const admin = new Kafka({ clientId: 'test-inspector', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).map((partition) => partition.offset);
  } finally {
    await admin.disconnect();
  }
}

/** Parses Prometheus text exposition into `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

export function sumMetric(samples: Map<string, number>, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const [key, value] of samples) {
    if ((key === name || key.startsWith(`${name}{`)) && key.includes(labelFilter)) sum += value;
  }
  return sum;
}
