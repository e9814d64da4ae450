import { describe, expect, it } from 'vitest';
import type { OutcomeEvent, PredictionEvent } from '../../../services/core/events/event-types.js';
import { aurocWithDeLong, sortScoresByClass } from '../../../services/core/metrics/performance/binary-classification.js';
import { SCENARIO_NAMES, scenario, type ScenarioName } from '../../../services/simulator/scenarios.js';
import { trafficSchedule } from '../../../services/simulator/traffic-schedule.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 1);
/** 100 predictions a simulated hour for four simulated days, two before the onset and two after, and every outcome. */
const TIMING = { count: 9_600, predictionsPerSecond: 100, accelerationFactor: 3_600, seed: 11, startTime: START, flushOutcomes: true };

interface Played {
  predictions: PredictionEvent[];
  outcomes: OutcomeEvent[];
}

function play(name?: ScenarioName, lastsHours?: number): Played {
  const played: Played = { predictions: [], outcomes: [] };
  for (const event of trafficSchedule({ ...TIMING, ...(name ? { scenario: scenario(name, { lastsHours }) } : {}) })) {
    if (event.kind === 'prediction') played.predictions.push(event.event);
    else played.outcomes.push(event.event);
  }
  return played;
}

const onsetTime = START + 48 * HOUR;
const before = (events: readonly PredictionEvent[]): PredictionEvent[] => events.filter((event) => event.occurred_at < onsetTime);
const after = (events: readonly PredictionEvent[]): PredictionEvent[] => events.filter((event) => event.occurred_at >= onsetTime);
const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const numeric = (events: readonly PredictionEvent[], feature: string): number[] =>
  events.flatMap((event) => (typeof event.features[feature] === 'number' ? [event.features[feature] as number] : []));
const atSite = (events: readonly PredictionEvent[], site: string): PredictionEvent[] => events.filter((event) => event.segments.site === site);
const missingShare = (events: readonly PredictionEvent[], feature: string): number => mean(events.map((event) => (event.features[feature] === null ? 1 : 0)));

function labelsOf(played: Played, predictions: readonly PredictionEvent[]): { scores: number[]; labels: number[] } {
  const labelByPrediction = new Map(played.outcomes.map((outcome) => [outcome.prediction_id, outcome.label.kind === 'binary' ? outcome.label.value : -1]));
  const scores: number[] = [];
  const labels: number[] = [];
  for (const prediction of predictions) {
    const label = labelByPrediction.get(prediction.prediction_id);
    if (label === undefined) continue;
    scores.push(prediction.score);
    labels.push(label);
  }
  return { scores, labels };
}

function auroc(played: Played, predictions: readonly PredictionEvent[]): number {
  const { scores, labels } = labelsOf(played, predictions);
  const estimate = aurocWithDeLong(sortScoresByClass(scores, labels, labels.filter((label) => label === 1).length), 0.95);
  if (!estimate.defined) throw new Error(estimate.reason);
  return estimate.value.value;
}

