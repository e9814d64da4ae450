/**
 * Ingest benchmark on real Kafka: the raw kafkajs consume rate, Vigil's consume + decode + validate
 * + insert + commit rate, and the peer a user would pick instead, ClickHouse's own Kafka table
 * engine (kafka-engine-peer.ts), on the same broker, topic and events, in one run. Each figure is
 * the median of --repeats runs, every run with consumer groups of its own.
 * Last, Vigil alone on a backlog --backlog-factor times as large, for its peak memory: consumption
 * is paced by fetches of bounded size and one batch per partition in flight, so a larger backlog
 * should take longer, not more memory.
 *   npm run bench:ingest -- [--events=200000] [--repeats=3] [--partitions=3] [--backlog-factor=10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { EventStore } from '../../services/adapters/clickhouse/event-store.js';
import { applyMigrations } from '../../services/adapters/clickhouse/migrations.js';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { KafkaTransport } from '../../services/adapters/kafka/kafka-transport.js';
import { ConfluentSchemaSource } from '../../services/adapters/schema-registry/confluent-schema-source.js';
import { EventCodec } from '../../services/adapters/schema-registry/event-codec.js';
import { PipelineMetrics } from '../../services/adapters/telemetry/pipeline-metrics.js';
import { defaultEventLimits } from '../../services/core/events/event-validation.js';
import type { PredictionEvent } from '../../services/core/events/event-types.js';
import { CollectorThread, type CollectorThreadReport } from '../../services/collector/collector-thread.js';
import { TransportEventPublisher } from '../../services/publisher/transport-event-publisher.js';
import type { KafkaEnginePeerResult } from './kafka-engine-peer.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '3' },
    repeats: { type: 'string', default: '3' },
    'engine-consumers': { type: 'string' },
    'engine-timeout-seconds': { type: 'string', default: '120' },
    'budget-seconds': { type: 'string', default: '1200' },
    'backlog-factor': { type: 'string', default: '10' },
  },
});
const eventCount = Number(values.events);
const partitions = Number(values.partitions);
const repeats = Number(values.repeats);
/**
 * Kafka engine consumers: one per partition, but leaving a core to the broker and the rest of the
 * process. On 2 cores one consumer was the fastest (200,000 events in 6.0-6.6 s, against 7.4-7.6 s
 * with 2 or 3, each with a thread of its own): parsing is CPU-bound, and more threads only compete.
 */
const engineConsumers = Number(values['engine-consumers'] ?? Math.max(1, Math.min(partitions, availableParallelism() - 1)));
const engineTimeoutSeconds = Number(values['engine-timeout-seconds']);
const budgetSeconds = Number(values['budget-seconds']);
const backlogFactor = Number(values['backlog-factor']);
for (const [name, value] of Object.entries({ events: eventCount, partitions, repeats, 'engine-consumers': engineConsumers, 'engine-timeout-seconds': engineTimeoutSeconds, 'budget-seconds': budgetSeconds, 'backlog-factor': backlogFactor })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
}
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';
if (brokers.length === 0 || !registryUrl) throw new Error('KAFKA_BROKERS and SCHEMA_REGISTRY_URL must be set (npm run bench:ingest sets them)');

/** A stuck consumer must not hold the run forever: the whole benchmark ends within its budget. */
setTimeout(() => {
  process.stderr.write(`bench:ingest: not done after ${budgetSeconds} s (--budget-seconds), stopping\n`);
  process.exit(1);
}, budgetSeconds * 1000).unref();

const logger = pino({ level: 'warn' });
const runId = Date.now().toString(36);
const topics = { predictions: `bench.predictions.${runId}`, outcomes: `bench.outcomes.${runId}`, deadLetters: `bench.dlq.${runId}` };

let peakHeapBytes = 0;
const heapSampler = setInterval(() => (peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed)), 50);

