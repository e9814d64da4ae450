import { categoryCounts, type CategoricalValues, type CategoryCounts } from '../drift/categorical-drift.js';
import { fitEstimationReference, type EstimationReference } from '../estimation/reference-estimation.js';
import { MISSING_GROUP } from '../fairness/group-fairness.js';
import { numericSample, type NumericValues } from '../statistics/numeric-sample.js';
import { CategoryCountSketch } from './category-count-sketch.js';
import {
  NumericFeatureSketch,
  numericReferenceProfile,
  type NumericProfileOptions,
  type NumericReferenceProfile,
  type SerializedNumericFeatureSketch,
} from './numeric-feature-sketch.js';
import { DEFAULT_RESOLUTION, ScoreLabelSketch, type SerializedScoreLabelSketch } from './score-label-sketch.js';
import { ScoreSketch, type SerializedScoreSketch } from './score-sketch.js';

/** What a model's windows summarise: its features, its score column and its segment attributes. */
export interface WindowShape {
  features: readonly { name: string; type: 'numeric' | 'categorical' }[];
  scoreColumn: string;
  segments: readonly string[];
}

export type FeatureReference =
  | { name: string; type: 'numeric'; profile: NumericReferenceProfile }
  | { name: string; type: 'categorical'; counts: CategoryCounts };

/**
 * The reference side of every comparison, fitted once from the reference dataset: each feature's
 * profile, then the score column's, in the order of the shape, and what confidence-based
 * estimation fits on the reference's labelled rows (its calibration and sampling-error components).
 */
export interface ReferenceProfile {
  shape: WindowShape;
  features: readonly FeatureReference[];
  estimation: EstimationReference;
}

export interface ReferenceColumns {
  numeric(name: string): NumericValues;
  categorical(name: string): CategoricalValues;
  scores: ArrayLike<number>;
  /** 0, 1 or null (no label) per row; null or absent when the reference has no labels. */
  labels?: ArrayLike<number | null> | null;
}

/**
 * Fits the reference profile; a reference value that is neither valid nor missing is refused. A
 * label that is not 0, 1 or missing leaves the estimation uncalibrated and without a band, saying
 * which row, as the metrics treat unusable data.
 */
export function fitReferenceProfile(shape: WindowShape, reference: ReferenceColumns, options: NumericProfileOptions = {}): ReferenceProfile {
  const numeric = (name: string, values: NumericValues): FeatureReference => {
    const sample = numericSample(values, `reference ${name}`);
    if (!sample.defined) throw new RangeError(sample.reason);
    return { name, type: 'numeric', profile: numericReferenceProfile(sample.value, options) };
  };
  const features = shape.features.map((feature): FeatureReference => {
    if (feature.type === 'numeric') return numeric(feature.name, reference.numeric(feature.name));
    const counted = categoryCounts(reference.categorical(feature.name), `reference ${feature.name}`);
    if (!counted.defined) throw new RangeError(counted.reason);
    return { name: feature.name, type: 'categorical', counts: counted.value };
  });
  features.push(numeric(shape.scoreColumn, reference.scores));
  return { shape, features, estimation: fitEstimationReference(reference.scores, reference.labels ?? null, DEFAULT_RESOLUTION) };
}

/** A prediction as the window sees it: feature values by name (absent means missing) and the score. */
export interface PredictionObservation {
  features: Readonly<Record<string, number | string | null | undefined>>;
  score: number;
}

/** An outcome joined to its prediction: the prediction's score and segment values, and the label. */
export interface OutcomeObservation {
  score: number;
  label: 0 | 1;
  segments: Readonly<Record<string, string | null | undefined>>;
}

type FeatureSketch = { type: 'numeric'; sketch: NumericFeatureSketch } | { type: 'categorical'; sketch: CategoryCountSketch };

/**
 * Everything Vigil needs to report on one window of one model, without its rows: per feature
 * (and for the score) a NumericFeatureSketch or CategoryCountSketch, the scores of all
 * predictions (ScoreSketch, for the label-free estimate), and the scores with their labels for
 * the whole population and for every group of every segment attribute (ScoreLabelSketch).
 *
 * Predictions and outcomes are added separately, because an outcome arrives hours or days after
 * its prediction; a window's performance covers the predictions whose outcome has arrived.
 * A row that fails validation is refused with a RangeError before anything is counted, so the
 * sketch is unchanged by it. merge(a, b) has exactly the counts of the sketch of a ∪ b.
 */
export class WindowSketch {
  private readonly featureSketches: Map<string, FeatureSketch>;
  scores: ScoreSketch;
  labelled: ScoreLabelSketch;
  /** segment attribute → group → scores and labels of that group. */
  readonly groups: Map<string, Map<string, ScoreLabelSketch>>;

  constructor(readonly profile: ReferenceProfile) {
    this.featureSketches = new Map(
      profile.features.map((feature): [string, FeatureSketch] =>
        feature.type === 'numeric'
          ? [feature.name, { type: 'numeric', sketch: new NumericFeatureSketch(feature.profile) }]
          : [feature.name, { type: 'categorical', sketch: new CategoryCountSketch() }],
      ),
    );
    this.scores = new ScoreSketch();
    this.labelled = new ScoreLabelSketch();
    this.groups = new Map(profile.shape.segments.map((segment) => [segment, new Map()]));
  }

  feature(name: string): FeatureSketch {
    const sketch = this.featureSketches.get(name);
    if (sketch === undefined) throw new RangeError(`the window has no feature ${name}`);
    return sketch;
  }

  get predictionCount(): number {
    return this.scores.count;
  }

