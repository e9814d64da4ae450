import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  estimateConfidenceBasedPerformance,
  type Estimate,
} from '../../../services/core/metrics/estimation/confidence-based-estimation.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';

/** Shape of test/fixtures/oracles/cbpe.json, written by test/oracles/performance_oracle.py. */
interface EstimationCase {
  name: string;
  threshold: number;
  scores: number[];
  expected: {
    expectedTruePositives: number;
    expectedFalsePositives: number;
    expectedTrueNegatives: number;
    expectedFalseNegatives: number;
    estimatedAuroc: number | null;
    estimatedSensitivity: number | null;
    estimatedSpecificity: number | null;
    estimatedPositivePredictiveValue: number | null;
    estimatedNegativePredictiveValue: number | null;
    estimatedF1: number | null;
    estimatedAccuracy: number;
  } | null;
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/cbpe.json', import.meta.url)), 'utf8'),
) as { versions: Record<string, string>; cases: EstimationCase[] };

/**
 * The expected confusion matrix and the ratios built on it are sums of scores: 1e-9 relative
 * (NannyML takes a mean and multiplies back by n, a few roundings either way). The estimated
 * AUROC replays NannyML's rounding of the cumulative sums to 5 decimals on the same running sums,
 * so only the order of the final trapezoid sum differs: 1e-9 relative as well. Expected counts
 * that are exactly 0 are compared with 1e-12 absolute.
 */
const RELATIVE_TOLERANCE = 1e-9;
const ABSOLUTE_TOLERANCE = 1e-12;

function expectClose(actual: number, expected: number, label: string): void {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    Math.max(RELATIVE_TOLERANCE * Math.abs(expected), ABSOLUTE_TOLERANCE),
  );
}

function expectEstimate(actual: Outcome<Estimate<number>>, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual.defined, `${label} should be undefined`).toBe(false);
    return;
  }
  expect(actual.defined, `${label} should be defined: ${actual.defined ? '' : actual.reason}`).toBe(true);
  if (!actual.defined) return;
  expect(actual.value.kind).toBe('estimate');
  expect(actual.value.method).toBe('confidence-based-performance-estimation');
  expectClose(actual.value.value, expected, label);
}

describe(`estimateConfidenceBasedPerformance against nannyml ${fixture.versions.nannyml}`, () => {
  for (const testCase of fixture.cases) {
    it(`matches on ${testCase.name} (n = ${testCase.scores.length})`, () => {
      const report = estimateConfidenceBasedPerformance(Float64Array.from(testCase.scores), testCase.threshold);
      expect(report.kind).toBe('estimate');
      const expected = testCase.expected;
      if (expected === null) {
        expect(report.estimatedAuroc).toEqual({ defined: false, reason: 'no rows' });
        expect(report.expectedConfusionMatrix).toEqual({ defined: false, reason: 'no rows' });
        return;
      }
      if (!report.expectedConfusionMatrix.defined) throw new Error(report.expectedConfusionMatrix.reason);
      const matrix = report.expectedConfusionMatrix.value.value;
      expectClose(matrix.expectedTruePositives, expected.expectedTruePositives, 'expected TP');
      expectClose(matrix.expectedFalsePositives, expected.expectedFalsePositives, 'expected FP');
      expectClose(matrix.expectedTrueNegatives, expected.expectedTrueNegatives, 'expected TN');
      expectClose(matrix.expectedFalseNegatives, expected.expectedFalseNegatives, 'expected FN');
      expectEstimate(report.estimatedAuroc, expected.estimatedAuroc, 'estimated AUROC');
      expectEstimate(report.estimatedSensitivity, expected.estimatedSensitivity, 'estimated sensitivity');
      expectEstimate(report.estimatedSpecificity, expected.estimatedSpecificity, 'estimated specificity');
      expectEstimate(report.estimatedPositivePredictiveValue, expected.estimatedPositivePredictiveValue, 'estimated PPV');
      expectEstimate(report.estimatedNegativePredictiveValue, expected.estimatedNegativePredictiveValue, 'estimated NPV');
      expectEstimate(report.estimatedF1, expected.estimatedF1, 'estimated F1');
      expectEstimate(report.estimatedAccuracy, expected.estimatedAccuracy, 'estimated accuracy');
    });
  }

  it('covers ties, constant scores, exact 0 and 1, tiny and large samples', () => {
    const names = fixture.cases.map((testCase) => testCase.name);
    for (const name of ['ties-one-decimal-500', 'all-equal-scores-50', 'scores-at-0-and-1', 'tiny-2', 'single-row', 'all-zero-scores', 'all-one-scores', 'large-20k']) {
      expect(names).toContain(name);
    }
  });
});

describe('confidence-based estimates', () => {
  it('give a diagonal ROC curve (AUROC ½) when every score is the same', () => {
    const report = estimateConfidenceBasedPerformance(new Float64Array(1000).fill(0.37), 0.5);
    expect(report.estimatedAuroc.defined && report.estimatedAuroc.value.value).toBeCloseTo(0.5, 12);
  });

  it('explain what cannot be estimated', () => {
    const zeros = estimateConfidenceBasedPerformance([0, 0, 0], 0.5);
    expect(zeros.estimatedAuroc).toEqual({
      defined: false,
      reason: 'the expected number of positives (the sum of the scores) rounds to 0',
    });
    expect(zeros.estimatedSensitivity).toEqual({
      defined: false,
      reason: 'every score is 0, so no positives are expected',
    });
    expect(zeros.estimatedPositivePredictiveValue).toEqual({
      defined: false,
      reason: 'no score is ≥ the threshold 0.5, so nothing is predicted positive',
    });
    const ones = estimateConfidenceBasedPerformance([1, 1], 0.5);
    expect(ones.estimatedAuroc).toEqual({
      defined: false,
      reason: 'the expected number of negatives (the sum of 1 − score) rounds to 0',
    });
  });

  it('rejects NaN and infinite scores with the row instead of dropping them', () => {
    const report = estimateConfidenceBasedPerformance([0.2, 0.4, Number.NaN], 0.5);
    expect(report.estimatedAuroc).toEqual({
      defined: false,
      reason: 'score at row 2 is NaN; scores must be finite probabilities in [0, 1]',
    });
    expect(estimateConfidenceBasedPerformance([Number.NEGATIVE_INFINITY], 0.5).estimatedAccuracy).toEqual({
      defined: false,
      reason: 'score at row 0 is -Infinity; scores must be finite probabilities in [0, 1]',
    });
  });
});
