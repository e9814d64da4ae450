import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareColumns, driftAndQualityRows, roundedUpToTwoDigits, sketchNote, type FeatureColumns } from '../../../services/core/metrics/rows/drift-rows.js';
import { benjaminiHochberg } from '../../../services/core/metrics/multiple-testing.js';
import { classify } from '../../../services/core/metrics/rows/threshold-policy.js';
import { createRandom } from '../../../services/simulator/random.js';

function normalColumn(seed: number, size: number, mean: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: size }, () => random.normal(mean, 1));
}

const noThresholds = () => undefined;

describe('classify', () => {
  it('judges larger-is-worse and smaller-is-worse metrics against warn and alert', () => {
    const psi = { warn: 0.1, alert: 0.25, direction: 'above' as const };
    expect(classify(0.05, psi)).toEqual({ status: 'ok', threshold: 0.1 });
    expect(classify(0.2, psi)).toEqual({ status: 'warn', threshold: 0.1 });
    expect(classify(0.3, psi)).toEqual({ status: 'alert', threshold: 0.25 });
    const auroc = { warn: 0.75, alert: 0.7, direction: 'below' as const };
    expect(classify(0.8, auroc).status).toBe('ok');
    expect(classify(0.72, auroc).status).toBe('warn');
    expect(classify(0.65, auroc)).toEqual({ status: 'alert', threshold: 0.7 });
    expect(classify(123, undefined)).toEqual({ status: 'ok', threshold: null });
  });
});

