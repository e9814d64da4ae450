import type { Logger } from 'pino';
import type { VigilConfig } from '../config/vigil-config.js';
import { ConfigError } from '../config/vigil-config.js';
import { connectKafkaEventPublisher } from '../publisher/kafka-event-publisher.js';
import { scenario } from '../simulator/scenarios.js';
import { runSimulation } from '../simulator/simulator.js';

/** `vigil simulate`: publishes synthetic sepsis-risk traffic to Kafka at a rate, for a count, then exits. */
export async function simulateCommand(config: VigilConfig, logger: Logger): Promise<number> {
  if (config.transport.kind !== 'kafka') {
    throw new ConfigError('KAFKA_BROKERS', 'vigil simulate publishes to Kafka; set KAFKA_BROKERS and SCHEMA_REGISTRY_URL, or run `vigil run --target=all,simulator` for the embedded pipeline');
  }
  const { publisher, close } = await connectKafkaEventPublisher({
    brokers: config.transport.brokers,
    schemaRegistryUrl: config.transport.schemaRegistryUrl,
    topics: config.topics,
    logger,
  });
  const stopping = new AbortController();
  const stop = (): void => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const { predictionsPerSecond, count, seed, scenario: scenarioName, scenarioLastsHours } = config.simulator;
    logger.info({ predictionsPerSecond, count, seed, scenario: scenarioName, scenarioLastsHours, topics: config.topics }, 'publishing');
    const totals = await runSimulation({ publisher, predictionsPerSecond, count, seed, scenario: scenario(scenarioName, { lastsHours: scenarioLastsHours }), flushOutcomes: true, signal: stopping.signal });
    process.stdout.write(`vigil simulate: published ${totals.predictions} predictions and ${totals.outcomes} outcomes\n`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await close();
  }
}
