/**
 * The one catalogue of what Vigil exports to Prometheus and what Prometheus makes of it, as the
 * Prometheus monitoring mixins keep theirs: every series the code registers (name, type, help,
 * unit, labels), every recording rule and every alert. generate.ts turns it into the rule files,
 * one runbook page per alert, the runbook index and the README's table of series; the runbooks'
 * texts are in runbook-texts.ts. Pure data: no I/O.
 */

import { RUNBOOKS, type Runbook } from './runbook-texts.js';

export type SeriesType = 'counter' | 'gauge' | 'histogram';

export interface SeriesDefinition {
  name: string;
  type: SeriesType;
  /** Exactly the help text the code registers, so that the README says what /metrics says. */
  help: string;
  /** What one unit of the value is, in words: `seconds`, `ratio`, `records`, ... */
  unit: string;
  /** Label names, in the order the README lists them. */
  labels: readonly string[];
  /** Which component registers it; the monitor's series exist only in a process that runs the monitor. */
  component: 'pipeline' | 'monitor';
}

export type Severity = 'critical' | 'warning';

/** Prometheus durations as rules write them: `5m`, `1h30m`. */
export type PromDuration = string;

export interface AlertRule {
  /** The alert name; a warning and a critical rule of one condition share it (and its runbook), as in node-mixin. */
  alert: string;
  severity: Severity;
  expr: string;
  for: PromDuration;
  keepFiringFor?: PromDuration;
  /** Whether, once firing, it holds while its window size's latest window is too small to judge (its rows gone then). */
  holdsWhileWindowTooSmall?: boolean;
  /** The labels an alert of this rule carries besides alertname and severity, for the runbook and the tests. */
  labels: readonly string[];
  /** One line, with label templates: what is wrong and where. */
  summary: string;
  /** What the alert saw, how long, and what it means; label and value templates allowed. */
  description: string;
}

export interface RecordingRule {
  /** `level:metric:operations`: the labels kept, the series it derives from, what was done to it. */
  record: string;
  expr: string;
  /** The labels the result keeps; the level part of the name is these joined by `_`. */
  labels: readonly string[];
  /** What the recorded series means, for the runbook index and dashboards. */
  meaning: string;
}

export interface RuleGroup {
  name: string;
  /** Evaluation interval when it must differ from Prometheus's global one (long ranges need not run every few seconds). */
  interval?: PromDuration;
  rules: readonly (RecordingRule | AlertRule)[];
}

export interface RuleFile {
  /** Path from the project root. */
  path: string;
  /** Why the file exists, as its first comment lines. */
  purpose: string;
  groups: readonly RuleGroup[];
}

export const isAlertRule = (rule: RecordingRule | AlertRule): rule is AlertRule => 'alert' in rule;

// ---------------------------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------------------------

const ROW_LABELS = ['model', 'window', 'kind', 'metric', 'feature', 'segment', 'group'] as const;
const WINDOW_LABELS = ['model', 'window'] as const;