describe('driftAndQualityRows', () => {
  const features: FeatureColumns[] = [
    { name: 'stable', type: 'numeric', reference: normalColumn(1, 2000, 0), current: normalColumn(2, 2000, 0) },
    { name: 'shifted', type: 'numeric', reference: normalColumn(3, 2000, 0), current: normalColumn(4, 2000, 0.5) },
    { name: 'admission_source', type: 'categorical', reference: Array.from({ length: 900 }, (_, index) => (index % 3 === 0 ? 'ED' : 'ward')), current: Array.from({ length: 900 }, (_, index) => (index % 3 === 0 ? 'ED' : index % 3 === 1 ? 'ward' : 'direct')) },
  ];

  it('emits one tidy row per feature and metric, with the names of the report format', () => {
    const rows = driftAndQualityRows(features.map((feature) => compareColumns(feature)), { thresholds: noThresholds });
    expect(rows.filter((row) => row.feature === 'stable').map((row) => `${row.kind}:${row.metric}`)).toEqual([
      'drift:ks', 'drift:wasserstein', 'drift:wasserstein_norm', 'drift:psi', 'drift:jensen_shannon', 'drift:kl', 'drift:hellinger', 'quality:missing_share', 'quality:out_of_range_share',
    ]);
    expect(rows.filter((row) => row.feature === 'admission_source').map((row) => row.metric)).toEqual(['psi', 'chi_square', 'jensen_shannon', 'l_infinity', 'unseen_share', 'missing_share']);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['ci_high', 'ci_low', 'feature', 'group', 'kind', 'metric', 'n_current', 'n_reference', 'p_value', 'reason', 'segment', 'status', 'threshold', 'value']);
      expect(row.segment).toBeNull();
    }
  });

  it('alerts on the shifted features only, deciding the tests together with Benjamini-Hochberg', () => {
    const rows = driftAndQualityRows(features.map((feature) => compareColumns(feature)), { thresholds: noThresholds, falseDiscoveryRate: 0.05 });
    const tests = rows.filter((row) => row.metric === 'ks' || row.metric === 'chi_square');
    expect(tests.map((row) => [row.feature, row.status])).toEqual([
      ['stable', 'ok'],
      ['shifted', 'alert'],
      ['admission_source', 'alert'],
    ]);
    const { adjustedPValues } = benjaminiHochberg(tests.map((row) => row.p_value as number), 0.05);
    tests.forEach((row, index) => expect(row.reason).toContain(`adjusted p = ${(adjustedPValues[index] as number).toPrecision(3)} over 3 tests`));
    expect(rows.find((row) => row.feature === 'admission_source' && row.metric === 'unseen_share')?.value).toBeCloseTo(1 / 3, 12);
  });

  it('alerts on a test only when it is significant and its statistic is beyond the spec threshold', () => {
    const comparisons = features.map((feature) => compareColumns(feature));
    const bounds = { ks: { warn: 0.1, alert: 0.5, direction: 'above' as const }, chi_square: { alert: 1e6, direction: 'above' as const } };
    const rows = driftAndQualityRows(comparisons, { thresholds: (metric) => bounds[metric as keyof typeof bounds], falseDiscoveryRate: 0.05 });
    const test = (feature: string) => rows.find((row) => row.feature === feature && (row.metric === 'ks' || row.metric === 'chi_square'));
    // Significant, and the KS statistic (about 0.2) is beyond warn but not alert.
    expect(test('shifted')).toMatchObject({ status: 'warn', threshold: 0.1 });
    expect(test('shifted')?.reason).toContain('the statistic is beyond its warn threshold 0.1');
    // Significant, but the chi-square statistic is far below its alert bound.
    expect(test('admission_source')).toMatchObject({ status: 'ok', threshold: 1e6 });
    expect(test('admission_source')?.reason).toContain('the statistic is within its thresholds');

    // A statistic beyond its bound does not alert without significance.
    const strict = driftAndQualityRows(comparisons, { thresholds: (metric) => (metric === 'ks' ? { alert: 1e-6, direction: 'above' } : undefined) });
    const stable = strict.find((row) => row.feature === 'stable' && row.metric === 'ks');
    expect(stable?.value).toBeGreaterThan(1e-6);
    expect(stable).toMatchObject({ status: 'ok', threshold: 1e-6 });
    expect(strict.find((row) => row.feature === 'shifted' && row.metric === 'ks')).toMatchObject({ status: 'alert', threshold: 1e-6 });
  });

  it('applies the spec thresholds to distances', () => {
    const rows = driftAndQualityRows(features.map((feature) => compareColumns(feature)), { thresholds: (metric) => (metric === 'psi' ? { warn: 0.1, alert: 0.25, direction: 'above' } : undefined) });
    const psi = rows.filter((row) => row.metric === 'psi');
    expect(psi.find((row) => row.feature === 'stable')).toMatchObject({ status: 'ok', threshold: 0.1 });
    const shifted = psi.find((row) => row.feature === 'shifted');
    expect(shifted?.status).not.toBe('ok');
    expect(shifted?.value).toBeGreaterThan(0.1);
  });

  it('lets a distance beyond its threshold warn only when its feature\'s test is significant', () => {
    // 40 rows a side: the PSI over 10 bins of two samples of one distribution is often beyond 0.1
    // by chance alone, while KS, with Benjamini-Hochberg over the features, is not significant.
    const small: FeatureColumns[] = [
      { name: 'chance', type: 'numeric', reference: normalColumn(23, 40, 0), current: normalColumn(24, 40, 0) },
      { name: 'moved', type: 'numeric', reference: normalColumn(25, 40, 0), current: normalColumn(26, 40, 3) },
    ];
    const psi = { warn: 0.1, alert: 0.25, direction: 'above' as const };
    const rows = driftAndQualityRows(small.map((feature) => compareColumns(feature)), { thresholds: (metric) => (metric === 'psi' ? psi : undefined) });
    const row = (feature: string, metric: string) => rows.find((candidate) => candidate.feature === feature && candidate.metric === metric)!;

    expect(row('chance', 'ks').status).toBe('ok');
    expect(row('chance', 'psi').value).toBeGreaterThan(psi.warn);
    expect(row('chance', 'psi')).toMatchObject({ status: 'ok', threshold: classify(row('chance', 'psi').value!, psi).threshold });
    expect(row('chance', 'psi').reason).toMatch(/^beyond its (warn|alert) threshold .*, but the Kolmogorov-Smirnov test is not significant \(Benjamini-Hochberg adjusted p = /);

    expect(row('moved', 'ks').status).toBe('alert');
    expect(row('moved', 'psi').status).toBe('alert');
    expect(row('moved', 'psi').reason).toMatch(/^beyond its alert threshold 0.25, and the Kolmogorov-Smirnov test is significant/);
    // Quality rows keep their thresholds alone.
    const quality = driftAndQualityRows(small.map((feature) => compareColumns(feature)), { thresholds: (metric) => (metric === 'missing_share' ? { warn: -1, direction: 'above' } : undefined) });
    expect(quality.find((candidate) => candidate.feature === 'chance' && candidate.metric === 'missing_share')?.status).toBe('warn');
  });

  it('reports what cannot be computed as undefined with a reason, never as 0', () => {
    const rows = driftAndQualityRows([compareColumns({ name: 'lactate', type: 'numeric', reference: [1, 2, 3], current: [null, null] })], { thresholds: noThresholds });
    const ks = rows.find((row) => row.metric === 'ks');
    expect(ks).toMatchObject({ status: 'undefined', value: null, p_value: null });
    expect(ks?.reason).toMatch(/current/);
    expect(rows.find((row) => row.metric === 'missing_share')).toMatchObject({ status: 'ok', value: 1 });
  });
});

describe('sketchNote', () => {
  it('states a bound never below the error it bounds, to two significant digits', () => {
    expect(sketchNote(0)).toBe("from the window's sketches, exactly");
    expect(sketchNote(0.0029041626)).toBe("from the window's sketches, within 0.0030 of the exact value");
    expect(roundedUpToTwoDigits(0.0012303)).toBe('0.0013');
    expect(roundedUpToTwoDigits(0.0000483746)).toBe('0.000049');
    expect(roundedUpToTwoDigits(0.0099999)).toBe('0.010');
    expect(roundedUpToTwoDigits(0.25)).toBe('0.25');
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (error) => {
        const stated = Number(roundedUpToTwoDigits(error));
        expect(stated).toBeGreaterThanOrEqual(error);
        // Two significant digits rounded up: at most one unit in the second digit above.
        expect(stated).toBeLessThanOrEqual(error * 1.1 + Number.MIN_VALUE);
      }),
    );
  });
});
