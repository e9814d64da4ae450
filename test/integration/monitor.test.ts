import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineStore } from '../../services/adapters/clickhouse/baseline-store.js';
import { STATUS_VALUE } from '../../services/adapters/telemetry/monitor-metrics.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import { scenario as scenarioNamed, type ScenarioName } from '../../services/simulator/scenarios.js';
import type { ScheduledEvent } from '../../services/simulator/traffic-schedule.js';
import { HOUR, MODEL, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

// Simulated sepsis-risk traffic at 200 predictions per simulated hour from a fixed midnight, stored
// through the collector's row mapping, and monitor passes driven by hand with an injected clock.
// The spec is infra/models' with a monitoring section sized for 60 simulated hours: hourly and
// daily windows, a one-day trailing baseline (so day 0's windows have none), a one-day horizon.

const START = Date.UTC(2026, 0, 5);
const PREDICTIONS_PER_HOUR = 200;
const HOURS = 60;

const schedule = (scenarioName: ScenarioName): ScheduledEvent[] => simulatedTraffic({ seed: 5, startTime: START, hours: HOURS, perHour: PREDICTIONS_PER_HOUR, scenario: scenarioName });

let modelsFolder: Awaited<ReturnType<typeof testModelsFolder>>;
beforeAll(async () => {
  modelsFolder = await testModelsFolder();
});
afterAll(async () => {
  await modelsFolder.remove();
});

const rowOf = (rows: readonly ResultRow[], kind: string, metric: string, feature: string | null = null): ResultRow | undefined =>
  rows.find((row) => row.kind === kind && row.metric === metric && row.feature === feature && row.segment === null);

describe('the monitor on embedded ClickHouse', () => {
  let storage: StorageHarness;
  beforeAll(async () => {
    storage = await openTestStorage();
  });
  afterAll(async () => {
    await storage.close();
  });

  it('evaluates new and changed windows, provisional until the horizon has passed, final after', { timeout: 180_000 }, async () => {
    const events = schedule('stable');
    const firstCut = START + 36 * HOUR;
    const hourOf = (predictionId: string): number => {
      const prediction = events.find((scheduled) => scheduled.kind === 'prediction' && scheduled.event.prediction_id === predictionId);
      return Math.floor(prediction!.eventTime / HOUR) * HOUR;
    };
    // An outcome stored late whose prediction's hour is still open (provisional) at the first cut:
    // final windows are not looked at again.
    const lateOutcome = events.find((scheduled) => scheduled.kind === 'outcome' && scheduled.eventTime > firstCut && hourOf(scheduled.event.prediction_id) >= START + 12 * HOUR);
    if (lateOutcome?.kind !== 'outcome') throw new Error('the schedule has no outcome after the first cut');
    const lateWindowStart = hourOf(lateOutcome.event.prediction_id);
    await storeScheduled(storage, events.filter((scheduled) => scheduled.eventTime < firstCut), START + 36 * HOUR);
    const clock = { now: Date.UTC(2026, 1, 1) };
    const { monitor, registry, results } = monitorOn(storage, modelsFolder.directory, clock);

    const first = await monitor.runPass();
    expect(first).toEqual({ evaluated: 36 + 2, failed: 0 });
    expect(monitor.lastPassSucceeded).toBe(true);
    const hourly = await results.latest(MODEL, '1h', START, START + HOURS * HOUR);
    expect(hourly.map((window) => window.evaluation.windowStart)).toEqual(Array.from({ length: 36 }, (_, hour) => START + hour * HOUR));
    const watermark = Math.max(...events.filter((scheduled) => scheduled.kind === 'prediction' && scheduled.eventTime < firstCut).map((scheduled) => scheduled.eventTime));
    for (const { evaluation, rows } of hourly) {
      expect(evaluation.state).toBe(evaluation.windowEnd + 24 * HOUR <= watermark ? 'final' : 'provisional');
      expect(evaluation).toMatchObject({ modelVersion: '2.3.0', vigilVersion: 'test', evaluatedAt: clock.now });
      expect(evaluation.specHash).toMatch(/^[0-9a-f]{64}$/);
      expect(evaluation.baselineVersion).toMatch(/^[0-9a-f]{64}$/);
      // Day 0 has no trailing baseline; from day 1 on every window is reported on.
      if (evaluation.windowStart < START + 24 * HOUR) expect(rows).toEqual([expect.objectContaining({ metric: 'sample_size', status: 'undefined', reason: 'baseline has 0 predictions; at least 100 needed' })]);
      else expect(rows.length).toBeGreaterThan(100);
    }
    expect(hourly.filter((window) => window.evaluation.state === 'final')).toHaveLength(11);
    // Windows whose outcomes are mostly still to come report their performance as provisional.
    const lowCoverage = hourly.filter(({ rows }) => (rows.find((row) => row.metric === 'label_coverage')?.value ?? 1) < 0.8);
    expect(lowCoverage.length).toBeGreaterThan(0);
    for (const { rows } of lowCoverage) {
      for (const row of rows.filter((candidate) => candidate.kind === 'performance' && candidate.metric !== 'cbpe_auroc' && candidate.status !== 'undefined')) {
        expect(row.status).toBe('ok');
        expect(row.reason).toMatch(/^provisional: label coverage [\d.]+% is below the minimum 80%/);
      }
    }
    // Every baseline a window names is stored under that version, and reads back.
    const baselines = new BaselineStore(storage.client, storage.target.database);
    const named = new Set(hourly.map((window) => window.evaluation.baselineVersion));
    expect(new Set((await baselines.versions(MODEL)).map((baseline) => baseline.baselineVersion))).toEqual(named);
    for (const version of named) expect(await baselines.load(MODEL, version)).not.toBeNull();
    // Trailing baselines are per day: windows of one day share one, another day has another.
    expect(named.size).toBe(2);

    clock.now += 5_000;
    expect(await monitor.runPass()).toEqual({ evaluated: 0, failed: 0 });

    // One late outcome: its hourly and its daily window change, nothing else.
    const outcomesBefore = rowOf((await results.latest(MODEL, '1h', lateWindowStart, lateWindowStart + HOUR))[0]!.rows, 'performance', 'auroc')?.n_current;
    await storeScheduled(storage, [lateOutcome], START + 37 * HOUR);
    clock.now += 5_000;
    expect(await monitor.runPass()).toEqual({ evaluated: 2, failed: 0 });
    const [reevaluated] = await results.latest(MODEL, '1h', lateWindowStart, lateWindowStart + HOUR);
    expect(reevaluated!.evaluation.evaluatedAt).toBe(clock.now);
    expect(rowOf(reevaluated!.rows, 'performance', 'auroc')?.n_current).toBe((outcomesBefore ?? 0) + 1);

    // The rest of the traffic moves the watermark on: the windows it has passed by the horizon turn final.
    await storeScheduled(storage, events.filter((scheduled) => scheduled.eventTime >= firstCut && scheduled !== lateOutcome), START + 60 * HOUR);
    clock.now += 5_000;
    const third = await monitor.runPass();
    expect(third.failed).toBe(0);
    const allHourly = await results.latest(MODEL, '1h', START, START + HOURS * HOUR);
    expect(allHourly).toHaveLength(HOURS);
    const finalWatermark = Math.max(...events.filter((scheduled) => scheduled.kind === 'prediction').map((scheduled) => scheduled.eventTime));
    for (const { evaluation } of allHourly) expect(evaluation.state).toBe(evaluation.windowEnd + 24 * HOUR <= finalWatermark ? 'final' : 'provisional');
    expect(allHourly.filter((window) => window.evaluation.state === 'final')).toHaveLength(35);

    // The gauges show the rows of the newest hourly window the watermark has passed (the last one is
    // still filling), one series per row and nothing more.
    const latest = allHourly.filter((window) => window.evaluation.windowEnd <= finalWatermark).at(-1)!;
    expect(latest.evaluation.windowStart).toBe(START + (HOURS - 2) * HOUR);
    const statuses = (await registry.getSingleMetric('vigil_model_metric_status')!.get()).values.filter((sample) => sample.labels.window === '1h');
    expect(statuses).toHaveLength(latest.rows.length);
    for (const row of latest.rows) {
      const sample = statuses.find((candidate) => candidate.labels.kind === row.kind && candidate.labels.metric === row.metric && candidate.labels.feature === (row.feature ?? '') && candidate.labels.segment === (row.segment ?? '') && candidate.labels.group === (row.group ?? ''));
      expect(sample?.value, `${row.kind} ${row.metric} ${row.feature} ${row.segment} ${row.group}`).toBe(STATUS_VALUE[row.status]);
    }
    const values = (await registry.getSingleMetric('vigil_model_metric_value')!.get()).values.filter((sample) => sample.labels.window === '1h');
    expect(values).toHaveLength(latest.rows.filter((row) => row.value !== null).length);
    const windowEnd = (await registry.getSingleMetric('vigil_model_window_end_timestamp_seconds')!.get()).values.find((sample) => sample.labels.window === '1h');
    expect(windowEnd?.value).toBe(latest.evaluation.windowEnd / 1000);
    // One baseline series per model and size, naming the version the shown window was compared with.
    const baselineInfo = (await registry.getSingleMetric('vigil_model_baseline_info')!.get()).values.filter((sample) => sample.labels.window === '1h');
    expect(baselineInfo).toEqual([expect.objectContaining({ value: 1, labels: { model: MODEL, window: '1h', baseline: latest.evaluation.baselineVersion } })]);
    expect(monitor.status()).toMatch(/^monitor sepsis-risk 1h predictions=\d+ coverage=\d+% auroc=(\d\.\d{3}|\d\.\d{3} est\.|n\/a) warn=\d+ alert=\d+$/);
  });
});

describe('scenarios through the monitor', () => {
  const creatinineRows = async (scenarioName: ScenarioName) => {
    const storage = await openTestStorage();
    try {
      await storeScheduled(storage, schedule(scenarioName), START + HOURS * HOUR);
      const { monitor, results } = monitorOn(storage, modelsFolder.directory, { now: Date.UTC(2026, 1, 1) });
      expect((await monitor.runPass()).failed).toBe(0);
      const onset = START + scenarioNamed(scenarioName).onsetAfterHours * HOUR;
      return { onset, windows: await results.latest(MODEL, '1h', onset, START + HOURS * HOUR) };
    } finally {
      await storage.close();
    }
  };

  it('flags the lab unit change on the rows its scenario names, in time; stable raises no creatinine drift alert', { timeout: 180_000 }, async () => {
    const changed = await creatinineRows('lab-unit-change');
    for (const expected of scenarioNamed('lab-unit-change').detectedBy) {
      const inTime = changed.windows.filter((window) => window.evaluation.windowStart < changed.onset + expected.withinWindows * HOUR);
      expect(inTime).toHaveLength(expected.withinWindows);
      const statuses = inTime.map((window) => rowOf(window.rows, expected.kind, expected.metric, expected.feature ?? null)?.status);
      expect(statuses.some((status) => status === 'warn' || status === 'alert'), `${expected.metric}: ${statuses.join(', ')}`).toBe(true);
    }

    const stable = await creatinineRows('stable');
    expect(stable.windows).toHaveLength(HOURS - 48);
    const alerts = stable.windows.flatMap((window) => window.rows.filter((row) => row.feature === 'creatinine' && row.kind === 'drift' && row.status === 'alert').map((row) => `${window.evaluation.windowStart}: ${row.metric} ${row.reason}`));
    expect(alerts).toEqual([]);
  });
});
