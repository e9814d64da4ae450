/**
 * Monitor benchmark: one window evaluated the way the monitor evaluates it (ClickHouse aggregates
 * the window's events into sketch cells, the core revives the sketches and reports on them), for
 * windows of growing size on embedded chDB, against the exact `vigil report` path and Evidently's
 * data drift preset on the same rows.
 *
 * The model has 16 numeric and 4 categorical features and 5 segment attributes; its baseline is a
 * production range of 100,000 predictions, fitted as the monitor fits one. Each window holds the
 * given number of predictions, 90% of them with a binary outcome, drifted from the baseline in a
 * few features and in the score. Events are generated inside ClickHouse (INSERT ... SELECT FROM
 * numbers(N)), deterministic. Every window's baseline is fitted and stored in a process of its own,
 * and the window is evaluated in another, with the stored baseline, so that its peak memory is the
 * evaluation's own; the processes that wrote the events and fitted the baseline are gone by then. The embedded ClickHouse runs
 * inside that process, so its RSS includes ClickHouse's working memory for the queries, which a
 * ClickHouse server would hold instead; the JS heap is the monitor's own.
 *
 * A window is evaluated up to --repeats times while its runs take under 30 s in all, and the median
 * is printed; where the first run took at most 15 s, one more run sends readWindowCells' queries one
 * at a time, so that each is timed alone. The exact path exports the baseline's and the window's
 * rows to CSV and reads them as `vigil report` does; only datasetReport is timed against the window.
 *
 * Targets (printed, never failing the run: the figures are what count): a window of 1,000,000
 * predictions evaluated in at most 2 s, memory flat as windows grow, at least 50x Evidently.
 *   npm run bench:monitor -- [--sizes=100000,1000000] [--reference=100000] [--repeats=3] [--history-days=0] [--week=1000000]
 * The week model has 1d and 7d windows and --week predictions a day for 7 days: its daily windows
 * are evaluated as the monitor evaluates them, which stores their cells, and its 7d window is then
 * merged from those (WindowCellsSource), against the same 7d window read whole and Evidently on
 * its rows.
 * With --history-days=N, each model also holds N earlier days of traffic as large as its window,
 * before its baseline: what a deployment holds after N days. It changes no result of the window,
 * only what the stored tables hold around it.
 * Evidently runs where a Python with it is at hand (VIGIL_EVIDENTLY_PYTHON, or python3); without
 * it the comparison is skipped.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { BaselineStore } from '../../services/adapters/clickhouse/baseline-store.js';
import { MetricResultsStore } from '../../services/adapters/clickhouse/metric-results-store.js';
import { applyMigrations } from '../../services/adapters/clickhouse/migrations.js';
import { BASELINE_ROW_CAP, MonitorQueries } from '../../services/adapters/clickhouse/monitor-queries.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { readWindowCells } from '../../services/adapters/clickhouse/window-cells.js';
import { WindowCellsStore } from '../../services/adapters/clickhouse/window-cells-store.js';
import { datasetColumns, readModelDataset } from '../../services/adapters/dataset/model-dataset.js';
import { modelSpecFromText } from '../../services/adapters/dataset/model-spec-file.js';
import { packageVersion, projectPath } from '../../services/adapters/project/project-files.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import { datasetReport } from '../../services/core/metrics/rows/dataset-report.js';
import { LabelDelaySketch } from '../../services/core/metrics/sketches/label-delay-sketch.js';
import { WindowSketch, type SerializedWindowSketch } from '../../services/core/metrics/sketches/window-sketch.js';
import { reportSettings, type ModelSpec } from '../../services/core/model-spec/model-spec.js';
import { composeSummaries, type ComposedSummary, type WindowSummary } from '../../services/core/monitoring/window-parts.js';
import { specHash, windowState } from '../../services/core/monitoring/window-plan.js';
import { windowRows } from '../../services/core/monitoring/window-rows.js';
import { formatDuration } from '../../services/core/time/duration.js';
import { BaselineFitter, type FittedBaseline } from '../../services/monitor/baseline-fitter.js';
import { WindowCellsSource, type CellsRequest } from '../../services/monitor/window-cells-source.js';

const { values: options } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    reference: { type: 'string', default: '100000' },
    repeats: { type: 'string', default: '3' },
    // Days of the same model's traffic stored before the baseline, each as large as the window.
    'history-days': { type: 'string', default: '0' },
    // Predictions per day of the week model, whose 7d window is merged from its days; 0 leaves it out.
    week: { type: 'string', default: '1000000' },
    // Internal: which evaluation of the week a step makes (days, merged, whole).
    part: { type: 'string' },
    // Passed on to the event-to-gauge latency run (monitor-latency.bench.ts), which follows.
    probes: { type: 'string' },
    interval: { type: 'string' },
    burst: { type: 'string' },
    // Internal: the processes this benchmark starts for each step.
    step: { type: 'string' },
    data: { type: 'string' },
    size: { type: 'string' },
  },
});

const DATABASE = 'vigil_bench';
const DAY_MS = 86_400_000;
/** The baseline: one day of production traffic, fitted by the monitor's BaselineFitter. */
const BASELINE_FROM = Date.UTC(2026, 0, 1);
/** The window evaluated: a one-day window a week after the baseline. */
const WINDOW_START = Date.UTC(2026, 0, 8);
const WINDOW_END = WINDOW_START + DAY_MS;
/** The week model's 7d window: seven days from a Thursday, as 7d windows start (1970-01-01 was one), after the same baseline. */
const WEEK_START = WINDOW_START;
const WEEK_DAYS = 7;
const OUTCOME_SHARE_PERCENT = 90;

const NUMERIC_FEATURES = Array.from({ length: 16 }, (_, index) => `numeric_${String(index).padStart(2, '0')}`);
const CATEGORICAL_FEATURES = ['admission_source', 'triage_level', 'ward', 'on_antibiotics'];
const SEGMENTS = ['site', 'sex', 'age_band', 'race_ethnicity', 'payer'];

const TARGET_SECONDS_AT_MILLION = 2;
const TARGET_EVIDENTLY_RATIO = 50;
/** Peak memory of the largest window at most this multiple of the smallest's counts as flat. */
const FLAT_MEMORY_RATIO = 1.5;

/** Each size's processes stop at these bounds, so that the run ends by itself whatever happens. */
const GENERATE_TIMEOUT_MS = 300_000;
/** Generating a day of history takes about 6 s per million predictions here; ten times that is allowed. */
const GENERATE_TIMEOUT_MS_PER_HISTORY_PREDICTION = 0.06;
const EVALUATE_TIMEOUT_MS = 180_000;
const EVALUATE_TIMEOUT_MS_PER_PREDICTION = 0.4;
const EVIDENTLY_TIMEOUT_MS = 240_000;
/** The latency run starts the local services when needed (a first start downloads them), then times its probes. */
const LATENCY_TIMEOUT_MS = 900_000;

const modelOf = (size: number): string => `bench-window-${size}`;
const weekModelOf = (predictionsPerDay: number): string => `bench-week-${predictionsPerDay}`;

/** The spec of the window model of that size, or of the week model: 1d windows, and 7d windows made of them. */
function benchSpec(size: number, week = false, windows: readonly string[] = week ? ['1d', '7d'] : ['1d']): ModelSpec {
  const document = {
    model_id: week ? weekModelOf(size) : modelOf(size),
    model_version: '1.0.0',
    score: 'score',
    label: 'label',
    decision_threshold: 0.3,
    min_group_size: 30,
    features: [...NUMERIC_FEATURES.map((name) => ({ name, type: 'numeric' })), ...CATEGORICAL_FEATURES.map((name) => ({ name, type: 'categorical' }))],
    segments: SEGMENTS,
    drift: { fdr: 0.05, bins: 10 },
    thresholds: {
      psi: { warn: 0.1, alert: 0.25 },
      out_of_range_share: { warn: 0.02, alert: 0.05 },
      missing_share: { warn: 0.2, alert: 0.35 },
      unseen_share: { warn: 0.01, alert: 0.05 },
      auroc: { warn: 0.75, alert: 0.7, direction: 'below' },
      cbpe_auroc: { warn: 0.75, alert: 0.7, direction: 'below' },
      ece: { warn: 0.05, alert: 0.1 },
      equalized_odds_difference: { warn: 0.1, alert: 0.2 },
      label_coverage: { warn: 0.8, alert: 0.5, direction: 'below' },
      label_delay_p90_seconds: { warn: 172800, alert: 259200 },
    },
    monitoring: {
      windows,
      baseline: { production: { from: new Date(BASELINE_FROM).toISOString(), to: new Date(BASELINE_FROM + DAY_MS).toISOString() } },
      label_horizon: '2d',
      min_window_size: 100,
      min_label_coverage: 0.8,
      max_groups_per_segment: 10,
    },
  };
  return modelSpecFromText('bench.model.json', JSON.stringify(document));
}

const quoted = (names: readonly string[]): string => `[${names.map((name) => `'${name}'`).join(', ')}]`;

/**
 * `count` predictions spread evenly over [start, start + one day). Every random number is a hash of
 * (seed, row, draw), so a run always writes the same events. `drift` 1 moves the means of four
 * features, widens a fifth, sends 0.5% of a seventh out of range, shifts two categorical features (one
 * to a category the baseline never saw) and with them the score.
 */
