/**
 * Finite-sample distributions of the one-sample Kolmogorov–Smirnov statistics.
 *
 * `kolmogorovTwoSidedSurvival(d, n)` is P(D_n ≥ d) for D_n = sup |F_n − F|, the quantity
 * scipy.stats.kstwo.sf(d, n) returns and the two-sided p-value of scipy.stats.ks_2samp with
 * method="asymp" (evaluated at n = round(m·n/(m + n))). It follows the method selection of Simard
 * & L'Ecuyer (2011, J. Stat. Softw. 39(11)) with the same cut-offs scipy uses, so the two agree
 * to rounding rather than only to the accuracy of the approximations:
 *   - n·d ≤ 1 and n·d ≥ n − 1: exact closed forms (Ruben & Gambino);
 *   - d ≥ 0.5: exactly 2·P(D_n⁺ ≥ d), the one-sided tails being disjoint;
 *   - n ≤ 140: Durbin's matrix (n·d² ≤ 0.754693), Pomeranz's recursion (≤ 4), else 2·P(D_n⁺ ≥ d);
 *   - n > 140: 2·P(D_n⁺ ≥ d) for n·d² ≥ 2.2 (0 beyond 370), otherwise one minus the CDF from
 *     Durbin's matrix when n ≤ 100000 and n·d^1.5 ≤ 1.4, or from the Pelz–Good expansion.
 * Agreement with scipy is to rounding (≤ 5e-13 relative over the test grid). Two of those branches
 * are approximations of the exact distribution, in scipy as here: the doubled one-sided tail
 * ignores the probability of crossing both bands (about 1e-6 relative at n·d² = 2.2, 2e-11 at
 * n·d² = 4, exact for d ≥ 0.5), and the Pelz–Good expansion is off by a few 1e-8 absolute near
 * n = 1000, less for larger n.
 *
 * `smirnovOneSidedSurvival(d, n)` is P(D_n⁺ ≥ d) (scipy.special.smirnov), by the
 * Birnbaum–Tingey sum.
 */

import { CompensatedSum } from './compensated-sum.js';
import { stirlingRemainder } from './gamma.js';

const SCALE_EXPONENT = 128;
const SCALE_UP = 2 ** SCALE_EXPONENT;
const SCALE_DOWN = 2 ** -SCALE_EXPONENT;

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const PI_SQUARED = Math.PI ** 2;
const PI_FOURTH = Math.PI ** 4;
const PI_SIXTH = Math.PI ** 6;
const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
const SQRT_THREE = Math.sqrt(3);

/** Natural log of the smallest positive subnormal double: below it exp() is exactly 0. */
const LOG_SMALLEST_DOUBLE = -745.1332191019412;

/** Above this n the one-sided tail uses the e^(−(6nd+1)²/(18n)) approximation, as scipy does. */
const SMIRNOV_EXACT_LIMIT = 1_000_000;

/** Cut-offs of the Simard–L'Ecuyer method selection (see the module comment). */
const SMALL_SAMPLE_LIMIT = 140;
const DURBIN_SMALL_SAMPLE_LIMIT = 0.754693;
const POMERANZ_LIMIT = 4;
const ONE_SIDED_TAIL_LIMIT = 2.2;
const ZERO_TAIL_LIMIT = 370;
const DURBIN_LARGE_SAMPLE_LIMIT = 100_000;
const DURBIN_LARGE_SAMPLE_SHAPE_LIMIT = 1.4;

/** Pelz–Good returns a CDF of 0 once exp(−π²/(8z²)) underflows. */
const PELZ_GOOD_MIN_LOG = -708;

const clampProbability = (probability: number): number => Math.min(1, Math.max(0, probability));

function scaleByPowerOfTwo(value: number, exponent: number): number {
  let result = value;
  let remaining = exponent;
  while (remaining > 1000) {
    result *= 2 ** 1000;
    remaining -= 1000;
  }
  while (remaining < -1000) {
    result *= 2 ** -1000;
    remaining += 1000;
  }
  return result * 2 ** remaining;
}

function assertSampleSize(sampleSize: number): void {
  if (!Number.isInteger(sampleSize) || sampleSize < 1) {
    throw new RangeError(`Kolmogorov sample size must be an integer ≥ 1, got ${sampleSize}`);
  }
}

