import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineStore } from '../../services/adapters/clickhouse/baseline-store.js';
import { clickhouseTime } from '../../services/adapters/clickhouse/clickhouse-time.js';
import { MonitorQueries } from '../../services/adapters/clickhouse/monitor-queries.js';
import { readWindowCells } from '../../services/adapters/clickhouse/window-cells.js';
import { encodeWindowCells } from '../../services/core/monitoring/window-cells-codec.js';
import { WindowCellsStore } from '../../services/adapters/clickhouse/window-cells-store.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import type { ReferenceProfile } from '../../services/core/metrics/sketches/window-sketch.js';
import { composeSummaries, type WindowCells } from '../../services/core/monitoring/window-parts.js';
import { WindowCellsSource, type CellsRequest } from '../../services/monitor/window-cells-source.js';
import type { ScheduledEvent } from '../../services/simulator/traffic-schedule.js';
import { HOUR, MODEL, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

// Daily windows merged from the cells of their hours (the spec has 1h and 1d windows) against the
// same daily windows read whole from their events: the same rows, and the same cells. Simulated
// sepsis-risk traffic at 200 predictions per simulated hour over 60 hours, a one-day trailing
// baseline and a one-day label horizon, as in monitor.test.ts.

const START = Date.UTC(2026, 0, 5);
const DAY = 24 * HOUR;
const HOURS = 60;
const events: ScheduledEvent[] = simulatedTraffic({ seed: 7, startTime: START, hours: HOURS, perHour: 200, scenario: 'stable' });
/** Day 1: its trailing baseline is day 0, and at the first cut it is still inside the label horizon. */
const DAY_ONE = START + DAY;
const FIRST_CUT = START + 44 * HOUR;

/** Equal, but for doubles that differ by the order of additions: 1e-12 relative. */
function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    // -0 and 0 are one value here: a sum of zeros is either, whatever the order.
    if (Number.isInteger(expected) && Number.isInteger(actual)) expect(actual + 0, path).toBe(expected + 0);
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (expected instanceof Map && actual instanceof Map) {
    expect([...actual.keys()].sort(), path).toEqual([...expected.keys()].sort());
    for (const [key, value] of expected) expectClose(actual.get(key), value, `${path}.${String(key)}`);
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    expect(actual.length, `${path} length`).toBe(expected.length);
    expected.forEach((value, index) => expectClose(actual[index], value, `${path}[${index}]`));
    return;
  }
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null) {
    expect(Object.keys(actual).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

const rowKey = (row: ResultRow): string => [row.kind, row.metric, row.feature ?? '', row.segment ?? '', row.group ?? ''].join('|');
/** Rows by key; a bound stated in a reason is a figure rounded up, left out of the comparison with its value. */
const byKey = (rows: readonly ResultRow[]) => new Map(rows.map((row) => [rowKey(row), row]));

describe('windows merged from their parts', () => {
  let modelsFolder: Awaited<ReturnType<typeof testModelsFolder>>;
  let merged: StorageHarness;
  let whole: StorageHarness;
  const clock = { now: Date.UTC(2026, 1, 1) };

  beforeAll(async () => {
    modelsFolder = await testModelsFolder();
    [merged, whole] = await Promise.all([openTestStorage(), openTestStorage()]);
    for (const storage of [merged, whole]) await storeScheduled(storage, events.filter((scheduled) => scheduled.eventTime < FIRST_CUT), FIRST_CUT);
  });
  afterAll(async () => {
    await Promise.all([merged?.close(), whole?.close()]);
    await modelsFolder?.remove();
  });

  /** The profile and version of day one's baseline, as the monitor stored it. */
  async function dayOneBaseline(storage: StorageHarness): Promise<{ profile: ReferenceProfile; version: string }> {
    const [window] = await monitorOn(storage, modelsFolder.directory, clock).results.latest(MODEL, '1d', DAY_ONE, DAY_ONE + DAY);
    const version = window!.evaluation.baselineVersion;
    const profile = await new BaselineStore(storage.client, storage.target.database).load(MODEL, version);
    return { profile: profile!, version };
  }

  const sourceOn = (storage: StorageHarness) => {
    const queries = new MonitorQueries(storage.client, storage.target.database);
    return new WindowCellsSource(storage.client, queries, new WindowCellsStore(storage.client, storage.target.database), () => clock.now);
  };

  async function dayOneRequest(storage: StorageHarness, state: CellsRequest['state']): Promise<CellsRequest> {
    const { profile, version } = await dayOneBaseline(storage);
    const watermark = (await new MonitorQueries(storage.client, storage.target.database).watermark(MODEL))!;
    return { modelId: MODEL, baselineVersion: version, profile, windowSizesMs: [HOUR, DAY], sizeMs: DAY, windowStart: DAY_ONE, state, watermark, labelHorizonMs: DAY };
  }

  const readWhole = async (storage: StorageHarness, profile: ReferenceProfile): Promise<WindowCells> =>
    readWindowCells(storage.client, storage.target.database, profile, { modelId: MODEL, start: DAY_ONE, end: DAY_ONE + DAY });

  it('gives each daily window the rows of the same day read whole', { timeout: 180_000 }, async () => {
    const mergingMonitor = monitorOn(merged, modelsFolder.directory, clock, 'merging');
    const wholeMonitor = monitorOn(whole, modelsFolder.directory, clock, 'whole', undefined, false);
    expect(await mergingMonitor.monitor.runPass()).toEqual({ evaluated: 44 + 2, failed: 0 });
    expect(await wholeMonitor.monitor.runPass()).toEqual({ evaluated: 44 + 2, failed: 0 });

    const [mergedDays, wholeDays] = await Promise.all([mergingMonitor.results.latest(MODEL, '1d', START, START + 3 * DAY), wholeMonitor.results.latest(MODEL, '1d', START, START + 3 * DAY)]);
    expect(mergedDays.map(({ evaluation }) => [evaluation.windowStart, evaluation.state, evaluation.baselineVersion])).toEqual(
      wholeDays.map(({ evaluation }) => [evaluation.windowStart, evaluation.state, evaluation.baselineVersion]),
    );
    const [mergedDay, wholeDay] = [mergedDays[1]!.rows, wholeDays[1]!.rows];
    expect(mergedDay.length).toBeGreaterThan(100);
    const wholeRows = byKey(wholeDay);
    expect([...byKey(mergedDay).keys()].sort()).toEqual([...wholeRows.keys()].sort());
    for (const row of mergedDay) {
      const expected = wholeRows.get(rowKey(row))!;
      expectClose({ ...row, reason: null }, { ...expected, reason: null }, rowKey(row));
      expect(row.status, rowKey(row)).toBe(expected.status);
    }

    // The hours' cells were stored by their own evaluations, under the day's baseline (trailing, per day).
    const stored = await (
      await merged.client.query({ query: `SELECT window_size, count() AS windows FROM ${merged.target.database}.window_cells GROUP BY window_size ORDER BY window_size`, format: 'JSONEachRow' })
    ).json<{ window_size: string; windows: number | string }>();
    // The 44 hours evaluated; the 4 hours of day one without a prediction yet were read together for
    // its merge, in one query, and not stored.
    expect(stored.map((row) => [row.window_size, Number(row.windows)])).toEqual([['1h', 44]]);
  });

  it("summarises a day from its hours' summaries as it does counted whole, so its signature is one text either way", async () => {
    const queries = new MonitorQueries(merged.client, merged.target.database);
    const whole = await queries.windowSummaries(MODEL, DAY, START, START + 3 * DAY);
    const composed = composeSummaries(await queries.windowSummaries(MODEL, HOUR, START, START + 3 * DAY), DAY);
    expect(whole.length).toBe(2);
    expect(composed.map(({ parts: _parts, ...summary }) => summary)).toEqual(whole);
  });

  it("merges a day from its hours' stored cells into the cells of the day read whole, reading again only the hours still to come", async () => {
    const request = await dayOneRequest(merged, 'provisional');
    const reading = await sourceOn(merged).read(request);
    // Its last 4 hours, without a prediction yet, are read from their events in one query.
    expect(reading.parts).toEqual({ count: 24, computed: 4 });
    const expected = await readWhole(merged, request.profile);
    // Day one holds 20 hours of predictions at the cut.
    expect(reading.cells.accounting.predictions).toBe(20 * 200);
    expect(reading.cells.accounting).toEqual(expected.accounting);
    expect(reading.cells.labelDelays).toEqual(expected.labelDelays);
    expectClose(reading.cells.segmentGroups, expected.segmentGroups, 'segmentGroups');
    expectClose(reading.cells.sketch, expected.sketch, 'sketch');
  });

  it('reads again the hours whose content changed, or whose stored cells cannot be read', async () => {
    const request = await dayOneRequest(merged, 'provisional');
    // An outcome of a prediction of hour 5 of day one, stored after the cut.
    const hourFive = DAY_ONE + 5 * HOUR;
    const late = events.find((scheduled) => {
      if (scheduled.kind !== 'outcome' || scheduled.eventTime < FIRST_CUT) return false;
      const prediction = events.find((candidate) => candidate.kind === 'prediction' && candidate.event.prediction_id === scheduled.event.prediction_id)!;
      return prediction.eventTime >= hourFive && prediction.eventTime < hourFive + HOUR;
    });
    expect(late).toBeDefined();
    await storeScheduled(merged, [late!], FIRST_CUT + HOUR);
    // Hour 9's stored cells in the earlier JSON form, hour 11's cut short: they are read from the
    // events again, not trusted, and no error is raised.
    const hourEleven = await readWindowCells(merged.client, merged.target.database, request.profile, { modelId: MODEL, start: DAY_ONE + 11 * HOUR, end: DAY_ONE + 12 * HOUR });
    const truncated = Buffer.from(encodeWindowCells(request.profile, hourEleven).subarray(0, 200)).toString('base64');
    // Under the hours' current signatures, so that they are read and refused, not passed over as out of date.
    const signatures = new Map((await new MonitorQueries(merged.client, merged.target.database).windowSummaries(MODEL, HOUR, DAY_ONE, DAY_ONE + DAY)).map((hour) => [hour.windowStart, hour.signature]));
    const damaged = (hour: number, cells: string) => ({
      model_id: MODEL,
      baseline_version: request.baselineVersion,
      window_size: '1h',
      window_start: clickhouseTime(DAY_ONE + hour * HOUR),
      window_state: 'provisional',
      signature: signatures.get(DAY_ONE + hour * HOUR)!,
      evaluated_at: clickhouseTime(clock.now + 1),
      cells,
    });
    await merged.client.insert({ table: `${merged.target.database}.window_cells`, values: [damaged(9, '{"version":1,"sketch":'), damaged(11, truncated)], format: 'JSONEachRow' });
    clock.now += 10;

    const reading = await sourceOn(merged).read(request);
    // Hour 5's signature changed, hours 9 and 11 were unreadable: three hours read again, and stored,
    // beside the 4 hours still to come.
    expect(reading.parts).toEqual({ count: 24, computed: 3 + 4 });
    const expected = await readWhole(merged, request.profile);
    expect(reading.cells.accounting).toEqual(expected.accounting);
    expect(reading.cells.labelDelays).toEqual(expected.labelDelays);
    expectClose(reading.cells.sketch, expected.sketch, 'sketch');
    expect((await sourceOn(merged).read(request)).parts).toEqual({ count: 24, computed: 4 });
  });

  it('merges a final day only from cells computed once its hours were final', async () => {
    const request = await dayOneRequest(merged, 'final');
    // Every hour of day one is still inside the horizon at the cut, so its stored cells are provisional.
    const first = await sourceOn(merged).read(request);
    // The 20 hours with predictions are read as windows of their own, the 4 without in one query.
    expect(first.parts).toEqual({ count: 24, computed: 24 });
    expect((await sourceOn(merged).read(request)).parts!.computed).toBe(24);
    const expected = await readWhole(merged, request.profile);
    expect(first.cells.accounting).toEqual(expected.accounting);
  });

  it('gives a day the same cells, bit for bit, whichever of its parts were stored before, and stores every part it reads', async () => {
    const request = await dayOneRequest(whole, 'provisional');
    const stored = async () =>
      (
        await (
          await whole.client.query({ query: `SELECT window_size, count() AS windows FROM ${whole.target.database}.window_cells GROUP BY window_size ORDER BY window_size`, format: 'JSONEachRow' })
        ).json<{ window_size: string; windows: number | string }>()
      ).map((row) => [row.window_size, Number(row.windows)]);
    const bytes = (cells: WindowCells) => Buffer.from(encodeWindowCells(request.profile, cells)).toString('hex');
    // This database's monitor read every window whole: nothing is stored yet. Hours 3 and 10 are
    // stored by their own evaluations.
    expect(await stored()).toEqual([]);
    for (const hour of [3, 10]) expect((await sourceOn(whole).read({ ...request, sizeMs: HOUR, windowStart: DAY_ONE + hour * HOUR })).parts).toBeNull();
    // The 18 other hours with predictions are read as windows of their own, and stored; the 4
    // without, in one query, are not.
    const first = await sourceOn(whole).read(request);
    expect(first.parts).toEqual({ count: 24, computed: 22 });
    expect(await stored()).toEqual([['1h', 20]]);
    const again = await sourceOn(whole).read(request);
    expect(again.parts).toEqual({ count: 24, computed: 4 });
    expect(bytes(again.cells)).toBe(bytes(first.cells));
    expect(first.cells.accounting).toEqual((await readWhole(whole, request.profile)).accounting);

    // With 6-hour windows in the spec, a day is made of those, and each of them of its hours: its
    // parts are stored too, and read back they give the same cells again.
    const nested = { ...request, windowSizesMs: [HOUR, 6 * HOUR, DAY] };
    const fromHours = await sourceOn(whole).read(nested);
    expect(fromHours.parts).toEqual({ count: 4, computed: 4 });
    expect(await stored()).toEqual([['1h', 20], ['6h', 4]]);
    const fromStored = await sourceOn(whole).read(nested);
    expect(fromStored.parts).toEqual({ count: 4, computed: 0 });
    expect(bytes(fromStored.cells)).toBe(bytes(fromHours.cells));
    expect(fromStored.cells.accounting).toEqual(first.cells.accounting);
  });
});
