import { categoricalDrift, type CategoricalDrift, type CategoricalValues } from '../drift/categorical-drift.js';
import { numericDrift, type NumericDrift } from '../drift/numeric-drift.js';
import { benjaminiHochberg } from '../multiple-testing.js';
import { categoricalFeatureQuality, numericFeatureQuality } from '../quality/feature-quality.js';
import { resultRow, type Outcome, type ResultRow } from '../result-row.js';
import type { SketchedDriftErrors } from '../sketches/numeric-feature-sketch.js';
import type { NumericValues } from '../statistics/numeric-sample.js';
import { classify, type MetricThreshold, type ThresholdLookup } from './threshold-policy.js';

/** One column compared between the reference and the current data. */
export type FeatureColumns =
  | { name: string; type: 'numeric'; reference: NumericValues; current: NumericValues }
  | { name: string; type: 'categorical'; reference: CategoricalValues; current: CategoricalValues };

/** Entries (missing ones included) on each side, for the quality rows. */
export interface EntryCounts {
  n_reference: number | null;
  n_current: number | null;
}

/**
 * One feature's drift and quality results, from rows or from a window's sketches. `maximumErrors`
 * bounds the metrics a sketch cannot give exactly; the rows carry the bounds in their reason.
 */
export type FeatureComparison =
  | {
      name: string;
      type: 'numeric';
      drift: NumericDrift;
      missingShare: Outcome<number>;
      outOfRangeShare: Outcome<number>;
      entries: EntryCounts;
      maximumErrors?: Outcome<SketchedDriftErrors>;
    }
  | { name: string; type: 'categorical'; drift: CategoricalDrift; missingShare: Outcome<number>; entries: EntryCounts };

/** The exact comparison of one column. */
export function compareColumns(feature: FeatureColumns, binCount?: number): FeatureComparison {
  const entries = { n_reference: feature.reference.length, n_current: feature.current.length };
  if (feature.type === 'numeric') {
    const quality = numericFeatureQuality(feature.reference, feature.current);
    return {
      name: feature.name,
      type: 'numeric',
      drift: numericDrift(feature.reference, feature.current, binCount === undefined ? {} : { binCount }),
      missingShare: quality.currentMissingShare,
      outOfRangeShare: quality.outOfRangeShare,
      entries,
    };
  }
  return {
    name: feature.name,
    type: 'categorical',
    drift: categoricalDrift(feature.reference, feature.current),
    missingShare: categoricalFeatureQuality(feature.reference, feature.current).currentMissingShare,
    entries,
  };
}

export interface DriftRowOptions {
  thresholds: ThresholdLookup;
  /** False discovery rate for the tests (KS, chi-square) across all features; 0.05 unless given. */
  falseDiscoveryRate?: number;
}

interface PendingTest {
  row: ResultRow;
  feature: string;
  test: 'ks' | 'chi_square';
  statistic: number;
  pValue: number;
  /** The spec's warn and alert bounds on the statistic, when it sets them. */
  statisticThreshold: MetricThreshold | undefined;
  /** Bound on the statistic's error when it comes from sketches. */
  maximumError: number | undefined;
}

/**
 * How a row computed from sketches states the bound on its error: to two significant digits,
 * rounded up, so that the stated bound holds even when the exact value is at the end of the range.
 */
export const sketchNote = (maximumError: number): string =>
  maximumError === 0 ? "from the window's sketches, exactly" : `from the window's sketches, within ${roundedUpToTwoDigits(maximumError)} of the exact value`;

/** A positive number rounded up to two significant digits, as text (0.0029041 → "0.0030"). */
export function roundedUpToTwoDigits(value: number): string {
  if (!(value > 0) || !Number.isFinite(value)) return String(value);
  const exponent = Math.floor(Math.log10(value)) - 1;
  let digits = Math.ceil(value / 10 ** exponent);
  // The division may land just below an integer; the decimal read back must not be below the value.
  while (Number(`${digits}e${exponent}`) < value) digits += 1;
  return Number(`${digits}e${exponent}`).toPrecision(2);
}

/**
 * Drift and data-quality rows for every feature. The KS and chi-square tests of all features are
 * judged together with Benjamini–Hochberg at the given false discovery rate: a significant test
 * alerts. When the spec also sets `ks` or `chi_square` thresholds, they bound the statistic beside
 * the test, because with many rows a shift too small to matter is significant: a test then warns
 * or alerts only when it is significant and its statistic is beyond the warn or alert bound, and
 * its row's threshold is that bound rather than the false discovery rate. A distance (PSI,
 * Wasserstein, divergences, L-infinity, unseen share) is the effect size: it warns or alerts when
 * it is beyond its threshold and its feature's test is significant, since on a small window a
 * distance beyond its bound may be chance; without a defined test, its threshold alone judges it.
 * Quality rows (missing and out-of-range shares) are judged by their thresholds alone.
 */
