import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateConfidenceBasedPerformance } from '../../../services/core/metrics/estimation/confidence-based-estimation.js';
import { calibratedBinProbabilities, calibrateScores, fitScoreCalibration } from '../../../services/core/metrics/estimation/isotonic-calibration.js';
import {
  binProbabilities,
  calibrationErrorBinEdges,
  estimateWithReference,
  estimationContext,
  fitEstimationReference,
  nannymlCalibrationError,
} from '../../../services/core/metrics/estimation/reference-estimation.js';
import { aurocSamplingError, aurocSamplingErrorComponents, samplingErrorBand } from '../../../services/core/metrics/estimation/sampling-error.js';
import { defined } from '../../../services/core/metrics/result-row.js';
import { estimationRows } from '../../../services/core/metrics/rows/model-rows.js';
import { DEFAULT_RESOLUTION } from '../../../services/core/metrics/sketches/score-label-sketch.js';
import { ScoreSketch } from '../../../services/core/metrics/sketches/score-sketch.js';
import { createRandom } from '../../../services/simulator/random.js';

/** Shape of the end-to-end and ECE parts of test/fixtures/oracles/cbpe-calibration.json, written by test/oracles/cbpe_oracle.py. */
interface EstimationOracle {
  versions: Record<string, string>;
  calibrationError: { name: string; values: number[]; labels: number[]; binEdges: [number, number][]; expected: number }[];
  endToEnd: {
    name: string;
    threshold: number;
    reference: { scores: number[]; labels: number[] };
    analysisScores: number[];
    /** The analysis scores moved to the centres of their bins, where NannyML's calibration and Vigil's coincide. */
    centredAnalysisScores: number[];
    expected: {
      components: [number, number];
      nannymlNeedsCalibration: boolean;
      /** NannyML on the centred scores, and (estimatedAurocOfRawScores) on the raw ones. */
      chunks: { start: number; end: number; estimatedAuroc: number; samplingError: number; lower: number; upper: number; estimatedAurocOfRawScores: number }[];
    };
  }[];
}

const oracle = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/cbpe-calibration.json', import.meta.url)), 'utf8'),
) as EstimationOracle;

const value = <T>(outcome: { defined: true; value: T } | { defined: false; reason: string }): T => {
  if (!outcome.defined) throw new Error(outcome.reason);
  return outcome.value;
};

const noThresholds = () => undefined;

/**
 * At a bin's centre NannyML's calibration (sklearn's predict, linear between the fitted points) is
 * Vigil's value for the bin up to a rounding, and NannyML's estimate rounds its cumulative sums to
 * 5 decimals, which a rounding in the last place can tip: 1e-9 on the estimated AUROC. The
 * sampling error is a standard deviation over the reference's positives: 1e-12 relative.
 */
const ESTIMATE_TOLERANCE = 1e-9;
/**
 * On raw scores NannyML interpolates within a bin where Vigil holds one value per bin (what a
 * window's sketch can apply): the estimates differ by what that moves, 1.6e-6 to 2.7e-5 on these
 * chunks; 1e-4 is the bound held.
 */
const RAW_SCORE_DEVIATION = 1e-4;

