/**
 * The one shape every metric result takes, whether it comes from a dataset report, a streaming
 * window, ClickHouse or Prometheus: a tidy row per (kind, metric, feature, segment, group).
 */

export type ResultKind = 'drift' | 'quality' | 'performance' | 'calibration' | 'fairness' | 'volume' | 'labels';

export type ResultStatus = 'ok' | 'warn' | 'alert' | 'undefined';

export interface ResultRow {
  kind: ResultKind;
  metric: string;
  /** Feature name (or the score column) for drift and quality rows; null otherwise. */
  feature: string | null;
  /** Segment attribute (e.g. sex) for per-group, fairness and volume rows; null otherwise. */
  segment: string | null;
  /** Group within the segment (e.g. F); null when the row covers the whole segment or population. */
  group: string | null;
  /** null exactly when status is 'undefined'; reason then says why. */
  value: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n_reference: number | null;
  n_current: number | null;
  threshold: number | null;
  status: ResultStatus;
  reason: string | null;
}

/** A row with every optional field empty and status ok; callers fill in what they know. */
export function resultRow(fields: Pick<ResultRow, 'kind' | 'metric'> & Partial<ResultRow>): ResultRow {
  const { kind, metric, ...rest } = fields;
  return {
    kind,
    metric,
    feature: null,
    segment: null,
    group: null,
    value: null,
    p_value: null,
    ci_low: null,
    ci_high: null,
    n_reference: null,
    n_current: null,
    threshold: null,
    status: 'ok',
    reason: null,
    ...rest,
  };
}

/** A value that may be undefined for a stated reason (one class only, empty window, ...). */
export type Outcome<T> = { defined: true; value: T } | { defined: false; reason: string };

export const defined = <T>(value: T): Outcome<T> => ({ defined: true, value });
export const undefinedBecause = <T = never>(reason: string): Outcome<T> => ({ defined: false, reason });
