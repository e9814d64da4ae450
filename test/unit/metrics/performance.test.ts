import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  binaryClassificationMetrics,
  wilsonInterval,
  type BinaryClassificationReport,
  type ProportionEstimate,
} from '../../../services/core/metrics/performance/binary-classification.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';

/** Shape of test/fixtures/oracles/performance.json, written by test/oracles/performance_oracle.py. */
interface ProportionReference {
  value: number;
  lower: number;
  upper: number;
}

interface PerformanceCase {
  name: string;
  threshold: number;
  scores: number[];
  labels: number[];
  bootstrapStandardError?: number;
  expected: {
    counts: {
      rows: number;
      positives: number;
      negatives: number;
      truePositives: number;
      falsePositives: number;
      trueNegatives: number;
      falseNegatives: number;
    };
    auroc: number | null;
    delong: { standardError: number; lower: number; upper: number } | null;
    averagePrecision: number | null;
    brierScore: number;
    logLoss: number;
    prevalence: ProportionReference;
    sensitivity: ProportionReference | null;
    specificity: ProportionReference | null;
    positivePredictiveValue: ProportionReference | null;
    negativePredictiveValue: ProportionReference | null;
    accuracy: ProportionReference;
    f1: number | null;
  } | null;
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/performance.json', import.meta.url)), 'utf8'),
) as { versions: Record<string, string>; confidenceLevel: number; cases: PerformanceCase[] };

/**
 * Tolerances. Every metric here is a closed-form function of counts and sums, computed by both
 * sides in double precision with different summation orders, so 1e-9 relative is far above the
 * rounding either side makes (observed ≤ 1e-14). Interval bounds that are exactly 0 or 1 by
 * construction may come out of statsmodels within rounding of those values, so bounds are also
 * allowed 1e-15 absolute.
 */
const RELATIVE_TOLERANCE = 1e-9;
const BOUND_ABSOLUTE_TOLERANCE = 1e-15;

function expectClose(actual: number, expected: number, label: string, absolute = 0): void {
  const error = Math.abs(actual - expected);
  expect(error <= RELATIVE_TOLERANCE * Math.abs(expected) || error <= absolute, `${label}: ${actual} vs ${expected}`).toBe(
    true,
  );
}

function expectValue(actual: Outcome<number>, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual.defined, `${label} should be undefined`).toBe(false);
    return;
  }
  expect(actual.defined, `${label} should be defined: ${actual.defined ? '' : actual.reason}`).toBe(true);
  if (actual.defined) expectClose(actual.value, expected, label);
}

function expectProportion(
  actual: Outcome<ProportionEstimate>,
  expected: ProportionReference | null,
  label: string,
): void {
  if (expected === null) {
    expect(actual.defined, `${label} should be undefined`).toBe(false);
    return;
  }
  expect(actual.defined, `${label} should be defined`).toBe(true);
  if (!actual.defined) return;
  expectClose(actual.value.value, expected.value, `${label} value`);
  expectClose(actual.value.interval.lower, expected.lower, `${label} lower`, BOUND_ABSOLUTE_TOLERANCE);
  expectClose(actual.value.interval.upper, expected.upper, `${label} upper`, BOUND_ABSOLUTE_TOLERANCE);
  expect(actual.value.interval.method).toBe('wilson');
}

function reportFor(testCase: PerformanceCase): BinaryClassificationReport {
  return binaryClassificationMetrics({
    kind: 'binary-classification',
    scores: Float64Array.from(testCase.scores),
    labels: testCase.labels,
    threshold: testCase.threshold,
  });
}

