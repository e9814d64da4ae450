import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibratedBinProbabilities,
  calibrateScores,
  fitBinnedCalibration,
  fitScoreCalibration,
  isotonicRegression,
} from '../../../services/core/metrics/estimation/isotonic-calibration.js';

/** Shape of the calibration parts of test/fixtures/oracles/cbpe-calibration.json, written by test/oracles/cbpe_oracle.py. */
interface CalibrationOracle {
  versions: Record<string, string>;
  isotonic: { name: string; values: number[]; weights: number[]; expected: number[] }[];
  binnedCalibration: {
    name: string;
    resolution: number;
    scores: number[];
    labels: number[];
    expected: { thresholdBins: number[]; thresholdValues: number[]; probeBins: number[]; probabilities: number[] };
  }[];
}

const oracle = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/cbpe-calibration.json', import.meta.url)), 'utf8'),
) as CalibrationOracle;

/**
 * Pool-adjacent-violators pools the same blocks as scikit-learn (scipy's isotonic_regression) and
 * each pooled value is a weighted mean over the same rows, summed in another order: 1e-12
 * relative. The interpolation between kept points is scipy's interp1d formula: also 1e-12.
 */
const TOLERANCE = 1e-12;

const close = (actual: number, expected: number): boolean => Math.abs(actual - expected) <= TOLERANCE * Math.max(1, Math.abs(expected));

const weightedMean = (values: ArrayLike<number>, weights: ArrayLike<number>): number => {
  let sum = 0;
  let weight = 0;
  for (let index = 0; index < values.length; index++) {
    sum += values[index]! * weights[index]!;
    weight += weights[index]!;
  }
  return sum / weight;
};

describe(`isotonicRegression against scikit-learn ${oracle.versions['scikit-learn']}`, () => {
  it.each(oracle.isotonic.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const fitted = isotonicRegression(testCase.values, testCase.weights);
    testCase.expected.forEach((expected, index) => expect(close(fitted[index]!, expected), `${index}: ${fitted[index]} vs ${expected}`).toBe(true));
  });
});

describe(`the calibration on score bins against scikit-learn's IsotonicRegression(out_of_bounds='clip') ${oracle.versions['scikit-learn']}`, () => {
  it.each(oracle.binnedCalibration.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const fitted = fitScoreCalibration(testCase.scores, testCase.labels, testCase.resolution);
    if (!fitted.defined) throw new Error(fitted.reason);
    const { expected } = testCase;
    // The kept points are sklearn's X_thresholds_ and y_thresholds_.
    expect(fitted.value.points.map(([bin]) => bin)).toEqual(expected.thresholdBins);
    fitted.value.points.forEach(([, value], index) => expect(close(value, expected.thresholdValues[index]!), `point ${index}`).toBe(true));
    const probabilities = calibratedBinProbabilities(fitted.value);
    expected.probeBins.forEach((bin, index) => {
      expect(close(probabilities[bin]!, expected.probabilities[index]!), `bin ${bin}: ${probabilities[bin]} vs ${expected.probabilities[index]}`).toBe(true);
    });
  });
});

// Weighted inputs of every kind: ties, runs, single values, weights far apart.
const weightedValues = fc
  .integer({ min: 1, max: 60 })
  .chain((length) =>
    fc.tuple(
      fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)), { minLength: length, maxLength: length }),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 1e-3, max: 1e3, noNaN: true })), { minLength: length, maxLength: length }),
    ),
  );

describe('isotonicRegression, for any weighted input', () => {
  it('is non-decreasing, within the range of its input, and keeps the weighted mean', () => {
    fc.assert(
      fc.property(weightedValues, ([values, weights]) => {
        const fitted = isotonicRegression(values, weights);
        const low = Math.min(...values);
        const high = Math.max(...values);
        fitted.forEach((value, index) => {
          if (index > 0) expect(value).toBeGreaterThanOrEqual(fitted[index - 1]!);
          expect(value).toBeGreaterThanOrEqual(low);
          expect(value).toBeLessThanOrEqual(high);
        });
        expect(Math.abs(weightedMean(fitted, weights) - weightedMean(values, weights))).toBeLessThanOrEqual(1e-12);
      }),
    );
  });

  it('returns a non-decreasing input unchanged, and so is idempotent', () => {
    fc.assert(
      fc.property(weightedValues, ([values, weights]) => {
        const sorted = [...values].sort((left, right) => left - right);
        expect(Array.from(isotonicRegression(sorted, weights))).toEqual(sorted);
        const fitted = isotonicRegression(values, weights);
        expect(isotonicRegression(fitted, weights)).toEqual(fitted);
      }),
    );
  });

  it('keeps a pooled mean within the values pooled when the weighted products underflow', () => {
    // 0.001 × 5.4e-323 rounds to 0 among the subnormals: the plain weighted mean falls below both values.
    const fitted = isotonicRegression([5.4e-323, 5e-324], [0.001, 0.001]);
    for (const value of fitted) {
      expect(value).toBeGreaterThanOrEqual(5e-324);
      expect(value).toBeLessThanOrEqual(5.4e-323);
    }
    expect(fitted[0]).toBe(fitted[1]);
  });

  it('refuses weights that are not positive and values that are not finite', () => {
    expect(() => isotonicRegression([0.2, 0.1], [1, 0])).toThrow(/weight 1/);
    expect(() => isotonicRegression([0.2, Number.NaN], [1, 1])).toThrow(/value 1/);
    expect(() => isotonicRegression([0.2], [1, 1])).toThrow(RangeError);
  });
});

