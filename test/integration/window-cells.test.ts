import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOutcomeRow, toPredictionRow, type EventLineage } from '../../services/adapters/clickhouse/event-store.js';
import { MonitorQueries } from '../../services/adapters/clickhouse/monitor-queries.js';
import { readWindowCells } from '../../services/adapters/clickhouse/window-cells.js';
import type { WindowAccounting, WindowCells } from '../../services/core/monitoring/window-parts.js';
import type { FeatureValue, OutcomeEvent, OutcomeLabel, PredictionEvent } from '../../services/core/events/event-types.js';
import type { ReliabilityBin } from '../../services/core/metrics/calibration/calibration.js';
import { MISSING_GROUP } from '../../services/core/metrics/fairness/group-fairness.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';
import type { MetricThreshold } from '../../services/core/metrics/rows/threshold-policy.js';
import { windowReport } from '../../services/core/metrics/rows/window-report.js';
import type { NumericReferenceProfile, SerializedNumericFeatureSketch } from '../../services/core/metrics/sketches/numeric-feature-sketch.js';
import { LabelDelaySketch } from '../../services/core/metrics/sketches/label-delay-sketch.js';
import {
  fitReferenceProfile,
  WindowSketch,
  type PredictionObservation,
  type ReferenceProfile,
  type SerializedWindowSketch,
  type WindowShape,
} from '../../services/core/metrics/sketches/window-sketch.js';
import { labelRows } from '../../services/core/monitoring/label-rows.js';
import { createRandom, type RandomSource } from '../../services/simulator/random.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

// The window's sketches built by ClickHouse from the stored events are held, cell for cell, to the
// sketches the core builds from the same events with addPrediction and addOutcome. The events aim at
// every place where the two could part: values on and beside the reference bin edges and on the
// grid lines, out of range, missing or absent; unseen categories and booleans; scores at 0, 1 and
// on bin edges; replayed duplicates, repeated prediction ids, several outcomes per prediction,
// non-binary labels, mistyped features, outcomes without a prediction, another model's events, and
// events just outside the window on both sides. The window spans a month boundary, so two partitions.

const MODEL = 'sepsis-risk';
const WINDOW_START = Date.UTC(2026, 9, 31, 22);
const WINDOW_END = Date.UTC(2026, 10, 1, 4);
const HOUR = 3_600_000;

const shape: WindowShape = {
  features: [
    { name: 'heart_rate', type: 'numeric' },
    { name: 'lactate', type: 'numeric' },
    { name: 'prior_admissions', type: 'numeric' },
    { name: 'ventilated', type: 'numeric' },
    { name: 'bicarbonate', type: 'numeric' },
    { name: 'admission_source', type: 'categorical' },
    { name: 'on_antibiotics', type: 'categorical' },
  ],
  scoreColumn: 'risk',
  segments: ['site', 'sex'],
};

const roundedLactate = (random: RandomSource): number => Math.round(Math.exp(random.normal(0.5, 0.5)) * 10) / 10;

/**
 * A reference with a continuous feature, a rounded one (ties on the edges), a small-integer one, a
 * constant one (a single edge, a 1e-9-wide grid) and one never observed (an infinite range).
 */
function fitProfile(): ReferenceProfile {
  const random = createRandom(7);
  const size = 4000;
  const numeric: Record<string, (number | null)[]> = {
    heart_rate: Array.from({ length: size }, () => random.normal(85, 15)),
    lactate: Array.from({ length: size }, () => (random.chance(0.05) ? null : roundedLactate(random))),
    prior_admissions: Array.from({ length: size }, () => Math.floor(random.uniform() ** 2 * 7)),
    ventilated: Array.from({ length: size }, () => 0),
    bicarbonate: Array.from({ length: size }, () => null),
  };
  const categorical: Record<string, (string | null)[]> = {
    admission_source: Array.from({ length: size }, () => (random.chance(0.03) ? null : random.choose([['ED', 5], ['ward', 3], ['ICU-transfer', 1]]))),
    on_antibiotics: Array.from({ length: size }, () => (random.chance(0.4) ? 'true' : 'false')),
  };
  const scores = Array.from({ length: size }, () => random.uniform() ** 1.5);
  return fitReferenceProfile(shape, { numeric: (name) => numeric[name]!, categorical: (name) => categorical[name]!, scores });
}

const numericProfile = (profile: ReferenceProfile, name: string): NumericReferenceProfile => {
  const feature = profile.features.find((candidate) => candidate.name === name);
  if (feature?.type !== 'numeric') throw new Error(`${name} is not numeric`);
  return feature.profile;
};

/** The neighbouring double above (direction 1) or below (−1) a finite value. */
function neighbour(value: number, direction: 1 | -1): number {
  if (value === 0) return direction * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, bits + (value > 0 ? BigInt(direction) : BigInt(-direction)));
  return view.getFloat64(0);
}

