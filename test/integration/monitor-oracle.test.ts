import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import avro from 'avsc';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import type { EvaluatedWindow, MetricResultsStore } from '../../services/adapters/clickhouse/metric-results-store.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { STATUS_VALUE } from '../../services/adapters/telemetry/monitor-metrics.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import { loadConfig } from '../../services/config/vigil-config.js';
import type { Monitor } from '../../services/monitor/monitor.js';
import { startVigil, type RunningVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { ForeignProducer } from '../support/foreign-producer.js';
import { groupCaughtUp, parseMetrics } from '../support/kafka-inspection.js';
import { monitorOn } from '../support/monitor-harness.js';
import { kafkaCollectorEnvironment, quietLogger, uniqueTopics, waitFor, type StorageHarness } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';

// Three days of a ward-deterioration model's traffic written by test/oracles/monitor_window_oracle.py
// (site-b's lactate reads three times too high from the third day on; outcomes arrive up to 22 h
// late, some never), published to Kafka by a producer that shares no code with Vigil, stored by
// Vigil's collector and evaluated by its monitor. Every result row of every 6 h and 1 d window is
// held to what scipy, scikit-learn, statsmodels and fairlearn computed on that window's events,
// first with the outcomes observed before the end of the traffic, then with the rest.

interface ExpectedRow {
  value: number | null;
  p_value?: number | null;
  ci_low?: number | null;
  ci_high?: number | null;
  n_current?: number;
  n_reference?: number;
  threshold?: number | null;
  /** Volume rows: the baseline's share of the group times the window's predictions. */
  expectedCount?: number;
  /** KS rows: [offset δ, kstwo.sf(D + δ), kstwo.sf(D − δ)] at the window's effective sample size. */
  ksPValueBands?: [number, number, number][];
}

interface ExpectedStage {
  predictions: number;
  outcomes: number;
  driftDecisions: Record<string, { significant: boolean; adjustedPValue: number; status: 'ok' | 'warn' | 'alert' }>;
  /** By `kind|metric|feature|segment|group`, empty where the row has none. */
  rows: Record<string, ExpectedRow>;
}

interface ExpectedWindow {
  size: '6h' | '1d';
  start: number;
  end: number;
  state: 'provisional' | 'final';
  shifted: boolean;
  stages: Record<'first' | 'second', ExpectedStage>;
}

interface Fixture {
  versions: Record<string, string>;
  modelId: string;
  modelVersion: string;
  spec: string;
  start: number;
  end: number;
  cut: number;
  watermark: number;
  shiftedFeature: string;
  baseline: { from: number; to: number; rows: number };
  predictionColumns: string[];
  predictions: (string | number | null)[][];
  outcomeColumns: string[];
  outcomes: (string | number)[][];
  replays: { predictions: string[]; outcomes: string[] };
  windows: ExpectedWindow[];
}

const fixturePath = (name: string): string => projectPath('test', 'fixtures', 'oracles', name);
const fixture = JSON.parse(readFileSync(fixturePath('monitor-window.json'), 'utf8')) as Fixture;
const MODEL = fixture.modelId;
const THRESHOLD = 0.3;
const FEATURES = ['heart_rate', 'lactate', 'creatinine', 'age', 'admission_source'];
const SEGMENTS = ['site', 'sex'];

/**
 * Tolerances.
 * - Rows the sketches give exactly (counts, shares, binned divergences, chi-square, Brier, log loss,
 *   ECE, O/E, rates at the threshold, their Wilson intervals, fairness differences): 1e-9
 *   relative, as the unit tests hold the same formulas to scipy; only the order of floating-point
 *   additions differs. Zeros: 1e-14 absolute.
 * - KS, Wasserstein (plain and normalised), AUROC, average precision and the label delays' median
 *   and 90th percentile: within the bound the row states in its reason ("from the window's sketches, within X of the exact value", or
 *   "exactly"), plus the same 1e-9 relative for rounding.
 * - The KS p-value is the asymptotic one of the sketched statistic with exact sample sizes, and
 *   falls as the statistic grows, so it must lie between scipy's kstwo.sf at D + δ and at D − δ,
 *   δ the smallest tabulated offset at least the stated bound (1e-9 relative beyond, as
 *   kolmogorov.test.ts holds kstwo.sf; 1e-290 absolute where scipy underflows below 1e-280).
 * - Chi-square and volume p-values come from exact counts: 1e-9 relative, as above.
 * - Calibration intercept and slope are fitted on the score bins and their rows state no bound:
 *   0.002 absolute, the figure the README gives for them.
 */
const RELATIVE = 1e-9;
const ABSOLUTE = 1e-14;
const BINNED_FIT = 0.002;
const UNDERFLOW_REGION = 1e-280;
const BOUNDED_METRICS = new Set(['ks', 'wasserstein', 'wasserstein_norm', 'auroc', 'average_precision', 'label_delay_median_seconds', 'label_delay_p90_seconds']);
/** Rows the monitor writes that no oracle here computes: CBPE's estimate needs nannyml. */
const NOT_COMPARED = new Set(['performance|cbpe_auroc|||']);

const rowKey = (row: Pick<ResultRow, 'kind' | 'metric' | 'feature' | 'segment' | 'group'>): string =>
  [row.kind, row.metric, row.feature ?? '', row.segment ?? '', row.group ?? ''].join('|');

const close = (actual: number, expected: number, tolerance = 0): boolean =>
  Math.abs(actual - expected) <= tolerance + Math.max(RELATIVE * Math.abs(expected), ABSOLUTE);

const pValueClose = (actual: number, expected: number): boolean =>
  expected < UNDERFLOW_REGION ? Math.abs(actual - expected) <= 1e-290 : Math.abs(actual - expected) <= RELATIVE * expected;

/** The bound a row from sketches states, or undefined when its reason states none. */
function statedBound(reason: string | null): number | undefined {
  const match = /from the window's sketches, (?:(exactly)|within ([0-9.e+-]+) of the exact value)/.exec(reason ?? '');
  if (match === null) return undefined;
  return match[1] !== undefined ? 0 : Number(match[2]);
}

/** Every disagreement between a window's stored rows and the oracle's, as readable lines. */
function disagreements(actualRows: readonly ResultRow[], expected: ExpectedStage): string[] {
  const problems: string[] = [];
  const actual = new Map(actualRows.map((row) => [rowKey(row), row]));
  for (const key of actual.keys()) if (!(key in expected.rows) && !NOT_COMPARED.has(key)) problems.push(`${key}: written by the monitor, not by the oracle`);
  for (const [key, want] of Object.entries(expected.rows)) {
    const row = actual.get(key);
    if (row === undefined) {
      problems.push(`${key}: missing`);
      continue;
    }
    const wrong = (what: string, got: unknown, wanted: unknown, detail = ''): void => {
      problems.push(`${key}: ${what} ${String(got)}, oracle ${String(wanted)}${detail}`);
    };
    if (want.value === null) {
      if (row.value !== null || row.status !== 'undefined') wrong('value', `${row.value} (${row.status})`, 'undefined');
      continue;
    }
    if (row.value === null) {
      wrong('value', `null (${row.status}: ${row.reason})`, want.value);
      continue;
    }
    const metric = key.split('|')[1]!;
    const bound = statedBound(row.reason);
    if (BOUNDED_METRICS.has(metric)) {
      if (bound === undefined) wrong('stated bound', row.reason, 'a bound');
      else if (!close(row.value, want.value, bound)) wrong('value', row.value, want.value, ` (off by ${Math.abs(row.value - want.value)}, stated bound ${bound})`);
    } else if (metric === 'calibration_intercept' || metric === 'calibration_slope') {
      if (!close(row.value, want.value, BINNED_FIT)) wrong('value', row.value, want.value, ` (off by ${Math.abs(row.value - want.value)})`);
    } else if (!close(row.value, want.value)) {
      wrong('value', row.value, want.value, ` (relative error ${Math.abs(row.value - want.value) / Math.abs(want.value)})`);
    }

    if (want.ksPValueBands !== undefined) {
      const band = want.ksPValueBands.find(([offset]) => offset >= (bound ?? Infinity));
      if (band === undefined) wrong('KS bound', bound, `at most ${want.ksPValueBands.at(-1)![0]}`);
      else if (row.p_value === null) wrong('p-value', null, `in [${band[1]}, ${band[2]}]`);
      else {
        const [, low, high] = band;
        const inside = (row.p_value >= low && row.p_value <= high) || pValueClose(row.p_value, low) || pValueClose(row.p_value, high);
        if (!inside) wrong('p-value', row.p_value, `in [${low}, ${high}] (D ± ${band[0]})`);
      }
    } else if (want.p_value !== undefined) {
      if (want.p_value === null) {
        if (row.p_value !== null) wrong('p-value', row.p_value, null);
      } else if (row.p_value === null || !pValueClose(row.p_value, want.p_value)) wrong('p-value', row.p_value, want.p_value);
    }
    for (const interval of ['ci_low', 'ci_high'] as const) {
      const wanted = want[interval];
      if (wanted === undefined) continue;
      const got = row[interval];
      if (wanted === null ? got !== null : got === null || !close(got, wanted)) wrong(interval, got, wanted);
    }
    if (want.threshold !== undefined) {
      const got = row.threshold;
      if (want.threshold === null ? got !== null : got === null || !close(got, want.threshold)) wrong('threshold', got, want.threshold);
    }
    if (want.n_current !== undefined && row.n_current !== want.n_current) wrong('n_current', row.n_current, want.n_current);
    if (want.n_reference !== undefined && row.n_reference !== want.n_reference) wrong('n_reference', row.n_reference, want.n_reference);
    if (want.expectedCount !== undefined && (row.n_reference === null || Math.abs(row.n_reference - want.expectedCount) > 0.5)) wrong('n_reference', row.n_reference, `${want.expectedCount} rounded`);
  }
  return problems;
}

/** Statuses the oracle decides too: the drift tests (Benjamini-Hochberg, then the KS bounds) and label coverage. */
function statusDisagreements(window: ExpectedWindow, rows: readonly ResultRow[], expected: ExpectedStage): string[] {
  const problems: string[] = [];
  for (const [feature, decision] of Object.entries(expected.driftDecisions)) {
    const metric = feature === 'admission_source' ? 'chi_square' : 'ks';
    const row = rows.find((candidate) => candidate.kind === 'drift' && candidate.metric === metric && candidate.feature === feature);
    if (row?.status !== decision.status) problems.push(`drift ${metric} ${feature}: status ${row?.status} (${row?.reason}), oracle ${decision.status} (adjusted p ${decision.adjustedPValue})`);
  }
  const coverage = rows.find((row) => row.metric === 'label_coverage');
  if (window.state === 'provisional' && (coverage?.status !== 'ok' || coverage.reason !== 'provisional: outcomes may still arrive')) {
    problems.push(`label_coverage of a provisional window: ${coverage?.status} ${coverage?.reason}`);
  }
  if (window.state === 'final' && coverage?.status !== (expected.outcomes / expected.predictions < 0.8 ? 'warn' : 'ok')) problems.push(`label_coverage: status ${coverage?.status}`);
  return problems;
}

/** Prediction and outcome records as the Avro schemas want them, from the fixture's arrays. */
function avroRecords() {
  const column = (columns: string[], name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`the fixture has no column ${name}`);
    return index;
  };
  const p = (name: string): number => column(fixture.predictionColumns, name);
  const predictions = fixture.predictions.map((values) => {
    const predictionId = values[p('prediction_id')] as string;
    const score = values[p('score')] as number;
    return {
      event_id: `${predictionId}-prediction`,
      model_id: MODEL,
      model_version: fixture.modelVersion,
      prediction_id: predictionId,
      occurred_at: values[p('occurred_at')] as number,
      entity_key: `enc-${predictionId}`,
      features: Object.fromEntries(FEATURES.map((name) => [name, values[p(name)]])),
      score,
      predicted_label: score >= THRESHOLD ? 1 : 0,
      decision_threshold: THRESHOLD,
      segments: Object.fromEntries(SEGMENTS.map((name) => [name, values[p(name)] as string])),
      producer: { service: 'ward-inference', request_id: null },
      input_hash: null,
    };
  });
  const o = (name: string): number => column(fixture.outcomeColumns, name);
  const outcomes = fixture.outcomes.map((values) => ({
    event_id: values[o('event_id')] as string,
    model_id: MODEL,
    prediction_id: values[o('prediction_id')] as string,
    observed_at: values[o('observed_at')] as number,
    label: { int: values[o('label')] as number },
    source: 'ehr-adjudication',
  }));
  return { predictions, outcomes };
}

