import { beforeAll, describe, expect, it } from 'vitest';
import { datasetColumns } from '../../../services/adapters/dataset/model-dataset.js';
import type { Dataset } from '../../../services/adapters/dataset/dataset-file.js';
import { datasetReport } from '../../../services/core/metrics/rows/dataset-report.js';
import { windowReport } from '../../../services/core/metrics/rows/window-report.js';
import type { ResultRow } from '../../../services/core/metrics/result-row.js';
import { WindowSketch, type ReferenceProfile } from '../../../services/core/metrics/sketches/window-sketch.js';
import { reportSettings, type ModelSpec } from '../../../services/core/model-spec/model-spec.js';
import { datasetWindow, loadProfiledReportFixture } from '../../support/report-fixture.js';

// The sketches are held to the exact report on data the project did not make (test/support/report-fixture.ts).

let spec: ModelSpec;
let reference: Dataset;
let current: Dataset;
let profile: ReferenceProfile;

beforeAll(async () => {
  ({ spec, reference, current, profile } = await loadProfiledReportFixture());
});

/** Rows from..to of the current dataset, predictions and (when `withOutcomes`) their outcomes. */
const windowOf = (from: number, to: number, withOutcomes = true): WindowSketch => datasetWindow(profile, spec, current, from, to, withOutcomes);

function sketchedRows(window: WindowSketch): ResultRow[] {
  return windowReport({ window, ...reportSettings(spec) }).rows;
}

function exactRows(): ResultRow[] {
  return datasetReport({
    ...reportSettings(spec),
    reference: datasetColumns(reference),
    current: datasetColumns(current),
  }).rows;
}

const key = (row: ResultRow): string => [row.kind, row.metric, row.feature, row.segment, row.group].join('|');

/** The bound a sketched row states in its reason, or null when it states none. */
function statedBound(row: ResultRow): number | null {
  const match = /within ([0-9.e+-]+) of the exact value/.exec(row.reason ?? '');
  return match === null ? (row.reason?.includes('sketches, exactly') ? 0 : null) : Number(match[1]);
}

// Metrics whose value the sketches give only within a bound, and the most that bound may be on
// this data at the default resolutions (grid of 200 cells per standard deviation, 10,000 score bins).
const BOUNDED: Record<string, number> = {
  ks: 0.001,
  wasserstein_norm: 0.002,
  auroc: 0.002,
  average_precision: 0.005,
  cbpe_auroc: 0.001,
};

