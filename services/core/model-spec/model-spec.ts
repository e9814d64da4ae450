import { defaultEventLimits } from '../events/event-validation.js';
import type { MetricThreshold, ThresholdLookup } from '../metrics/rows/threshold-policy.js';
import { DURATION_SYNTAX, parseDuration, tumblingWindowProblem } from '../time/duration.js';
import { UTC_TIME_SYNTAX, parseUtcTime } from '../time/utc-time.js';
import { keyPath } from './spec-path.js';

/**
 * The model specification behind `vigil report` and `vigil models check` (and later the streaming
 * services), as written in YAML or JSON with snake_case keys. Its structure (keys, types, ranges,
 * and the defaults and descriptions editors show) is schemas/model-spec.schema.json; this module
 * adds the checks a schema cannot express and turns a valid document into typed fields. Every
 * problem is reported at once, each with its path.
 */
export interface ModelSpec {
  modelId: string;
  modelVersion: string;
  features: { name: string; type: 'numeric' | 'categorical' }[];
  scoreColumn: string;
  labelColumn: string;
  segments: string[];
  decisionThreshold: number;
  /** Used by `vigil report` and the windows alike, so it stays at the top level rather than under monitoring. */
  minimumGroupSize: number;
  drift: { falseDiscoveryRate: number; binCount: number };
  thresholds: Record<string, MetricThreshold>;
  monitoring: MonitoringSpec;
}

/** What each monitoring window is compared with. */
export type BaselineSpec =
  /** A dataset file, as written: relative to the specification's folder. */
  | { kind: 'reference'; file: string }
  /** A fixed range of production traffic in epoch milliseconds, `from` included, `to` excluded. */
  | { kind: 'production'; from: number; to: number }
  /** The `lengthMs` of production traffic that ends `offsetMs` before each window starts. */
  | { kind: 'trailing'; lengthMs: number; offsetMs: number };

export interface MonitoringSpec {
  /** Tumbling window sizes in the order written, each aligned as tumblingWindowProblem requires. */
  windowSizesMs: number[];
  baseline: BaselineSpec;
  /** How long outcomes may take to arrive after their prediction. */
  labelHorizonMs: number;
  /** Predictions a window needs for its metrics to be defined. */
  minimumWindowSize: number;
  /** Share of a window's predictions with an outcome below which its measured performance is provisional. */
  minimumLabelCoverage: number;
  /** Groups kept per segment, the most frequent first; the rest are pooled as "other". */
  maximumGroupsPerSegment: number;
}

/**
 * Checks a value against schemas/model-spec.schema.json and describes each violation as
 * `<path>: <problem>`. Reading and compiling the schema is the adapter's work
 * (services/adapters/model-spec/model-spec-schema.ts), which keeps this module free of I/O.
 */
export type ModelSpecSchemaCheck = (value: unknown) => string[];

/**
 * What a specification may leave out, in its own snake_case form. The schema's `default`s state the
 * same values for editors; a test holds the two together.
 */
export const MODEL_SPEC_DEFAULTS = {
  model_version: 'unversioned',
  segments: [],
  decision_threshold: 0.5,
  min_group_size: 30,
  drift: { fdr: 0.05, bins: 10 },
  monitoring: {
    windows: ['1h', '1d'],
    baseline: { trailing: { length: '14d' } },
    label_horizon: '7d',
    min_window_size: 100,
    min_label_coverage: 0.8,
    max_groups_per_segment: 20,
  },
} as const;

/**
 * Drift tests whose row value is the test statistic. Their thresholds bound the statistic beside the
 * Benjamini–Hochberg decision (see driftAndQualityRows); the statistic grows with drift, so a bound
 * below it would make no sense.
 */
const TEST_STATISTIC_METRICS: readonly string[] = ['ks', 'chi_square'];

export type ModelSpecParse = { ok: true; spec: ModelSpec } | { ok: false; problems: string[] };

type Direction = MetricThreshold['direction'];

/** The shape of a document the schema accepted. */
interface ModelSpecDocument {
  model_id: string;
  model_version?: string | number;
  features: { name: string; type: 'numeric' | 'categorical' }[];
  score: string;
  label: string;
  segments?: string[];
  decision_threshold?: number;
  min_group_size?: number;
  drift?: { fdr?: number; bins?: number };
  thresholds?: Record<string, { warn?: number; alert?: number; direction?: Direction; scope?: 'all' | 'population' }>;
  monitoring?: {
    windows?: readonly string[];
    baseline?: BaselineDocument;
    label_horizon?: string;
    min_window_size?: number;
    min_label_coverage?: number;
    max_groups_per_segment?: number;
  };
}

