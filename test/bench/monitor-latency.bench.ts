// Event-to-gauge latency with Kafka: the time from publishing predictions to the moment the
// monitor's gauge for their window shows them, through the real broker, schema registry, collector,
// embedded ClickHouse and monitor, in one Vigil process (collector and monitor targets).
//
// A model with one-minute windows gets a baseline and a closed window W (the newest the watermark
// has passed, which the gauges show). Each probe publishes a burst of late predictions into W and
// polls /metrics until vigil_model_window_predictions{window="1m"} counts them. The monitor pass
// interval bounds how soon a change can be seen; the probe prints it beside the figures.
//   bash infra/local/with-stack.sh node dist/test/bench/monitor-latency.bench.js [--probes=20] [--interval=0.5]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import avro from 'avsc';
import { pino } from 'pino';
import { loadConfig } from '../../services/config/vigil-config.js';
import { startVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { ForeignProducer, foreignPrediction } from '../support/foreign-producer.js';
import { parseMetrics, sumMetric } from '../support/kafka-inspection.js';
import { kafkaCollectorEnvironment, uniqueTopics } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';

const { values } = parseArgs({ options: { probes: { type: 'string', default: '20' }, interval: { type: 'string', default: '0.5' }, burst: { type: 'string', default: '50' } } });
const PROBES = Number(values.probes);
const INTERVAL_SECONDS = Number(values.interval);
const BURST = Number(values.burst);
for (const [name, value, whole] of [['probes', PROBES, true], ['interval', INTERVAL_SECONDS, false], ['burst', BURST, true]] as const) {
  if (!(value > 0) || (whole && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${whole ? 'whole number' : 'number of seconds'}`);
}
const MODEL = 'latency-probe';
const MINUTE = 60_000;
/** Each probe gives up after this long, so the run always ends. */
const PROBE_TIMEOUT_MS = 60_000;

const SPEC = (baselineFrom: string, baselineTo: string): string => `model_id: ${MODEL}
model_version: "1"
score: score
label: label
decision_threshold: 0.3
features:
  - { name: heart_rate, type: numeric }
  - { name: lactate, type: numeric }
  - { name: admission_source, type: categorical }
segments: [site, sex]
monitoring:
  windows: [1m]
  baseline:
    production: { from: "${baselineFrom}", to: "${baselineTo}" }
  label_horizon: 1h
  min_window_size: 20
`;

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const endpoints = stackEndpoints();
  const topics = uniqueTopics();
  const storage = testStorageTarget();
  const models = await mkdtemp(join(tmpdir(), 'vigil-latency-models-'));
  const runId = uniqueName('latency');
  // Minute-aligned times: the baseline two hours back, window W ten minutes back, and a prediction a
  // minute back that moves the watermark past W's end.
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  const baselineFrom = now - 120 * MINUTE;
  const windowStart = now - 10 * MINUTE;
  await writeFile(join(models, `${MODEL}.model.yaml`), SPEC(new Date(baselineFrom).toISOString(), new Date(baselineFrom + 60 * MINUTE).toISOString()));

  const config = loadConfig({
    ...kafkaCollectorEnvironment({ endpoints, topics, group: uniqueName('group'), instanceId: runId, storage, httpPort: 0 }),
    VIGIL_MODELS_DIR: models,
    VIGIL_MONITOR_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    VIGIL_LOG_LEVEL: 'error',
  });
  const vigil = await startVigil(config, ['collector', 'monitor'], pino({ level: 'error' }), vigilTargets);
  const producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
  try {
    const schemaId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
    const type = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
    let published = 0;
    const publish = async (count: number, occurredAt: (index: number) => number): Promise<void> => {
      const messages = Array.from({ length: count }, (_, offset) => {
        const index = published + offset;
        return { value: ForeignProducer.frame(schemaId, type, foreignPrediction(index, runId, { model_id: MODEL, model_version: '1', occurred_at: occurredAt(index) })) };
      });
      published += count;
      await producer.send(topics.predictions, messages);
    };
    const scrape = async () => parseMetrics(await (await fetch(vigil.metricsUrl)).text());
    const shownPredictions = async (): Promise<number> => sumMetric(await scrape(), 'vigil_model_window_predictions', `model="${MODEL}"`);
    const storedPredictions = async (): Promise<number> => sumMetric(await scrape(), 'vigil_events_stored_total', 'table="predictions"');
    const waitUntil = async (condition: () => Promise<boolean>, what: string): Promise<void> => {
      const deadline = Date.now() + PROBE_TIMEOUT_MS;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    await publish(600, (index) => baselineFrom + (index % 600) * 6_000);
    await publish(100, (index) => windowStart + (index % 100) * 500);
    await publish(1, () => now - MINUTE + 1_000);
    let expected = 100;
    await waitUntil(async () => (await shownPredictions()) === expected, `the gauge to show window W's ${expected} predictions`);

    const latencies: number[] = [];
    const storing: number[] = [];
    for (let probe = 0; probe < PROBES; probe++) {
      const began = performance.now();
      await publish(BURST, (index) => windowStart + 30_000 + (index % 1000));
      expected += BURST;
      await waitUntil(async () => (await storedPredictions()) === published, `probe ${probe + 1} to be stored`);
      storing.push(performance.now() - began);
      await waitUntil(async () => (await shownPredictions()) === expected, `probe ${probe + 1} to reach the gauge`);
      latencies.push(performance.now() - began);
    }
    latencies.sort((left, right) => left - right);
    storing.sort((left, right) => left - right);
    const ms = (value: number): string => `${Math.round(value)} ms`;
    process.stdout.write(
      [
        `bench:monitor latency  publish -> Kafka -> collector -> ClickHouse (embedded) -> monitor -> gauge, ${PROBES} probes of ${BURST} late predictions into a closed 1m window; monitor pass every ${INTERVAL_SECONDS * 1000} ms`,
        `  publish to gauge: median ${ms(quantile(latencies, 0.5))}, p90 ${ms(quantile(latencies, 0.9))}, max ${ms(latencies.at(-1)!)}, min ${ms(latencies[0]!)}`,
        `  of which publish to stored (collector): median ${ms(quantile(storing, 0.5))}, p90 ${ms(quantile(storing, 0.9))}, max ${ms(storing.at(-1)!)}`,
        `  a change is seen at the pass after it is stored, so the pass interval bounds the wait beside storing and evaluating`,
        '',
      ].join('\n'),
    );
  } finally {
    await producer.close();
    await vigil.stop();
    await rm(models, { recursive: true, force: true });
    if (storage.kind === 'embedded') await rm(storage.dataDirectory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:monitor latency failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