describe('windowReport', () => {
  it('gives every row of the exact report, with the same status, within the documented error', () => {
    const exact = exactRows();
    const sketched = sketchedRows(windowOf(0, current.rowCount));
    expect(sketched.map(key)).toEqual(exact.map(key));
    const relative = (actual: number | null, expected: number | null): number =>
      actual === null || expected === null ? (actual === expected ? 0 : Infinity) : Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
    exact.forEach((expected, index) => {
      const actual = sketched[index]!;
      const name = key(expected);
      expect(actual.status, name).toBe(expected.status);
      expect([actual.n_reference, actual.n_current], name).toEqual([expected.n_reference, expected.n_current]);
      if (expected.value === null) return;
      const bound = statedBound(actual);
      if (expected.metric === 'wasserstein') {
        const spread = (expected.value ?? 0) / (exact.find((row) => row.metric === 'wasserstein_norm' && row.feature === expected.feature)?.value ?? 1);
        expect(Math.abs(actual.value! - expected.value), name).toBeLessThanOrEqual(bound! * (1 + 1e-9) + 1e-12);
        expect(Math.abs(actual.value! - expected.value) / spread, name).toBeLessThanOrEqual(BOUNDED.wasserstein_norm!);
      } else if (expected.metric in BOUNDED) {
        expect(bound, `${name} states its bound`).not.toBeNull();
        expect(Math.abs(actual.value! - expected.value), name).toBeLessThanOrEqual(bound! * (1 + 1e-9) + 1e-12);
        expect(bound!, name).toBeLessThanOrEqual(BOUNDED[expected.metric]!);
      } else if (expected.metric === 'calibration_intercept' || expected.metric === 'calibration_slope') {
        expect(Math.abs(actual.value! - expected.value), name).toBeLessThanOrEqual(2e-3);
        expect(Math.abs(actual.ci_low! - expected.ci_low!), name).toBeLessThanOrEqual(2e-3);
        expect(Math.abs(actual.ci_high! - expected.ci_high!), name).toBeLessThanOrEqual(2e-3);
      } else {
        // Everything counted is exact, up to the order of floating-point sums.
        expect(relative(actual.value, expected.value), name).toBeLessThanOrEqual(1e-9);
        expect(relative(actual.ci_low, expected.ci_low), name).toBeLessThanOrEqual(1e-9);
        expect(relative(actual.ci_high, expected.ci_high), name).toBeLessThanOrEqual(1e-9);
        if (expected.metric === 'chi_square') expect(relative(actual.p_value, expected.p_value), name).toBeLessThanOrEqual(1e-9);
      }
      if (expected.metric === 'auroc') {
        expect(Math.abs(actual.ci_low! - expected.ci_low!), name).toBeLessThanOrEqual(0.002);
        expect(Math.abs(actual.ci_high! - expected.ci_high!), name).toBeLessThanOrEqual(0.002);
      }
    });
  });

  it('calibrates CBPE on the reference as the exact report does, with the same sampling-error band', () => {
    const isEstimate = (row: ResultRow): boolean => row.metric === 'cbpe_auroc';
    const exact = exactRows().find(isEstimate)!;
    const sketched = sketchedRows(windowOf(0, current.rowCount)).find(isEstimate)!;
    // Calibrated probabilities are constant within a bin, so only NannyML's rounding of the row-level curve separates the two.
    const bound = statedBound(sketched)!;
    expect(bound).toBeLessThan(1e-6);
    expect(Math.abs(sketched.value! - exact.value!)).toBeLessThanOrEqual(bound);
    // The band is the estimate ± 3 σ, σ from the reference and the window's size, so it moves only with the estimate.
    expect(Math.abs(sketched.ci_low! - exact.ci_low!)).toBeLessThanOrEqual(bound);
    expect(Math.abs(sketched.ci_high! - exact.ci_high!)).toBeLessThanOrEqual(bound);
    expect(exact.ci_low!).toBeLessThan(exact.value!);
    expect(exact.reason).toMatch(/calibrated on the reference \(isotonic regression on 3000 labelled rows, cross-validated ECE .*\); interval: NannyML's sampling-error band, ±3 σ from the reference \(σ = 0\.0\d+\)$/);
    expect(sketched.reason!.startsWith(`${exact.reason!}; from the window's sketches`)).toBe(true);
  });

  it('reports the same from windows merged in any grouping, and from their JSON form', () => {
    const whole = sketchedRows(windowOf(0, current.rowCount));
    const thirds = [windowOf(0, 700), windowOf(700, 1900), windowOf(1900, current.rowCount)];
    const merged = thirds[0]!.merge(thirds[1]!).merge(thirds[2]!);
    const otherOrder = thirds[2]!.merge(thirds[0]!.merge(thirds[1]!));
    const revived = WindowSketch.fromJSON(profile, JSON.parse(JSON.stringify(merged)));
    for (const rows of [sketchedRows(merged), sketchedRows(otherOrder), sketchedRows(revived)]) {
      expect(rows.map(key)).toEqual(whole.map(key));
      rows.forEach((row, index) => {
        const expected = whole[index]!;
        expect(row.status).toBe(expected.status);
        for (const field of ['value', 'p_value', 'ci_low', 'ci_high'] as const) {
          if (expected[field] === null) expect(row[field]).toBeNull();
          else expect(Math.abs(row[field]! - expected[field]) / Math.max(Math.abs(expected[field]), 1e-12), `${key(row)} ${field}`).toBeLessThanOrEqual(1e-9);
        }
      });
    }
  });

  it('estimates performance from scores while no outcome has arrived, and says so', () => {
    const rows = sketchedRows(windowOf(0, 400, false));
    expect(rows.find((row) => row.metric === 'auroc')).toMatchObject({ status: 'undefined', value: null, n_current: 400 });
    expect(rows.find((row) => row.metric === 'auroc')?.reason).toContain('no outcome has arrived');
    expect(rows.find((row) => row.metric === 'cbpe_auroc')?.value).toBeGreaterThan(0.5);
    expect(rows.some((row) => row.kind === 'fairness' || row.kind === 'calibration')).toBe(false);
    expect(rows.find((row) => row.metric === 'psi' && row.feature === 'lactate')?.status).not.toBe('undefined');
  });

  it('refuses a bad prediction or outcome without counting any of it', () => {
    const window = windowOf(0, 50);
    const before = JSON.stringify(window);
    expect(() => window.addPrediction({ features: { heart_rate: 80, lactate: Number.NaN }, score: 0.2 })).toThrow(/lactate/);
    expect(() => window.addPrediction({ features: { admission_source: 3 }, score: 0.2 })).toThrow(/admission_source/);
    expect(() => window.addPrediction({ features: {}, score: 1.5 })).toThrow(/score/);
    expect(() => window.addOutcome({ score: 0.2, label: 2 as 0, segments: {} })).toThrow(/label/);
    expect(JSON.stringify(window)).toBe(before);
  });
});