describe(`CBPE calibrated on the reference against nannyml ${oracle.versions.nannyml}'s CBPE`, () => {
  it.each(oracle.endToEnd.map((testCase) => [testCase.name, testCase] as const))('%s: estimate, sampling error and band per chunk', (_name, testCase) => {
    const { reference, analysisScores, centredAnalysisScores, threshold, expected } = testCase;
    const probabilities = calibratedBinProbabilities(value(fitScoreCalibration(reference.scores, reference.labels, DEFAULT_RESOLUTION)));
    const components = value(aurocSamplingErrorComponents(reference.scores, reference.labels));
    expect(Math.abs(components.standardDeviation - expected.components[0]) / expected.components[0]).toBeLessThanOrEqual(1e-12);
    expect(components.positiveFraction).toBe(expected.components[1]);
    const calibratedEstimate = (scores: number[]): number => value(estimateConfidenceBasedPerformance(scores, threshold, calibrateScores(scores, probabilities)).estimatedAuroc).value;
    for (const chunk of expected.chunks) {
      const scores = centredAnalysisScores.slice(chunk.start, chunk.end);
      const estimate = calibratedEstimate(scores);
      expect(Math.abs(estimate - chunk.estimatedAuroc), `estimate of rows ${chunk.start}..${chunk.end}`).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
      const raw = analysisScores.slice(chunk.start, chunk.end);
      expect(Math.abs(calibratedEstimate(raw) - chunk.estimatedAurocOfRawScores), `raw scores of rows ${chunk.start}..${chunk.end}`).toBeLessThanOrEqual(RAW_SCORE_DEVIATION);
      const samplingError = aurocSamplingError(components, scores.length);
      expect(Math.abs(samplingError - chunk.samplingError) / chunk.samplingError).toBeLessThanOrEqual(1e-12);
      const band = samplingErrorBand(estimate, samplingError);
      expect(Math.abs(band.lower - chunk.lower)).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
      expect(Math.abs(band.upper - chunk.upper)).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
    }
  });

  it.each(oracle.endToEnd.map((testCase) => [testCase.name, testCase] as const))('%s: decides to calibrate as NannyML did, and the report path gives the same', (_name, testCase) => {
    const { reference, centredAnalysisScores, threshold, expected } = testCase;
    const fitted = fitEstimationReference(reference.scores, reference.labels, DEFAULT_RESOLUTION);
    expect(fitted.calibration.defined).toBe(expected.nannymlNeedsCalibration);
    const chunk = expected.chunks[0]!;
    const { report, context } = estimateWithReference(fitted, centredAnalysisScores.slice(chunk.start, chunk.end), threshold, DEFAULT_RESOLUTION);
    expect(Math.abs(value(report.estimatedAuroc).value - chunk.estimatedAuroc)).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
    const band = value(context.aurocBand);
    expect(Math.abs(band.lower - chunk.lower)).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
    expect(Math.abs(band.upper - chunk.upper)).toBeLessThanOrEqual(ESTIMATE_TOLERANCE);
    expect(context.calibrationNote).toMatch(/^calibrated on the reference \(isotonic regression on \d+ labelled rows, cross-validated ECE /);
  });
});

describe(`NannyML's expected calibration error, which decides whether to calibrate (nannyml ${oracle.versions.nannyml})`, () => {
  it.each(oracle.calibrationError.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    expect(calibrationErrorBinEdges(testCase.values.length)).toEqual(testCase.binEdges);
    expect(Math.abs(nannymlCalibrationError(testCase.values, testCase.labels) - testCase.expected)).toBeLessThanOrEqual(1e-12);
  });

  it("cuts NannyML's documented example and refuses fewer than 4 rows", () => {
    expect(calibrationErrorBinEdges(20, 4)).toEqual([[0, 5], [5, 10], [10, 15], [15, 20]]);
    expect(() => calibrationErrorBinEdges(3)).toThrow(RangeError);
  });
});

/** Uniform scores with labels drawn from them: calibrated already. */
function calibratedRows(seed: number, rows: number): { scores: number[]; labels: number[] } {
  const random = createRandom(seed);
  const scores: number[] = [];
  const labels: number[] = [];
  for (let row = 0; row < rows; row++) {
    const score = random.uniform();
    scores.push(score);
    labels.push(random.uniform() < score ? 1 : 0);
  }
  return { scores, labels };
}