export const SERIES: readonly SeriesDefinition[] = [
  {
    name: 'vigil_events_consumed_total',
    type: 'counter',
    help: 'Records read from an event topic, accepted or not.',
    unit: 'records',
    labels: ['topic'],
    component: 'pipeline',
  },
  {
    name: 'vigil_events_stored_total',
    type: 'counter',
    help: 'Events written to a raw table (a replayed event counts again; the table keeps one row).',
    unit: 'events',
    labels: ['table'],
    component: 'pipeline',
  },
  {
    name: 'vigil_events_rejected_total',
    type: 'counter',
    help: 'Records sent to the dead-letter topic, by source topic and reason.',
    unit: 'records',
    labels: ['topic', 'reason'],
    component: 'pipeline',
  },
  {
    name: 'vigil_batch_insert_duration_seconds',
    type: 'histogram',
    help: 'Time to insert one batch into ClickHouse, successful attempts only.',
    unit: 'seconds',
    labels: ['table'],
    component: 'pipeline',
  },
  {
    name: 'vigil_storage_write_failures_total',
    type: 'counter',
    help: 'Failed insert attempts; the batch is retried and its offsets stay uncommitted.',
    unit: 'insert attempts',
    labels: ['table'],
    component: 'pipeline',
  },
  {
    name: 'vigil_consumer_lag',
    type: 'gauge',
    help: 'Records behind the end of the partition after the last batch the collector handled; shown only by the collector that holds the partition.',
    unit: 'records',
    labels: ['topic', 'partition'],
    component: 'pipeline',
  },
  {
    name: 'vigil_events_published_total',
    type: 'counter',
    help: 'Events published by this process (simulator, publisher).',
    unit: 'events',
    labels: ['topic'],
    component: 'pipeline',
  },
  {
    name: 'vigil_dependency_up',
    type: 'gauge',
    help: 'Whether a dependency (storage, schema-registry) answered its last request: 1 yes, 0 no (retrying, nothing committed).',
    unit: '1 or 0',
    labels: ['dependency'],
    component: 'pipeline',
  },
  {
    name: 'vigil_model_metric_value',
    type: 'gauge',
    help: 'Value of a result row of the latest evaluated window; absent while the row is undefined.',
    unit: "the row's metric (a distance, a share, an AUROC, seconds, a count)",
    labels: ROW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_metric_status',
    type: 'gauge',
    help: 'Status of a result row of the latest evaluated window: 0 ok, 1 warn, 2 alert, 3 undefined.',
    unit: 'status code',
    labels: ROW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_window_predictions',
    type: 'gauge',
    help: 'Predictions in the latest evaluated window.',
    unit: 'predictions',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_window_outcomes',
    type: 'gauge',
    help: 'Binary outcomes joined to the predictions of the latest evaluated window.',
    unit: 'outcomes',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_label_coverage_ratio',
    type: 'gauge',
    help: "Share of the latest evaluated window's predictions with an outcome.",
    unit: 'ratio',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_window_end_timestamp_seconds',
    type: 'gauge',
    help: 'End (exclusive, event time) of the latest evaluated window.',
    unit: 'seconds since 1970 (UTC)',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_model_baseline_info',
    type: 'gauge',
    help: 'Always 1: the version of the baseline the latest evaluated window was compared with (the baselines table holds it), in the baseline label.',
    unit: '1 (always)',
    labels: ['model', 'window', 'baseline'],
    component: 'monitor',
  },
  {
    name: 'vigil_monitor_evaluations_total',
    type: 'counter',
    help: 'Windows evaluated and recorded.',
    unit: 'window evaluations',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_monitor_evaluation_failures_total',
    type: 'counter',
    help: 'Window evaluations that failed; the window is tried again at the next pass.',
    unit: 'window evaluations',
    labels: WINDOW_LABELS,
    component: 'monitor',
  },
  {
    name: 'vigil_monitor_evaluation_duration_seconds',
    type: 'histogram',
    help: 'Time to evaluate and record one window, successful evaluations only.',
    unit: 'seconds',
    labels: [],
    component: 'monitor',
  },
  {
    name: 'vigil_monitor_members',
    type: 'gauge',
    help: 'Monitors sharing the database whose lease was live at the last renewal, this one included; they split the models and window sizes between them.',
    unit: 'monitors',
    labels: [],
    component: 'monitor',
  },
  {
    name: 'vigil_monitor_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'When the last monitor pass without a failure ended (wall clock).',
    unit: 'seconds since 1970 (UTC); 0 before the first',
    labels: [],
    component: 'monitor',
  },
];

/** prom-client's default process and Node.js series (collectDefaultMetrics), exported beside Vigil's own. */
export const DEFAULT_SERIES_PREFIXES: readonly string[] = ['process_', 'nodejs_'];

/** Series that Prometheus itself adds at every scrape and that rules use. */
export const SCRAPE_SERIES: readonly string[] = ['up'];

// ---------------------------------------------------------------------------------------------
// How long a condition must last
// ---------------------------------------------------------------------------------------------

