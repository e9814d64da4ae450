import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath, projectRoot } from '../../services/adapters/project/project-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'vigil-models-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function vigilModels(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'models', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** A fresh folder under the scratch folder holding these files. */
function modelsFolder(name: string, files: Record<string, string>): string {
  const folder = join(scratch, name);
  mkdirSync(folder);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  return folder;
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const VALID = (modelId: string) => `model_id: ${modelId}\nscore: score\nlabel: label\nfeatures: [{ name: lactate, type: numeric }]\n`;

describe('vigil models check', () => {
  it('passes the shipped infra/models with one summary line, by default and by name', () => {
    for (const args of [['check'], ['check', 'infra/models']]) {
      const result = vigilModels(args);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(lines(result.stdout)).toEqual(['infra/models: 1 model specification valid (sepsis-risk)']);
      expect(result.stderr).toBe('');
    }
  });

  it('lists every problem of every specification with its file and path, and exits 1', () => {
    const folder = modelsFolder('broken', {
      'readmission.model.yaml': [
        'model_id: readmission',
        'score: score',
        'label: label',
        'features:',
        '  - { name: age, type: number }',
        '  - { name: age, type: numeric, unit: years }',
        'thresholds: { auroc: { warn: 0.7, alert: 0.75, direction: below } }',
        'monitoring:',
        '  windows: [1h, 5h]',
        '  baseline: { reference: missing.csv }',
        '  label_horizon: 30',
        '  min_label_coverage: 2',
        '',
      ].join('\n'),
      'deterioration.model.json': JSON.stringify({
        model_id: 'deterioration',
        score: 'score',
        features: [],
        monitoring: { baseline: { production: { from: '2026-03-01', to: '2026-02-01' } }, windowz: ['1h'] },
      }),
      'notes.md': 'Not a specification, and not read as one.\n',
    });
    const result = vigilModels(['check', folder]);
    expect(result.status, result.stderr).toBe(1);
    const readmission = join(folder, 'readmission.model.yaml');
    const deterioration = join(folder, 'deterioration.model.json');
    expect(lines(result.stdout)).toEqual([
      `${deterioration}: label: missing, expected a non-empty string`,
      `${deterioration}: features: expected a non-empty list of { name, type }, got an empty list`,
      `${deterioration}: monitoring.windowz: unknown key (expected windows, baseline, label_horizon, min_window_size, min_label_coverage, max_groups_per_segment)`,
      `${deterioration}: monitoring.baseline.production: to must come after from`,
      `${readmission}: features[0].type: expected "numeric" or "categorical", got "number"`,
      `${readmission}: features[1].unit: unknown key (expected name, type)`,
      `${readmission}: monitoring.label_horizon: expected a string such as "1h", "1d" or "7d", got 30`,
      `${readmission}: monitoring.min_label_coverage: expected a number in [0, 1], got 2`,
      `${readmission}: features[1].name: "age" is listed twice`,
      `${readmission}: thresholds.auroc: warn (0.7) must come before alert (0.75) for direction below`,
      `${readmission}: monitoring.windows[1]: a 5h window does not divide a day evenly, so its windows would not start at each midnight UTC; 4h or 6h would`,
      `${readmission}: monitoring.baseline.reference: "missing.csv" cannot be read: no such file`,
    ]);
  });

  it('checks that a reference baseline can be read, relative to its specification', () => {
    const folder = modelsFolder('reference', {
      'sepsis-risk.model.yaml': `${VALID('sepsis-risk')}monitoring: { baseline: { reference: data/reference.csv } }\n`,
      'readmission.model.yaml': `${VALID('readmission')}monitoring: { baseline: { reference: absent.csv } }\n`,
    });
    mkdirSync(join(folder, 'data'));
    writeFileSync(join(folder, 'data', 'reference.csv'), 'lactate,score,label\n1.2,0.1,0\n');
    const result = vigilModels(['check', folder]);
    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toEqual([`${join(folder, 'readmission.model.yaml')}: monitoring.baseline.reference: "absent.csv" cannot be read: no such file`]);
  });

  it('refuses a model id used twice across the folder, and a specification that is misnamed', () => {
    const folder = modelsFolder('duplicates', { 'a.model.yaml': VALID('sepsis-risk'), 'b.model.yml': VALID('sepsis-risk'), 'c.yaml': VALID('readmission') });
    const result = vigilModels(['check', folder]);
    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toEqual([
      `${join(folder, 'b.model.yml')}: model_id: "sepsis-risk" is also the model_id of a.model.yaml`,
      `${join(folder, 'c.yaml')}: is not named *.model.yaml, *.model.yml or *.model.json, so it is not read as a model specification`,
    ]);
  });

  it('refuses an empty or missing folder in one line', () => {
    const empty = modelsFolder('empty', {});
    const result = vigilModels(['check', empty]);
    expect(result.status).toBe(1);
    expect(lines(result.stdout)).toEqual([`${empty}: holds no model specification (*.model.yaml, *.model.yml or *.model.json)`]);
    const missing = vigilModels(['check', join(scratch, 'nowhere')]);
    expect(missing.status).toBe(1);
    expect(lines(missing.stdout)).toEqual([`${join(scratch, 'nowhere')}: no such folder`]);
  });

  it('reads VIGIL_MODELS_DIR when no folder is named', () => {
    const folder = modelsFolder('configured', { 'readmission.model.json': JSON.stringify({ model_id: 'readmission', score: 's', label: 'l', features: [{ name: 'age', type: 'numeric' }] }) });
    const result = vigilModels(['check'], { VIGIL_MODELS_DIR: folder });
    expect(result.status, result.stdout).toBe(0);
    expect(lines(result.stdout)).toEqual([`${folder}: 1 model specification valid (readmission)`]);
  });

  it('prints its usage on --help and exits 2 on a usage error', () => {
    const help = vigilModels(['check', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: vigil models check [options] [dir]');
    expect(help.stdout).toContain('<file>: <path>: <problem>');
    expect(vigilModels(['check', 'a', 'b']).status).toBe(2);
    expect(vigilModels(['check', '--strict']).status).toBe(2);
    const bare = vigilModels([]);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('Usage: vigil models [options] [command]');
  });
});
