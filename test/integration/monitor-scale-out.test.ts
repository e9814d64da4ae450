import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { EvaluatedWindow } from '../../services/adapters/clickhouse/metric-results-store.js';
import { MonitorMembership } from '../../services/adapters/clickhouse/monitor-membership.js';
import { ownerOf, workUnit } from '../../services/core/monitoring/work-assignment.js';
import { HOUR, MODEL, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

// One monitor, and three sharing one database, over the same stored events (simulated sepsis-risk
// traffic with a lab unit change at hour 48 of 60): the three split the model's six window sizes
// between them by rendezvous hashing over their leases, and the latest rows of every window equal
// the single monitor's. When one of the three stops, the other two take its window sizes over.
// The events are stored twice in each database, as a replay would, which changes nothing.

const START = Date.UTC(2026, 0, 5);
const HOURS = 60;
const WINDOWS = ['1h', '2h', '3h', '6h', '12h', '1d'];
const TRIO = ['vigil-0', 'vigil-1', 'vigil-2'];
// Passes here run on demand, not every few seconds: a member whose pass ends early must not see its
// lease run out while a loaded machine runs another member's long pass.
const LEASE_MS = 600_000;

/** A window's rows as comparable text, without what differs between evaluations (ids, times, who). */
const comparable = (windows: readonly EvaluatedWindow[]): string[] =>
  windows.map(({ evaluation, rows }) =>
    JSON.stringify({
      window: [evaluation.windowSize, evaluation.windowStart, evaluation.windowEnd, evaluation.state, evaluation.baselineVersion, evaluation.specHash],
      rows: [...rows].sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right))),
    }),
  );

async function allLatest(results: ReturnType<typeof monitorOn>['results']): Promise<Record<string, EvaluatedWindow[]>> {
  const latest: Record<string, EvaluatedWindow[]> = {};
  for (const size of WINDOWS) latest[size] = await results.latest(MODEL, size, START, START + HOURS * HOUR);
  return latest;
}

async function evaluators(storage: StorageHarness): Promise<Record<string, string[]>> {
  const rows = await (
    await storage.client.query({
      query: `SELECT window_size, groupUniqArray(evaluated_by) AS instances FROM ${storage.target.database}.window_evaluations GROUP BY window_size`,
      format: 'JSONEachRow',
    })
  ).json<{ window_size: string; instances: string[] }>();
  return Object.fromEntries(rows.map((row) => [row.window_size, [...row.instances].sort()]));
}

