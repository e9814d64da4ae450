import { MISSING_GROUP } from '../metrics/fairness/group-fairness.js';
import { resultRow, type ResultRow } from '../metrics/result-row.js';
import { regularizedUpperGamma } from '../metrics/statistics/gamma.js';
import { POOLED_GROUP } from './window-plan.js';

/**
 * The volume of a window per group of each segment attribute, against the count its baseline's
 * share of that group leads one to expect: a site, ward or payer that stops sending predictions is
 * a failure nobody is told about, and drift metrics on the remaining traffic do not see it.
 */

/** Predictions per group of each segment attribute: segment → group → count, a missing value as MISSING_GROUP. */
export type SegmentGroupCounts = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * When a group's count alerts. A group is judged only when it holds at least `minimumBaselineShare`
 * of the baseline and `minimumExpected` predictions are expected, so that rare groups, whose counts
 * swing by chance, raise nothing. It alerts when it has fewer than `alertBelowFractionOfExpected` of
 * the expected count and the one-sided Poisson test puts the chance of so few below `alertPValue`:
 * the test keeps chance out, the fraction keeps out shortfalls that are significant only because a
 * window is large (real traffic mixes vary more from hour to hour than Poisson counts do).
 */
export const VOLUME_RULE = { minimumBaselineShare: 0.05, minimumExpected: 20, alertBelowFractionOfExpected: 0.5, alertPValue: 0.001 } as const;

/** Counts each segment's values, a missing one as MISSING_GROUP. */
export function countSegmentGroups(segments: readonly string[], values: (segment: string) => ArrayLike<string | null>): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>();
  for (const segment of segments) {
    const groups = new Map<string, number>();
    for (const value of Array.from(values(segment))) {
      const group = value ?? MISSING_GROUP;
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
    counts.set(segment, groups);
  }
  return counts;
}

/**
 * P(X ≤ observed) for X ~ Poisson(expected), as scipy.stats.poisson.cdf: Q(observed + 1, expected).
 * Given the window's total, a group's count is binomial; below its mean the Poisson tail with the
 * same mean is the larger (Anderson and Samuels, 1967), so the test errs towards not alerting.
 */
export function poissonLowerTail(observed: number, expected: number): number {
  if (!(Number.isInteger(observed) && observed >= 0)) throw new RangeError(`observed must be a count, got ${observed}`);
  if (!(expected >= 0 && Number.isFinite(expected))) throw new RangeError(`expected must be finite and non-negative, got ${expected}`);
  if (expected === 0) return 1;
  return regularizedUpperGamma(observed + 1, expected);
}

export interface VolumeInput {
  segments: readonly string[];
  baseline: SegmentGroupCounts;
  window: SegmentGroupCounts;
  /** Predictions of the window, which the baseline's shares are scaled to. */
  windowPredictions: number;
  /** Groups kept per segment, the baseline's most frequent first (ties by name); the rest are pooled as POOLED_GROUP. */
  maximumGroups: number;
}

/**
 * One `volume`/`predictions` row per kept group of each segment: value and n_current the window's
 * count, n_reference the expected count rounded (the column holds counts; the exact one is in the
 * reason of a judged shortfall), threshold the count below which it may alert, p_value the test's.
 * Groups are chosen by the baseline, so that a group gone silent keeps its row.
 */
export function volumeRows(input: VolumeInput): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const segment of input.segments) {
    const baselineGroups = input.baseline.get(segment) ?? new Map<string, number>();
    const ranked = [...baselineGroups].sort(([leftName, left], [rightName, right]) => right - left || (leftName < rightName ? -1 : leftName > rightName ? 1 : 0));
    const kept = new Set(ranked.slice(0, input.maximumGroups).map(([group]) => group));
    const pooled = (groups: ReadonlyMap<string, number>): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const [group, count] of groups) {
        const name = kept.has(group) ? group : POOLED_GROUP;
        counts.set(name, (counts.get(name) ?? 0) + count);
      }
      return counts;
    };
    // Ranked first, so that rows come in the baseline's order, the pooled group last.
    const baselineCounts = pooled(new Map(ranked));
    const windowCounts = pooled(input.window.get(segment) ?? new Map<string, number>());
    const baselineTotal = [...baselineCounts.values()].reduce((total, count) => total + count, 0);
    const groups = [...new Set([...baselineCounts.keys(), ...windowCounts.keys()])];
    for (const group of groups) {
      const share = baselineTotal > 0 ? (baselineCounts.get(group) ?? 0) / baselineTotal : 0;
      rows.push(volumeRow(segment, group, windowCounts.get(group) ?? 0, share, input.windowPredictions));
    }
  }
  return rows;
}

function volumeRow(segment: string, group: string, observed: number, share: number, windowPredictions: number): ResultRow {
  const expected = share * windowPredictions;
  const row = resultRow({ kind: 'volume', metric: 'predictions', segment, group, value: observed, n_current: observed, n_reference: Math.round(expected) });
  const percent = `${(100 * share).toFixed(1)}%`;
  if (share < VOLUME_RULE.minimumBaselineShare) return { ...row, reason: `not judged: ${percent} of the baseline, under ${100 * VOLUME_RULE.minimumBaselineShare}%` };
  if (expected < VOLUME_RULE.minimumExpected) return { ...row, reason: `not judged: ${expected.toFixed(1)} predictions expected, under ${VOLUME_RULE.minimumExpected}` };
  const pValue = poissonLowerTail(observed, expected);
  const bound = VOLUME_RULE.alertBelowFractionOfExpected * expected;
  const alert = observed < bound && pValue < VOLUME_RULE.alertPValue;
  return {
    ...row,
    p_value: pValue,
    threshold: bound,
    status: alert ? 'alert' : 'ok',
    reason: alert ? `${observed} predictions where ${expected.toFixed(1)} were expected from the baseline's ${percent}` : null,
  };
}
