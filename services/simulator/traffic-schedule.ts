import type { OutcomeEvent, PredictionEvent } from '../core/events/event-types.js';
import { createRandom, deriveSeed } from './random.js';
import type { Scenario } from './scenarios.js';
import { generateSepsisEncounters, SEPSIS_MODEL, type SepsisEncounter } from './sepsis-cohort.js';

/**
 * The cohort as a time-ordered stream of prediction and outcome events in event time. Simulated
 * time runs `accelerationFactor` times faster than wall time; the default of 3600 makes one wall
 * second one simulated hour, so outcomes, which become known 6 to 48 simulated hours after their
 * prediction, arrive 6 to 48 wall seconds later and a run of a minute or two already has labels.
 * Each event also carries `publishAfterMs`, the wall time after the start of a run at which it
 * is due, so a publisher can pace the stream without redoing the time arithmetic.
 */

export const DEFAULT_ACCELERATION_FACTOR = 3600;

const HOUR_MS = 3_600_000;
export const OUTCOME_DELAY_HOURS = { minimum: 6, maximum: 48 } as const;

/** Event times before this are implausible for a deployed clinical model, and collectors reject them. */
const EARLIEST_START_TIME = Date.UTC(2000, 0, 1);

export interface TrafficTiming {
  /** Number of predictions; the stream ends with the last of them (and any flushed outcomes). */
  count: number;
  /** Predictions per wall second. */
  predictionsPerSecond: number;
  /** Simulated milliseconds per wall millisecond; DEFAULT_ACCELERATION_FACTOR when omitted. */
  accelerationFactor?: number;
  /**
   * Outcomes not yet observed at the last prediction's event time are emitted after it, due at
   * the same wall time, when true; left unsent when false (the default).
   */
  flushOutcomes?: boolean;
}

export interface TrafficScheduleOptions extends TrafficTiming {
  seed: number;
  /** Event time of the first prediction, epoch milliseconds. */
  startTime: number;
  /** Plays this scenario from its onset for as long as it lasts; the validated world throughout when omitted. */
  scenario?: Scenario;
}

export type ScheduledEvent =
  | { kind: 'prediction'; eventTime: number; publishAfterMs: number; event: PredictionEvent }
  | { kind: 'outcome'; eventTime: number; publishAfterMs: number; event: OutcomeEvent };

type ScheduledOutcome = Extract<ScheduledEvent, { kind: 'outcome' }>;

interface ResolvedTiming {
  count: number;
  accelerationFactor: number;
  flushOutcomes: boolean;
  /** Simulated milliseconds between consecutive predictions, unrounded. */
  predictionIntervalMs: number;
}

function resolveTiming(timing: TrafficTiming): ResolvedTiming {
  const accelerationFactor = timing.accelerationFactor ?? DEFAULT_ACCELERATION_FACTOR;
  if (!Number.isSafeInteger(timing.count) || timing.count < 0) throw new RangeError(`count must be a non-negative integer, got ${timing.count}`);
  if (!(Number.isFinite(timing.predictionsPerSecond) && timing.predictionsPerSecond > 0)) {
    throw new RangeError(`predictionsPerSecond must be a positive number, got ${timing.predictionsPerSecond}`);
  }
  if (!(Number.isFinite(accelerationFactor) && accelerationFactor >= 1)) {
    throw new RangeError(`accelerationFactor must be at least 1, got ${accelerationFactor}`);
  }
  return {
    count: timing.count,
    accelerationFactor,
    flushOutcomes: timing.flushOutcomes ?? false,
    predictionIntervalMs: (1000 * accelerationFactor) / timing.predictionsPerSecond,
  };
}

/** Offset of prediction `index` from the first, in simulated milliseconds. */
function predictionOffsetMs(timing: ResolvedTiming, index: number): number {
  return Math.round(index * timing.predictionIntervalMs);
}

function publishAfterMsFor(timing: ResolvedTiming, offsetMs: number): number {
  return Math.ceil(offsetMs / timing.accelerationFactor);
}

/**
 * The event time of the first prediction for a run that starts at `wallStartMs`, chosen so that
 * the simulated timeline catches up with the wall clock as the run ends and no event is ever
 * stamped later than the moment it is due: collectors reject events from the future. With
 * flushed outcomes the timeline ends a maximum outcome delay earlier, as those are sent at once.
 */
export function backdatedStartTime(wallStartMs: number, timing: TrafficTiming): number {
  const resolved = resolveTiming(timing);
  const lastPredictionOffsetMs = predictionOffsetMs(resolved, Math.max(0, resolved.count - 1));
  const latestEventOffsetMs = lastPredictionOffsetMs + (resolved.flushOutcomes ? OUTCOME_DELAY_HOURS.maximum * HOUR_MS : 0);
  const startTime = wallStartMs - Math.ceil(latestEventOffsetMs - lastPredictionOffsetMs / resolved.accelerationFactor);
  if (!(startTime >= EARLIEST_START_TIME)) {
    throw new RangeError(
      `${resolved.count} predictions at ${timing.predictionsPerSecond} per second, accelerated ${resolved.accelerationFactor} times, ` +
        `would begin before ${new Date(EARLIEST_START_TIME).toISOString()}; lower the count or the acceleration, or raise the rate`,
    );
  }
  return startTime;
}