function prediction(index: number): PredictionEvent {
  const now = Date.now();
  return {
    event_id: `${runId}-${index}`,
    model_id: 'sepsis-risk',
    model_version: '2.3.0',
    prediction_id: `${runId}-p-${index}`,
    occurred_at: now - 60_000,
    entity_key: `enc-${(index * 2654435761 >>> 0).toString(16)}`,
    features: {
      heart_rate: 60 + (index % 70),
      respiratory_rate: 12 + (index % 20),
      temperature_c: 36 + (index % 40) / 10,
      systolic_bp: 90 + (index % 60),
      spo2: 88 + (index % 12),
      wbc: index % 13 === 0 ? null : 4 + (index % 15),
      lactate: index % 17 === 0 ? null : 0.5 + (index % 9) / 2,
      creatinine: 0.6 + (index % 20) / 10,
      platelets: 150 + (index % 200),
      age: 18 + (index % 80),
      on_antibiotics: index % 4 === 0,
      admission_source: index % 3 === 0 ? 'ED' : 'ward',
    },
    score: (index % 997) / 997,
    predicted_label: index % 997 >= 300 ? 1 : 0,
    decision_threshold: 0.3,
    segments: { site: `site-${index % 3}`, sex: index % 2 ? 'F' : 'M', age_band: '45-64', race_ethnicity: 'unknown', payer: 'medicare' },
    producer: { service: 'bench', request_id: null },
    input_hash: null,
  };
}

/** Publishes the events numbered [from, to); returns the size of one on the wire. */
async function publish(transport: KafkaTransport, codec: EventCodec, from: number, to: number): Promise<number> {
  const producer = await transport.createProducer();
  const publisher = new TransportEventPublisher(producer, codec, topics);
  for (let start = from; start < to; start += 5_000) {
    await publisher.publishPredictions(Array.from({ length: Math.min(5_000, to - start) }, (_, offset) => prediction(start + offset)));
  }
  await producer.close();
  return (await codec.encodePrediction(topics.predictions, prediction(from))).length;
}

