/**
 * Benjamini–Hochberg control of the false discovery rate across many drift tests (one per
 * feature), matching statsmodels.stats.multitest.multipletests(method="fdr_bh").
 */

export interface BenjaminiHochbergResult {
  /**
   * Adjusted p-values in the input order: p₍ᵢ₎·m/i made monotone from the largest rank down
   * (min over ranks ≥ i) and capped at 1, p₍ᵢ₎ the i-th smallest of the m p-values.
   */
  adjustedPValues: number[];
  /**
   * Step-up decision at the given false discovery rate q: with k the largest rank such that
   * p₍ₖ₎ ≤ (k/m)·q, the hypotheses of ranks 1 … k are rejected.
   */
  rejected: boolean[];
}

/**
 * Throws a RangeError for a p-value outside [0, 1] (NaN included) or a rate outside (0, 1]:
 * these come from the metrics themselves, so an invalid one is a defect rather than data.
 */
export function benjaminiHochberg(pValues: readonly number[], falseDiscoveryRate: number): BenjaminiHochbergResult {
  if (!(falseDiscoveryRate > 0 && falseDiscoveryRate <= 1)) {
    throw new RangeError(`false discovery rate must lie in (0, 1], got ${falseDiscoveryRate}`);
  }
  pValues.forEach((pValue, index) => {
    if (!(pValue >= 0 && pValue <= 1)) throw new RangeError(`p-value at index ${index} is ${pValue}, not in [0, 1]`);
  });
  const count = pValues.length;
  const order = pValues.map((_, index) => index).sort((left, right) => pValues[left]! - pValues[right]!);

  const adjustedPValues = new Array<number>(count);
  const rejected = new Array<boolean>(count).fill(false);
  let lastRejectedRank = 0;
  let runningMinimum = Infinity;
  for (let rank = count; rank >= 1; rank -= 1) {
    const index = order[rank - 1]!;
    const pValue = pValues[index]!;
    const rankShare = rank / count;
    if (lastRejectedRank === 0 && pValue <= rankShare * falseDiscoveryRate) lastRejectedRank = rank;
    runningMinimum = Math.min(runningMinimum, pValue / rankShare);
    adjustedPValues[index] = Math.min(runningMinimum, 1);
  }
  for (let rank = 1; rank <= lastRejectedRank; rank += 1) rejected[order[rank - 1]!] = true;
  return { adjustedPValues, rejected };
}