describe('clinical drift scenarios', () => {
  const stable = play();

  it.each(SCENARIO_NAMES)('%s leaves the world as validated until its onset', (name) => {
    const played = play(name);
    expect(before(played.predictions)).toEqual(before(stable.predictions));
    const definition = scenario(name);
    expect(definition.onsetAfterHours).toBe(48);
    expect(definition.story.length).toBeGreaterThan(20);
    // Every scenario but stable names what should detect it.
    expect(definition.detectedBy.length > 0).toBe(name !== 'stable');
  });

  it('stable is the validated world throughout', () => {
    expect(play('stable')).toEqual(stable);
  });

  it('lab-unit-change: site-b reports creatinine in µmol/L, the other sites in mg/dL', () => {
    const changed = after(play('lab-unit-change').predictions);
    expect(Math.min(...numeric(atSite(changed, 'site-b'), 'creatinine'))).toBeGreaterThan(20);
    expect(Math.max(...numeric(atSite(changed, 'site-a'), 'creatinine'))).toBeLessThan(15);
  });

  it('population-shift: patients are older', () => {
    const played = play('population-shift');
    expect(mean(numeric(after(played.predictions), 'age'))).toBeGreaterThan(mean(numeric(before(played.predictions), 'age')) + 7);
  });

  it('prevalence-shift: more patients turn septic', () => {
    const played = play('prevalence-shift');
    const rate = (predictions: readonly PredictionEvent[]): number => mean(labelsOf(played, predictions).labels);
    expect(rate(after(played.predictions))).toBeGreaterThan(1.5 * rate(before(played.predictions)));
  });

  it('missingness-spike: site-c sends no lab values, the other sites as before', () => {
    const changed = after(play('missingness-spike').predictions);
    for (const lab of ['lactate', 'creatinine', 'wbc', 'platelets']) expect(missingShare(atSite(changed, 'site-c'), lab)).toBe(1);
    expect(missingShare(atSite(changed, 'site-a'), 'lactate')).toBeLessThan(0.3);
  });

  it('concept-drift: discrimination falls while the inputs look the same', () => {
    const played = play('concept-drift');
    expect(auroc(played, after(played.predictions))).toBeLessThan(auroc(played, before(played.predictions)) - 0.08);
    expect(after(played.predictions).map((event) => event.score)).toEqual(after(stable.predictions).map((event) => event.score));
  });

  it('silent-site: site-a sends nothing after the onset', () => {
    const played = play('silent-site');
    expect(atSite(after(played.predictions), 'site-a')).toHaveLength(0);
    expect(atSite(before(played.predictions), 'site-a').length).toBeGreaterThan(1_500);
    expect(after(played.predictions).length).toBeGreaterThan(0.4 * after(stable.predictions).length);
  });

  it('label-delay: outcomes take four times as long after the onset', () => {
    const played = play('label-delay');
    const occurredAt = new Map(played.predictions.map((event) => [event.prediction_id, event.occurred_at]));
    const delays = (predicate: (time: number) => boolean): number[] =>
      played.outcomes.flatMap((outcome) => {
        const time = occurredAt.get(outcome.prediction_id) as number;
        return predicate(time) ? [(outcome.observed_at - time) / HOUR] : [];
      });
    const early = mean(delays((time) => time < onsetTime));
    const late = mean(delays((time) => time >= onsetTime));
    expect(late / early).toBeGreaterThan(3.5);
    expect(late / early).toBeLessThan(4.5);
  });

  describe('with an end', () => {
    /** A day of change from hour 48, then a day of the world as validated. */
    const LASTS_HOURS = 24;
    const endTime = onsetTime + LASTS_HOURS * HOUR;
    const during = (events: readonly PredictionEvent[]): PredictionEvent[] => events.filter((event) => event.occurred_at >= onsetTime && event.occurred_at < endTime);
    const afterEnd = (events: readonly PredictionEvent[]): PredictionEvent[] => events.filter((event) => event.occurred_at >= endTime);

    it('has none unless one is given, and only a positive number of hours', () => {
      for (const name of SCENARIO_NAMES) expect(scenario(name).lastsHours).toBeUndefined();
      expect(scenario('silent-site', { lastsHours: 6 })).toEqual({ ...scenario('silent-site'), lastsHours: 6 });
      for (const hours of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => scenario('stable', { lastsHours: hours })).toThrowError(RangeError);
    });

    it.each(SCENARIO_NAMES)('%s plays as without an end until the end', (name) => {
      const ending = play(name, LASTS_HOURS);
      const endless = play(name);
      const untilEnd = (events: readonly PredictionEvent[]): PredictionEvent[] => events.filter((event) => event.occurred_at < endTime);
      expect(untilEnd(ending.predictions)).toEqual(untilEnd(endless.predictions));
    });

    it('lab-unit-change: site-b reports creatinine in mg/dL again after the end, as in the validated world', () => {
      const played = play('lab-unit-change', LASTS_HOURS);
      expect(Math.min(...numeric(atSite(during(played.predictions), 'site-b'), 'creatinine'))).toBeGreaterThan(20);
      expect(Math.max(...numeric(atSite(afterEnd(played.predictions), 'site-b'), 'creatinine'))).toBeLessThan(15);
      // The unit is the only change, so the traffic after the end is the stable world's own.
      expect(afterEnd(played.predictions)).toEqual(afterEnd(stable.predictions));
    });

    it('silent-site: site-a sends again after the end', () => {
      const played = play('silent-site', LASTS_HOURS);
      expect(atSite(during(played.predictions), 'site-a')).toHaveLength(0);
      expect(afterEnd(played.predictions)).toEqual(afterEnd(stable.predictions));
      expect(atSite(afterEnd(played.predictions), 'site-a').length).toBeGreaterThan(700);
    });

    it('label-delay: outcomes of predictions made after the end take their usual time again', () => {
      const played = play('label-delay', LASTS_HOURS);
      const occurredAt = new Map(played.predictions.map((event) => [event.prediction_id, event.occurred_at]));
      const delaysOf = (predictions: readonly PredictionEvent[]): number[] => {
        const ids = new Set(predictions.map((event) => event.prediction_id));
        return played.outcomes.flatMap((outcome) => (ids.has(outcome.prediction_id) ? [(outcome.observed_at - (occurredAt.get(outcome.prediction_id) as number)) / HOUR] : []));
      };
      expect(Math.max(...delaysOf(during(played.predictions)))).toBeGreaterThan(100);
      const usual = delaysOf(afterEnd(played.predictions));
      expect(usual.length).toBeGreaterThan(1_500);
      expect(Math.max(...usual)).toBeLessThanOrEqual(48);
      expect(Math.min(...usual)).toBeGreaterThanOrEqual(6);
    });
  });
});
