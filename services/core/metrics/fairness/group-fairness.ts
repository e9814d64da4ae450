/**
 * Group fairness of a thresholded binary classifier across the groups of one segment attribute
 * (for example sex: F, M, X).
 *
 * Every row is predicted positive when its score is ≥ the threshold. Per group: the full binary
 * performance report, the selection rate (share predicted positive), the true positive rate and
 * the false positive rate. Across groups, as fairlearn defines them (method "between_groups"):
 *   - demographic parity difference: max − min of the selection rates;
 *   - equal opportunity difference: max − min of the true positive rates;
 *   - false positive rate difference: max − min of the false positive rates;
 *   - equalized odds difference: the larger of the last two (fairlearn's agg="worst_case").
 *
 * Groups with fewer rows than the minimum group size (30 unless given) are suppressed: they take
 * no part in any difference and are reported with their size only, since rates from a handful of
 * rows would dominate a max − min.
 *
 * A group with no positive labels has no true positive rate, and one with no negative labels no
 * false positive rate; such a group is left out of that difference and listed as excluded with
 * the reason. (fairlearn instead counts the missing rate as 0, a by-product of scikit-learn's
 * confusion_matrix normalisation turning 0/0 into 0, which would report a disparity that the
 * data do not show.) A difference needs at least two groups with a defined rate.
 */

import {
  binaryClassificationMetrics,
  DEFAULT_CONFIDENCE_LEVEL,
  invalidBinaryDataReason,
  proportionEstimate,
  type BinaryClassificationReport,
  type ProportionEstimate,
} from '../performance/binary-classification.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';

export const DEFAULT_MINIMUM_GROUP_SIZE = 30;

/** The group name of rows with no value for the segment attribute. */
export const MISSING_GROUP = '(missing)';

export interface GroupFairnessInput {
  scores: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** The group of each row within the segment attribute; a missing value should be its own group name. */
  groups: ArrayLike<string>;
  /** A row is predicted positive when its score is ≥ this value. */
  threshold: number;
  /** Groups with fewer rows are suppressed; 30 unless given. */
  minimumGroupSize?: number;
  /** Coverage of the Wilson intervals; 0.95 unless given. */
  confidenceLevel?: number;
}

export interface ReportedGroup {
  group: string;
  size: number;
  suppressed: false;
  selectionRate: Outcome<ProportionEstimate>;
  truePositiveRate: Outcome<ProportionEstimate>;
  falsePositiveRate: Outcome<ProportionEstimate>;
  performance: BinaryClassificationReport;
}

export interface SuppressedGroup {
  group: string;
  size: number;
  suppressed: true;
  reason: string;
}

export type GroupResult = ReportedGroup | SuppressedGroup;

export interface GroupRate {
  group: string;
  rate: number;
}

export interface GroupDisparity {
  /** Highest minus lowest rate among the groups compared. */
  value: number;
  highest: GroupRate;
  lowest: GroupRate;
  groupsCompared: number;
  /** Groups of sufficient size left out because the rate is undefined for them. */
  excluded: { group: string; reason: string }[];
}

export interface EqualizedOddsDisparity {
  value: number;
  /** Which of the two differences is the larger (the true positive rate one on a tie). */
  largerOf: 'true-positive-rate' | 'false-positive-rate';
}

export interface GroupFairnessReport {
  threshold: number;
  minimumGroupSize: number;
  /** Groups in ascending order of name. */
  groups: GroupResult[];
  demographicParityDifference: Outcome<GroupDisparity>;
  equalOpportunityDifference: Outcome<GroupDisparity>;
  falsePositiveRateDifference: Outcome<GroupDisparity>;
  equalizedOddsDifference: Outcome<EqualizedOddsDisparity>;
}

function invalidGroupReason(groups: ArrayLike<string>): string | null {
  for (let row = 0; row < groups.length; row += 1) {
    if (typeof groups[row] !== 'string') {
      return `group at row ${row} is ${String(groups[row])}; group labels must be strings`;
    }
  }
  return null;
}

