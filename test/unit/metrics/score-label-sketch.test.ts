import { describe, expect, it } from 'vitest';
import { calibrationMetrics } from '../../../services/core/metrics/calibration/calibration.js';
import { binaryClassificationMetrics } from '../../../services/core/metrics/performance/binary-classification.js';
import { ScoreLabelSketch } from '../../../services/core/metrics/sketches/score-label-sketch.js';
import { createRandom } from '../../../services/simulator/random.js';

function rows(seed: number, size: number, roundTo?: number): { scores: Float64Array; labels: Uint8Array } {
  const random = createRandom(seed);
  const scores = new Float64Array(size);
  const labels = new Uint8Array(size);
  for (let row = 0; row < size; row++) {
    const score = random.uniform() ** 2;
    scores[row] = roundTo === undefined ? score : Math.round(score * roundTo) / roundTo;
    labels[row] = random.chance(score) ? 1 : 0;
  }
  return { scores, labels };
}

function sketchOf(scores: ArrayLike<number>, labels: ArrayLike<number>, from = 0, to = scores.length): ScoreLabelSketch {
  const sketch = new ScoreLabelSketch();
  for (let row = from; row < to; row++) sketch.add(scores[row] as number, labels[row] as number);
  return sketch;
}

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
const valueOf = (outcome: { defined: boolean; value?: number }): number => (outcome.defined ? (outcome.value as number) : Number.NaN);