async function rawConsumeSeconds(repeat: number): Promise<number> {
  const consumer = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-raw-${runId}-${repeat}`,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.predictions, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        seen += batch.messages.length;
        last = performance.now();
        if (seen >= eventCount) resolve();
      },
    });
  });
  await consumer.disconnect();
  return (last - first) / 1000;
}

/** One embedded ClickHouse for every run (chDB opens one data folder per process); each run has a database of its own. */
interface VigilRun {
  seconds: number;
  peakRssBytes: number;
  /** CPU time of the whole process (every thread, chDB's included) per wall second, first batch to last commit. */
  busyCores: number;
  /** How long the collector thread's own event loop was held (kafkajs decoding fetch responses). */
  collectorLoop: CollectorThreadReport['loopDelay'];
  /** How long this thread's event loop was held from the first batch to the last commit, ms. */
  mainLoop: { worstMs: number; p99Ms: number };
}

/** Ingests the topic's first `expected` events in a database of its own; times it and samples the process's RSS meanwhile. */
async function vigilIngest(client: ClickHouseClient, repeat: number, expected = eventCount): Promise<VigilRun> {
  let peakRssBytes = process.memoryUsage.rss();
  const rssSampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())), 25);
  try {
    const timed = await vigilIngestSeconds(client, repeat, expected);
    return { seconds: timed.seconds, peakRssBytes, busyCores: timed.cpuMicroseconds / 1e6 / timed.seconds, collectorLoop: timed.collectorLoop, mainLoop: timed.mainLoop };
  } finally {
    clearInterval(rssSampler);
  }
}

async function vigilIngestSeconds(
  client: ClickHouseClient,
  repeat: number,
  expected: number,
): Promise<{ seconds: number; cpuMicroseconds: number; collectorLoop: CollectorThreadReport['loopDelay']; mainLoop: VigilRun['mainLoop'] }> {
  const database = `vigil_bench_${repeat}`;
  await applyMigrations(client, database);
  // As the runtime makes it: two more chDB sessions for inserts, the collector on a thread of its own.
  const store = new EventStore(client, { kind: 'embedded', dataDirectory, database }, insertSessions);
  let handled = 0;
  let first = 0;
  let last = 0;
  let cpuAtFirst: NodeJS.CpuUsage = { user: 0, system: 0 };
  let cpuAtLast: NodeJS.CpuUsage = { user: 0, system: 0 };
  let done: () => void = () => {};
  // Under full load only: the thread's start and stop are timed by the caller's histogram.
  const mainLoop = monitorEventLoopDelay({ resolution: 10 });
  const allCommitted = new Promise<void>((resolve) => (done = resolve));
  const thread = await CollectorThread.start(
    {
      kafka: { brokers, clientId: 'bench', instanceId: `${runId}-${repeat}` },
      schemaRegistryUrl: registryUrl,
      consumerGroup: `bench-vigil-${runId}-${repeat}`,
      topics,
      limits: defaultEventLimits,
      maxEventBytes: 256 * 1024,
      logLevel: 'warn',
      reportBatches: true,
    },
    {
      store,
      metrics: new PipelineMetrics(),
      logger,
      onBatch: (phase, _topic, records) => {
        if (phase === 'started') {
          if (first === 0) {
            first = performance.now();
            cpuAtFirst = process.cpuUsage();
            mainLoop.enable();
          }
          return;
        }
        handled += records;
        last = performance.now();
        cpuAtLast = process.cpuUsage();
        if (handled >= expected) {
          mainLoop.disable();
          done();
        }
      },
    },
  );
  await allCommitted;
  const report = await thread.stop();
  const stored = await store.count('predictions');
  // Dropped before the next measurement, so that its background merges do not compete with it.
  await client.command({ query: `DROP DATABASE ${database} SYNC` });
  if (stored !== expected) throw new Error(`stored ${stored} rows, expected ${expected}`);
  return { seconds: (last - first) / 1000, cpuMicroseconds: cpuAtLast.user + cpuAtLast.system - (cpuAtFirst.user + cpuAtFirst.system), collectorLoop: report.loopDelay, mainLoop: { worstMs: mainLoop.max / 1e6, p99Ms: mainLoop.percentile(99) / 1e6 } };
}

/** Vigil's collector should ingest at least this multiple of the Kafka engine's rate. */
const TARGET_ENGINE_RATIO = 2;
/** A backlog ten times as large may take at most this multiple of the memory (back-pressure, not buffering). */
const TARGET_BACKLOG_RSS_RATIO = 1.25;
const mebibytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
/** No synchronous step of a batch should hold the event loop longer than this. */
const TARGET_LOOP_DELAY_MS = 50;

const peerScript = fileURLToPath(new URL('./kafka-engine-peer.js', import.meta.url));

/**
 * Runs the Kafka engine peer in a process of its own (see kafka-engine-peer.ts) and reads its JSON
 * line. Its time runs from CREATE TABLE, as a user would see it, so it includes the group join and
 * the schema fetch, which the raw and Vigil timings (from their first batch) leave out; its steady
 * rate after the first stored block is printed beside it for that reason.
 */
async function kafkaEngineRun(schemaId: number, repeat: number): Promise<KafkaEnginePeerResult> {
  const peerArguments = [
    `--topic=${topics.predictions}`,
    `--events=${eventCount}`,
    `--group=bench-kafka-engine-${runId}-${repeat}`,
    `--schema-id=${schemaId}`,
    `--consumers=${engineConsumers}`,
    `--timeout-seconds=${engineTimeoutSeconds}`,
  ];
  // Time for chDB to start and stop around the peer's own bounded wait.
  const processTimeoutMs = (engineTimeoutSeconds + 60) * 1000;
  const child = spawn(process.execPath, [peerScript, ...peerArguments], { stdio: ['ignore', 'pipe', 'inherit'], timeout: processTimeoutMs, killSignal: 'SIGKILL' });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  const line = output.trim().split('\n').at(-1) ?? '';
  if (exitCode !== 0 || !line.startsWith('{')) throw new Error(`Kafka engine peer exited with ${exitCode ?? 'a signal'} (limit ${processTimeoutMs / 1000} s)`);
  return JSON.parse(line) as KafkaEnginePeerResult;
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const transport = new KafkaTransport({ brokers, clientId: 'bench', instanceId: runId, logger });
await transport.ensureTopics([
  { name: topics.predictions, partitions },
  // The collector consumes both event topics, as it does in production; only predictions are published.
  { name: topics.outcomes, partitions: 1 },
  { name: topics.deadLetters, partitions },
]);
const codec = new EventCodec(new ConfluentSchemaSource(registryUrl));
const schemaIds = await codec.registerSchemas(topics);
const publishStart = performance.now();
const eventBytes = await publish(transport, codec, 0, eventCount);
const publishSeconds = (performance.now() - publishStart) / 1000;
const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const storageClient = createStorageClient({ kind: 'embedded', dataDirectory, database: 'vigil_bench' });
const insertSessions = [1, 2].map(() => createStorageClient({ kind: 'embedded', dataDirectory, database: 'vigil_bench' }));

const rawRates: number[] = [];
const vigilRates: number[] = [];
const engineRuns: KafkaEnginePeerResult[] = [];
const loopDelays: { worstMs: number; p99Ms: number }[] = [];
const loadedLoopDelays: { worstMs: number; p99Ms: number }[] = [];
const collectorLoopDelays: { worstMs: number; p99Ms: number }[] = [];
const vigilPeakRss: number[] = [];
const vigilBusyCores: number[] = [];
let backlogRun: VigilRun | null = null;
const engineFailures: string[] = [];
try {
  for (let repeat = 1; repeat <= repeats; repeat++) {
    rawRates.push(eventCount / (await rawConsumeSeconds(repeat)));
    // How long the event loop was held while Vigil ingested: /metrics, heartbeats and the monitor wait that long.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const vigilRun = await vigilIngest(storageClient, repeat);
    vigilRates.push(eventCount / vigilRun.seconds);
    vigilPeakRss.push(vigilRun.peakRssBytes);
    vigilBusyCores.push(vigilRun.busyCores);
    collectorLoopDelays.push(vigilRun.collectorLoop);
    loadedLoopDelays.push(vigilRun.mainLoop);
    loopDelay.disable();
    loopDelays.push({ worstMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 });
    // A failed peer run is reported beside the figures, which are printed whatever happens to it.
    try {
      engineRuns.push(await kafkaEngineRun(schemaIds.predictions, repeat));
    } catch (error) {
      engineFailures.push(`run ${repeat} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (backlogFactor > 1) {
    await publish(transport, codec, eventCount, eventCount * backlogFactor);
    backlogRun = await vigilIngest(storageClient, repeats + 1, eventCount * backlogFactor);
  }
} finally {
  clearInterval(heapSampler);
  for (const session of insertSessions) await session.close();
  await storageClient.close();
  rmSync(dataDirectory, { recursive: true, force: true });
}