function disparity(
  groups: ReportedGroup[],
  rateName: string,
  rateOf: (group: ReportedGroup) => Outcome<ProportionEstimate>,
  minimumGroupSize: number,
  suppressedCount: number,
): Outcome<GroupDisparity> {
  const excluded: { group: string; reason: string }[] = [];
  let highest: GroupRate | null = null;
  let lowest: GroupRate | null = null;
  let groupsCompared = 0;
  for (const group of groups) {
    const rate = rateOf(group);
    if (!rate.defined) {
      excluded.push({ group: group.group, reason: rate.reason });
      continue;
    }
    groupsCompared += 1;
    if (highest === null || rate.value.value > highest.rate) highest = { group: group.group, rate: rate.value.value };
    if (lowest === null || rate.value.value < lowest.rate) lowest = { group: group.group, rate: rate.value.value };
  }
  if (highest === null || lowest === null || groupsCompared < 2) {
    return undefinedBecause(
      `${rateName} difference needs at least two groups with a defined ${rateName}; ${groupsCompared} of the ` +
        `${groups.length} groups with at least ${minimumGroupSize} rows have one` +
        (suppressedCount > 0 ? ` (${suppressedCount} smaller groups suppressed)` : ''),
    );
  }
  return defined({ value: highest.rate - lowest.rate, highest, lowest, groupsCompared, excluded });
}

function undefinedReport(threshold: number, minimumGroupSize: number, reason: string): GroupFairnessReport {
  const because = undefinedBecause(reason);
  return {
    threshold,
    minimumGroupSize,
    groups: [],
    demographicParityDifference: because,
    equalOpportunityDifference: because,
    falsePositiveRateDifference: because,
    equalizedOddsDifference: because,
  };
}

export function groupFairness(input: GroupFairnessInput): GroupFairnessReport {
  const { scores, labels, groups, threshold } = input;
  const minimumGroupSize = input.minimumGroupSize ?? DEFAULT_MINIMUM_GROUP_SIZE;
  const level = input.confidenceLevel ?? DEFAULT_CONFIDENCE_LEVEL;
  if (!Number.isInteger(minimumGroupSize) || minimumGroupSize < 1) {
    throw new RangeError(`minimum group size must be a positive integer, got ${minimumGroupSize}`);
  }
  if (!Number.isFinite(threshold)) throw new RangeError(`threshold must be a finite number, got ${threshold}`);
  if (groups.length !== scores.length) {
    throw new RangeError(`groups (${groups.length}) and scores (${scores.length}) differ in length`);
  }
  const invalid = invalidBinaryDataReason(scores, labels) ?? invalidGroupReason(groups);
  if (invalid !== null) return undefinedReport(threshold, minimumGroupSize, invalid);

  // Rows are laid out group by group (a counting sort on the group index) so that each group's
  // report reads a contiguous slice of one shared copy.
  const rows = scores.length;
  const indexOfName = new Map<string, number>();
  const names: string[] = [];
  const groupOfRow = new Uint32Array(rows);
  for (let row = 0; row < rows; row += 1) {
    const name = groups[row]!;
    let index = indexOfName.get(name);
    if (index === undefined) {
      index = names.length;
      names.push(name);
      indexOfName.set(name, index);
    }
    groupOfRow[row] = index;
  }
  const order = names.map((_, index) => index).sort((left, right) => (names[left]! < names[right]! ? -1 : 1));
  const sizes = new Uint32Array(names.length);
  for (let row = 0; row < rows; row += 1) sizes[groupOfRow[row]!]! += 1;
  const starts = new Uint32Array(names.length);
  let offset = 0;
  for (const index of order) {
    starts[index] = offset;
    offset += sizes[index]!;
  }
  const groupedScores = new Float64Array(rows);
  const groupedLabels = new Uint8Array(rows);
  const cursor = starts.slice();
  for (let row = 0; row < rows; row += 1) {
    const index = groupOfRow[row]!;
    const position = cursor[index]!;
    cursor[index] = position + 1;
    groupedScores[position] = scores[row]!;
    groupedLabels[position] = labels[row]!;
  }
  return compareGroups(
    order.map((index) => {
      const start = starts[index]!;
      const size = sizes[index]!;
      return {
        group: names[index]!,
        size,
        performance: () =>
          binaryClassificationMetrics({
            kind: 'binary-classification',
            scores: groupedScores.subarray(start, start + size),
            labels: groupedLabels.subarray(start, start + size),
            threshold,
            confidenceLevel: level,
          }),
      };
    }),
    { threshold, minimumGroupSize, confidenceLevel: level },
  );
}