type BaselineDocument = { reference: string } | { production: { from: string; to: string } } | { trailing: { length: string; offset?: string } };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const quote = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/**
 * Validates a parsed YAML or JSON value with `checkSchema` and the checks below. Those run even when
 * the schema refuses the document, on whatever parts have the right shape, so that one run lists
 * every problem.
 */
export function parseModelSpec(value: unknown, checkSchema: ModelSpecSchemaCheck): ModelSpecParse {
  if (!isRecord(value)) return { ok: false, problems: ['the specification must be a mapping of keys to values'] };
  const problems = [...checkSchema(value), ...semanticProblems(value)];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, spec: toModelSpec(value as unknown as ModelSpecDocument) };
}

function semanticProblems(document: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const columns = [document.score, document.label].filter((column): column is string => typeof column === 'string');
  if (typeof document.label === 'string' && document.label === document.score) problems.push(`label: ${quote(document.label)} is also the score column`);

  if (Array.isArray(document.features)) {
    const names = new Set<string>();
    document.features.forEach((feature: unknown, index) => {
      if (!isRecord(feature) || typeof feature.name !== 'string') return;
      const path = `features[${index}].name`;
      if (names.has(feature.name)) problems.push(`${path}: ${quote(feature.name)} is listed twice`);
      if (columns.includes(feature.name)) problems.push(`${path}: ${quote(feature.name)} is the score or label column, not a feature`);
      names.add(feature.name);
    });
  }
  if (Array.isArray(document.segments)) {
    document.segments.forEach((segment: unknown, index) => {
      if (typeof segment === 'string' && columns.includes(segment)) problems.push(`segments[${index}]: ${quote(segment)} is the score or label column, not a segment`);
    });
  }

  if (isRecord(document.thresholds)) {
    for (const [metric, threshold] of Object.entries(document.thresholds)) {
      if (!isRecord(threshold)) continue;
      const path = keyPath('thresholds', metric);
      if (threshold.direction === 'below' && TEST_STATISTIC_METRICS.includes(metric)) problems.push(`${path}.direction: the ${metric} statistic grows with drift, so its thresholds can only be "above"`);
      const direction = threshold.direction === 'below' ? 'below' : 'above';
      const { warn, alert } = threshold;
      if (typeof warn === 'number' && typeof alert === 'number' && (direction === 'above' ? warn > alert : warn < alert)) {
        problems.push(`${path}: warn (${warn}) must come before alert (${alert}) for direction ${direction}`);
      }
    }
  }

  if (isRecord(document.monitoring)) problems.push(...monitoringProblems(document.monitoring));
  return problems;
}

function monitoringProblems(monitoring: Record<string, unknown>): string[] {
  const problems: string[] = [];
  /** Milliseconds of a duration the schema's syntax accepts, or undefined after reporting why it is refused. */
  const duration = (path: string, text: unknown): number | undefined => {
    if (typeof text !== 'string' || !DURATION_SYNTAX.test(text)) return undefined;
    const parsed = parseDuration(text);
    if (parsed.ok) return parsed.milliseconds;
    problems.push(`${path}: ${parsed.problem}`);
    return undefined;
  };

  if (Array.isArray(monitoring.windows)) {
    const sizes = new Map<number, number>();
    monitoring.windows.forEach((window: unknown, index) => {
      const path = `monitoring.windows[${index}]`;
      const size = duration(path, window);
      if (size === undefined) return;
      const alignment = tumblingWindowProblem(size);
      if (alignment !== undefined) problems.push(`${path}: ${alignment}`);
      const earlier = sizes.get(size);
      if (earlier !== undefined) problems.push(`${path}: ${quote(window as string)} repeats the size of monitoring.windows[${earlier}]`);
      else sizes.set(size, index);
    });
  }
  duration('monitoring.label_horizon', monitoring.label_horizon);

  const baseline = monitoring.baseline;
  if (isRecord(baseline) && isRecord(baseline.trailing)) {
    duration('monitoring.baseline.trailing.length', baseline.trailing.length);
    duration('monitoring.baseline.trailing.offset', baseline.trailing.offset);
  }
  if (isRecord(baseline) && isRecord(baseline.production)) {
    const time = (key: 'from' | 'to'): number | undefined => {
      const text = (baseline.production as Record<string, unknown>)[key];
      if (typeof text !== 'string' || !UTC_TIME_SYNTAX.test(text)) return undefined;
      const parsed = parseUtcTime(text);
      if (parsed.ok) return parsed.time;
      problems.push(`monitoring.baseline.production.${key}: ${parsed.problem}`);
      return undefined;
    };
    const from = time('from');
    const to = time('to');
    if (from !== undefined && from < defaultEventLimits.earliestEventTimeMs) {
      const earliest = new Date(defaultEventLimits.earliestEventTimeMs).toISOString();
      problems.push(`monitoring.baseline.production.from: ${quote(baseline.production.from as string)} is before ${earliest}, earlier than any event the collector accepts`);
    }
    if (from !== undefined && to !== undefined && to <= from) problems.push('monitoring.baseline.production: to must come after from');
  }
  return problems;
}

