import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SPEC_BYTES, ModelSpecError, loadModelSpecFile, modelSpecFromText } from '../../../services/adapters/dataset/model-spec-file.js';

const folder = mkdtempSync(join(tmpdir(), 'vigil-spec-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const VALID_YAML = `model_id: sepsis-risk
features:
  - { name: heart_rate, type: numeric }
score: score
label: label
`;

describe('reading a model specification file', () => {
  it('refuses a file larger than a specification without reading it', async () => {
    const file = join(folder, 'huge.yaml');
    writeFileSync(file, `${VALID_YAML}# ${'x'.repeat(MAX_SPEC_BYTES)}\n`);
    await expect(loadModelSpecFile(file)).rejects.toThrowError(/a specification may have at most 1048576/);
  });

  it('refuses YAML aliases that would expand a small file exponentially', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < 10; level++) laughs.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(',')}]`);
    expect(() => modelSpecFromText('laughs.yaml', laughs.join('\n'))).toThrowError(/cannot be parsed: .*alias/i);
  });

  it('refuses a YAML tag it does not know rather than reading it as text', () => {
    expect(() => modelSpecFromText('tagged.yaml', `${VALID_YAML}model_version: !!js/function "return 1"\n`)).toThrowError(/cannot be parsed: Unresolved tag: tag:yaml.org,2002:js\/function at line 6/);
  });

  it('gives a specification or a ModelSpecError for any text, YAML or JSON', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.json({ maxDepth: 6 }),
      fc.constantFrom(VALID_YAML, `${VALID_YAML}thresholds: { ks: { alert: 0.2 } }`, '- [a, *b]', '{a: 1, a: 2}', '!!js/function "x"', `${'['.repeat(10_000)}`),
    );
    fc.assert(
      fc.property(text, fc.constantFrom('spec.yaml', 'spec.json'), (body, file) => {
        try {
          modelSpecFromText(file, body);
        } catch (error) {
          expect(error).toBeInstanceOf(ModelSpecError);
          expect((error as ModelSpecError).problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1_000, seed: 20261201 },
    );
  });
});