/*
 * A model's series show its latest closed window, so an hourly window's rows change once an hour
 * (a few seconds after the hour, once the monitor has evaluated it). A `for` of N hours and a half
 * therefore means N + 1 consecutive hourly windows agree, whatever the monitor's delay within that
 * half hour; a daily or weekly window, which pools a day or a week of traffic by itself, is
 * re-evaluated as late events arrive and has to hold its status as long. keep_firing_for bridges one
 * hourly window back to ok, so that a condition that persists with one quiet hour is one alert.
 */
const TWO_HOURLY_WINDOWS = '1h30m';
const THREE_HOURLY_WINDOWS = '2h30m';
const SIX_HOURLY_WINDOWS = '5h30m';
const ONE_QUIET_HOURLY_WINDOW = '1h30m';

/** The segment whose groups are the hospitals or sites a model serves; its volume rows page. */
export const SITE_SEGMENT = 'site';

/*
 * Model alerts aggregate by the row's own labels: a model's health does not depend on which monitor
 * evaluated it (work moves between monitors) nor on the target labels a scrape adds.
 */
const BY_ROW = `by (${ROW_LABELS.join(', ')})`;

/** The rows a selector picks, undefined ones (status 3) left out. */
const definedStatus = (matchers: string): string => `max ${BY_ROW} (vigil_model_metric_status{${matchers}} < 3)`;

const ROW_ALERT_LABELS = ROW_LABELS;

interface StatusAlertSpec {
  alert: string;
  matchers: string;
  warningFor: PromDuration | null;
  criticalFor: PromDuration | null;
  summary: (level: string) => string;
  description: (level: string, duration: PromDuration) => string;
}

/** The model and window sizes whose latest window was too small to judge: it has the `sample_size` row in place of its metrics. */
const WINDOW_TOO_SMALL = 'vigil_model_metric_status{kind="quality", metric="sample_size"} == 3';

/**
 * The rows of a firing alert held while their window size's latest window is too small to judge.
 * Such a window has no metric rows, so its series vanish: a drift that goes on through the night's
 * short windows would otherwise resolve after one quiet window and page again once mornings bring
 * judged windows. Only a firing alert is held: a pending one starts again, since a window without a
 * verdict is no evidence for it; a judged window, in warn or not, decides again.
 */
const heldWhileTooSmall = (alert: string, severity: Severity): string =>
  `(max ${BY_ROW} (ALERTS{alertname="${alert}", alertstate="firing", severity="${severity}"}) and on (model, window) ${WINDOW_TOO_SMALL})`;

/**
 * A warning while rows are in warn or alert, a critical alert while they are in alert, each for its
 * own duration; either one, once firing, holds through windows too small to judge.
 */
function statusAlerts(spec: StatusAlertSpec): AlertRule[] {
  const rules: AlertRule[] = [];
  if (spec.warningFor !== null) {
    rules.push({
      alert: spec.alert,
      severity: 'warning',
      expr: `${definedStatus(spec.matchers)} >= 1 or ${heldWhileTooSmall(spec.alert, 'warning')}`,
      holdsWhileWindowTooSmall: true,
      for: spec.warningFor,
      keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
      labels: ROW_ALERT_LABELS,
      summary: spec.summary('warn or alert'),
      description: spec.description('warn or alert', spec.warningFor),
    });
  }
  if (spec.criticalFor !== null) {
    rules.push({
      alert: spec.alert,
      severity: 'critical',
      expr: `${definedStatus(spec.matchers)} == 2 or ${heldWhileTooSmall(spec.alert, 'critical')}`,
      holdsWhileWindowTooSmall: true,
      for: spec.criticalFor,
      keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
      labels: ROW_ALERT_LABELS,
      summary: spec.summary('alert'),
      description: spec.description('alert', spec.criticalFor),
    });
  }
  return rules;
}

const where = 'model {{ $labels.model }}, {{ $labels.window }} windows';
const group = '{{ $labels.segment }}={{ $labels.group }}';