  get outcomeCount(): number {
    return this.labelled.positiveCount + this.labelled.negativeCount;
  }

  addPrediction(prediction: PredictionObservation): void {
    assertScore(prediction.score);
    const { shape } = this.profile;
    const values = shape.features.map((feature) => {
      const value = prediction.features[feature.name] ?? null;
      if (value === null) return null;
      if (feature.type === 'numeric' ? typeof value !== 'number' || !Number.isFinite(value) : typeof value !== 'string') {
        throw new RangeError(`feature ${feature.name} is ${typeof value === 'number' ? value : typeof value}; expected ${feature.type === 'numeric' ? 'a finite number' : 'a string'} or null`);
      }
      return value;
    });
    shape.features.forEach((feature, index) => {
      const value = values[index]!;
      const entry = this.feature(feature.name);
      if (entry.type === 'numeric') entry.sketch.add(value as number | null);
      else entry.sketch.add(value as string | null);
    });
    (this.feature(shape.scoreColumn).sketch as NumericFeatureSketch).add(prediction.score);
    this.scores.add(prediction.score);
  }

  addOutcome(outcome: OutcomeObservation): void {
    assertScore(outcome.score);
    if (outcome.label !== 0 && outcome.label !== 1) throw new RangeError(`label is ${String(outcome.label)}; expected 0 or 1`);
    const groups = this.profile.shape.segments.map((segment) => {
      const group = outcome.segments[segment] ?? MISSING_GROUP;
      if (typeof group !== 'string') throw new RangeError(`segment ${segment} is ${typeof group}; expected a string or null`);
      return group;
    });
    this.labelled.add(outcome.score, outcome.label);
    this.profile.shape.segments.forEach((segment, index) => {
      const bySegment = this.groups.get(segment)!;
      const group = groups[index]!;
      let sketch = bySegment.get(group);
      if (sketch === undefined) {
        sketch = new ScoreLabelSketch();
        bySegment.set(group, sketch);
      }
      sketch.add(outcome.score, outcome.label);
    });
  }

  merge(other: WindowSketch): WindowSketch {
    if (other.profile !== this.profile) throw new RangeError('windows of different reference profiles cannot be merged');
    const merged = new WindowSketch(this.profile);
    for (const [name, entry] of this.featureSketches) {
      const otherEntry = other.feature(name);
      merged.featureSketches.set(
        name,
        entry.type === 'numeric'
          ? { type: 'numeric', sketch: entry.sketch.merge(otherEntry.sketch as NumericFeatureSketch) }
          : { type: 'categorical', sketch: entry.sketch.merge(otherEntry.sketch as CategoryCountSketch) },
      );
    }
    merged.scores = this.scores.merge(other.scores);
    merged.labelled = this.labelled.merge(other.labelled);
    for (const [segment, bySegment] of merged.groups) {
      for (const source of [this, other]) {
        for (const [group, sketch] of source.groups.get(segment)!) {
          const existing = bySegment.get(group);
          bySegment.set(group, existing === undefined ? sketch.merge(new ScoreLabelSketch(sketch.resolution)) : existing.merge(sketch));
        }
      }
    }
    return merged;
  }

  toJSON(): SerializedWindowSketch {
    const features: SerializedWindowSketch['features'] = {};
    for (const [name, entry] of this.featureSketches) features[name] = entry.sketch.toJSON();
    const groups: SerializedWindowSketch['groups'] = {};
    for (const [segment, bySegment] of this.groups) {
      groups[segment] = Object.fromEntries([...bySegment].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([group, sketch]) => [group, sketch.toJSON()]));
    }
    return { version: 1, features, scores: this.scores.toJSON(), labelled: this.labelled.toJSON(), groups };
  }

  /** Reads a serialised window made on the same reference profile; a mismatch is refused. */
  static fromJSON(profile: ReferenceProfile, serialized: SerializedWindowSketch): WindowSketch {
    if (serialized.version !== 1) throw new RangeError(`unknown window sketch version ${String(serialized.version)}`);
    const window = new WindowSketch(profile);
    for (const feature of profile.features) {
      const stored = serialized.features[feature.name];
      if (stored === undefined) throw new RangeError(`the serialised window has no feature ${feature.name}`);
      window.featureSketches.set(
        feature.name,
        feature.type === 'numeric'
          ? { type: 'numeric', sketch: NumericFeatureSketch.fromJSON(feature.profile, stored as SerializedNumericFeatureSketch) }
          : { type: 'categorical', sketch: CategoryCountSketch.fromJSON(stored as ReturnType<CategoryCountSketch['toJSON']>) },
      );
    }
    window.scores = ScoreSketch.fromJSON(serialized.scores);
    window.labelled = ScoreLabelSketch.fromJSON(serialized.labelled);
    for (const [segment, bySegment] of window.groups) {
      for (const [group, stored] of Object.entries(serialized.groups[segment] ?? {})) bySegment.set(group, ScoreLabelSketch.fromJSON(stored));
    }
    return window;
  }
}

export interface SerializedWindowSketch {
  version: 1;
  features: Record<string, SerializedNumericFeatureSketch | ReturnType<CategoryCountSketch['toJSON']>>;
  scores: SerializedScoreSketch;
  labelled: SerializedScoreLabelSketch;
  groups: Record<string, Record<string, SerializedScoreLabelSketch>>;
}

function assertScore(score: number): void {
  if (!(typeof score === 'number' && score >= 0 && score <= 1)) throw new RangeError(`score is ${String(score)}; expected a probability in [0, 1]`);
}
