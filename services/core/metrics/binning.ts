/**
 * Reference binning for numeric features, and the proportions the binned drift metrics use.
 *
 * The definition, which the oracle (test/oracles/drift_oracle.py) implements independently:
 *
 * - Inner edges are the reference quantiles at probabilities k/B for k = 1 … B − 1 (B = 10 by
 *   default: the deciles), by numpy's default quantile definition ('linear', Hyndman & Fan type 7):
 *   over the n sorted non-missing values x₀ … x₍ₙ₋₁₎, h = (n − 1)·p and
 *   q = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋), evaluated in the same floating-point steps as numpy
 *   (from the upper neighbour when h − ⌊h⌋ ≥ ½) so that edges agree exactly.
 * - Duplicate edges are collapsed to one. A heavily tied feature therefore has fewer bins, and a
 *   constant reference keeps a single edge at its value: bins (−∞, c] and (c, +∞).
 * - Bins are right-closed, the outer ones open: (−∞, e₁], (e₁, e₂], …, (eₖ, +∞). A value equal
 *   to an edge falls in the bin below it.
 * - Floored proportions: pᵢ = max(cᵢ/n, 10⁻⁴), then every pᵢ is divided by Σⱼ pⱼ so they again
 *   sum to 1. The floor applies to every bin whose share is below 10⁻⁴, not only to empty ones,
 *   and it is used exactly where a logarithm of a proportion is taken (PSI, KL divergence);
 *   Jensen–Shannon and Hellinger distances use the raw proportions cᵢ/n, which they handle
 *   without a floor.
 */

export const DEFAULT_BIN_COUNT = 10;

export const PROPORTION_FLOOR = 1e-4;

/** Quantile of ascending values by numpy's default ('linear') definition. */
export function quantileOfSorted(sorted: Float64Array, probability: number): number {
  const count = sorted.length;
  if (count === 0) throw new RangeError('quantile of an empty sample');
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`quantile probability must lie in [0, 1], got ${probability}`);
  const position = (count - 1) * probability;
  if (position >= count - 1) return sorted[count - 1]!;
  const below = Math.floor(position);
  const fraction = position - below;
  const lower = sorted[below]!;
  const upper = sorted[below + 1]!;
  const difference = upper - lower;
  return fraction >= 0.5 ? upper - difference * (1 - fraction) : lower + difference * fraction;
}

/**
 * Strictly increasing inner bin edges from a non-empty, ascending reference sample: the
 * quantiles at k/binCount with duplicates collapsed.
 */
export function referenceBinEdges(sortedReference: Float64Array, binCount: number = DEFAULT_BIN_COUNT): Float64Array {
  if (!Number.isInteger(binCount) || binCount < 2) throw new RangeError(`bin count must be an integer ≥ 2, got ${binCount}`);
  if (sortedReference.length === 0) throw new RangeError('reference bins need at least one reference value');
  const edges = new Float64Array(binCount - 1);
  let edgeCount = 0;
  for (let k = 1; k < binCount; k += 1) {
    // −0 and +0 are the same edge; report it as +0 whichever the sort placed first.
    const edge = quantileOfSorted(sortedReference, k / binCount) + 0;
    if (edgeCount === 0 || edge > edges[edgeCount - 1]!) {
      edges[edgeCount] = edge;
      edgeCount += 1;
    }
  }
  return edges.slice(0, edgeCount);
}

/** Index of the first value greater than `bound` in ascending values (numpy searchsorted side='right'). */
export function countAtMost(sorted: Float64Array, bound: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= bound) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the first value not less than `bound` in ascending values (numpy searchsorted side='left'). */
export function countBelow(sorted: Float64Array, bound: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < bound) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Counts of ascending values in the right-closed bins defined by the inner edges (length edges + 1). */
export function binCounts(sorted: Float64Array, innerEdges: Float64Array): Float64Array {
  const counts = new Float64Array(innerEdges.length + 1);
  let below = 0;
  for (let bin = 0; bin < innerEdges.length; bin += 1) {
    const atMost = countAtMost(sorted, innerEdges[bin]!);
    counts[bin] = atMost - below;
    below = atMost;
  }
  counts[innerEdges.length] = sorted.length - below;
  return counts;
}

/** cᵢ / Σc. The total must be positive. */
export function proportions(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let index = 0; index < counts.length; index += 1) total += counts[index]!;
  if (!(total > 0)) throw new RangeError('proportions of an empty sample');
  const shares = new Float64Array(counts.length);
  for (let index = 0; index < counts.length; index += 1) shares[index] = counts[index]! / total;
  return shares;
}

/** max(cᵢ/n, floor), renormalised to sum to 1 (see the module comment). The total must be positive. */
export function flooredProportions(counts: ArrayLike<number>, floor: number = PROPORTION_FLOOR): Float64Array {
  const shares = proportions(counts);
  let total = 0;
  for (let index = 0; index < shares.length; index += 1) {
    shares[index] = Math.max(shares[index]!, floor);
    total += shares[index]!;
  }
  for (let index = 0; index < shares.length; index += 1) shares[index]! /= total;
  return shares;
}