// ---------------------------------------------------------------------------------------------
// Model health
// ---------------------------------------------------------------------------------------------

const modelRecordingRules: RecordingRule[] = [
  {
    record: 'model_window_kind:vigil_model_metric_status:max',
    expr: 'max by (model, window, kind) (vigil_model_metric_status < 3)',
    labels: ['model', 'window', 'kind'],
    meaning: 'Worst defined status (0 ok, 1 warn, 2 alert) of each kind of row of the latest window: the status board of a model.',
  },
  {
    record: 'model:vigil_model_metric_status:max',
    expr: 'max by (model) (model_window_kind:vigil_model_metric_status:max)',
    labels: ['model'],
    meaning: "Worst defined status over all of a model's rows and window sizes: one light per model.",
  },
];

const modelCadenceRules: RecordingRule[] = [
  {
    record: 'model_window:vigil_model_window_end_timestamp_seconds:max',
    expr: 'max by (model, window) (vigil_model_window_end_timestamp_seconds)',
    labels: ['model', 'window'],
    meaning: 'End of the latest evaluated window, whichever monitor evaluates it.',
  },
  {
    record: 'model_window:vigil_model_window_end_timestamp_seconds:changes1h',
    expr: 'sum by (model, window) (changes(vigil_model_window_end_timestamp_seconds[1h]))',
    labels: ['model', 'window'],
    meaning: 'How often a newer window was shown in the last hour.',
  },
  {
    record: 'model_window:vigil_model_window_end_timestamp_seconds:changes7d',
    // Summed from the hourly counts, one per hour: a week of raw samples would be read at every evaluation otherwise.
    expr: 'sum_over_time(model_window:vigil_model_window_end_timestamp_seconds:changes1h[7d:1h])',
    labels: ['model', 'window'],
    meaning: 'How often a newer window was shown over the last week: about 168 for an hourly window with steady traffic, fewer where quiet hours leave windows empty.',
  },
  {
    record: 'model:vigil_model_window_end_age_per_spacing:max',
    expr: [
      'max by (model) (',
      '    (time() - model_window:vigil_model_window_end_timestamp_seconds:max)',
      '  / (604800 / (model_window:vigil_model_window_end_timestamp_seconds:changes7d >= 6))',
      ')',
    ].join('\n'),
    labels: ['model'],
    meaning:
      "Time since the end of a model's latest window, in units of that window size's usual spacing between windows over the last week (window sizes with fewer than 6 new windows a week left out), the largest over its window sizes. Steady traffic keeps it at or below 1.",
  },
];

