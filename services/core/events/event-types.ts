/** The event contract as TypeScript sees it after Avro decoding (see schemas/*.avsc). */

export type FeatureValue = number | string | boolean | null;

export interface ProducerInfo {
  service: string;
  request_id: string | null;
}

export interface PredictionEvent {
  event_id: string;
  model_id: string;
  model_version: string;
  prediction_id: string;
  /** Event time, epoch milliseconds. */
  occurred_at: number;
  /** Pseudonymous key; never a medical record number. */
  entity_key: string;
  features: Record<string, FeatureValue>;
  score: number;
  predicted_label: number | null;
  decision_threshold: number | null;
  segments: Record<string, string>;
  producer: ProducerInfo;
  input_hash: string | null;
}

/**
 * The Avro union ["int", "double", "string"], made explicit: int is a binary 0/1 outcome, double a
 * regression target, string a class name. Only binary outcomes are scored today.
 */
export type OutcomeLabel =
  | { kind: 'binary'; value: number }
  | { kind: 'regression'; value: number }
  | { kind: 'class'; value: string };

export interface OutcomeEvent {
  event_id: string;
  model_id: string;
  prediction_id: string;
  /** Event time, epoch milliseconds. */
  observed_at: number;
  label: OutcomeLabel;
  source: string;
}

export type EventKind = 'prediction' | 'outcome';
