import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricResultsStore, type WindowEvaluation } from '../../services/adapters/clickhouse/metric-results-store.js';
import { resultRow, type ResultRow } from '../../services/core/metrics/result-row.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

const HOUR = 3_600_000;
const windowStart = Date.UTC(2026, 10, 30, 8);

function evaluation(overrides: Partial<WindowEvaluation> = {}): WindowEvaluation {
  return {
    evaluationId: randomUUID(),
    modelId: 'sepsis-risk',
    modelVersion: '2.3.0',
    windowSize: '1h',
    windowStart,
    windowEnd: windowStart + HOUR,
    state: 'provisional',
    baselineVersion: 'b3f1c0',
    specHash: '9e2a77',
    vigilVersion: '0.1.0',
    evaluatedAt: windowStart + HOUR + 60_000,
    evaluatedBy: 'monitor-0',
    ...overrides,
  };
}

const rows: ResultRow[] = [
  resultRow({ kind: 'drift', metric: 'psi', feature: 'lactate', value: 0.31, n_reference: 5_000, n_current: 812, threshold: 0.25, status: 'alert', reason: 'PSI 0.31 is above the alert threshold 0.25' }),
  resultRow({ kind: 'performance', metric: 'auroc', value: 0.8123456789012345, ci_low: 0.78, ci_high: 0.84, n_current: 400 }),
  resultRow({ kind: 'fairness', metric: 'equalized_odds_difference', segment: 'sex', status: 'undefined', reason: 'group F has 12 outcomes; at least 30 are needed' }),
  resultRow({ kind: 'performance', metric: 'sensitivity', segment: 'site', group: 'site-2', value: 0.5, p_value: null }),
];

describe('the monitor results store on real ClickHouse', () => {
  let storage: StorageHarness;
  let store: MetricResultsStore;
  beforeAll(async () => {
    storage = await openTestStorage();
    store = new MetricResultsStore(storage.client, storage.target.database);
  });
  afterAll(async () => storage?.close());

  it('gives back exactly the rows and provenance of an evaluation, nulls included', async () => {
    const first = evaluation({ modelId: 'readmission' });
    await store.record(first, rows);
    const [window] = await store.latest('readmission', '1h', windowStart, windowStart + HOUR);
    expect(window?.evaluation).toEqual(first);
    expect(new Set(window?.rows.map((row) => JSON.stringify(row)))).toEqual(new Set(rows.map((row) => JSON.stringify(row))));
  });

  it('replaces a window as a whole by its latest evaluation, rows that vanished included', async () => {
    const provisional = evaluation();
    await store.record(provisional, rows);
    const final = evaluation({ state: 'final', evaluatedAt: provisional.evaluatedAt + 7 * 24 * HOUR });
    await store.record(final, rows.slice(0, 2));
    const next = evaluation({ windowStart: windowStart + HOUR, windowEnd: windowStart + 2 * HOUR });
    await store.record(next, rows.slice(1, 2));

    const windows = await store.latest('sepsis-risk', '1h', windowStart, windowStart + 3 * HOUR);
    expect(windows.map((window) => [window.evaluation.evaluationId, window.evaluation.state, window.rows.length])).toEqual([
      [final.evaluationId, 'final', 2],
      [next.evaluationId, 'provisional', 1],
    ]);
    expect(await store.latest('sepsis-risk', '1d', windowStart, windowStart + 3 * HOUR)).toEqual([]);
  });

  it('never shows an evaluation whose record was not written: a monitor that died half-way', async () => {
    const kept = evaluation({ modelId: 'deterioration' });
    await store.record(kept, rows.slice(0, 1));
    // The rows of the next evaluation are stored, then its record fails, as when a monitor is killed.
    await storage.client.command({ query: `DETACH TABLE ${storage.target.database}.window_evaluations` });
    try {
      await expect(store.record(evaluation({ modelId: 'deterioration', evaluatedAt: kept.evaluatedAt + 1_000 }), rows)).rejects.toThrow();
    } finally {
      await storage.client.command({ query: `ATTACH TABLE ${storage.target.database}.window_evaluations` });
    }
    const [window] = await store.latest('deterioration', '1h', windowStart, windowStart + HOUR);
    expect(window?.evaluation.evaluationId).toBe(kept.evaluationId);
    expect(window?.rows).toEqual(rows.slice(0, 1));
  });
});