/** One group of a segment attribute: its size, and its performance, computed only when needed. */
export interface GroupPerformance {
  group: string;
  size: number;
  performance: () => BinaryClassificationReport;
}

export interface GroupComparisonOptions {
  threshold: number;
  minimumGroupSize: number;
  confidenceLevel: number;
}

/**
 * The fairness report from each group's performance report, however it was computed (from rows,
 * or from a window's sketches): selection and false positive rates come from the confusion counts,
 * the true positive rate is the sensitivity. Groups are reported in the order given.
 */
export function compareGroups(groups: readonly GroupPerformance[], options: GroupComparisonOptions): GroupFairnessReport {
  const { threshold, minimumGroupSize, confidenceLevel: level } = options;
  const results: GroupResult[] = [];
  const reported: ReportedGroup[] = [];
  for (const { group, size, performance: performanceOf } of groups) {
    if (size < minimumGroupSize) {
      results.push({
        group,
        size,
        suppressed: true,
        reason: `${size} rows, fewer than the minimum group size of ${minimumGroupSize}`,
      });
      continue;
    }
    const performance = performanceOf();
    const counts = performance.counts;
    const result: ReportedGroup = {
      group,
      size,
      suppressed: false,
      selectionRate: counts.defined
        ? proportionEstimate(counts.value.truePositives + counts.value.falsePositives, counts.value.rows, level, 'no rows')
        : counts,
      truePositiveRate: performance.sensitivity,
      falsePositiveRate: counts.defined
        ? proportionEstimate(
            counts.value.falsePositives,
            counts.value.negatives,
            level,
            'no negative labels, so the false positive rate is undefined',
          )
        : counts,
      performance,
    };
    results.push(result);
    reported.push(result);
  }

  const suppressedCount = results.length - reported.length;
  const demographicParityDifference = disparity(
    reported,
    'selection rate',
    (group) => group.selectionRate,
    minimumGroupSize,
    suppressedCount,
  );
  const equalOpportunityDifference = disparity(
    reported,
    'true positive rate',
    (group) => group.truePositiveRate,
    minimumGroupSize,
    suppressedCount,
  );
  const falsePositiveRateDifference = disparity(
    reported,
    'false positive rate',
    (group) => group.falsePositiveRate,
    minimumGroupSize,
    suppressedCount,
  );
  let equalizedOddsDifference: Outcome<EqualizedOddsDisparity>;
  if (!equalOpportunityDifference.defined) {
    equalizedOddsDifference = undefinedBecause(equalOpportunityDifference.reason);
  } else if (!falsePositiveRateDifference.defined) {
    equalizedOddsDifference = undefinedBecause(falsePositiveRateDifference.reason);
  } else {
    const truePositiveRateGap = equalOpportunityDifference.value.value;
    const falsePositiveRateGap = falsePositiveRateDifference.value.value;
    equalizedOddsDifference = defined(
      truePositiveRateGap >= falsePositiveRateGap
        ? { value: truePositiveRateGap, largerOf: 'true-positive-rate' as const }
        : { value: falsePositiveRateGap, largerOf: 'false-positive-rate' as const },
    );
  }

  return {
    threshold,
    minimumGroupSize,
    groups: results,
    demographicParityDifference,
    equalOpportunityDifference,
    falsePositiveRateDifference,
    equalizedOddsDifference,
  };
}
