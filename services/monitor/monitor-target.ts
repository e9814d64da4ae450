import { packageVersion } from '../adapters/project/project-files.js';
import { MonitorMetrics } from '../adapters/telemetry/monitor-metrics.js';
import type { RunningTarget, SharedServices } from '../runtime/target-contract.js';
import { Monitor } from './monitor.js';

/** The monitor target: evaluates the models' windows from the stored events, one pass every interval. */
export async function startMonitorTarget(shared: SharedServices): Promise<RunningTarget> {
  const { config, logger } = shared;
  const monitor = new Monitor({
    client: await shared.storage(),
    database: config.storage.database,
    modelsDirectory: config.modelsDirectory,
    logger: logger.child({ target: 'monitor' }),
    metrics: new MonitorMetrics(shared.metrics.registry),
    vigilVersion: packageVersion(),
    instanceId: shared.instanceId(),
    // Long enough to outlast a slow pass between renewals; a killed monitor's work moves after it.
    leaseMs: Math.max(30_000, 6 * config.monitor.intervalMs),
  });
  // A refused first lease is logged and tried again at the first pass.
  await monitor.join();
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> = Promise.resolve();
  // The next pass is scheduled when one ends, so passes never overlap however long one takes.
  const schedule = (): void => {
    timer = setTimeout(() => {
      pass = monitor
        .runPass(stopping.signal)
        // runPass reports its failures itself; this only keeps a bug in it from ending the schedule.
        .catch((error: unknown) => logger.error({ target: 'monitor', failure: error instanceof Error ? error.name : typeof error }, 'monitor pass failed unexpectedly'))
        .then(() => {
          if (!stopping.signal.aborted) schedule();
        });
    }, config.monitor.intervalMs);
  };
  schedule();
  logger.info({ models: config.modelsDirectory, intervalMs: config.monitor.intervalMs }, 'monitor evaluating windows');
  return {
    name: 'monitor',
    readiness: [{ name: 'monitor-last-pass-succeeded', check: () => monitor.lastPassSucceeded }],
    status: () => monitor.status(),
    stop: async () => {
      stopping.abort();
      clearTimeout(timer);
      await pass;
      await monitor.leave();
    },
  };
}