/** Only for durations the checks above accepted. */
function acceptedDuration(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`an unchecked duration reached the model specification: ${quote(text)}`);
  return parsed.milliseconds;
}

function toBaseline(document: BaselineDocument): BaselineSpec {
  if ('reference' in document) return { kind: 'reference', file: document.reference };
  if ('production' in document) {
    const [from, to] = [parseUtcTime(document.production.from), parseUtcTime(document.production.to)];
    if (!from.ok || !to.ok) throw new Error('an unchecked production range reached the model specification');
    return { kind: 'production', from: from.time, to: to.time };
  }
  return { kind: 'trailing', lengthMs: acceptedDuration(document.trailing.length), offsetMs: document.trailing.offset === undefined ? 0 : acceptedDuration(document.trailing.offset) };
}

function toModelSpec(document: ModelSpecDocument): ModelSpec {
  const defaults = MODEL_SPEC_DEFAULTS;
  const monitoring = document.monitoring ?? {};
  const thresholds: Record<string, MetricThreshold> = {};
  for (const [metric, { warn, alert, direction, scope }] of Object.entries(document.thresholds ?? {})) {
    thresholds[metric] = { direction: direction ?? 'above', ...(warn === undefined ? {} : { warn }), ...(alert === undefined ? {} : { alert }), ...(scope === 'population' ? { scope } : {}) };
  }
  return {
    modelId: document.model_id,
    modelVersion: String(document.model_version ?? defaults.model_version),
    features: document.features.map(({ name, type }) => ({ name, type })),
    scoreColumn: document.score,
    labelColumn: document.label,
    segments: [...(document.segments ?? defaults.segments)],
    decisionThreshold: document.decision_threshold ?? defaults.decision_threshold,
    minimumGroupSize: document.min_group_size ?? defaults.min_group_size,
    drift: { falseDiscoveryRate: document.drift?.fdr ?? defaults.drift.fdr, binCount: document.drift?.bins ?? defaults.drift.bins },
    thresholds,
    monitoring: {
      windowSizesMs: (monitoring.windows ?? defaults.monitoring.windows).map(acceptedDuration),
      baseline: toBaseline(monitoring.baseline ?? defaults.monitoring.baseline),
      labelHorizonMs: acceptedDuration(monitoring.label_horizon ?? defaults.monitoring.label_horizon),
      minimumWindowSize: monitoring.min_window_size ?? defaults.monitoring.min_window_size,
      minimumLabelCoverage: monitoring.min_label_coverage ?? defaults.monitoring.min_label_coverage,
      maximumGroupsPerSegment: monitoring.max_groups_per_segment ?? defaults.monitoring.max_groups_per_segment,
    },
  };
}

export const thresholdLookup = (spec: ModelSpec): ThresholdLookup => (metric) => spec.thresholds[metric];

/** What every report on the model, exact or from sketches, takes from its spec. */
export function reportSettings(spec: ModelSpec) {
  return {
    features: spec.features,
    scoreColumn: spec.scoreColumn,
    segments: spec.segments,
    decisionThreshold: spec.decisionThreshold,
    minimumGroupSize: spec.minimumGroupSize,
    falseDiscoveryRate: spec.drift.falseDiscoveryRate,
    binCount: spec.drift.binCount,
    thresholds: thresholdLookup(spec),
  };
}
