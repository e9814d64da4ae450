import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../services/adapters/project/project-files.js';
import type { ResultRow } from '../../services/core/metrics/result-row.js';

interface ExpectedRow {
  kind: string;
  metric: string;
  feature: string | null;
  segment: string | null;
  group: string | null;
  value: number;
  p_value: number | null;
}

const fixture = (name: string): string => projectPath('test', 'fixtures', 'report', name);

function vigilReport(args: string[]) {
  return spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'report', ...args], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/** Relative tolerance per metric: exact maths 1e-9; the iterative logistic fits 1e-6. */
const tolerance = (metric: string): number => (metric.startsWith('calibration_') ? 1e-6 : 1e-9);

describe('vigil report on a dataset generated outside Vigil (test/oracles/report_oracle.py)', () => {
  it('agrees with scipy, scikit-learn, statsmodels and fairlearn metric by metric', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    const out = join(folder, 'report.json');
    const result = vigilReport(['--spec', fixture('sepsis-risk.model.yaml'), '--reference', fixture('reference.csv'), '--current', fixture('current.csv'), '--format', 'json', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    const { rows } = JSON.parse(readFileSync(out, 'utf8')) as { rows: ResultRow[] };
    const expected = (JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as { rows: ExpectedRow[] }).rows;
    expect(expected.length).toBeGreaterThan(20);
    for (const want of expected) {
      const got = rows.find((row) => row.kind === want.kind && row.metric === want.metric && row.feature === want.feature && row.segment === want.segment && row.group === want.group);
      const label = `${want.kind}/${want.metric}/${want.feature ?? want.segment ?? ''}`;
      expect(got, label).toBeDefined();
      expect(got?.status, label).not.toBe('undefined');
      const scale = Math.max(Math.abs(want.value), 1e-300);
      expect(Math.abs((got?.value as number) - want.value) / scale, `${label}: ${got?.value} vs ${want.value}`).toBeLessThanOrEqual(tolerance(want.metric));
      if (want.p_value !== null) {
        expect(Math.abs((got?.p_value as number) - want.p_value) / Math.max(want.p_value, 1e-300), `${label} p-value`).toBeLessThanOrEqual(1e-9);
      }
    }
    // Every row has the documented fields, and the tiny site group is suppressed with its size.
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['ci_high', 'ci_low', 'feature', 'group', 'kind', 'metric', 'n_current', 'n_reference', 'p_value', 'reason', 'segment', 'status', 'threshold', 'value']);
    expect(rows.find((row) => row.segment === 'site' && row.group === 'tiny')).toMatchObject({ status: 'undefined' });
  });

  it('writes a self-contained HTML report with its plots', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    const out = join(folder, 'report.html');
    const result = vigilReport(['--spec', fixture('sepsis-risk.model.yaml'), '--reference', fixture('reference.csv'), '--current', fixture('current.csv'), '--format', 'html', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('aria-label="Reliability diagram"');
    expect(html).toContain('aria-label="Score distributions"');
    expect(html).toContain('Selection rate by sex');
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });

  it('leaves rows without a label out of performance only, and says so', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    const [header, ...lines] = readFileSync(fixture('current.csv'), 'utf8').trimEnd().split('\n');
    const unlabelled = lines.map((line, index) => (index % 25 === 0 ? line.replace(/,[01]$/, ',') : line));
    const current = join(folder, 'current-some-labels.csv');
    writeFileSync(current, [header, ...unlabelled].join('\n') + '\n');
    const out = join(folder, 'report.json');
    const result = vigilReport(['--spec', fixture('sepsis-risk.model.yaml'), '--reference', fixture('reference.csv'), '--current', current, '--format', 'json', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('100 rows of current-some-labels.csv have no label; they are left out of performance, calibration and fairness');
    const { rows } = JSON.parse(readFileSync(out, 'utf8')) as { rows: ResultRow[] };
    const auroc = rows.find((row) => row.metric === 'auroc');
    expect(auroc).toMatchObject({ n_current: lines.length - 100 });
    expect(auroc?.status).not.toBe('undefined');
    expect(auroc?.reason).toContain('100 rows without a label left out');
    expect(rows.find((row) => row.metric === 'ks' && row.feature === 'score')?.n_current).toBe(lines.length);
    expect(rows.find((row) => row.metric === 'cbpe_auroc')?.n_current).toBe(lines.length);
  });

  it('names the file, row and column of bad input, and every problem of a bad spec', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    const lines = readFileSync(fixture('current.csv'), 'utf8').split('\n');
    lines[5] = lines[5]!.replace(/^[^,]*/, 'abc');
    const broken = join(folder, 'broken.csv');
    writeFileSync(broken, lines.join('\n'));
    const badData = vigilReport(['--spec', fixture('sepsis-risk.model.yaml'), '--reference', fixture('reference.csv'), '--current', broken]);
    expect(badData.status).toBe(1);
    expect(badData.stderr).toMatch(/broken\.csv.*row 5.*heart_rate/);

    const spec = join(folder, 'bad.yaml');
    writeFileSync(spec, 'model_id: sepsis risk\nscore: score\nlabel: label\nfeatures:\n  - { name: lactate, type: number }\nthreshholds: {}\n');
    const badSpec = vigilReport(['--spec', spec, '--reference', fixture('reference.csv'), '--current', fixture('current.csv')]);
    expect(badSpec.status).toBe(1);
    expect(badSpec.stderr).toContain('model_id');
    expect(badSpec.stderr).toContain('features[0].type');
    expect(badSpec.stderr).toContain('threshholds');
  });
});