/** A value of a numeric feature aimed at the places where binning could differ. */
function awkwardValue(random: RandomSource, reference: NumericReferenceProfile, typical: () => number): FeatureValue | undefined {
  const pick = random.uniform();
  const edges = reference.innerEdges;
  const { origin, width } = reference.values.grid;
  if (pick < 0.04) return null;
  if (pick < 0.07) return undefined;
  if (pick < 0.13 && edges.length > 0) return edges[Math.floor(random.uniform() * edges.length)]!;
  if (pick < 0.17 && edges.length > 0) return neighbour(edges[Math.floor(random.uniform() * edges.length)]!, random.chance(0.5) ? 1 : -1);
  if (pick < 0.23) return origin + Math.round(random.between(-800, 800)) * width;
  if (pick < 0.26 && Number.isFinite(reference.minimum)) return random.chance(0.5) ? reference.minimum : neighbour(reference.minimum, -1);
  if (pick < 0.29 && Number.isFinite(reference.maximum)) return random.chance(0.5) ? reference.maximum + random.uniform() * 50 : neighbour(reference.maximum, 1);
  return typical();
}

function awkwardScore(random: RandomSource): number {
  const pick = random.uniform();
  if (pick < 0.02) return 0;
  if (pick < 0.04) return 1;
  if (pick < 0.09) return Math.floor(random.uniform() * 10_001) / 10_000;
  if (pick < 0.12) return Math.floor(random.uniform() * 11) / 10;
  if (pick < 0.13) return random.chance(0.5) ? 1e-300 : neighbour(1, -1);
  return random.uniform() ** 1.3;
}

interface GeneratedEvents {
  predictions: PredictionEvent[];
  outcomes: OutcomeEvent[];
}

