import type { EventPublisher } from '../core/events/event-publisher.js';
import type { OutcomeEvent, PredictionEvent } from '../core/events/event-types.js';
import { validateOutcome, validatePrediction } from '../core/events/event-validation.js';
import type { EventCodec } from '../adapters/schema-registry/event-codec.js';
import type { RecordProducer } from '../adapters/transport/record-transport.js';

export interface PublisherTopics {
  predictions: string;
  outcomes: string;
}

/** An event the publisher refused before sending: the caller's bug, reported with the event's index. */
export class InvalidEventError extends Error {
  constructor(
    readonly index: number,
    readonly detail: string,
  ) {
    super(`event ${index} is invalid: ${detail}`);
    this.name = 'InvalidEventError';
  }
}

/**
 * Publishes events in the Confluent wire format, keyed by prediction id so that a prediction and
 * its outcome land in the same partition number. Events are checked with the same rules the
 * collector applies, so a producer learns of a bad event at once instead of from the dead-letter topic.
 */
export class TransportEventPublisher implements EventPublisher {
  constructor(
    private readonly producer: RecordProducer,
    private readonly codec: EventCodec,
    private readonly topics: PublisherTopics,
    private readonly clock: () => number = Date.now,
  ) {}

  async publishPredictions(events: readonly PredictionEvent[]): Promise<void> {
    const now = this.clock();
    events.forEach((event, index) => {
      const validation = validatePrediction(event, now);
      if (!validation.valid) throw new InvalidEventError(index, validation.detail);
    });
    const records = await Promise.all(
      events.map(async (event) => ({ key: event.prediction_id, value: await this.codec.encodePrediction(this.topics.predictions, event) })),
    );
    await this.producer.send(this.topics.predictions, records);
  }

  async publishOutcomes(events: readonly OutcomeEvent[]): Promise<void> {
    const now = this.clock();
    events.forEach((event, index) => {
      const validation = validateOutcome(event, now);
      if (!validation.valid) throw new InvalidEventError(index, validation.detail);
    });
    const records = await Promise.all(
      events.map(async (event) => ({ key: event.prediction_id, value: await this.codec.encodeOutcome(this.topics.outcomes, event) })),
    );
    await this.producer.send(this.topics.outcomes, records);
  }
}
