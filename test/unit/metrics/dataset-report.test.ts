import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../../../services/core/metrics/result-row.js';
import { datasetReport, type DatasetColumns } from '../../../services/core/metrics/rows/dataset-report.js';
import { createRandom } from '../../../services/simulator/random.js';

function columns(seed: number, rows: number, withLabels: boolean): DatasetColumns {
  const random = createRandom(seed);
  const heartRate = Array.from({ length: rows }, () => (random.chance(0.05) ? null : random.normal(88, 14)));
  const source = Array.from({ length: rows }, () => (random.chance(0.3) ? 'ED' : 'ward'));
  const sex = Array.from({ length: rows }, () => (random.chance(0.5) ? 'F' : 'M'));
  const scores = Float64Array.from({ length: rows }, () => random.uniform());
  const labels = Uint8Array.from(scores, (score) => (random.chance(score) ? 1 : 0));
  return {
    rowCount: rows,
    numeric: () => heartRate,
    categorical: () => source,
    segment: () => sex,
    scores,
    labels: withLabels ? labels : null,
  };
}

const input = (current: DatasetColumns) => ({
  features: [
    { name: 'heart_rate', type: 'numeric' as const },
    { name: 'admission_source', type: 'categorical' as const },
  ],
  scoreColumn: 'score',
  segments: ['sex'],
  decisionThreshold: 0.3,
  minimumGroupSize: 30,
  falseDiscoveryRate: 0.05,
  thresholds: () => undefined,
  reference: columns(1, 1500, true),
  current,
});

describe('datasetReport', () => {
  it('reports drift of features and score, performance, calibration, fairness and the estimate', () => {
    const { rows, reliability } = datasetReport(input(columns(2, 1200, true)));
    const kinds = new Set(rows.map((row) => `${row.kind}:${row.metric}`));
    for (const expected of ['drift:ks', 'drift:chi_square', 'quality:missing_share', 'performance:auroc', 'calibration:ece', 'fairness:equalized_odds_difference', 'performance:cbpe_auroc']) {
      expect(kinds.has(expected), expected).toBe(true);
    }
    expect(rows.some((row) => row.feature === 'score' && row.metric === 'ks')).toBe(true);
    expect(rows.filter((row) => row.kind === 'fairness' && row.segment === 'sex' && row.group !== null).map((row) => row.group)).toEqual(['F', 'M']);
    expect(reliability.defined).toBe(true);
  });

  it('leaves rows without a label out of performance, calibration and fairness only, and says how many', () => {
    const full = columns(2, 1200, true);
    const labels = Array.from(full.labels!, (label, row) => (row % 10 === 3 ? null : label));
    const kept = labels.flatMap((label, row) => (label === null ? [] : [row]));
    const select = <T>(values: ArrayLike<T>): T[] => kept.map((row) => values[row] as T);
    const labelledOnly: DatasetColumns = {
      rowCount: kept.length,
      numeric: (name) => select(full.numeric(name)),
      categorical: (name) => select(full.categorical(name)),
      segment: (name) => select(full.segment(name)),
      scores: Float64Array.from(select(full.scores)),
      labels: select(full.labels!),
    };
    const partial = datasetReport(input({ ...full, labels })).rows;
    const isMeasured = (row: ResultRow): boolean => row.kind !== 'drift' && row.kind !== 'quality' && row.metric !== 'cbpe_auroc';
    const expected = datasetReport(input(labelledOnly)).rows.filter(isMeasured);
    expect(partial.filter(isMeasured)).toEqual(expected.map((row) => ({ ...row, reason: row.reason === null ? '120 rows without a label left out' : `${row.reason}; 120 rows without a label left out` })));
    expect(partial.find((row) => row.metric === 'auroc')?.n_current).toBe(1080);
    // Drift and the estimate from scores take every row.
    expect(partial.filter((row) => !isMeasured(row))).toEqual(datasetReport(input(full)).rows.filter((row) => !isMeasured(row)));
    expect(partial.find((row) => row.metric === 'cbpe_auroc')?.n_current).toBe(1200);
  });

  it('says performance is unmeasured when no row has a label', () => {
    const { rows, reliability } = datasetReport(input({ ...columns(2, 300, true), labels: Array.from({ length: 300 }, () => null) }));
    expect(rows.find((row) => row.metric === 'auroc')).toMatchObject({ status: 'undefined', value: null, n_current: 300 });
    expect(rows.find((row) => row.metric === 'auroc')?.reason).toContain('no row of the current data has a label');
    expect(reliability).toEqual({ defined: false, reason: 'no row of the current data has a label' });
  });

  it("fits the estimate's calibration and band on the reference's labels, never on the current data's", () => {
    const isEstimate = (row: ResultRow): boolean => row.metric === 'cbpe_auroc';
    const estimate = datasetReport(input(columns(2, 1200, false))).rows.find(isEstimate)!;
    expect(estimate.ci_low!).toBeLessThan(estimate.value!);
    expect(estimate.ci_high!).toBeGreaterThan(estimate.value!);
    expect(estimate.reason).toContain("interval: NannyML's sampling-error band, ±3 σ from the reference");
    expect(datasetReport(input(columns(2, 1200, true))).rows.find(isEstimate)).toEqual(estimate);
    const withoutReferenceLabels = datasetReport({ ...input(columns(2, 1200, false)), reference: columns(1, 1500, false) }).rows.find(isEstimate)!;
    expect(withoutReferenceLabels).toMatchObject({ ci_low: null, ci_high: null, status: 'ok' });
    expect(withoutReferenceLabels.reason).toBe(
      'estimated from scores alone (confidence-based performance estimation); not calibrated: the reference has no labels; no sampling-error band: the reference has no labels',
    );
  });

  it('says performance is unmeasured without labels and still estimates it from scores', () => {
    const { rows } = datasetReport(input(columns(2, 1200, false)));
    expect(rows.find((row) => row.metric === 'auroc')).toMatchObject({ status: 'undefined', value: null });
    expect(rows.find((row) => row.metric === 'auroc')?.reason).toContain('no label column');
    expect(rows.find((row) => row.metric === 'cbpe_auroc')?.value).toBeGreaterThan(0.5);
    expect(rows.some((row) => row.kind === 'fairness' || row.kind === 'calibration')).toBe(false);
  });
});
