/**
 * Drift of a categorical feature: the current sample against the reference sample.
 *
 * Categories are compared as exact strings over the union of categories seen on either side;
 * missing values (null) are left out of every metric here (their share is a quality metric). Any
 * entry that is neither a string nor null is rejected, and every metric is then undefined with a
 * reason naming the side and index.
 */

import { flooredProportions, proportions } from '../binning.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { chiSquareSurvival } from '../statistics/chi-square.js';
import {
  jensenShannonDistance,
  maxAbsoluteDifference,
  populationStabilityIndex,
} from '../statistics/divergences.js';

/** Values of a categorical feature; null marks a missing value. */
export type CategoricalValues = ArrayLike<string | null>;

/** Counts of a categorical feature, as `categoryCounts` builds them. */
export interface CategoryCounts {
  /** Occurrences of each category among the non-missing values, in order of first appearance. */
  readonly counts: ReadonlyMap<string, number>;
  /** Entries in the input, missing ones included. */
  readonly totalCount: number;
  /** Entries that were null. */
  readonly missingCount: number;
}

export interface ChiSquareResult {
  /** Pearson's statistic Σ (O − E)²/E over the 2 × K table, without continuity correction. */
  statistic: number;
  /** P(χ²(degreesOfFreedom) ≥ statistic); 1 when there are no degrees of freedom. */
  pValue: number;
  /** K − 1, K the number of categories present on at least one side. */
  degreesOfFreedom: number;
}

export interface CategoricalDrift {
  /** Non-missing reference values; null when the reference was rejected. */
  referenceCount: number | null;
  /** Non-missing current values; null when the current sample was rejected. */
  currentCount: number | null;
  /** Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ) over the union of categories, proportions floored as in binning.ts. */
  populationStabilityIndex: Outcome<number>;
  /** Chi-square test of homogeneity of the reference and current category counts. */
  chiSquare: Outcome<ChiSquareResult>;
  /** Jensen–Shannon distance, base 2, over the raw category proportions; in [0, 1]. */
  jensenShannonDistance: Outcome<number>;
  /** L∞ distance: the largest absolute difference between a category's two raw proportions. */
  maxProportionDifference: Outcome<number>;
  /** Share of the non-missing current values whose category never occurs in the reference. */
  unseenCategoryShare: Outcome<number>;
}

export const isCategoryCounts = (input: CategoricalValues | CategoryCounts): input is CategoryCounts =>
  'counts' in input && input.counts instanceof Map;

/** Validates one side and counts its categories. `side` names it in the reason. */
export function categoryCounts(values: CategoricalValues, side: string): Outcome<CategoryCounts> {
  const counts = new Map<string, number>();
  let missingCount = 0;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    if (typeof value === 'string') {
      counts.set(value, (counts.get(value) ?? 0) + 1);
    } else if (value === null) {
      missingCount += 1;
    } else {
      const description = value === undefined ? 'undefined' : `of type ${typeof value}`;
      return undefinedBecause(`${side} value at index ${index} is ${description}, not a string or null`);
    }
  }
  return defined({ counts, totalCount: values.length, missingCount });
}

/**
 * Chi-square test of homogeneity of two count vectors over the same categories, i.e. of the
 * 2 × K contingency table (scipy.stats.chi2_contingency(table, correction=False)). Categories
 * with a zero count in both rows are dropped first; an empty row leaves the test undefined.
 */
export function chiSquareHomogeneity(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
): Outcome<ChiSquareResult> {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError(`count vectors have different lengths (${referenceCounts.length} and ${currentCounts.length})`);
  }
  let referenceTotal = 0;
  let currentTotal = 0;
  let categoryCount = 0;
  for (let index = 0; index < referenceCounts.length; index += 1) {
    referenceTotal += referenceCounts[index]!;
    currentTotal += currentCounts[index]!;
    if (referenceCounts[index]! + currentCounts[index]! > 0) categoryCount += 1;
  }
  if (referenceTotal === 0) return undefinedBecause('reference has no non-missing values');
  if (currentTotal === 0) return undefinedBecause('current has no non-missing values');
  const degreesOfFreedom = categoryCount - 1;
  // With one category both rows are proportional to it: the observed table equals the expected one.
  if (degreesOfFreedom === 0) return defined({ statistic: 0, pValue: 1, degreesOfFreedom });

  const total = referenceTotal + currentTotal;
  let statistic = 0;
  for (const [observedRow, rowTotal] of [
    [referenceCounts, referenceTotal],
    [currentCounts, currentTotal],
  ] as const) {
    for (let index = 0; index < observedRow.length; index += 1) {
      const columnTotal = referenceCounts[index]! + currentCounts[index]!;
      if (columnTotal === 0) continue;
      const expected = (rowTotal * columnTotal) / total;
      const deviation = observedRow[index]! - expected;
      statistic += (deviation * deviation) / expected;
    }
  }
  return defined({ statistic, pValue: chiSquareSurvival(statistic, degreesOfFreedom), degreesOfFreedom });
}

