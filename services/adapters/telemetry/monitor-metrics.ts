import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ResultRow, ResultStatus } from '../../core/metrics/result-row.js';
import type { WindowAccounting } from '../../core/monitoring/window-parts.js';

/** A row's status as a number, so that Prometheus can compare it: the larger, the worse; 3 when it could not be computed. */
export const STATUS_VALUE: Readonly<Record<ResultStatus, number>> = { ok: 0, warn: 1, alert: 2, undefined: 3 };

type RowLabel = 'model' | 'window' | 'kind' | 'metric' | 'feature' | 'segment' | 'group';
type WindowLabel = 'model' | 'window';

/** The latest evaluated window of one model and size, as its series show it. */
export interface LatestWindow {
  modelId: string;
  windowSize: string;
  windowEnd: number;
  /** The version of the baseline the window was compared with. */
  baselineVersion: string;
  accounting: WindowAccounting;
  rows: readonly ResultRow[];
}

/**
 * The monitor's Prometheus series, on the shared registry. Labels take their values from model
 * specs (model id, window size) and from result rows (kind, metric, feature and segment named by the
 * spec, group pooled to max_groups_per_segment), so the series number at most models × window sizes
 * × rows per window. A row the latest window no longer has loses its series.
 */
export class MonitorMetrics {
  readonly metricValue: Gauge<RowLabel>;
  readonly metricStatus: Gauge<RowLabel>;
  readonly windowPredictions: Gauge<WindowLabel>;
  readonly windowOutcomes: Gauge<WindowLabel>;
  readonly labelCoverage: Gauge<WindowLabel>;
  readonly windowEnd: Gauge<WindowLabel>;
  readonly baselineInfo: Gauge<WindowLabel | 'baseline'>;
  readonly evaluations: Counter<WindowLabel>;
  readonly evaluationFailures: Counter<WindowLabel>;
  readonly evaluationSeconds: Histogram;
  readonly lastSuccess: Gauge;
  readonly members: Gauge;
  /** The row labels each model and size has series for, to remove those its next latest window lacks. */
  /** The baseline version each model and size shows, to remove its series when it changes. */
  private readonly baselines = new Map<string, string>();
  private readonly rowLabels = new Map<string, { values: Map<string, Record<RowLabel, string>>; statuses: Map<string, Record<RowLabel, string>> }>();

