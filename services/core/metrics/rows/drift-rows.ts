import { categoricalDrift, type CategoricalValues } from '../drift/categorical-drift.js';
import { numericDrift } from '../drift/numeric-drift.js';
import { benjaminiHochberg } from '../multiple-testing.js';
import { categoricalFeatureQuality, numericFeatureQuality } from '../quality/feature-quality.js';
import { resultRow, type Outcome, type ResultRow } from '../result-row.js';
import type { NumericValues } from '../statistics/numeric-sample.js';
import { classify, type ThresholdLookup } from './threshold-policy.js';

/** One column compared between the reference and the current data. */
export type FeatureColumns =
  | { name: string; type: 'numeric'; reference: NumericValues; current: NumericValues }
  | { name: string; type: 'categorical'; reference: CategoricalValues; current: CategoricalValues };

export interface DriftRowOptions {
  thresholds: ThresholdLookup;
  /** False discovery rate for the tests (KS, chi-square) across all features; 0.05 unless given. */
  falseDiscoveryRate?: number;
  binCount?: number;
}

interface PendingTest {
  row: ResultRow;
  pValue: number;
}

/**
 * Drift and data-quality rows for every feature. The KS and chi-square tests of all features are
 * judged together with Benjamini–Hochberg at the given false discovery rate: a feature alerts when
 * its adjusted p-value is below it. Distances are judged by their thresholds, when the spec sets them.
 */
export function driftAndQualityRows(features: readonly FeatureColumns[], options: DriftRowOptions): ResultRow[] {
  const falseDiscoveryRate = options.falseDiscoveryRate ?? 0.05;
  const rows: ResultRow[] = [];
  const tests: PendingTest[] = [];

  const measure = (kind: 'drift' | 'quality', metric: string, feature: string, outcome: Outcome<number>, counts: Counts): void => {
    if (!outcome.defined) {
      rows.push(undefinedRow(kind, metric, feature, counts, outcome.reason));
      return;
    }
    const { status, threshold } = classify(outcome.value, options.thresholds(metric));
    rows.push({ ...emptyRow(kind, metric, feature, counts), value: outcome.value, threshold, status });
  };

  const test = (metric: string, feature: string, outcome: Outcome<{ statistic: number; pValue: number }>, counts: Counts): void => {
    if (!outcome.defined) {
      rows.push(undefinedRow('drift', metric, feature, counts, outcome.reason));
      return;
    }
    const row: ResultRow = { ...emptyRow('drift', metric, feature, counts), value: outcome.value.statistic, p_value: outcome.value.pValue, threshold: falseDiscoveryRate };
    rows.push(row);
    tests.push({ row, pValue: outcome.value.pValue });
  };

  for (const feature of features) {
    if (feature.type === 'numeric') {
      const drift = numericDrift(feature.reference, feature.current, options.binCount === undefined ? {} : { binCount: options.binCount });
      const counts = { n_reference: drift.referenceCount, n_current: drift.currentCount };
      test('ks', feature.name, drift.kolmogorovSmirnov, counts);
      measure('drift', 'wasserstein', feature.name, drift.wasserstein, counts);
      measure('drift', 'wasserstein_norm', feature.name, drift.normalizedWasserstein, counts);
      measure('drift', 'psi', feature.name, drift.populationStabilityIndex, counts);
      measure('drift', 'jensen_shannon', feature.name, drift.jensenShannonDistance, counts);
      measure('drift', 'kl', feature.name, drift.klDivergence, counts);
      measure('drift', 'hellinger', feature.name, drift.hellingerDistance, counts);
      const quality = numericFeatureQuality(feature.reference, feature.current);
      const qualityCounts = { n_reference: feature.reference.length, n_current: feature.current.length };
      measure('quality', 'missing_share', feature.name, quality.currentMissingShare, qualityCounts);
      measure('quality', 'out_of_range_share', feature.name, quality.outOfRangeShare, qualityCounts);
    } else {
      const drift = categoricalDrift(feature.reference, feature.current);
      const counts = { n_reference: drift.referenceCount, n_current: drift.currentCount };
      measure('drift', 'psi', feature.name, drift.populationStabilityIndex, counts);
      test('chi_square', feature.name, drift.chiSquare, counts);
      measure('drift', 'jensen_shannon', feature.name, drift.jensenShannonDistance, counts);
      measure('drift', 'l_infinity', feature.name, drift.maxProportionDifference, counts);
      measure('drift', 'unseen_share', feature.name, drift.unseenCategoryShare, counts);
      const quality = categoricalFeatureQuality(feature.reference, feature.current);
      measure('quality', 'missing_share', feature.name, quality.currentMissingShare, { n_reference: feature.reference.length, n_current: feature.current.length });
    }
  }

  if (tests.length > 0) {
    const { adjustedPValues, rejected } = benjaminiHochberg(
      tests.map((pending) => pending.pValue),
      falseDiscoveryRate,
    );
    tests.forEach((pending, index) => {
      const adjusted = adjustedPValues[index] as number;
      pending.row.status = rejected[index] ? 'alert' : 'ok';
      pending.row.reason = `Benjamini-Hochberg adjusted p = ${adjusted.toPrecision(3)} over ${tests.length} tests at false discovery rate ${falseDiscoveryRate}`;
    });
  }
  return rows;
}

interface Counts {
  n_reference: number | null;
  n_current: number | null;
}

function emptyRow(kind: 'drift' | 'quality', metric: string, feature: string, counts: Counts): ResultRow {
  return resultRow({ kind, metric, feature, ...counts });
}

function undefinedRow(kind: 'drift' | 'quality', metric: string, feature: string, counts: Counts, reason: string): ResultRow {
  return resultRow({ kind, metric, feature, ...counts, status: 'undefined', reason });
}