const modelAlerts: AlertRule[] = [
  ...statusAlerts({
    alert: 'VigilModelDrift',
    // The test rows' status is their significance alone, which a week of tens of thousands of
    // predictions reaches with negligible shifts; the distance rows carry the test's verdict and an effect size.
    matchers: 'kind="drift", metric!~"ks|chi_square"',
    warningFor: THREE_HOURLY_WINDOWS,
    criticalFor: SIX_HOURLY_WINDOWS,
    summary: (level) => `${where}: {{ $labels.feature }} drifted ({{ $labels.metric }} in ${level})`,
    description: (level, duration) =>
      `The {{ $labels.metric }} row of input {{ $labels.feature }} has been in ${level} for ${duration}, a significant shift beyond its threshold in every window: the patients or their charting differ from the baseline the model is compared with.`,
  }),
  ...statusAlerts({
    alert: 'VigilModelInputQuality',
    matchers: 'kind="quality", metric!="sample_size"',
    warningFor: TWO_HOURLY_WINDOWS,
    criticalFor: THREE_HOURLY_WINDOWS,
    summary: (level) => `${where}: {{ $labels.feature }} {{ $labels.metric }} in ${level}`,
    description: (level, duration) =>
      `The {{ $labels.metric }} of input {{ $labels.feature }} has been in ${level} for ${duration}: the model is scoring patients on values that are missing or outside the range it was validated on.`,
  }),
  ...statusAlerts({
    alert: 'VigilModelPerformanceDegraded',
    matchers: 'kind="performance", metric!="cbpe_auroc", segment=""',
    warningFor: TWO_HOURLY_WINDOWS,
    criticalFor: TWO_HOURLY_WINDOWS,
    summary: (level) => `${where}: {{ $labels.metric }} in ${level}`,
    description: (level, duration) =>
      `The measured {{ $labels.metric }} of the whole population has been in ${level} for ${duration}, judged on the outcomes that have arrived (above the spec's min_label_coverage).`,
  }),
  ...statusAlerts({
    alert: 'VigilModelGroupPerformanceDegraded',
    matchers: 'kind="performance", segment!=""',
    warningFor: THREE_HOURLY_WINDOWS,
    criticalFor: THREE_HOURLY_WINDOWS,
    summary: (level) => `${where}: {{ $labels.metric }} of ${group} in ${level}`,
    description: (level, duration) =>
      `The measured {{ $labels.metric }} of the group ${group} has been in ${level} for ${duration}; a group's row rests on fewer outcomes than the population's, hence the longer wait.`,
  }),
  ...statusAlerts({
    alert: 'VigilModelEstimatedPerformanceLow',
    matchers: 'kind="performance", metric="cbpe_auroc"',
    warningFor: THREE_HOURLY_WINDOWS,
    criticalFor: THREE_HOURLY_WINDOWS,
    summary: (level) => `${where}: estimated AUROC (CBPE) in ${level}`,
    description: (level, duration) =>
      `The AUROC estimated from scores alone (no outcome needed) has been in ${level} for ${duration}: the earliest sign that the model ranks patients worse, before their outcomes are known.`,
  }),
  ...statusAlerts({
    alert: 'VigilModelMiscalibrated',
    matchers: 'kind="calibration"',
    warningFor: THREE_HOURLY_WINDOWS,
    criticalFor: THREE_HOURLY_WINDOWS,
    summary: (level) => `${where}: calibration {{ $labels.metric }} in ${level}`,
    description: (level, duration) =>
      `The calibration row {{ $labels.metric }} has been in ${level} for ${duration}: the risks the model shows no longer match how often patients have the outcome.`,
  }),
  ...statusAlerts({
    alert: 'VigilModelFairnessGap',
    matchers: 'kind="fairness"',
    warningFor: THREE_HOURLY_WINDOWS,
    criticalFor: THREE_HOURLY_WINDOWS,
    summary: (level) => `${where}: {{ $labels.metric }} over {{ $labels.segment }} in ${level}`,
    description: (level, duration) =>
      `The fairness row {{ $labels.metric }} of segment {{ $labels.segment }}{{ if $labels.group }} (group {{ $labels.group }}){{ end }} has been in ${level} for ${duration}: the model treats the groups of this segment differently.`,
  }),
  {
    alert: 'VigilSiteSilent',
    severity: 'critical',
    expr: `max ${BY_ROW} (vigil_model_metric_status{kind="volume", metric="predictions", segment="${SITE_SEGMENT}"}) == 2`,
    for: TWO_HOURLY_WINDOWS,
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: ROW_ALERT_LABELS,
    summary: `${where}: site {{ $labels.group }} is sending far fewer predictions than expected`,
    description: `In every window for ${TWO_HOURLY_WINDOWS}, site {{ $labels.group }} sent fewer than half the predictions its share of the baseline leads one to expect, by a margin chance does not explain (one-sided Poisson test, p < 0.001): its patients are probably not being scored.`,
  },
  {
    alert: 'VigilGroupVolumeLow',
    severity: 'warning',
    expr: `max ${BY_ROW} (vigil_model_metric_status{kind="volume", metric="predictions", segment!="${SITE_SEGMENT}"}) == 2`,
    for: THREE_HOURLY_WINDOWS,
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: ROW_ALERT_LABELS,
    summary: `${where}: group ${group} has nearly vanished from the traffic`,
    description: `In every window for ${THREE_HOURLY_WINDOWS}, the group ${group} had fewer than half the predictions its share of the baseline leads one to expect (one-sided Poisson test, p < 0.001).`,
  },
  {
    alert: 'VigilModelVolumeLow',
    severity: 'warning',
    expr: [
      'max by (model, window) (vigil_model_window_predictions)',
      '  < 0.5 * max by (model, window) (vigil_model_window_predictions offset 1w)',
      'and max by (model, window) (vigil_model_window_predictions offset 1w) >= 20',
    ].join('\n'),
    for: TWO_HOURLY_WINDOWS,
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: WINDOW_LABELS,
    summary: `${where}: fewer than half the predictions of the same window a week ago`,
    description: `The latest {{ $labels.window }} window has {{ $value }} predictions, fewer than half those of the same window one week earlier (which had at least 20), in every window for ${TWO_HOURLY_WINDOWS}.`,
  },
  {
    alert: 'VigilModelSilent',
    severity: 'critical',
    expr: [
      'model:vigil_model_window_end_age_per_spacing:max > 2',
      'unless on () (max(time() - vigil_monitor_last_success_timestamp_seconds) > 900)',
    ].join('\n'),
    for: '30m',
    labels: ['model'],
    summary: 'Model {{ $labels.model }} has sent no predictions for longer than twice its usual spacing between windows',
    description:
      "No new window of model {{ $labels.model }} has closed for {{ $value | printf \"%.1f\" }} times the usual spacing between its windows over the last week: predictions stopped arriving, so its patients are probably not being scored. Not raised while a monitor's last successful pass is older than 15 minutes (VigilMonitorStale covers that).",
  },
  {
    alert: 'VigilModelLabelCoverageLow',
    severity: 'warning',
    expr: `${definedStatus('kind="labels", metric="label_coverage"')} >= 1`,
    for: TWO_HOURLY_WINDOWS,
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: ROW_ALERT_LABELS,
    summary: `${where}: too few outcomes for a final window`,
    description: `The label coverage of a final window (past the label horizon) has been in warn or alert for ${TWO_HOURLY_WINDOWS}: outcomes are missing for too many of its predictions, so its performance cannot be judged.`,
  },
  {
    alert: 'VigilModelLabelDelayHigh',
    severity: 'warning',
    expr: `${definedStatus('kind="labels", metric="label_delay_p90_seconds"')} >= 1`,
    for: TWO_HOURLY_WINDOWS,
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: ROW_ALERT_LABELS,
    summary: `${where}: outcomes take longer than usual to arrive`,
    description: `The 90th percentile of the time from prediction to outcome has been beyond its threshold for ${TWO_HOURLY_WINDOWS}: performance will be judged later than the spec expects.`,
  },
  {
    alert: 'VigilModelWindowTooSmall',
    severity: 'warning',
    expr: `max ${BY_ROW} (${WINDOW_TOO_SMALL})`,
    for: '12h',
    keepFiringFor: ONE_QUIET_HOURLY_WINDOW,
    labels: ROW_ALERT_LABELS,
    summary: `${where}: windows too small to judge for 12 hours`,
    description:
      'For 12 hours the latest window, or its baseline, has had fewer predictions than the spec\'s min_window_size, so no drift, quality or performance row was computed: the model is effectively unmonitored at this window size.',
  },
];

