import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseModelSpec } from '../../../services/core/model-spec/model-spec.js';
import { projectPath } from '../../../services/adapters/project/project-files.js';

describe('parseModelSpec', () => {
  it('reads the example specification with its defaults', () => {
    const parsed = parseModelSpec(parse(readFileSync(projectPath('test', 'fixtures', 'report', 'sepsis-risk.model.yaml'), 'utf8')));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec).toMatchObject({ modelId: 'sepsis-risk', scoreColumn: 'score', labelColumn: 'label', decisionThreshold: 0.3, minimumGroupSize: 30, segments: ['sex', 'site'] });
    expect(parsed.spec.drift).toEqual({ falseDiscoveryRate: 0.05, binCount: 10 });
    expect(parsed.spec.thresholds.auroc).toEqual({ direction: 'below', warn: 0.75, alert: 0.7 });
    expect(parsed.spec.thresholds.psi).toEqual({ direction: 'above', warn: 0.1, alert: 0.25 });
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
    expect(parsed.problems).toEqual(
      expect.arrayContaining([
        'threshholds: unknown key (expected model_id, model_version, features, score, label, segments, decision_threshold, min_group_size, drift, thresholds)',
        'model_id: "sepsis risk" must be 1-64 letters, digits, ".", "_" or "-"',
        'label: expected a non-empty string, got undefined',
        'features[0].type: expected "numeric" or "categorical", got "number"',
        'features[1].name: "lactate" is listed twice',
        'features[2].name: "score" is the score or label column, not a feature',
        'decision_threshold: expected a number in [0, 1], got 1.5',
        'thresholds.psi: warn (0.3) must come before alert (0.2) for direction above',
        expect.stringMatching(/^thresholds\.aucroc: unknown metric/),
        'thresholds.ece: give warn, alert or both',
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
});