function generateEvents(profile: ReferenceProfile): GeneratedEvents {
  const random = createRandom(20261101);
  const predictions: PredictionEvent[] = [];
  const outcomes: OutcomeEvent[] = [];
  const referenceOf = (name: string): NumericReferenceProfile => numericProfile(profile, name);

  const prediction = (index: number, occurredAt: number, modelId = MODEL): PredictionEvent => {
    const features: Record<string, FeatureValue> = {};
    const set = (name: string, value: FeatureValue | undefined): void => {
      if (value !== undefined) features[name] = value;
    };
    set('heart_rate', awkwardValue(random, referenceOf('heart_rate'), () => random.normal(90, 18)));
    set('lactate', awkwardValue(random, referenceOf('lactate'), () => roundedLactate(random)));
    set('prior_admissions', awkwardValue(random, referenceOf('prior_admissions'), () => Math.floor(random.uniform() * 9)));
    set('ventilated', awkwardValue(random, referenceOf('ventilated'), () => (random.chance(0.2) ? 1 : 0)));
    set('bicarbonate', random.chance(0.3) ? null : random.normal(24, 3));
    set('admission_source', random.choose<FeatureValue | undefined>([['ED', 5], ['ward', 3], ['ICU-transfer', 1], ['direct', 1], ['transfer-unit', 0.5], [null, 0.3], [undefined, 0.3]]));
    set('on_antibiotics', random.choose<FeatureValue | undefined>([[true, 4], [false, 5], [null, 0.5]]));
    const segments: Record<string, string> = {};
    const site = random.choose<string | undefined>([['north', 5], ['south', 3], ['east', 1], [undefined, 0.5]]);
    if (site !== undefined) segments.site = site;
    segments.sex = random.chance(0.5) ? 'F' : 'M';
    return {
      event_id: `${modelId}-p-${index}`,
      model_id: modelId,
      model_version: '2.3.0',
      prediction_id: `pid-${index}`,
      occurred_at: occurredAt,
      entity_key: `enc-${index.toString(16)}`,
      features,
      score: awkwardScore(random),
      predicted_label: null,
      decision_threshold: 0.3,
      segments,
      producer: { service: 'sepsis-risk-inference', request_id: null },
      input_hash: null,
    };
  };
  const inWindow = (): number => WINDOW_START + Math.floor(random.uniform() * (WINDOW_END - WINDOW_START));

  for (let index = 0; index < 3000; index++) {
    const occurredAt = index === 0 ? WINDOW_START : index === 1 ? WINDOW_END - 1 : inWindow();
    predictions.push(prediction(index, occurredAt));
  }
  for (let index = 3000; index < 3300; index++) {
    const before = index === 3000 ? WINDOW_START - 1 : WINDOW_START - 1 - Math.floor(random.uniform() * HOUR);
    const after = index === 3001 ? WINDOW_END : WINDOW_END + Math.floor(random.uniform() * HOUR);
    predictions.push(prediction(index, index % 2 === 0 ? before : after));
  }
  // Another model's predictions share the window and the prediction ids, and must stay out.
  for (let index = 0; index < 200; index++) predictions.push(prediction(index, inWindow(), 'readmission-risk'));

  // Prediction ids carried by more than one event: the earliest (occurred_at, event_id) is the prediction.
  const copy = (original: PredictionEvent, suffix: string, occurredAt: number): PredictionEvent => ({ ...original, event_id: `${original.event_id}-${suffix}`, occurred_at: occurredAt, score: awkwardScore(random) });
  for (let index = 10; index < 40; index++) {
    const original = predictions[index]!;
    const shift = index % 3 === 0 ? 0 : index % 3 === 1 ? 60_000 : -60_000;
    predictions.push(copy(original, 'again', Math.min(WINDOW_END - 1, Math.max(WINDOW_START, original.occurred_at + shift))));
  }
  for (let index = 40; index < 50; index++) predictions.push(copy(predictions[index]!, 'earlier', WINDOW_START - 2 * HOUR));
  for (let index = 50; index < 60; index++) predictions.push(copy(predictions[index]!, 'later', WINDOW_END + 2 * HOUR));

  // Features of the wrong type: the prediction is refused whole.
  for (let index = 60; index < 90; index++) {
    const features = predictions[index]!.features;
    if (index % 3 === 0) features.lactate = '2.1';
    else if (index % 3 === 1) features.prior_admissions = true;
    else features.admission_source = 3;
  }

  const binaryLabel = (score: number): OutcomeLabel => ({ kind: 'binary', value: random.chance(0.1 + 0.8 * score) ? 1 : 0 });
  const outcomeOf = (target: PredictionEvent, suffix: string, observedAt: number, label: OutcomeLabel): OutcomeEvent => ({
    event_id: `${target.model_id}-o-${target.prediction_id}-${suffix}`,
    model_id: target.model_id,
    prediction_id: target.prediction_id,
    observed_at: observedAt,
    label,
    source: 'ehr-adjudication',
  });
  for (const target of predictions) {
    if (target.event_id.endsWith('-again') || target.event_id.endsWith('-earlier') || target.event_id.endsWith('-later') || !random.chance(0.75)) continue;
    const observedAt = target.occurred_at + Math.floor(random.between(1, 72) * HOUR);
    outcomes.push(outcomeOf(target, 'first', observedAt, binaryLabel(target.score)));
    const extra = random.uniform();
    if (extra < 0.1) outcomes.push(outcomeOf(target, 'corrected', observedAt + HOUR, binaryLabel(1 - target.score)));
    else if (extra < 0.13) outcomes.push(outcomeOf(target, 'same-time', observedAt, binaryLabel(1 - target.score)));
    else if (extra < 0.16) outcomes.push(outcomeOf(target, 'regression', observedAt + HOUR, { kind: 'regression', value: 3.5 }));
    else if (extra < 0.18) outcomes.push(outcomeOf(target, 'class', observedAt + HOUR, { kind: 'class', value: 'septic-shock' }));
    else if (extra < 0.2) {
      outcomes.push(outcomeOf(target, 'class', observedAt + HOUR, { kind: 'class', value: 'septic-shock' }));
      outcomes.push(outcomeOf(target, 'final', observedAt + 2 * HOUR, binaryLabel(target.score)));
    }
  }
  // Outcomes whose prediction was never stored, observed inside and outside the window.
  for (let index = 0; index < 40; index++) {
    const observedAt = index === 0 ? WINDOW_START : index === 1 ? WINDOW_END : index % 2 === 0 ? inWindow() : WINDOW_END + Math.floor(random.uniform() * HOUR);
    outcomes.push({ event_id: `${MODEL}-o-ghost-${index}`, model_id: MODEL, prediction_id: `ghost-${index}`, observed_at: observedAt, label: binaryLabel(0.5), source: 'ehr-adjudication' });
  }
  return { predictions, outcomes };
}

const lineage = (offset: number): EventLineage => ({ topic: 'vigil.test', partition: 0, offset: String(offset), schemaId: 1 });

/** Stores every event once, then a tenth of them again as a replay would, in the same batch and in a later one. */
async function storeEvents(storage: StorageHarness, events: GeneratedEvents): Promise<void> {
  const predictionRows = events.predictions.map((event, index) => toPredictionRow(event, lineage(index), WINDOW_END + HOUR));
  const outcomeRows = events.outcomes.map((event, index) => toOutcomeRow(event, lineage(index), WINDOW_END + HOUR));
  const replayed = <Row>(rows: readonly Row[], from: number): Row[] => rows.filter((_, index) => index % 10 === from);
  await storage.store.insert('predictions', [...predictionRows, ...replayed(predictionRows, 3)]);
  await storage.store.insert('outcomes', [...outcomeRows, ...replayed(outcomeRows, 3)]);
  await storage.store.insert('predictions', replayed(predictionRows, 7));
  await storage.store.insert('outcomes', replayed(outcomeRows, 7));
}