// ---------------------------------------------------------------------------------------------
// Pipeline and Vigil itself
// ---------------------------------------------------------------------------------------------

const pipelineRecordingRules: RecordingRule[] = [
  {
    record: 'topic_reason:vigil_events_rejected:rate10m',
    expr: 'sum by (topic, reason) (rate(vigil_events_rejected_total[10m]))',
    labels: ['topic', 'reason'],
    meaning: 'Dead letters per second, by source topic and reason.',
  },
  {
    record: 'topic:vigil_events_rejected_per_consumed:ratio_rate10m',
    expr: 'sum by (topic) (rate(vigil_events_rejected_total[10m])) / sum by (topic) (rate(vigil_events_consumed_total[10m]))',
    labels: ['topic'],
    meaning: "Share of a topic's records that went to the dead-letter topic.",
  },
  {
    record: 'topic:vigil_consumer_lag:sum',
    // max by partition first: a collector that handed a partition over keeps its last lag for it.
    expr: 'sum by (topic) (max by (topic, partition) (vigil_consumer_lag))',
    labels: ['topic'],
    meaning: 'Records the collectors are behind on a topic, each partition counted once.',
  },
  {
    record: 'table:vigil_events_stored:rate1h',
    expr: 'sum by (table) (rate(vigil_events_stored_total[1h]))',
    labels: ['table'],
    meaning: 'Events stored per second in each raw table (predictions, outcomes), over the last hour.',
  },
  {
    record: 'instance:vigil_storage_write_failures:rate5m',
    expr: 'sum by (instance) (rate(vigil_storage_write_failures_total[5m]))',
    labels: ['instance'],
    meaning: 'Failed ClickHouse insert attempts per second of each collector.',
  },
];

