import { describe, expect, it } from 'vitest';
import { MISSING_GROUP } from '../../../services/core/metrics/fairness/group-fairness.js';
import { countSegmentGroups, poissonLowerTail, volumeRows, VOLUME_RULE } from '../../../services/core/monitoring/volume-rows.js';
import { POOLED_GROUP } from '../../../services/core/monitoring/window-plan.js';

const counts = (entries: Record<string, Record<string, number>>) => new Map(Object.entries(entries).map(([segment, groups]) => [segment, new Map(Object.entries(groups))]));

describe('volume rows', () => {
  it('gives the Poisson lower tail, as the sum of its terms at 50 digits does', () => {
    // Σ_{i ≤ k} e^−λ λ^i / i! with Python's decimal module at 50 significant digits.
    const expected: [number, number, number][] = [
      [0, 20, 2.0611536224385579e-9],
      [8, 20, 0.0020872590491350187],
      [9, 20, 0.0049954123083075872],
      [30, 30, 0.54835151257791137],
      [0, 63.4, 2.9223339759397179e-28],
    ];
    for (const [observed, mean, tail] of expected) expect(Math.abs(poissonLowerTail(observed, mean) / tail - 1), `${observed} of ${mean}`).toBeLessThan(1e-12);
    expect(poissonLowerTail(5, 0)).toBe(1);
  });

  it('alerts on a group gone silent, against the count its baseline share leads one to expect', () => {
    const rows = volumeRows({
      segments: ['site'],
      baseline: counts({ site: { 'site-a': 300, 'site-b': 500, 'site-c': 200 } }),
      window: counts({ site: { 'site-b': 150, 'site-c': 60 } }),
      windowPredictions: 210,
      maximumGroups: 10,
    });
    expect(rows.map((row) => row.group)).toEqual(['site-b', 'site-a', 'site-c']);
    const silent = rows.find((row) => row.group === 'site-a')!;
    expect(silent).toMatchObject({ kind: 'volume', metric: 'predictions', segment: 'site', value: 0, n_current: 0, n_reference: 63, threshold: 31.5, status: 'alert', reason: "0 predictions where 63.0 were expected from the baseline's 30.0%" });
    expect(silent.p_value).toBeCloseTo(Math.exp(-63), 35);
    expect(rows.find((row) => row.group === 'site-b')).toMatchObject({ value: 150, n_reference: 105, status: 'ok', reason: null });
  });

  it('does not alert on a shortfall chance explains, nor on one too mild to matter in a large window', () => {
    const baseline = counts({ site: { 'site-a': 100, 'site-b': 900 } });
    // 9 of 20 expected: fewer than half, but Poisson puts the chance of so few at 0.005.
    const byChance = volumeRows({ segments: ['site'], baseline, window: counts({ site: { 'site-a': 9, 'site-b': 191 } }), windowPredictions: 200, maximumGroups: 10 });
    expect(byChance.find((row) => row.group === 'site-a')).toMatchObject({ status: 'ok', threshold: 10 });
    expect(byChance.find((row) => row.group === 'site-a')!.p_value).toBeGreaterThan(VOLUME_RULE.alertPValue);
    // 800 of 1,000 expected: significant, but more than half came.
    const mild = volumeRows({ segments: ['site'], baseline, window: counts({ site: { 'site-a': 800, 'site-b': 9200 } }), windowPredictions: 10_000, maximumGroups: 10 });
    const row = mild.find((candidate) => candidate.group === 'site-a')!;
    expect(row.p_value).toBeLessThan(VOLUME_RULE.alertPValue);
    expect(row.status).toBe('ok');
  });

  it('leaves small groups unjudged and says why', () => {
    const rows = volumeRows({
      segments: ['payer'],
      baseline: counts({ payer: { public: 960, self: 40 } }),
      window: counts({ payer: { public: 100 } }),
      windowPredictions: 100,
      maximumGroups: 10,
    });
    expect(rows.find((row) => row.group === 'self')).toMatchObject({ value: 0, n_reference: 4, status: 'ok', p_value: null, reason: 'not judged: 4.0% of the baseline, under 5%' });
    const fewExpected = volumeRows({ segments: ['payer'], baseline: counts({ payer: { public: 900, self: 100 } }), window: counts({ payer: { public: 150 } }), windowPredictions: 150, maximumGroups: 10 });
    expect(fewExpected.find((row) => row.group === 'self')).toMatchObject({ status: 'ok', reason: 'not judged: 15.0 predictions expected, under 20' });
  });

  it('keeps the baseline\'s most frequent groups and pools the others, in both sides, as other', () => {
    const rows = volumeRows({
      segments: ['ward'],
      baseline: counts({ ward: { a: 500, b: 300, c: 150, d: 50 } }),
      window: counts({ ward: { a: 50, b: 30, c: 10, d: 5, e: 5 } }),
      windowPredictions: 100,
      maximumGroups: 2,
    });
    expect(rows.map((row) => [row.group, row.value, row.n_reference])).toEqual([
      ['a', 50, 50],
      ['b', 30, 30],
      [POOLED_GROUP, 20, 20],
    ]);
  });

  it('counts segment values, a missing one as its own group', () => {
    expect(countSegmentGroups(['sex'], () => ['F', 'M', null, 'F'])).toEqual(counts({ sex: { F: 2, M: 1, [MISSING_GROUP]: 1 } }));
  });
});