describe('ScoreLabelSketch', () => {
  it('merges to exactly the counts of the union, whatever the split, and survives JSON', () => {
    const { scores, labels } = rows(1, 5000);
    const whole = sketchOf(scores, labels);
    for (const split of [1, 1234, 4999]) {
      const merged = sketchOf(scores, labels, 0, split).merge(sketchOf(scores, labels, split));
      expect(merged.positives).toEqual(whole.positives);
      expect(merged.negatives).toEqual(whole.negatives);
      expect(relative(valueOf(merged.brierScore()), valueOf(whole.brierScore()))).toBeLessThan(1e-12);
    }
    const copy = ScoreLabelSketch.fromJSON(JSON.parse(JSON.stringify(whole)));
    expect(copy.positives).toEqual(whole.positives);
    expect(copy.scoreSums).toEqual(whole.scoreSums);
    expect(copy.logLoss()).toEqual(whole.logLoss());
  });

  it.each([
    ['continuous scores', 20_000, undefined],
    ['scores rounded to 3 decimals (many ties)', 20_000, 1000],
    ['a small window', 200, undefined],
  ])('gives AUROC within its stated bound and within 0.002 of the exact value: %s', (_name, size, roundTo) => {
    const { scores, labels } = rows(7, size, roundTo);
    const exact = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
    const approximate = sketchOf(scores, labels).auroc();
    expect(exact.auroc.defined && approximate.defined).toBe(true);
    if (!exact.auroc.defined || !approximate.defined) return;
    const error = Math.abs(approximate.value.value - exact.auroc.value.value);
    expect(error).toBeLessThanOrEqual(approximate.value.maximumError + 1e-12);
    expect(error).toBeLessThanOrEqual(0.002);
  });

  it.each([
    // Values from scikit-learn 1.9.1's log_loss, which clips float64 scores to [eps, 1 - eps].
    ['confident errors', [0, 1], [1, 0], 36.04365338911715],
    ['confident hits', [0, 1], [0, 1], 2.220446049250313e-16],
    ['scores within eps of 0 and 1', [0, 1, 1 - 2 ** -53, 2 ** -60, 0.25], [1, 0, 1, 0, 1], 14.69472022787084],
  ])('clips log loss as scikit-learn does, on the rows and in the sketch alike: %s', (_name, scores, labels, expected) => {
    const exact = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.5 }).logLoss;
    expect(relative(valueOf(exact), expected)).toBeLessThan(1e-15);
    expect(relative(valueOf(sketchOf(scores, labels).logLoss()), expected)).toBeLessThan(1e-15);
  });

  it('matches the exact Brier score, log loss, threshold counts and ECE (1e-9 relative)', () => {
    const { scores, labels } = rows(11, 20_000);
    const sketch = sketchOf(scores, labels);
    const exact = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
    const calibration = calibrationMetrics(scores, labels);
    if (!exact.brierScore.defined || !exact.logLoss.defined || !exact.counts.defined || !calibration.expectedCalibrationError.defined) throw new Error('exact metrics undefined');
    expect(relative(valueOf(sketch.brierScore()), exact.brierScore.value)).toBeLessThan(1e-9);
    expect(relative(valueOf(sketch.logLoss()), exact.logLoss.value)).toBeLessThan(1e-9);
    expect(relative(valueOf(sketch.calibrationReport().expectedCalibrationError), calibration.expectedCalibrationError.value)).toBeLessThan(1e-9);
    const counts = sketch.confusionAt(0.3);
    expect(counts).toEqual({
      defined: true,
      value: {
        truePositives: exact.counts.value.truePositives,
        falsePositives: exact.counts.value.falsePositives,
        trueNegatives: exact.counts.value.trueNegatives,
        falseNegatives: exact.counts.value.falseNegatives,
      },
    });
  });

  it.each([
    ['continuous scores', 20_000, undefined],
    ['scores rounded to 2 decimals (many ties)', 20_000, 100],
    ['scores rounded to 3 decimals', 20_000, 1000],
    ['a small window', 200, undefined],
  ])('gives average precision within its stated bound, and the DeLong interval within 0.002: %s', (_name, size, roundTo) => {
    const { scores, labels } = rows(13, size, roundTo);
    const exact = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
    const sketch = sketchOf(scores, labels);
    const averagePrecision = sketch.averagePrecision();
    if (!averagePrecision.defined || !exact.averagePrecision.defined || !exact.auroc.defined) throw new Error('undefined');
    const error = Math.abs(averagePrecision.value.value - exact.averagePrecision.value);
    expect(error).toBeLessThanOrEqual(averagePrecision.value.maximumError + 1e-12);
    // Rows piled up in few bins (100 distinct scores) leave a wider range; the bound says so.
    if (size > 1000 && roundTo !== 100) expect(averagePrecision.value.maximumError).toBeLessThanOrEqual(0.002);
    const report = sketch.performanceReport(0.3);
    if (!report.auroc.defined || !report.auroc.value.interval.defined || !exact.auroc.value.interval.defined) throw new Error('undefined');
    expect(Math.abs(report.auroc.value.interval.value.lower - exact.auroc.value.interval.value.lower)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(report.auroc.value.interval.value.upper - exact.auroc.value.interval.value.upper)).toBeLessThanOrEqual(0.002);
    const binnedAuroc = sketch.auroc();
    expect(binnedAuroc.defined && report.auroc.value.value).toBe(binnedAuroc.defined && binnedAuroc.value.value);
    // Everything at the threshold is counted, so exact, Wilson intervals included.
    for (const metric of ['sensitivity', 'specificity', 'positivePredictiveValue', 'negativePredictiveValue', 'accuracy', 'prevalence', 'f1', 'counts'] as const) {
      expect(report[metric], metric).toEqual(exact[metric]);
    }
  });

  it('fits calibration intercept and slope on its bins within 0.002 of the exact fit', () => {
    const random = createRandom(17);
    const scores = new Float64Array(20_000);
    const labels = new Uint8Array(20_000);
    for (let row = 0; row < scores.length; row++) {
      // Overconfident scores: the true risk is a flattened version of the score.
      const logit = random.normal(-1.5, 1.6);
      scores[row] = 1 / (1 + Math.exp(-logit));
      labels[row] = random.chance(1 / (1 + Math.exp(-(0.3 + 0.7 * logit)))) ? 1 : 0;
    }
    const exact = calibrationMetrics(scores, labels);
    const sketched = sketchOf(scores, labels).calibrationReport();
    for (const fit of ['calibrationIntercept', 'calibrationSlope'] as const) {
      const [actual, expected] = [sketched[fit], exact[fit]];
      if (!actual.defined || !expected.defined) throw new Error(`${fit} undefined`);
      expect(Math.abs(actual.value.value - expected.value.value), fit).toBeLessThanOrEqual(0.002);
      expect(Math.abs(actual.value.standardError - expected.value.standardError), fit).toBeLessThanOrEqual(0.002);
    }
    expect(relative(valueOf(sketched.observedExpectedRatio), valueOf(exact.observedExpectedRatio))).toBeLessThan(1e-9);
    if (!sketched.reliability.defined || !exact.reliability.defined) throw new Error('no reliability table');
    expect(sketched.reliability.value.map((bin) => bin.count)).toEqual(exact.reliability.value.map((bin) => bin.count));
  });

  it('says what it cannot compute', () => {
    const sketch = new ScoreLabelSketch();
    expect(sketch.brierScore().defined).toBe(false);
    sketch.add(0.4, 1);
    expect(sketch.auroc()).toMatchObject({ defined: false });
    expect(sketch.confusionAt(0.12345)).toMatchObject({ defined: false });
    expect(() => sketch.add(Number.NaN, 1)).toThrow(RangeError);
    expect(() => sketch.merge(new ScoreLabelSketch(100))).toThrow(RangeError);
  });
});