describe(`binaryClassificationMetrics against scikit-learn ${fixture.versions['scikit-learn']} and statsmodels ${fixture.versions.statsmodels}`, () => {
  it('covers the cases the oracle was asked for', () => {
    const names = fixture.cases.map((testCase) => testCase.name);
    for (const name of ['ties-one-decimal-300', 'all-equal-scores-40', 'one-class-negative-20', 'tiny-2', 'tiny-3', 'perfect-200', 'inverted-200', 'scores-at-0-and-1-100', 'large-20k', 'empty']) {
      expect(names).toContain(name);
    }
    expect(fixture.confidenceLevel).toBe(0.95);
  });

  for (const testCase of fixture.cases) {
    it(`matches on ${testCase.name} (n = ${testCase.scores.length})`, () => {
      const report = reportFor(testCase);
      const expected = testCase.expected;
      if (expected === null) {
        expect(report.counts).toEqual({ defined: false, reason: 'no rows' });
        for (const metric of [report.auroc, report.averagePrecision, report.brierScore, report.logLoss, report.accuracy]) {
          expect(metric).toEqual({ defined: false, reason: 'no rows' });
        }
        return;
      }
      expect(report.counts).toEqual({ defined: true, value: expected.counts });
      expectValue(
        report.auroc.defined ? { defined: true, value: report.auroc.value.value } : report.auroc,
        expected.auroc,
        'AUROC',
      );
      if (report.auroc.defined) {
        const { standardError, interval } = report.auroc.value;
        if (expected.delong === null) {
          expect(standardError.defined).toBe(false);
          expect(interval.defined).toBe(false);
        } else {
          expect(standardError.defined && interval.defined).toBe(true);
          if (standardError.defined && interval.defined) {
            expectClose(standardError.value, expected.delong.standardError, 'DeLong standard error', 1e-15);
            expectClose(interval.value.lower, expected.delong.lower, 'DeLong lower', BOUND_ABSOLUTE_TOLERANCE);
            expectClose(interval.value.upper, expected.delong.upper, 'DeLong upper', BOUND_ABSOLUTE_TOLERANCE);
            expect(interval.value.method).toBe('delong');
          }
        }
      }
      expectValue(report.averagePrecision, expected.averagePrecision, 'average precision');
      expectValue(report.brierScore, expected.brierScore, 'Brier score');
      expectValue(report.logLoss, expected.logLoss, 'log loss');
      expectValue(report.f1, expected.f1, 'F1');
      expectProportion(report.prevalence, expected.prevalence, 'prevalence');
      expectProportion(report.sensitivity, expected.sensitivity, 'sensitivity');
      expectProportion(report.specificity, expected.specificity, 'specificity');
      expectProportion(report.positivePredictiveValue, expected.positivePredictiveValue, 'PPV');
      expectProportion(report.negativePredictiveValue, expected.negativePredictiveValue, 'NPV');
      expectProportion(report.accuracy, expected.accuracy, 'accuracy');
    });
  }

  it('agrees with a bootstrap standard error to within 15% (a sanity check of DeLong, not a reference)', () => {
    const withBootstrap = fixture.cases.filter((testCase) => testCase.bootstrapStandardError !== undefined);
    expect(withBootstrap.length).toBe(2);
    for (const testCase of withBootstrap) {
      const report = reportFor(testCase);
      if (!report.auroc.defined || !report.auroc.value.standardError.defined) throw new Error('AUROC undefined');
      const ratio = report.auroc.value.standardError.value / testCase.bootstrapStandardError!;
      expect(ratio, testCase.name).toBeGreaterThan(0.85);
      expect(ratio, testCase.name).toBeLessThan(1.15);
    }
  });
});

describe('decision threshold', () => {
  it('counts a score equal to the threshold as a predicted positive', () => {
    const report = binaryClassificationMetrics({
      kind: 'binary-classification',
      scores: [0.3, 0.5, 0.5, 0.7],
      labels: [0, 0, 1, 1],
      threshold: 0.5,
    });
    expect(report.counts).toEqual({
      defined: true,
      value: { rows: 4, positives: 2, negatives: 2, truePositives: 2, falsePositives: 1, trueNegatives: 1, falseNegatives: 0 },
    });
  });
});