describe('monitors sharing one database', () => {
  let modelsFolder: Awaited<ReturnType<typeof testModelsFolder>>;
  let alone: StorageHarness;
  let shared: StorageHarness;
  let trio: ReturnType<typeof monitorOn>[] = [];
  beforeAll(async () => {
    modelsFolder = await testModelsFolder();
    const file = join(modelsFolder.directory, 'sepsis-risk.model.yaml');
    const spec = parse(await readFile(file, 'utf8')) as { monitoring: Record<string, unknown> };
    spec.monitoring.windows = WINDOWS;
    await writeFile(file, stringify(spec));
    const events = simulatedTraffic({ seed: 7, startTime: START, hours: HOURS, perHour: 150, scenario: 'lab-unit-change', flushOutcomes: true });
    alone = await openTestStorage();
    shared = await openTestStorage();
    for (const storage of [alone, shared]) {
      await storeScheduled(storage, events, START + HOURS * HOUR);
      await storeScheduled(storage, events, START + HOURS * HOUR + 1);
    }
  });
  afterAll(async () => {
    await alone?.close();
    await shared?.close();
    await modelsFolder?.remove();
  });

  it('split the window sizes between three monitors, and their rows equal one monitor\'s', { timeout: 240_000 }, async () => {
    const clock = { now: Date.UTC(2026, 1, 1) };
    const single = monitorOn(alone, modelsFolder.directory, clock, 'monitor-alone');
    expect(await single.monitor.join()).toBe(true);
    expect(await single.monitor.runPass()).toMatchObject({ failed: 0 });
    expect(await single.monitor.runPass()).toEqual({ evaluated: 0, failed: 0 });

    trio = TRIO.map((name) => monitorOn(shared, modelsFolder.directory, clock, name, LEASE_MS));
    for (const member of trio) expect(await member.monitor.join()).toBe(true);
    const passes = await Promise.all(trio.map((member) => member.monitor.runPass()));
    for (const pass of passes) expect(pass.failed).toBe(0);
    const again = await Promise.all(trio.map((member) => member.monitor.runPass()));
    expect(again).toEqual(TRIO.map(() => ({ evaluated: 0, failed: 0 })));

    // Each window size was evaluated by exactly the member rendezvous hashing picks, and the work
    // really was split: every member got some.
    const expected = Object.fromEntries(WINDOWS.map((size) => [size, [ownerOf(workUnit(MODEL, size), TRIO)!]]));
    expect(await evaluators(shared)).toEqual(expected);
    expect(new Set(Object.values(expected).flat())).toEqual(new Set(TRIO));
    for (const [index, member] of trio.entries()) {
      const owned = WINDOWS.filter((size) => expected[size]![0] === TRIO[index]);
      // A member shows gauges only for what it evaluates.
      const shown = (await member.registry.getSingleMetric('vigil_model_window_predictions')!.get()).values.map((sample) => String(sample.labels.window));
      expect(shown.sort()).toEqual([...owned].sort());
      expect((await member.registry.getSingleMetric('vigil_monitor_members')!.get()).values[0]?.value).toBe(3);
    }

    const one = await allLatest(single.results);
    const three = await allLatest(trio[0]!.results);
    for (const size of WINDOWS) {
      expect(one[size]!.length).toBeGreaterThan(0);
      expect(comparable(three[size]!)).toEqual(comparable(one[size]!));
    }
    // The scenario shows in the rows compared: an alert after the onset.
    expect(one['1h']!.some((window) => window.rows.some((row) => row.status === 'alert' && row.feature === 'creatinine'))).toBe(true);
  });

  it('hands a stopped monitor\'s window sizes to the others', { timeout: 120_000 }, async () => {
    expect(trio).toHaveLength(3);
    const [leaving, ...staying] = trio;
    await leaving!.monitor.leave();
    const membership = new MonitorMembership(shared.client, shared.target.database);
    expect(await membership.renew(TRIO[1]!, 30_000)).toEqual(TRIO.slice(1));

    // The sizes that belonged to the stopped monitor are evaluated again by their new owners, which
    // hold no memory of those windows; the others, unchanged, are left alone.
    const moved = WINDOWS.filter((size) => ownerOf(workUnit(MODEL, size), TRIO) === TRIO[0]);
    expect(moved.length).toBeGreaterThan(0);
    const passes = await Promise.all(staying.map((member) => member.monitor.runPass()));
    for (const pass of passes) expect(pass.failed).toBe(0);
    expect(passes.reduce((total, pass) => total + pass.evaluated, 0)).toBeGreaterThan(0);
    for (const [index, member] of staying.entries()) {
      const owned = WINDOWS.filter((size) => ownerOf(workUnit(MODEL, size), TRIO.slice(1)) === TRIO[index + 1]);
      const shown = (await member.registry.getSingleMetric('vigil_model_window_predictions')!.get()).values.map((sample) => String(sample.labels.window));
      expect(shown.sort()).toEqual([...owned].sort());
    }
    const byInstance = await evaluators(shared);
    for (const size of moved) expect(byInstance[size]).toEqual([TRIO[0], ownerOf(workUnit(MODEL, size), TRIO.slice(1))].sort());
    for (const size of WINDOWS.filter((candidate) => !moved.includes(candidate))) expect(byInstance[size]).toEqual([ownerOf(workUnit(MODEL, size), TRIO)]);
  });
});
