/**
 * Data-quality metrics of one feature: missingness on each side and its change, and for numeric
 * features the share of current values outside the range seen in the reference.
 *
 * Inputs follow the drift metrics: null is missing; NaN, ±Infinity and entries of the wrong type
 * are rejected, which leaves every metric that depends on the offending side undefined with a
 * reason naming the side and index.
 */

import { countAtMost, countBelow } from '../binning.js';
import {
  categoryCounts,
  isCategoryCounts,
  type CategoricalValues,
  type CategoryCounts,
} from '../drift/categorical-drift.js';
import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import {
  invalidNumericEntry,
  isNumericSample,
  type NumericSample,
  type NumericValues,
} from '../statistics/numeric-sample.js';

export interface FeatureQuality {
  /** Missing (null) entries over all reference entries; undefined for an empty reference. */
  referenceMissingShare: Outcome<number>;
  /** Missing (null) entries over all current entries; undefined for an empty current sample. */
  currentMissingShare: Outcome<number>;
  /** currentMissingShare − referenceMissingShare. */
  missingShareChange: Outcome<number>;
}

export interface NumericFeatureQuality extends FeatureQuality {
  /**
   * Non-missing current values strictly below the reference minimum or strictly above the
   * reference maximum, over all non-missing current values.
   */
  outOfRangeShare: Outcome<number>;
}

interface SideSummary {
  totalCount: number;
  missingCount: number;
  /** Smallest and largest non-missing value; null when every entry is missing. */
  range: { minimum: number; maximum: number } | null;
}

/** Counts and range in one validating pass, without the sort a NumericSample needs. */
function summarizeNumeric(input: NumericValues | NumericSample, side: string): Outcome<SideSummary> {
  if (isNumericSample(input)) {
    const { sorted, totalCount, missingCount } = input;
    const range = sorted.length === 0 ? null : { minimum: sorted[0]!, maximum: sorted[sorted.length - 1]! };
    return defined({ totalCount, missingCount, range });
  }
  let missingCount = 0;
  let minimum = Infinity;
  let maximum = -Infinity;
  for (let index = 0; index < input.length; index += 1) {
    const value = input[index];
    if (typeof value === 'number' && Number.isFinite(value)) {
      if (value < minimum) minimum = value;
      if (value > maximum) maximum = value;
      continue;
    }
    const reason = invalidNumericEntry(value, index, side);
    if (reason !== null) return undefinedBecause(reason);
    missingCount += 1;
  }
  const range = missingCount === input.length ? null : { minimum, maximum };
  return defined({ totalCount: input.length, missingCount, range });
}

/** Values of an already validated side outside [minimum, maximum]. */
function countOutside(input: NumericValues | NumericSample, minimum: number, maximum: number): number {
  if (isNumericSample(input)) {
    const { sorted } = input;
    return countBelow(sorted, minimum) + sorted.length - countAtMost(sorted, maximum);
  }
  let outside = 0;
  for (let index = 0; index < input.length; index += 1) {
    const value = input[index];
    if (typeof value === 'number' && (value < minimum || value > maximum)) outside += 1;
  }
  return outside;
}

function missingShare(side: Outcome<SideSummary>, name: string): Outcome<number> {
  if (!side.defined) return side;
  if (side.value.totalCount === 0) return undefinedBecause(`${name} has no entries`);
  return defined(side.value.missingCount / side.value.totalCount);
}

function missingShares(reference: Outcome<SideSummary>, current: Outcome<SideSummary>): FeatureQuality {
  const referenceMissingShare = missingShare(reference, 'reference');
  const currentMissingShare = missingShare(current, 'current');
  let missingShareChange: Outcome<number>;
  if (!referenceMissingShare.defined) missingShareChange = referenceMissingShare;
  else if (!currentMissingShare.defined) missingShareChange = currentMissingShare;
  else missingShareChange = defined(currentMissingShare.value - referenceMissingShare.value);
  return { referenceMissingShare, currentMissingShare, missingShareChange };
}

export function numericFeatureQuality(
  reference: NumericValues | NumericSample,
  current: NumericValues | NumericSample,
): NumericFeatureQuality {
  const referenceSummary = summarizeNumeric(reference, 'reference');
  const currentSummary = summarizeNumeric(current, 'current');
  const shares = missingShares(referenceSummary, currentSummary);

  let outOfRangeShare: Outcome<number>;
  if (!referenceSummary.defined) outOfRangeShare = referenceSummary;
  else if (!currentSummary.defined) outOfRangeShare = currentSummary;
  else if (referenceSummary.value.range === null) outOfRangeShare = undefinedBecause('reference has no non-missing values');
  else if (currentSummary.value.range === null) outOfRangeShare = undefinedBecause('current has no non-missing values');
  else {
    const { minimum, maximum } = referenceSummary.value.range;
    const currentPresent = currentSummary.value.totalCount - currentSummary.value.missingCount;
    outOfRangeShare = defined(countOutside(current, minimum, maximum) / currentPresent);
  }
  return { ...shares, outOfRangeShare };
}

export function categoricalFeatureQuality(
  reference: CategoricalValues | CategoryCounts,
  current: CategoricalValues | CategoryCounts,
): FeatureQuality {
  const summarize = (input: CategoricalValues | CategoryCounts, side: string): Outcome<SideSummary> => {
    const counted = isCategoryCounts(input) ? defined(input) : categoryCounts(input, side);
    if (!counted.defined) return counted;
    return defined({ totalCount: counted.value.totalCount, missingCount: counted.value.missingCount, range: null });
  };
  return missingShares(summarize(reference, 'reference'), summarize(current, 'current'));
}