// Labelled rows binned at a small resolution, so that bins repeat, stay empty and sit at both ends.
const binnedRows = fc.integer({ min: 10, max: 200 }).chain((resolution) =>
  fc.record({
    resolution: fc.constant(resolution - (resolution % 10)),
    rows: fc.array(fc.tuple(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5)), fc.constantFrom(0, 1)), { minLength: 1, maxLength: 300 }),
  }),
);

describe('the calibration on score bins, for any labelled rows', () => {
  it('gives every bin a probability in [0, 1], non-decreasing, keeping the share of positives', () => {
    fc.assert(
      fc.property(binnedRows, ({ resolution, rows }) => {
        const scores = rows.map(([score]) => score);
        const labels = rows.map(([, label]) => label);
        const fitted = fitScoreCalibration(scores, labels, resolution);
        if (!fitted.defined) throw new Error(fitted.reason);
        const probabilities = calibratedBinProbabilities(fitted.value);
        expect(probabilities).toHaveLength(resolution);
        probabilities.forEach((probability, bin) => {
          expect(probability).toBeGreaterThanOrEqual(0);
          expect(probability).toBeLessThanOrEqual(1);
          if (bin > 0) expect(probability).toBeGreaterThanOrEqual(probabilities[bin - 1]!);
        });
        // Weighted by the rows of each bin, the calibrated probabilities average to the share of positives.
        const calibrated = calibrateScores(scores, probabilities);
        const mean = calibrated.reduce((sum, value) => sum + value, 0) / rows.length;
        expect(Math.abs(mean - labels.reduce((sum: number, label) => sum + label, 0) / rows.length)).toBeLessThanOrEqual(1e-12);
      }),
    );
  });

  it('keeps an isotonic share of positives per bin as it is, and only the ends of each step', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 30 }), (bins) => {
        // Shares sorted ascending are isotonic already: the fit keeps them.
        const shares = bins.map(([rows, positives]) => Math.min(positives, rows) / rows).sort((left, right) => left - right);
        const rows = bins.map(([count]) => count);
        const positives = shares.map((share, bin) => share * rows[bin]!);
        const fitted = fitBinnedCalibration(positives, rows);
        if (!fitted.defined) throw new Error(fitted.reason);
        const probabilities = calibratedBinProbabilities(fitted.value);
        shares.forEach((share, bin) => expect(Math.abs(probabilities[bin]! - share)).toBeLessThanOrEqual(1e-15));
        const values = fitted.value.points.map(([, value]) => value);
        values.forEach((value, index) => {
          if (index > 0 && index < values.length - 1) expect(value === values[index - 1] && value === values[index + 1]).toBe(false);
        });
      }),
    );
  });

  it('interpolates between kept points across empty bins and holds the ends outside them', () => {
    // Rows in bins 2 (share 0.2) and 6 (share 0.6) of 10: bins 3..5 lie on the line between, 0..1 and 7..9 are clipped.
    const fitted = fitBinnedCalibration([0, 0, 1, 0, 0, 0, 3, 0, 0, 0], [0, 0, 5, 0, 0, 0, 5, 0, 0, 0]);
    if (!fitted.defined) throw new Error(fitted.reason);
    expect(fitted.value.points).toEqual([[2, 0.2], [6, 0.6]]);
    expect(Array.from(calibratedBinProbabilities(fitted.value), (value) => Number(value.toFixed(12)))).toEqual([0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6]);
    expect(fitBinnedCalibration([0, 0], [0, 0])).toEqual({ defined: false, reason: 'no labelled reference row to calibrate on' });
  });
});
