import { describe, expect, it } from 'vitest';
import type { MetricThreshold } from '../../../services/core/metrics/rows/threshold-policy.js';
import { labelRows, PROVISIONAL_COVERAGE_REASON, provisionalBelowCoverage, type WindowLabels } from '../../../services/core/monitoring/label-rows.js';
import { resultRow } from '../../../services/core/metrics/result-row.js';
import { LabelDelaySketch } from '../../../services/core/metrics/sketches/label-delay-sketch.js';

const THRESHOLDS: Record<string, MetricThreshold> = {
  label_coverage: { warn: 0.8, alert: 0.5, direction: 'below' },
  label_delay_p90_seconds: { warn: 172_800, alert: 259_200, direction: 'above' },
};
const thresholds = (metric: string): MetricThreshold | undefined => THRESHOLDS[metric];
/** 80 delays: 40 of 90,000 s, then 40 of 300,000 s, so the median is 195,000 s and the 90th percentile 300,000 s, both exact. */
const delays = new LabelDelaySketch();
for (let index = 0; index < 80; index++) delays.add(index < 40 ? 90_000_000 : 300_000_000);
const LABELS: WindowLabels = { predictions: 200, outcomes: 80, delays, outcomesWithoutPrediction: 3 };
const byMetric = (labels: WindowLabels, state: 'provisional' | 'final') => new Map(labelRows(labels, state, thresholds).map((row) => [row.metric, row]));

describe('label rows', () => {
  it('judges coverage, delays and unmatched outcomes of a final window by their thresholds', () => {
    const rows = byMetric(LABELS, 'final');
    expect([...rows.keys()]).toEqual(['label_coverage', 'label_delay_median_seconds', 'label_delay_p90_seconds', 'unmatched_outcomes']);
    expect(rows.get('label_coverage')).toMatchObject({ kind: 'labels', value: 0.4, n_current: 200, status: 'alert', threshold: 0.5, reason: null });
    expect(rows.get('label_delay_median_seconds')).toMatchObject({ value: 195_000, n_current: 80, status: 'ok', threshold: null, reason: "from the window's sketches, exactly" });
    expect(rows.get('label_delay_p90_seconds')).toMatchObject({ value: 300_000, n_current: 80, status: 'alert', threshold: 259_200 });
    expect(rows.get('unmatched_outcomes')).toMatchObject({ value: 3, status: 'ok' });
  });

  it('reports the coverage of a provisional window without judging it, and still judges its delays', () => {
    const rows = byMetric(LABELS, 'provisional');
    expect(rows.get('label_coverage')).toMatchObject({ value: 0.4, status: 'ok', threshold: 0.5, reason: PROVISIONAL_COVERAGE_REASON });
    expect(rows.get('label_delay_p90_seconds')?.status).toBe('alert');
  });

  it('leaves the delays undefined until an outcome arrives', () => {
    const rows = byMetric({ ...LABELS, outcomes: 0, delays: new LabelDelaySketch() }, 'final');
    expect(rows.get('label_coverage')).toMatchObject({ value: 0, status: 'alert' });
    for (const metric of ['label_delay_median_seconds', 'label_delay_p90_seconds']) {
      expect(rows.get(metric)).toMatchObject({ value: null, n_current: 0, status: 'undefined', reason: 'no outcome has arrived for this window yet' });
    }
  });
});

describe('performance below the minimum label coverage', () => {
  const rows = [
    resultRow({ kind: 'performance', metric: 'auroc', value: 0.64, threshold: 0.7, status: 'alert', reason: 'AUROC 0.64 is below the alert threshold 0.7' }),
    resultRow({ kind: 'performance', metric: 'cbpe_auroc', value: 0.81, status: 'ok' }),
    resultRow({ kind: 'calibration', metric: 'ece', value: 0.02, status: 'ok' }),
    resultRow({ kind: 'fairness', metric: 'equalized_odds_difference', segment: 'sex', status: 'undefined', reason: 'too few outcomes' }),
    resultRow({ kind: 'drift', metric: 'psi', feature: 'lactate', value: 0.4, status: 'alert' }),
  ];

  it('is reported but not judged, and says so with the status it would have had; the estimate and drift are untouched', () => {
    const judged = provisionalBelowCoverage(rows, { predictions: 200, outcomes: 60 }, 0.8);
    expect(judged[0]).toMatchObject({ value: 0.64, status: 'ok', reason: 'provisional: label coverage 30% is below the minimum 80%; judged now it would be alert; AUROC 0.64 is below the alert threshold 0.7' });
    expect(judged[1]).toEqual(rows[1]);
    expect(judged[2]).toMatchObject({ status: 'ok', reason: 'provisional: label coverage 30% is below the minimum 80%' });
    expect(judged[3]).toEqual(rows[3]);
    expect(judged[4]).toEqual(rows[4]);
  });

  it('changes nothing at or above the minimum, or without predictions', () => {
    expect(provisionalBelowCoverage(rows, { predictions: 200, outcomes: 160 }, 0.8)).toEqual(rows);
    expect(provisionalBelowCoverage(rows, { predictions: 0, outcomes: 0 }, 0.8)).toEqual(rows);
  });
});
