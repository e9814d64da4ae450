import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  calibrationBin,
  calibrationMetrics,
  type LogisticCoefficient,
} from '../../../services/core/metrics/calibration/calibration.js';
import type { Outcome } from '../../../services/core/metrics/result-row.js';

/** Shape of test/fixtures/oracles/calibration.json, written by test/oracles/performance_oracle.py. */
interface CalibrationCase {
  name: string;
  scores: number[];
  labels: number[];
  expected: {
    expectedCalibrationError: number;
    calibrationIntercept: { value: number; standardError: number } | null;
    calibrationSlope: { value: number; standardError: number } | null;
    observedExpectedRatio: number | null;
    reliability: {
      lower: number;
      upper: number;
      count: number;
      meanScore: number | null;
      observedRate: number | null;
    }[];
  } | null;
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/calibration.json', import.meta.url)), 'utf8'),
) as { versions: Record<string, string>; cases: CalibrationCase[] };

/**
 * Tolerances. ECE, the reliability table and the observed/expected ratio are sums and quotients:
 * 1e-9 relative. Intercept, slope and their standard errors come from two independent iterative
 * fits (Newton–Raphson here, statsmodels' IRLS at tol = 1e-14 there) whose stopping rules leave
 * each within ~1e-10 of the exact maximum; 1e-6 relative to max(1, |coefficient|) allows for that
 * and for the conditioning of fits on a handful of rows. The floor of 1 keeps a coefficient that
 * is exactly 0 in theory (the "touching" case) from being compared relatively to rounding noise.
 */
const RELATIVE_TOLERANCE = 1e-9;
const FIT_TOLERANCE = 1e-6;

function expectClose(actual: number, expected: number, label: string, tolerance = RELATIVE_TOLERANCE, floor = 0): void {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance * Math.max(floor, Math.abs(expected)),
  );
}

function expectFit(
  actual: Outcome<LogisticCoefficient>,
  expected: { value: number; standardError: number } | null,
  label: string,
): void {
  if (expected === null) {
    expect(actual.defined, `${label} should be undefined`).toBe(false);
    return;
  }
  expect(actual.defined, `${label} should be defined: ${actual.defined ? '' : actual.reason}`).toBe(true);
  if (!actual.defined) return;
  expectClose(actual.value.value, expected.value, label, FIT_TOLERANCE, 1);
  expectClose(actual.value.standardError, expected.standardError, `${label} standard error`, FIT_TOLERANCE);
}

describe(`calibrationMetrics against statsmodels ${fixture.versions.statsmodels} GLM(Binomial) and numpy`, () => {
  for (const testCase of fixture.cases) {
    it(`matches on ${testCase.name} (n = ${testCase.scores.length})`, () => {
      const report = calibrationMetrics(Float64Array.from(testCase.scores), testCase.labels);
      const expected = testCase.expected;
      if (expected === null) {
        expect(report.expectedCalibrationError).toEqual({ defined: false, reason: 'no rows' });
        expect(report.calibrationSlope).toEqual({ defined: false, reason: 'no rows' });
        return;
      }
      expect(report.expectedCalibrationError.defined).toBe(true);
      if (report.expectedCalibrationError.defined) {
        expectClose(report.expectedCalibrationError.value, expected.expectedCalibrationError, 'ECE');
      }
      expectFit(report.calibrationIntercept, expected.calibrationIntercept, 'calibration intercept');
      expectFit(report.calibrationSlope, expected.calibrationSlope, 'calibration slope');
      if (expected.observedExpectedRatio === null) {
        expect(report.observedExpectedRatio.defined).toBe(false);
      } else {
        expect(report.observedExpectedRatio.defined).toBe(true);
        if (report.observedExpectedRatio.defined) {
          expectClose(report.observedExpectedRatio.value, expected.observedExpectedRatio, 'O/E');
        }
      }
      if (!report.reliability.defined) throw new Error(report.reliability.reason);
      expect(report.reliability.value.map((bin) => [bin.lower, bin.upper, bin.count])).toEqual(
        expected.reliability.map((bin) => [bin.lower, bin.upper, bin.count]),
      );
      report.reliability.value.forEach((bin, index) => {
        const reference = expected.reliability[index]!;
        for (const [actual, value, label] of [
          [bin.meanScore, reference.meanScore, 'mean score'],
          [bin.observedRate, reference.observedRate, 'observed rate'],
        ] as const) {
          if (value === null) {
            expect(actual).toEqual({ defined: false, reason: 'no scores in this bin' });
          } else {
            expect(actual.defined).toBe(true);
            if (actual.defined) expectClose(actual.value, value, `bin ${index} ${label}`);
          }
        }
      });
    });
  }

  it('includes the edge cases: bin edges, exact 0 and 1, separation, one class, constant scores', () => {
    const names = fixture.cases.map((testCase) => testCase.name);
    for (const name of ['scores-on-bin-edges', 'scores-at-0-and-1', 'separated', 'touching-at-one-score', 'one-class', 'all-equal-scores', 'all-zero-scores', 'large-20k']) {
      expect(names).toContain(name);
    }
  });
});