function multiplySquare(left: Float64Array, right: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const product = new Float64Array(size * size);
  for (let row = 0; row < size; row += 1) {
    const rowOffset = row * size;
    for (let inner = 0; inner < size; inner += 1) {
      const factor = left[rowOffset + inner]!;
      if (factor === 0) continue;
      const innerOffset = inner * size;
      for (let column = 0; column < size; column += 1) {
        product[rowOffset + column]! += factor * right[innerOffset + column]!;
      }
    }
  }
  return product;
}

/**
 * P(D_n ≤ d) by Durbin's matrix (1968) in the form of Marsaglia, Tsang & Wang (2003):
 * with n·d = k − h, the (k, k) entry of H^n times n!/n^n, where H is the (2k − 1)-square matrix
 * below. Powers are rescaled by 2^128 whenever the tracked entry grows past it, and the
 * exponents are carried separately.
 */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const size = 2 * k - 1;

  // firstColumn[j − 1] = (1 − h^j)/j!; inverseFactorials[j − 1] = 1/(j − 1)!
  const firstColumn = new Float64Array(size);
  const inverseFactorials = new Float64Array(size);
  let inverseFactorial = 1;
  for (let j = 1; j <= size; j += 1) {
    inverseFactorials[j - 1] = inverseFactorial;
    inverseFactorial /= j;
    firstColumn[j - 1] = (1 - h ** j) * inverseFactorial;
  }
  const cornerCorrection = Math.max(2 * h - 1, 0) ** size - 2 * h ** size;
  firstColumn[size - 1] = (1 + cornerCorrection) * inverseFactorial;

  let base = new Float64Array(size * size);
  for (let column = 1; column < size; column += 1) {
    for (let row = column - 1; row < size; row += 1) {
      base[row * size + column] = inverseFactorials[row - column + 1]!;
    }
  }
  for (let row = 0; row < size; row += 1) base[row * size] = firstColumn[row]!;
  for (let column = 0; column < size; column += 1) base[(size - 1) * size + column] = firstColumn[size - 1 - column]!;

  let power = new Float64Array(size * size);
  for (let diagonal = 0; diagonal < size; diagonal += 1) power[diagonal * size + diagonal] = 1;
  const tracked = (k - 1) * size + (k - 1);
  let powerExponent = 0;
  let baseExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2 === 1) {
      power = multiplySquare(power, base, size);
      powerExponent += baseExponent;
    }
    remaining = Math.floor(remaining / 2);
    if (remaining > 0) {
      base = multiplySquare(base, base, size);
      baseExponent *= 2;
      if (Math.abs(base[tracked]!) > SCALE_UP) {
        for (let index = 0; index < base.length; index += 1) base[index]! /= SCALE_UP;
        baseExponent += SCALE_EXPONENT;
      }
    }
  }

  let probability = power[tracked]!;
  for (let i = 1; i <= n; i += 1) {
    probability = (i * probability) / n;
    if (Math.abs(probability) < SCALE_DOWN) {
      probability *= SCALE_UP;
      powerExponent -= SCALE_EXPONENT;
    }
  }
  return clampProbability(scaleByPowerOfTwo(probability, powerExponent));
}

/** Column range [first, last] of the non-zero entries of row i of Pomeranz's recursion. */
function pomeranzColumnRange(
  i: number,
  n: number,
  floorOfNd: number,
  ceilingOfFraction: number,
  roundingOfFraction: number,
): [number, number] {
  let first: number;
  let last: number;
  if (i === 0) {
    first = -floorOfNd - ceilingOfFraction - 1;
    last = floorOfNd + ceilingOfFraction - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        first = n - floorOfNd - ceilingOfFraction - 1;
        last = n + floorOfNd + ceilingOfFraction - 1;
      } else {
        first = half - 1 - floorOfNd - roundingOfFraction - 1;
        last = half + floorOfNd - 1 + ceilingOfFraction - 1;
      }
    } else {
      first = half - 1 - floorOfNd - 1;
      last = half + floorOfNd + roundingOfFraction - 1;
    }
  }
  return [Math.max(first + 2, 0), Math.min(last, n)];
}

/**
 * P(D_n ≤ d) by Pomeranz's recursion (1974): 2n + 1 rows, each the convolution of the previous
 * row with one of three truncated Poisson weight sequences, only a band of columns non-zero.
 * Rows are rescaled by 2^128 when their maximum falls below 2^−128.
 */