function predictionsInsert(database: string): string {
  const uniform = (draw: string): string => `((bitShiftRight(cityHash64({seed:UInt64}, number, ${draw}), 11) + 0.5) / 9007199254740992)`;
  return `
    INSERT INTO ${database}.predictions
      (event_id, model_id, model_version, prediction_id, occurred_at, entity_key, features_numeric, features_text, features_boolean, features_missing,
       score, predicted_label, decision_threshold, segments, producer_service, producer_request_id, input_hash, source_topic, source_partition,
       source_offset, schema_id, ingested_at)
    SELECT
      concat({prefix:String}, 'e', toString(number)), {model:String}, '1.0.0', concat({prefix:String}, 'p', toString(number)),
      fromUnixTimestamp64Milli(toInt64({start:Int64} + intDiv(number * ${DAY_MS}, {count:UInt64})), 'UTC'),
      concat('entity-', toString(cityHash64({seed:UInt64}, number, 1000) % 1000000)),
      mapFromArrays(arrayFilter((name, present) -> present, names, present), arrayFilter((value, present) -> present, numeric, present)),
      mapFromArrays(${quoted(CATEGORICAL_FEATURES)}, categorical),
      map(),
      arrayFilter((name, present) -> NOT present, names, present),
      score, toUInt8(score >= 0.3), 0.3,
      mapFromArrays(${quoted(SEGMENTS)}, segment_values),
      'bench', NULL, NULL, 'vigil.predictions.v1', 0, toInt64(number), 1, now64(3)
    FROM (
      SELECT
        number,
        ${quoted(NUMERIC_FEATURES)} AS names,
        arrayMap(k -> sqrt(-2 * log(${uniform('2 * k')})) * cos(2 * pi() * ${uniform('2 * k + 1')}), range(16)) AS normals,
        [0.3, 0.15, 0.1, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] AS shifts,
        arrayMap((z, shift, k) -> (z + {drift:Float64} * shift) * if(k = 4, 1 + 0.25 * {drift:Float64}, 1), normals, shifts, range(16)) AS standardised,
        arrayMap((z, k) ->
          if(k = 6 AND {drift:Float64} > 0 AND ${uniform('100')} < 0.005, 10, 1)
          * if(k % 3 = 2,
               round(10 * k + (1 + (k % 5) / 10) * if(k % 4 = 3, exp(0.5 * z), z), 1),
               10 * k + (1 + (k % 5) / 10) * if(k % 4 = 3, exp(0.5 * z), z)),
          standardised, range(16)) AS numeric,
        arrayMap(k -> NOT (k % 5 = 0 AND ${uniform('200 + k')} < 0.03), range(16)) AS present,
        toUInt8(floor(pow(${uniform('300')}, 1.6 - 0.5 * {drift:Float64}) * 5)) AS source_level,
        [
          concat('source_', toString(source_level)),
          concat('level_', toString(toUInt8(floor(${uniform('301')} * 3)))),
          if({drift:Float64} > 0 AND ${uniform('305')} < 0.01, 'ward_new', concat('ward_', toString(toUInt8(floor(pow(${uniform('302')}, 2) * 12))))),
          if(${uniform('303')} < 0.35, 'yes', 'no')
        ] AS categorical,
        [
          concat('site_', toString(toUInt8(floor(pow(${uniform('400')}, 1.3) * 8)))),
          multiIf(${uniform('401')} < 0.49, 'F', ${uniform('401')} < 0.98, 'M', 'X'),
          ['18-29', '30-44', '45-59', '60-74', '75-89', '90+'][toUInt8(floor(${uniform('402')} * 6)) + 1],
          concat('group_', toString(toUInt8(floor(pow(${uniform('403')}, 1.8) * 5)))),
          ['medicare', 'medicaid', 'private', 'self_pay'][toUInt8(floor(pow(${uniform('404')}, 1.2) * 4)) + 1]
        ] AS segment_values,
        1 / (1 + exp(-(-1.2 + 0.9 * standardised[1] + 0.6 * standardised[2] - 0.5 * standardised[3] + 0.4 * standardised[5]
                      + 0.3 * standardised[7] + 0.4 * (source_level = 0) - 0.3 * (categorical[4] = 'yes')))) AS score
      FROM numbers({count:UInt64})
    )`;
}

/**
 * One binary outcome for 90% of the model's predictions, 6 to 48 hours after each, positive with
 * a probability a little below the score (the model is slightly over-confident).
 */
function outcomesInsert(database: string): string {
  const uniform = (draw: number): string => `((bitShiftRight(cityHash64(prediction_id, ${draw}), 11) + 0.5) / 9007199254740992)`;
  return `
    INSERT INTO ${database}.outcomes
      (event_id, model_id, prediction_id, observed_at, label_kind, label_value, label_class, source, source_topic, source_partition, source_offset, schema_id, ingested_at)
    SELECT
      concat('o-', prediction_id), model_id, prediction_id,
      occurred_at + toIntervalMillisecond(21600000 + cityHash64(prediction_id, 1) % 151200000),
      'binary', toFloat64(${uniform(2)} < pow(score, 1.15)), NULL, 'ehr', 'vigil.outcomes.v1', 0, source_offset, 2, now64(3)
    FROM ${database}.predictions
    WHERE model_id = {model:String} AND cityHash64(prediction_id, 3) % 100 < ${OUTCOME_SHARE_PERCENT}`;
}

/** The numeric, categorical and segment columns of a prediction as a dataset file has them, missing as NULL. */
function datasetSelect(alias: string): string {
  return [
    ...NUMERIC_FEATURES.map((name) => `if(mapContains(${alias}.features_numeric, '${name}'), toNullable(${alias}.features_numeric['${name}']), NULL) AS ${name}`),
    ...CATEGORICAL_FEATURES.map((name) => `if(mapContains(${alias}.features_text, '${name}'), toNullable(${alias}.features_text['${name}']), NULL) AS ${name}`),
    ...SEGMENTS.map((name) => `if(mapContains(${alias}.segments, '${name}'), toNullable(${alias}.segments['${name}']), NULL) AS ${name}`),
    `${alias}.score AS score`,
  ].join(',\n      ');
}

/**
 * Writes a query's rows to a CSV file as `vigil report` and pandas read it: a header, missing values empty.
 * The file is written anew: file() appends to an existing one, and a data folder evaluated again would
 * otherwise hand the exact path every earlier export's rows too.
 */
async function exportCsv(client: ClickHouseClient, file: string, select: string, parameters: Record<string, unknown>): Promise<void> {
  await client.command({
    query: `INSERT INTO FUNCTION file('${file}', 'CSVWithNames') ${select} SETTINGS format_csv_null_representation = '', join_use_nulls = 1, engine_file_truncate_on_insert = 1`,
    query_params: parameters,
  });
}

/**
 * The baseline's rows exactly as BaselineFitter reads them (the same filter, order and cap), each
 * with the label of its latest binary outcome as the fitter labels it, empty where none: the exact
 * path's CBPE is then calibrated on the same labels as the monitor's.
 */
const referenceRowsSelect = (database: string): string => `
    SELECT ${datasetSelect('prediction')}, outcome.label AS label
    FROM ${database}.predictions AS prediction
    LEFT JOIN (
      SELECT prediction_id, argMax(if(label_kind = 'binary' AND label_value IN (0, 1), toNullable(toUInt8(label_value)), NULL), (observed_at, event_id)) AS label
      FROM ${database}.outcomes WHERE model_id = {model:String}
      GROUP BY prediction_id
    ) AS outcome ON prediction.prediction_id = outcome.prediction_id
    WHERE prediction.model_id = {model:String}
      AND occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
      AND score >= 0 AND score <= 1
    ORDER BY cityHash64(event_id), event_id
    LIMIT ${BASELINE_ROW_CAP}`;

