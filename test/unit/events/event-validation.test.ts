import { describe, expect, it } from 'vitest';
import { validateOutcome, validatePrediction } from '../../../services/core/events/event-validation.js';
import { sampleOutcome, samplePrediction } from '../../support/sample-events.js';

const now = Date.UTC(2026, 10, 23);

describe('validatePrediction', () => {
  it('accepts a well-formed prediction', () => {
    expect(validatePrediction(samplePrediction(1), now)).toEqual({ valid: true });
  });

  it.each([
    ['an empty event id', { event_id: ' ' }, 'event_id is empty'],
    ['a score above 1', { score: 1.2 }, 'score must be a finite probability'],
    ['a negative score', { score: -0.01 }, 'score must be a finite probability'],
    ['a NaN score', { score: Number.NaN }, 'score must be a finite probability'],
    ['an infinite threshold', { decision_threshold: Number.POSITIVE_INFINITY }, 'decision_threshold'],
    ['a predicted label of 2', { predicted_label: 2 }, 'predicted_label'],
    ['a model id with spaces', { model_id: 'sepsis risk' }, 'model_id'],
    ['an all-digit entity key', { entity_key: '00123456' }, 'medical record number'],
    ['an event from 1999', { occurred_at: Date.UTC(1999, 11, 31) }, 'occurred_at is before'],
    ['an event an hour ahead', { occurred_at: now + 3600_000 }, 'in the future'],
    ['an infinite feature', { features: { lactate: Number.NEGATIVE_INFINITY } }, 'feature lactate is not finite'],
  ])('rejects %s', (_name, overrides, expected) => {
    const result = validatePrediction(samplePrediction(1, overrides), now);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.detail).toContain(expected);
  });

  it('never echoes an identifier in the rejection detail', () => {
    const result = validatePrediction(samplePrediction(1, { entity_key: '987654321', score: 2 }), now);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.detail).not.toContain('987654321');
  });

  it('rejects too many features', () => {
    const features = Object.fromEntries(Array.from({ length: 1001 }, (_, index) => [`f${index}`, index]));
    expect(validatePrediction(samplePrediction(1, { features }), now).valid).toBe(false);
  });
});

describe('validateOutcome', () => {
  it('accepts binary, regression and class labels', () => {
    expect(validateOutcome(sampleOutcome(1), now).valid).toBe(true);
    expect(validateOutcome(sampleOutcome(1, { label: { kind: 'regression', value: 3.5 } }), now).valid).toBe(true);
    expect(validateOutcome(sampleOutcome(1, { label: { kind: 'class', value: 'septic-shock' } }), now).valid).toBe(true);
  });

  it('rejects a binary label other than 0 or 1', () => {
    const result = validateOutcome(sampleOutcome(1, { label: { kind: 'binary', value: 2 } }), now);
    expect(result).toEqual({ valid: false, detail: 'an int label is a binary outcome and must be 0 or 1' });
  });

  it('rejects a non-finite regression label and an empty source', () => {
    expect(validateOutcome(sampleOutcome(1, { label: { kind: 'regression', value: Number.NaN } }), now).valid).toBe(false);
    expect(validateOutcome(sampleOutcome(1, { source: '' }), now).valid).toBe(false);
  });
});