function predictionEvent(encounter: SepsisEncounter, occurredAt: number): PredictionEvent {
  return {
    event_id: encounter.predictionEventId,
    model_id: SEPSIS_MODEL.modelId,
    model_version: SEPSIS_MODEL.modelVersion,
    prediction_id: encounter.predictionId,
    occurred_at: occurredAt,
    entity_key: encounter.entityKey,
    features: encounter.features,
    score: encounter.score,
    predicted_label: encounter.predictedLabel,
    decision_threshold: SEPSIS_MODEL.decisionThreshold,
    segments: encounter.segments,
    producer: { service: SEPSIS_MODEL.producerService, request_id: encounter.requestId },
    input_hash: encounter.inputHash,
  };
}

function outcomeEvent(encounter: SepsisEncounter, observedAt: number): OutcomeEvent {
  return {
    event_id: encounter.outcomeEventId,
    model_id: SEPSIS_MODEL.modelId,
    prediction_id: encounter.predictionId,
    observed_at: observedAt,
    label: { kind: 'binary', value: encounter.outcome },
    source: SEPSIS_MODEL.outcomeSource,
  };
}

/** Outcomes waiting for their observation time, earliest first; ties keep their arrival order. */
class PendingOutcomes {
  private readonly heap: { outcome: ScheduledOutcome; sequence: number }[] = [];
  private nextSequence = 0;

  /** The earliest outcome if it is observed at or before `eventTime`. */
  popObservedBy(eventTime: number): ScheduledOutcome | undefined {
    const earliest = this.heap[0];
    return earliest !== undefined && earliest.outcome.eventTime <= eventTime ? this.pop() : undefined;
  }

  push(outcome: ScheduledOutcome): void {
    this.heap.push({ outcome, sequence: this.nextSequence });
    this.nextSequence += 1;
    let child = this.heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.precedes(child, parent)) break;
      this.swap(child, parent);
      child = parent;
    }
  }

  pop(): ScheduledOutcome | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined || this.heap.length === 0) return top?.outcome;
    this.heap[0] = last;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let first = parent;
      if (left < this.heap.length && this.precedes(left, first)) first = left;
      if (right < this.heap.length && this.precedes(right, first)) first = right;
      if (first === parent) break;
      this.swap(parent, first);
      parent = first;
    }
    return top.outcome;
  }

  private precedes(a: number, b: number): boolean {
    const left = this.heap[a];
    const right = this.heap[b];
    if (left === undefined || right === undefined) return false;
    if (left.outcome.eventTime !== right.outcome.eventTime) return left.outcome.eventTime < right.outcome.eventTime;
    return left.sequence < right.sequence;
  }

  private swap(a: number, b: number): void {
    const left = this.heap[a];
    const right = this.heap[b];
    if (left === undefined || right === undefined) return;
    this.heap[a] = right;
    this.heap[b] = left;
  }
}

/**
 * Predictions at a steady simulated rate from `startTime`, each outcome after its prediction's
 * delay, all in event-time order (an outcome due at the same instant as a prediction comes first).
 * Deterministic for given options.
 */
export function* trafficSchedule(options: TrafficScheduleOptions): Generator<ScheduledEvent, void, void> {
  const timing = resolveTiming(options);
  if (!Number.isSafeInteger(options.startTime)) throw new RangeError(`startTime must be integer epoch milliseconds, got ${options.startTime}`);
  const { scenario } = options;
  // The first encounter whose prediction falls at or after the scenario's onset, and the first at or after its end.
  const firstIndexAt = (hours: number): number => Math.ceil((hours * HOUR_MS) / timing.predictionIntervalMs);
  const onsetIndex = scenario === undefined ? Number.POSITIVE_INFINITY : firstIndexAt(scenario.onsetAfterHours);
  const endIndex = scenario?.lastsHours === undefined ? Number.POSITIVE_INFINITY : firstIndexAt(scenario.onsetAfterHours + scenario.lastsHours);
  const encounters = generateSepsisEncounters({
    seed: options.seed,
    ...(scenario ? { changes: { from: onsetIndex, until: endIndex, world: scenario.cohort } } : {}),
  });
  const delays = createRandom(deriveSeed(options.seed, 'outcome-delay'));
  const pending = new PendingOutcomes();

  let lastPublishAfterMs = 0;
  for (let index = 0; index < timing.count; index += 1) {
    const offsetMs = predictionOffsetMs(timing, index);
    const occurredAt = options.startTime + offsetMs;
    for (let outcome = pending.popObservedBy(occurredAt); outcome !== undefined; outcome = pending.popObservedBy(occurredAt)) {
      yield outcome;
    }

    const encounter = encounters.next().value;
    // Drawn for every encounter, sent or not, so that the delays of the others stay the same.
    const delayHours = delays.between(OUTCOME_DELAY_HOURS.minimum, OUTCOME_DELAY_HOURS.maximum);
    // The change applies to predictions made while it lasts; an outcome keeps the delay it had then.
    const changed = index >= onsetIndex && index < endIndex;
    if (changed && scenario?.traffic.silentSite === encounter.segments.site) continue;
    lastPublishAfterMs = publishAfterMsFor(timing, offsetMs);
    yield { kind: 'prediction', eventTime: occurredAt, publishAfterMs: lastPublishAfterMs, event: predictionEvent(encounter, occurredAt) };

    const delayMs = Math.round(delayHours * (changed ? (scenario?.traffic.outcomeDelayFactor ?? 1) : 1) * HOUR_MS);
    const observedAt = occurredAt + delayMs;
    pending.push({
      kind: 'outcome',
      eventTime: observedAt,
      publishAfterMs: publishAfterMsFor(timing, offsetMs + delayMs),
      event: outcomeEvent(encounter, observedAt),
    });
  }

  if (!timing.flushOutcomes) return;
  for (let outcome = pending.pop(); outcome !== undefined; outcome = pending.pop()) {
    yield { ...outcome, publishAfterMs: lastPublishAfterMs };
  }
}
