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

function play(name?: ScenarioName): Played {
  const played: Played = { predictions: [], outcomes: [] };
  for (const event of trafficSchedule({ ...TIMING, ...(name ? { scenario: scenario(name) } : {}) })) {
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
});
