import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyStorageError, describeStorageError } from '../../../services/adapters/clickhouse/storage-errors.js';
import { PipelineMetrics } from '../../../services/adapters/telemetry/pipeline-metrics.js';
import {
  applyMetricChange,
  relayedCollectorMetrics,
  storageErrorOf,
  storageFailureOf,
  type MetricChange,
} from '../../../services/collector/collector-thread-messages.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('metric changes relayed between threads', () => {
  it('leave the registry as the same calls made on it directly', async () => {
    const direct = new PipelineMetrics();
    const relayed = new PipelineMetrics();
    const messages: MetricChange[][] = [];
    const relay = relayedCollectorMetrics((changes) => messages.push(structuredClone(changes))).metrics;
    for (const metrics of [direct, relay]) {
      metrics.eventsConsumed.inc({ topic: 'p' }, 5);
      metrics.eventsConsumed.inc({ topic: 'p' });
      metrics.eventsStored.inc({ table: 'predictions' }, 4);
      metrics.eventsRejected.inc({ topic: 'p', reason: 'undecodable' }, 1);
      metrics.storageWriteFailures.inc({ table: 'outcomes' });
      metrics.consumerLag.set({ topic: 'p', partition: '0' }, 7);
      metrics.consumerLag.set({ topic: 'p', partition: '1' }, 9);
      metrics.consumerLag.remove({ topic: 'p', partition: '0' });
      metrics.dependencyUp.set({ dependency: 'storage' }, 0);
    }
    // Queued changes go out together, once per turn of the event loop.
    expect(messages).toHaveLength(0);
    await nextTurn();
    expect(messages).toHaveLength(1);
    for (const change of messages.flat()) applyMetricChange(relayed, change);
    const names = ['vigil_events_consumed_total', 'vigil_events_stored_total', 'vigil_events_rejected_total', 'vigil_storage_write_failures_total', 'vigil_consumer_lag', 'vigil_dependency_up'];
    const shown = async (metrics: PipelineMetrics) => (await metrics.registry.getMetricsAsJSON()).filter((metric) => names.includes(metric.name));
    expect(await shown(relayed)).toEqual(await shown(direct));
  });

  it('time a batch insert where it runs and observe the seconds here', async () => {
    const metrics = new PipelineMetrics();
    const messages: MetricChange[] = [];
    const relay = relayedCollectorMetrics((changes) => messages.push(...changes)).metrics;
    const end = relay.batchInsertSeconds.startTimer({ table: 'predictions' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    end();
    await nextTurn();
    expect(messages).toEqual([{ metric: 'batchInsertSeconds', change: 'observe', labels: { table: 'predictions' }, value: expect.any(Number) }]);
    expect(messages[0]!.value).toBeGreaterThanOrEqual(0.015);
    applyMetricChange(metrics, messages[0]!);
    const count = (await metrics.batchInsertSeconds.get()).values.find((sample) => sample.metricName === 'vigil_batch_insert_duration_seconds_count');
    expect(count?.value).toBe(1);
  });

  it('go out at once when flushed, and once only', async () => {
    const messages: MetricChange[][] = [];
    const { metrics, flush } = relayedCollectorMetrics((changes) => messages.push(changes));
    metrics.eventsStored.inc({ table: 'outcomes' }, 3);
    flush();
    expect(messages).toEqual([[{ metric: 'eventsStored', change: 'inc', labels: { table: 'outcomes' }, value: 3 }]]);
    await nextTurn();
    flush();
    expect(messages).toHaveLength(1);
  });

  it('are refused when they name no collector series or a change the series has not', () => {
    const metrics = new PipelineMetrics();
    expect(() => applyMetricChange(metrics, { metric: 'eventsPublished' as MetricChange['metric'], change: 'inc', labels: { topic: 'p' }, value: 1 })).toThrow(/not a collector series/);
    expect(() => applyMetricChange(metrics, { metric: 'registry' as MetricChange['metric'], change: 'inc', labels: {}, value: 1 })).toThrow(/not a collector series/);
    expect(() => applyMetricChange(metrics, { metric: 'eventsStored', change: 'set', labels: { table: 'predictions' }, value: 1 })).toThrow(/has no set/);
  });
});

describe('a storage failure across threads', () => {
  it('is classified and described as the error itself, for any ClickHouse type, code and message', () => {
    const types = fc.oneof(fc.constantFrom('UNKNOWN_TABLE', 'CANNOT_PARSE_TEXT', 'TYPE_MISMATCH', 'MEMORY_LIMIT_EXCEEDED', 'TOO_MANY_PARTS', ''), fc.string());
    fc.assert(
      fc.property(types, fc.oneof(fc.integer(), fc.string()), fc.string(), fc.option(fc.string()), (type, code, message, cause) => {
        const error = Object.assign(new Error(message, cause === null ? undefined : { cause: new Error(cause) }), { type, code });
        const revived = storageErrorOf(structuredClone(storageFailureOf(error)));
        expect(classifyStorageError(revived)).toBe(classifyStorageError(error));
        expect(describeStorageError(revived)).toBe(describeStorageError(error));
      }),
    );
  });

  it('keeps a network error an outage, with its name, message and cause', () => {
    const error = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8123') });
    const revived = storageErrorOf(storageFailureOf(error));
    expect(classifyStorageError(revived)).toBe('unavailable');
    expect(describeStorageError(revived)).toBe('TypeError: fetch failed: connect ECONNREFUSED 127.0.0.1:8123');
    expect(describeStorageError(storageErrorOf(storageFailureOf('a thrown string')))).toBe('Error: a thrown string');
  });
});
