import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aurocSamplingError,
  aurocSamplingErrorComponents,
  samplingErrorBand,
} from '../../../services/core/metrics/estimation/sampling-error.js';

/** Shape of the samplingError part of test/fixtures/oracles/cbpe-calibration.json, written by test/oracles/cbpe_oracle.py. */
interface SamplingErrorCase {
  name: string;
  scores: number[];
  labels: number[];
  chunkSizes: number[];
  expected: {
    /** [std, fraction] from nannyml.sampling_error.binary_classification.auroc_sampling_error_components. */
    nannyml: [number | null, number | null];
    /** The same formula with np.argsort(kind="stable"). */
    stable: [number | null, number | null];
    samplingErrors: (number | null)[];
  };
}

const oracle = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/cbpe-calibration.json', import.meta.url)), 'utf8'),
) as { versions: Record<string, string>; samplingError: SamplingErrorCase[] };

/** A standard deviation of at most a few thousand terms, compensated here and pairwise in numpy: 1e-12 relative. */
const RELATIVE_TOLERANCE = 1e-12;

const expectClose = (actual: number, expected: number, label: string): void => {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE * Math.max(Math.abs(expected), 1e-300));
};

const sameOrder = (testCase: SamplingErrorCase): boolean =>
  testCase.expected.nannyml[0] === testCase.expected.stable[0] && testCase.expected.nannyml[1] === testCase.expected.stable[1];

describe(`aurocSamplingErrorComponents against nannyml ${oracle.versions.nannyml}`, () => {
  it.each(oracle.samplingError.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const components = aurocSamplingErrorComponents(testCase.scores, testCase.labels);
    const [standardDeviation, positiveFraction] = testCase.expected.stable;
    if (standardDeviation === null) {
      expect(components.defined).toBe(false);
      testCase.expected.samplingErrors.forEach((error) => expect(error).toBeNull());
      return;
    }
    if (!components.defined) throw new Error(components.reason);
    expectClose(components.value.standardDeviation, standardDeviation, 'standard deviation');
    expect(components.value.positiveFraction).toBe(positiveFraction);
    // NannyML's own value where its sort happens to keep tied rows in order (always, without ties).
    if (sameOrder(testCase)) {
      testCase.chunkSizes.forEach((size, index) => expectClose(aurocSamplingError(components.value, size), testCase.expected.samplingErrors[index]!, `sampling error of ${size} rows`));
    }
  });

  it('differs from NannyML only where NannyML leaves the order of tied scores to its sort', () => {
    const differing = oracle.samplingError.filter((testCase) => !sameOrder(testCase));
    for (const testCase of differing) expect(new Set(testCase.scores).size, testCase.name).toBeLessThan(testCase.scores.length);
    expect(oracle.samplingError.filter(sameOrder).length).toBeGreaterThanOrEqual(5);
  });

  it('flips labels and scores when most labels are positive, so the fraction is of the smaller class', () => {
    const scores = [0.1, 0.3, 0.35, 0.6, 0.7, 0.9];
    const labels = [0, 1, 0, 1, 1, 1];
    const flipped = aurocSamplingErrorComponents(scores.map((score) => 1 - score), labels.map((label) => 1 - label));
    const components = aurocSamplingErrorComponents(scores, labels);
    expect(components).toEqual(flipped);
    expect(components.defined && components.value.positiveFraction).toBe(2 / 6);
  });

  it('says why it has no components', () => {
    expect(aurocSamplingErrorComponents([], [])).toEqual({ defined: false, reason: 'no labelled reference row' });
    expect(aurocSamplingErrorComponents([0.2, 0.4], [1, 1])).toMatchObject({ defined: false, reason: expect.stringContaining('one class') });
    expect(aurocSamplingErrorComponents([0.2, 0.4, 0.6], [1, 0, 0])).toMatchObject({ defined: false, reason: expect.stringContaining('lowest score') });
    expect(() => aurocSamplingErrorComponents([0.2], [2])).toThrow(/label 0/);
  });
});

describe('samplingErrorBand', () => {
  it('is the estimate ± 3 sampling errors, clipped to [0, 1] as NannyML clips ROC AUC', () => {
    expect(samplingErrorBand(0.8, 0.01)).toEqual({ samplingError: 0.01, lower: 0.8 - 0.03, upper: 0.8 + 0.03 });
    expect(samplingErrorBand(0.99, 0.01)).toMatchObject({ lower: 0.99 - 0.03, upper: 1 });
    expect(samplingErrorBand(0.02, 0.01)).toMatchObject({ lower: 0, upper: 0.02 + 0.03 });
  });

  it('narrows as √n for any components', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.integer({ min: 1, max: 1e6 }), (standardDeviation, positiveFraction, rows) => {
        const components = { standardDeviation, positiveFraction };
        const ratio = aurocSamplingError(components, rows) / aurocSamplingError(components, 4 * rows);
        expect(Math.abs(ratio - 2)).toBeLessThanOrEqual(1e-12);
      }),
    );
  });
});