const windowsOf = (size: string): ExpectedWindow[] => fixture.windows.filter((window) => window.size === size);

describe('the monitor against scipy, scikit-learn and fairlearn on Kafka-delivered events', () => {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const storageTarget = testStorageTarget();
  const group = uniqueName('group');
  const { predictions, outcomes } = avroRecords();
  const firstBurst = outcomes.filter((outcome) => outcome.observed_at < fixture.cut);
  const secondBurst = outcomes.filter((outcome) => outcome.observed_at >= fixture.cut);
  const clock = { now: Date.UTC(2026, 2, 6) };
  let vigil: RunningVigil;
  let producer: ForeignProducer;
  let client: ClickHouseClient;
  let modelsDirectory: string;
  let monitor: Monitor;
  let registry: Registry;
  let results: MetricResultsStore;
  let schemaIds: { prediction: number; outcome: number };
  let firstPass: Map<string, EvaluatedWindow>;
  const predictionType = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
  const outcomeType = avro.Type.forSchema(ForeignProducer.schemaFile('outcome-event.avsc') as avro.Schema);

  const publish = async (burst: { predictions: typeof predictions; outcomes: typeof outcomes }): Promise<void> => {
    // Predictions first, then the outcomes that resolve them.
    await producer.send(topics.predictions, burst.predictions.map((event) => ({ key: event.prediction_id, value: ForeignProducer.frame(schemaIds.prediction, predictionType, event) })));
    await producer.send(topics.outcomes, burst.outcomes.map((event) => ({ key: event.prediction_id, value: ForeignProducer.frame(schemaIds.outcome, outcomeType, event) })));
  };
  const stored = async (expected: { predictions: number; outcomes: number }): Promise<void> => {
    const store = new EventStore(client, storageTarget);
    await waitFor(
      async () =>
        (await groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions, topics.outcomes])) &&
        (await store.count('predictions')) === expected.predictions &&
        (await store.count('outcomes')) === expected.outcomes,
      30_000,
      'the collector to store and commit every published event',
    );
  };
  /** Passes until one finds nothing to evaluate; returns how many windows were evaluated. */
  const evaluate = async (): Promise<number> => {
    let evaluated = 0;
    for (let pass = 0; pass < 5; pass++) {
      clock.now += 5_000;
      const report = await monitor.runPass();
      expect(report.failed).toBe(0);
      if (report.evaluated === 0) return evaluated;
      evaluated += report.evaluated;
    }
    throw new Error('the monitor kept finding windows to evaluate');
  };
  const latest = async (window: ExpectedWindow): Promise<EvaluatedWindow> => {
    const found = await results.latest(MODEL, window.size, window.start, window.start + 1);
    expect(found, `${window.size} window at ${new Date(window.start).toISOString()}`).toHaveLength(1);
    return found[0]!;
  };
  const label = (window: ExpectedWindow): string => `${window.size} ${new Date(window.start).toISOString()}`;

  const expectRowsMatchOracle = async (stage: 'first' | 'second'): Promise<Map<string, EvaluatedWindow>> => {
    const byWindow = new Map<string, EvaluatedWindow>();
    const problems: string[] = [];
    const baselineVersions = new Set<string>();
    for (const window of fixture.windows) {
      const evaluated = await latest(window);
      byWindow.set(label(window), evaluated);
      baselineVersions.add(evaluated.evaluation.baselineVersion);
      expect(evaluated.evaluation, label(window)).toMatchObject({ windowEnd: window.end, state: window.state, modelVersion: fixture.modelVersion });
      const expected = window.stages[stage];
      problems.push(...[...disagreements(evaluated.rows, expected), ...statusDisagreements(window, evaluated.rows, expected)].map((problem) => `${label(window)}: ${problem}`));
    }
    expect(problems).toEqual([]);
    // One fixed production range: every window is compared with the same stored baseline.
    expect(baselineVersions.size).toBe(1);
    return byWindow;
  };

  /** The gauges show, per size, the newest window the watermark has passed: each row once, as stored. */
  const expectGaugesMatchTable = async (stage: 'first' | 'second'): Promise<void> => {
    const samples = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    const statuses = await samples('vigil_model_metric_status');
    const values = await samples('vigil_model_metric_value');
    for (const size of ['6h', '1d']) {
      const shownWindow = windowsOf(size).filter((window) => window.end <= fixture.watermark).at(-1)!;
      const { rows } = await latest(shownWindow);
      const expected = shownWindow.stages[stage];
      const sizeStatuses = statuses.filter((sample) => sample.labels.window === size && sample.labels.model === MODEL);
      const sizeValues = values.filter((sample) => sample.labels.window === size && sample.labels.model === MODEL);
      expect(sizeStatuses).toHaveLength(rows.length);
      expect(sizeValues).toHaveLength(rows.filter((row) => row.value !== null).length);
      const labelKey = (labels: Record<string, string | number | undefined>): string => [labels.kind, labels.metric, labels.feature, labels.segment, labels.group].join('|');
      const statusByKey = new Map(sizeStatuses.map((sample) => [labelKey(sample.labels), sample.value]));
      const valueByKey = new Map(sizeValues.map((sample) => [labelKey(sample.labels), sample.value]));
      for (const row of rows) {
        expect(statusByKey.get(rowKey(row)), `${size} ${rowKey(row)} status`).toBe(STATUS_VALUE[row.status]);
        expect(valueByKey.get(rowKey(row)), `${size} ${rowKey(row)} value`).toBe(row.value ?? undefined);
      }
      const windowGauge = async (name: string): Promise<number | undefined> => (await samples(name)).find((sample) => sample.labels.window === size && sample.labels.model === MODEL)?.value;
      const coverageRow = rows.find((row) => row.kind === 'labels' && row.metric === 'label_coverage')!;
      expect(await windowGauge('vigil_model_window_predictions')).toBe(expected.predictions);
      expect(await windowGauge('vigil_model_window_outcomes')).toBe(expected.outcomes);
      expect(await windowGauge('vigil_model_label_coverage_ratio')).toBe(coverageRow.value);
      expect(coverageRow.value).toBe(expected.outcomes / expected.predictions);
      expect(coverageRow.n_current).toBe(expected.predictions);
      expect(await windowGauge('vigil_model_window_end_timestamp_seconds')).toBe(shownWindow.end / 1000);
    }
  };

  beforeAll(async () => {
    vigil = await startVigil(loadConfig(kafkaCollectorEnvironment({ endpoints, topics, group, instanceId: uniqueName('oracle'), storage: storageTarget, httpPort: 0 })), ['collector'], quietLogger, vigilTargets);
    producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
    schemaIds = {
      prediction: await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc')),
      outcome: await producer.register(`${topics.outcomes}-value`, ForeignProducer.schemaFile('outcome-event.avsc')),
    };
    client = createStorageClient(storageTarget);
    modelsDirectory = await mkdtemp(join(tmpdir(), 'vigil-monitor-oracle-'));
    await copyFile(fixturePath(fixture.spec), join(modelsDirectory, fixture.spec));
    const storage: StorageHarness = { target: storageTarget, client, store: new EventStore(client, storageTarget), close: async () => {} };
    ({ monitor, registry, results } = monitorOn(storage, modelsDirectory, clock));
  });
  afterAll(async () => {
    await producer?.close();
    await vigil?.stop();
    await client?.command({ query: `DROP DATABASE IF EXISTS ${storageTarget.database}` });
    await client?.close();
    if (modelsDirectory !== undefined) await rm(modelsDirectory, { recursive: true, force: true });
  });

  it('stores every prediction and the outcomes observed before the end of the traffic, nothing dead-lettered', { timeout: 60_000 }, async () => {
    await publish({ predictions, outcomes: firstBurst });
    await stored({ predictions: predictions.length, outcomes: firstBurst.length });
    const samples = parseMetrics(await (await fetch(vigil.metricsUrl)).text());
    const rejected = [...samples].filter(([name]) => name.startsWith('vigil_events_rejected_total')).reduce((sum, [, value]) => sum + value, 0);
    expect(rejected).toBe(0);
  });

  it(`evaluates every window as the oracle does (scipy ${fixture.versions.scipy}, scikit-learn ${fixture.versions['scikit-learn']}, fairlearn ${fixture.versions.fairlearn})`, { timeout: 60_000 }, async () => {
    expect(await evaluate()).toBe(fixture.windows.length);
    firstPass = await expectRowsMatchOracle('first');
    // The shift at one site shows in the population's lactate from the day it starts, not before.
    for (const window of fixture.windows) {
      const ks = firstPass.get(label(window))!.rows.find((row) => row.kind === 'drift' && row.metric === 'ks' && row.feature === fixture.shiftedFeature)!;
      expect(ks.status === 'warn' || ks.status === 'alert', `${label(window)} lactate ks ${ks.value} ${ks.status}`).toBe(window.shifted);
    }
    // The last windows are still short of outcomes: their label coverage is below the minimum.
    const lastWindow = windowsOf('6h').at(-1)!;
    expect(lastWindow.stages.first.outcomes / lastWindow.stages.first.predictions).toBeLessThan(0.8);
  });

  it('shows the newest closed window of each size in the gauges, row for row as in metric_results', async () => {
    await expectGaugesMatchTable('first');
  });

  it('re-evaluates the open windows whose outcomes arrive late (and whose events are replayed) to the oracle\'s new values; final windows stay as they were', { timeout: 60_000 }, async () => {
    const replayedPredictions = new Set(fixture.replays.predictions);
    const replayedOutcomes = new Set(fixture.replays.outcomes);
    await publish({
      predictions: predictions.filter((event) => replayedPredictions.has(event.prediction_id)),
      outcomes: [...outcomes.filter((event) => replayedOutcomes.has(event.event_id)), ...secondBurst],
    });
    await stored({ predictions: predictions.length, outcomes: outcomes.length });
    expect(await evaluate()).toBeGreaterThan(0);
    const secondPass = await expectRowsMatchOracle('second');

    let grown = 0;
    for (const window of fixture.windows) {
      const before = firstPass.get(label(window))!;
      const after = secondPass.get(label(window))!;
      const coverage = (evaluated: EvaluatedWindow): number | null => evaluated.rows.find((row) => row.metric === 'label_coverage')!.value;
      if (window.state === 'final') expect(after.evaluation.evaluationId, `${label(window)} is final`).toBe(before.evaluation.evaluationId);
      if (window.stages.second.outcomes > window.stages.first.outcomes) {
        grown += 1;
        expect(after.evaluation.evaluatedAt).toBeGreaterThan(before.evaluation.evaluatedAt);
        expect(coverage(after)!).toBeGreaterThan(coverage(before)!);
      }
    }
    expect(grown).toBeGreaterThanOrEqual(4);
  });

  it('then shows the re-evaluated windows in the gauges, row for row', async () => {
    await expectGaugesMatchTable('second');
  });
});