function pomeranzCdf(n: number, d: number): number {
  const nd = n * d;
  const floorOfNd = Math.floor(nd);
  const fraction = nd - floorOfNd;
  const g = Math.min(fraction, 1 - fraction);
  const ceilingOfFraction = fraction > 0 ? 1 : 0;
  const roundingOfFraction = fraction > 0.5 ? 1 : 0;
  const weightCount = 2 * (floorOfNd + 1);

  // (g/n)^m/m!, (2g/n)^m/m!, ((1 − 2g)/n)^m/m!: Poisson weights without their normalising factor.
  const gWeights = new Float64Array(weightCount);
  const twoGWeights = new Float64Array(weightCount);
  const oneMinusTwoGWeights = new Float64Array(weightCount);
  gWeights[0] = 1;
  twoGWeights[0] = 1;
  oneMinusTwoGWeights[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < weightCount; m += 1) {
    gWeights[m] = (gWeights[m - 1]! * gOverN) / m;
    twoGWeights[m] = (twoGWeights[m - 1]! * twoGOverN) / m;
    oneMinusTwoGWeights[m] = (oneMinusTwoGWeights[m - 1]! * oneMinusTwoGOverN) / m;
  }

  let previousRow = new Float64Array(weightCount);
  let currentRow = new Float64Array(weightCount);
  currentRow[0] = 1;
  let previousStart = 0;
  let currentStart = 0;
  let exponent = 0;

  let [first, last] = pomeranzColumnRange(0, n, floorOfNd, ceilingOfFraction, roundingOfFraction);
  for (let i = 1; i < 2 * n + 2; i += 1) {
    const previousFirst = first;
    [previousRow, currentRow] = [currentRow, previousRow];
    [previousStart, currentStart] = [currentStart, previousStart];
    currentRow.fill(0);
    [first, last] = pomeranzColumnRange(i, n, floorOfNd, ceilingOfFraction, roundingOfFraction);
    const weights = i === 1 || i === 2 * n + 1 ? gWeights : i % 2 === 1 ? twoGWeights : oneMinusTwoGWeights;
    const span = last - previousFirst + 1;
    if (span <= 0) continue;

    const sourceOffset = previousFirst - previousStart;
    const sourceLength = Math.max(0, Math.min(span, weightCount - sourceOffset));
    const weightLength = Math.min(span, weightCount);
    const outputOffset = first - previousFirst;
    const outputLength = last - first + 1;
    let rowMaximum = 0;
    for (let output = 0; output < outputLength; output += 1) {
      const lag = outputOffset + output;
      let convolution = 0;
      const lowest = Math.max(0, lag - weightLength + 1);
      const highest = Math.min(lag, sourceLength - 1);
      for (let source = lowest; source <= highest; source += 1) {
        convolution += previousRow[sourceOffset + source]! * weights[lag - source]!;
      }
      currentRow[output] = convolution;
      if (convolution > rowMaximum) rowMaximum = convolution;
    }
    if (rowMaximum > 0 && rowMaximum < SCALE_DOWN) {
      for (let output = 0; output < outputLength; output += 1) currentRow[output]! *= SCALE_UP;
      exponent -= SCALE_EXPONENT;
    }
    currentStart = previousStart + first - previousFirst;
  }

  // The CDF is n! times the last entry of the last row.
  let probability = currentRow[n - currentStart]!;
  for (let m = 1; m <= n; m += 1) {
    if (Math.abs(probability) > SCALE_UP) {
      probability *= SCALE_DOWN;
      exponent += SCALE_EXPONENT;
    }
    probability *= m;
  }
  return clampProbability(scaleByPowerOfTwo(probability, exponent));
}

/**
 * P(D_n ≤ d) by the Pelz–Good (1976) expansion K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^1.5, z = d√n,
 * in its Jacobi-theta form that converges fast for small z.
 */
