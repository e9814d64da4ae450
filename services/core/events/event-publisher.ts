import type { OutcomeEvent, PredictionEvent } from './event-types.js';

/**
 * What an inference service (or the simulator) needs to publish events. The Kafka publisher and
 * the in-process transport both implement it; a returned promise resolves once the events are
 * durably accepted by the transport.
 */
export interface EventPublisher {
  publishPredictions(events: readonly PredictionEvent[]): Promise<void>;
  publishOutcomes(events: readonly OutcomeEvent[]): Promise<void>;
}