const rawRate = median(rawRates);
const vigilRate = median(vigilRates);
const engineRates = engineRuns.map((run) => run.rows / run.seconds);
const engineRate = engineRuns.length > 0 ? median(engineRates) : Number.NaN;
/** Runs whose events all came in the first block have no steady rate. */
const engineSteadyRates = engineRuns.filter((run) => run.rows > run.firstRows).map((run) => (run.rows - run.firstRows) / run.secondsAfterFirstRows);
const engineProblems = [
  ...engineFailures,
  ...engineRuns.flatMap((run, index) => (run.timedOut ? [`run ${index + 1} timed out after ${engineTimeoutSeconds} s at ${run.rows.toLocaleString('en-US')} rows`] : [])),
  ...engineRuns.flatMap((run, index) => (run.distinctEventIds !== run.rows ? [`run ${index + 1} stored ${run.rows} rows for ${run.distinctEventIds} event ids`] : [])),
  ...engineRuns.flatMap((run, index) => (run.rowsWithUnexpectedFeatures > 0 ? [`run ${index + 1}: ${run.rowsWithUnexpectedFeatures} rows with unexpected feature maps`] : [])),
  ...new Set(engineRuns.flatMap((run) => run.consumerExceptions)),
];
const format = (rate: number): string => (Number.isFinite(rate) ? Math.round(rate).toLocaleString('en-US') : 'n/a');
const each = (rates: readonly number[]): string => (rates.length > 1 ? `  [${rates.map(format).join(', ')}]` : '');
process.stdout.write(
  [
    `bench:ingest  ${eventCount.toLocaleString('en-US')} prediction events (${eventBytes} bytes each on the wire, 12 features), ${partitions} partitions, Kafka ${brokers.join(',')}`,
    `  medians of ${repeats} run${repeats === 1 ? '' : 's'}, each with consumer groups of its own; per-run figures in brackets`,
    `  publish (Vigil publisher, acks=all):             ${format(eventCount / publishSeconds)} events/s`,
    `  raw kafkajs consume:                             ${format(rawRate)} events/s${each(rawRates)}`,
    `  Vigil consume+decode+validate+insert+commit:     ${format(vigilRate)} events/s  (${(vigilRate / rawRate * 100).toFixed(0)}% of raw; embedded ClickHouse)${each(vigilRates)}`,
    `  ClickHouse Kafka engine -> MV -> table:          ${format(engineRate)} events/s  (AvroConfluent, ${engineConsumers} consumer${engineConsumers === 1 ? '' : 's'}, embedded ClickHouse; from CREATE TABLE to count())${each(engineRates)}`,
    `    ... after its first block was stored:          ${engineSteadyRates.length > 0 ? `${format(median(engineSteadyRates))} events/s` : 'n/a'}  (steady rate: without group join, schema fetch and first block)`,
    `  Vigil / Kafka engine:                            ${Number.isFinite(engineRate) ? `${(vigilRate / engineRate).toFixed(2)}x` : 'n/a'}`,
    ...engineProblems.map((problem) => `  Kafka engine: ${problem}`),
    `  CPU while Vigil ingests: ${median(vigilBusyCores).toFixed(2)} of ${availableParallelism()} cores busy (the whole process: main, collector and decoding threads, chDB)${vigilBusyCores.length > 1 ? `  [${vigilBusyCores.map((cores) => cores.toFixed(2)).join(', ')}]` : ''}`,
    `  event loop of the thread of /metrics, the monitor and the inserts, first batch to last commit: worst delay ${Math.max(...loadedLoopDelays.map((delay) => delay.worstMs)).toFixed(0)} ms, p99 ${median(loadedLoopDelays.map((delay) => delay.p99Ms)).toFixed(0)} ms (median of the runs)`,
    `    with the collector thread's start and stop: worst delay ${Math.max(...loopDelays.map((delay) => delay.worstMs)).toFixed(0)} ms, p99 ${median(loopDelays.map((delay) => delay.p99Ms)).toFixed(0)} ms`,
    `    the collector thread's own (kafkajs, decoding, heartbeats): worst delay ${Math.max(...collectorLoopDelays.map((delay) => delay.worstMs)).toFixed(0)} ms, p99 ${median(collectorLoopDelays.map((delay) => delay.p99Ms)).toFixed(0)} ms`,
    `  peak memory: RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, heap ${(peakHeapBytes / 1024 / 1024).toFixed(0)} MiB (raw + Vigil); Kafka engine process RSS ${engineRuns.length > 0 ? `${Math.max(...engineRuns.map((run) => run.peakRssMiB))} MiB` : 'n/a'}`,
    `  peak RSS while Vigil ingests a backlog of ${eventCount.toLocaleString('en-US')}: ${mebibytes(Math.max(...vigilPeakRss))} MiB` +
      (backlogRun === null
        ? ''
        : `; of ${(eventCount * backlogFactor).toLocaleString('en-US')} (${backlogFactor}x): ${mebibytes(backlogRun.peakRssBytes)} MiB, ${format((eventCount * backlogFactor) / backlogRun.seconds)} events/s`),
    `  targets: >= 20,000 events/s and >= 50% of raw -> ${vigilRate >= 20_000 && vigilRate >= rawRate / 2 ? 'met' : 'NOT met'}; ` +
      `>= ${TARGET_ENGINE_RATIO}x the Kafka engine -> ${vigilRate >= TARGET_ENGINE_RATIO * engineRate ? 'met' : 'NOT met'}; ` +
      `worst event-loop delay under load <= ${TARGET_LOOP_DELAY_MS} ms -> ${Math.max(...loadedLoopDelays.map((delay) => delay.worstMs)) <= TARGET_LOOP_DELAY_MS ? 'met' : 'NOT met'}` +
      (backlogRun === null
        ? ''
        : `; RSS with the ${backlogFactor}x backlog <= ${TARGET_BACKLOG_RSS_RATIO}x -> ${backlogRun.peakRssBytes <= TARGET_BACKLOG_RSS_RATIO * Math.max(...vigilPeakRss) ? 'met' : 'NOT met'}`),
    '',
  ].join('\n'),
);
if (engineFailures.length > 0) process.exitCode = 1;
await transport.close();

// The run's topics go with it, so that runs do not pile partitions up on the broker.
const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
try {
  await admin.connect();
  await admin.deleteTopics({ topics: [topics.predictions, topics.outcomes, topics.deadLetters] });
} catch (error) {
  process.stderr.write(`bench:ingest: could not delete the topics ${topics.predictions}, ${topics.outcomes} and ${topics.deadLetters}: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await admin.disconnect();
}