const pipelineAlerts: AlertRule[] = [
  {
    alert: 'VigilTargetDown',
    severity: 'critical',
    expr: 'up{job="vigil"} == 0',
    for: '1m',
    labels: ['job', 'instance'],
    summary: 'Vigil at {{ $labels.instance }} is not answering scrapes',
    description: 'Prometheus has not been able to scrape {{ $labels.instance }} for a minute: the process is down or unreachable, and nothing it collects or monitors is watched.',
  },
  {
    alert: 'VigilStorageWritesFailing',
    severity: 'critical',
    expr: 'instance:vigil_storage_write_failures:rate5m > 0',
    for: '5m',
    labels: ['instance'],
    summary: 'Vigil cannot write to ClickHouse; events are held in Kafka, uncommitted',
    description: 'Inserts from {{ $labels.instance }} have been failing for 5 minutes ({{ $value | printf "%.2f" }} failed attempts per second); the collector retries and commits nothing, so no event is lost, but none reaches monitoring.',
  },
  {
    alert: 'VigilDependencyDown',
    severity: 'critical',
    expr: 'vigil_dependency_up == 0',
    for: '5m',
    keepFiringFor: '5m',
    labels: ['job', 'instance', 'dependency'],
    summary: 'Vigil at {{ $labels.instance }} cannot reach {{ $labels.dependency }}',
    description: 'The collector at {{ $labels.instance }} has had no answer from {{ $labels.dependency }} for 5 minutes; it retries with back-off, keeps its partitions and commits nothing.',
  },
  {
    alert: 'VigilEventsRejected',
    severity: 'warning',
    expr: 'topic_reason:vigil_events_rejected:rate10m > 0',
    for: '10m',
    labels: ['topic', 'reason'],
    summary: 'Records on {{ $labels.topic }} are dead-lettered ({{ $labels.reason }})',
    description: 'Records from {{ $labels.topic }} have gone to the dead-letter topic with reason {{ $labels.reason }} for 10 minutes ({{ $value | printf "%.2f" }} per second); their predictions or outcomes are missing from monitoring.',
  },
  {
    alert: 'VigilEventsMostlyRejected',
    severity: 'critical',
    expr: 'topic:vigil_events_rejected_per_consumed:ratio_rate10m > 0.25',
    for: '10m',
    labels: ['topic'],
    summary: 'More than a quarter of the records on {{ $labels.topic }} are dead-lettered',
    description: '{{ $value | humanizePercentage }} of the records read from {{ $labels.topic }} over the last 10 minutes went to the dead-letter topic, for 10 minutes: monitoring is blind to that share of the traffic.',
  },
  {
    alert: 'VigilConsumerLagGrowing',
    severity: 'warning',
    expr: 'topic:vigil_consumer_lag:sum > 100000',
    for: '15m',
    labels: ['topic'],
    summary: 'The collector is more than 100k records behind on {{ $labels.topic }}',
    description: 'The collectors have been more than 100,000 records behind on {{ $labels.topic }} for 15 minutes ({{ $value }} now): monitoring sees events late.',
  },
  {
    alert: 'VigilOutcomeFeedStopped',
    severity: 'warning',
    expr: 'sum(table:vigil_events_stored:rate1h{table="predictions"}) > 0\nunless on () sum(table:vigil_events_stored:rate1h{table="outcomes"}) > 0',
    for: '2h',
    labels: [],
    summary: 'Predictions are stored but no outcome has been stored for 3 hours',
    description: 'Predictions keep arriving, but no outcome event has been stored for 3 hours: the outcome feed is down or stuck, and performance, calibration and fairness will go unjudged once the label horizon passes.',
  },
  {
    alert: 'VigilMonitorEvaluationsFailing',
    severity: 'warning',
    expr: 'sum by (instance, model, window) (rate(vigil_monitor_evaluation_failures_total[15m])) > 0',
    for: '15m',
    labels: ['instance', 'model', 'window'],
    summary: 'The monitor at {{ $labels.instance }} fails to evaluate {{ $labels.model }} {{ $labels.window }} windows',
    description: 'Evaluations of {{ $labels.model }} {{ $labels.window }} windows have been failing for 15 minutes; until they succeed its series show an older window and its alerts judge old data.',
  },
  {
    alert: 'VigilMonitorStale',
    severity: 'critical',
    expr: 'time() - vigil_monitor_last_success_timestamp_seconds > 1800',
    for: '5m',
    labels: ['job', 'instance'],
    summary: 'The monitor at {{ $labels.instance }} has not completed a clean pass for over 30 minutes',
    description: 'The last monitor pass without a failure at {{ $labels.instance }} ended {{ $value | humanizeDuration }} ago: model series are frozen, so model alerts neither fire nor resolve on current data.',
  },
];

