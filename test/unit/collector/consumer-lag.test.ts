import { describe, expect, it } from 'vitest';
import type { EventSink } from '../../../services/collector/event-sink.js';
import { embeddedCollector } from '../../support/pipeline-harness.js';

/** Stores nothing: these batches carry no records, only their partition's lag. */
class NoSink implements EventSink {
  async insert(): Promise<void> {}
}

const TOPICS = { predictions: 'lag.predictions', outcomes: 'lag.outcomes', deadLetters: 'lag.dlq' };

describe('the consumer lag a collector shows', () => {
  it('is the committed batches\' lag per partition, and leaves with a partition a rebalance takes away', async () => {
    const { collector, metrics } = await embeddedCollector(new NoSink(), TOPICS);
    const control = { heartbeat: async () => {}, isActive: () => true };
    for (const [topic, partition, lag] of [[TOPICS.predictions, 0, 5], [TOPICS.predictions, 1, 7], [TOPICS.outcomes, 0, 2]] as const) {
      const result = await collector.handleBatch({ topic, partition, lag, records: [] }, control);
      result.onCommitted?.();
    }
    const shown = async () =>
      (await metrics.consumerLag.get()).values.map((sample) => `${sample.labels.topic}/${sample.labels.partition}=${sample.value}`).sort();
    expect(await shown()).toEqual(['lag.outcomes/0=2', 'lag.predictions/0=5', 'lag.predictions/1=7']);

    // The group hands predictions partition 1 to another member: its lag is that member's to show now.
    collector.assigned(new Map([[TOPICS.predictions, [0, 2]], [TOPICS.outcomes, [0]]]));
    expect(await shown()).toEqual(['lag.outcomes/0=2', 'lag.predictions/0=5']);
    collector.assigned(new Map([[TOPICS.predictions, [1]]]));
    expect(await shown()).toEqual([]);
  });
});
