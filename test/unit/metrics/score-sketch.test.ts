import { describe, expect, it } from 'vitest';
import { estimateConfidenceBasedPerformance } from '../../../services/core/metrics/estimation/confidence-based-estimation.js';
import { ScoreSketch } from '../../../services/core/metrics/sketches/score-sketch.js';
import { createRandom } from '../../../services/simulator/random.js';

function scores(seed: number, size: number, roundTo?: number): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length: size }, () => {
    const score = 1 / (1 + Math.exp(-random.normal(-1.8, 1.3)));
    return roundTo === undefined ? score : Math.round(score * roundTo) / roundTo;
  });
}

const sketchOf = (values: ArrayLike<number>): ScoreSketch => {
  const sketch = new ScoreSketch();
  for (let index = 0; index < values.length; index++) sketch.add(values[index]!);
  return sketch;
};

const value = <T>(outcome: { defined: true; value: T } | { defined: false; reason: string }): T => {
  if (!outcome.defined) throw new Error(outcome.reason);
  return outcome.value;
};

describe('ScoreSketch', () => {
  it.each([
    ['continuous scores', 20_000, undefined],
    ['scores rounded to 2 decimals', 20_000, 100],
    ['a small window', 150, undefined],
  ])('estimates AUROC within its stated bound and within 0.001, and the confusion matrix exactly: %s', (_name, size, roundTo) => {
    const values = scores(5, size, roundTo);
    const exact = estimateConfidenceBasedPerformance(values, 0.3);
    const sketch = sketchOf(values);
    const bounded = value(sketch.estimatedAuroc());
    const error = Math.abs(bounded.value - value(exact.estimatedAuroc).value);
    expect(error).toBeLessThanOrEqual(bounded.maximumError + 1e-9);
    expect(error).toBeLessThanOrEqual(0.001);
    const report = sketch.confidenceBasedEstimate(0.3);
    const expected = value(exact.expectedConfusionMatrix).value;
    const actual = value(report.expectedConfusionMatrix).value;
    for (const field of ['expectedTruePositives', 'expectedFalsePositives', 'expectedTrueNegatives', 'expectedFalseNegatives'] as const) {
      expect(Math.abs(actual[field] - expected[field]) / Math.max(expected[field], 1e-12), field).toBeLessThan(1e-9);
    }
    expect(value(report.estimatedSensitivity).value).toBeCloseTo(value(exact.estimatedSensitivity).value, 9);
    expect(value(report.estimatedAccuracy).value).toBeCloseTo(value(exact.estimatedAccuracy).value, 9);
  });

  it('merges to exactly the counts of the union and survives JSON', () => {
    const values = scores(6, 3000);
    const whole = sketchOf(values);
    const merged = sketchOf(values.subarray(0, 1234)).merge(sketchOf(values.subarray(1234)));
    expect(merged.counts).toEqual(whole.counts);
    merged.scoreSums.forEach((sum, bin) => expect(Math.abs(sum - whole.scoreSums[bin]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, sum)));
    const copy = ScoreSketch.fromJSON(JSON.parse(JSON.stringify(whole)));
    expect(copy.confidenceBasedEstimate(0.3)).toEqual(whole.confidenceBasedEstimate(0.3));
  });

  it('says what it cannot estimate', () => {
    const sketch = new ScoreSketch();
    expect(sketch.confidenceBasedEstimate(0.3).estimatedAuroc).toEqual({ defined: false, reason: 'no rows' });
    sketch.add(0.2);
    sketch.add(0.7);
    const offEdge = sketch.confidenceBasedEstimate(0.123456);
    expect(offEdge.expectedConfusionMatrix).toMatchObject({ defined: false });
    expect(offEdge.estimatedAuroc.defined).toBe(true);
    expect(() => sketch.add(1.01)).toThrow(RangeError);
    expect(() => sketch.merge(new ScoreSketch(100))).toThrow(RangeError);
  });
});
