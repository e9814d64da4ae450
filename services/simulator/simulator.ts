import { setTimeout as delay } from 'node:timers/promises';
import type { EventPublisher } from '../core/events/event-publisher.js';
import type { OutcomeEvent, PredictionEvent } from '../core/events/event-types.js';
import type { Scenario } from './scenarios.js';
import { backdatedStartTime, trafficSchedule, type TrafficTiming } from './traffic-schedule.js';

export interface SimulationProgress {
  predictions: number;
  outcomes: number;
}

export interface SimulationOptions {
  publisher: EventPublisher;
  /** Predictions per wall second. */
  predictionsPerSecond: number;
  /** Predictions to publish before stopping. */
  count: number;
  /**
   * Fixes every identifier and value of the traffic. Omitted, the start time seeds it, so that
   * separate runs do not repeat event ids (which the collector would drop as replays).
   */
  seed?: number;
  /** Send the outcomes still pending after the last prediction at once instead of dropping them. */
  flushOutcomes?: boolean;
  /** Simulated milliseconds per wall millisecond; see traffic-schedule.ts. */
  accelerationFactor?: number;
  /** The scenario to play; see scenarios.ts. */
  scenario?: Scenario;
  signal?: AbortSignal;
  /** Wall clock in epoch milliseconds. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called with the running totals after every published batch. */
  onProgress?: (progress: SimulationProgress) => void;
}

/** Small enough for a smooth rate, large enough that each publish carries several events. */
const BATCH_INTERVAL_MS = 100;

/** Bounds one publish call when the publisher has fallen behind or many outcomes are flushed. */
const MAX_EVENTS_PER_BATCH = 1000;

/** Resolves when the sleep ends or the signal aborts, whichever comes first. */
function sleepUnlessAborted(sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    sleep(ms).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Publishes synthetic sepsis-risk traffic at `predictionsPerSecond`, in batches on a fixed
 * 100 ms grid measured from the start, so slow publishes are caught up rather than accumulated
 * as drift. Event times are backdated (see backdatedStartTime) so that none lies in the future
 * when it is sent. Resolves with the totals once `count` predictions are out or the signal
 * aborts; a batch already handed to the publisher is awaited, and its errors reject the run.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationProgress> {
  const { publisher, signal, onProgress } = options;
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, signal === undefined ? {} : { signal }));
  const timing: TrafficTiming = {
    count: options.count,
    predictionsPerSecond: options.predictionsPerSecond,
    accelerationFactor: options.accelerationFactor,
    flushOutcomes: options.flushOutcomes,
  };

  const wallStart = clock();
  const schedule = trafficSchedule({
    ...timing,
    seed: options.seed ?? Math.trunc(wallStart),
    startTime: backdatedStartTime(Math.trunc(wallStart), timing),
    ...(options.scenario ? { scenario: options.scenario } : {}),
  });
  const totals: SimulationProgress = { predictions: 0, outcomes: 0 };

  let next = schedule.next();
  while (!next.done && signal?.aborted !== true) {
    const elapsedMs = clock() - wallStart;
    const predictions: PredictionEvent[] = [];
    const outcomes: OutcomeEvent[] = [];
    while (!next.done && next.value.publishAfterMs <= elapsedMs && predictions.length + outcomes.length < MAX_EVENTS_PER_BATCH) {
      if (next.value.kind === 'prediction') predictions.push(next.value.event);
      else outcomes.push(next.value.event);
      next = schedule.next();
    }
    // Predictions first: an outcome in this batch may resolve a prediction in the same batch.
    if (predictions.length > 0) {
      await publisher.publishPredictions(predictions);
      totals.predictions += predictions.length;
    }
    if (outcomes.length > 0) {
      await publisher.publishOutcomes(outcomes);
      totals.outcomes += outcomes.length;
    }
    if (predictions.length + outcomes.length > 0) onProgress?.({ ...totals });
    if (next.done) break;

    const nowMs = clock() - wallStart;
    // An event already due (the publisher was slow, or the batch was full) starts the next pass
    // at once; otherwise the wait runs to the next tick of the grid or the event, whichever is later.
    if (next.value.publishAfterMs > nowMs) {
      const nextBatchAtMs = (Math.floor(nowMs / BATCH_INTERVAL_MS) + 1) * BATCH_INTERVAL_MS;
      await sleepUnlessAborted(sleep, Math.max(nextBatchAtMs, next.value.publishAfterMs) - nowMs, signal);
    }
  }
  return totals;
}
