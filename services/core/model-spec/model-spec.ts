import type { MetricThreshold, ThresholdLookup } from '../metrics/rows/threshold-policy.js';

/**
 * The model specification behind `vigil report` (and later the streaming services), as written in
 * YAML or JSON with snake_case keys. Validation reports every problem at once, each with its path.
 */
export interface ModelSpec {
  modelId: string;
  modelVersion: string;
  features: { name: string; type: 'numeric' | 'categorical' }[];
  scoreColumn: string;
  labelColumn: string;
  segments: string[];
  decisionThreshold: number;
  minimumGroupSize: number;
  drift: { falseDiscoveryRate: number; binCount: number };
  thresholds: Record<string, MetricThreshold>;
}

export const THRESHOLD_METRICS = [
  'ks', 'wasserstein', 'wasserstein_norm', 'psi', 'jensen_shannon', 'kl', 'hellinger', 'chi_square', 'l_infinity',
  'unseen_share', 'missing_share', 'out_of_range_share', 'auroc', 'average_precision', 'brier', 'log_loss',
  'sensitivity', 'specificity', 'ppv', 'npv', 'f1', 'accuracy', 'prevalence', 'ece', 'calibration_intercept',
  'calibration_slope', 'oe_ratio', 'demographic_parity_difference', 'equal_opportunity_difference',
  'equalized_odds_difference', 'cbpe_auroc', 'selection_rate',
] as const;

/**
 * Drift tests whose row value is the test statistic. Their thresholds bound the statistic beside the
 * Benjamini–Hochberg decision (see driftAndQualityRows); the statistic grows with drift, so a bound
 * below it would make no sense.
 */
const TEST_STATISTIC_METRICS: readonly string[] = ['ks', 'chi_square'];

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOP_LEVEL_KEYS = ['model_id', 'model_version', 'features', 'score', 'label', 'segments', 'decision_threshold', 'min_group_size', 'drift', 'thresholds'];

export type ModelSpecParse = { ok: true; spec: ModelSpec } | { ok: false; problems: string[] };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const describe = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value));

