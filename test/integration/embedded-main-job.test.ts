import { describe, expect, it } from 'vitest';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { loadConfig, parseTargets } from '../../services/config/vigil-config.js';
import { startVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { parseMetrics, sumMetric } from '../support/kafka-inspection.js';
import { quietLogger, waitFor } from '../support/pipeline-harness.js';
import { testStorageTarget } from '../support/test-storage.js';

describe('the main job on embedded defaults (what npm start runs)', () => {
  it('runs collector, monitor and simulator in one process over the in-process transport into embedded ClickHouse', async () => {
    const storage = testStorageTarget();
    const config = loadConfig({
      VIGIL_HTTP_PORT: '0',
      VIGIL_SIMULATOR_RATE: '400',
      VIGIL_SIMULATOR_COUNT: '1200',
      VIGIL_SIMULATOR_SEED: '11',
      VIGIL_MONITOR_INTERVAL_SECONDS: '0.5',
      CLICKHOUSE_DATABASE: storage.database,
      ...(storage.kind === 'server' ? { CLICKHOUSE_URL: storage.url } : { VIGIL_DATA_DIR: storage.dataDirectory }),
    });
    expect(config.transport.kind).toBe('in-process');
    const vigil = await startVigil(config, parseTargets('all,simulator'), quietLogger, vigilTargets);
    try {
      expect((await fetch(vigil.metricsUrl.replace(/metrics$/, 'readyz'))).status).toBe(200);
      await waitFor(async () => sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_events_stored_total', 'table="predictions"') === 1200, 30_000, '1,200 stored predictions');
      await waitFor(async () => sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_events_stored_total', 'table="outcomes"') === 1200, 30_000, 'every outcome (flushed at the end of the run)');
      await waitFor(async () => sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_monitor_evaluations_total') > 0, 30_000, 'a window evaluated by the monitor');
      const metrics = parseMetrics(await (await fetch(vigil.metricsUrl)).text());
      expect(sumMetric(metrics, 'vigil_events_rejected_total')).toBe(0);
      expect(sumMetric(metrics, 'vigil_monitor_evaluation_failures_total')).toBe(0);
      expect(sumMetric(metrics, 'vigil_events_published_total', 'predictions')).toBe(1200);
      expect(vigil.targets.map((target) => target.status()).join(' ')).toMatch(/collector stored=\d+ rejected=0 monitor sepsis-risk /);
    } finally {
      await vigil.stop();
    }
    const client = createStorageClient(storage);
    try {
      const [row] = await (
        await client.query({
          query: `SELECT count() AS rows, round(avg(score), 3) AS mean_score, countIf(length(features_missing) > 0) AS with_missing, uniqExact(model_id) AS models FROM ${storage.database}.predictions FINAL`,
          format: 'JSONEachRow',
        })
      ).json<Record<string, number | string>>();
      expect(Number(row?.rows)).toBe(1200);
      expect(Number(row?.models)).toBe(1);
      expect(Number(row?.mean_score)).toBeGreaterThan(0.02);
      expect(Number(row?.mean_score)).toBeLessThan(0.4);
      expect(Number(row?.with_missing)).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });
});
