import type { ResultStatus } from '../result-row.js';

/**
 * How a metric value becomes a status. `above`: larger is worse (drift distances); `below`:
 * smaller is worse (AUROC). A value beyond `alert` alerts, beyond `warn` warns.
 */
export interface MetricThreshold {
  warn?: number;
  alert?: number;
  direction: 'above' | 'below';
  /**
   * `population`: the bounds judge only the whole population's row, not a segment's or a group's
   * (a prevalence that differs between groups by nature); every row otherwise.
   */
  scope?: 'all' | 'population';
}

export type ThresholdLookup = (metric: string) => MetricThreshold | undefined;

export interface Classification {
  status: Exclude<ResultStatus, 'undefined'>;
  /** The bound the value crossed, or the nearest one it did not; null without thresholds. */
  threshold: number | null;
}

/** The status of a value under its threshold; `segment` is the row's (null for the whole population). */
export function classify(value: number, threshold: MetricThreshold | undefined, segment: string | null = null): Classification {
  if (threshold === undefined || (threshold.scope === 'population' && segment !== null)) return { status: 'ok', threshold: null };
  const beyond = (bound: number | undefined): boolean =>
    bound !== undefined && (threshold.direction === 'above' ? value > bound : value < bound);
  if (beyond(threshold.alert)) return { status: 'alert', threshold: threshold.alert ?? null };
  if (beyond(threshold.warn)) return { status: 'warn', threshold: threshold.warn ?? null };
  return { status: 'ok', threshold: threshold.warn ?? threshold.alert ?? null };
}