function allUndefined(reason: string, referenceCount: number | null, currentCount: number | null): CategoricalDrift {
  const missing = undefinedBecause(reason);
  return {
    referenceCount,
    currentCount,
    populationStabilityIndex: missing,
    chiSquare: missing,
    jensenShannonDistance: missing,
    maxProportionDifference: missing,
    unseenCategoryShare: missing,
  };
}

/**
 * All categorical drift metrics of `current` against `reference`; either side may be raw values
 * or counts from `categoryCounts`.
 */
export function categoricalDrift(
  reference: CategoricalValues | CategoryCounts,
  current: CategoricalValues | CategoryCounts,
): CategoricalDrift {
  const referenceSide = isCategoryCounts(reference) ? defined(reference) : categoryCounts(reference, 'reference');
  const currentSide = isCategoryCounts(current) ? defined(current) : categoryCounts(current, 'current');
  const referenceCount = referenceSide.defined ? referenceSide.value.totalCount - referenceSide.value.missingCount : null;
  const currentCount = currentSide.defined ? currentSide.value.totalCount - currentSide.value.missingCount : null;
  if (!referenceSide.defined || !currentSide.defined) {
    const reasons = [referenceSide, currentSide].flatMap((side) => (side.defined ? [] : [side.reason]));
    return allUndefined(reasons.join('; '), referenceCount, currentCount);
  }
  const referencePresent = referenceSide.value.totalCount - referenceSide.value.missingCount;
  const currentPresent = currentSide.value.totalCount - currentSide.value.missingCount;
  if (referencePresent === 0) return allUndefined('reference has no non-missing values', referenceCount, currentCount);
  if (currentPresent === 0) return allUndefined('current has no non-missing values', referenceCount, currentCount);

  // Columns over the union: reference categories in their order, then those new in current in
  // code-unit order, so that the sums, and every metric, are the same whatever order the window met
  // its categories in (one window counted in ClickHouse, merged from parts, or replayed).
  // Prepared counts may list a category with a zero count; it is left out like an absent one.
  const referenceMap = referenceSide.value.counts;
  const currentMap = currentSide.value.counts;
  const referenceCounts: number[] = [];
  const currentCounts: number[] = [];
  let unseenCount = 0;
  for (const [category, count] of referenceMap) {
    const currentCountOfCategory = currentMap.get(category) ?? 0;
    if (count === 0 && currentCountOfCategory === 0) continue;
    referenceCounts.push(count);
    currentCounts.push(currentCountOfCategory);
    if (count === 0) unseenCount += currentCountOfCategory;
  }
  const unseen = [...currentMap].filter(([category, count]) => !referenceMap.has(category) && count !== 0);
  unseen.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  for (const [, count] of unseen) {
    referenceCounts.push(0);
    currentCounts.push(count);
    unseenCount += count;
  }

  const referenceShares = proportions(referenceCounts);
  const currentShares = proportions(currentCounts);
  return {
    referenceCount,
    currentCount,
    populationStabilityIndex: defined(
      populationStabilityIndex(flooredProportions(referenceCounts), flooredProportions(currentCounts)),
    ),
    chiSquare: chiSquareHomogeneity(referenceCounts, currentCounts),
    jensenShannonDistance: defined(jensenShannonDistance(referenceShares, currentShares)),
    maxProportionDifference: defined(maxAbsoluteDifference(referenceShares, currentShares)),
    unseenCategoryShare: defined(unseenCount / currentPresent),
  };
}
