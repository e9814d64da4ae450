import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluatedWindow } from '../../services/adapters/clickhouse/metric-results-store.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import { scenario as scenarioNamed, type ExpectedDetection, type ScenarioName } from '../../services/simulator/scenarios.js';
import type { ScheduledEvent } from '../../services/simulator/traffic-schedule.js';
import { HOUR, MODEL, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage } from '../support/pipeline-harness.js';

// Every clinical drift scenario the monitor can see, played through the real Monitor on embedded
// ClickHouse: simulated sepsis-risk traffic at 300 predictions per simulated hour from a fixed
// midnight (seed 11), 72 simulated hours, so that the scenario (from hour 48) fills one whole day.
// Every outcome is stored (flushed past the last prediction), as they would all have arrived by
// the time the day is judged. The spec is infra/models' with a monitoring section sized for the
// test: hourly and daily windows, a one-day trailing baseline (day 1 for day 2, the first day of
// the scenario), a one-day horizon, at least 100 predictions per window (an hour holds 300, a day
// 7,200). rowOf matches segment and group too.

const WINDOW_MS: Record<ExpectedDetection['windowSize'], number> = { '1h': HOUR, '1d': 24 * HOUR };
const START = Date.UTC(2026, 0, 5);
const PREDICTIONS_PER_HOUR = 300;
const HOURS = 72;

/** The scenarios the monitor's rows show (lab-unit-change is played in monitor.test.ts). */
const DETECTABLE: readonly ScenarioName[] = ['population-shift', 'prevalence-shift', 'missingness-spike', 'concept-drift', 'silent-site', 'label-delay', 'assay-change'];

const schedule = (scenarioName: ScenarioName): ScheduledEvent[] =>
  simulatedTraffic({ seed: 11, startTime: START, hours: HOURS, perHour: PREDICTIONS_PER_HOUR, scenario: scenarioName, flushOutcomes: true });

let modelsFolder: Awaited<ReturnType<typeof testModelsFolder>>;
beforeAll(async () => {
  modelsFolder = await testModelsFolder();
});
afterAll(async () => {
  await modelsFolder.remove();
});

const rowOf = (rows: readonly ResultRow[], expected: ExpectedDetection): ResultRow | undefined =>
  rows.find(
    (row) =>
      row.kind === expected.kind &&
      row.metric === expected.metric &&
      row.feature === (expected.feature ?? null) &&
      row.segment === (expected.segment ?? null) &&
      row.group === (expected.group ?? null),
  );

const describeRow = (expected: ExpectedDetection): string => [expected.kind, expected.metric, expected.feature, expected.segment, expected.group, expected.windowSize].filter((part) => part !== undefined).join(' ');

/** One window's row, as `start: value status`, for the failure message. */
const showRow = (window: EvaluatedWindow, row: ResultRow | undefined): string =>
  `${new Date(window.evaluation.windowStart).toISOString().slice(5, 16)}: ${row === undefined ? 'no row' : `${row.value?.toPrecision(3) ?? 'n/a'} ${row.status}${row.status === 'undefined' ? ` (${row.reason})` : ''}`}`;

/** Stores the scenario's traffic in a database of its own, runs one monitor pass, and returns its windows of each size from the onset on. */
async function played(scenarioName: ScenarioName): Promise<{ onset: number; windows: Record<ExpectedDetection['windowSize'], EvaluatedWindow[]> }> {
  const storage = await openTestStorage();
  try {
    await storeScheduled(storage, schedule(scenarioName), START + HOURS * HOUR);
    const { monitor, results } = monitorOn(storage, modelsFolder.directory, { now: Date.UTC(2026, 1, 1) });
    expect(await monitor.runPass()).toMatchObject({ failed: 0 });
    const onset = START + scenarioNamed(scenarioName).onsetAfterHours * HOUR;
    const end = START + HOURS * HOUR;
    return { onset, windows: { '1h': await results.latest(MODEL, '1h', onset, end), '1d': await results.latest(MODEL, '1d', onset, end) } };
  } finally {
    await storage.close();
  }
}

describe('clinical drift scenarios through the monitor', () => {
  for (const name of DETECTABLE) {
    it(`flags ${name} on the rows its scenario names, within its windows`, { timeout: 60_000 }, async () => {
      const { onset, windows } = await played(name);
      const { detectedBy } = scenarioNamed(name);
      expect(detectedBy.length).toBeGreaterThan(0);
      for (const expected of detectedBy) {
        const inTime = windows[expected.windowSize].filter((window) => window.evaluation.windowStart < onset + expected.withinWindows * WINDOW_MS[expected.windowSize]);
        expect(inTime, describeRow(expected)).toHaveLength(expected.withinWindows);
        const rows = inTime.map((window) => rowOf(window.rows, expected));
        const shown = inTime.map((window, index) => showRow(window, rows[index])).join('; ');
        expect(rows.some((row) => row?.status === 'warn' || row?.status === 'alert'), `${name}: ${describeRow(expected)}: ${shown}`).toBe(true);
      }
    });
  }

  it('raises no alert on any of those rows under stable, over the same span', { timeout: 60_000 }, async () => {
    const { windows } = await played('stable');
    expect(windows['1h']).toHaveLength(HOURS - 48);
    expect(windows['1d']).toHaveLength(1);
    const alerts: string[] = [];
    for (const name of DETECTABLE) {
      for (const expected of scenarioNamed(name).detectedBy) {
        for (const window of windows[expected.windowSize]) {
          const row = rowOf(window.rows, expected);
          expect(row, `${describeRow(expected)} at ${window.evaluation.windowStart}`).toBeDefined();
          if (row?.status === 'alert') alerts.push(`${name}: ${describeRow(expected)}: ${showRow(window, row)}`);
        }
      }
    }
    expect(alerts).toEqual([]);
  });
});