function pelzGoodCdf(n: number, d: number): number {
  if (d <= 0) return 0;
  if (d >= 1) return 1;
  const z = Math.sqrt(n) * d;
  const zSquared = z ** 2;
  const zCubed = z ** 3;
  const zFourth = z ** 4;
  const zSixth = z ** 6;

  const logQ = -PI_SQUARED / 8 / zSquared;
  if (logQ < PELZ_GOOD_MIN_LOG) return 0;
  const q = Math.exp(logQ);

  const k1a = -zSquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zSixth + 2 * zFourth;
  const k2b = ((2 * zFourth - 5 * zSquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOURTH * (1 - 2 * zSquared)) / 16;
  const k3d = (PI_SIXTH * (5 - 30 * zSquared)) / 64;
  const k3c = (PI_FOURTH * (-60 * zSquared + 212 * zFourth)) / 16;
  const k3b = (PI_SQUARED * (135 * zFourth - 96 * zSixth)) / 4;
  const k3a = -30 * zSixth - 90 * z ** 8;

  // Horner scheme in q^8k over the odd integers m = 2k − 1.
  const termCount = Math.ceil((16 * z) / Math.PI);
  let k0 = 0;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  for (let k = termCount; k > 0; k -= 1) {
    const m = 2 * k - 1;
    const mSquared = m ** 2;
    const mFourth = m ** 4;
    const mSixth = m ** 6;
    const qPower = q ** (8 * k);
    k0 = k0 * qPower + 1;
    k1 = k1 * qPower + (k1a + k1b * mSquared);
    k2 = k2 * qPower + (k2a + k2b * mSquared + k2c * mFourth);
    k3 = k3 * qPower + (k3a + k3b * mSquared + k3c * mFourth + k3d * mSixth);
  }
  k0 = (k0 * q * SQRT_TWO_PI) / z;
  k1 = (k1 * q * SQRT_TWO_PI) / (6 * zFourth);
  k2 = (k2 * q * SQRT_TWO_PI) / (72 * z ** 7);
  k3 = (k3 * q * SQRT_TWO_PI) / (6480 * z ** 10);

  // The remaining sums over all integers k carry no cancellation and are added directly.
  const qWhole = Math.exp(-PI_SQUARED / 2 / zSquared);
  const sqrtThreeZ = SQRT_THREE * z;
  let k2Extra = 0;
  let k3Extra = 0;
  for (let k = termCount; k > 0; k -= 1) {
    const kSquared = k ** 2;
    const weight = kSquared * qWhole ** kSquared;
    const kPi = Math.PI * k;
    k2Extra += weight;
    k3Extra += (sqrtThreeZ + kPi) * (sqrtThreeZ - kPi) * weight;
  }
  k2 += k2Extra * ((PI_SQUARED * SQRT_TWO_PI) / (-36 * zCubed));
  k3 += k3Extra * ((PI_SQUARED * SQRT_TWO_PI) / (216 * zSixth));

  return k0 + k1 / n ** 0.5 + k2 / n + k3 / n ** 1.5;
}

/**
 * P(D_n⁺ ≥ d), the upper tail of the one-sided one-sample Kolmogorov–Smirnov statistic
 * (scipy.special.smirnov(n, d)).
 *
 * Birnbaum–Tingey: P = Σ_{v=0}^{⌈n(1−d)⌉−1} C(n,v) d (d + v/n)^(v−1) (1 − d − v/n)^(n−v), a sum of
 * positive terms. Each term is evaluated in logarithms after taking out Stirling's formula
 * analytically, C(n,v)(v/n)^v((n−v)/n)^(n−v) = √(n/(2πv(n−v))) e^(δ(n)−δ(v)−δ(n−v)), so that the
 * remaining logarithms are of size n·d rather than n·log n; the terms keep ~1e-13 relative
 * accuracy for n up to 10^6. The sum stops once the terms, past their peak, can no longer change
 * it. Above n = 10^6 the approximation e^(−(6nd+1)²/(18n)) is returned, as scipy does.
 */
export function smirnovOneSidedSurvival(statistic: number, sampleSize: number): number {
  assertSampleSize(sampleSize);
  if (Number.isNaN(statistic)) throw new RangeError('Smirnov statistic is NaN');
  const n = sampleSize;
  const d = statistic;
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  if (n === 1) return 1 - d;
  const nd = n * d;
  if (nd <= 1) {
    // d ≤ 1/n: P(D⁺ < d) = d (1 + d)^(n−1)
    return clampProbability(1 - d * Math.exp((n - 1) * Math.log1p(d)));
  }
  if (-2 * n * d * d < LOG_SMALLEST_DOUBLE) return 0;
  if (n > SMIRNOV_EXACT_LIMIT && nd < n - 1) {
    const logProbability = -((6 * nd + 1) ** 2) / 18 / n;
    return logProbability < -Math.LN2 ? Math.exp(logProbability) : 1 + Math.expm1(logProbability);
  }

  const lastTerm = n - Math.floor(nd) - 1;
  const sum = new CompensatedSum();
  // v = 0: C(n,0) d · d^(−1) (1 − d)^n
  let previousTerm = Math.exp(n * Math.log1p(-d));
  sum.add(previousTerm);
  const stirlingOfN = stirlingRemainder(n);
  for (let v = 1; v <= lastTerm; v += 1) {
    const complement = n - v;
    const complementShift = nd / complement;
    if (complementShift >= 1) break;
    const logTerm =
      stirlingOfN -
      largeArgumentStirlingRemainder(v) -
      largeArgumentStirlingRemainder(complement) +
      v * Math.log1p(nd / v) +
      complement * Math.log1p(-complementShift);
    const term = Math.exp(logTerm) * Math.sqrt(n / (2 * Math.PI * v * complement)) * (nd / (nd + v));
    sum.add(term);
    if (term < previousTerm && (lastTerm - v) * term < 0.25 * Number.EPSILON * sum.value) break;
    previousTerm = term;
  }
  return clampProbability(sum.value);
}

/**
 * stirlingRemainder with its leading terms inlined for large arguments: the Birnbaum–Tingey sum
 * evaluates it twice per term, up to a million times per call.
 */
function largeArgumentStirlingRemainder(k: number): number {
  if (k < 100) return stirlingRemainder(k);
  // At k ≥ 100 the first omitted term, 1/(1260 k^5), changes a term's logarithm by < 1e-13.
  const inverse = 1 / k;
  return inverse * (1 / 12 - (inverse * inverse) / 360);
}

/** log(n!/n^n) by Stirling's formula. */
function logFactorialOverPower(n: number): number {
  return 0.5 * Math.log(n) - n + HALF_LOG_TWO_PI + stirlingRemainder(n);
}

/**
 * P(D_n ≥ d) for the two-sided one-sample Kolmogorov–Smirnov statistic (scipy.stats.kstwo.sf);
 * see the module comment for the method used in each region.
 */
export function kolmogorovTwoSidedSurvival(statistic: number, sampleSize: number): number {
  assertSampleSize(sampleSize);
  if (Number.isNaN(statistic)) throw new RangeError('Kolmogorov statistic is NaN');
  const n = sampleSize;
  const d = statistic;
  // D_n ≥ 1/(2n) always, and D_n ≤ 1.
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;

  const nd = n * d;
  if (nd <= 1) {
    // Ruben–Gambino: P(D_n ≤ d) = n!/n^n (2nd − 1)^n for 1/(2n) ≤ d ≤ 1/n
    let cdf: number;
    if (n <= SMALL_SAMPLE_LIMIT) {
      cdf = 1;
      for (let i = 1; i <= n; i += 1) cdf *= i * (1 / n) * (2 * nd - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * nd - 1));
    }
    return clampProbability(1 - cdf);
  }
  // Ruben–Gambino: P(D_n ≥ d) = 2(1 − d)^n for d ≥ 1 − 1/n
  if (nd >= n - 1) return clampProbability(2 * (1 - d) ** n);
  if (d >= 0.5) return clampProbability(2 * smirnovOneSidedSurvival(d, n));

  const ndSquared = nd * d;
  if (n <= SMALL_SAMPLE_LIMIT) {
    if (ndSquared <= DURBIN_SMALL_SAMPLE_LIMIT) return clampProbability(1 - durbinMatrixCdf(n, d));
    if (ndSquared <= POMERANZ_LIMIT) return clampProbability(1 - pomeranzCdf(n, d));
    return clampProbability(2 * smirnovOneSidedSurvival(d, n));
  }
  if (ndSquared >= ZERO_TAIL_LIMIT) return 0;
  if (ndSquared >= ONE_SIDED_TAIL_LIMIT) return clampProbability(2 * smirnovOneSidedSurvival(d, n));
  const cdf =
    n <= DURBIN_LARGE_SAMPLE_LIMIT && n * d ** 1.5 <= DURBIN_LARGE_SAMPLE_SHAPE_LIMIT
      ? durbinMatrixCdf(n, d)
      : clampProbability(pelzGoodCdf(n, d));
  return clampProbability(1 - cdf);
}
