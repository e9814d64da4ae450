import type { OutcomeEvent, PredictionEvent } from '../../services/core/events/event-types.js';

/** A valid prediction; tests override the fields they are about. */
export function samplePrediction(index: number, overrides: Partial<PredictionEvent> = {}): PredictionEvent {
  return {
    event_id: `pred-evt-${index}`,
    model_id: 'sepsis-risk',
    model_version: '2.3.0',
    prediction_id: `pred-${index}`,
    occurred_at: Date.UTC(2026, 10, 1) + index * 1000,
    entity_key: `enc-${(index * 2654435761 >>> 0).toString(16)}`,
    features: { heart_rate: 80 + (index % 40), lactate: index % 7 === 0 ? null : 1 + (index % 5) / 2, admission_source: 'ED', on_antibiotics: index % 2 === 0 },
    score: (index % 100) / 100,
    predicted_label: index % 100 >= 30 ? 1 : 0,
    decision_threshold: 0.3,
    segments: { site: `site-${index % 3}`, sex: index % 2 ? 'F' : 'M' },
    producer: { service: 'sepsis-risk-inference', request_id: `req-${index}` },
    input_hash: null,
    ...overrides,
  };
}

export function sampleOutcome(index: number, overrides: Partial<OutcomeEvent> = {}): OutcomeEvent {
  return {
    event_id: `out-evt-${index}`,
    model_id: 'sepsis-risk',
    prediction_id: `pred-${index}`,
    observed_at: Date.UTC(2026, 10, 2) + index * 1000,
    label: { kind: 'binary', value: index % 9 === 0 ? 1 : 0 },
    source: 'ehr-adjudication',
    ...overrides,
  };
}