/** Booleans are categories "true" and "false", as datasets read them; a boolean numeric value is refused. */
function observationOf(event: PredictionEvent): PredictionObservation {
  const features: Record<string, number | string | null> = {};
  for (const feature of shape.features) {
    const value = event.features[feature.name] ?? null;
    features[feature.name] = typeof value === 'boolean' ? String(value) : value;
  }
  return { features, score: event.score };
}

const laterThan = (left: readonly [number, string], right: readonly [number, string]): boolean => left[0] > right[0] || (left[0] === right[0] && left[1] > right[1]);

interface CoreWindow {
  window: WindowSketch;
  accounting: WindowAccounting;
  /** Seconds from each scored outcome's prediction to its observation. */
  delaysMs: number[];
  /** Sketched predictions per group of each segment attribute. */
  segmentGroups: Map<string, Map<string, number>>;
}

/** The window as the module comment of window-cells.ts defines it, built by the core event by event. */
function coreWindow(profile: ReferenceProfile, events: GeneratedEvents): CoreWindow {
  const predictions = events.predictions.filter((event) => event.model_id === MODEL);
  const outcomes = events.outcomes.filter((event) => event.model_id === MODEL);
  const inWindow = (time: number): boolean => time >= WINDOW_START && time < WINDOW_END;
  const firstCopies = new Map<string, PredictionEvent>();
  for (const event of predictions) {
    const first = firstCopies.get(event.prediction_id);
    if (first === undefined || laterThan([first.occurred_at, first.event_id], [event.occurred_at, event.event_id])) firstCopies.set(event.prediction_id, event);
  }
  const outcomesOf = new Map<string, OutcomeEvent[]>();
  for (const event of outcomes) outcomesOf.set(event.prediction_id, [...(outcomesOf.get(event.prediction_id) ?? []), event]);

  const window = new WindowSketch(profile);
  const accounting: WindowAccounting = {
    predictions: 0,
    repeatedPredictions: 0,
    refusedPredictions: 0,
    outcomes: 0,
    supersededOutcomes: 0,
    unscoredOutcomes: 0,
    outcomesOfRefusedPredictions: 0,
    outcomesWithoutPrediction: outcomes.filter((event) => inWindow(event.observed_at) && !firstCopies.has(event.prediction_id)).length,
  };
  const delaysMs: number[] = [];
  const segmentGroups = new Map(shape.segments.map((segment) => [segment, new Map<string, number>()]));
  for (const event of predictions) {
    if (!inWindow(event.occurred_at)) continue;
    if (firstCopies.get(event.prediction_id) !== event) {
      accounting.repeatedPredictions += 1;
      continue;
    }
    const ofPrediction = outcomesOf.get(event.prediction_id) ?? [];
    try {
      window.addPrediction(observationOf(event));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      accounting.refusedPredictions += 1;
      accounting.outcomesOfRefusedPredictions += ofPrediction.length;
      continue;
    }
    accounting.predictions += 1;
    for (const [segment, groups] of segmentGroups) {
      const group = event.segments[segment] ?? MISSING_GROUP;
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
    if (ofPrediction.length === 0) continue;
    const latest = ofPrediction.reduce((winner, candidate) => (laterThan([candidate.observed_at, candidate.event_id], [winner.observed_at, winner.event_id]) ? candidate : winner));
    accounting.supersededOutcomes += ofPrediction.length - 1;
    if (latest.label.kind === 'binary' && (latest.label.value === 0 || latest.label.value === 1)) {
      window.addOutcome({ score: event.score, label: latest.label.value, segments: event.segments });
      accounting.outcomes += 1;
      delaysMs.push(latest.observed_at - event.occurred_at);
    } else accounting.unscoredOutcomes += 1;
  }
  return { window, accounting, delaysMs, segmentGroups };
}

/** The quantile interpolated linearly between order statistics (Hyndman and Fan's type 7, numpy's default). */
function linearQuantile(values: readonly number[], level: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const position = level * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

interface FloatingSum {
  value: number;
  terms: number;
}

/** The sketch with every floating-point sum set to 0, and those sums, with their number of terms, in the order of the form. */
function separateSums(serialized: SerializedWindowSketch): { exact: SerializedWindowSketch; sums: FloatingSum[] } {
  const exact = structuredClone(serialized);
  const sums: FloatingSum[] = [];
  const take = (value: number, terms: number): number => {
    sums.push({ value, terms });
    return 0;
  };
  for (const feature of Object.values(exact.features)) {
    if ('values' in feature) for (const cell of feature.values.cells) cell[2] = take(cell[2], cell[1]);
  }
  for (const bin of exact.scores.bins) bin[2] = take(bin[2], bin[1]);
  for (const sketch of [exact.labelled, ...Object.values(exact.groups).flatMap((bySegment) => Object.values(bySegment))]) {
    let rows = 0;
    let positives = 0;
    for (const bin of sketch.bins) {
      bin[3] = take(bin[3], bin[1] + bin[2]);
      rows += bin[1] + bin[2];
      positives += bin[1];
    }
    sketch.squaredScoreSum = take(sketch.squaredScoreSum, rows);
    sketch.positiveScoreSum = take(sketch.positiveScoreSum, positives);
    sketch.logLossSum = take(sketch.logLossSum, rows);
  }
  return { exact, sums };
}

const relativeDifference = (actual: number, expected: number): number => (actual === expected ? 0 : Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE));

/**
 * How far a sum from ClickHouse may be from the core's, relative: sumKahan is within about an ulp
 * of the exact sum and the core adds left to right, at most (n − 1)·ε off for n terms of one sign
 * (every sum here: scores, their squares, log-loss terms, and values within one grid cell). On this
 * data the largest difference is 11 ulps, on sums of about 2,000 terms.
 */
const sumTolerance = (terms: number): number => (terms + 1) * Number.EPSILON;

/** A window read from ClickHouse against the core's sketch of the same events: counts exactly, sums within sumTolerance. */
function expectCellsOfCore(profile: ReferenceProfile, cells: WindowCells, core: WindowSketch): void {
  const fromClickHouse = separateSums(WindowSketch.fromJSON(profile, cells.sketch).toJSON());
  const fromCore = separateSums(core.toJSON());
  expect(fromClickHouse.exact).toEqual(fromCore.exact);
  expect(fromClickHouse.sums).toHaveLength(fromCore.sums.length);
  fromCore.sums.forEach(({ value, terms }, index) => {
    expect(relativeDifference(fromClickHouse.sums[index]!.value, value), `sum ${index} of ${terms} terms`).toBeLessThanOrEqual(sumTolerance(terms));
  });
}

// Rows computed from sums of floating-point scores or values; every other row is computed from counts,
// minima and maxima, which are exact, so those rows must be identical.
const FROM_SUMS = new Set(['wasserstein', 'wasserstein_norm', 'brier', 'log_loss', 'ece', 'calibration_intercept', 'calibration_slope', 'oe_ratio', 'cbpe_auroc']);
const ROW_TOLERANCE = 1e-12;

const THRESHOLDS: Record<string, MetricThreshold> = {
  psi: { warn: 0.1, alert: 0.25, direction: 'above' },
  wasserstein_norm: { warn: 0.1, alert: 0.2, direction: 'above' },
  auroc: { warn: 0.75, alert: 0.7, direction: 'below' },
  brier: { warn: 0.2, alert: 0.25, direction: 'above' },
  ece: { warn: 0.05, alert: 0.1, direction: 'above' },
  demographic_parity_difference: { warn: 0.05, alert: 0.1, direction: 'above' },
};

const reportOf = (window: WindowSketch) =>
  windowReport({ window, decisionThreshold: 0.3, minimumGroupSize: 30, falseDiscoveryRate: 0.05, thresholds: (metric) => THRESHOLDS[metric] });

const rowKey = (row: ResultRow): string => [row.kind, row.metric, row.feature, row.segment, row.group].join('|');

describe.each(['columns', 'arrays'] as const)('a window aggregated in ClickHouse, its numeric cells as %s', (numericCells) => {
  let storage: StorageHarness;
  let profile: ReferenceProfile;
  let events: GeneratedEvents;
  let cells: WindowCells;
  let expected: CoreWindow;

  beforeAll(async () => {
    storage = await openTestStorage();
    profile = fitProfile();
    events = generateEvents(profile);
    await storeEvents(storage, events);
    cells = await readWindowCells(storage.client, storage.target.database, profile, { modelId: MODEL, start: WINDOW_START, end: WINDOW_END }, { numericCells });
    expected = coreWindow(profile, events);
  });
  afterAll(async () => {
    await storage.close();
  });

  it('accounts for every stored event of the window as the core does', () => {
    expect(cells.accounting).toEqual(expected.accounting);
    // The data reaches every branch of the accounting.
    for (const [name, count] of Object.entries(expected.accounting)) expect(count, name).toBeGreaterThan(0);
  });

  it('gives the cells of the core, counts exactly and sums to a few ulps', () => {
    const fromClickHouse = separateSums(WindowSketch.fromJSON(profile, cells.sketch).toJSON());
    const fromCore = separateSums(expected.window.toJSON());
    expect(fromClickHouse.exact).toEqual(fromCore.exact);
    expect(fromClickHouse.sums).toHaveLength(fromCore.sums.length);
    fromCore.sums.forEach(({ value, terms }, index) => {
      expect(relativeDifference(fromClickHouse.sums[index]!.value, value), `sum ${index} of ${terms} terms`).toBeLessThanOrEqual(sumTolerance(terms));
    });

    // The values aimed at the bin edges and grid lines did land there, in both sketches alike.
    const heartRate = numericProfile(profile, 'heart_rate');
    const onEdges = events.predictions.filter((event) => heartRate.innerEdges.includes(event.features.heart_rate as number)).length;
    expect(onEdges).toBeGreaterThan(50);
    expect(fromCore.exact.scores.bins.some(([bin]) => bin === 9_999)).toBe(true);
  });

  it('reports the same rows from both', () => {
    const fromClickHouse = reportOf(WindowSketch.fromJSON(profile, cells.sketch));
    const fromCore = reportOf(expected.window);
    expect(fromClickHouse.rows.map(rowKey)).toEqual(fromCore.rows.map(rowKey));
    expect(fromCore.rows.filter((row) => row.kind === 'fairness').length).toBeGreaterThan(0);
    fromCore.rows.forEach((row, index) => {
      const actual = fromClickHouse.rows[index]!;
      const name = rowKey(row);
      if (!FROM_SUMS.has(row.metric)) {
        expect(actual, name).toEqual(row);
        return;
      }
      expect({ ...actual, value: null, p_value: null, ci_low: null, ci_high: null, reason: null }, name).toEqual({ ...row, value: null, p_value: null, ci_low: null, ci_high: null, reason: null });
      for (const field of ['value', 'p_value', 'ci_low', 'ci_high'] as const) {
        if (row[field] === null) expect(actual[field], `${name} ${field}`).toBeNull();
        else expect(relativeDifference(actual[field]!, row[field]), `${name} ${field}`).toBeLessThanOrEqual(ROW_TOLERANCE);
      }
    });
    // The reliability table: the mean score of a bin comes from sums, everything else from counts.
    const [clickHouseBins, coreBins] = [fromClickHouse.reliability, fromCore.reliability].map((reliability) => (reliability.defined ? reliability.value : []));
    expect(coreBins!.length).toBeGreaterThan(0);
    const countedPart = ({ lower, upper, count, observedRate }: ReliabilityBin) => ({ lower, upper, count, observedRate });
    expect(clickHouseBins!.map(countedPart)).toEqual(coreBins!.map(countedPart));
    coreBins!.forEach((bin, index) => {
      const actual = clickHouseBins![index]!.meanScore;
      expect(actual.defined, `reliability bin ${index}`).toBe(bin.meanScore.defined);
      if (actual.defined && bin.meanScore.defined) expect(relativeDifference(actual.value, bin.meanScore.value), `reliability bin ${index}`).toBeLessThanOrEqual(ROW_TOLERANCE);
    });
  });

  it('gives the label coverage, delay quantiles and unmatched outcomes of the stored events', () => {
    const { delaysMs, accounting } = expected;
    expect(delaysMs).toHaveLength(accounting.outcomes);
    // ClickHouse buckets each delay as the core does, bucket for bucket.
    const coreDelays = new LabelDelaySketch();
    for (const delay of delaysMs) coreDelays.add(delay);
    expect(cells.labelDelays).toEqual(coreDelays.toJSON());
    expect(coreDelays.bucketCount).toBeGreaterThan(10);

    const rows = new Map(labelRows({ ...cells.accounting, delays: LabelDelaySketch.fromJSON(cells.labelDelays) }, 'final', () => undefined).map((row) => [row.metric, row]));
    expect(rows.get('label_coverage')).toMatchObject({ value: accounting.outcomes / accounting.predictions, n_current: accounting.predictions });
    // The quantiles are the exact ones (numpy's linear) within the bound each row states.
    for (const [metric, level] of [['label_delay_median_seconds', 0.5], ['label_delay_p90_seconds', 0.9]] as const) {
      const row = rows.get(metric)!;
      expect(row.n_current).toBe(accounting.outcomes);
      const bound = /within ([0-9.e+-]+) of the exact value|(exactly)/.exec(row.reason ?? '');
      expect(bound, `${metric}: ${row.reason}`).not.toBeNull();
      const stated = bound![2] !== undefined ? 0 : Number(bound![1]);
      const exact = linearQuantile(delaysMs, level) / 1000;
      expect(Math.abs(row.value! - exact), metric).toBeLessThanOrEqual(stated + 4 * Number.EPSILON * exact);
      expect(stated, metric).toBeLessThanOrEqual(exact / 256);
    }
    expect(rows.get('unmatched_outcomes')?.value).toBe(accounting.outcomesWithoutPrediction);
  });

  it('counts the predictions of each segment group as the core does', () => {
    expect(cells.segmentGroups).toEqual(expected.segmentGroups);
    expect(expected.segmentGroups.get('site')?.get(MISSING_GROUP)).toBeGreaterThan(0);
  });

  it('groups the values beyond the dense cells in ClickHouse when more of them come back than allowed', async () => {
    // The constant ventilated reference has a grid 1e-9 wide, so a value of 1 lies far beyond its dense cells.
    const ventilated = cells.sketch.features.ventilated as SerializedNumericFeatureSketch;
    expect(ventilated.values.cells.some(([index]) => index > 1)).toBe(true);
    const grouped = await readWindowCells(storage.client, storage.target.database, profile, { modelId: MODEL, start: WINDOW_START, end: WINDOW_END }, { outsideValuesPerFeature: 1, numericCells });
    expectCellsOfCore(profile, grouped, expected.window);
    expect(grouped.accounting).toEqual(expected.accounting);
  });

  it('gives the same cells with the window rows computed again by each part of the query, as a server before 26.3 does', async () => {
    const inlined = await readWindowCells(storage.client, storage.target.database, profile, { modelId: MODEL, start: WINDOW_START, end: WINDOW_END }, { materializeWindowRows: false, numericCells });
    expectCellsOfCore(profile, inlined, expected.window);
    expect(inlined.accounting).toEqual(expected.accounting);
    expect(inlined.segmentGroups).toEqual(expected.segmentGroups);
    expect(inlined.labelDelays).toEqual(cells.labelDelays);
  });

  it('reads a model with no features but its score and no segment attributes', async () => {
    const minimalShape: WindowShape = { features: [], scoreColumn: 'risk', segments: [] };
    const random = createRandom(11);
    const minimal = fitReferenceProfile(minimalShape, { numeric: () => [], categorical: () => [], scores: Array.from({ length: 500 }, () => random.uniform()) });
    const modelId = 'triage-minimal';
    const predictions = Array.from({ length: 300 }, (_, index) => ({
      ...events.predictions[index]!,
      event_id: `${modelId}-p-${index}`,
      model_id: modelId,
      prediction_id: `minimal-${index}`,
      score: awkwardScore(random),
    }));
    const outcomes = predictions
      .filter((_, index) => index % 3 !== 0)
      .map((prediction, index): OutcomeEvent => ({
        event_id: `${modelId}-o-${index}`,
        model_id: modelId,
        prediction_id: prediction.prediction_id,
        observed_at: prediction.occurred_at + HOUR,
        label: { kind: 'binary', value: random.chance(prediction.score) ? 1 : 0 },
        source: 'ehr-adjudication',
      }));
    await storage.store.insert('predictions', predictions.map((event, index) => toPredictionRow(event, lineage(200_000 + index), WINDOW_END + HOUR)));
    await storage.store.insert('outcomes', outcomes.map((event, index) => toOutcomeRow(event, lineage(300_000 + index), WINDOW_END + HOUR)));

    const read = await readWindowCells(storage.client, storage.target.database, minimal, { modelId, start: WINDOW_START, end: WINDOW_END }, { numericCells });
    const core = new WindowSketch(minimal);
    const inWindow = predictions.filter((event) => event.occurred_at >= WINDOW_START && event.occurred_at < WINDOW_END);
    for (const event of inWindow) core.addPrediction({ features: {}, score: event.score });
    const scored = outcomes.filter((outcome) => inWindow.some((event) => event.prediction_id === outcome.prediction_id));
    for (const outcome of scored) {
      const label = outcome.label.value as 0 | 1;
      core.addOutcome({ score: inWindow.find((event) => event.prediction_id === outcome.prediction_id)!.score, label, segments: {} });
    }
    expectCellsOfCore(minimal, read, core);
    expect(read.accounting).toMatchObject({ predictions: inWindow.length, outcomes: scored.length, repeatedPredictions: 0, refusedPredictions: 0 });
    expect(read.segmentGroups).toEqual(new Map());
  });

  it('gives an empty window for a span without events', async () => {
    const empty = await readWindowCells(storage.client, storage.target.database, profile, { modelId: MODEL, start: WINDOW_END + 10 * HOUR, end: WINDOW_END + 20 * HOUR }, { numericCells });
    expect(WindowSketch.fromJSON(profile, empty.sketch).toJSON()).toEqual(new WindowSketch(profile).toJSON());
    expect(Object.values(empty.accounting).every((count) => count === 0)).toBe(true);
    expect(empty.labelDelays).toEqual({ buckets: [] });
    expect(empty.segmentGroups).toEqual(new Map(shape.segments.map((segment) => [segment, new Map()])));
  });

  it("labels a production baseline's predictions with the outcomes the window scores, and a new outcome is a new digest", async () => {
    const queries = new MonitorQueries(storage.client, storage.target.database);
    // By window-cells.ts's rules: the latest outcome of the prediction_id, by (observed_at, event_id), when binary 0 or 1.
    const latestOf = new Map<string, OutcomeEvent>();
    for (const event of events.outcomes) {
      if (event.model_id !== MODEL) continue;
      const latest = latestOf.get(event.prediction_id);
      if (latest === undefined || laterThan([event.observed_at, event.event_id], [latest.observed_at, latest.event_id])) latestOf.set(event.prediction_id, event);
    }
    const labelOf = (predictionId: string): 0 | 1 | null => {
      const label = latestOf.get(predictionId)?.label;
      return label?.kind === 'binary' && (label.value === 0 || label.value === 1) ? label.value : null;
    };
    const accepted = (event: PredictionEvent): boolean => {
      try {
        new WindowSketch(profile).addPrediction(observationOf(event));
        return true;
      } catch (error) {
        if (error instanceof RangeError) return false;
        throw error;
      }
    };
    // Each prediction_id once, as a window counts it: its earliest copy (occurred_at, then event_id)
    // before the range's end, when that copy is in the range and accepted.
    const expectedRows = (from: number, to: number): [number, 0 | 1 | null][] => {
      const firstCopies = new Map<string, PredictionEvent>();
      for (const event of events.predictions) {
        if (event.model_id !== MODEL || event.occurred_at >= to) continue;
        const first = firstCopies.get(event.prediction_id);
        if (first === undefined || laterThan([first.occurred_at, first.event_id], [event.occurred_at, event.event_id])) firstCopies.set(event.prediction_id, event);
      }
      return [...firstCopies.values()].filter((event) => event.occurred_at >= from && accepted(event)).map((event) => [event.score, labelOf(event.prediction_id)]);
    };
    const byScoreThenLabel = (left: [number, 0 | 1 | null], right: [number, 0 | 1 | null]): number => left[0] - right[0] || (left[1] ?? -1) - (right[1] ?? -1);

    const baseline = await queries.baselineColumns(MODEL, shape, { from: WINDOW_START, to: WINDOW_END }, 'sepsis');
    const read = Array.from(baseline.columns.scores, (score, row): [number, 0 | 1 | null] => [score, baseline.columns.labels[row]!]);
    const expectedInWindow = expectedRows(WINDOW_START, WINDOW_END);
    expect(read.sort(byScoreThenLabel)).toEqual(expectedInWindow.sort(byScoreThenLabel));
    // The range holds repeated prediction ids, which count once, as in the window.
    expect(events.predictions.filter((event) => event.model_id === MODEL && event.occurred_at >= WINDOW_START && event.occurred_at < WINDOW_END && accepted(event)).length).toBeGreaterThan(expectedInWindow.length);
    // Every kind of outcome reaches the baseline: scored ones of both classes, and predictions left without a label.
    expect(new Set(baseline.columns.labels)).toEqual(new Set([0, 1, null]));

    // Predictions just after the window: correcting one's outcome changes its label and the digest, and only then.
    const range = { from: WINDOW_END, to: WINDOW_END + HOUR };
    const before = await queries.baselineColumns(MODEL, shape, range, 'sepsis');
    expect((await queries.baselineColumns(MODEL, shape, range, 'sepsis')).digest).toBe(before.digest);
    const target = events.predictions.find((event) => event.model_id === MODEL && event.occurred_at >= range.from && event.occurred_at < range.to && accepted(event) && labelOf(event.prediction_id) !== null)!;
    const corrected: OutcomeEvent = {
      event_id: `${MODEL}-o-${target.prediction_id}-recheck`,
      model_id: MODEL,
      prediction_id: target.prediction_id,
      observed_at: latestOf.get(target.prediction_id)!.observed_at + HOUR,
      label: { kind: 'binary', value: labelOf(target.prediction_id) === 1 ? 0 : 1 },
      source: 'ehr-adjudication',
    };
    await storage.store.insert('outcomes', [toOutcomeRow(corrected, lineage(100_000), WINDOW_END + 2 * HOUR)]);
    const after = await queries.baselineColumns(MODEL, shape, range, 'sepsis');
    expect(after.digest).not.toBe(before.digest);
    expect(Array.from(after.columns.scores)).toEqual(Array.from(before.columns.scores));
    const changed = after.columns.labels.flatMap((label, row) => (label === before.columns.labels[row] ? [] : [row]));
    expect(changed).toHaveLength(events.predictions.filter((event) => event.model_id === MODEL && event.prediction_id === target.prediction_id && event.occurred_at >= range.from && event.occurred_at < range.to).length);
    expect(after.columns.labels[changed[0]!]).toBe(corrected.label.value);
  });
});