export function parseModelSpec(value: unknown): ModelSpecParse {
  const problems: string[] = [];
  if (!isRecord(value)) return { ok: false, problems: ['the specification must be a mapping of keys to values'] };
  for (const key of Object.keys(value)) if (!TOP_LEVEL_KEYS.includes(key)) problems.push(`${key}: unknown key (expected ${TOP_LEVEL_KEYS.join(', ')})`);

  const text = (path: string, raw: unknown, required: boolean): string => {
    if (raw === undefined && !required) return '';
    if (typeof raw !== 'string' || raw.trim() === '') problems.push(`${path}: expected a non-empty string, got ${describe(raw)}`);
    return typeof raw === 'string' ? raw : '';
  };
  const number = (path: string, raw: unknown, fallback: number, check: (value: number) => boolean, expectation: string): number => {
    if (raw === undefined) return fallback;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || !check(raw)) {
      problems.push(`${path}: expected ${expectation}, got ${describe(raw)}`);
      return fallback;
    }
    return raw;
  };

  const modelId = text('model_id', value.model_id, true);
  if (modelId && !MODEL_ID.test(modelId)) problems.push(`model_id: "${modelId}" must be 1-64 letters, digits, ".", "_" or "-"`);
  const modelVersion = value.model_version === undefined ? 'unversioned' : text('model_version', typeof value.model_version === 'number' ? String(value.model_version) : value.model_version, true);
  const scoreColumn = text('score', value.score, true);
  const labelColumn = text('label', value.label, true);

  const features: ModelSpec['features'] = [];
  if (!Array.isArray(value.features) || value.features.length === 0) problems.push(`features: expected a list of { name, type }, got ${describe(value.features)}`);
  else {
    value.features.forEach((feature: unknown, index) => {
      const path = `features[${index}]`;
      if (!isRecord(feature)) return problems.push(`${path}: expected { name, type }, got ${describe(feature)}`);
      for (const key of Object.keys(feature)) if (key !== 'name' && key !== 'type') problems.push(`${path}.${key}: unknown key (expected name, type)`);
      const name = text(`${path}.name`, feature.name, true);
      if (feature.type !== 'numeric' && feature.type !== 'categorical') problems.push(`${path}.type: expected "numeric" or "categorical", got ${describe(feature.type)}`);
      if (name && features.some((known) => known.name === name)) problems.push(`${path}.name: "${name}" is listed twice`);
      if (name && (name === scoreColumn || name === labelColumn)) problems.push(`${path}.name: "${name}" is the score or label column, not a feature`);
      features.push({ name, type: feature.type === 'categorical' ? 'categorical' : 'numeric' });
      return undefined;
    });
  }

  const segments: string[] = [];
  if (value.segments !== undefined) {
    if (!Array.isArray(value.segments)) problems.push(`segments: expected a list of column names, got ${describe(value.segments)}`);
    else value.segments.forEach((segment: unknown, index) => segments.push(text(`segments[${index}]`, segment, true)));
  }

  const decisionThreshold = number('decision_threshold', value.decision_threshold, 0.5, (threshold) => threshold >= 0 && threshold <= 1, 'a number in [0, 1]');
  const minimumGroupSize = number('min_group_size', value.min_group_size, 30, (size) => Number.isInteger(size) && size >= 1, 'a whole number of at least 1');

  const drift = { falseDiscoveryRate: 0.05, binCount: 10 };
  if (value.drift !== undefined) {
    if (!isRecord(value.drift)) problems.push(`drift: expected { fdr, bins }, got ${describe(value.drift)}`);
    else {
      for (const key of Object.keys(value.drift)) if (key !== 'fdr' && key !== 'bins') problems.push(`drift.${key}: unknown key (expected fdr, bins)`);
      drift.falseDiscoveryRate = number('drift.fdr', value.drift.fdr, 0.05, (rate) => rate > 0 && rate < 1, 'a number in (0, 1)');
      drift.binCount = number('drift.bins', value.drift.bins, 10, (bins) => Number.isInteger(bins) && bins >= 2 && bins <= 1000, 'a whole number from 2 to 1000');
    }
  }

  const thresholds: Record<string, MetricThreshold> = {};
  if (value.thresholds !== undefined) {
    if (!isRecord(value.thresholds)) problems.push(`thresholds: expected a mapping of metric names to { warn, alert, direction }`);
    else {
      for (const [metric, raw] of Object.entries(value.thresholds)) {
        const path = `thresholds.${metric}`;
        if (!(THRESHOLD_METRICS as readonly string[]).includes(metric)) problems.push(`${path}: unknown metric (expected one of ${THRESHOLD_METRICS.join(', ')})`);
        if (!isRecord(raw)) {
          problems.push(`${path}: expected { warn, alert, direction }, got ${describe(raw)}`);
          continue;
        }
        for (const key of Object.keys(raw)) if (!['warn', 'alert', 'direction'].includes(key)) problems.push(`${path}.${key}: unknown key (expected warn, alert, direction)`);
        if (raw.direction !== undefined && raw.direction !== 'above' && raw.direction !== 'below') problems.push(`${path}.direction: expected "above" or "below", got ${describe(raw.direction)}`);
        if (raw.direction === 'below' && TEST_STATISTIC_METRICS.includes(metric)) problems.push(`${path}.direction: the ${metric} statistic grows with drift, so its thresholds can only be "above"`);
        const direction = raw.direction === 'below' ? 'below' : 'above';
        const bound = (key: 'warn' | 'alert'): number | undefined => {
          if (raw[key] === undefined) return undefined;
          if (typeof raw[key] !== 'number' || !Number.isFinite(raw[key])) {
            problems.push(`${path}.${key}: expected a number, got ${describe(raw[key])}`);
            return undefined;
          }
          return raw[key] as number;
        };
        const warn = bound('warn');
        const alert = bound('alert');
        if (warn === undefined && alert === undefined) problems.push(`${path}: give warn, alert or both`);
        if (warn !== undefined && alert !== undefined && (direction === 'above' ? warn > alert : warn < alert)) {
          problems.push(`${path}: warn (${warn}) must come before alert (${alert}) for direction ${direction}`);
        }
        thresholds[metric] = { direction, ...(warn === undefined ? {} : { warn }), ...(alert === undefined ? {} : { alert }) };
      }
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, spec: { modelId, modelVersion, features, scoreColumn, labelColumn, segments, decisionThreshold, minimumGroupSize, drift, thresholds } };
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
