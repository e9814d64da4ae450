import { describe, expect, it } from 'vitest';
import { DependencyHealth } from '../../../services/adapters/telemetry/dependency-health.js';
import { PipelineMetrics } from '../../../services/adapters/telemetry/pipeline-metrics.js';
import { capturingLogger } from '../../support/captured-logs.js';

async function gaugeValue(metrics: PipelineMetrics, dependency: string): Promise<number | undefined> {
  return (await metrics.dependencyUp.get()).values.find((sample) => sample.labels.dependency === dependency)?.value;
}

describe('dependency health', () => {
  it('logs one line when a dependency goes down and one when it is back, however many attempts fail', async () => {
    const metrics = new PipelineMetrics();
    const { logger, lines } = capturingLogger();
    let now = 1_000;
    const health = new DependencyHealth('storage', metrics.dependencyUp, logger, () => now);
    expect(health.isUp).toBe(true);
    expect(await gaugeValue(metrics, 'storage')).toBe(1);

    for (let attempt = 0; attempt < 50; attempt++) health.markDown('ClickHouse error UNKNOWN_TABLE (code 60)');
    expect(health.isUp).toBe(false);
    expect(await gaugeValue(metrics, 'storage')).toBe(0);
    now = 31_000;
    for (let attempt = 0; attempt < 5; attempt++) health.markUp();

    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => line.msg)).toEqual([
      'storage unavailable; retrying with back-off, committing nothing',
      'storage available again',
    ]);
    expect(lines[1]).toMatchObject({ dependency: 'storage', downForMs: 30_000, failedAttempts: 50 });
    expect(health.isUp).toBe(true);
    expect(await gaugeValue(metrics, 'storage')).toBe(1);
  });
});
