import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineStore } from '../../services/adapters/clickhouse/baseline-store.js';
import { BASELINE_ROW_CAP } from '../../services/adapters/clickhouse/monitor-queries.js';
import { toOutcomeRow, toPredictionRow } from '../../services/adapters/clickhouse/event-store.js';
import { readWindowCells } from '../../services/adapters/clickhouse/window-cells.js';
import { windowPredictionRows, type WindowExportPaging, type WindowPredictionRow } from '../../services/adapters/clickhouse/window-export.js';
import type { EvaluatedWindow } from '../../services/adapters/clickhouse/metric-results-store.js';
import type { Dataset } from '../../services/adapters/dataset/dataset-file.js';
import { loadModelSpecFile } from '../../services/adapters/dataset/model-spec-file.js';
import { readModelDataset } from '../../services/adapters/dataset/model-dataset.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { exportCommand, type DatasetFormat } from '../../services/cli/export-command.js';
import { loadConfig } from '../../services/config/vigil-config.js';
import { MISSING_GROUP } from '../../services/core/metrics/fairness/group-fairness.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import { fitReferenceProfile } from '../../services/core/metrics/sketches/window-sketch.js';
import type { OutcomeEvent, PredictionEvent } from '../../services/core/events/event-types.js';
import type { ModelSpec } from '../../services/core/model-spec/model-spec.js';
import { trailingBaselineRange, type ProductionRange } from '../../services/core/monitoring/window-plan.js';
import { HOUR, MODEL, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';
import { sampleOutcome, samplePrediction } from '../support/sample-events.js';

// Streaming equals offline: for a window the monitor evaluated, `vigil export` of the window and of
// the baseline its evaluation names, run through `vigil report`, gives the rows the monitor stored
// in metric_results: exactly where the window's sketches are exact, within each row's stated bound
// where they are not. Simulated sepsis-risk traffic plays the lab unit change from hour 48 on, so
// day 2 (creatinine in µmol/L at site-b) is compared with day 1 and many of its rows are not ok.

const START = Date.UTC(2026, 0, 5);
const PREDICTIONS_PER_HOUR = 200;
/** Day 2 ends at hour 72; it is final once the watermark has passed it by the one-day horizon. */
const HOURS = 98;
const DAY = 24 * HOUR;

const scratch = mkdtempSync(join(tmpdir(), 'vigil-export-'));
let storage: StorageHarness;
let modelsFolder: Awaited<ReturnType<typeof testModelsFolder>>;
let specFile: string;
let spec: ModelSpec;
let results: ReturnType<typeof monitorOn>['results'];

const vigil = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });

/** The environment that points Vigil's configuration at the test's storage and models folder. */
function storageEnvironment(): Record<string, string> {
  const target = storage.target;
  const location: Record<string, string> =
    target.kind === 'embedded'
      ? { VIGIL_DATA_DIR: target.dataDirectory }
      : { CLICKHOUSE_URL: target.url, CLICKHOUSE_USER: target.username, CLICKHOUSE_PASSWORD: target.password };
  return { ...location, CLICKHOUSE_DATABASE: target.database, VIGIL_MODELS_DIR: modelsFolder.directory };
}

/**
 * `vigil export` in this process, through the command the binary runs: embedded ClickHouse binds
 * one data folder per process, and this process holds the test's. The command opens its own client.
 */
async function exported(range: ProductionRange, format: DatasetFormat, name: string): Promise<string> {
  const out = join(scratch, name);
  const code = await exportCommand(loadConfig(storageEnvironment()), { model: MODEL, from: range.from, to: range.to, format, out });
  expect(code).toBe(0);
  return out;
}

