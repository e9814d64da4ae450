import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createStorageClient } from '../../services/adapters/clickhouse/storage-client.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { DEAD_LETTER_HEADERS } from '../../services/collector/dead-letter.js';
import { ForeignProducer, foreignOutcome, foreignPrediction } from '../support/foreign-producer.js';
import { groupCaughtUp, parseMetrics, readTopic, sumMetric } from '../support/kafka-inspection.js';
import { kafkaCollectorEnvironment, uniqueTopics, waitFor } from '../support/pipeline-harness.js';
import { stackEndpoints } from '../support/stack-endpoints.js';
import { testStorageTarget, uniqueName } from '../support/test-storage.js';
import { freeLoopbackPort } from '../support/free-port.js';

const EVENTS_PER_TOPIC = 10_000;
const MALFORMED = 5;


interface CollectorProcess {
  child: ChildProcess;
  /** The last of what it wrote to stderr, for the failure message. */
  stderr(): string;
}

function startCollectorProcess(env: NodeJS.ProcessEnv): CollectorProcess {
  const child = spawn(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'run', '--target=collector'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  return { child, stderr: () => output };
}

async function waitWhileRunning(collector: CollectorProcess, condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await waitFor(
    async () => {
      if (collector.child.exitCode !== null) throw new Error(`the collector exited with ${collector.child.exitCode}: ${collector.stderr()}`);
      return condition();
    },
    timeoutMs,
    what,
  );
}

async function metricsOf(port: number): Promise<Map<string, number>> {
  try {
    return parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  } catch {
    return new Map();
  }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

describe('a collector killed with SIGKILL mid-stream and restarted', () => {
  it('leaves exactly one row per event and exactly the malformed records in the dead-letter topic', { timeout: 240_000 }, async () => {
    expect(existsSync(projectPath('dist', 'services', 'cli', 'main.js')), 'dist/ is built by `npm test` (npm run build)').toBe(true);
    const endpoints = stackEndpoints();
    const topics = uniqueTopics();
    const storage = testStorageTarget();
    const group = uniqueName('group');
    const runId = randomBytes(4).toString('hex');
    const port = await freeLoopbackPort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      VIGIL_LOG_LEVEL: 'warn',
      ...kafkaCollectorEnvironment({ endpoints, topics, group, instanceId: runId, storage, httpPort: port }),
    };

    const producer = await ForeignProducer.connect(endpoints.kafkaBrokers, endpoints.schemaRegistryUrl);
    let first: CollectorProcess | undefined;
    let second: CollectorProcess | undefined;
    try {
      first = startCollectorProcess(env);
      await waitWhileRunning(first, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 60_000, 'the first collector to be ready');

      const predictionType = avro.Type.forSchema(ForeignProducer.schemaFile('prediction-event.avsc') as avro.Schema);
      const outcomeType = avro.Type.forSchema(ForeignProducer.schemaFile('outcome-event.avsc') as avro.Schema);
      const predictionId = await producer.register(`${topics.predictions}-value`, ForeignProducer.schemaFile('prediction-event.avsc'));
      const outcomeId = await producer.register(`${topics.outcomes}-value`, ForeignProducer.schemaFile('outcome-event.avsc'));

      // Publish in slices while the collector consumes, and kill it once it has stored part of the stream.
      const slices = 20;
      const perSlice = EVENTS_PER_TOPIC / slices;
      let killedAfterStored = -1;
      for (let slice = 0; slice < slices; slice++) {
        const indexes = Array.from({ length: perSlice }, (_, offset) => slice * perSlice + offset);
        await producer.send(topics.predictions, indexes.map((index) => ({ value: ForeignProducer.frame(predictionId, predictionType, foreignPrediction(index, runId)) })));
        await producer.send(topics.outcomes, indexes.map((index) => ({ value: ForeignProducer.frame(outcomeId, outcomeType, foreignOutcome(index, runId)) })));
        if (slice === 3) {
          // A first byte other than the magic 0: never the wire format, so never taken for an event.
          await producer.send(topics.predictions, Array.from({ length: MALFORMED }, () => ({ value: Buffer.concat([Buffer.from([0xff]), randomBytes(31)]) })));
        }
        if (killedAfterStored < 0 && slice >= 5) {
          const stored = sumMetric(await metricsOf(port), 'vigil_events_stored_total');
          if (stored > 0) {
            first.child.kill('SIGKILL');
            await exited(first.child);
            killedAfterStored = stored;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (killedAfterStored < 0) {
        first.child.kill('SIGKILL');
        await exited(first.child);
      }
      expect(first.child.signalCode).toBe('SIGKILL');
      // Killed mid-stream: some events stored, more published after the kill.
      expect(killedAfterStored).toBeGreaterThan(0);
      expect(killedAfterStored).toBeLessThan(2 * EVENTS_PER_TOPIC);

      const restarted = startCollectorProcess(env);
      second = restarted;
      await waitWhileRunning(restarted, () => groupCaughtUp(endpoints.kafkaBrokers, group, [topics.predictions, topics.outcomes]), 120_000, 'the restarted collector to commit every record');
      restarted.child.kill('SIGTERM');
      expect(await exited(restarted.child), restarted.stderr()).toBe(0);
    } finally {
      await producer.close();
      for (const collector of [first, second]) {
        if (collector && collector.child.exitCode === null && collector.child.signalCode === null) collector.child.kill('SIGKILL');
      }
    }

    const client = createStorageClient(storage);
    try {
      for (const table of ['predictions', 'outcomes']) {
        const [row] = await (
          await client.query({ query: `SELECT count() AS rows, uniqExact(event_id) AS events FROM ${storage.database}.${table} FINAL`, format: 'JSONEachRow' })
        ).json<{ rows: number | string; events: number | string }>();
        expect(Number(row?.rows), table).toBe(EVENTS_PER_TOPIC);
        expect(Number(row?.events), table).toBe(EVENTS_PER_TOPIC);
      }
    } finally {
      await client.close();
    }
    const deadLetters = await readTopic(endpoints.kafkaBrokers, topics.deadLetters, MALFORMED);
    expect(deadLetters).toHaveLength(MALFORMED);
    const origins = deadLetters.map((record) => `${record.headers[DEAD_LETTER_HEADERS.sourcePartition]}/${record.headers[DEAD_LETTER_HEADERS.sourceOffset]}`);
    expect(new Set(origins).size).toBe(MALFORMED);
  });
});
