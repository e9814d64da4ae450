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

  it('matches the exact Brier score, log loss, threshold counts and ECE (1e-9 relative)', () => {
    const { scores, labels } = rows(11, 20_000);
    const sketch = sketchOf(scores, labels);
    const exact = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
    const calibration = calibrationMetrics(scores, labels);
    if (!exact.brierScore.defined || !exact.logLoss.defined || !exact.counts.defined || !calibration.expectedCalibrationError.defined) throw new Error('exact metrics undefined');
    expect(relative(valueOf(sketch.brierScore()), exact.brierScore.value)).toBeLessThan(1e-9);
    expect(relative(valueOf(sketch.logLoss()), exact.logLoss.value)).toBeLessThan(1e-9);
    expect(relative(valueOf(sketch.expectedCalibrationError()), calibration.expectedCalibrationError.value)).toBeLessThan(1e-9);
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
