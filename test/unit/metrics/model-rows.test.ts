import { describe, expect, it } from 'vitest';
import { calibrationMetrics } from '../../../services/core/metrics/calibration/calibration.js';
import { estimateConfidenceBasedPerformance } from '../../../services/core/metrics/estimation/confidence-based-estimation.js';
import { groupFairness } from '../../../services/core/metrics/fairness/group-fairness.js';
import { binaryClassificationMetrics } from '../../../services/core/metrics/performance/binary-classification.js';
import { calibrationRows, estimationRows, fairnessRows, performanceRows } from '../../../services/core/metrics/rows/model-rows.js';
import { createRandom } from '../../../services/simulator/random.js';

function cohort(size: number, seed: number) {
  const random = createRandom(seed);
  const scores = new Float64Array(size);
  const labels = new Uint8Array(size);
  const groups: string[] = [];
  for (let row = 0; row < size; row++) {
    scores[row] = random.uniform();
    labels[row] = random.chance(scores[row] as number) ? 1 : 0;
    groups.push(row % 10 === 0 ? 'small' : row % 2 ? 'F' : 'M');
  }
  return { scores, labels, groups };
}

const noThresholds = () => undefined;

describe('rows of the model metrics', () => {
  const { scores, labels, groups } = cohort(2000, 9);

  it('reports every performance metric with its interval, judged against the thresholds', () => {
    const report = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
    const rows = performanceRows(report, (metric) => (metric === 'auroc' ? { warn: 0.95, alert: 0.6, direction: 'below' } : undefined));
    expect(rows.map((row) => row.metric)).toEqual(['auroc', 'average_precision', 'brier', 'log_loss', 'sensitivity', 'specificity', 'ppv', 'npv', 'f1', 'accuracy', 'prevalence']);
    const auroc = rows[0]!;
    expect(auroc).toMatchObject({ kind: 'performance', status: 'warn', threshold: 0.95, n_current: 2000 });
    expect(auroc.ci_low).toBeLessThan(auroc.value as number);
    expect(auroc.ci_high).toBeGreaterThan(auroc.value as number);
    expect(rows.find((row) => row.metric === 'sensitivity')?.reason).toMatch(/^\d+ of \d+$/);
  });

  it('judges a population-scoped threshold on the population row only', () => {
    const report = groupFairness({ scores, labels, groups, threshold: 0.3, minimumGroupSize: 30 });
    const everywhere = { warn: 0.01, direction: 'above' as const };
    const judged = (scope: 'all' | 'population') => {
      const thresholds = (metric: string) => (metric === 'prevalence' ? { ...everywhere, scope } : undefined);
      const population = performanceRows(binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 }), thresholds).find((row) => row.metric === 'prevalence')!;
      const perGroup = fairnessRows('sex', report, thresholds).filter((row) => row.metric === 'prevalence' && row.status !== 'undefined');
      return { population, perGroup };
    };
    const all = judged('all');
    expect(all.population).toMatchObject({ status: 'warn', threshold: 0.01 });
    expect(all.perGroup.length).toBeGreaterThan(0);
    for (const row of all.perGroup) expect(row).toMatchObject({ status: 'warn', threshold: 0.01 });
    const population = judged('population');
    expect(population.population).toMatchObject({ status: 'warn', threshold: 0.01 });
    for (const row of population.perGroup) expect(row).toMatchObject({ status: 'ok', threshold: null });
  });

  it('says why a metric is undefined instead of reporting 0', () => {
    const report = binaryClassificationMetrics({ kind: 'binary-classification', scores: [0.2, 0.4, 0.9], labels: [1, 1, 1], threshold: 0.5 });
    const auroc = performanceRows(report, noThresholds)[0]!;
    expect(auroc).toMatchObject({ status: 'undefined', value: null, ci_low: null });
    expect(auroc.reason).toBeTruthy();
  });

  it('reports calibration with Wald intervals and CBPE marked as an estimate', () => {
    const calibration = calibrationRows(calibrationMetrics(scores, labels), noThresholds);
    expect(calibration.map((row) => row.metric)).toEqual(['ece', 'calibration_intercept', 'calibration_slope', 'oe_ratio']);
    const slope = calibration[2]!;
    expect(slope.ci_low).toBeLessThan(1.2);
    expect(slope.ci_high).toBeGreaterThan(0.8);
    const [cbpe] = estimationRows(estimateConfidenceBasedPerformance(scores, 0.3), noThresholds);
    expect(cbpe).toMatchObject({ metric: 'cbpe_auroc', kind: 'performance' });
    expect(cbpe?.reason).toContain('estimated');
  });

  it('reports groups, suppresses the small ones, and the fairlearn differences per segment', () => {
    const report = groupFairness({ scores, labels, groups, threshold: 0.3, minimumGroupSize: 250 });
    const rows = fairnessRows('sex', report, noThresholds);
    expect(rows.find((row) => row.group === 'small')).toMatchObject({ status: 'undefined', segment: 'sex', n_current: 200 });
    expect(rows.filter((row) => row.group === 'F' && row.kind === 'performance')).toHaveLength(11);
    const differences = rows.filter((row) => row.group === null);
    expect(differences.map((row) => row.metric)).toEqual(['demographic_parity_difference', 'equal_opportunity_difference', 'equalized_odds_difference']);
    expect(differences[0]?.reason).toContain('2 groups compared');
  });
});