describe('calibrationBin', () => {
  it('puts each edge k/10 in the bin above it and 1.0 in the last bin', () => {
    for (let edge = 0; edge < 10; edge += 1) expect(calibrationBin(edge / 10)).toBe(edge);
    expect(calibrationBin(1)).toBe(9);
    // The double just below 0.9: multiplied by 10 it rounds to exactly 9, yet it lies below the edge.
    expect(calibrationBin(0.8999999999999999)).toBe(8);
    expect(calibrationBin(0.0999999)).toBe(0);
  });
});

describe('undefined calibration values carry a reason', () => {
  it('explains separation, constant scores and one class', () => {
    const separated = calibrationMetrics([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]);
    expect(separated.calibrationSlope).toEqual({
      defined: false,
      reason:
        'the score separates the labels (no negative scores above any positive), so the maximum-likelihood slope is infinite',
    });
    expect(separated.calibrationIntercept.defined).toBe(true);

    const inverted = calibrationMetrics([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]);
    expect(inverted.calibrationSlope).toEqual({
      defined: false,
      reason:
        'the score separates the labels (no positive scores above any negative), so the maximum-likelihood slope is infinite',
    });

    const constant = calibrationMetrics([0.4, 0.4, 0.4], [0, 1, 0]);
    expect(constant.calibrationSlope).toEqual({
      defined: false,
      reason: 'every clipped score is the same, so the slope is not identifiable',
    });

    const oneClass = calibrationMetrics([0.4, 0.6], [1, 1]);
    const reason = 'every label is 1, so the maximum-likelihood fit does not exist';
    expect(oneClass.calibrationIntercept).toEqual({ defined: false, reason });
    expect(oneClass.calibrationSlope).toEqual({ defined: false, reason });
    expect(oneClass.observedExpectedRatio).toEqual({ defined: true, value: 2 });
  });

  it('rejects NaN and infinite scores with the row, never dropping them', () => {
    const report = calibrationMetrics([0.2, Number.NaN], [0, 1]);
    const reason = 'score at row 1 is NaN; scores must be finite probabilities in [0, 1]';
    expect(report.expectedCalibrationError).toEqual({ defined: false, reason });
    expect(report.reliability).toEqual({ defined: false, reason });
    expect(calibrationMetrics([Number.POSITIVE_INFINITY], [1]).calibrationIntercept).toEqual({
      defined: false,
      reason: 'score at row 0 is Infinity; scores must be finite probabilities in [0, 1]',
    });
  });

  it('gives a perfectly calibrated sample an intercept of 0 and a slope of 1', () => {
    // Two score levels with event rates equal to the scores: the saturated fit is exact.
    const scores: number[] = [];
    const labels: number[] = [];
    for (let row = 0; row < 10; row += 1) {
      scores.push(0.2, 0.6);
      labels.push(row < 2 ? 1 : 0, row < 6 ? 1 : 0);
    }
    const report = calibrationMetrics(scores, labels);
    if (!report.calibrationIntercept.defined || !report.calibrationSlope.defined) throw new Error('undefined fit');
    expect(Math.abs(report.calibrationIntercept.value.value)).toBeLessThan(1e-12);
    expect(Math.abs(report.calibrationSlope.value.value - 1)).toBeLessThan(1e-12);
    expect(report.expectedCalibrationError).toEqual({ defined: true, value: 0 });
  });
});
