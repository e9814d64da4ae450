import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalFeatureJson, generateSepsisEncounters, SEPSIS_MODEL, type SepsisEncounter } from '../../../services/simulator/sepsis-cohort.js';
import { scenario } from '../../../services/simulator/scenarios.js';

function take(count: number, options: Parameters<typeof generateSepsisEncounters>[0]): SepsisEncounter[] {
  const encounters = generateSepsisEncounters(options);
  return Array.from({ length: count }, () => encounters.next().value);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) identity, ties sharing their mean rank. */
function areaUnderRocCurve(scores: readonly number[], labels: readonly number[]): number {
  const ranked = scores.map((score, index) => ({ score, label: labels[index] ?? 0 })).sort((a, b) => a.score - b.score);
  let positiveRankSum = 0;
  let positives = 0;
  for (let start = 0; start < ranked.length; ) {
    let end = start;
    while (end < ranked.length && ranked[end]?.score === ranked[start]?.score) end += 1;
    const sharedRank = (start + 1 + end) / 2;
    for (let index = start; index < end; index += 1) {
      if (ranked[index]?.label === 1) {
        positiveRankSum += sharedRank;
        positives += 1;
      }
    }
    start = end;
  }
  const negatives = ranked.length - positives;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const LABS = new Set(['wbc', 'lactate', 'creatinine', 'platelets']);
const NUMERIC_FEATURES = ['age', 'heart_rate', 'respiratory_rate', 'temperature_c', 'systolic_bp', 'spo2', ...LABS];
const UUID_LAYOUT = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generateSepsisEncounters', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(take(300, { seed: 42 })).toEqual(take(300, { seed: 42 }));
    const [first] = take(1, { seed: 42 });
    const [other] = take(1, { seed: 43 });
    expect(other?.entityKey).not.toBe(first?.entityKey);
    expect(other?.features).not.toEqual(first?.features);
  });

  it('gives every encounter the documented features and segments', () => {
    const ageBands: Record<string, [number, number]> = { '18-44': [18, 44], '45-64': [45, 64], '65-79': [65, 79], '80+': [80, 120] };
    for (const encounter of take(1000, { seed: 7 })) {
      expect(Object.keys(encounter.features).sort()).toEqual([...NUMERIC_FEATURES, 'on_antibiotics', 'admission_source'].sort());
      for (const name of NUMERIC_FEATURES) {
        const value = encounter.features[name];
        expect(value === null || (typeof value === 'number' && Number.isFinite(value)), name).toBe(true);
      }
      expect(typeof encounter.features.on_antibiotics).toBe('boolean');
      expect(['ED', 'ward', 'ICU-transfer']).toContain(encounter.features.admission_source);
      expect(typeof encounter.features.age).toBe('number');

      const { site, sex, age_band: band, race_ethnicity: raceEthnicity, payer } = encounter.segments;
      expect(Object.keys(encounter.segments).sort()).toEqual(['age_band', 'payer', 'race_ethnicity', 'sex', 'site']);
      expect(['site-a', 'site-b', 'site-c']).toContain(site);
      expect(['F', 'M']).toContain(sex);
      expect(['white', 'black', 'hispanic', 'asian', 'other-or-unknown']).toContain(raceEthnicity);
      expect(['medicare', 'medicaid', 'commercial', 'self-pay']).toContain(payer);
      const [youngest, oldest] = ageBands[band ?? ''] ?? [Number.NaN, Number.NaN];
      expect(encounter.features.age).toBeGreaterThanOrEqual(youngest);
      expect(encounter.features.age).toBeLessThanOrEqual(oldest);

      expect(encounter.score).toBeGreaterThanOrEqual(0);
      expect(encounter.score).toBeLessThanOrEqual(1);
      expect(encounter.predictedLabel).toBe(encounter.score >= SEPSIS_MODEL.decisionThreshold ? 1 : 0);
      expect([0, 1]).toContain(encounter.outcome);
    }
  });

  it('uses pseudonymous entity keys that cannot be mistaken for medical record numbers', () => {
    const encounters = take(5000, { seed: 11 });
    const keys = encounters.map((encounter) => encounter.entityKey);
    for (const key of keys) {
      expect(key).toMatch(/^enc-[a-z]{16}$/);
      expect(key).not.toMatch(/\d/);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('makes unique UUID-shaped identifiers', () => {
    const identifiers = take(5000, { seed: 12 }).flatMap((encounter) => [
      encounter.predictionId,
      encounter.predictionEventId,
      encounter.outcomeEventId,
      encounter.requestId.replace(/^req-/, ''),
    ]);
    for (const identifier of identifiers) expect(identifier).toMatch(UUID_LAYOUT);
    expect(new Set(identifiers).size).toBe(identifiers.length);
  });

  it('hashes the canonical, key-sorted JSON of the features', () => {
    expect(canonicalFeatureJson({ b: 1, a: null, c: 'ED', d: true })).toBe('{"a":null,"b":1,"c":"ED","d":true}');
    expect(canonicalFeatureJson({ a: 1, b: 2 })).toBe(canonicalFeatureJson({ b: 2, a: 1 }));
    for (const encounter of take(50, { seed: 3 })) {
      expect(encounter.inputHash).toBe(createHash('sha256').update(canonicalFeatureJson(encounter.features)).digest('hex'));
    }
  });

  describe('on a large cohort', () => {
    const encounters = take(20_000, { seed: 2024 });
    const outcomes = encounters.map((encounter) => encounter.outcome);
    const prevalence = mean(outcomes);

    it('has a sepsis prevalence between 8% and 12%', () => {
      expect(prevalence).toBeGreaterThan(0.08);
      expect(prevalence).toBeLessThan(0.12);
    });

    it('misses about 3% of feature values, mostly labs', () => {
      let values = 0;
      let missing = 0;
      let missingLabs = 0;
      for (const encounter of encounters) {
        for (const [name, value] of Object.entries(encounter.features)) {
          values += 1;
          if (value !== null) continue;
          missing += 1;
          if (LABS.has(name)) missingLabs += 1;
        }
      }
      expect(missing / values).toBeGreaterThan(0.02);
      expect(missing / values).toBeLessThan(0.04);
      expect(missingLabs / missing).toBeGreaterThan(0.7);
      for (const name of ['age', 'on_antibiotics', 'admission_source']) {
        expect(encounters.every((encounter) => encounter.features[name] !== null)).toBe(true);
      }
    });

    it('scores that discriminate (AUROC between 0.7 and 0.95)', () => {
      const auroc = areaUnderRocCurve(encounters.map((encounter) => encounter.score), outcomes);
      expect(auroc).toBeGreaterThan(0.7);
      expect(auroc).toBeLessThan(0.95);
    });

    it('scores that are slightly miscalibrated: they overestimate risk by a little', () => {
      const meanScore = mean(encounters.map((encounter) => encounter.score));
      expect(meanScore - prevalence).toBeGreaterThan(0.002);
      expect(meanScore - prevalence).toBeLessThan(0.04);
      expect(mean(encounters.map((encounter) => encounter.trueRisk))).toBeCloseTo(prevalence, 1);
    });

    it('flags some but not most encounters at the decision threshold', () => {
      const flagged = mean(encounters.map((encounter) => encounter.predictedLabel));
      expect(flagged).toBeGreaterThan(0.03);
      expect(flagged).toBeLessThan(0.3);
    });

    it('fills every segment value', () => {
      const seen = (name: string): Set<string | undefined> => new Set(encounters.map((encounter) => encounter.segments[name]));
      expect(seen('site').size).toBe(3);
      expect(seen('sex').size).toBe(2);
      expect(seen('age_band').size).toBe(4);
      expect(seen('race_ethnicity').size).toBe(5);
      expect(seen('payer').size).toBe(4);
      expect(new Set(encounters.map((encounter) => encounter.features.admission_source)).size).toBe(3);
    });
  });

  describe('with the assay-change scenario from an encounter on', () => {
    const driftAfter = 3000;
    const drifted = take(6000, { seed: 99, changes: { from: driftAfter, world: scenario('assay-change').cohort } });
    const stable = take(6000, { seed: 99 });
    const lactate = (encounters: readonly SepsisEncounter[]): number =>
      mean(encounters.flatMap((encounter) => (typeof encounter.features.lactate === 'number' ? [encounter.features.lactate] : [])));

    it('leaves the encounters before the drift point unchanged', () => {
      expect(drifted.slice(0, driftAfter)).toEqual(stable.slice(0, driftAfter));
    });

    it('raises measured lactate and opens a new admission source afterwards', () => {
      const before = drifted.slice(0, driftAfter);
      const after = drifted.slice(driftAfter);
      expect(lactate(after)).toBeGreaterThan(lactate(before) * 1.2);
      expect(before.some((encounter) => encounter.features.admission_source === 'direct-admission')).toBe(false);
      const directShare = mean(after.map((encounter) => (encounter.features.admission_source === 'direct-admission' ? 1 : 0)));
      expect(directShare).toBeGreaterThan(0.1);
      expect(directShare).toBeLessThan(0.2);
    });
  });

  describe('with a change that ends', () => {
    const from = 2000;
    const until = 4000;
    const world = scenario('lab-unit-change').cohort;
    const ended = take(6000, { seed: 99, changes: { from, until, world } });
    const stable = take(6000, { seed: 99 });
    const creatinineAt = (encounters: readonly SepsisEncounter[], site: string): number[] =>
      encounters.flatMap((encounter) => (encounter.segments.site === site && typeof encounter.features.creatinine === 'number' ? [encounter.features.creatinine] : []));

    it('changes only the encounters from `from` up to `until`', () => {
      expect(Math.min(...creatinineAt(ended.slice(from, until), 'site-b'))).toBeGreaterThan(20);
      // A unit change draws nothing more, so the encounters outside it are the stable world's own.
      expect(ended.slice(0, from)).toEqual(stable.slice(0, from));
      expect(ended.slice(until)).toEqual(stable.slice(until));
    });
  });
});