/** The window's predictions with the label of their latest outcome, empty where none has arrived. */
const windowRowsSelect = (database: string): string => `
    SELECT ${datasetSelect('prediction')}, outcome.label AS label
    FROM ${database}.predictions AS prediction
    LEFT JOIN (
      SELECT prediction_id, toUInt8(argMax(label_value, (observed_at, event_id))) AS label
      FROM ${database}.outcomes WHERE model_id = {model:String} AND label_kind = 'binary'
      GROUP BY prediction_id
    ) AS outcome ON prediction.prediction_id = outcome.prediction_id
    WHERE prediction.model_id = {model:String}
      AND prediction.occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND prediction.occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

// ---------------------------------------------------------------------------------------------
// Memory, sampled while the event loop is free (ClickHouse queries run off the main thread) and
// between steps; the kernel's high-water mark catches a peak of RSS the samples miss.

class MemoryPeak {
  private timer: NodeJS.Timeout | undefined;
  rss = 0;
  heap = 0;
  private maxRssBefore = 0;

  start(): void {
    this.rss = 0;
    this.heap = 0;
    this.maxRssBefore = process.resourceUsage().maxRSS * 1024;
    this.sample();
    this.timer = setInterval(() => this.sample(), 5);
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.heap = Math.max(this.heap, usage.heapUsed);
  }

  stop(): Memory {
    this.sample();
    clearInterval(this.timer);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    // A new high-water mark was set during the measurement: that is its peak, exactly.
    if (maxRss > this.maxRssBefore) this.rss = Math.max(this.rss, maxRss);
    return { rss: this.rss, heap: this.heap };
  }
}

const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.();

// ---------------------------------------------------------------------------------------------
// Timing of each ClickHouse query: until its result arrives (ClickHouse's work, plus any wait for
// the main thread when several are in flight) and the decoding of its rows on the main thread.

interface QueryTiming {
  started: number;
  answered: number;
  decoded: number;
}

class QueryLog {
  timings: QueryTiming[] = [];
  /** When set, each query is sent only once the one before it is decoded: every query is timed alone. */
  oneAtATime = false;
  private previous: Promise<void> = Promise.resolve();

  /** The client, each of whose queries is timed here. */
  wrap(client: ClickHouseClient): ClickHouseClient {
    return new Proxy(client, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'query') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        return (parameters: Parameters<ClickHouseClient['query']>[0]) => this.query(target, parameters);
      },
    });
  }

  private async query(client: ClickHouseClient, parameters: Parameters<ClickHouseClient['query']>[0]): ReturnType<ClickHouseClient['query']> {
    const timing: QueryTiming = { started: 0, answered: 0, decoded: 0 };
    this.timings.push(timing);
    let release = (): void => {};
    if (this.oneAtATime) {
      const previous = this.previous;
      this.previous = new Promise((resolve) => (release = resolve));
      await previous;
    }
    timing.started = performance.now();
    const result = await client.query(parameters);
    timing.answered = performance.now();
    const json = result.json.bind(result);
    return Object.assign(result, {
      json: async <T>() => {
        try {
          return await json<T>();
        } finally {
          timing.decoded = performance.now();
          release();
        }
      },
    });
  }

  /** From the first query sent to the last answer, seconds. */
  span(): number {
    if (this.timings.length === 0) return 0;
    return (Math.max(...this.timings.map((timing) => timing.answered)) - Math.min(...this.timings.map((timing) => timing.started))) / 1000;
  }

  decodeSeconds(): number {
    return this.timings.reduce((total, timing) => total + (timing.decoded - timing.answered), 0) / 1000;
  }
}

// ---------------------------------------------------------------------------------------------
// Step 1, its own process: the events of the baselines and windows.

interface GenerationReport {
  size: number;
  seconds: number;
  predictionsPerSecond: number;
  /** The week model's events, not a window's. */
  week?: boolean;
}

async function generateStep(dataDirectory: string, sizes: readonly number[], referenceSize: number, historyDays: number, weekPerDay: number): Promise<void> {
  const client = createStorageClient({ kind: 'embedded', dataDirectory, database: DATABASE });
  await applyMigrations(client, DATABASE);
  const reports: GenerationReport[] = [];
  if (weekPerDay > 0) {
    const model = weekModelOf(weekPerDay);
    const started = performance.now();
    await client.command({ query: predictionsInsert(DATABASE), query_params: { model, prefix: `r-week-`, start: BASELINE_FROM, count: referenceSize, seed: 1, drift: 0 } });
    for (let day = 0; day < WEEK_DAYS; day++) {
      await client.command({ query: predictionsInsert(DATABASE), query_params: { model, prefix: `w-week-${day}-`, start: WEEK_START + day * DAY_MS, count: weekPerDay, seed: 20 + day, drift: 1 } });
    }
    await client.command({ query: outcomesInsert(DATABASE), query_params: { model } });
    const seconds = (performance.now() - started) / 1000;
    reports.push({ size: WEEK_DAYS * weekPerDay, seconds, predictionsPerSecond: (WEEK_DAYS * weekPerDay + referenceSize) / seconds, week: true });
    process.stderr.write(`bench:monitor  generated a week of ${WEEK_DAYS} x ${weekPerDay.toLocaleString('en-US')} predictions in ${seconds.toFixed(1)} s\n`);
  }
  for (const size of sizes) {
    const model = modelOf(size);
    const started = performance.now();
    // The same seed for every model's baseline: each window is compared with the same reference.
    await client.command({
      query: predictionsInsert(DATABASE),
      query_params: { model, prefix: `r-${size}-`, start: BASELINE_FROM, count: referenceSize, seed: 1, drift: 0 },
    });
    await client.command({
      query: predictionsInsert(DATABASE),
      query_params: { model, prefix: `w-${size}-`, start: WINDOW_START, count: size, seed: 2, drift: 1 },
    });
    for (let day = 1; day <= historyDays; day++) {
      await client.command({
        query: predictionsInsert(DATABASE),
        query_params: { model, prefix: `h${day}-${size}-`, start: BASELINE_FROM - day * DAY_MS, count: size, seed: 2 + day, drift: 0 },
      });
    }
    await client.command({ query: outcomesInsert(DATABASE), query_params: { model } });
    const seconds = (performance.now() - started) / 1000;
    reports.push({ size, seconds, predictionsPerSecond: ((1 + historyDays) * size + referenceSize) / seconds });
    process.stderr.write(`bench:monitor  generated ${size.toLocaleString('en-US')} window predictions in ${seconds.toFixed(1)} s\n`);
  }
  await client.close();
  process.stdout.write(`${JSON.stringify(reports)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Step 2, one process per window: the baseline, fitted as the monitor fits it on a window's first
// evaluation and stored. Apart from the evaluation, so that the evaluation's memory is its own: the
// fit reads the reference rows as columns in the JS heap, and the allocators keep much of that.

interface FitReport {
  seconds: number;
  clickhouseSeconds: number;
  rowCount: number;
  version: string;
  segmentGroups: [segment: string, groups: [group: string, count: number][]][];
}

const fitFile = (dataDirectory: string, size: number | string): string => join(dataDirectory, `fit-${size}.json`);

async function fitStep(dataDirectory: string, size: number, week: boolean): Promise<void> {
  const client = createStorageClient({ kind: 'embedded', dataDirectory, database: DATABASE });
  const spec = benchSpec(size, week);
  const log = new QueryLog();
  const timed = log.wrap(client);
  const queries = new MonitorQueries(timed, DATABASE);
  const fitter = new BaselineFitter(queries, new BaselineStore(timed, DATABASE), Date.now);
  const watermark = await queries.watermark(spec.modelId);
  if (watermark === null) throw new Error(`no prediction of ${spec.modelId} is stored`);
  log.timings = [];
  const started = performance.now();
  const fitted = await fitter.baselineFor(spec, 'bench.model.json', specHash(spec), WINDOW_START, watermark);
  const report: FitReport = {
    seconds: (performance.now() - started) / 1000,
    clickhouseSeconds: log.span(),
    rowCount: fitted.rowCount,
    version: fitted.version,
    segmentGroups: [...fitted.segmentGroups].map(([segment, groups]) => [segment, [...groups]]),
  };
  await client.close();
  writeFileSync(fitFile(dataDirectory, week ? `week-${size}` : size), JSON.stringify(report));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Step 3, one process per window: evaluate with the stored baseline, then the exact report on the same rows.

interface EvaluationRun {
  seconds: number;
  cellsSeconds: number;
  fromJsonSeconds: number;
  reportSeconds: number;
  /** Each query of readWindowCells: until ClickHouse answered, and the decoding of its rows. */
  queries: { answeredSeconds: number; decodeSeconds: number }[];
  /** From the first query sent to the last answer. */
  clickhouseSeconds: number;
  decodeSeconds: number;
  recordSeconds: number;
}

interface Memory {
  rss: number;
  heap: number;
}

interface EvaluationReport {
  size: number;
  predictions: number;
  outcomes: number;
  fit: { seconds: number; clickhouseSeconds: number; rowCount: number };
  runs: EvaluationRun[];
  /** A run with readWindowCells' queries one at a time, each timed alone; null where it would take too long. */
  queriesAlone: EvaluationRun | null;
  /** Seconds of each run of the floor query (floorQuery) on the window. */
  floorSeconds: number[];
  cells: number;
  resultRows: number;
  rowsByKind: Record<string, number>;
  alerts: number;
  memory: { opened: Memory; beforeEvaluation: Memory; peak: Memory };
  exact: {
    exportSeconds: number;
    readSeconds: number;
    reportSeconds: number;
    rows: number;
    peak: Memory;
    comparedRows: number;
    largestDifference: { metric: string; difference: number } | null;
    csvBytes: number;
  };
}

/**
 * The least any evaluation of the window recomputed from its stored events must do: read the
 * window's predictions with every column the metrics need, and find each one's outcomes. Nothing is
 * computed beyond touching every value and the newest outcome time, so an evaluation that recomputes
 * the window from the raw tables cannot be quicker than this query on the same machine.
 */
function floorQuery(database: string): string {
  const window = "model_id = {model:String} AND occurred_at >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({end:Int64}, 'UTC')";
  return `
    SELECT count(), sum(arraySum(features_numeric.values)), sum(length(features_text) + length(features_boolean) + length(segments) + isNaN(score)),
      sum(outcome.outcomes), max(outcome.latest)
    FROM (SELECT prediction_id, score, features_numeric, features_text, features_boolean, segments FROM ${database}.predictions WHERE ${window}) AS prediction
    LEFT JOIN (
      SELECT prediction_id, count() AS outcomes, max(toUnixTimestamp64Milli(observed_at)) AS latest
      FROM ${database}.outcomes
      WHERE model_id = {model:String} AND prediction_id IN (SELECT prediction_id FROM ${database}.predictions WHERE ${window})
      GROUP BY prediction_id
    ) AS outcome ON prediction.prediction_id = outcome.prediction_id`;
}

/** Further timed runs of a window stop once its runs have taken this long, to bound the benchmark. */
const REPEAT_BUDGET_SECONDS = 30;
/** The run with the queries one at a time is left out for a window whose first run took longer than this. */
const QUERIES_ALONE_BUDGET_SECONDS = 15;

/** Non-empty cells the window's sketches were built from: what the monitor holds, whatever the number of events. */
function cellCount(sketch: SerializedWindowSketch): number {
  let cells = sketch.scores.bins.length + sketch.labelled.bins.length;
  for (const feature of Object.values(sketch.features)) {
    cells += 'values' in feature ? feature.counts.length + feature.values.cells.length : Object.keys(feature.counts).length;
  }
  for (const groups of Object.values(sketch.groups)) for (const group of Object.values(groups)) cells += group.bins.length;
  return cells;
}

const rowKey = (row: ResultRow): string => [row.kind, row.metric, row.feature, row.segment, row.group].join('\u0000');

const memoryNow = (): Memory => {
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
};

/** Collects garbage and gives the allocators a moment to hand freed pages back, so that RSS reads settled. */
async function settle(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  collectGarbage();
}

/** Runs `work` once the process has settled: what it gives, the peak memory while it ran, and the memory before. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; peak: Memory; beforeEvaluation: Memory }> {
  await settle();
  const beforeEvaluation = memoryNow();
  const memory = new MemoryPeak();
  memory.start();
  const result = await work();
  return { result, peak: memory.stop(), beforeEvaluation };
}

async function evaluateStep(dataDirectory: string, size: number, repeats: number): Promise<void> {
  const client = createStorageClient({ kind: 'embedded', dataDirectory, database: DATABASE });
  const spec = benchSpec(size);
  const hash = specHash(spec);
  const windowSize = formatDuration(spec.monitoring.windowSizesMs[0]!);
  const log = new QueryLog();
  const timed = log.wrap(client);
  const queries = new MonitorQueries(timed, DATABASE);
  const results = new MetricResultsStore(client, DATABASE);
  const watermark = await queries.watermark(spec.modelId);
  if (watermark === null) throw new Error(`no prediction of ${spec.modelId} is stored`);
  await settle();
  const opened = memoryNow();

  // The baseline the fit step stored, as the monitor holds it in its cache after the first fit.
  const fit = JSON.parse(readFileSync(fitFile(dataDirectory, size), 'utf8')) as FitReport;
  const profile = await new BaselineStore(client, DATABASE).load(spec.modelId, fit.version);
  if (profile === null) throw new Error(`baseline ${fit.version} of ${spec.modelId} is not stored`);
  const baseline: FittedBaseline = { profile, rowCount: fit.rowCount, version: fit.version, segmentGroups: new Map(fit.segmentGroups.map(([segment, groups]) => [segment, new Map(groups)])) };

  // The steps of Monitor.evaluateWindow for one window, the baseline from the fitter's cache.
  const evaluate = async (): Promise<{ run: EvaluationRun; rows: ResultRow[]; sketch: SerializedWindowSketch; predictions: number; outcomes: number }> => {
    const started = performance.now();
    const fitted = baseline;
    log.timings = [];
    const cellsStarted = performance.now();
    // As the monitor does, which knows a window's predictions from its summary.
    const cells = await readWindowCells(timed, DATABASE, fitted.profile, { modelId: spec.modelId, start: WINDOW_START, end: WINDOW_END }, { expectedPredictions: size });
    const cellsEnded = performance.now();
    const queryTimings = log.timings;
    const { predictions, outcomes } = cells.accounting;
    const state = windowState(WINDOW_END, watermark, spec.monitoring.labelHorizonMs);
    let fromJsonEnded = cellsEnded;
    const sketch = (): WindowSketch => {
      const window = WindowSketch.fromJSON(fitted.profile, cells.sketch);
      fromJsonEnded = performance.now();
      return window;
    };
    const rows = windowRows({ spec, state, baseline: fitted, window: { ...cells.accounting, delays: LabelDelaySketch.fromJSON(cells.labelDelays), segmentGroups: cells.segmentGroups, sketch } });
    const ended = performance.now();
    const run: EvaluationRun = {
      seconds: (ended - started) / 1000,
      cellsSeconds: (cellsEnded - cellsStarted) / 1000,
      fromJsonSeconds: (fromJsonEnded - cellsEnded) / 1000,
      reportSeconds: (ended - fromJsonEnded) / 1000,
      queries: queryTimings.map((timing) => ({ answeredSeconds: (timing.answered - timing.started) / 1000, decodeSeconds: (timing.decoded - timing.answered) / 1000 })),
      clickhouseSeconds: log.span(),
      decodeSeconds: log.decodeSeconds(),
      recordSeconds: 0,
    };
    await results.record(
      {
        evaluationId: randomUUID(),
        modelId: spec.modelId,
        modelVersion: spec.modelVersion,
        windowSize,
        windowStart: WINDOW_START,
        windowEnd: WINDOW_END,
        state,
        baselineVersion: fitted.version,
        specHash: hash,
        vigilVersion: packageVersion(),
        evaluatedAt: Date.now(),
        evaluatedBy: 'bench-monitor',
      },
      rows,
    );
    run.recordSeconds = (performance.now() - ended) / 1000;
    return { run, rows, sketch: cells.sketch, predictions, outcomes };
  };

  const { result: first, peak, beforeEvaluation } = await measured(evaluate);
  const runs = [first.run];
  while (runs.length < repeats && runs.reduce((total, run) => total + run.seconds, 0) < REPEAT_BUDGET_SECONDS) runs.push((await evaluate()).run);
  let queriesAlone: EvaluationRun | null = null;
  if (first.run.seconds <= QUERIES_ALONE_BUDGET_SECONDS) {
    log.oneAtATime = true;
    queriesAlone = (await evaluate()).run;
    log.oneAtATime = false;
  }
  const floorSeconds: number[] = [];
  for (let run = 0; run < runs.length; run++) {
    const started = performance.now();
    await (await client.query({ query: floorQuery(DATABASE), query_params: { model: spec.modelId, start: WINDOW_START, end: WINDOW_END }, format: 'JSONCompactEachRow' })).json();
    floorSeconds.push((performance.now() - started) / 1000);
  }
  const monitorRows = first.rows;
  const rowsByKind: Record<string, number> = {};
  for (const row of monitorRows) rowsByKind[row.kind] = (rowsByKind[row.kind] ?? 0) + 1;

  // The exact path on the same rows: the baseline's rows and the window's, exported as dataset
  // files, then read and reported on exactly as `vigil report` does.
  const folder = join(dataDirectory, `window-${size}`);
  mkdirSync(folder, { recursive: true });
  const referenceFile = join(folder, 'reference.csv');
  const windowFile = join(folder, 'window.csv');
  const exportStarted = performance.now();
  const range = spec.monitoring.baseline.kind === 'production' ? spec.monitoring.baseline : { from: 0, to: 0 };
  await exportCsv(client, referenceFile, referenceRowsSelect(DATABASE), { model: spec.modelId, from: range.from, to: range.to });
  await exportCsv(client, windowFile, windowRowsSelect(DATABASE), { model: spec.modelId, from: WINDOW_START, to: WINDOW_END });
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  await client.close();

  collectGarbage();
  const exactMemory = new MemoryPeak();
  exactMemory.start();
  const readStarted = performance.now();
  const reference = await readModelDataset(referenceFile, spec, { labelOptional: false });
  const current = await readModelDataset(windowFile, spec, { labelOptional: true });
  const readSeconds = (performance.now() - readStarted) / 1000;
  exactMemory.sample();
  const reportStarted = performance.now();
  const exact = datasetReport({ ...reportSettings(spec), reference: datasetColumns(reference), current: datasetColumns(current) });
  const reportSeconds = (performance.now() - reportStarted) / 1000;
  const exactPeak = exactMemory.stop();

  // How close the sketched rows are to the exact ones, over the rows both have.
  const exactByKey = new Map(exact.rows.map((row) => [rowKey(row), row]));
  let comparedRows = 0;
  let largestDifference: EvaluationReport['exact']['largestDifference'] = null;
  for (const row of monitorRows) {
    const exactRow = exactByKey.get(rowKey(row));
    if (exactRow === undefined || row.value === null || exactRow.value === null) continue;
    comparedRows += 1;
    const difference = Math.abs(row.value - exactRow.value);
    if (largestDifference === null || difference > largestDifference.difference) {
      largestDifference = { metric: `${row.kind}/${row.metric}${row.feature === null ? '' : ` ${row.feature}`}${row.group === null ? '' : ` ${row.segment}=${row.group}`}`, difference };
    }
  }

  const report: EvaluationReport = {
    size,
    predictions: first.predictions,
    outcomes: first.outcomes,
    fit: { seconds: fit.seconds, clickhouseSeconds: fit.clickhouseSeconds, rowCount: fit.rowCount },
    runs,
    queriesAlone,
    floorSeconds,
    cells: cellCount(first.sketch),
    resultRows: monitorRows.length,
    rowsByKind,
    alerts: monitorRows.filter((row) => row.status === 'alert').length,
    memory: { opened, beforeEvaluation, peak },
    exact: {
      exportSeconds,
      readSeconds,
      reportSeconds,
      rows: exact.rows.length,
      peak: exactPeak,
      comparedRows,
      largestDifference,
      csvBytes: statSync(referenceFile).size + statSync(windowFile).size,
    },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}


// ---------------------------------------------------------------------------------------------
// The week, one process per part: its 7 daily windows read from their events as the monitor
// evaluates them, their cells stored; its 7d window merged from those; the same 7d window read
// whole from its events, for comparison.

type WeekPart = 'plan' | 'days' | 'merged' | 'whole';

/**
 * As Monitor.evaluateWindow: the window's cells (read whole, or as the source has them: merged from
 * its parts where it can), then its rows; with the summary the pass would hand over.
 */
function windowEvaluator(client: ClickHouseClient, source: WindowCellsSource, spec: ModelSpec, baseline: FittedBaseline, watermark: number, summaryOf: (start: number, sizeMs: number) => CellsRequest['summary']) {
  const { windowSizesMs, labelHorizonMs } = spec.monitoring;
  const { profile } = baseline;
  return async (start: number, sizeMs: number, whole: boolean) => {
    const started = performance.now();
    const state = windowState(start + sizeMs, watermark, labelHorizonMs);
    const summary = summaryOf(start, sizeMs);
    const reading = whole
      ? { cells: await readWindowCells(client, DATABASE, profile, { modelId: spec.modelId, start, end: start + sizeMs }, { expectedPredictions: summary?.predictions }), parts: null }
      : await source.read({ modelId: spec.modelId, baselineVersion: baseline.version, profile, windowSizesMs, sizeMs, windowStart: start, state, watermark, labelHorizonMs, summary });
    const { cells } = reading;
    const rows = windowRows({
      spec,
      state,
      baseline,
      window: { ...cells.accounting, delays: LabelDelaySketch.fromJSON(cells.labelDelays), segmentGroups: cells.segmentGroups, sketch: () => WindowSketch.fromJSON(profile, cells.sketch) },
    });
    return { seconds: (performance.now() - started) / 1000, reading, rows };
  };
}

/** The plan step's summaries of the week's days, as a monitor pass summarises the parts of its 7d windows. */
const weekSummaryFile = (dataDirectory: string): string => join(dataDirectory, 'week-summary.json');

interface WeekReport {
  part: WeekPart;
  /** Seconds of each evaluation: each day's for `days`, the summaries' for `plan`, each run's for the others. */
  seconds: number[];
  /** Parts read again from their events in the first run of `merged`. */
  partsComputed: number | null;
  predictions: number;
  cells: number;
  resultRows: number;
  rows: [key: string, value: number | null][];
  peak: Memory;
  beforeEvaluation: Memory;
}

async function weekStep(dataDirectory: string, perDay: number, part: WeekPart, repeats: number): Promise<void> {
  const client = createStorageClient({ kind: 'embedded', dataDirectory, database: DATABASE });
  const spec = benchSpec(perDay, true);
  const queries = new MonitorQueries(client, DATABASE);
  const source = new WindowCellsSource(client, queries, new WindowCellsStore(client, DATABASE), Date.now);
  const watermark = await queries.watermark(spec.modelId);
  if (watermark === null) throw new Error(`no prediction of ${spec.modelId} is stored`);
  const fit = JSON.parse(readFileSync(fitFile(dataDirectory, `week-${perDay}`), 'utf8')) as FitReport;
  const profile = await new BaselineStore(client, DATABASE).load(spec.modelId, fit.version);
  if (profile === null) throw new Error(`baseline ${fit.version} of ${spec.modelId} is not stored`);
  const baseline: FittedBaseline = { profile, rowCount: fit.rowCount, version: fit.version, segmentGroups: new Map(fit.segmentGroups.map(([segment, groups]) => [segment, new Map(groups)])) };
  const weekMs = WEEK_DAYS * DAY_MS;

  if (part === 'plan') {
    // As a monitor pass plans the 7d size: its windows summarised day by day.
    const {
      result: { summary, seconds },
      peak,
      beforeEvaluation,
    } = await measured(async () => {
      const started = performance.now();
      const [summary] = composeSummaries(await queries.windowSummaries(spec.modelId, DAY_MS, WEEK_START), weekMs);
      return { summary, seconds: (performance.now() - started) / 1000 };
    });
    if (summary === undefined) throw new Error('the week has no summary');
    writeFileSync(weekSummaryFile(dataDirectory), JSON.stringify({ ...summary, parts: [...summary.parts.values()] }));
    await client.close();
    const report: WeekReport = { part, seconds: [seconds], partsComputed: null, predictions: summary.predictions, cells: 0, resultRows: 0, rows: [], peak, beforeEvaluation };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const planned = JSON.parse(readFileSync(weekSummaryFile(dataDirectory), 'utf8')) as WindowSummary & { parts: WindowSummary[] };
  const weekSummary: ComposedSummary = { ...planned, parts: new Map(planned.parts.map((day) => [day.windowStart, day])) };

  const evaluate = windowEvaluator(client, source, spec, baseline, watermark, (start, sizeMs) => (sizeMs === weekMs ? weekSummary : weekSummary.parts.get(start)));

  const seconds: number[] = [];
  const { result: last, peak, beforeEvaluation } = await measured(async () => {
    if (part !== 'days') return evaluate(WEEK_START, weekMs, part === 'whole');
    let day: Awaited<ReturnType<typeof evaluate>> | undefined;
    for (let index = 0; index < WEEK_DAYS; index++) {
      day = await evaluate(WEEK_START + index * DAY_MS, DAY_MS, false);
      seconds.push(day.seconds);
    }
    return day!;
  });
  const partsComputed = last.reading.parts?.computed ?? null;
  if (part !== 'days') seconds.push(last.seconds);
  if (part === 'whole') {
    // The same rows for Evidently, as for the windows.
    const folder = join(dataDirectory, `week-${perDay}`);
    mkdirSync(folder, { recursive: true });
    const range = spec.monitoring.baseline.kind === 'production' ? spec.monitoring.baseline : { from: 0, to: 0 };
    await exportCsv(client, join(folder, 'reference.csv'), referenceRowsSelect(DATABASE), { model: spec.modelId, from: range.from, to: range.to });
    await exportCsv(client, join(folder, 'window.csv'), windowRowsSelect(DATABASE), { model: spec.modelId, from: WEEK_START, to: WEEK_START + weekMs });
  }
  if (part === 'merged') {
    while (seconds.length < repeats && seconds.reduce((total, run) => total + run, 0) < REPEAT_BUDGET_SECONDS) seconds.push((await evaluate(WEEK_START, weekMs, false)).seconds);
  }
  await client.close();
  const report: WeekReport = {
    part,
    seconds,
    partsComputed,
    predictions: last.reading.cells.accounting.predictions,
    cells: cellCount(last.reading.cells.sketch),
    resultRows: last.rows.length,
    rows: last.rows.map((row) => [rowKey(row), row.value]),
    peak,
    beforeEvaluation,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------------------------------------
// A window's day from its hours, one process per part: the window model's spec with 1h windows
// too, its 24 hourly windows read from their events as the monitor evaluates them (their cells
// stored), then the 1d window merged from those hours, against the same day read whole.

type DayPart = 'hours' | 'merged';
const HOUR_MS = 3_600_000;

interface DayReport {
  part: DayPart;
  /** Seconds of each evaluation: each hour's for `hours`, each run's for `merged`. */
  seconds: number[];
  /** The pass's summaries of the day's hours, as it plans the 1d size. */
  planningSeconds: number;
  partsComputed: number | null;
  predictions: number;
  cells: number;
  resultRows: number;
  /** `merged`: the largest difference from the rows of the day read whole, and how many rows had a value in both. */
  largestDifference: number | null;
  comparedRows: number;
  storedBytes: number;
  peak: Memory;
  beforeEvaluation: Memory;
}

async function dayStep(dataDirectory: string, size: number, part: DayPart, repeats: number): Promise<void> {
  const client = createStorageClient({ kind: 'embedded', dataDirectory, database: DATABASE });
  const spec = benchSpec(size, false, ['1h', '1d']);
  const queries = new MonitorQueries(client, DATABASE);
  // Every hour stored when read, every day merged from its hours, as the monitor does.
  const source = new WindowCellsSource(client, queries, new WindowCellsStore(client, DATABASE), Date.now);
  const watermark = await queries.watermark(spec.modelId);
  if (watermark === null) throw new Error(`no prediction of ${spec.modelId} is stored`);
  const fit = JSON.parse(readFileSync(fitFile(dataDirectory, size), 'utf8')) as FitReport;
  const profile = await new BaselineStore(client, DATABASE).load(spec.modelId, fit.version);
  if (profile === null) throw new Error(`baseline ${fit.version} of ${spec.modelId} is not stored`);
  const baseline: FittedBaseline = { profile, rowCount: fit.rowCount, version: fit.version, segmentGroups: new Map(fit.segmentGroups.map(([segment, groups]) => [segment, new Map(groups)])) };

  // As a monitor pass plans the 1d size: its windows summarised hour by hour.
  const planned = performance.now();
  const hourSummaries = await queries.windowSummaries(spec.modelId, HOUR_MS, WINDOW_START, WINDOW_END);
  const [daySummary] = composeSummaries(hourSummaries, DAY_MS);
  const planningSeconds = (performance.now() - planned) / 1000;
  if (daySummary === undefined) throw new Error('the day has no summary');

  const evaluate = windowEvaluator(client, source, spec, baseline, watermark, (start, sizeMs) => (sizeMs === DAY_MS ? daySummary : daySummary.parts.get(start)));

  const seconds: number[] = [];
  const { result: last, peak, beforeEvaluation } = await measured(async () => {
    let evaluated: Awaited<ReturnType<typeof evaluate>> | undefined;
    for (const [start, sizeMs] of part === 'hours' ? Array.from({ length: 24 }, (_, hour) => [WINDOW_START + hour * HOUR_MS, HOUR_MS] as const) : [[WINDOW_START, DAY_MS] as const]) {
      evaluated = await evaluate(start, sizeMs, false);
      seconds.push(evaluated.seconds);
    }
    return evaluated!;
  });
  let largestDifference: number | null = null;
  let comparedRows = 0;
  if (part === 'merged') {
    while (seconds.length < repeats && seconds.reduce((total, run) => total + run, 0) < REPEAT_BUDGET_SECONDS) seconds.push((await evaluate(WINDOW_START, DAY_MS, false)).seconds);
    const whole = new Map((await evaluate(WINDOW_START, DAY_MS, true)).rows.map((row) => [rowKey(row), row.value]));
    largestDifference = 0;
    for (const row of last.rows) {
      const other = whole.get(rowKey(row));
      if (row.value === null || other === undefined || other === null) continue;
      comparedRows += 1;
      largestDifference = Math.max(largestDifference, Math.abs(row.value - other));
    }
  }
  const [stored] = await (
    await client.query({ query: `SELECT sum(length(cells)) AS bytes FROM ${DATABASE}.window_cells WHERE model_id = {model:String} AND window_size = '1h'`, query_params: { model: spec.modelId }, format: 'JSONEachRow' })
  ).json<{ bytes: number | string }>();
  await client.close();
  const report: DayReport = {
    part,
    seconds,
    planningSeconds,
    partsComputed: last.reading.parts?.computed ?? null,
    predictions: last.reading.cells.accounting.predictions,
    cells: cellCount(last.reading.cells.sketch),
    resultRows: last.rows.length,
    largestDifference,
    comparedRows,
    storedBytes: Number(stored?.bytes ?? 0),
    peak,
    beforeEvaluation,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** The window's day from its hours: the hours, then the merge, each in a process of its own. */
function runDay(dataDirectory: string, size: number, repeats: number): { hours: DayReport; merged: DayReport } {
  const bound = EVALUATE_TIMEOUT_MS + Math.round(size * EVALUATE_TIMEOUT_MS_PER_PREDICTION);
  const step = (part: DayPart): DayReport => {
    process.stderr.write(`bench:monitor  the ${count(size)} window's day from its hours: ${part}\n`);
    return JSON.parse(runStep(['--step=day', `--data=${dataDirectory}`, `--size=${size}`, `--part=${part}`, `--repeats=${repeats}`], bound, `the day's ${part} step`)) as DayReport;
  };
  return { hours: step('hours'), merged: step('merged') };
}

function printDay(out: (line?: string) => void, report: EvaluationReport, { hours, merged }: { hours: DayReport; merged: DayReport }, evidently: EvidentlyResult | null): void {
  const mergedSeconds = median(merged.seconds);
  const wholeSeconds = median(report.runs.map((run) => run.seconds));
  out(`    the same day as a 1d window merged from its 24 hourly windows' cells (the spec with 1h and 1d windows; every hour stored, every day merged, whatever their size):`);
  out(
    `      its hours read from their events, as the monitor evaluates its 1h windows, their cells stored: ${hours.seconds.reduce((total, run) => total + run, 0).toFixed(2)} s in all ` +
      `(median hour ${median(hours.seconds).toFixed(2)} s), ${mebibytes(hours.storedBytes)} of cells stored; planning the day, its hours summarised: ${merged.planningSeconds.toFixed(2)} s`,
  );
  out(
    `      the 1d window merged from the stored hours, then its report rows: ${mergedSeconds.toFixed(2)} s ` +
      `(${merged.seconds.length === 1 ? '1 run' : `median of ${merged.seconds.length} runs: ${merged.seconds.map((run) => run.toFixed(2)).join(', ')} s`}; hours read again from their events: ${merged.partsComputed}) ` +
      `-> ${(wholeSeconds / mergedSeconds).toFixed(1)}x the speed of the window read whole`,
  );
  out(`      memory: peak RSS ${mebibytes(merged.peak.rss)} against ${mebibytes(report.memory.peak.rss)} read whole; JS heap peak ${mebibytes(merged.peak.heap)}; ${count(merged.cells)} sketch cells`);
  out(`      ${count(merged.comparedRows)} of ${count(merged.resultRows)} rows with a value in both; largest |merged - whole| ${(merged.largestDifference ?? 0).toExponential(2)} (sums of parts rounded apart)`);
  if (evidently !== null && !('timedOut' in evidently)) out(`      Evidently ${evidently.version} DataDriftPreset on the same rows: ${evidently.seconds.toFixed(2)} s -> merged is ${(evidently.seconds / mergedSeconds).toFixed(1)}x faster`);
}

// ---------------------------------------------------------------------------------------------
// The run: start each step, then Evidently on each window's files, then the figures.

interface EvidentlyOutcome {
  seconds: number;
  version: string;
  driftedColumns: number | null;
  columns: number;
}

type EvidentlyResult = EvidentlyOutcome | { timedOut: number };

const thisFile = fileURLToPath(import.meta.url);

function runStep(args: string[], timeoutMs: number, what: string): string {
  const run = spawnSync(process.execPath, ['--expose-gc', thisFile, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.error !== undefined) throw new Error(`${what} failed: ${run.error.message}`);
  if (run.signal !== null) throw new Error(`${what} was stopped by ${run.signal}${run.signal === 'SIGTERM' ? ` at its bound of ${timeoutMs / 1000} s` : ''}`);
  if (run.status !== 0) throw new Error(`${what} exited with status ${run.status}`);
  return run.stdout.trim().split('\n').pop() ?? '';
}

function evidentlyPython(): string | undefined {
  return [process.env.VIGIL_EVIDENTLY_PYTHON, 'python3'].find(
    (python) => python && spawnSync(python, ['-c', 'import evidently, pandas'], { stdio: 'ignore', timeout: 60_000 }).status === 0,
  );
}

function runEvidently(python: string, folder: string): EvidentlyResult {
  const run = spawnSync(
    python,
    [projectPath('test', 'bench', 'evidently_window_drift.py'), folder, NUMERIC_FEATURES.join(','), CATEGORICAL_FEATURES.join(','), 'score'],
    { encoding: 'utf8', timeout: EVIDENTLY_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.signal === 'SIGTERM') return { timedOut: EVIDENTLY_TIMEOUT_MS / 1000 };
  if (run.status !== 0) throw new Error(`Evidently failed: ${(run.stderr ?? '').slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as EvidentlyOutcome;
}

const mebibytes = (bytes: number): string => `${count(Math.round(bytes / 1024 / 1024))} MiB`;
const milliseconds = (seconds: number): string => `${count(Math.round(seconds * 1000))} ms`;
const count = (value: number): string => value.toLocaleString('en-US');
const percent = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
/** `other` seconds against Vigil's: the ratio other / Vigil, and which is faster. */
const against = (vigilSeconds: number, otherSeconds: number): string => {
  const ratio = otherSeconds / vigilSeconds;
  return ratio >= 1 ? `Vigil is ${ratio.toFixed(1)}x faster` : `Vigil is ${(1 / ratio).toFixed(1)}x slower (ratio ${ratio.toFixed(2)})`;
};
const medianRun = (runs: readonly EvaluationRun[]): EvaluationRun => [...runs].sort((left, right) => left.seconds - right.seconds)[(runs.length - 1) >> 1]!;

/** Names of readWindowCells' queries, in the order it sends them (a second one only groups values beyond a feature's dense cells). */
const CELL_QUERIES = ['window cells'];
const queryName = (index: number, total: number): string => (total === CELL_QUERIES.length ? CELL_QUERIES[index]! : `query ${index + 1}`);

function printWindow(out: (line?: string) => void, report: EvaluationReport, python: string | undefined, evidently: EvidentlyResult | null): void {
  const seconds = median(report.runs.map((run) => run.seconds));
  const middle = medianRun(report.runs);
  const { exact, memory } = report;
  out();
  out(`  window of ${count(report.size)} predictions (${count(report.predictions)} sketched, ${count(report.outcomes)} outcomes)`);
  out(
    `    baseline fit (BaselineFitter, ${count(report.fit.rowCount)} predictions read, fitted and saved, in a process of its own): ${report.fit.seconds.toFixed(2)} s, ` +
      `ClickHouse answering ${report.fit.clickhouseSeconds.toFixed(2)} s of it`,
  );
  const runs = report.runs.length === 1 ? '1 run' : `median of ${report.runs.length} runs: ${report.runs.map((run) => run.seconds.toFixed(2)).join(', ')} s`;
  out(`    evaluation (readWindowCells + fromJSON + report rows): ${seconds.toFixed(2)} s (${runs}), ${count(Math.round(report.predictions / seconds))} predictions/s`);
  const core = middle.fromJsonSeconds + middle.reportSeconds;
  out(
    `      where the time goes: readWindowCells ${milliseconds(middle.cellsSeconds)} (${percent(middle.cellsSeconds, middle.seconds)}; ClickHouse answering ${milliseconds(middle.clickhouseSeconds)}, ` +
      `decoding rows on the main thread ${milliseconds(middle.decodeSeconds)} meanwhile), core ${milliseconds(core)} (${percent(core, middle.seconds)}; fromJSON ${milliseconds(middle.fromJsonSeconds)}, report rows ${milliseconds(middle.reportSeconds)})`,
  );
  out(`      its queries, sent together, answered after: ${middle.queries.map((query, index) => `${queryName(index, middle.queries.length)} ${milliseconds(query.answeredSeconds)}`).join(', ')}`);
  if (report.queriesAlone === null) out(`      each query alone: not run for a window whose first evaluation took over ${QUERIES_ALONE_BUDGET_SECONDS} s`);
  else {
    const alone = report.queriesAlone;
    out(
      `      each query alone (ClickHouse + decoding): ${alone.queries.map((query, index) => `${queryName(index, alone.queries.length)} ${milliseconds(query.answeredSeconds)} + ${milliseconds(query.decodeSeconds)}`).join(', ')}; ` +
        `${milliseconds(alone.seconds)} in all`,
    );
  }
  out(`      recording the results (not in the figures above): ${milliseconds(median(report.runs.map((run) => run.recordSeconds)))}`);
  out(
    `    floor, reading the window's predictions and finding their outcomes with nothing computed: ${median(report.floorSeconds).toFixed(2)} s (runs ${report.floorSeconds.map((run) => run.toFixed(2)).join(', ')} s); ` +
      'no evaluation recomputed from the stored events is quicker here',
  );
  out(`    ${count(report.resultRows)} result rows (${Object.entries(report.rowsByKind).map(([kind, rows]) => `${kind} ${rows}`).join(', ')}; ${report.alerts} alert) from ${count(report.cells)} sketch cells`);
  out(
    `    memory: RSS ${mebibytes(memory.opened.rss)} with the database open, ${mebibytes(memory.beforeEvaluation.rss)} with the stored baseline loaded, peak ${mebibytes(memory.peak.rss)} during the first evaluation (embedded ClickHouse included); ` +
      `JS heap ${mebibytes(memory.beforeEvaluation.heap)} before it, peak ${mebibytes(memory.peak.heap)}`,
  );
  out(
    `    exact \`vigil report\` path on the same rows (datasetReport): ${exact.reportSeconds.toFixed(2)} s for ${count(exact.rows)} rows -> ${against(seconds, exact.reportSeconds)}; ` +
      `its peak JS heap ${mebibytes(exact.peak.heap)}, RSS ${mebibytes(exact.peak.rss)}; not counted: exporting the ${mebibytes(exact.csvBytes)} of CSV ${exact.exportSeconds.toFixed(2)} s, reading it ${exact.readSeconds.toFixed(2)} s`,
  );
  if (exact.largestDifference !== null) {
    out(`      ${count(exact.comparedRows)} rows in both; largest |sketched - exact| value ${exact.largestDifference.difference.toExponential(2)} (${exact.largestDifference.metric})`);
  }
  if (python === undefined || evidently === null) out('    Evidently not installed, skipped');
  else if ('timedOut' in evidently) out(`    Evidently DataDriftPreset did not finish within ${evidently.timedOut} s -> Vigil is more than ${(evidently.timedOut / seconds).toFixed(1)}x faster`);
  else {
    const drifted = evidently.driftedColumns === null ? '' : `, ${evidently.driftedColumns}/${evidently.columns} columns drifted`;
    out(`    Evidently ${evidently.version} DataDriftPreset on the same rows (${evidently.columns} columns, drift only): ${evidently.seconds.toFixed(2)} s${drifted} -> ${against(seconds, evidently.seconds)}`);
  }
}


interface WeekRun {
  plan: WeekReport;
  days: WeekReport;
  merged: WeekReport;
  whole: WeekReport;
  evidently: EvidentlyResult | null;
}

/** The week's steps, each in a process of its own, then Evidently on its rows. */
function runWeek(dataDirectory: string, perDay: number, repeats: number, python: string | undefined): WeekRun {
  const bound = EVALUATE_TIMEOUT_MS + Math.round(WEEK_DAYS * perDay * EVALUATE_TIMEOUT_MS_PER_PREDICTION);
  const step = (part: WeekPart): WeekReport => {
    process.stderr.write(`bench:monitor  the week: ${part}\n`);
    return JSON.parse(runStep(['--step=week', `--data=${dataDirectory}`, `--size=${perDay}`, `--part=${part}`, `--repeats=${repeats}`], bound, `the week's ${part} step`)) as WeekReport;
  };
  runStep(['--step=fit', `--data=${dataDirectory}`, `--size=${perDay}`, '--part=week'], bound, "fitting the week's baseline");
  const plan = step('plan');
  const days = step('days');
  const merged = step('merged');
  const whole = step('whole');
  let evidently: EvidentlyResult | null = null;
  if (python !== undefined) {
    process.stderr.write('bench:monitor  Evidently on the week\n');
    evidently = runEvidently(python, join(dataDirectory, `week-${perDay}`));
  }
  rmSync(join(dataDirectory, `week-${perDay}`), { recursive: true, force: true });
  return { plan, days, merged, whole, evidently };
}

function printWeek(out: (line?: string) => void, perDay: number, { plan, days, merged, whole, evidently }: WeekRun): void {
  const mergedSeconds = median(merged.seconds);
  const wholeSeconds = median(whole.seconds);
  out();
  out(`  a 7d window of ${count(merged.predictions)} predictions (${WEEK_DAYS} days of ${count(perDay)}; the spec has 1d and 7d windows, so the 7d window is merged from its days' cells)`);
  out(
    `    planning, as a monitor pass summarises the 7d size's windows day by day whichever way it then evaluates them (the same summaries as for the daily windows): ` +
      `${plan.seconds[0]!.toFixed(2)} s, peak RSS ${mebibytes(plan.peak.rss)}`,
  );
  out(
    `    its ${WEEK_DAYS} daily windows read from their events, as the monitor evaluates them, their cells stored: ${days.seconds.reduce((total, run) => total + run, 0).toFixed(2)} s in all ` +
      `(median day ${median(days.seconds).toFixed(2)} s), peak RSS ${mebibytes(days.peak.rss)}`,
  );
  out(
    `    the 7d window merged from the stored days (their cells read, checked against the plan's signatures and merged, then the report rows): ${mergedSeconds.toFixed(2)} s ` +
      `(${merged.seconds.length === 1 ? '1 run' : `median of ${merged.seconds.length} runs: ${merged.seconds.map((run) => run.toFixed(2)).join(', ')} s`}; days read again from their events: ${merged.partsComputed})`,
  );
  out(`      memory: peak RSS ${mebibytes(merged.peak.rss)} (embedded ClickHouse included), JS heap ${mebibytes(merged.beforeEvaluation.heap)} before it, peak ${mebibytes(merged.peak.heap)}; ${count(merged.cells)} sketch cells`);
  out(`    the same 7d window read whole from its events (readWindowCells): ${wholeSeconds.toFixed(2)} s, peak RSS ${mebibytes(whole.peak.rss)} -> merged is ${(wholeSeconds / mergedSeconds).toFixed(1)}x faster, in ${(merged.peak.rss / whole.peak.rss).toFixed(2)}x the memory`);
  const wholeRows = new Map(whole.rows);
  let largest = 0;
  let compared = 0;
  for (const [key, value] of merged.rows) {
    const other = wholeRows.get(key);
    if (value === null || other === undefined || other === null) continue;
    compared += 1;
    largest = Math.max(largest, Math.abs(value - other));
  }
  out(`      ${count(compared)} of ${count(merged.resultRows)} rows with a value in both; largest |merged - whole| ${largest.toExponential(2)} (sums of parts rounded apart)`);
  if (evidently === null) out('    Evidently not installed, skipped');
  else if ('timedOut' in evidently) out(`    Evidently DataDriftPreset on the same rows did not finish within ${evidently.timedOut} s -> merged is more than ${(evidently.timedOut / mergedSeconds).toFixed(1)}x faster`);
  else out(`    Evidently ${evidently.version} DataDriftPreset on the same rows: ${evidently.seconds.toFixed(2)} s -> merged is ${(evidently.seconds / mergedSeconds).toFixed(1)}x faster, read whole ${(evidently.seconds / wholeSeconds).toFixed(1)}x`);
}

async function main(): Promise<void> {
  const sizes = options.sizes!.split(',').map(Number);
  const referenceSize = Number(options.reference);
  const repeats = Math.max(1, Number(options.repeats));
  const historyDays = Number(options['history-days']);
  if (!Number.isInteger(historyDays) || historyDays < 0 || historyDays > 60) throw new Error('--history-days takes a whole number from 0 to 60');
  const weekPerDay = Number(options.week);
  if (!Number.isInteger(weekPerDay) || weekPerDay < 0 || weekPerDay > 5_000_000) throw new Error('--week takes a whole number of predictions per day from 0 (no week) to 5,000,000');
  if (sizes.some((size) => !Number.isInteger(size) || size < 1) || !Number.isInteger(referenceSize) || referenceSize < 1) throw new Error('--sizes and --reference take positive whole numbers');
  const runStarted = performance.now();
  const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-bench-monitor-'));
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);
  try {
    out(
      `bench:monitor  windows of ${sizes.map(count).join(', ')} predictions (${OUTCOME_SHARE_PERCENT}% with an outcome), ` +
        `${NUMERIC_FEATURES.length} numeric + ${CATEGORICAL_FEATURES.length} categorical features, ${SEGMENTS.length} segment attributes, ` +
        `baseline of ${count(referenceSize)} predictions${historyDays === 0 ? '' : `, ${historyDays} earlier days of traffic as large as the window stored before it`}; ` +
        `embedded ClickHouse (chDB); ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the start`,
    );
    const generation = JSON.parse(
      runStep(
        ['--step=generate', `--data=${dataDirectory}`, `--sizes=${sizes.join(',')}`, `--reference=${referenceSize}`, `--history-days=${historyDays}`, `--week=${weekPerDay}`],
        GENERATE_TIMEOUT_MS + (historyDays * sizes.reduce((total, size) => total + size, 0) + WEEK_DAYS * weekPerDay) * GENERATE_TIMEOUT_MS_PER_HISTORY_PREDICTION,
        'generating events',
      ),
    ) as GenerationReport[];
    for (const { size, seconds, predictionsPerSecond, week } of generation) {
      if (week) {
        out(`  events of the week (${WEEK_DAYS} days of ${count(weekPerDay)} predictions) and its baseline written in ${seconds.toFixed(1)} s, ${count(Math.round(predictionsPerSecond))} predictions/s with their outcomes`);
        continue;
      }
      const slow = seconds > 60 * (1 + historyDays) ? ' (slow: generating this window takes longer than evaluating it should)' : '';
      out(`  events of the ${count(size)} window, its baseline${historyDays === 0 ? '' : ' and its history'} written in ${seconds.toFixed(1)} s, ${count(Math.round(predictionsPerSecond))} predictions/s with their outcomes${slow}`);
    }

    const python = evidentlyPython();
    const reports: { report: EvaluationReport; evidently: EvidentlyResult | null; day: { hours: DayReport; merged: DayReport } }[] = [];
    for (const size of sizes) {
      process.stderr.write(`bench:monitor  evaluating the ${count(size)} window\n`);
      const bound = EVALUATE_TIMEOUT_MS + Math.round(size * EVALUATE_TIMEOUT_MS_PER_PREDICTION);
      runStep(['--step=fit', `--data=${dataDirectory}`, `--size=${size}`], bound, `fitting the ${count(size)} window's baseline`);
      const report = JSON.parse(runStep(['--step=evaluate', `--data=${dataDirectory}`, `--size=${size}`, `--repeats=${repeats}`], bound, `evaluating the ${count(size)} window`)) as EvaluationReport;
      let evidently: EvidentlyResult | null = null;
      if (python !== undefined) {
        process.stderr.write(`bench:monitor  Evidently on the ${count(size)} window\n`);
        evidently = runEvidently(python, join(dataDirectory, `window-${size}`));
      }
      rmSync(join(dataDirectory, `window-${size}`), { recursive: true, force: true });
      const day = runDay(dataDirectory, size, repeats);
      reports.push({ report, evidently, day });
      printWindow(out, report, python, evidently);
      printDay(out, report, day, evidently);
    }

    const week = weekPerDay > 0 ? runWeek(dataDirectory, weekPerDay, repeats, python) : null;
    if (week !== null) printWeek(out, weekPerDay, week);

    out();
    out('  targets (this machine is noisy; the figures, not the verdicts, are what count)');
    const million = reports.find(({ report }) => report.size === 1_000_000)?.report;
    if (million !== undefined) {
      const seconds = median(million.runs.map((run) => run.seconds));
      out(
        `    1,000,000-prediction window in at most ${TARGET_SECONDS_AT_MILLION} s: ${seconds.toFixed(2)} s, ${verdict(seconds <= TARGET_SECONDS_AT_MILLION)} ` +
          `(the floor alone takes ${median(million.floorSeconds).toFixed(2)} s)`,
      );
    } else out(`    1,000,000-prediction window in at most ${TARGET_SECONDS_AT_MILLION} s: no window of that size in this run`);
    const millionDay = reports.find(({ report }) => report.size === 1_000_000);
    if (millionDay !== undefined) {
      const seconds = median(millionDay.day.merged.seconds);
      const rssRatio = millionDay.day.merged.peak.rss / reports[0]!.report.memory.peak.rss;
      out(`    1,000,000-prediction 1d window merged from its stored hours in at most ${TARGET_SECONDS_AT_MILLION} s: ${seconds.toFixed(2)} s, ${verdict(seconds <= TARGET_SECONDS_AT_MILLION)}`);
      out(
        `      its memory flat against the ${count(reports[0]!.report.size)} window read whole: RSS ${mebibytes(reports[0]!.report.memory.peak.rss)} -> ${mebibytes(millionDay.day.merged.peak.rss)}, ` +
          `${rssRatio.toFixed(2)}x, ${verdict(rssRatio <= FLAT_MEMORY_RATIO)}`,
      );
      const evidently = millionDay.evidently;
      if (evidently !== null && !('timedOut' in evidently)) {
        const ratio = evidently.seconds / seconds;
        out(`      at least ${TARGET_EVIDENTLY_RATIO}x Evidently: ${ratio.toFixed(2)}x, ${verdict(ratio >= TARGET_EVIDENTLY_RATIO)}`);
      }
    }
    if (reports.length > 1) {
      const smallest = reports[0]!.report;
      const largest = reports.at(-1)!.report;
      const heapRatio = largest.memory.peak.heap / smallest.memory.peak.heap;
      const rssRatio = largest.memory.peak.rss / smallest.memory.peak.rss;
      out(`    memory flat, peak at most ${FLAT_MEMORY_RATIO}x from the ${count(smallest.size)} window to the ${count(largest.size)} one (${(largest.size / smallest.size).toFixed(0)}x the predictions):`);
      out(`      JS heap, the monitor's own (${mebibytes(smallest.memory.peak.heap)} -> ${mebibytes(largest.memory.peak.heap)}, cells ${count(smallest.cells)} -> ${count(largest.cells)}): ${heapRatio.toFixed(2)}x, ${verdict(heapRatio <= FLAT_MEMORY_RATIO)}`);
      out(`      RSS, the embedded ClickHouse's query memory included (${mebibytes(smallest.memory.peak.rss)} -> ${mebibytes(largest.memory.peak.rss)}): ${rssRatio.toFixed(2)}x, ${verdict(rssRatio <= FLAT_MEMORY_RATIO)}`);
    } else out('    memory flat as windows grow: one window size only in this run');
    if (python === undefined) out(`    at least ${TARGET_EVIDENTLY_RATIO}x Evidently: Evidently not installed, skipped`);
    for (const { report, evidently } of reports) {
      if (evidently === null) continue;
      const seconds = median(report.runs.map((run) => run.seconds));
      const timedOut = 'timedOut' in evidently;
      const ratio = (timedOut ? evidently.timedOut : evidently.seconds) / seconds;
      const allowed = (timedOut ? evidently.timedOut : evidently.seconds) / TARGET_EVIDENTLY_RATIO;
      out(
        `    at least ${TARGET_EVIDENTLY_RATIO}x Evidently on the ${count(report.size)} window: ${timedOut ? 'more than ' : ''}${ratio.toFixed(2)}x, ${verdict(ratio >= TARGET_EVIDENTLY_RATIO)} ` +
          `(it allows ${allowed.toFixed(2)} s; the floor alone takes ${median(report.floorSeconds).toFixed(2)} s)`,
      );
    }
    if (week !== null) {
      const mergedSeconds = median(week.merged.seconds);
      const smallest = reports[0]?.report;
      if (smallest !== undefined) {
        const rssRatio = week.merged.peak.rss / smallest.memory.peak.rss;
        out(
          `    memory flat, the 7d window of ${count(week.merged.predictions)} merged from its days against the ${count(smallest.size)} window read whole: ` +
            `RSS ${mebibytes(smallest.memory.peak.rss)} -> ${mebibytes(week.merged.peak.rss)}, ${rssRatio.toFixed(2)}x, ${verdict(rssRatio <= FLAT_MEMORY_RATIO)}`,
        );
      }
      if (week.evidently !== null) {
        const timedOut = 'timedOut' in week.evidently;
        const evidentlySeconds = 'timedOut' in week.evidently ? week.evidently.timedOut : week.evidently.seconds;
        const ratio = evidentlySeconds / mergedSeconds;
        out(`    at least ${TARGET_EVIDENTLY_RATIO}x Evidently on the 7d window, merged from its days: ${timedOut ? 'more than ' : ''}${ratio.toFixed(2)}x, ${verdict(ratio >= TARGET_EVIDENTLY_RATIO)}`);
      }
    }
    out(`  whole run ${((performance.now() - runStarted) / 1000).toFixed(0)} s, load average ${loadavg()[0]!.toFixed(1)} at the end`);
  } finally {
    rmSync(dataDirectory, { recursive: true, force: true });
  }
  runLatencyBenchmark();
}

/**
 * Then, with Kafka, the event-to-gauge latency: monitor-latency.bench.ts against the local services
 * (infra/local/with-stack.sh starts them), with this run's --probes, --interval and --burst.
 */
function runLatencyBenchmark(): void {
  if (options.probes === '0') {
    process.stdout.write('bench:monitor latency  skipped (--probes=0)\n');
    return;
  }
  const passed = (['probes', 'interval', 'burst'] as const).flatMap((name) => (options[name] === undefined ? [] : [`--${name}=${options[name]}`]));
  const latency = spawnSync('bash', [projectPath('infra', 'local', 'with-stack.sh'), process.execPath, fileURLToPath(new URL('./monitor-latency.bench.js', import.meta.url)), ...passed], {
    stdio: 'inherit',
    timeout: LATENCY_TIMEOUT_MS,
  });
  if (latency.status !== 0) {
    process.stderr.write(`bench:monitor: the latency run failed (${latency.error?.message ?? `exit ${latency.status ?? latency.signal}`})\n`);
    process.exitCode = 1;
  }
}

if (options.step === 'generate') await generateStep(options.data!, options.sizes!.split(',').map(Number), Number(options.reference), Number(options['history-days']), Number(options.week));
else if (options.step === 'fit') await fitStep(options.data!, Number(options.size), options.part === 'week');
else if (options.step === 'week') await weekStep(options.data!, Number(options.size), options.part as WeekPart, Math.max(1, Number(options.repeats)));
else if (options.step === 'day') await dayStep(options.data!, Number(options.size), options.part as DayPart, Math.max(1, Number(options.repeats)));
else if (options.step === 'evaluate') await evaluateStep(options.data!, Number(options.size), Math.max(1, Number(options.repeats)));
else await main();
