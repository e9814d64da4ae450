import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseModelSpec as parseWith } from '../../../services/core/model-spec/model-spec.js';
import { checkModelSpecSchema } from '../../../services/adapters/model-spec/model-spec-schema.js';
import { projectPath } from '../../../services/adapters/project/project-files.js';

const parseModelSpec = (value: unknown) => parseWith(value, checkModelSpecSchema);

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A specification that sets every key, so that each level of it can be broken on its own. */
const COMPLETE = {
  $schema: '../../schemas/model-spec.schema.json',
  model_id: 'sepsis-risk',
  model_version: 3,
  score: 'score',
  label: 'label',
  features: [{ name: 'lactate', type: 'numeric' }, { name: 'admission_source', type: 'categorical' }],
  segments: ['site', 'sex'],
  decision_threshold: 0.3,
  min_group_size: 25,
  drift: { fdr: 0.1, bins: 20 },
  thresholds: { psi: { warn: 0.1, alert: 0.25 }, auroc: { alert: 0.7, direction: 'below' } },
  monitoring: {
    windows: ['15m', '1h', '1d', '7d'],
    baseline: { trailing: { length: '14d', offset: '3d' } },
    label_horizon: '2d',
    min_window_size: 50,
    min_label_coverage: 0.9,
    max_groups_per_segment: 5,
  },
};
const BASE = { model_id: 'sepsis-risk', score: 'score', label: 'label', features: [{ name: 'lactate', type: 'numeric' }] };
const withMonitoring = (monitoring: unknown) => parseModelSpec({ ...BASE, monitoring });