export function driftAndQualityRows(features: readonly FeatureComparison[], options: DriftRowOptions): ResultRow[] {
  const falseDiscoveryRate = options.falseDiscoveryRate ?? 0.05;
  const rows: ResultRow[] = [];
  const tests: PendingTest[] = [];
  /** Each feature's distance rows, judged again once its test's significance is known. */
  const effectSizes = new Map<string, ResultRow[]>();

  const measure = (kind: 'drift' | 'quality', metric: string, feature: string, outcome: Outcome<number>, counts: EntryCounts, maximumError?: number): void => {
    if (!outcome.defined) {
      rows.push(undefinedRow(kind, metric, feature, counts, outcome.reason));
      return;
    }
    const { status, threshold } = classify(outcome.value, options.thresholds(metric));
    const row: ResultRow = { ...emptyRow(kind, metric, feature, counts), value: outcome.value, threshold, status, reason: maximumError === undefined ? null : sketchNote(maximumError) };
    rows.push(row);
    if (kind === 'drift') effectSizes.set(feature, [...(effectSizes.get(feature) ?? []), row]);
  };

  const test = (metric: 'ks' | 'chi_square', feature: string, outcome: Outcome<{ statistic: number; pValue: number }>, counts: EntryCounts, maximumError?: number): void => {
    if (!outcome.defined) {
      rows.push(undefinedRow('drift', metric, feature, counts, outcome.reason));
      return;
    }
    const row: ResultRow = { ...emptyRow('drift', metric, feature, counts), value: outcome.value.statistic, p_value: outcome.value.pValue, threshold: falseDiscoveryRate };
    rows.push(row);
    tests.push({ row, feature, test: metric, statistic: outcome.value.statistic, pValue: outcome.value.pValue, statisticThreshold: options.thresholds(metric), maximumError });
  };

  for (const feature of features) {
    const name = feature.name;
    const counts = { n_reference: feature.drift.referenceCount, n_current: feature.drift.currentCount };
    if (feature.type === 'numeric') {
      const drift = feature.drift;
      const bounds = feature.maximumErrors?.defined ? feature.maximumErrors.value : undefined;
      test('ks', name, drift.kolmogorovSmirnov, counts, bounds?.kolmogorovSmirnov);
      measure('drift', 'wasserstein', name, drift.wasserstein, counts, bounds?.wasserstein);
      measure('drift', 'wasserstein_norm', name, drift.normalizedWasserstein, counts, bounds?.normalizedWasserstein);
      measure('drift', 'psi', name, drift.populationStabilityIndex, counts);
      measure('drift', 'jensen_shannon', name, drift.jensenShannonDistance, counts);
      measure('drift', 'kl', name, drift.klDivergence, counts);
      measure('drift', 'hellinger', name, drift.hellingerDistance, counts);
      measure('quality', 'missing_share', name, feature.missingShare, feature.entries);
      measure('quality', 'out_of_range_share', name, feature.outOfRangeShare, feature.entries);
    } else {
      const drift = feature.drift;
      measure('drift', 'psi', name, drift.populationStabilityIndex, counts);
      test('chi_square', name, drift.chiSquare, counts);
      measure('drift', 'jensen_shannon', name, drift.jensenShannonDistance, counts);
      measure('drift', 'l_infinity', name, drift.maxProportionDifference, counts);
      measure('drift', 'unseen_share', name, drift.unseenCategoryShare, counts);
      measure('quality', 'missing_share', name, feature.missingShare, feature.entries);
    }
  }

  if (tests.length > 0) {
    const { adjustedPValues, rejected } = benjaminiHochberg(
      tests.map((pending) => pending.pValue),
      falseDiscoveryRate,
    );
    tests.forEach((pending, index) => {
      const adjusted = adjustedPValues[index] as number;
      const significant = rejected[index] === true;
      const notes = [`Benjamini-Hochberg adjusted p = ${adjusted.toPrecision(3)} over ${tests.length} tests at false discovery rate ${falseDiscoveryRate}`];
      const judged = pending.statisticThreshold === undefined ? undefined : classify(pending.statistic, pending.statisticThreshold);
      pending.row.status = significant ? (judged?.status ?? 'alert') : 'ok';
      if (judged !== undefined) {
        pending.row.threshold = judged.threshold;
        notes.push(judged.status === 'ok' ? 'the statistic is within its thresholds' : `the statistic is beyond its ${judged.status} threshold ${judged.threshold}`);
      }
      if (pending.maximumError !== undefined) notes.push(sketchNote(pending.maximumError));
      pending.row.reason = notes.join('; ');
      for (const distance of effectSizes.get(pending.feature) ?? []) {
        if (distance.status === 'ok') continue;
        const decision = significant
          ? `beyond its ${distance.status} threshold ${distance.threshold}, and the ${TEST_NAMES[pending.test]} test is significant (Benjamini-Hochberg adjusted p = ${adjusted.toPrecision(3)})`
          : `beyond its ${distance.status} threshold ${distance.threshold}, but the ${TEST_NAMES[pending.test]} test is not significant (Benjamini-Hochberg adjusted p = ${adjusted.toPrecision(3)} over ${tests.length} tests at false discovery rate ${falseDiscoveryRate}), so the shift may be chance`;
        if (!significant) distance.status = 'ok';
        distance.reason = distance.reason === null ? decision : `${decision}; ${distance.reason}`;
      }
    });
  }
  return rows;
}

const TEST_NAMES = { ks: 'Kolmogorov-Smirnov', chi_square: 'chi-square' } as const;

function emptyRow(kind: 'drift' | 'quality', metric: string, feature: string, counts: EntryCounts): ResultRow {
  return resultRow({ kind, metric, feature, ...counts });
}

function undefinedRow(kind: 'drift' | 'quality', metric: string, feature: string, counts: EntryCounts, reason: string): ResultRow {
  return resultRow({ kind, metric, feature, ...counts, status: 'undefined', reason });
}