describe('undefined values carry a reason', () => {
  const base = { kind: 'binary-classification' as const, threshold: 0.5 };

  it('rejects NaN and infinite scores, naming the row, instead of dropping them', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const report = binaryClassificationMetrics({ ...base, scores: [0.2, bad, 0.9], labels: [0, 1, 1] });
      const reason = `score at row 1 is ${String(bad)}; scores must be finite probabilities in [0, 1]`;
      for (const metric of [report.counts, report.auroc, report.averagePrecision, report.brierScore, report.logLoss, report.sensitivity, report.f1]) {
        expect(metric).toEqual({ defined: false, reason });
      }
    }
  });

  it('rejects scores outside [0, 1] and labels other than 0 and 1', () => {
    expect(binaryClassificationMetrics({ ...base, scores: [0.2, 1.5], labels: [0, 1] }).auroc).toEqual({
      defined: false,
      reason: 'score at row 1 is 1.5; scores must be finite probabilities in [0, 1]',
    });
    expect(binaryClassificationMetrics({ ...base, scores: [0.2, 0.5], labels: [0, 2] }).brierScore).toEqual({
      defined: false,
      reason: 'label at row 1 is 2; labels must be 0 or 1',
    });
  });

  it('explains one-class AUROC, the missing DeLong variance, and empty denominators', () => {
    const negativesOnly = binaryClassificationMetrics({ ...base, scores: [0.1, 0.6], labels: [0, 0] });
    expect(negativesOnly.auroc).toEqual({
      defined: false,
      reason: 'AUROC needs both classes; there are 0 positive and 2 negative labels',
    });
    expect(negativesOnly.averagePrecision).toEqual({
      defined: false,
      reason: 'average precision needs at least one positive label',
    });
    expect(negativesOnly.sensitivity).toEqual({ defined: false, reason: 'no positive labels (TP + FN = 0)' });

    const onePositive = binaryClassificationMetrics({ ...base, scores: [0.1, 0.6, 0.8], labels: [0, 0, 1] });
    expect(onePositive.auroc.defined && onePositive.auroc.value.value).toBe(1);
    expect(onePositive.auroc.defined && onePositive.auroc.value.interval).toEqual({
      defined: false,
      reason: "DeLong's variance needs at least two positive and two negative labels; there are 1 and 2",
    });

    const nothingPredicted = binaryClassificationMetrics({ ...base, threshold: 0.9, scores: [0.1, 0.6], labels: [0, 0] });
    expect(nothingPredicted.positivePredictiveValue).toEqual({
      defined: false,
      reason: 'no score is ≥ the threshold 0.9, so nothing is predicted positive (TP + FP = 0)',
    });
    expect(nothingPredicted.f1).toEqual({
      defined: false,
      reason: 'no positive labels and nothing predicted positive (2TP + FP + FN = 0)',
    });
    expect(nothingPredicted.specificity.defined && nothingPredicted.specificity.value.value).toBe(1);
  });

  it('throws on caller errors: mismatched lengths, a non-finite threshold, an impossible level', () => {
    expect(() => binaryClassificationMetrics({ ...base, scores: [0.1], labels: [0, 1] })).toThrow(RangeError);
    expect(() => binaryClassificationMetrics({ ...base, threshold: Number.NaN, scores: [0.1], labels: [0] })).toThrow(
      RangeError,
    );
    expect(() =>
      binaryClassificationMetrics({ ...base, confidenceLevel: 1, scores: [0.1], labels: [0] }),
    ).toThrow(RangeError);
  });
});

describe('wilsonInterval', () => {
  it('is exactly [0, …] at no successes and […, 1] at all successes', () => {
    expect(wilsonInterval(0, 10, 0.95).lower).toBe(0);
    expect(wilsonInterval(10, 10, 0.95).upper).toBe(1);
  });

  it('narrows as the level falls and widens as it rises', () => {
    const ninety = wilsonInterval(30, 100, 0.9);
    const ninetyNine = wilsonInterval(30, 100, 0.99);
    expect(ninety.lower).toBeGreaterThan(ninetyNine.lower);
    expect(ninety.upper).toBeLessThan(ninetyNine.upper);
  });
});

describe('scale', () => {
  it('scores a million rows with heavy ties exactly as the pairwise definition on the distinct values', () => {
    // Scores on a grid of 1001 values: the Mann–Whitney count from the tie-aware merge must equal
    // Σ over grid values of positives(v)·(negatives below v + ½·negatives at v), computed here from
    // per-value tallies.
    const rows = 1_000_000;
    const scores = new Float64Array(rows);
    const labels = new Uint8Array(rows);
    let state = 12345;
    const next = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const positivesAt = new Float64Array(1001);
    const negativesAt = new Float64Array(1001);
    for (let row = 0; row < rows; row += 1) {
      const grid = Math.floor(next() * 1001);
      const label = next() < grid / 1000 ? 1 : 0;
      scores[row] = grid / 1000;
      labels[row] = label;
      if (label === 1) positivesAt[grid]! += 1;
      else negativesAt[grid]! += 1;
    }
    let mannWhitney = 0;
    let negativesBelow = 0;
    let positiveTotal = 0;
    for (let grid = 0; grid <= 1000; grid += 1) {
      mannWhitney += positivesAt[grid]! * (negativesBelow + negativesAt[grid]! / 2);
      negativesBelow += negativesAt[grid]!;
      positiveTotal += positivesAt[grid]!;
    }
    const started = performance.now();
    const report = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.5 });
    const elapsed = performance.now() - started;
    expect(report.auroc.defined && report.auroc.value.value).toBe(mannWhitney / (positiveTotal * (rows - positiveTotal)));
    expect(elapsed).toBeLessThan(5000);
  });
});
