/**
 * Grafana dashboards as code, from the same catalogue as the rules and runbooks: live values from
 * Prometheus (the series and recording rules of catalogue.ts, whose help texts and meanings become
 * the panels' descriptions), history and per-window detail from ClickHouse (`metric_results`, read
 * through each window's latest evaluation in `window_evaluations`, as MetricResultsStore.latest
 * reads them). Built with @grafana/grafana-foundation-sdk's builders; the ClickHouse plugin has no
 * builder there, so its SQL target is the small typed builder below. Pure: catalogue in, JSON out.
 */

import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import { BarGaugeDisplayMode, BigValueColorMode, BigValueGraphMode, BigValueTextMode, GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement, LineInterpolation, ReduceDataOptionsBuilder, TableCellDisplayMode, VizLegendOptionsBuilder, VizOrientation } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as BarGaugePanelBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DynamicConfigValue,
  type Panel,
  type RowPanel,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PrometheusQueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type { Catalogue } from './catalogue.js';

export const DASHBOARDS_FOLDER = 'grafana/dashboards';

/** The data sources of grafana/provisioning/datasources/datasources.yml, by their fixed uids. */
export const DATASOURCES = {
  prometheus: { type: 'prometheus', uid: 'vigil-prometheus' },
  clickhouse: { type: 'grafana-clickhouse-datasource', uid: 'vigil-clickhouse' },
} as const satisfies Record<string, common.DataSourceRef>;

const DASHBOARD_TAG = 'vigil';

// ---------------------------------------------------------------------------------------------
// The ClickHouse plugin's SQL target
// ---------------------------------------------------------------------------------------------

/** grafana-clickhouse-datasource's SQL query (src/types/sql.ts of the plugin); format is the backend's (0 time series, 1 table). */
export interface ClickHouseQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  editorType: 'sql';
  queryType: 'timeSeries' | 'table';
  format: 0 | 1;
  rawSql: string;
}

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: ClickHouseQuery;

  constructor(rawSql: string, shape: 'timeSeries' | 'table') {
    this.internal = {
      refId: 'A',
      datasource: { ...DATASOURCES.clickhouse },
      editorType: 'sql',
      queryType: shape,
      format: shape === 'timeSeries' ? 0 : 1,
      rawSql,
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  build(): ClickHouseQuery {
    return this.internal;
  }
}

// ---------------------------------------------------------------------------------------------
// Series from the catalogue
// ---------------------------------------------------------------------------------------------

/** A series or recording rule of the catalogue, and what it means; a name not there stops generation. */
function catalogued(catalogue: Catalogue, name: string): { name: string; meaning: string } {
  const series = catalogue.series.find((entry) => entry.name === name);
  if (series !== undefined) return { name, meaning: series.help };
  for (const file of catalogue.ruleFiles) {
    for (const group of file.groups) {
      for (const rule of group.rules) if ('record' in rule && rule.record === name) return { name, meaning: rule.meaning };
    }
  }
  throw new Error(`dashboards read ${name}, which is neither a series nor a recording rule of the catalogue`);
}

// ---------------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------------

type Colour = 'green' | 'yellow' | 'orange' | 'red' | 'blue' | 'text' | 'transparent';

const steps = (...entries: [number | null, Colour][]): Threshold[] => entries.map(([value, color]) => ({ value, color }));

const thresholds = (entries: Threshold[]): ThresholdsConfigBuilder => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(entries);

/** Result status as Prometheus carries it (0 ok, 1 warn, 2 alert, 3 undefined) and as ClickHouse stores it. */
const STATUS_STEPS = steps([null, 'green'], [1, 'yellow'], [2, 'red'], [3, 'text']);
const STATUS_CODE_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'ok', color: 'green', index: 0 },
      '1': { text: 'warn', color: 'yellow', index: 1 },
      '2': { text: 'alert', color: 'red', index: 2 },
      '3': { text: 'undefined', color: 'text', index: 3 },
    },
  },
];
const STATUS_TEXT_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      ok: { color: 'green', index: 0 },
      warn: { color: 'yellow', index: 1 },
      alert: { color: 'red', index: 2 },
      undefined: { color: 'text', index: 3 },
    },
  },
];

const STATUS_CELL: DynamicConfigValue[] = [
  { id: 'mappings', value: STATUS_TEXT_MAPPINGS },
  { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
];

interface PanelBasics {
  title: string;
  description: string;
  /** A Grafana unit id: `percentunit`, `s`, `short`, `none`, ... */
  unit: string;
  thresholds: Threshold[];
  width: number;
  height: number;
}

function placed<T extends { title(title: string): T; description(text: string): T; unit(unit: string): T; thresholds(config: cog.Builder<unknown>): T; span(width: number): T; height(height: number): T; datasource(ref: common.DataSourceRef): T }>(
  builder: T,
  basics: PanelBasics,
  datasource: common.DataSourceRef,
): T {
  return builder
    .title(basics.title)
    .description(basics.description)
    .unit(basics.unit)
    .thresholds(thresholds(basics.thresholds))
    .span(basics.width)
    .height(basics.height)
    .datasource({ ...datasource });
}

const legend = (): VizLegendOptionsBuilder => new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom);

interface TimeSeriesOptions {
  min?: number;
  max?: number;
  /** Steps between values, as a window's rows or a status hold until the next. */
  stepped?: boolean;
  /** Draw the thresholds as dashed lines. */
  showThresholds?: boolean;
  /** Per-field settings by field name; the fields must be among the query's columns or series. */
  fields?: Record<string, DynamicConfigValue[]>;
  /** Display name of each series; `${__field.labels.feature}` names a long-format series by its label. */
  displayName?: string;
}

function timeSeries(basics: PanelBasics, targets: cog.Builder<cog.Dataquery>[], datasource: common.DataSourceRef, options: TimeSeriesOptions = {}): TimeSeriesPanelBuilder {
  const panel = placed(new TimeSeriesPanelBuilder(), basics, datasource).targets(targets).legend(legend()).lineWidth(1).fillOpacity(0).spanNulls(false);
  if (options.min !== undefined) panel.min(options.min);
  if (options.max !== undefined) panel.max(options.max);
  if (options.stepped) panel.lineInterpolation(LineInterpolation.StepAfter);
  panel.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(options.showThresholds ? GraphThresholdsStyleMode.Dashed : GraphThresholdsStyleMode.Off));
  if (options.displayName !== undefined) panel.displayName(options.displayName);
  for (const [name, properties] of Object.entries(options.fields ?? {})) panel.overrideByName(name, properties);
  return panel;
}

