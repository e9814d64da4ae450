import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Shape of test/fixtures/oracles/drift.json, written by test/oracles/drift_oracle.py. */
export interface DriftOracle {
  versions: Record<string, string>;
  proportionFloor: number;
  numeric: NumericCase[];
  categorical: CategoricalCase[];
  quality: QualityCase[];
  multipleTesting: MultipleTestingCase[];
  /** [n, d, scipy.stats.kstwo.sf(d, n)] */
  kolmogorov: [number, number, number][];
  /** [n, d, scipy.special.smirnov(n, d)] */
  smirnov: [number, number, number][];
  /** [x, degrees of freedom, scipy.stats.chi2.sf(x, dof)] */
  chiSquare: [number, number, number][];
}

export interface NumericCase {
  name: string;
  reference: (number | null)[];
  current: (number | null)[];
  binCount: number;
  expected:
    | { undefined: true; binEdges: number[] | null }
    | {
        undefined: false;
        ks: { statistic: number; pValue: number; effectiveSampleSize: number } | null;
        wasserstein: number;
        normalizedWasserstein: number | null;
        binEdges: number[];
        referenceBinCounts: number[];
        currentBinCounts: number[];
        populationStabilityIndex: number;
        jensenShannonDistance: number;
        klDivergence: number;
        hellingerDistance: number;
      };
}

export interface CategoricalCase {
  name: string;
  reference: (string | null)[];
  current: (string | null)[];
  expected:
    | { undefined: true }
    | {
        undefined: false;
        populationStabilityIndex: number;
        chiSquare: { statistic: number; pValue: number; degreesOfFreedom: number };
        jensenShannonDistance: number;
        maxProportionDifference: number;
        unseenCategoryShare: number;
      };
}

export interface QualityCase {
  kind: 'numeric' | 'categorical';
  name: string;
  reference: (number | string | null)[];
  current: (number | string | null)[];
  expected: {
    referenceMissingShare: number | null;
    currentMissingShare: number | null;
    missingShareChange: number | null;
    outOfRangeShare?: number | null;
  };
}

export interface MultipleTestingCase {
  name: string;
  pValues: number[];
  falseDiscoveryRate: number;
  adjustedPValues: number[];
  rejected: boolean[];
}

export const oracle = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/oracles/drift.json', import.meta.url)), 'utf8'),
) as DriftOracle;

/** |actual − expected| relative to |expected|; exact agreement (including two zeros) is 0. */
export function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}