  constructor(registry: Registry) {
    const rowLabels: RowLabel[] = ['model', 'metric', 'kind', 'feature', 'segment', 'group', 'window'];
    const windowLabels: WindowLabel[] = ['model', 'window'];
    const registers = [registry];
    this.metricValue = new Gauge({ name: 'vigil_model_metric_value', help: 'Value of a result row of the latest evaluated window; absent while the row is undefined.', labelNames: rowLabels, registers });
    this.metricStatus = new Gauge({ name: 'vigil_model_metric_status', help: 'Status of a result row of the latest evaluated window: 0 ok, 1 warn, 2 alert, 3 undefined.', labelNames: rowLabels, registers });
    this.windowPredictions = new Gauge({ name: 'vigil_model_window_predictions', help: 'Predictions in the latest evaluated window.', labelNames: windowLabels, registers });
    this.windowOutcomes = new Gauge({ name: 'vigil_model_window_outcomes', help: 'Binary outcomes joined to the predictions of the latest evaluated window.', labelNames: windowLabels, registers });
    this.labelCoverage = new Gauge({ name: 'vigil_model_label_coverage_ratio', help: 'Share of the latest evaluated window\'s predictions with an outcome.', labelNames: windowLabels, registers });
    this.windowEnd = new Gauge({ name: 'vigil_model_window_end_timestamp_seconds', help: 'End (exclusive, event time) of the latest evaluated window.', labelNames: windowLabels, registers });
    this.baselineInfo = new Gauge({
      name: 'vigil_model_baseline_info',
      help: 'Always 1: the version of the baseline the latest evaluated window was compared with (the baselines table holds it), in the baseline label.',
      labelNames: ['model', 'window', 'baseline'],
      registers,
    });
    this.evaluations = new Counter({ name: 'vigil_monitor_evaluations_total', help: 'Windows evaluated and recorded.', labelNames: windowLabels, registers });
    this.evaluationFailures = new Counter({ name: 'vigil_monitor_evaluation_failures_total', help: 'Window evaluations that failed; the window is tried again at the next pass.', labelNames: windowLabels, registers });
    this.evaluationSeconds = new Histogram({
      name: 'vigil_monitor_evaluation_duration_seconds',
      help: 'Time to evaluate and record one window, successful evaluations only.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.members = new Gauge({ name: 'vigil_monitor_members', help: 'Monitors sharing the database whose lease was live at the last renewal, this one included; they split the models and window sizes between them.', registers });
    this.lastSuccess = new Gauge({ name: 'vigil_monitor_last_success_timestamp_seconds', help: 'When the last monitor pass without a failure ended (wall clock).', registers });
  }

  /** Removes every series of a model and size, once another monitor evaluates it. */
  forget(modelId: string, windowSize: string): void {
    const windowLabels = { model: modelId, window: windowSize };
    for (const gauge of [this.windowPredictions, this.windowOutcomes, this.labelCoverage, this.windowEnd]) gauge.remove(windowLabels);
    const key = `${modelId}\u0000${windowSize}`;
    const shownBaseline = this.baselines.get(key);
    if (shownBaseline !== undefined) this.baselineInfo.remove({ ...windowLabels, baseline: shownBaseline });
    this.baselines.delete(key);
    const previous = this.rowLabels.get(key);
    if (previous === undefined) return;
    for (const labels of previous.statuses.values()) this.metricStatus.remove(labels);
    for (const labels of previous.values.values()) this.metricValue.remove(labels);
    this.rowLabels.delete(key);
  }

  /** Replaces the series of a model and size with those of its latest evaluated window. */
  showLatest(latest: LatestWindow): void {
    const windowLabels = { model: latest.modelId, window: latest.windowSize };
    const { predictions, outcomes } = latest.accounting;
    this.windowPredictions.set(windowLabels, predictions);
    this.windowOutcomes.set(windowLabels, outcomes);
    if (predictions > 0) this.labelCoverage.set(windowLabels, outcomes / predictions);
    else this.labelCoverage.remove(windowLabels);
    this.windowEnd.set(windowLabels, latest.windowEnd / 1000);
    const key = `${latest.modelId}\u0000${latest.windowSize}`;
    const shownBaseline = this.baselines.get(key);
    if (shownBaseline !== undefined && shownBaseline !== latest.baselineVersion) this.baselineInfo.remove({ ...windowLabels, baseline: shownBaseline });
    this.baselineInfo.set({ ...windowLabels, baseline: latest.baselineVersion }, 1);
    this.baselines.set(key, latest.baselineVersion);

    const previous = this.rowLabels.get(key) ?? { values: new Map(), statuses: new Map() };
    const current = { values: new Map<string, Record<RowLabel, string>>(), statuses: new Map<string, Record<RowLabel, string>>() };
    for (const row of latest.rows) {
      const labels: Record<RowLabel, string> = { ...windowLabels, kind: row.kind, metric: row.metric, feature: row.feature ?? '', segment: row.segment ?? '', group: row.group ?? '' };
      const labelKey = JSON.stringify(labels);
      this.metricStatus.set(labels, STATUS_VALUE[row.status]);
      current.statuses.set(labelKey, labels);
      if (row.value !== null && Number.isFinite(row.value)) {
        this.metricValue.set(labels, row.value);
        current.values.set(labelKey, labels);
      }
    }
    for (const [labelKey, labels] of previous.statuses) if (!current.statuses.has(labelKey)) this.metricStatus.remove(labels);
    for (const [labelKey, labels] of previous.values) if (!current.values.has(labelKey)) this.metricValue.remove(labels);
    this.rowLabels.set(key, current);
  }
}
