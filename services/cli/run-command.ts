import type { Logger } from 'pino';
import type { Target, VigilConfig } from '../config/vigil-config.js';
import { describeConfig } from '../config/vigil-config.js';
import { describeStorage } from '../adapters/clickhouse/storage-client.js';
import { startVigil } from '../runtime/vigil-runtime.js';
import { vigilTargets } from '../runtime/vigil-targets.js';

const STATUS_INTERVAL_MS = 5_000;

/**
 * `vigil run`: starts the targets, prints a status line every few seconds, stops cleanly on
 * SIGTERM/SIGINT, and stops with exit code 1 when a target fails for good, so that whatever
 * supervises the process restarts it.
 */
export async function runCommand(config: VigilConfig, targets: Target[], logger: Logger): Promise<number> {
  logger.info({ config: describeConfig(config) }, 'configuration');
  const vigil = await startVigil(config, targets, logger, vigilTargets);
  const transport = config.transport.kind === 'kafka' ? `Kafka ${config.transport.brokers.join(',')}` : 'in-process transport';
  process.stdout.write(`vigil: running ${targets.join(', ')} on ${transport}, ${describeStorage(config.storage)}\n`);
  process.stdout.write(`vigil: metrics at ${vigil.metricsUrl}  (health: ${vigil.metricsUrl.replace(/metrics$/, 'healthz')}, readiness: ${vigil.metricsUrl.replace(/metrics$/, 'readyz')})\n`);
  const statusTimer = setInterval(() => {
    process.stdout.write(`vigil: ${new Date().toISOString().slice(11, 19)} ${vigil.targets.map((target) => target.status()).join(' | ')}\n`);
  }, STATUS_INTERVAL_MS);

  let stopWith: (exitCode: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (stopWith = resolve));
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping');
    stopWith(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  void vigil.failed.then(({ target, error }) => {
    logger.fatal({ target, problem: error.message }, 'a target failed; stopping');
    stopWith(1);
  });
  const exitCode = await stopped;
  process.off('SIGTERM', shutdown);
  process.off('SIGINT', shutdown);
  clearInterval(statusTimer);
  await vigil.stop();
  logger.info('stopped');
  return exitCode;
}
