import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { labelToWire } from '../../../services/adapters/schema-registry/event-codec.js';
import {
  backdatedStartTime,
  DEFAULT_ACCELERATION_FACTOR,
  OUTCOME_DELAY_HOURS,
  trafficSchedule,
  type ScheduledEvent,
  type TrafficScheduleOptions,
} from '../../../services/simulator/traffic-schedule.js';

const HOUR_MS = 3_600_000;
const START = Date.UTC(2025, 2, 1, 8);

function readSchema(name: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(readFileSync(new URL(`../../../schemas/${name}`, import.meta.url), 'utf8')));
}

const predictionType = readSchema('prediction-event.avsc');
const outcomeType = readSchema('outcome-event.avsc');

function avroProblems(type: avro.Type, value: unknown): string[] {
  const problems: string[] = [];
  type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
  return problems;
}

function schedule(overrides: Partial<TrafficScheduleOptions> = {}): ScheduledEvent[] {
  return [...trafficSchedule({ seed: 5, count: 400, predictionsPerSecond: 10, startTime: START, ...overrides })];
}

type Scheduled<Kind extends ScheduledEvent['kind']> = Extract<ScheduledEvent, { kind: Kind }>;

function byKind(events: readonly ScheduledEvent[]): { predictions: Scheduled<'prediction'>[]; outcomes: Scheduled<'outcome'>[] } {
  return {
    predictions: events.filter((scheduled): scheduled is Scheduled<'prediction'> => scheduled.kind === 'prediction'),
    outcomes: events.filter((scheduled): scheduled is Scheduled<'outcome'> => scheduled.kind === 'outcome'),
  };
}

function predictionTimes(events: readonly ScheduledEvent[]): Map<string, number> {
  return new Map(events.flatMap((scheduled) => (scheduled.kind === 'prediction' ? [[scheduled.event.prediction_id, scheduled.eventTime] as const] : [])));
}

describe('trafficSchedule', () => {
  it('is deterministic, and the start time only shifts the clock', () => {
    const first = schedule();
    expect(schedule()).toEqual(first);
    const shifted = schedule({ startTime: START + HOUR_MS });
    expect(shifted.map((scheduled) => scheduled.eventTime - HOUR_MS)).toEqual(first.map((scheduled) => scheduled.eventTime));
    expect(shifted.map((scheduled) => scheduled.event.event_id)).toEqual(first.map((scheduled) => scheduled.event.event_id));
  });

  it('emits events that conform to the Avro schemas', () => {
    for (const scheduled of schedule({ flushOutcomes: true })) {
      if (scheduled.kind === 'prediction') {
        expect(avroProblems(predictionType, scheduled.event), scheduled.event.event_id).toEqual([]);
        expect(predictionType.fromBuffer(predictionType.toBuffer(scheduled.event))).toEqual(scheduled.event);
      } else {
        const encodable = { ...scheduled.event, label: labelToWire(scheduled.event.label) };
        expect(avroProblems(outcomeType, encodable), scheduled.event.event_id).toEqual([]);
        expect(scheduled.event.label.kind).toBe('binary');
      }
    }
  });

  it('emits `count` predictions at a steady simulated interval, in event-time order', () => {
    const events = schedule({ count: 300, predictionsPerSecond: 4 });
    const { predictions } = byKind(events);
    expect(predictions).toHaveLength(300);
    const intervalMs = (1000 * DEFAULT_ACCELERATION_FACTOR) / 4;
    predictions.forEach((scheduled, index) => {
      expect(scheduled.eventTime).toBe(START + Math.round(index * intervalMs));
      expect(scheduled.publishAfterMs).toBe(Math.ceil(index * 250));
    });
    for (let index = 1; index < events.length; index += 1) {
      expect(events[index]?.eventTime).toBeGreaterThanOrEqual(events[index - 1]?.eventTime ?? Number.NaN);
      expect(events[index]?.publishAfterMs).toBeGreaterThanOrEqual(events[index - 1]?.publishAfterMs ?? Number.NaN);
    }
  });

  it('observes each outcome 6 to 48 simulated hours after its prediction, never before', () => {
    const events = schedule({ count: 2000, flushOutcomes: true });
    const occurredAt = predictionTimes(events);
    const { outcomes } = byKind(events);
    expect(outcomes).toHaveLength(2000);
    for (const { event: outcome } of outcomes) {
      const predictedAt = occurredAt.get(outcome.prediction_id);
      expect(predictedAt).toBeDefined();
      const delayHours = (outcome.observed_at - (predictedAt ?? Number.NaN)) / HOUR_MS;
      expect(delayHours).toBeGreaterThanOrEqual(OUTCOME_DELAY_HOURS.minimum);
      expect(delayHours).toBeLessThanOrEqual(OUTCOME_DELAY_HOURS.maximum);
    }
    const seenPredictions = new Set<string>();
    for (const scheduled of events) {
      if (scheduled.kind === 'prediction') seenPredictions.add(scheduled.event.prediction_id);
      else expect(seenPredictions.has(scheduled.event.prediction_id)).toBe(true);
    }
  });

  it('leaves outcomes unsent that are not observed by the last prediction, unless asked to flush them', () => {
    const kept = schedule();
    const flushed = schedule({ flushOutcomes: true });
    const lastPrediction = byKind(kept).predictions.at(-1);
    const keptOutcomes = byKind(kept).outcomes;
    expect(keptOutcomes.length).toBeGreaterThan(0);
    expect(keptOutcomes.length).toBeLessThan(400);
    for (const scheduled of keptOutcomes) expect(scheduled.eventTime).toBeLessThanOrEqual(lastPrediction?.eventTime ?? Number.NaN);
    expect(flushed.slice(0, kept.length)).toEqual(kept);

    const late = flushed.slice(kept.length);
    expect(late.length + keptOutcomes.length).toBe(400);
    for (const scheduled of late) {
      expect(scheduled.kind).toBe('outcome');
      expect(scheduled.eventTime).toBeGreaterThan(lastPrediction?.eventTime ?? Number.NaN);
      expect(scheduled.publishAfterMs).toBe(lastPrediction?.publishAfterMs);
    }
  });

  it('rejects a count, rate or acceleration that cannot be scheduled', () => {
    expect(() => schedule({ count: -1 })).toThrow(RangeError);
    expect(() => schedule({ count: 1.5 })).toThrow(RangeError);
    expect(() => schedule({ predictionsPerSecond: 0 })).toThrow(RangeError);
    expect(() => schedule({ accelerationFactor: 0.5 })).toThrow(RangeError);
    expect(schedule({ count: 0 })).toEqual([]);
  });
});