describe('parseModelSpec', () => {
  it('reads the example specification with its defaults', () => {
    const parsed = parseModelSpec(parse(readFileSync(projectPath('test', 'fixtures', 'report', 'sepsis-risk.model.yaml'), 'utf8')));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec).toMatchObject({ modelId: 'sepsis-risk', scoreColumn: 'score', labelColumn: 'label', decisionThreshold: 0.3, minimumGroupSize: 30, segments: ['sex', 'site'] });
    expect(parsed.spec.drift).toEqual({ falseDiscoveryRate: 0.05, binCount: 10 });
    expect(parsed.spec.thresholds.auroc).toEqual({ direction: 'below', warn: 0.75, alert: 0.7 });
    expect(parsed.spec.thresholds.psi).toEqual({ direction: 'above', warn: 0.1, alert: 0.25 });
    expect(parsed.spec.monitoring).toEqual({
      windowSizesMs: [HOUR_MS, DAY_MS],
      baseline: { kind: 'trailing', lengthMs: 14 * DAY_MS, offsetMs: 0 },
      labelHorizonMs: 7 * DAY_MS,
      minimumWindowSize: 100,
      minimumLabelCoverage: 0.8,
      maximumGroupsPerSegment: 20,
    });
  });

  it('reports every problem with its path, typos included', () => {
    const parsed = parseModelSpec({
      model_id: 'sepsis risk',
      score: 'score',
      features: [{ name: 'lactate', type: 'number' }, { name: 'lactate', type: 'numeric' }, { name: 'score', type: 'numeric' }],
      decision_threshold: 1.5,
      thresholds: { psi: { warn: 0.3, alert: 0.2 }, aucroc: { alert: 0.7 }, ece: {} },
      threshholds: {},
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(10);
    expect(parsed.problems).toEqual(
      expect.arrayContaining([
        'threshholds: unknown key (expected $schema, model_id, model_version, features, score, label, segments, decision_threshold, min_group_size, drift, thresholds, monitoring)',
        'model_id: "sepsis risk" must be 1-64 letters, digits, ".", "_" or "-"',
        'label: missing, expected a non-empty string',
        'features[0].type: expected "numeric" or "categorical", got "number"',
        'features[1].name: "lactate" is listed twice',
        'features[2].name: "score" is the score or label column, not a feature',
        'decision_threshold: expected a number in [0, 1], got 1.5',
        'thresholds.psi: warn (0.3) must come before alert (0.2) for direction above',
        expect.stringMatching(/^thresholds\.aucroc: unknown key \(expected ks, wasserstein, /),
        'thresholds.ece: give at least one of warn, alert',
      ]),
    );
  });

  it('takes ks and chi_square thresholds, which bound a drift statistic from above only', () => {
    const base = { model_id: 'sepsis-risk', score: 'score', label: 'label', features: [{ name: 'lactate', type: 'numeric' }] };
    const parsed = parseModelSpec({ ...base, thresholds: { ks: { warn: 0.1, alert: 0.2 }, chi_square: { alert: 50 } } });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.spec.thresholds).toEqual({ ks: { direction: 'above', warn: 0.1, alert: 0.2 }, chi_square: { direction: 'above', alert: 50 } });
    const below = parseModelSpec({ ...base, thresholds: { ks: { alert: 0.2, direction: 'below' } } });
    expect(below).toEqual({ ok: false, problems: ['thresholds.ks.direction: the ks statistic grows with drift, so its thresholds can only be "above"'] });
  });

  it('refuses something that is not a mapping', () => {
    expect(parseModelSpec(['a'])).toEqual({ ok: false, problems: ['the specification must be a mapping of keys to values'] });
  });

  it('reads every key of the monitoring section into typed fields', () => {
    const parsed = parseModelSpec(COMPLETE);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec).toMatchObject({ modelVersion: '3', minimumGroupSize: 25, drift: { falseDiscoveryRate: 0.1, binCount: 20 } });
    expect(parsed.spec.monitoring).toEqual({
      windowSizesMs: [15 * 60_000, HOUR_MS, DAY_MS, 7 * DAY_MS],
      baseline: { kind: 'trailing', lengthMs: 14 * DAY_MS, offsetMs: 3 * DAY_MS },
      labelHorizonMs: 2 * DAY_MS,
      minimumWindowSize: 50,
      minimumLabelCoverage: 0.9,
      maximumGroupsPerSegment: 5,
    });
    const production = withMonitoring({ baseline: { production: { from: '2026-01-01', to: '2026-01-31T12:00:00Z' } } });
    expect(production.ok && production.spec.monitoring.baseline).toEqual({ kind: 'production', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 31, 12) });
    const reference = withMonitoring({ baseline: { reference: 'data/reference.csv' } });
    expect(reference.ok && reference.spec.monitoring.baseline).toEqual({ kind: 'reference', file: 'data/reference.csv' });
  });

  it('refuses a monitoring section that breaks its rules, every problem with its path', () => {
    expect(
      withMonitoring({
        windows: ['5h', '36h', '60m', '1h', '0h', '7'],
        baseline: { trailing: { length: '14x', offset: '9999d' } },
        label_horizon: 7,
        min_window_size: 0,
        min_label_coverage: 1.5,
        max_groups_per_segment: 2.5,
      }),
    ).toEqual({
      ok: false,
      problems: [
        'monitoring.windows[4]: "0h" must be a whole number above zero and a unit, m (minutes), h (hours), d (days) or w (weeks), such as 15m, 1h or 7d',
        'monitoring.windows[5]: "7" must be a whole number above zero and a unit, m (minutes), h (hours), d (days) or w (weeks), such as 15m, 1h or 7d',
        'monitoring.baseline.trailing.length: "14x" must be a whole number above zero and a unit, m (minutes), h (hours), d (days) or w (weeks), such as 15m, 1h or 7d',
        'monitoring.label_horizon: expected a string such as "1h", "1d" or "7d", got 7',
        'monitoring.min_window_size: expected a whole number of at least 1, got 0',
        'monitoring.min_label_coverage: expected a number in [0, 1], got 1.5',
        'monitoring.max_groups_per_segment: expected a whole number from 1 to 1000, got 2.5',
        'monitoring.windows[0]: a 5h window does not divide a day evenly, so its windows would not start at each midnight UTC; 4h or 6h would',
        'monitoring.windows[1]: a 36h window is not a whole number of days, so its windows would not start at midnight UTC; 1d or 2d would',
        'monitoring.windows[3]: "1h" repeats the size of monitoring.windows[2]',
        'monitoring.baseline.trailing.offset: "9999d" is longer than 3650d (ten years)',
      ],
    });
    expect(withMonitoring({ windows: [], baseline: {} })).toEqual({
      ok: false,
      problems: [
        'monitoring.windows: expected a non-empty list of strings such as "1h", "1d" or "7d" (at most 8), got an empty list',
        'monitoring.baseline: give exactly one of reference, production, trailing, got 0',
      ],
    });
    expect(withMonitoring({ baseline: { reference: 'reference.csv', trailing: { length: '14d' } } })).toEqual({
      ok: false,
      problems: ['monitoring.baseline: give exactly one of reference, production, trailing, got 2'],
    });
    expect(withMonitoring({ baseline: { reference: 'reference.xlsx' } })).toEqual({
      ok: false,
      problems: ['monitoring.baseline.reference: "reference.xlsx" must name a .csv, .ndjson or .jsonl file'],
    });
    expect(withMonitoring({ baseline: { production: { from: '2026-02-30', to: '2026-01-01T00:00:00+01:00' } } })).toEqual({
      ok: false,
      problems: [
        'monitoring.baseline.production.to: "2026-01-01T00:00:00+01:00" must be an ISO-8601 date or UTC time, such as 2026-01-01 or 2026-01-01T08:00:00Z',
        'monitoring.baseline.production.from: "2026-02-30" is not a real date or time',
      ],
    });
    expect(withMonitoring({ baseline: { production: { from: '1999-12-01', to: '1999-11-01' } } })).toEqual({
      ok: false,
      problems: [
        'monitoring.baseline.production.from: "1999-12-01" is before 2000-01-01T00:00:00.000Z, earlier than any event the collector accepts',
        'monitoring.baseline.production: to must come after from',
      ],
    });
    expect(withMonitoring({ baseline: { production: { from: '2026-01-01' }, trailing: null } })).toEqual({
      ok: false,
      problems: [
        'monitoring.baseline: give exactly one of reference, production, trailing, got 2',
        'monitoring.baseline.production.to: missing, expected a string such as "2026-01-01" or "2026-01-01T08:00:00Z"',
        'monitoring.baseline.trailing: expected { length, offset }, got null',
      ],
    });
  });

  it('reports an unknown key at every level with its path', () => {
    const levels: (string | number)[][] = [[], ['features', 0], ['drift'], ['thresholds'], ['thresholds', 'psi'], ['monitoring'], ['monitoring', 'baseline'], ['monitoring', 'baseline', 'trailing']];
    const withProduction = { ...COMPLETE, monitoring: { ...COMPLETE.monitoring, baseline: { production: { from: '2026-01-01', to: '2026-02-01' } } } };
    const cases = [...levels.map((level) => ({ spec: COMPLETE, level })), { spec: withProduction, level: ['monitoring', 'baseline', 'production'] }];
    for (const { spec, level } of cases) {
      const broken = structuredClone(spec);
      let parent = broken as unknown as Record<string | number, unknown>;
      for (const step of level) parent = parent[step] as Record<string | number, unknown>;
      parent.surplus = 1;
      const path = level.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('').concat('.surplus').replace(/^\./, '');
      const escapedPath = path.replace(/[.[\]]/g, '\\$&');
      const parsed = parseModelSpec(broken);
      expect(parsed.ok, path).toBe(false);
      if (!parsed.ok) expect(parsed.problems, path).toContainEqual(expect.stringMatching(new RegExp(`^${escapedPath}: unknown key \\(expected [a-z_$]+, `)));
    }
    expect(parseModelSpec({ ...BASE, 'bad key\n': 1 })).toEqual({ ok: false, problems: [expect.stringMatching(/^\["bad key\\n"\]: unknown key \(expected /)] });
  });

  it('refuses a score column used as the label or a segment, and lists each segment once', () => {
    expect(parseModelSpec({ ...BASE, label: 'score', segments: ['site', 'score', 'site'] })).toEqual({
      ok: false,
      problems: ['segments[2]: "site" is listed twice', 'label: "score" is also the score column', 'segments[1]: "score" is the score or label column, not a segment'],
    });
  });

  it('never throws on any JSON value or any corruption of a valid specification, and refuses only with problems', () => {
    /** COMPLETE with the value at a path drawn through its keys and indices replaced by any JSON value. */
    const corrupted = fc.tuple(fc.array(fc.nat(), { maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })).map(([choices, replacement]) => {
      const document = structuredClone(COMPLETE) as unknown as Record<string, unknown>;
      let parent: Record<string, unknown> = document;
      let key = Object.keys(document)[(choices[0] ?? 0) % Object.keys(document).length] ?? 'model_id';
      for (const choice of choices.slice(1)) {
        const child = parent[key];
        if (typeof child !== 'object' || child === null) break;
        const keys = Object.keys(child);
        if (keys.length === 0) break;
        parent = child as Record<string, unknown>;
        key = keys[choice % keys.length] ?? key;
      }
      parent[key] = replacement;
      return document;
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), corrupted), (value) => {
        const parsed = parseModelSpec(value);
        if (parsed.ok) {
          expect(parsed.spec.monitoring.windowSizesMs.every((size) => Number.isSafeInteger(size) && size > 0)).toBe(true);
          expect(typeof parsed.spec.modelId).toBe('string');
        } else {
          expect(parsed.problems.length).toBeGreaterThan(0);
          for (const problem of parsed.problems) expect(problem).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 3_000, seed: 20261207 },
    );
  });
});
