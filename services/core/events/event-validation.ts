import type { FeatureValue, OutcomeEvent, PredictionEvent } from './event-types.js';

/**
 * Meaning checks that Avro cannot express. A rejected event goes to the dead-letter topic with the
 * reason; the detail text names fields and limits but never echoes identifiers or feature values,
 * so it is safe for logs and headers.
 */

export interface EventLimits {
  /** Events stamped further ahead of the collector's clock than this are rejected. */
  maxFutureSkewMs: number;
  /** Events stamped before this instant (epoch ms) are rejected as implausible. */
  earliestEventTimeMs: number;
  maxFeatures: number;
  maxSegments: number;
  maxIdentifierLength: number;
  maxStringValueLength: number;
}

export const defaultEventLimits: EventLimits = {
  maxFutureSkewMs: 5 * 60 * 1000,
  earliestEventTimeMs: Date.UTC(2000, 0, 1),
  maxFeatures: 1000,
  maxSegments: 32,
  maxIdentifierLength: 128,
  maxStringValueLength: 1024,
};

export type ValidationResult = { valid: true } | { valid: false; detail: string };

const VALID: ValidationResult = { valid: true };
const invalid = (detail: string): ValidationResult => ({ valid: false, detail });

/** Model ids become label values in Prometheus and table keys in ClickHouse: keep them tame. */
const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * Vigil accepts pseudonymous entity keys only. Shapes of direct identifiers are refused: digits
 * alone or in groups split by separators (medical record numbers, SSN-like 123-45-6789), with or
 * without a record-number prefix (MRN-12345, mrn:123456, SSN 123 45 6789). Random tokens are
 * accepted first even when their hex digits happen to all be decimal: a UUID, or a hex digest of
 * 128 bits or more, is never a record number.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_DIGEST = /^[0-9a-f]{32,}$/i;
const RECORD_NUMBER = /^(?:(?:mrn|mr|urn|ur|hn|pid|pt|pat|patient|chart|record|nhs|chi|ssn|sin|empi|id)(?:[\s._:#=-]*(?:no|nr|num|number))?[\s._:#=-]*)?#?\d+(?:[\s._:/-]+\d+)*$/i;

function looksLikeRecordNumber(key: string): boolean {
  if (UUID.test(key) || HEX_DIGEST.test(key)) return false;
  return RECORD_NUMBER.test(key.trim());
}

/**
 * The checks of single fields, each giving the problem's detail or null. They are shared with
 * readers that judge an event straight from its encoded bytes, so both apply the same rules.
 */
export function identifierProblem(name: string, value: string, limits: EventLimits): string | null {
  if (value.trim().length === 0) return `${name} is empty`;
  if (value.length > limits.maxIdentifierLength) return `${name} is longer than ${limits.maxIdentifierLength} characters`;
  return null;
}

export function eventTimeProblem(name: string, epochMs: number, nowMs: number, limits: EventLimits): string | null {
  if (!Number.isFinite(epochMs)) return `${name} is not a finite timestamp`;
  if (epochMs < limits.earliestEventTimeMs) return `${name} is before ${new Date(limits.earliestEventTimeMs).toISOString()}`;
  if (epochMs > nowMs + limits.maxFutureSkewMs) return `${name} is more than ${Math.round(limits.maxFutureSkewMs / 1000)} s in the future`;
  return null;
}

export function modelIdProblem(modelId: string): string | null {
  return MODEL_ID_PATTERN.test(modelId) ? null : 'model_id must be 1-64 characters of letters, digits, ".", "_" or "-"';
}

export function entityKeyProblem(entityKey: string): string | null {
  return looksLikeRecordNumber(entityKey) ? 'entity_key is shaped like a medical record number or social security number; send a pseudonymous key' : null;
}

function checkFeature(name: string, value: FeatureValue, limits: EventLimits): string | null {
  if (name.length === 0 || name.length > limits.maxIdentifierLength) return `a feature name is empty or longer than ${limits.maxIdentifierLength} characters`;
  if (typeof value === 'number' && !Number.isFinite(value)) return `feature ${name} is not finite (use null for a missing value)`;
  if (typeof value === 'string' && value.length > limits.maxStringValueLength) return `feature ${name} is longer than ${limits.maxStringValueLength} characters`;
  return null;
}

export function isProbability(value: number): boolean {
  return Number.isFinite(value) && value >= 0 && value <= 1;
}

export function validatePrediction(event: PredictionEvent, nowMs: number, limits: EventLimits = defaultEventLimits): ValidationResult {
  for (const [name, value] of [
    ['event_id', event.event_id],
    ['prediction_id', event.prediction_id],
    ['entity_key', event.entity_key],
    ['model_version', event.model_version],
    ['producer.service', event.producer.service],
  ] as const) {
    const problem = identifierProblem(name, value, limits);
    if (problem) return invalid(problem);
  }
  const modelProblem = modelIdProblem(event.model_id);
  if (modelProblem) return invalid(modelProblem);
  const keyProblem = entityKeyProblem(event.entity_key);
  if (keyProblem) return invalid(keyProblem);
  const timeProblem = eventTimeProblem('occurred_at', event.occurred_at, nowMs, limits);
  if (timeProblem) return invalid(timeProblem);
  if (!isProbability(event.score)) return invalid('score must be a finite probability in [0, 1]');
  if (event.predicted_label !== null && event.predicted_label !== 0 && event.predicted_label !== 1) return invalid('predicted_label must be 0, 1 or null');
  if (event.decision_threshold !== null && !isProbability(event.decision_threshold)) return invalid('decision_threshold must be a finite probability in [0, 1] or null');
  const featureNames = Object.keys(event.features);
  if (featureNames.length > limits.maxFeatures) return invalid(`more than ${limits.maxFeatures} features`);
  for (const name of featureNames) {
    const problem = checkFeature(name, event.features[name] ?? null, limits);
    if (problem) return invalid(problem);
  }
  const segmentNames = Object.keys(event.segments);
  if (segmentNames.length > limits.maxSegments) return invalid(`more than ${limits.maxSegments} segment attributes`);
  for (const name of segmentNames) {
    const value = event.segments[name] ?? '';
    if (name.length === 0 || name.length > limits.maxIdentifierLength || value.length > limits.maxIdentifierLength) {
      return invalid(`segment ${name.slice(0, 32)} has an empty or over-long name or value`);
    }
  }
  if (event.input_hash !== null && event.input_hash.length > limits.maxIdentifierLength) return invalid('input_hash is too long');
  return VALID;
}

export function validateOutcome(event: OutcomeEvent, nowMs: number, limits: EventLimits = defaultEventLimits): ValidationResult {
  for (const [name, value] of [
    ['event_id', event.event_id],
    ['prediction_id', event.prediction_id],
    ['source', event.source],
  ] as const) {
    const problem = identifierProblem(name, value, limits);
    if (problem) return invalid(problem);
  }
  const modelProblem = modelIdProblem(event.model_id);
  if (modelProblem) return invalid(modelProblem);
  const timeProblem = eventTimeProblem('observed_at', event.observed_at, nowMs, limits);
  if (timeProblem) return invalid(timeProblem);
  const label = event.label;
  switch (label.kind) {
    case 'binary':
      if (label.value !== 0 && label.value !== 1) return invalid('an int label is a binary outcome and must be 0 or 1');
      break;
    case 'regression':
      if (!Number.isFinite(label.value)) return invalid('a regression label must be finite');
      break;
    case 'class':
      if (label.value.length === 0 || label.value.length > limits.maxIdentifierLength) return invalid('a class label must be 1-128 characters');
      break;
  }
  return VALID;
}
