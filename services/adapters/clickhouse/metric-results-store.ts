import type { ClickHouseClient } from '@clickhouse/client';
import type { ResultKind, ResultRow, ResultStatus } from '../../core/metrics/result-row.js';
import { clickhouseTime, epochMs } from './clickhouse-time.js';

/** One evaluation of one window of one model: what was compared with what, by which code, when. */
export interface WindowEvaluation {
  evaluationId: string;
  modelId: string;
  modelVersion: string;
  /** The window size as the spec writes it, e.g. `1h`. */
  windowSize: string;
  /** Epoch ms; the window is [windowStart, windowEnd) in event time. */
  windowStart: number;
  windowEnd: number;
  /** provisional while events or outcomes may still arrive; final once the label horizon has passed. */
  state: 'provisional' | 'final';
  baselineVersion: string;
  specHash: string;
  vigilVersion: string;
  evaluatedAt: number;
  /** The monitor instance that evaluated the window. */
  evaluatedBy: string;
}

export interface EvaluatedWindow {
  evaluation: WindowEvaluation;
  rows: ResultRow[];
}

const orNull = (value: string | number | null): number | null => (value === null ? null : Number(value));

interface EvaluationRecord {
  evaluation_id: string;
  model_id: string;
  model_version: string;
  window_size: string;
  window_start: string;
  window_end: string;
  window_state: 'provisional' | 'final';
  baseline_version: string;
  spec_hash: string;
  vigil_version: string;
  evaluated_at: string;
  evaluated_by: string;
  result_rows: number;
}

interface ResultRecord {
  evaluation_id: string;
  kind: ResultKind;
  metric: string;
  feature: string;
  segment: string;
  group_name: string;
  value: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n_reference: string | number | null;
  n_current: string | number | null;
  threshold: number | null;
  status: ResultStatus;
  reason: string | null;
}

/**
 * The monitor's results in ClickHouse (`metric_results`, `window_evaluations`). An evaluation's rows
 * are written first and its record last, so a reader never sees a window half-evaluated; readers
 * take each window's latest recorded evaluation, so a re-evaluation replaces the whole previous one.
 */
export class MetricResultsStore {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  async record(evaluation: WindowEvaluation, rows: readonly ResultRow[]): Promise<void> {
    if (rows.length > 0) {
      await this.client.insert({
        table: `${this.database}.metric_results`,
        values: rows.map((row) => ({
          evaluation_id: evaluation.evaluationId,
          model_id: evaluation.modelId,
          window_size: evaluation.windowSize,
          window_start: clickhouseTime(evaluation.windowStart),
          kind: row.kind,
          metric: row.metric,
          feature: row.feature ?? '',
          segment: row.segment ?? '',
          group_name: row.group ?? '',
          value: row.value,
          p_value: row.p_value,
          ci_low: row.ci_low,
          ci_high: row.ci_high,
          n_reference: row.n_reference,
          n_current: row.n_current,
          threshold: row.threshold,
          status: row.status,
          reason: row.reason,
        })),
        format: 'JSONEachRow',
      });
    }
    await this.client.insert({
      table: `${this.database}.window_evaluations`,
      values: [
        {
          evaluation_id: evaluation.evaluationId,
          model_id: evaluation.modelId,
          model_version: evaluation.modelVersion,
          window_size: evaluation.windowSize,
          window_start: clickhouseTime(evaluation.windowStart),
          window_end: clickhouseTime(evaluation.windowEnd),
          window_state: evaluation.state,
          baseline_version: evaluation.baselineVersion,
          spec_hash: evaluation.specHash,
          vigil_version: evaluation.vigilVersion,
          evaluated_at: clickhouseTime(evaluation.evaluatedAt),
          evaluated_by: evaluation.evaluatedBy,
          result_rows: rows.length,
        },
      ],
      format: 'JSONEachRow',
    });
  }

  /** The latest evaluation of every window of a model and size that starts in [fromMs, toMs), oldest first. */
  async latest(modelId: string, windowSize: string, fromMs: number, toMs: number): Promise<EvaluatedWindow[]> {
    const evaluations = await (
      await this.client.query({
        query: `
          SELECT * FROM ${this.database}.window_evaluations
          WHERE model_id = {modelId:String} AND window_size = {windowSize:String}
            AND window_start >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND window_start < fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
          ORDER BY window_start, evaluated_at DESC, evaluation_id DESC
          LIMIT 1 BY window_start`,
        query_params: { modelId, windowSize, fromMs, toMs },
        format: 'JSONEachRow',
      })
    ).json<EvaluationRecord>();
    if (evaluations.length === 0) return [];
    const records = await (
      await this.client.query({
        query: `
          SELECT evaluation_id, kind, metric, feature, segment, group_name, value, p_value, ci_low, ci_high, n_reference, n_current, threshold, status, reason
          FROM ${this.database}.metric_results
          WHERE model_id = {modelId:String} AND window_size = {windowSize:String} AND evaluation_id IN {evaluationIds:Array(UUID)}
          ORDER BY kind, metric, feature, segment, group_name`,
        query_params: { modelId, windowSize, evaluationIds: evaluations.map((evaluation) => evaluation.evaluation_id) },
        format: 'JSONEachRow',
      })
    ).json<ResultRecord>();
    const rowsByEvaluation = new Map<string, ResultRow[]>();
    for (const record of records) {
      const rows = rowsByEvaluation.get(record.evaluation_id) ?? [];
      rows.push({
        kind: record.kind,
        metric: record.metric,
        feature: record.feature === '' ? null : record.feature,
        segment: record.segment === '' ? null : record.segment,
        group: record.group_name === '' ? null : record.group_name,
        value: record.value,
        p_value: record.p_value,
        ci_low: record.ci_low,
        ci_high: record.ci_high,
        n_reference: orNull(record.n_reference),
        n_current: orNull(record.n_current),
        threshold: record.threshold,
        status: record.status,
        reason: record.reason,
      });
      rowsByEvaluation.set(record.evaluation_id, rows);
    }
    return evaluations.map((record) => ({
      evaluation: {
        evaluationId: record.evaluation_id,
        modelId: record.model_id,
        modelVersion: record.model_version,
        windowSize: record.window_size,
        windowStart: epochMs(record.window_start),
        windowEnd: epochMs(record.window_end),
        state: record.window_state,
        baselineVersion: record.baseline_version,
        specHash: record.spec_hash,
        vigilVersion: record.vigil_version,
        evaluatedAt: epochMs(record.evaluated_at),
        evaluatedBy: record.evaluated_by,
      },
      rows: rowsByEvaluation.get(record.evaluation_id) ?? [],
    }));
  }
}
