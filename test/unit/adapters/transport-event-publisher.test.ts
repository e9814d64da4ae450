import { describe, expect, it } from 'vitest';
import { InProcessTransport } from '../../../services/adapters/in-process/in-process-transport.js';
import { EventCodec } from '../../../services/adapters/schema-registry/event-codec.js';
import { InProcessSchemaSource } from '../../../services/adapters/schema-registry/in-process-schema-source.js';
import { InvalidEventError, TransportEventPublisher } from '../../../services/publisher/transport-event-publisher.js';
import { sampleOutcome, samplePrediction } from '../../support/sample-events.js';

const topics = { predictions: 'p.v1', outcomes: 'o.v1' };
const now = () => Date.UTC(2026, 10, 23);

describe('TransportEventPublisher', () => {
  it('publishes wire-format events keyed by prediction id', async () => {
    const transport = new InProcessTransport();
    const codec = new EventCodec(new InProcessSchemaSource());
    const publisher = new TransportEventPublisher(await transport.createProducer(), codec, topics, now);
    await publisher.publishPredictions([samplePrediction(1), samplePrediction(2)]);
    await publisher.publishOutcomes([sampleOutcome(1)]);
    const published = transport.read(topics.predictions, 0, 10);
    expect(published.map((record) => record.key?.toString())).toEqual(['pred-1', 'pred-2']);
    expect(await codec.decode(published[1]?.value as Buffer, 'prediction')).toMatchObject({ ok: true, event: samplePrediction(2) });
    expect(transport.read(topics.outcomes, 0, 10)).toHaveLength(1);
  });

  it('refuses a batch with an invalid event, naming its index, and sends none of it', async () => {
    const transport = new InProcessTransport();
    const publisher = new TransportEventPublisher(await transport.createProducer(), new EventCodec(new InProcessSchemaSource()), topics, now);
    const attempt = publisher.publishPredictions([samplePrediction(1), samplePrediction(2, { score: 7 })]);
    await expect(attempt).rejects.toBeInstanceOf(InvalidEventError);
    await expect(attempt).rejects.toMatchObject({ index: 1, message: 'event 1 is invalid: score must be a finite probability in [0, 1]' });
    expect(transport.endOffset(topics.predictions)).toBe(0);
  });
});
