import { TransportEventPublisher } from '../publisher/transport-event-publisher.js';
import type { RunningTarget, SharedServices } from '../runtime/target-contract.js';
import { scenario } from './scenarios.js';
import { runSimulation } from './simulator.js';

/** The simulator target: synthetic traffic of a sepsis-risk model, published like an inference service would. */
export async function startSimulatorTarget(shared: SharedServices): Promise<RunningTarget> {
  const { config, logger, metrics } = shared;
  const producer = await shared.transport().createProducer();
  const publisher = new TransportEventPublisher(producer, await shared.codec(), config.topics);
  const counting = {
    publishPredictions: async (events: Parameters<typeof publisher.publishPredictions>[0]) => {
      await publisher.publishPredictions(events);
      metrics.eventsPublished.inc({ topic: config.topics.predictions }, events.length);
    },
    publishOutcomes: async (events: Parameters<typeof publisher.publishOutcomes>[0]) => {
      await publisher.publishOutcomes(events);
      metrics.eventsPublished.inc({ topic: config.topics.outcomes }, events.length);
    },
  };
  const stopping = new AbortController();
  let progress = { predictions: 0, outcomes: 0 };
  const { predictionsPerSecond, count, seed, scenario: scenarioName, scenarioLastsHours } = config.simulator;
  logger.info({ predictionsPerSecond, count, seed, scenario: scenarioName, scenarioLastsHours }, 'simulator publishing sepsis-risk traffic');
  const run = runSimulation({
    publisher: counting,
    predictionsPerSecond,
    count,
    seed,
    scenario: scenario(scenarioName, { lastsHours: scenarioLastsHours }),
    // A finite run ends with every outcome delivered, as the hospital's feed eventually would.
    flushOutcomes: true,
    signal: stopping.signal,
    onProgress: (update) => (progress = update),
  }).then(
    (totals) => logger.info(totals, 'simulator finished'),
    (error: unknown) => logger.error({ error: error instanceof Error ? error.message : String(error) }, 'simulator stopped on an error'),
  );
  return {
    name: 'simulator',
    readiness: [],
    status: () => `simulator published predictions=${progress.predictions} outcomes=${progress.outcomes}`,
    stop: async () => {
      stopping.abort();
      await run;
      await producer.close();
    },
  };
}
