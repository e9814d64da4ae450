import { describe, expect, it } from 'vitest';
import { InProcessTransport } from '../../../services/adapters/in-process/in-process-transport.js';
import type { BatchResult } from '../../../services/adapters/transport/record-transport.js';
import { capturingLogger } from '../../support/captured-logs.js';

const records = (count: number, from = 0) => Array.from({ length: count }, (_, index) => ({ key: null, value: Buffer.from(`record ${from + index}`) }));

describe('the in-process transport', () => {
  it('keeps only the newest records of a topic no consumer reads, such as the dead-letter topic', async () => {
    const { logger, lines } = capturingLogger();
    const transport = new InProcessTransport({ logger, unreadTopicRetention: 10 });
    const producer = await transport.createProducer();
    for (let round = 0; round < 5; round++) await producer.send('dead-letters', records(5, round * 5));
    const kept = transport.read('dead-letters', 0, 100);
    expect(kept.map((record) => record.offset)).toEqual(Array.from({ length: 10 }, (_, index) => String(15 + index)));
    expect(kept.map((record) => record.value?.toString())).toEqual(Array.from({ length: 10 }, (_, index) => `record ${15 + index}`));
    expect(transport.endOffset('dead-letters')).toBe(25);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((line) => line.msg === 'in-process log keeps only the newest records of this topic; run with Kafka to keep them all')).toHaveLength(1);
  });

  it('keeps every unconsumed record of a topic a consumer reads', async () => {
    const transport = new InProcessTransport({ unreadTopicRetention: 10 });
    const consumer = transport.createConsumer('group');
    await consumer.start(['events'], async () => {
      throw new Error('not yet');
    });
    const producer = await transport.createProducer();
    await producer.send('events', records(25));
    await consumer.stop();
    expect(transport.read('events', 0, 100)).toHaveLength(25);
  });

  it('logs a failing handler and delivers the same batch again', async () => {
    const { logger, lines } = capturingLogger();
    const transport = new InProcessTransport({ logger });
    const producer = await transport.createProducer();
    await producer.send('events', records(3));
    const deliveries: string[][] = [];
    const consumer = transport.createConsumer('group');
    await consumer.start(['events'], async (batch): Promise<BatchResult> => {
      deliveries.push(batch.records.map((record) => record.offset));
      if (deliveries.length === 1) throw new TypeError('handler bug');
      return { outputs: [] };
    });
    const deadline = Date.now() + 5_000;
    while (transport.committedOffset('group', 'events') < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await consumer.stop();
    expect(deliveries).toEqual([
      ['0', '1', '2'],
      ['0', '1', '2'],
    ]);
    expect(lines.filter((line) => line.msg === 'batch handler failed; the batch comes again')).toEqual([
      expect.objectContaining({ level: 50, topic: 'events', group: 'group', firstOffset: 0, error: 'TypeError: handler bug' }),
    ]);
  });
});