describe('backdatedStartTime', () => {
  const wallStart = Date.UTC(2025, 5, 1, 12);

  for (const flushOutcomes of [false, true]) {
    it(`stamps no event later than the wall time at which it is due (flushOutcomes ${flushOutcomes})`, () => {
      const timing = { count: 900, predictionsPerSecond: 7, flushOutcomes };
      const events = [...trafficSchedule({ ...timing, seed: 8, startTime: backdatedStartTime(wallStart, timing) })];
      for (const scheduled of events) expect(scheduled.eventTime).toBeLessThanOrEqual(wallStart + scheduled.publishAfterMs);
    });
  }

  it('lets the simulated timeline catch up with the wall clock as the run ends', () => {
    const timing = { count: 600, predictionsPerSecond: 10 };
    const events = [...trafficSchedule({ ...timing, seed: 8, startTime: backdatedStartTime(wallStart, timing) })];
    const lastPrediction = byKind(events).predictions.at(-1);
    const endOfRun = wallStart + (lastPrediction?.publishAfterMs ?? Number.NaN);
    expect(endOfRun - (lastPrediction?.eventTime ?? Number.NaN)).toBeGreaterThanOrEqual(0);
    expect(endOfRun - (lastPrediction?.eventTime ?? Number.NaN)).toBeLessThan(1000);
    expect(wallStart - (byKind(events).predictions[0]?.eventTime ?? Number.NaN)).toBeCloseTo((599 / 10) * (DEFAULT_ACCELERATION_FACTOR - 1) * 1000, -3);
  });

  it('refuses a run whose simulated timeline would reach back before 2000', () => {
    expect(() => backdatedStartTime(wallStart, { count: 1_000_000, predictionsPerSecond: 1 })).toThrow(/lower the count/);
    expect(() => backdatedStartTime(wallStart, { count: 1_000_000, predictionsPerSecond: 50 })).not.toThrow();
  });
});