describe('fitEstimationReference', () => {
  it('fits the same whatever order the reference rows come in, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { minLength: 30, maxLength: 300 }),
        fc.integer(),
        (rows, seed) => {
          // Scores on 41 values, so that many tie.
          const scores = rows.map(([step]) => step / 40);
          const labels = rows.map(([, positive]) => (positive ? 1 : 0));
          const random = createRandom(seed);
          const order = rows.map((_, row) => row);
          for (let row = order.length - 1; row > 0; row--) {
            const other = Math.floor(random.uniform() * (row + 1));
            [order[row], order[other]] = [order[other]!, order[row]!];
          }
          const shuffled = fitEstimationReference(order.map((row) => scores[row]!), order.map((row) => labels[row]!), DEFAULT_RESOLUTION);
          expect(shuffled).toEqual(fitEstimationReference(scores, labels, DEFAULT_RESOLUTION));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('leaves scores uncalibrated where NannyML would, and says why', () => {
    // 300 calibrated rows: isotonic regression fits their noise, and raises the held-out ECE.
    const { scores, labels } = calibratedRows(1, 300);
    const fitted = fitEstimationReference(scores, labels, DEFAULT_RESOLUTION);
    expect(fitted.calibration).toMatchObject({ defined: false, reason: expect.stringMatching(/^isotonic calibration does not lower the reference's cross-validated ECE \(0\.0\d+ uncalibrated, 0\.0\d+ calibrated\)$/) });
    expect(fitted.crossValidatedEce!.calibrated).toBeGreaterThanOrEqual(fitted.crossValidatedEce!.uncalibrated);
    expect(fitted.aurocSamplingError.defined).toBe(true);
    // Uncalibrated, the estimate is the one from the raw scores, and the band is still there.
    const current = calibratedRows(2, 500).scores;
    const { report, context } = estimateWithReference(fitted, current, 0.3, DEFAULT_RESOLUTION);
    expect(report).toEqual(estimateConfidenceBasedPerformance(current, 0.3));
    expect(context.calibrationNote).toMatch(/^not calibrated: isotonic calibration does not lower/);
    expect(context.aurocBand.defined).toBe(true);

    expect(fitEstimationReference([0.1, 0.2, 0.9], [0, 0, 0], DEFAULT_RESOLUTION).calibration).toEqual({ defined: false, reason: "the reference's labels are all of one class" });
    expect(fitEstimationReference([0.1, 0.2, 0.8, 0.9], [0, 1, 0, 0], DEFAULT_RESOLUTION).calibration).toMatchObject({ defined: false, reason: expect.stringContaining('fewer than 2 labels of one class') });
    const separable = Array.from({ length: 40 }, (_, row) => (row < 20 ? 0.1 + row / 1000 : 0.8 + row / 1000));
    expect(fitEstimationReference(separable, separable.map((score) => (score > 0.5 ? 1 : 0)), DEFAULT_RESOLUTION).calibration).toMatchObject({
      defined: false,
      reason: expect.stringContaining('is above 0.999, where NannyML does not calibrate'),
    });
  });

  it('fits on the labelled rows only, and without labels uses the raw scores and gives no band', () => {
    const { scores, labels } = calibratedRows(3, 2000);
    const withMissing = labels.map((label, row) => (row % 3 === 0 ? null : label));
    const fitted = fitEstimationReference(scores, withMissing, DEFAULT_RESOLUTION);
    const kept = scores.filter((_, row) => row % 3 !== 0);
    expect(fitted.labelledRows).toBe(kept.length);
    expect(fitted.aurocSamplingError).toEqual(aurocSamplingErrorComponents(kept, labels.filter((_, row) => row % 3 !== 0)));

    for (const unlabelled of [fitEstimationReference(scores, null, DEFAULT_RESOLUTION), fitEstimationReference(scores, scores.map(() => null), DEFAULT_RESOLUTION)]) {
      expect(unlabelled).toMatchObject({ labelledRows: 0, calibration: { defined: false, reason: 'the reference has no labels' } });
      const { report, context } = estimateWithReference(unlabelled, scores, 0.3, DEFAULT_RESOLUTION);
      expect(report).toEqual(estimateConfidenceBasedPerformance(scores, 0.3));
      const [row] = estimationRows(report, noThresholds, context);
      expect(row).toMatchObject({ metric: 'cbpe_auroc', ci_low: null, ci_high: null });
      expect(row!.value).not.toBeNull();
      expect(row!.reason).toBe(
        'estimated from scores alone (confidence-based performance estimation); not calibrated: the reference has no labels; no sampling-error band: the reference has no labels',
      );
    }
    expect(fitEstimationReference([0.2, 0.4], [1, 2], DEFAULT_RESOLUTION).calibration).toMatchObject({ defined: false, reason: expect.stringContaining('label at row 1 is 2') });
  });

  it('puts the band in the row as its interval, with what it is in the reason', () => {
    const reference = calibratedRows(4, 3000);
    const fitted = fitEstimationReference(reference.scores.map((score) => score ** 2), reference.labels, DEFAULT_RESOLUTION);
    expect(fitted.calibration.defined).toBe(true);
    const current = calibratedRows(5, 1000).scores.map((score) => score ** 2);
    const { report, context } = estimateWithReference(fitted, current, 0.3, DEFAULT_RESOLUTION);
    const [row] = estimationRows(report, noThresholds, context);
    const band = value(context.aurocBand);
    expect(band.samplingError).toBe(aurocSamplingError(value(fitted.aurocSamplingError), 1000));
    expect(row).toMatchObject({ value: value(report.estimatedAuroc).value, ci_low: band.lower, ci_high: band.upper });
    expect(row!.ci_low!).toBeLessThan(row!.value!);
    expect(row!.ci_high!).toBeGreaterThan(row!.value!);
    expect(row!.reason).toMatch(/; calibrated on the reference \(isotonic regression on 3000 labelled rows, cross-validated ECE [0-9.]+ → [0-9.]+\); interval: NannyML's sampling-error band, ±3 σ from the reference \(σ = 0\.0\d+\)$/);
    expect(estimationContext(fitted, 0, defined(0.7)).aurocBand).toEqual({ defined: false, reason: 'no rows' });
  });
});

describe('the calibrated estimate from a window sketch', () => {
  it('equals the estimate over its rows within the bound it states, far inside the uncalibrated bound', () => {
    const reference = calibratedRows(6, 5000);
    const fitted = fitEstimationReference(reference.scores.map((score) => score ** 1.5), reference.labels, DEFAULT_RESOLUTION);
    const probabilities = binProbabilities(fitted, DEFAULT_RESOLUTION);
    expect(probabilities).not.toBeNull();
    for (const rows of [150, 2000, 20_000]) {
      const scores = calibratedRows(7, rows).scores.map((score) => score ** 1.5);
      const sketch = new ScoreSketch();
      for (const score of scores) sketch.add(score);
      const exact = estimateWithReference(fitted, scores, 0.3, DEFAULT_RESOLUTION).report;
      const bounded = value(sketch.estimatedAuroc(probabilities));
      const error = Math.abs(bounded.value - value(exact.estimatedAuroc).value);
      expect(error, `${rows} rows`).toBeLessThanOrEqual(bounded.maximumError);
      expect(bounded.maximumError).toBeLessThan(1e-6);
      const sketched = sketch.confidenceBasedEstimate(0.3, probabilities);
      expect(value(sketched.estimatedAuroc).value).toBe(bounded.value);
      const expected = value(exact.expectedConfusionMatrix).value;
      const actual = value(sketched.expectedConfusionMatrix).value;
      for (const field of ['expectedTruePositives', 'expectedFalsePositives', 'expectedTrueNegatives', 'expectedFalseNegatives'] as const) {
        expect(Math.abs(actual[field] - expected[field]) / Math.max(expected[field], 1e-12), field).toBeLessThan(1e-9);
      }
    }
  });

  it('refuses probabilities for another number of bins', () => {
    const sketch = new ScoreSketch();
    sketch.add(0.5);
    expect(() => sketch.estimatedAuroc(new Float64Array(10))).toThrow(RangeError);
  });
});