/** `vigil report` as the built binary runs it, on the spec file the monitor read. */
function report(reference: string, current: string): ResultRow[] {
  const result = vigil(['report', '--spec', specFile, '--reference', reference, '--current', current, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { rows: ResultRow[] }).rows;
}

const keyOf = (row: ResultRow): string => [row.kind, row.metric, row.feature ?? '', row.segment ?? '', row.group ?? ''].join(' / ');

/** The bound a row's reason states (`from the window's sketches, within 0.0012 of the exact value`; sketchNote rounds it up). */
function statedBound(reason: string | null): number | undefined {
  const match = /from the window's sketches, within (\S+) of the exact value/.exec(reason ?? '');
  return match === null ? undefined : Number(match[1]);
}

/**
 * Values the monitor computes from sketches without stating a bound: the calibration fit on the
 * score bins' mean scores, and the DeLong interval of the score bins. README.md gives 0.002 on the
 * tests' data for both; these are held to that.
 */
const BINNED_FIT_TOLERANCE = 0.002;
const fittedOnBins = (reason: string | null): boolean => /fitted on the mean score of each score bin/.test(reason ?? '');

/**
 * Exact rows: the same counts give the same value, but sums of doubles are added in another order
 * (ClickHouse's compensated sums against the report's left to right), so they may differ in the
 * last few bits; 1e-9 relative is where the metric tests hold exact maths too.
 */
const EXACT_TOLERANCE = 1e-9;
const close = (left: number, right: number, tolerance: number): boolean => Math.abs(left - right) <= tolerance * Math.max(1, Math.abs(left), Math.abs(right));

interface Comparison {
  compared: number;
  exact: number;
  bounded: number;
  fitted: number;
  provisional: number;
  notOk: number;
  /** The largest relative difference of an exact row, and the largest share of its stated bound a bounded row's difference takes. */
  largestExactDifference: number;
  largestShareOfBound: number;
  largestFittedDifference: number;
  /** Rows whose status differs while their value is within its bound of a threshold. */
  straddling: number;
  differences: string[];
}

/**
 * Every row both have, compared. Differences the monitor's own rules make, each allowed here only
 * as stated:
 * - `labels` and `volume` rows are the monitor's alone (label coverage and delays, predictions per
 *   group against the baseline's shares): a dataset report has no counterpart.
 * - Below min_label_coverage the monitor reports performance, calibration and fairness rows as
 *   `ok` with a reason `provisional: label coverage … is below the minimum …; judged now it would be
 *   <status>`: the status it would have had is compared instead.
 * - Undefined rows: the reasons say the same in other words (the report counts rows, the monitor a
 *   window's outcomes), so only status and counts are compared.
 * - A value within its stated bound of the report's may sit on the other side of a threshold: the
 *   status may then differ, and only then.
 * - Reasons otherwise differ by design (sketch notes, rows left out without a label), and are not compared.
 */
function compareRows(monitorRows: readonly ResultRow[], reportRows: readonly ResultRow[]): Comparison {
  const reportByKey = new Map(reportRows.map((row) => [keyOf(row), row]));
  const comparison: Comparison = { compared: 0, exact: 0, bounded: 0, fitted: 0, provisional: 0, notOk: 0, largestExactDifference: 0, largestShareOfBound: 0, largestFittedDifference: 0, straddling: 0, differences: [] };
  const differ = (row: ResultRow, what: string): void => void comparison.differences.push(`${keyOf(row)}: ${what}`);
  for (const monitorRow of monitorRows) {
    if (monitorRow.kind === 'labels' || monitorRow.kind === 'volume') continue;
    const reportRow = reportByKey.get(keyOf(monitorRow));
    if (reportRow === undefined) {
      differ(monitorRow, 'no such row in the report');
      continue;
    }
    comparison.compared += 1;
    if (reportRow.n_current !== monitorRow.n_current) differ(monitorRow, `n_current ${monitorRow.n_current} vs ${reportRow.n_current}`);
    if (reportRow.n_reference !== monitorRow.n_reference) differ(monitorRow, `n_reference ${monitorRow.n_reference} vs ${reportRow.n_reference}`);

    const provisional = /^provisional: label coverage [\d.]+% is below the minimum [\d.]+%(?:; judged now it would be (warn|alert))?/.exec(monitorRow.reason ?? '');
    const monitorStatus = provisional === null ? monitorRow.status : ((provisional[1] as ResultRow['status'] | undefined) ?? 'ok');
    if (provisional !== null) comparison.provisional += 1;
    if (reportRow.status !== 'ok') comparison.notOk += 1;
    if (monitorRow.status === 'undefined' || reportRow.status === 'undefined') {
      if (monitorRow.status !== reportRow.status) differ(monitorRow, `status ${monitorRow.status} vs ${reportRow.status} (${monitorRow.reason} | ${reportRow.reason})`);
      continue;
    }
    if (reportRow.threshold !== monitorRow.threshold) differ(monitorRow, `threshold ${monitorRow.threshold} vs ${reportRow.threshold}`);

    const monitorValue = monitorRow.value!;
    const reportValue = reportRow.value!;
    const difference = Math.abs(monitorValue - reportValue);
    const bound = statedBound(monitorRow.reason);
    const fitted = fittedOnBins(monitorRow.reason);
    if (bound !== undefined) {
      comparison.bounded += 1;
      comparison.largestShareOfBound = Math.max(comparison.largestShareOfBound, difference / bound);
      if (!(difference <= bound)) differ(monitorRow, `value ${monitorValue} vs ${reportValue}, beyond the stated ${bound}`);
    } else if (fitted) {
      comparison.fitted += 1;
      comparison.largestFittedDifference = Math.max(comparison.largestFittedDifference, difference);
      if (!(difference <= BINNED_FIT_TOLERANCE)) differ(monitorRow, `value ${monitorValue} vs ${reportValue}, beyond ${BINNED_FIT_TOLERANCE}`);
    } else {
      comparison.exact += 1;
      comparison.largestExactDifference = Math.max(comparison.largestExactDifference, difference / Math.max(1, Math.abs(monitorValue), Math.abs(reportValue)));
      if (!close(monitorValue, reportValue, EXACT_TOLERANCE)) differ(monitorRow, `value ${monitorValue} vs ${reportValue}, not exact`);
    }
    // Intervals: Wilson's on counts are exact; DeLong's and the calibration fit's come from the
    // score bins; one around a bounded value (the estimate's sampling-error band) moves with it, by
    // at most its bound. A p-value is exact with its statistic; a KS statistic within a bound has a
    // p-value that follows it, which the status comparison covers.
    const intervalTolerance = fitted || /of the score bins/.test(monitorRow.reason ?? '') ? BINNED_FIT_TOLERANCE : bound;
    for (const field of [...(bound === undefined ? (['p_value'] as const) : []), 'ci_low', 'ci_high'] as const) {
      const [left, right] = [monitorRow[field], reportRow[field]];
      const same = left === null || right === null ? left === right : intervalTolerance === undefined || field === 'p_value' ? close(left, right, EXACT_TOLERANCE) : Math.abs(left - right) <= intervalTolerance;
      if (!same) differ(monitorRow, `${field} ${left} vs ${right}`);
    }
    if (monitorStatus !== reportRow.status) {
      const straddles = bound !== undefined && reportRow.threshold !== null && Math.abs(reportValue - reportRow.threshold) <= bound;
      if (straddles) comparison.straddling += 1;
      else differ(monitorRow, `status ${monitorStatus} vs ${reportRow.status} (value ${monitorValue} vs ${reportValue})`);
    }
  }
  // And the report has no row the monitor lacks: the same groups, the same features, the same metrics.
  const monitorKeys = new Set(monitorRows.map(keyOf));
  for (const reportRow of reportRows) if (!monitorKeys.has(keyOf(reportRow))) comparison.differences.push(`${keyOf(reportRow)}: no such row in the monitor's results`);
  return comparison;
}

async function evaluated(windowSize: string, windowStart: number): Promise<EvaluatedWindow> {
  const [window] = await results.latest(MODEL, windowSize, windowStart, windowStart + 1);
  if (window === undefined) throw new Error(`no ${windowSize} window evaluated at ${new Date(windowStart).toISOString()}`);
  return window;
}

/** The production range the evaluation's trailing baseline covers, checked against what the stored baseline says of itself. */
async function baselineRange(window: EvaluatedWindow): Promise<ProductionRange> {
  const baseline = spec.monitoring.baseline;
  if (baseline.kind !== 'trailing') throw new Error('the test spec has a trailing baseline');
  const range = trailingBaselineRange(window.evaluation.windowStart, baseline.lengthMs, baseline.offsetMs);
  const stored = (await new BaselineStore(storage.client, storage.target.database).versions(MODEL)).find((candidate) => candidate.baselineVersion === window.evaluation.baselineVersion);
  expect(stored?.reference).toContain(`production ${new Date(range.from).toISOString()}..${new Date(range.to).toISOString()}`);
  return range;
}

/** The export as the report reads it: the spec's columns. */
const readExport = (file: string): Promise<Dataset> => readModelDataset(file, spec, { labelOptional: true });

beforeAll(async () => {
  storage = await openTestStorage();
  modelsFolder = await testModelsFolder();
  specFile = join(modelsFolder.directory, 'sepsis-risk.model.yaml');
  spec = await loadModelSpecFile(specFile);
  const events = simulatedTraffic({ seed: 11, startTime: START, hours: HOURS, perHour: PREDICTIONS_PER_HOUR, scenario: 'lab-unit-change' });
  await storeScheduled(storage, events, START + HOURS * HOUR);
  const monitor = monitorOn(storage, modelsFolder.directory, { now: Date.UTC(2026, 1, 1) });
  results = monitor.results;
  // One pass evaluates every window (the harness allows 1000 a pass), each in the state the
  // watermark gives it, and nothing is stored after it: the export reads what the monitor read.
  expect(await monitor.monitor.runPass()).toEqual({ evaluated: HOURS + Math.ceil(HOURS / 24), failed: 0 });
}, 300_000);

afterAll(async () => {
  await storage?.close();
  await modelsFolder?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe('vigil export, then vigil report, against the monitor', () => {
  it('gives a final daily window the rows the monitor stored, provisional performance judged as the report judges it (CSV)', { timeout: 240_000 }, async () => {
    const window = await evaluated('1d', START + 2 * DAY);
    expect(window.evaluation.state).toBe('final');
    const range = await baselineRange(window);
    expect(range).toEqual({ from: START + DAY, to: START + 2 * DAY });
    const baselineFile = await exported(range, 'csv', 'baseline-day-1.csv');
    const windowFile = await exported({ from: window.evaluation.windowStart, to: window.evaluation.windowEnd }, 'csv', 'window-day-2.csv');

    const baselineRows = await readExport(baselineFile);
    const windowRows = await readExport(windowFile);
    // The monitor fits at most BASELINE_ROW_CAP rows; below it, every prediction of the range.
    expect(baselineRows.rowCount).toBeLessThan(BASELINE_ROW_CAP);
    expectCountsOf(window.rows, windowRows, baselineRows);
    expectNoPooling(windowRows);
    // Final after the one-day horizon, yet outcomes take up to 48 hours: the window's late
    // predictions still lack theirs, its coverage is below the minimum and its performance provisional.
    expect(labelCoverage(window)).toBeLessThan(spec.monitoring.minimumLabelCoverage);

    const comparison = compareRows(window.rows, report(baselineFile, windowFile));
    expect(comparison.differences).toEqual([]);
    // Enough rows to mean something, of every kind of comparison, and a window that is not all ok.
    expect(comparison.compared).toBeGreaterThan(300);
    expect(comparison.exact).toBeGreaterThan(200);
    expect(comparison.bounded).toBeGreaterThan(30);
    expect(comparison.fitted).toBe(2);
    expect(comparison.provisional).toBeGreaterThan(100);
    expect(comparison.notOk).toBeGreaterThan(5);
    console.info(describeComparison('1d', comparison));
  });

  it('gives a final, fully judged hourly window the rows the monitor stored (NDJSON)', { timeout: 240_000 }, async () => {
    // Two hours after the onset; by the watermark (hour 98) its outcomes, 6 to 48 hours late, are in.
    const window = await evaluated('1h', START + 50 * HOUR);
    expect(window.evaluation.state).toBe('final');
    const range = await baselineRange(window);
    expect(range).toEqual({ from: START + DAY, to: START + 2 * DAY });
    const baselineFile = await exported(range, 'ndjson', 'baseline-day-1.ndjson');
    const windowFile = await exported({ from: window.evaluation.windowStart, to: window.evaluation.windowEnd }, 'ndjson', 'window-hour-50.ndjson');

    const windowRows = await readExport(windowFile);
    expectCountsOf(window.rows, windowRows, await readExport(baselineFile));
    expectNoPooling(windowRows);
    expect(labelCoverage(window)).toBeGreaterThanOrEqual(spec.monitoring.minimumLabelCoverage);

    const comparison = compareRows(window.rows, report(baselineFile, windowFile));
    expect(comparison.differences).toEqual([]);
    // An hour's 200 values fall in grid cells of one value each, so its feature KS and Wasserstein
    // rows are exact; the score's, AUROC, average precision and the estimate are bounded.
    expect(comparison.compared).toBeGreaterThan(300);
    expect(comparison.exact).toBeGreaterThan(250);
    expect(comparison.bounded).toBeGreaterThan(5);
    expect(comparison.fitted).toBe(2);
    expect(comparison.provisional).toBe(0);
    expect(comparison.notOk).toBeGreaterThan(5);
    console.info(describeComparison('1h', comparison));
  });
});

const labelCoverage = (window: EvaluatedWindow): number => window.rows.find((row) => row.kind === 'labels' && row.metric === 'label_coverage')!.value!;

const describeComparison = (windowSize: string, comparison: Comparison): string =>
  `${windowSize} window: ${comparison.compared} rows compared (${comparison.exact} exact, largest difference ${comparison.largestExactDifference.toPrecision(2)}; ` +
  `${comparison.bounded} within their stated bound, using at most ${(100 * comparison.largestShareOfBound).toFixed(1)}% of it; ` +
  `${comparison.fitted} fitted on bins, largest difference ${comparison.largestFittedDifference.toPrecision(2)}; ${comparison.provisional} provisional; ` +
  `${comparison.straddling} with another status within their bound of a threshold), ${comparison.notOk} not ok`;

/** The export holds the window's predictions and its outcomes as the monitor counted them, and the baseline's predictions. */
function expectCountsOf(monitorRows: readonly ResultRow[], windowRows: Dataset, baselineRows: Dataset): void {
  const row = (kind: string, metric: string, feature: string | null = null) => monitorRows.find((candidate) => candidate.kind === kind && candidate.metric === metric && candidate.feature === feature && candidate.segment === null);
  expect(row('labels', 'label_coverage')?.n_current).toBe(windowRows.rowCount);
  const labelled = windowRows.labels!.filter((label) => label !== null).length;
  expect(row('labels', 'label_coverage')!.value! * windowRows.rowCount).toBeCloseTo(labelled, 6);
  expect(row('labels', 'label_delay_median_seconds')?.n_current).toBe(labelled);
  expect(row('drift', 'ks', spec.scoreColumn)?.n_reference).toBe(baselineRows.rowCount);
  expect(row('drift', 'ks', spec.scoreColumn)?.n_current).toBe(windowRows.rowCount);
  // Missing values survive the file: the monitor's missing share is the export's empty cells.
  for (const feature of spec.features.filter((candidate) => candidate.type === 'numeric')) {
    const missing = windowRows.numeric.get(feature.name)!.filter((value) => value === null).length;
    expect(row('quality', 'missing_share', feature.name)!.value! * windowRows.rowCount, feature.name).toBeCloseTo(missing, 6);
  }
}

/**
 * The monitor pools groups beyond max_groups_per_segment into `other` (poolRareGroups); a dataset
 * report does not. The simulator's segments have fewer groups than that, so no group is pooled and
 * both see the same groups.
 */
function expectNoPooling(windowRows: Dataset): void {
  for (const segment of spec.segments) {
    const groups = new Set(windowRows.categorical.get(segment)!.map((group) => group ?? MISSING_GROUP));
    expect(groups.size, segment).toBeGreaterThan(1);
    expect(groups.size, segment).toBeLessThanOrEqual(spec.monitoring.maximumGroupsPerSegment);
  }
}

describe('the exported rows, page by page', () => {
  const RULES_MODEL = 'export-rules';
  const W = Date.UTC(2026, 10, 30, 8);
  const lineage = { topic: 'test', partition: 0, offset: '0', schemaId: 1 };
  const columns = { numericFeatures: ['heart_rate', 'lactate'], categoricalFeatures: ['admission_source', 'on_antibiotics'], segments: ['site', 'sex'] };
  const prediction = (index: number, overrides: Partial<PredictionEvent> = {}): PredictionEvent =>
    samplePrediction(index, { model_id: RULES_MODEL, event_id: `rules-${index}`, prediction_id: `rules-p${index}`, occurred_at: W + index * 1000, ...overrides });
  const outcome = (index: number, observedAfterMs: number, label: OutcomeEvent['label'], suffix = ''): OutcomeEvent =>
    sampleOutcome(index, { model_id: RULES_MODEL, event_id: `rules-outcome-${index}${suffix}`, prediction_id: `rules-p${index}`, observed_at: W + observedAfterMs, label });

  it("counts each prediction once as the window cells do, whatever the page size, ties on occurred_at included", { timeout: 60_000 }, async () => {
    const predictions = [
      // Missing lactate, a boolean category; its outcome corrected later (the latest wins).
      prediction(1, { features: { heart_rate: 90, lactate: null, admission_source: 'ED', on_antibiotics: true } }),
      // A prediction_id sent twice with different content: the earliest copy is the prediction.
      prediction(2, { score: 0.2 }),
      prediction(2, { event_id: 'rules-2-again', occurred_at: W + 30_000, score: 0.9 }),
      // First sent before the window: it belongs to the earlier window, not this one.
      prediction(3, { event_id: 'rules-3-before', occurred_at: W - 60_000 }),
      prediction(3),
      // Refused whole: a numeric feature as text, a categorical one as a number, a score outside [0, 1].
      prediction(4, { features: { heart_rate: '80', lactate: 1, admission_source: 'ED', on_antibiotics: false } }),
      prediction(5, { features: { heart_rate: 80, lactate: 1, admission_source: 3, on_antibiotics: false } }),
      prediction(6, { score: 1.5 }),
      // A regression outcome is not a label.
      prediction(7),
      // Six predictions in one millisecond, so that pages end between ties.
      ...[8, 9, 10, 11, 12, 13].map((index) => prediction(index, { occurred_at: W + 42_000 })),
      // The window's bounds: its start included, its end excluded.
      prediction(14, { occurred_at: W }),
      prediction(15, { occurred_at: W + HOUR }),
      // A segment attribute not sent.
      prediction(16, { segments: { site: 'site-1' } }),
    ];
    // A replay of the same event: stored twice, read once.
    await storage.store.insert('predictions', [...predictions, predictions[0]!].map((event) => toPredictionRow(event, lineage, W + DAY)));
    await storage.store.insert(
      'outcomes',
      [outcome(1, HOUR, { kind: 'binary', value: 1 }), outcome(1, 2 * HOUR, { kind: 'binary', value: 0 }, '-corrected'), outcome(2, HOUR, { kind: 'binary', value: 1 }), outcome(7, HOUR, { kind: 'regression', value: 3.5 }), outcome(8, HOUR, { kind: 'binary', value: 1 })].map(
        (event) => toOutcomeRow(event, lineage, W + DAY),
      ),
    );
    const window = { modelId: RULES_MODEL, start: W, end: W + HOUR };
    const read = async (paging: WindowExportPaging): Promise<WindowPredictionRow[]> => {
      const rows: WindowPredictionRow[] = [];
      for await (const row of windowPredictionRows(storage.client, storage.target.database, window, columns, paging)) rows.push(row);
      return rows;
    };
    const rows = await read({});
    // In (occurred_at, prediction_id) order: p14 at the start, the others a second apart by index, p8 … p13 at W + 42 s.
    expect(rows.map((row) => row.predictionId)).toEqual(['rules-p14', 'rules-p1', 'rules-p2', 'rules-p7', 'rules-p16', ...[10, 11, 12, 13, 8, 9].map((index) => `rules-p${index}`)]);
    // Pages end between ties, and slices between the copies of one prediction_id: slices start at
    // 1 ms, 10 s or an hour, and grow after an empty one.
    for (const pageRows of [1, 2, 3, 5]) {
      for (const firstSliceMs of [1, 10_000, HOUR]) expect(await read({ pageRows, firstSliceMs }), `pages of ${pageRows}, first slice ${firstSliceMs} ms`).toEqual(rows);
    }
    const byId = new Map(rows.map((row) => [row.predictionId, row]));
    expect(byId.get('rules-p1')).toMatchObject({ numeric: [90, null], categorical: ['ED', 'true'], label: 0 });
    expect(byId.get('rules-p2')).toMatchObject({ score: 0.2, occurredAt: W + 2000, label: 1 });
    expect(byId.get('rules-p7')?.label).toBeNull();
    expect(byId.get('rules-p8')?.label).toBe(1);
    expect(byId.get('rules-p9')?.label).toBeNull();
    expect(byId.get('rules-p16')?.segments).toEqual(['site-1', null]);

    // The window cells count the same predictions and outcomes.
    const shape = { features: [...columns.numericFeatures.map((name) => ({ name, type: 'numeric' as const })), ...columns.categoricalFeatures.map((name) => ({ name, type: 'categorical' as const }))], scoreColumn: 'score', segments: columns.segments };
    const profile = fitReferenceProfile(shape, {
      numeric: (name) => rows.map((row) => row.numeric[columns.numericFeatures.indexOf(name)] ?? null),
      categorical: (name) => rows.map((row) => row.categorical[columns.categoricalFeatures.indexOf(name)] ?? null),
      scores: Float64Array.from(rows, (row) => row.score),
    });
    const { accounting } = await readWindowCells(storage.client, storage.target.database, profile, window);
    expect(accounting.predictions).toBe(rows.length);
    expect(accounting.outcomes).toBe(rows.filter((row) => row.label !== null).length);
    expect(accounting).toMatchObject({ repeatedPredictions: 2, refusedPredictions: 3, supersededOutcomes: 1, unscoredOutcomes: 1 });
  });
});

describe('vigil export on its command line', () => {
  const emptyData = join(scratch, 'no-data');

  it('lists its options on --help', () => {
    const result = vigil(['export', '--help']);
    expect(result.status).toBe(0);
    for (const text of ['Usage: vigil export [options]', '--model <id>', '--from <time>', '--to <time>', '--format <format>', '"csv", "ndjson"', '--out <file>', 'Entity keys']) expect(result.stdout).toContain(text);
  });

  it('refuses a time that is not an ISO-8601 UTC time, times out of order and an unknown model, in one line, exit 2', () => {
    const environment = { VIGIL_DATA_DIR: emptyData, VIGIL_MODELS_DIR: projectPath('infra', 'models') };
    const local = vigil(['export', '--model', MODEL, '--from', '2026-11-30T00:00:00+01:00', '--to', '2026-12-01'], environment);
    expect(local.status).toBe(2);
    expect(local.stderr).toContain("option '--from <time>' argument '2026-11-30T00:00:00+01:00' is invalid. expected an ISO-8601 date or UTC time");
    const notADate = vigil(['export', '--model', MODEL, '--from', '2026-11-30', '--to', '2026-02-30'], environment);
    expect(notADate.status).toBe(2);
    expect(notADate.stderr).toContain('"2026-02-30" is not a real date or time');
    const reversed = vigil(['export', '--model', MODEL, '--from', '2026-12-01', '--to', '2026-11-30'], environment);
    expect(reversed.status).toBe(2);
    expect(reversed.stderr).toBe('vigil export: --from (2026-12-01T00:00:00.000Z) must be before --to (2026-11-30T00:00:00.000Z)\n');
    const unknown = vigil(['export', '--model', 'no-such-model', '--from', '2026-11-30', '--to', '2026-12-01'], environment);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^vigil export: --model: no model "no-such-model" in \S+ \(models: sepsis-risk\)\n$/);
    const missing = vigil(['export', '--from', '2026-11-30', '--to', '2026-12-01'], environment);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--model <id>' not specified");
  });

  it('says there is nothing to export where nothing was stored, and leaves no data folder behind, exit 1', () => {
    const result = vigil(['export', '--model', MODEL, '--from', '2026-11-30', '--to', '2026-12-01'], { VIGIL_DATA_DIR: emptyData, VIGIL_MODELS_DIR: projectPath('infra', 'models') });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^vigil export: no Vigil tables in \S+: nothing has been stored there yet/);
    expect(existsSync(emptyData)).toBe(false);
  });
});
