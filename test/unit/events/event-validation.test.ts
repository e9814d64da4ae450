import fc from 'fast-check';
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
    ['an MRN with a hyphen', { entity_key: 'MRN-12345' }, 'medical record number'],
    ['an MRN run together', { entity_key: 'MRN12345' }, 'medical record number'],
    ['an MRN after a colon', { entity_key: 'mrn:123456' }, 'medical record number'],
    ['an SSN-like key', { entity_key: '123-45-6789' }, 'social security number'],
    ['digits split by dots', { entity_key: '12.345.678' }, 'medical record number'],
    ['digits split by spaces', { entity_key: '12 345 678' }, 'medical record number'],
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

  it.each([
    ['an encounter token', 'enc-7f3a9c2e41b0'],
    ['an encounter token of decimal hex digits', 'enc-20260412'],
    ['a UUID', '3f2b8c1e-9d4a-4b7e-8f61-2c5d0a9e7b34'],
    ['a UUID whose hex digits are all decimal', '12345678-1234-4234-8234-123456789012'],
    ['a SHA-256 digest', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ])('accepts a pseudonymous entity key: %s', (_name, entity_key) => {
    expect(validatePrediction(samplePrediction(1, { entity_key }), now)).toEqual({ valid: true });
  });

  it('accepts every UUID and hex digest as an entity key', () => {
    const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');
    const digest = fc.constantFrom(32, 40, 64).chain((length) => fc.string({ unit: hexDigit, minLength: length, maxLength: length }));
    const token = fc.string({ unit: hexDigit, minLength: 1, maxLength: 40 }).map((hex) => `enc-${hex}`);
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), digest, token), (entity_key) => {
        expect(validatePrediction(samplePrediction(1, { entity_key }), now)).toEqual({ valid: true });
      }),
    );
  });

  it('refuses every generated record-number shape, and never echoes it', () => {
    const digits = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });
    const prefix = fc.mixedCase(fc.constantFrom('mrn', 'mr', 'urn', 'pid', 'patient', 'ssn', 'nhs', 'id'));
    const prefixed = fc.tuple(prefix, fc.constantFrom('', '-', ':', '#', ' ', '_', '.'), digits(4, 12)).map((parts) => parts.join(''));
    const socialSecurity = fc.tuple(digits(3, 3), digits(2, 2), digits(4, 4), fc.constantFrom('-', ' ', '')).map(([area, group, serial, separator]) => [area, group, serial].join(separator));
    const separated = fc
      .tuple(digits(1, 6), fc.array(fc.tuple(fc.constantFrom('-', '.', ' ', '/', ':', '_'), digits(1, 6)), { maxLength: 5 }))
      .map(([first, rest]) => first + rest.map(([separator, group]) => separator + group).join(''));
    const shapes = fc.oneof(prefixed, socialSecurity, separated);
    fc.assert(
      fc.property(shapes, (entity_key) => {
        const result = validatePrediction(samplePrediction(1, { entity_key }), now);
        expect(result.valid, entity_key).toBe(false);
        if (!result.valid) {
          expect(result.detail).toContain('entity_key');
          expect(result.detail).not.toContain(entity_key);
        }
      }),
    );
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
