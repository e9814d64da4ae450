/**
 * Distances and divergences between two discrete distributions given as proportion vectors of
 * equal length over the same bins or categories (each summing to 1). Which proportions to pass
 * — floored or raw — is the caller's definition; see binning.ts.
 */

function assertSameLength(first: ArrayLike<number>, second: ArrayLike<number>): void {
  if (first.length !== second.length) {
    throw new RangeError(`distributions have different lengths (${first.length} and ${second.length})`);
  }
}

/** x·ln(x/y), with 0·ln(0/y) = 0 (scipy.special.rel_entr for x, y ≥ 0, y > 0 where x > 0). */
function relativeEntropyTerm(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(x / y);
}

/**
 * Population stability index Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ), natural logarithm. Every proportion must be
 * positive (pass floored proportions).
 */
export function populationStabilityIndex(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  assertSameLength(reference, current);
  let total = 0;
  for (let index = 0; index < reference.length; index += 1) {
    const referenceShare = reference[index]!;
    const currentShare = current[index]!;
    total += (currentShare - referenceShare) * Math.log(currentShare / referenceShare);
  }
  return total;
}

/**
 * Kullback–Leibler divergence KL(p ‖ q) = Σ pᵢ·ln(pᵢ/qᵢ) in nats (scipy.stats.entropy(p, q)).
 * q must be positive wherever p is (pass floored proportions).
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assertSameLength(p, q);
  let total = 0;
  for (let index = 0; index < p.length; index += 1) total += relativeEntropyTerm(p[index]!, q[index]!);
  return total;
}

/**
 * Jensen–Shannon distance with base-2 logarithms, in [0, 1]: the square root of
 * ½·KL(p ‖ m) + ½·KL(q ‖ m) with m = (p + q)/2, evaluated as
 * scipy.spatial.distance.jensenshannon(p, q, base=2) does. Zeros need no floor. A divergence that
 * rounds to a tiny negative number (possible only for near-identical inputs) is taken as 0.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assertSameLength(p, q);
  let left = 0;
  let right = 0;
  for (let index = 0; index < p.length; index += 1) {
    const pShare = p[index]!;
    const qShare = q[index]!;
    const middle = (pShare + qShare) / 2;
    left += relativeEntropyTerm(pShare, middle);
    right += relativeEntropyTerm(qShare, middle);
  }
  const divergence = (left + right) / Math.LN2;
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * Hellinger distance √(½·Σ(√pᵢ − √qᵢ)²), in [0, 1]. Written as a sum of squares rather than
 * √(1 − Σ√(pᵢqᵢ)) so that near-identical distributions do not lose every digit to cancellation.
 */
export function hellingerDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assertSameLength(p, q);
  let sumOfSquares = 0;
  for (let index = 0; index < p.length; index += 1) {
    const difference = Math.sqrt(p[index]!) - Math.sqrt(q[index]!);
    sumOfSquares += difference * difference;
  }
  return Math.sqrt(sumOfSquares / 2);
}

/** L∞ distance maxᵢ |pᵢ − qᵢ|. */
export function maxAbsoluteDifference(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assertSameLength(p, q);
  let largest = 0;
  for (let index = 0; index < p.length; index += 1) largest = Math.max(largest, Math.abs(p[index]! - q[index]!));
  return largest;
}