function stat(basics: PanelBasics, targets: cog.Builder<cog.Dataquery>[], datasource: common.DataSourceRef, mappings: ValueMapping[] = []): StatPanelBuilder {
  return placed(new StatPanelBuilder(), basics, datasource)
    .targets(targets)
    .mappings(mappings)
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

function barGauge(basics: PanelBasics, targets: cog.Builder<cog.Dataquery>[], datasource: common.DataSourceRef, options: { min: number; max: number; mappings?: ValueMapping[] }): BarGaugePanelBuilder {
  return placed(new BarGaugePanelBuilder(), basics, datasource)
    .targets(targets)
    .min(options.min)
    .max(options.max)
    .mappings(options.mappings ?? [])
    .displayMode(BarGaugeDisplayMode.Basic)
    .orientation(VizOrientation.Horizontal)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

function table(basics: PanelBasics, targets: cog.Builder<cog.Dataquery>[], datasource: common.DataSourceRef, options: { columns?: Record<string, DynamicConfigValue[]>; hide?: string[]; rename?: Record<string, string> } = {}): TablePanelBuilder {
  const panel = placed(new TablePanelBuilder(), basics, datasource).targets(targets).showHeader(true);
  for (const [name, properties] of Object.entries(options.columns ?? {})) panel.overrideByName(name, properties);
  if (options.hide !== undefined || options.rename !== undefined) {
    panel.withTransformation({
      id: 'organize',
      options: { excludeByName: Object.fromEntries((options.hide ?? []).map((name) => [name, true])), renameByName: options.rename ?? {} },
    });
  }
  return panel;
}

/** A PromQL target; `legend` is its legendFormat (`{{model}} {{window}}`). */
function promql(expr: string, legendFormat: string, refId = 'A'): PrometheusQueryBuilder {
  return new PrometheusQueryBuilder().datasource({ ...DATASOURCES.prometheus }).expr(expr).legendFormat(legendFormat).range().refId(refId);
}

/** An instant PromQL query read as a table: one row per series, its labels as columns, its value as `Value`. */
function promqlTable(expr: string, refId = 'A'): PrometheusQueryBuilder {
  return new PrometheusQueryBuilder().datasource({ ...DATASOURCES.prometheus }).expr(expr).format(PromQueryFormat.Table).instant().legendFormat('__auto').refId(refId);
}

const sqlSeries = (sql: string, refId = 'A'): ClickHouseQueryBuilder => new ClickHouseQueryBuilder(sql, 'timeSeries').refId(refId);
const sqlTable = (sql: string, refId = 'A'): ClickHouseQueryBuilder => new ClickHouseQueryBuilder(sql, 'table').refId(refId);

/** A band between two series: the upper one filled down to the lower one, both drawn faintly. */
function band(lower: string, upper: string): Record<string, DynamicConfigValue[]> {
  return {
    [upper]: [
      { id: 'custom.fillBelowTo', value: lower },
      { id: 'custom.lineWidth', value: 0 },
      { id: 'custom.fillOpacity', value: 20 },
      { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
    ],
    [lower]: [
      { id: 'custom.lineWidth', value: 0 },
      { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
    ],
  };
}

/** Panels get ids in the order they appear, so that links and the JSON stay stable across generations. */
function numbered(dashboard: Dashboard): Dashboard {
  let next = 1;
  const number = (panel: Panel | RowPanel): void => {
    panel.id = next++;
    if (panel.type === 'row') (panel as RowPanel).panels.forEach(number);
  };
  for (const panel of dashboard.panels ?? []) number(panel);
  return dashboard;
}

// ---------------------------------------------------------------------------------------------
// Template variables
// ---------------------------------------------------------------------------------------------

/** The variables a dashboard offers; every one is written to filter ClickHouse and Prometheus alike. */
function prometheusVariable(name: string, label: string, query: string, description: string, options: { multi: boolean }): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource({ ...DATASOURCES.prometheus })
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
  return options.multi ? variable.multi(true).includeAll(true) : variable;
}

function clickhouseVariable(name: string, label: string, sql: string, description: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource({ ...DATASOURCES.clickhouse })
    .query(sql)
    .definition(sql)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

const MODEL_FROM_CLICKHOUSE = (): QueryVariableBuilder =>
  clickhouseVariable('model', 'Model', 'SELECT DISTINCT model_id FROM window_evaluations ORDER BY model_id', 'Models with evaluated windows in ClickHouse.');
const WINDOW_FROM_CLICKHOUSE = (): QueryVariableBuilder =>
  clickhouseVariable('window', 'Window size', "SELECT DISTINCT window_size FROM window_evaluations WHERE model_id = '${model}' ORDER BY window_size", "The model's window sizes (the spec's monitoring.windows).");

// ---------------------------------------------------------------------------------------------
// ClickHouse queries
// ---------------------------------------------------------------------------------------------

/*
 * A window is evaluated many times; only its latest recorded evaluation counts (an evaluation
 * whose record is missing was cut short and is never read). As MetricResultsStore.latest: per
 * window_start, window_evaluations ordered by evaluated_at, then evaluation_id, newest first.
 */
const ONE_MODEL = "model_id = '${model}' AND window_size = '${window}'";

const latestPerWindow = (where: string): string =>
  [
    'evaluation_id IN (',
    '    SELECT evaluation_id FROM window_evaluations',
    `    WHERE ${where} AND $__timeFilter(window_start)`,
    '    ORDER BY window_start, evaluated_at DESC, evaluation_id DESC',
    '    LIMIT 1 BY window_start)',
  ].join('\n');

/** The latest evaluation of the newest window in the time range, one per model and window size. */
const newestWindow = (where: string): string =>
  [
    'evaluation_id IN (',
    '    SELECT evaluation_id FROM window_evaluations',
    `    WHERE ${where} AND $__timeFilter(window_start)`,
    '    ORDER BY window_start DESC, evaluated_at DESC, evaluation_id DESC',
    '    LIMIT 1 BY model_id, window_size)',
  ].join('\n');

/** Rows of one model's windows over time, `time` being the window start. */
function rowsOverTime(select: string[], where: string, groupBy: string): string {
  return [
    `SELECT window_start AS time, ${select.join(', ')}`,
    'FROM metric_results',
    `WHERE ${ONE_MODEL} AND $__timeFilter(window_start)`,
    `  AND ${where}`,
    `  AND ${latestPerWindow(ONE_MODEL)}`,
    `GROUP BY ${groupBy}`,
    `ORDER BY ${groupBy}`,
  ].join('\n');
}

/** One column per metric (value, and its interval where asked), one row per window. */
function metricsOverTime(kind: string, metrics: readonly { metric: string; column: string; interval?: boolean }[], scope = "segment = '' AND group_name = ''"): string {
  const select = metrics.flatMap(({ metric, column, interval }) => [
    `anyIf(value, metric = '${metric}') AS ${column}`,
    ...(interval ? [`anyIf(ci_low, metric = '${metric}') AS ${column}_ci_low`, `anyIf(ci_high, metric = '${metric}') AS ${column}_ci_high`] : []),
  ]);
  return rowsOverTime(select, `kind = '${kind}' AND ${scope} AND metric IN (${metrics.map(({ metric }) => `'${metric}'`).join(', ')})`, 'time');
}

/** One series per value of `label` (a feature, a group), named by it: long format that the plugin turns wide. */
function metricByLabel(kind: string, metric: string, label: 'feature' | 'group_name', column: string, scope: string): string {
  return rowsOverTime([`${label}`, `any(value) AS ${column}`], `kind = '${kind}' AND metric = '${metric}' AND ${scope}`, `time, ${label}`);
}

// ---------------------------------------------------------------------------------------------
// Fleet overview
// ---------------------------------------------------------------------------------------------

const FLEET_MODELS = 'model=~"$model", window=~"$window"';

function fleetOverview(catalogue: Catalogue): Dashboard {
  const byKind = catalogued(catalogue, 'model_window_kind:vigil_model_metric_status:max');
  const byModel = catalogued(catalogue, 'model:vigil_model_metric_status:max');
  const predictions = catalogued(catalogue, 'vigil_model_window_predictions');
  const outcomes = catalogued(catalogue, 'vigil_model_window_outcomes');
  const coverage = catalogued(catalogue, 'vigil_model_label_coverage_ratio');
  const status = catalogued(catalogue, 'vigil_model_metric_status');
  const age = catalogued(catalogue, 'model:vigil_model_window_end_age_per_spacing:max');
  const STATUS_READING = '0 ok, 1 warn, 2 alert; undefined rows (3) are left out.';

  const builder = new DashboardBuilder('Vigil / Fleet overview')
    .uid('vigil-fleet')
    .description("Every monitored model's health at a glance: worst status per model and window size, traffic, label coverage and the rows in warn or alert.")
    .tags([DASHBOARD_TAG])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(prometheusVariable('model', 'Model', `label_values(${predictions.name}, model)`, 'Models whose latest window the monitors export.', { multi: true }))
    .withVariable(prometheusVariable('window', 'Window size', `label_values(${predictions.name}{model=~"$model"}, window)`, 'Window sizes of the chosen models.', { multi: true }))
    .link(new DashboardLinkBuilder('Vigil dashboards').type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(true).keepTime(true))

    .withRow(new RowBuilder('Status'))
    .withPanel(
      stat(
        { title: 'Worst status per model', description: `${byModel.meaning} ${STATUS_READING}`, unit: 'none', thresholds: STATUS_STEPS, width: 24, height: 4 },
        [promql(`max by (model) (${byModel.name}{model=~"$model"})`, '{{model}}')],
        DATASOURCES.prometheus,
        STATUS_CODE_MAPPINGS,
      ),
    )
    .withPanel(
      stat(
        { title: 'Worst status per model and window size', description: `Worst defined status over all rows of each model's latest window of each size. ${STATUS_READING}`, unit: 'none', thresholds: STATUS_STEPS, width: 12, height: 8 },
        [promql(`max by (model, window) (${byKind.name}{${FLEET_MODELS}})`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        STATUS_CODE_MAPPINGS,
      ),
    )
    .withPanel(
      table(
        { title: 'Worst status per kind of row', description: `${byKind.meaning} ${STATUS_READING}`, unit: 'none', thresholds: STATUS_STEPS, width: 12, height: 8 },
        [promqlTable(`${byKind.name}{${FLEET_MODELS}}`)],
        DATASOURCES.prometheus,
        { columns: { status: [{ id: 'mappings', value: STATUS_CODE_MAPPINGS }, { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } }] }, hide: ['Time'], rename: { Value: 'status' } },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Worst status over time', description: `How the worst defined status of each model and window size changed. ${STATUS_READING}`, unit: 'none', thresholds: STATUS_STEPS, width: 16, height: 8 },
        [promql(`max by (model, window) (${byKind.name}{${FLEET_MODELS}})`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 2, stepped: true, showThresholds: true },
      ),
    )
    .withPanel(
      stat(
        { title: 'Time since the latest window, in usual spacings', description: `${age.meaning} Above 2 for 30 minutes raises VigilModelSilent.`, unit: 'short', thresholds: steps([null, 'green'], [1.5, 'yellow'], [2, 'red']), width: 8, height: 8 },
        [promql(`${age.name}{model=~"$model"}`, '{{model}}')],
        DATASOURCES.prometheus,
      ),
    )

    .withRow(new RowBuilder('Traffic and labels'))
    .withPanel(
      timeSeries(
        { title: 'Predictions in the latest window', description: `${predictions.meaning} A drop to under half the same window a week earlier raises VigilModelVolumeLow.`, unit: 'short', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`max by (model, window) (${predictions.name}{${FLEET_MODELS}})`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0, stepped: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Outcomes in the latest window', description: outcomes.meaning, unit: 'short', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`max by (model, window) (${outcomes.name}{${FLEET_MODELS}})`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0, stepped: true },
      ),
    )
    .withPanel(
      timeSeries(
        {
          title: 'Label coverage of the latest window',
          description: `${coverage.meaning} Windows still within the label horizon are short of outcomes by nature; the spec's label_coverage threshold judges final windows.`,
          unit: 'percentunit',
          thresholds: steps([null, 'red'], [0.5, 'yellow'], [0.8, 'green']),
          width: 8,
          height: 8,
        },
        [promql(`max by (model, window) (${coverage.name}{${FLEET_MODELS}})`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 1, stepped: true },
      ),
    )

    .withRow(new RowBuilder('Worst rows'))
    .withPanel(
      table(
        { title: 'Rows in warn or alert now', description: `${status.meaning} Only rows in warn (1) or alert (2), worst first.`, unit: 'none', thresholds: STATUS_STEPS, width: 24, height: 9 },
        [promqlTable(`sort_desc(max by (model, window, kind, metric, feature, segment, group) (${status.name}{${FLEET_MODELS}} < 3) >= 1)`)],
        DATASOURCES.prometheus,
        { columns: { status: [{ id: 'mappings', value: STATUS_CODE_MAPPINGS }, { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } }] }, hide: ['Time'], rename: { Value: 'status' } },
      ),
    )
    .withPanel(
      table(
        {
          title: 'Why: rows in warn or alert of the newest windows',
          description: "From ClickHouse: the rows in warn or alert of the latest evaluation of each model's and size's newest window in the time range, with their value, threshold and reason.",
          unit: 'short',
          thresholds: STATUS_STEPS,
          width: 24,
          height: 10,
        },
        [
          sqlTable(
            [
              'SELECT model_id, window_size, window_start, kind, metric, feature, segment, group_name, value, threshold, status, reason',
              'FROM metric_results',
              "WHERE model_id IN (${model:singlequote}) AND window_size IN (${window:singlequote}) AND $__timeFilter(window_start)",
              "  AND status IN ('warn', 'alert')",
              `  AND ${newestWindow('model_id IN (${model:singlequote}) AND window_size IN (${window:singlequote})')}`,
              'ORDER BY status DESC, model_id, window_size, kind, metric, feature, segment, group_name',
              'LIMIT 200',
            ].join('\n'),
          ),
        ],
        DATASOURCES.clickhouse,
        { columns: { status: STATUS_CELL, window_start: [{ id: 'unit', value: 'dateTimeAsIso' }] } },
      ),
    );
  return numbered(builder.build());
}

// ---------------------------------------------------------------------------------------------
// Model page
// ---------------------------------------------------------------------------------------------

const ONE_MODEL_PROMQL = 'model="$model", window="$window"';
const POPULATION = "segment = '' AND group_name = ''";

function modelPage(catalogue: Catalogue): Dashboard {
  const byKind = catalogued(catalogue, 'model_window_kind:vigil_model_metric_status:max');
  const predictions = catalogued(catalogue, 'vigil_model_window_predictions');
  const outcomes = catalogued(catalogue, 'vigil_model_window_outcomes');
  const coverage = catalogued(catalogue, 'vigil_model_label_coverage_ratio');
  const windowEnd = catalogued(catalogue, 'vigil_model_window_end_timestamp_seconds');
  const HISTORY = 'From ClickHouse, one point per window (at its start), from the latest evaluation of each window.';

  const builder = new DashboardBuilder('Vigil / Model')
    .uid('vigil-model')
    .description("One model at one window size: its status now, performance and the CBPE estimate with their intervals, calibration, drift and data quality per feature, and its labels' coverage and delay.")
    .tags([DASHBOARD_TAG])
    .time({ from: 'now-7d', to: 'now' })
    .refresh('5m')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(MODEL_FROM_CLICKHOUSE())
    .withVariable(WINDOW_FROM_CLICKHOUSE())
    .link(new DashboardLinkBuilder('Vigil dashboards').type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(true).keepTime(true))

    .withRow(new RowBuilder('Now'))
    .withPanel(
      barGauge(
        { title: 'Status of the latest window by kind', description: `${byKind.meaning} 0 ok, 1 warn, 2 alert.`, unit: 'none', thresholds: STATUS_STEPS, width: 8, height: 7 },
        [promql(`max by (kind) (${byKind.name}{${ONE_MODEL_PROMQL}})`, '{{kind}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 2, mappings: STATUS_CODE_MAPPINGS },
      ),
    )
    .withPanel(
      stat(
        { title: 'Predictions in the latest window', description: predictions.meaning, unit: 'short', thresholds: steps([null, 'green']), width: 4, height: 7 },
        [promql(`max(${predictions.name}{${ONE_MODEL_PROMQL}})`, 'predictions')],
        DATASOURCES.prometheus,
      ),
    )
    .withPanel(
      stat(
        { title: 'Outcomes in the latest window', description: outcomes.meaning, unit: 'short', thresholds: steps([null, 'green']), width: 4, height: 7 },
        [promql(`max(${outcomes.name}{${ONE_MODEL_PROMQL}})`, 'outcomes')],
        DATASOURCES.prometheus,
      ),
    )
    .withPanel(
      stat(
        { title: 'Label coverage of the latest window', description: coverage.meaning, unit: 'percentunit', thresholds: steps([null, 'red'], [0.5, 'yellow'], [0.8, 'green']), width: 4, height: 7 },
        [promql(`max(${coverage.name}{${ONE_MODEL_PROMQL}})`, 'coverage')],
        DATASOURCES.prometheus,
      ),
    )
    .withPanel(
      stat(
        { title: 'End of the latest window', description: `${windowEnd.meaning} Shown as time ago (event time).`, unit: 'dateTimeFromNow', thresholds: steps([null, 'blue']), width: 4, height: 7 },
        [promql(`max(${windowEnd.name}{${ONE_MODEL_PROMQL}}) * 1000`, 'window end')],
        DATASOURCES.prometheus,
      ),
    )

    .withRow(new RowBuilder('Performance'))
    .withPanel(
      timeSeries(
        {
          title: 'AUROC: realised versus CBPE estimate',
          description: `${HISTORY} Realised AUROC on the outcomes that have arrived, with its 95% DeLong interval, and the AUROC estimated from scores alone (CBPE), with its sampling-error band (±3σ). Dashed lines: 0.7 and 0.75, the example spec's thresholds.`,
          unit: 'none',
          thresholds: steps([null, 'red'], [0.7, 'yellow'], [0.75, 'green']),
          width: 12,
          height: 9,
        },
        [sqlSeries(metricsOverTime('performance', [{ metric: 'auroc', column: 'auroc', interval: true }, { metric: 'cbpe_auroc', column: 'cbpe_auroc', interval: true }]))],
        DATASOURCES.clickhouse,
        { min: 0.5, max: 1, showThresholds: true, fields: { ...band('auroc_ci_low', 'auroc_ci_high'), ...band('cbpe_auroc_ci_low', 'cbpe_auroc_ci_high') } },
      ),
    )
    .withPanel(
      timeSeries(
        {
          title: 'Sensitivity, specificity, PPV and NPV',
          description: `${HISTORY} At the spec's decision threshold, with 95% Wilson intervals in the rows (sensitivity's drawn as a band).`,
          unit: 'percentunit',
          thresholds: steps([null, 'green']),
          width: 12,
          height: 9,
        },
        [
          sqlSeries(
            metricsOverTime('performance', [
              { metric: 'sensitivity', column: 'sensitivity', interval: true },
              { metric: 'specificity', column: 'specificity' },
              { metric: 'ppv', column: 'ppv' },
              { metric: 'npv', column: 'npv' },
            ]),
          ),
        ],
        DATASOURCES.clickhouse,
        { min: 0, max: 1, fields: band('sensitivity_ci_low', 'sensitivity_ci_high') },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Prevalence', description: `${HISTORY} Share of outcomes that are positive, with its 95% Wilson interval: a shift changes what every threshold metric means.`, unit: 'percentunit', thresholds: steps([null, 'green']), width: 12, height: 8 },
        [sqlSeries(metricsOverTime('performance', [{ metric: 'prevalence', column: 'prevalence', interval: true }]))],
        DATASOURCES.clickhouse,
        { min: 0, fields: band('prevalence_ci_low', 'prevalence_ci_high') },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Average precision and Brier score', description: `${HISTORY} Average precision (higher is better) and the Brier score (the mean squared error of the risks, lower is better).`, unit: 'none', thresholds: steps([null, 'green']), width: 12, height: 8 },
        [sqlSeries(metricsOverTime('performance', [{ metric: 'average_precision', column: 'average_precision' }, { metric: 'brier', column: 'brier' }]))],
        DATASOURCES.clickhouse,
        { min: 0, max: 1 },
      ),
    )

    .withRow(new RowBuilder('Calibration'))
    .withPanel(
      timeSeries(
        { title: 'Expected calibration error', description: `${HISTORY} Mean gap between predicted risk and observed frequency over the reliability bins, weighted by bin size.`, unit: 'percentunit', thresholds: steps([null, 'green'], [0.05, 'yellow'], [0.1, 'red']), width: 8, height: 8 },
        [sqlSeries(metricsOverTime('calibration', [{ metric: 'ece', column: 'ece' }]))],
        DATASOURCES.clickhouse,
        { min: 0, showThresholds: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Observed / expected ratio', description: `${HISTORY} Observed positives over the sum of predicted risks: 1 is calibrated in the large, above 1 the model under-predicts.`, unit: 'short', thresholds: steps([null, 'yellow'], [0.8, 'green'], [1.25, 'yellow']), width: 8, height: 8 },
        [sqlSeries(metricsOverTime('calibration', [{ metric: 'oe_ratio', column: 'oe_ratio' }]))],
        DATASOURCES.clickhouse,
        { min: 0, showThresholds: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Calibration slope and intercept', description: `${HISTORY} Logistic recalibration of the outcomes on the logit of the risks, with 95% Wald intervals: slope 1 and intercept 0 when calibrated; a slope below 1 means risks too extreme.`, unit: 'short', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [
          sqlSeries(
            metricsOverTime('calibration', [
              { metric: 'calibration_slope', column: 'calibration_slope', interval: true },
              { metric: 'calibration_intercept', column: 'calibration_intercept', interval: true },
            ]),
          ),
        ],
        DATASOURCES.clickhouse,
        { fields: { ...band('calibration_slope_ci_low', 'calibration_slope_ci_high'), ...band('calibration_intercept_ci_low', 'calibration_intercept_ci_high') } },
      ),
    )

    .withRow(new RowBuilder('Drift'))
    .withPanel(
      timeSeries(
        { title: 'PSI per feature', description: `${HISTORY} Population stability index of each input against the baseline, on the baseline's bins. Judged with the feature's significance test; 0.1 and 0.25 are the usual warn and alert levels.`, unit: 'short', thresholds: steps([null, 'green'], [0.1, 'yellow'], [0.25, 'red']), width: 12, height: 9 },
        [sqlSeries(metricByLabel('drift', 'psi', 'feature', 'psi', "feature != '' AND " + POPULATION))],
        DATASOURCES.clickhouse,
        { min: 0, showThresholds: true, displayName: '${__field.labels.feature}' },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Normalised Wasserstein distance per numeric feature', description: `${HISTORY} Earth mover's distance between the window and the baseline, in units of the baseline's standard deviation.`, unit: 'short', thresholds: steps([null, 'green']), width: 12, height: 9 },
        [sqlSeries(metricByLabel('drift', 'wasserstein_norm', 'feature', 'wasserstein_norm', "feature != '' AND " + POPULATION))],
        DATASOURCES.clickhouse,
        { min: 0, displayName: '${__field.labels.feature}' },
      ),
    )

    .withRow(new RowBuilder('Data quality'))
    .withPanel(
      timeSeries(
        { title: 'Missing share per feature', description: `${HISTORY} Share of predictions with the input missing.`, unit: 'percentunit', thresholds: steps([null, 'green'], [0.2, 'yellow'], [0.35, 'red']), width: 12, height: 8 },
        [sqlSeries(metricByLabel('quality', 'missing_share', 'feature', 'missing_share', "feature != '' AND " + POPULATION))],
        DATASOURCES.clickhouse,
        { min: 0, max: 1, displayName: '${__field.labels.feature}' },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Out-of-range share per feature', description: `${HISTORY} Share of predictions with a numeric input outside the range seen in the baseline: a unit change or a broken interface.`, unit: 'percentunit', thresholds: steps([null, 'green'], [0.02, 'yellow'], [0.05, 'red']), width: 12, height: 8 },
        [sqlSeries(metricByLabel('quality', 'out_of_range_share', 'feature', 'out_of_range_share', "feature != '' AND " + POPULATION))],
        DATASOURCES.clickhouse,
        { min: 0, displayName: '${__field.labels.feature}' },
      ),
    )

    .withRow(new RowBuilder('Labels'))
    .withPanel(
      timeSeries(
        { title: 'Label coverage per window', description: `${HISTORY} Share of the window's predictions with a binary outcome; provisional windows are still filling.`, unit: 'percentunit', thresholds: steps([null, 'red'], [0.5, 'yellow'], [0.8, 'green']), width: 8, height: 8 },
        [sqlSeries(metricsOverTime('labels', [{ metric: 'label_coverage', column: 'label_coverage' }]))],
        DATASOURCES.clickhouse,
        { min: 0, max: 1, showThresholds: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Label delay', description: `${HISTORY} Median and 90th percentile of the time from prediction to outcome.`, unit: 's', thresholds: steps([null, 'green'], [172800, 'yellow'], [259200, 'red']), width: 8, height: 8 },
        [
          sqlSeries(
            metricsOverTime('labels', [
              { metric: 'label_delay_median_seconds', column: 'label_delay_median_seconds' },
              { metric: 'label_delay_p90_seconds', column: 'label_delay_p90_seconds' },
            ]),
          ),
        ],
        DATASOURCES.clickhouse,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Unmatched outcomes', description: `${HISTORY} Outcomes whose prediction is not stored: a feed that sends outcomes for unscored patients, or predictions lost upstream.`, unit: 'short', thresholds: steps([null, 'green'], [1, 'yellow']), width: 8, height: 8 },
        [sqlSeries(metricsOverTime('labels', [{ metric: 'unmatched_outcomes', column: 'unmatched_outcomes' }]))],
        DATASOURCES.clickhouse,
        { min: 0 },
      ),
    )

    .withRow(new RowBuilder('Rows'))
    .withPanel(
      table(
        { title: 'Rows not ok in the newest window', description: 'From ClickHouse: every row in warn, alert or undefined of the latest evaluation of the newest window in the time range, with its value, interval, threshold and reason.', unit: 'short', thresholds: STATUS_STEPS, width: 24, height: 10 },
        [
          sqlTable(
            [
              'SELECT window_start, kind, metric, feature, segment, group_name, value, ci_low, ci_high, threshold, n_current, status, reason',
              'FROM metric_results',
              `WHERE ${ONE_MODEL} AND $__timeFilter(window_start)`,
              "  AND status != 'ok'",
              `  AND ${newestWindow(ONE_MODEL)}`,
              'ORDER BY status DESC, kind, metric, feature, segment, group_name',
            ].join('\n'),
          ),
        ],
        DATASOURCES.clickhouse,
        { columns: { status: STATUS_CELL, window_start: [{ id: 'unit', value: 'dateTimeAsIso' }] } },
      ),
    );
  return numbered(builder.build());
}

// ---------------------------------------------------------------------------------------------
// Fairness page
// ---------------------------------------------------------------------------------------------

function fairnessPage(catalogue: Catalogue): Dashboard {
  const status = catalogued(catalogue, 'vigil_model_metric_status');
  const HISTORY = 'From ClickHouse, one point per window (at its start), from the latest evaluation of each window.';
  const SEGMENT = "segment = '${segment}'";
  const GROUPS = `${SEGMENT} AND group_name != ''`;

  const builder = new DashboardBuilder('Vigil / Fairness')
    .uid('vigil-fairness')
    .description("One model's groups of one segment (site, sex, age band, ...): selection rate and performance per group, and the differences between groups that the fairness rows judge.")
    .tags([DASHBOARD_TAG])
    .time({ from: 'now-7d', to: 'now' })
    .refresh('5m')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(MODEL_FROM_CLICKHOUSE())
    .withVariable(WINDOW_FROM_CLICKHOUSE())
    .withVariable(
      clickhouseVariable(
        'segment',
        'Segment',
        "SELECT DISTINCT segment FROM metric_results WHERE model_id = '${model}' AND window_size = '${window}' AND kind = 'fairness' AND segment != '' ORDER BY segment",
        "The model's segment attributes (the spec's segments).",
      ),
    )
    .link(new DashboardLinkBuilder('Vigil dashboards').type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(true).keepTime(true))

    .withRow(new RowBuilder('Now'))
    .withPanel(
      barGauge(
        { title: 'Fairness status of the latest window per segment', description: `${status.meaning} The worst fairness row of each segment; 0 ok, 1 warn, 2 alert.`, unit: 'none', thresholds: STATUS_STEPS, width: 12, height: 7 },
        [promql(`max by (segment) (${status.name}{${ONE_MODEL_PROMQL}, kind="fairness"} < 3)`, '{{segment}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 2, mappings: STATUS_CODE_MAPPINGS },
      ),
    )
    .withPanel(
      barGauge(
        { title: 'Performance status of the latest window per group of $segment', description: `${status.meaning} The worst performance row of each group of the segment; 0 ok, 1 warn, 2 alert.`, unit: 'none', thresholds: STATUS_STEPS, width: 12, height: 7 },
        [promql(`max by (group) (${status.name}{${ONE_MODEL_PROMQL}, kind="performance", segment="$segment"} < 3)`, '{{group}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 2, mappings: STATUS_CODE_MAPPINGS },
      ),
    )

    .withRow(new RowBuilder('Differences between groups'))
    .withPanel(
      timeSeries(
        {
          title: 'Differences between the groups of $segment',
          description: `${HISTORY} fairlearn's differences over the groups large enough to compare (min_group_size): demographic parity (selection rates), equal opportunity (true positive rates) and equalized odds (the larger of the TPR and FPR differences).`,
          unit: 'percentunit',
          thresholds: steps([null, 'green'], [0.1, 'yellow'], [0.2, 'red']),
          width: 12,
          height: 9,
        },
        [
          sqlSeries(
            metricsOverTime(
              'fairness',
              [
                { metric: 'demographic_parity_difference', column: 'demographic_parity_difference' },
                { metric: 'equal_opportunity_difference', column: 'equal_opportunity_difference' },
                { metric: 'equalized_odds_difference', column: 'equalized_odds_difference' },
              ],
              `${SEGMENT} AND group_name = ''`,
            ),
          ),
        ],
        DATASOURCES.clickhouse,
        { min: 0, showThresholds: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Selection rate per group of $segment', description: `${HISTORY} Share of each group's predictions at or above the decision threshold; suppressed groups (fewer than min_group_size) have no value.`, unit: 'percentunit', thresholds: steps([null, 'green']), width: 12, height: 9 },
        [sqlSeries(metricByLabel('fairness', 'selection_rate', 'group_name', 'selection_rate', GROUPS))],
        DATASOURCES.clickhouse,
        { min: 0, displayName: '${__field.labels.group_name}' },
      ),
    )

    .withRow(new RowBuilder('Performance per group'))
    .withPanel(
      timeSeries(
        { title: 'AUROC per group of $segment', description: `${HISTORY} Realised AUROC of each group large enough to judge.`, unit: 'none', thresholds: steps([null, 'red'], [0.7, 'yellow'], [0.75, 'green']), width: 8, height: 8 },
        [sqlSeries(metricByLabel('performance', 'auroc', 'group_name', 'auroc', GROUPS))],
        DATASOURCES.clickhouse,
        { min: 0.5, max: 1, showThresholds: true, displayName: '${__field.labels.group_name}' },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Sensitivity per group of $segment', description: `${HISTORY} True positive rate of each group at the decision threshold: the share of its patients with the outcome that the model flags.`, unit: 'percentunit', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [sqlSeries(metricByLabel('performance', 'sensitivity', 'group_name', 'sensitivity', GROUPS))],
        DATASOURCES.clickhouse,
        { min: 0, max: 1, displayName: '${__field.labels.group_name}' },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Predictions per group of $segment', description: `${HISTORY} The volume rows: predictions of each group (the baseline's most frequent groups, the rest pooled as other).`, unit: 'short', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [sqlSeries(metricByLabel('volume', 'predictions', 'group_name', 'predictions', GROUPS))],
        DATASOURCES.clickhouse,
        { min: 0, displayName: '${__field.labels.group_name}' },
      ),
    )

    .withRow(new RowBuilder('Newest window'))
    .withPanel(
      table(
        { title: 'Groups of $segment in the newest window', description: 'From ClickHouse, the latest evaluation of the newest window in the time range: per group, its predictions, selection rate and performance, and its worst row status.', unit: 'percentunit', thresholds: STATUS_STEPS, width: 24, height: 9 },
        [
          sqlTable(
            [
              'SELECT group_name,',
              "    anyIf(n_current, metric = 'selection_rate') AS predictions,",
              "    anyIf(value, metric = 'selection_rate') AS selection_rate,",
              "    anyIf(value, metric = 'auroc') AS auroc,",
              "    anyIf(value, metric = 'sensitivity') AS sensitivity,",
              "    anyIf(value, metric = 'specificity') AS specificity,",
              "    anyIf(value, metric = 'ppv') AS ppv,",
              "    anyIf(value, metric = 'prevalence') AS prevalence,",
              '    toString(max(status)) AS worst_status',
              'FROM metric_results',
              `WHERE ${ONE_MODEL} AND $__timeFilter(window_start)`,
              `  AND kind IN ('fairness', 'performance') AND ${GROUPS}`,
              `  AND ${newestWindow(ONE_MODEL)}`,
              'GROUP BY group_name',
              'ORDER BY group_name',
            ].join('\n'),
          ),
        ],
        DATASOURCES.clickhouse,
        { columns: { worst_status: STATUS_CELL, predictions: [{ id: 'unit', value: 'short' }], auroc: [{ id: 'unit', value: 'none' }, { id: 'decimals', value: 3 }] } },
      ),
    )
    .withPanel(
      table(
        { title: 'Differences per segment in the newest window', description: 'From ClickHouse, the latest evaluation of the newest window in the time range: the fairness differences of every segment with their threshold, status and reason (which groups were highest and lowest).', unit: 'percentunit', thresholds: STATUS_STEPS, width: 24, height: 9 },
        [
          sqlTable(
            [
              'SELECT segment, metric, value, threshold, status, reason',
              'FROM metric_results',
              `WHERE ${ONE_MODEL} AND $__timeFilter(window_start)`,
              "  AND kind = 'fairness' AND segment != '' AND group_name = ''",
              `  AND ${newestWindow(ONE_MODEL)}`,
              'ORDER BY segment, metric',
            ].join('\n'),
          ),
        ],
        DATASOURCES.clickhouse,
        { columns: { status: STATUS_CELL } },
      ),
    );
  return numbered(builder.build());
}

// ---------------------------------------------------------------------------------------------
// Pipeline page
// ---------------------------------------------------------------------------------------------

function pipelinePage(catalogue: Catalogue): Dashboard {
  const consumed = catalogued(catalogue, 'vigil_events_consumed_total');
  const stored = catalogued(catalogue, 'vigil_events_stored_total');
  const published = catalogued(catalogue, 'vigil_events_published_total');
  const rejected = catalogued(catalogue, 'vigil_events_rejected_total');
  const rejectedShare = catalogued(catalogue, 'topic:vigil_events_rejected_per_consumed:ratio_rate10m');
  const lag = catalogued(catalogue, 'topic:vigil_consumer_lag:sum');
  const up = catalogued(catalogue, 'vigil_dependency_up');
  const insert = catalogued(catalogue, 'vigil_batch_insert_duration_seconds');
  const writeFailures = catalogued(catalogue, 'vigil_storage_write_failures_total');
  const evaluations = catalogued(catalogue, 'vigil_monitor_evaluations_total');
  const failures = catalogued(catalogue, 'vigil_monitor_evaluation_failures_total');
  const duration = catalogued(catalogue, 'vigil_monitor_evaluation_duration_seconds');
  const lastSuccess = catalogued(catalogue, 'vigil_monitor_last_success_timestamp_seconds');
  const members = catalogued(catalogue, 'vigil_monitor_members');
  const UP_MAPPINGS: ValueMapping[] = [{ type: MappingType.ValueToText, options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } }];
  const quantiles = (series: string, by: string, legendPrefix: string): PrometheusQueryBuilder[] =>
    [0.5, 0.99].map((quantile, index) =>
      promql(`histogram_quantile(${quantile}, sum by (${['le', by].filter(Boolean).join(', ')}) (rate(${series}_bucket[$__rate_interval])))`, `${legendPrefix}p${quantile * 100}`, String.fromCharCode(65 + index)),
    );

  const builder = new DashboardBuilder('Vigil / Pipeline')
    .uid('vigil-pipeline')
    .description('The event pipeline and the monitor: ingest, dead letters, consumer lag, ClickHouse and the schema registry, and the monitor\'s evaluations.')
    .tags([DASHBOARD_TAG])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(prometheusVariable('model', 'Model', `label_values(${evaluations.name}, model)`, 'Models the monitors evaluate, for the monitor panels.', { multi: true }))
    .link(new DashboardLinkBuilder('Vigil dashboards').type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(true).keepTime(true))

    .withRow(new RowBuilder('Dependencies'))
    .withPanel(
      stat(
        { title: 'Storage and schema registry', description: `${up.meaning} The worst over all Vigil processes; down for 5 minutes raises VigilDependencyDown.`, unit: 'none', thresholds: steps([null, 'red'], [1, 'green']), width: 8, height: 5 },
        [promql(`min by (dependency) (${up.name})`, '{{dependency}}')],
        DATASOURCES.prometheus,
        UP_MAPPINGS,
      ),
    )
    .withPanel(
      stat(
        { title: 'Monitors sharing the database', description: `${members.meaning} The largest count any monitor sees.`, unit: 'short', thresholds: steps([null, 'red'], [1, 'green']), width: 4, height: 5 },
        [promql(`max(${members.name})`, 'monitors')],
        DATASOURCES.prometheus,
      ),
    )
    .withPanel(
      stat(
        { title: 'Since the last clean monitor pass', description: `${lastSuccess.meaning} The oldest of the monitors' last clean passes; over 30 minutes raises VigilMonitorStale.`, unit: 's', thresholds: steps([null, 'green'], [900, 'yellow'], [1800, 'red']), width: 4, height: 5 },
        [promql(`time() - min(${lastSuccess.name} > 0)`, 'since last clean pass')],
        DATASOURCES.prometheus,
      ),
    )
    .withPanel(
      stat(
        { title: 'Failed ClickHouse inserts', description: `${writeFailures.meaning} Per second, over all tables; any for 5 minutes raises VigilStorageWritesFailing.`, unit: 'cps', thresholds: steps([null, 'green'], [0.000001, 'red']), width: 8, height: 5 },
        [promql(`sum(rate(${writeFailures.name}[$__rate_interval])) or vector(0)`, 'failed inserts')],
        DATASOURCES.prometheus,
      ),
    )

    .withRow(new RowBuilder('Ingest'))
    .withPanel(
      timeSeries(
        { title: 'Records read per topic', description: `${consumed.meaning} Per second.`, unit: 'cps', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`sum by (topic) (rate(${consumed.name}[$__rate_interval]))`, '{{topic}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Events stored per table', description: `${stored.meaning} Per second.`, unit: 'cps', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`sum by (table) (rate(${stored.name}[$__rate_interval]))`, '{{table}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Events published', description: `${published.meaning} Per second.`, unit: 'cps', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`sum by (topic) (rate(${published.name}[$__rate_interval]))`, '{{topic}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Consumer lag per topic', description: `${lag.meaning} Over 100,000 for 15 minutes raises VigilConsumerLagGrowing.`, unit: 'short', thresholds: steps([null, 'green'], [100000, 'red']), width: 8, height: 8 },
        [promql(lag.name, '{{topic}}')],
        DATASOURCES.prometheus,
        { min: 0, showThresholds: true },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Dead letters by reason', description: `${rejected.meaning} Per second; any for 10 minutes raises VigilEventsRejected.`, unit: 'cps', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`sum by (topic, reason) (rate(${rejected.name}[$__rate_interval]))`, '{{topic}} {{reason}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Share of records dead-lettered', description: `${rejectedShare.meaning} Over the last 10 minutes; above 25% for 10 minutes raises VigilEventsMostlyRejected.`, unit: 'percentunit', thresholds: steps([null, 'green'], [0.25, 'red']), width: 8, height: 8 },
        [promql(rejectedShare.name, '{{topic}}')],
        DATASOURCES.prometheus,
        { min: 0, max: 1, showThresholds: true },
      ),
    )

    .withRow(new RowBuilder('Storage'))
    .withPanel(
      timeSeries(
        { title: 'Insert latency per table', description: `${insert.meaning} Median and 99th percentile.`, unit: 's', thresholds: steps([null, 'green'], [1, 'yellow'], [5, 'red']), width: 12, height: 8 },
        quantiles(insert.name, 'table', '{{table}} '),
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Failed inserts per table', description: `${writeFailures.meaning} Per second.`, unit: 'cps', thresholds: steps([null, 'green'], [0.000001, 'red']), width: 12, height: 8 },
        [promql(`sum by (table) (rate(${writeFailures.name}[$__rate_interval]))`, '{{table}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )

    .withRow(new RowBuilder('Monitor'))
    .withPanel(
      timeSeries(
        { title: 'Window evaluations', description: `${evaluations.meaning} Per second, by model and window size.`, unit: 'cps', thresholds: steps([null, 'green']), width: 8, height: 8 },
        [promql(`sum by (model, window) (rate(${evaluations.name}{model=~"$model"}[$__rate_interval]))`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Failed window evaluations', description: `${failures.meaning} Per second; any for 15 minutes raises VigilMonitorEvaluationsFailing.`, unit: 'cps', thresholds: steps([null, 'green'], [0.000001, 'red']), width: 8, height: 8 },
        [promql(`sum by (model, window) (rate(${failures.name}{model=~"$model"}[$__rate_interval]))`, '{{model}} {{window}}')],
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        { title: 'Evaluation duration', description: `${duration.meaning} Median and 99th percentile over all monitors.`, unit: 's', thresholds: steps([null, 'green'], [10, 'yellow'], [60, 'red']), width: 8, height: 8 },
        quantiles(duration.name, '', ''),
        DATASOURCES.prometheus,
        { min: 0 },
      ),
    );
  return numbered(builder.build());
}

// ---------------------------------------------------------------------------------------------
// All dashboards
// ---------------------------------------------------------------------------------------------

export interface DashboardFile {
  /** Path from the project root. */
  path: string;
  dashboard: Dashboard;
}

export function buildDashboards(catalogue: Catalogue): DashboardFile[] {
  return [
    { path: `${DASHBOARDS_FOLDER}/vigil-fleet.json`, dashboard: fleetOverview(catalogue) },
    { path: `${DASHBOARDS_FOLDER}/vigil-model.json`, dashboard: modelPage(catalogue) },
    { path: `${DASHBOARDS_FOLDER}/vigil-fairness.json`, dashboard: fairnessPage(catalogue) },
    { path: `${DASHBOARDS_FOLDER}/vigil-pipeline.json`, dashboard: pipelinePage(catalogue) },
  ];
}

/** A dashboard as its file holds it: the SDK's JSON, two-space indented, one final newline. */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Reading dashboards back, for the checks of tests and CI
// ---------------------------------------------------------------------------------------------

/** Every panel of a dashboard that shows data, rows left out (their panels included). */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? (panel as RowPanel).panels : [panel as Panel]));
}

export interface DashboardQuery {
  /** Dashboard uid and panel title or variable name, for messages. */
  where: string;
  language: 'promql' | 'sql';
  /** How Grafana reads the result: a time series, a table, or a variable's values. */
  shape: 'timeSeries' | 'table' | 'variable';
  /** The query as written, Grafana variables and macros unexpanded; for a Prometheus variable, the selector of its label_values(). */
  text: string;
  /** The panel it belongs to; none for a variable. */
  panel?: Panel;
}

interface TargetFields {
  expr?: string;
  rawSql?: string;
  queryType?: string;
  format?: string | number;
  instant?: boolean;
}

/** The queries of a dashboard: every panel target and every query variable. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const variable of dashboard.templating.list ?? []) {
    if (variable.type !== 'query') continue;
    const where = `${dashboard.uid} $${variable.name}`;
    const query = String(variable.query);
    if (variable.datasource?.uid === DATASOURCES.prometheus.uid) {
      const selector = /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1];
      if (selector === undefined) throw new Error(`${where}: a Prometheus variable is label_values(selector, label): ${query}`);
      queries.push({ where, language: 'promql', shape: 'variable', text: selector });
    } else queries.push({ where, language: 'sql', shape: 'variable', text: query });
  }
  for (const panel of panelsOf(dashboard)) {
    for (const target of (panel.targets ?? []) as unknown as TargetFields[]) {
      const where = `${dashboard.uid} / ${panel.title}`;
      if (target.expr !== undefined) queries.push({ where, language: 'promql', shape: target.format === PromQueryFormat.Table ? 'table' : 'timeSeries', text: target.expr, panel });
      else if (target.rawSql !== undefined) queries.push({ where, language: 'sql', shape: target.queryType === 'timeSeries' ? 'timeSeries' : 'table', text: target.rawSql, panel });
    }
  }
  return queries;
}

/** Names of the Grafana variables a text refers to: `$name`, `${name}`, `${name:format}`, `[[name]]`. */
export function referencedVariables(text: string): string[] {
  return [...text.matchAll(/\$(\w+)|\$\{(\w+)(?::\w+)?(?:\.[\w.]+)?\}|\[\[(\w+)\]\]/g)].map((match) => (match[1] ?? match[2] ?? match[3]) as string);
}
