import type { ResultStatus } from '../result-row.js';

/**
 * How a metric value becomes a status. `above`: larger is worse (drift distances); `below`:
 * smaller is worse (AUROC). A value beyond `alert` alerts, beyond `warn` warns.
 */
export interface MetricThreshold {
  warn?: number;
  alert?: number;
  direction: 'above' | 'below';
}

export type ThresholdLookup = (metric: string) => MetricThreshold | undefined;

export interface Classification {
  status: Exclude<ResultStatus, 'undefined'>;
  /** The bound the value crossed, or the nearest one it did not; null without thresholds. */
  threshold: number | null;
}

export function classify(value: number, threshold: MetricThreshold | undefined): Classification {
  if (threshold === undefined) return { status: 'ok', threshold: null };
  const beyond = (bound: number | undefined): boolean =>
    bound !== undefined && (threshold.direction === 'above' ? value > bound : value < bound);
  if (beyond(threshold.alert)) return { status: 'alert', threshold: threshold.alert ?? null };
  if (beyond(threshold.warn)) return { status: 'warn', threshold: threshold.warn ?? null };
  return { status: 'ok', threshold: threshold.warn ?? threshold.alert ?? null };
}
