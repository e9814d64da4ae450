import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import { toOutcomeRow, toPredictionRow, type EventLineage } from '../../services/adapters/clickhouse/event-store.js';
import { MetricResultsStore } from '../../services/adapters/clickhouse/metric-results-store.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { MonitorMetrics } from '../../services/adapters/telemetry/monitor-metrics.js';
import { Monitor } from '../../services/monitor/monitor.js';
import { scenario, type ScenarioName } from '../../services/simulator/scenarios.js';
import { trafficSchedule, type ScheduledEvent } from '../../services/simulator/traffic-schedule.js';
import { quietLogger, type StorageHarness } from './pipeline-harness.js';

export const HOUR = 3_600_000;
export const MODEL = 'sepsis-risk';
const LINEAGE: EventLineage = { topic: 'test', partition: 0, offset: '0', schemaId: 1 };

/** Simulated sepsis-risk traffic from `startTime`, one simulated hour per `perHour` predictions. */
export function simulatedTraffic(options: { seed: number; startTime: number; hours: number; perHour: number; scenario: ScenarioName; flushOutcomes?: boolean }): ScheduledEvent[] {
  return [
    ...trafficSchedule({
      seed: options.seed,
      startTime: options.startTime,
      count: options.hours * options.perHour,
      predictionsPerSecond: options.perHour,
      flushOutcomes: options.flushOutcomes ?? false,
      scenario: scenario(options.scenario),
    }),
  ];
}

/** Stores scheduled events through the collector's own row mapping. */
export async function storeScheduled(storage: StorageHarness, events: readonly ScheduledEvent[], ingestedAt: number): Promise<void> {
  const predictions = events.flatMap((scheduled) => (scheduled.kind === 'prediction' ? [toPredictionRow(scheduled.event, LINEAGE, ingestedAt)] : []));
  const outcomes = events.flatMap((scheduled) => (scheduled.kind === 'outcome' ? [toOutcomeRow(scheduled.event, LINEAGE, ingestedAt)] : []));
  await storage.store.insert('predictions', predictions);
  await storage.store.insert('outcomes', outcomes);
}

/**
 * A models folder holding infra/models' sepsis-risk spec with a monitoring section sized for a few
 * simulated days: hourly and daily windows, a one-day trailing baseline, a one-day label horizon.
 */
export async function testModelsFolder(): Promise<{ directory: string; remove(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'vigil-monitor-test-'));
  const spec = parse(await readFile(projectPath('infra', 'models', 'sepsis-risk.model.yaml'), 'utf8')) as Record<string, unknown>;
  spec.monitoring = { windows: ['1h', '1d'], baseline: { trailing: { length: '1d' } }, label_horizon: '1d', min_window_size: 100, min_label_coverage: 0.8, max_groups_per_segment: 10 };
  await writeFile(join(directory, 'sepsis-risk.model.yaml'), stringify(spec));
  return { directory, remove: () => rm(directory, { recursive: true, force: true }) };
}

/** A monitor over the storage and models folder, with an injected clock and a registry of its own. */
export function monitorOn(storage: StorageHarness, modelsDirectory: string, clock: { now: number }, instanceId = 'monitor-test', leaseMs?: number, composeWindows?: boolean) {
  const registry = new Registry();
  const monitor = new Monitor({
    client: storage.client,
    database: storage.target.database,
    modelsDirectory,
    logger: quietLogger,
    metrics: new MonitorMetrics(registry),
    vigilVersion: 'test',
    instanceId,
    now: () => clock.now,
    maximumEvaluationsPerPass: 1000,
    leaseMs,
    composeWindows,
  });
  return { monitor, registry, results: new MetricResultsStore(storage.client, storage.target.database) };
}
