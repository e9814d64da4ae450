import { describe, expect, it } from 'vitest';

import {
  normalCdf,
  normalDensity,
  normalQuantile,
  normalSurvival,
} from '../../../services/core/metrics/statistics/normal.js';
import { relativeError } from './oracle-fixture.js';

/**
 * References computed with mpmath at 40 significant digits (ncdf, npdf, and findroot on
 * log Φ(x) = log p for the quantile), each at the exact double the test passes in, rounded to 17
 * digits. The functions are accurate to a few ulps (≤ 3e-15 relative observed); 1e-13 relative
 * leaves room for rounding and would still catch any approximation that is merely good to 1e-9,
 * such as Acklam's rational function without refinement or a tail computed as 1 − Φ.
 */
const RELATIVE_TOLERANCE = 1e-13;

/** [x, Φ(x), Q(x)] */
const CDF_REFERENCES: [number, number, number][] = [
  [-37.5, 4.6053530095819548e-308, 1.0],
  [-30, 4.9067139271481871e-198, 1.0],
  [-20, 2.7536241186062337e-89, 1.0],
  [-10, 7.6198530241605261e-24, 1.0],
  [-5, 2.8665157187919391e-7, 0.99999971334842812],
  [-3, 0.0013498980316300945, 0.99865010196836991],
  [-1.96, 0.024997895148220436, 0.97500210485177956],
  [-1.5, 0.066807201268858066, 0.93319279873114193],
  [-1, 0.15865525393145705, 0.84134474606854295],
  [-0.5, 0.3085375387259869, 0.6914624612740131],
  [-1e-8, 0.4999999960105772, 0.5000000039894228],
  [0, 0.5, 0.5],
  [0.25, 0.59870632568292372, 0.40129367431707628],
  [1.2, 0.88493032977829172, 0.11506967022170828],
  [1.5, 0.93319279873114193, 0.066807201268858066],
  [2, 0.97724986805182079, 0.022750131948179207],
  [4, 0.99996832875816688, 3.1671241833119921e-5],
  [8.5, 0.99999999999999999, 9.4795348222033184e-18],
  [15, 1.0, 3.6709661993127509e-51],
  [26, 1.0, 2.4760633155033893e-149],
];

/** [p, Φ⁻¹(p)] */
const QUANTILE_REFERENCES: [number, number][] = [
  [1e-300, -37.047096299361199],
  [1e-100, -21.273453560965324],
  [1e-20, -9.2623400897984076],
  [1e-10, -6.3613409024040562],
  [1e-5, -4.2648907939228246],
  [0.001, -3.0902323061678135],
  [0.02425, -1.9729610513118848],
  [0.025, -1.9599639845400542],
  [0.1, -1.2815515655446004],
  [0.3, -0.52440051270804082],
  [0.4999, -0.00025066283008800749],
  [0.6, 0.25334710313579974],
  [0.975, 1.9599639845400539],
  [0.999, 3.0902323061678133],
  [0.9999999, 5.1993375822906611],
];

describe('normalCdf and normalSurvival', () => {
  it('match 40-digit references from x = −37.5 to 26, relatively in both tails', () => {
    for (const [x, cdf, survival] of CDF_REFERENCES) {
      expect(relativeError(normalCdf(x), cdf), `Φ(${x})`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
      expect(relativeError(normalSurvival(x), survival), `Q(${x})`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    }
  });

  it('are mirror images: Φ(−x) = Q(x) exactly', () => {
    for (const x of [0.1, 0.7, 1.4999, 1.5, 2.3, 6, 19, 33]) {
      expect(normalCdf(-x)).toBe(normalSurvival(x));
    }
  });

  it('reach exactly 0 and 1 beyond the range of doubles and propagate NaN', () => {
    expect(normalSurvival(45)).toBe(0);
    expect(normalCdf(-45)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalSurvival(Number.NEGATIVE_INFINITY)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
    expect(normalSurvival(Number.NaN)).toBeNaN();
  });

  it('is continuous where the series hands over to the continued fraction', () => {
    const below = normalSurvival(1.5 - 1e-12);
    const at = normalSurvival(1.5);
    // dQ/dx = −φ(1.5) ≈ −0.1295, so a 1e-12 step moves Q by ≈ 1.3e-13.
    expect(relativeError(below - at, 0.12951759566589174 * 1e-12)).toBeLessThan(1e-3);
  });
});

describe('normalDensity', () => {
  it('matches e^(−x²/2)/√(2π) at 40 digits, including far out where x² rounds', () => {
    // mpmath.npdf at 0, 1 and 30.
    expect(relativeError(normalDensity(0), 0.39894228040143268)).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    expect(relativeError(normalDensity(-1), 0.24197072451914337)).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    expect(relativeError(normalDensity(30.3), 1.7385997808349067e-200)).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  });
});

describe('normalQuantile', () => {
  it('matches 40-digit references from p = 1e-300 to 1 − 1e-7', () => {
    for (const [p, quantile] of QUANTILE_REFERENCES) {
      expect(relativeError(normalQuantile(p), quantile), `Φ⁻¹(${p})`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    }
  });

  it('inverts normalCdf across the lower tail and the centre', () => {
    for (let exponent = -250; exponent <= -1; exponent += 7) {
      const p = 10 ** exponent;
      expect(relativeError(normalCdf(normalQuantile(p)), p), `p=${p}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    }
    for (const p of [0.05, 0.2, 0.45, 0.55, 0.8, 0.95]) {
      expect(relativeError(normalCdf(normalQuantile(p)), p), `p=${p}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    }
  });

  it('is antisymmetric about ½ and has the conventional values at the edges', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.75)).toBe(-normalQuantile(0.25));
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});