// ---------------------------------------------------------------------------------------------
// The rule files
// ---------------------------------------------------------------------------------------------

export const RULE_FILES: readonly RuleFile[] = [
  {
    path: 'infra/prometheus/rules/vigil-models.yml',
    purpose: "The health of the monitored models, from the monitor's series of each model's latest window.",
    groups: [
      { name: 'vigil-models.rules', rules: modelRecordingRules },
      // Week-long figures need not be recomputed every few seconds.
      { name: 'vigil-models.cadence', interval: '1m', rules: modelCadenceRules },
      { name: 'vigil-models', rules: modelAlerts },
    ],
  },
  {
    path: 'infra/prometheus/rules/vigil-pipeline.yml',
    purpose: 'The event pipeline (collector, storage, schema registry) and the monitor itself.',
    groups: [
      { name: 'vigil-pipeline.rules', rules: pipelineRecordingRules },
      { name: 'vigil-pipeline', rules: pipelineAlerts },
    ],
  },
];

export const ALERT_RULES: readonly AlertRule[] = RULE_FILES.flatMap((file) => file.groups.flatMap((ruleGroup) => ruleGroup.rules.filter(isAlertRule)));

export const RECORDING_RULES: readonly RecordingRule[] = RULE_FILES.flatMap((file) =>
  file.groups.flatMap((ruleGroup) => ruleGroup.rules.filter((rule): rule is RecordingRule => !isAlertRule(rule))),
);

/** Alert names in catalogue order, each once. */
export const ALERT_NAMES: readonly string[] = [...new Set(ALERT_RULES.map((rule) => rule.alert))];

// ---------------------------------------------------------------------------------------------
// Everything together
// ---------------------------------------------------------------------------------------------

export interface Catalogue {
  series: readonly SeriesDefinition[];
  defaultSeriesPrefixes: readonly string[];
  scrapeSeries: readonly string[];
  ruleFiles: readonly RuleFile[];
  runbooks: Readonly<Record<string, Runbook>>;
}

export const CATALOGUE: Catalogue = { series: SERIES, defaultSeriesPrefixes: DEFAULT_SERIES_PREFIXES, scrapeSeries: SCRAPE_SERIES, ruleFiles: RULE_FILES, runbooks: RUNBOOKS };
