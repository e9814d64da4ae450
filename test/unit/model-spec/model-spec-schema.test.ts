import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSpecFile } from '../../../services/adapters/dataset/model-spec-file.js';
import { MODEL_SPEC_SCHEMA_FILE, compileModelSpecSchema, type SchemaNode } from '../../../services/adapters/model-spec/model-spec-schema.js';
import { projectPath } from '../../../services/adapters/project/project-files.js';
import { MODEL_SPEC_DEFAULTS, parseModelSpec } from '../../../services/core/model-spec/model-spec.js';
import { DURATION_SYNTAX } from '../../../services/core/time/duration.js';
import { UTC_TIME_SYNTAX } from '../../../services/core/time/utc-time.js';

interface Schema extends SchemaNode {
  $schema: string;
  default?: unknown;
  description?: string;
  pattern?: string;
}

const schemaText = readFileSync(MODEL_SPEC_SCHEMA_FILE, 'utf8');
const schema = JSON.parse(schemaText) as Schema;
const folder = mkdtempSync(join(tmpdir(), 'vigil-schema-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const MINIMAL = { model_id: 'sepsis-risk', score: 'score', label: 'label', features: [{ name: 'lactate', type: 'numeric' }] };

/** Every schema node with the path to it, $defs included. */
function nodes(node: Schema, path = '#'): [string, Schema][] {
  const children: [string, Schema][] = [
    ...Object.entries(node.properties ?? {}).map(([key, child]) => [`${path}/properties/${key}`, child] as [string, Schema]),
    ...Object.entries(node.$defs ?? {}).map(([key, child]) => [`${path}/$defs/${key}`, child] as [string, Schema]),
    ...(node.items === undefined ? [] : [[`${path}/items`, node.items] as [string, Schema]]),
  ];
  return [[path, node], ...children.flatMap(([childPath, child]) => nodes(child, childPath))];
}

/** The schema's `default`s as a document: what an editor would fill in. */
function schemaDefaults(node: Schema): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties ?? {}) as [string, Schema][]) {
    if (child.default !== undefined) defaults[key] = child.default;
    else if (child.properties !== undefined && Object.keys(schemaDefaults(child)).length > 0) defaults[key] = schemaDefaults(child);
  }
  return defaults;
}

describe('schemas/model-spec.schema.json', () => {
  it('is what validates a specification: a change to the file alone changes the verdict', async () => {
    const file = join(folder, 'narrow-windows.model.yaml');
    writeFileSync(file, 'model_id: sepsis-risk\nscore: score\nlabel: label\nfeatures: [{ name: lactate, type: numeric }]\nmonitoring: { windows: [1h, 1d, 7d, 14d, 28d, 1m, 5m, 15m, 30m] }\n');
    // No code counts windows: the shipped schema's maxItems refuses the ninth.
    await expect(loadModelSpecFile(file)).rejects.toThrowError(/monitoring\.windows: expected a non-empty list of strings such as "1h", "1d" or "7d" \(at most 8\), got a list of 9/);
    const wider = structuredClone(schema) as unknown as { properties: { monitoring: { properties: { windows: { maxItems: number } } } } };
    wider.properties.monitoring.properties.windows.maxItems = 9;
    const document = { ...MINIMAL, monitoring: { windows: ['1h', '1d', '7d', '14d', '28d', '1m', '5m', '15m', '30m'] } };
    expect(parseModelSpec(document, compileModelSpecSchema(wider as unknown as SchemaNode)).ok).toBe(true);
  });

  it('is draft 2020-12, with a description for editors on every key and a readable message for every pattern', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    for (const [path, node] of nodes(schema)) {
      const definition = node.$ref === undefined ? undefined : (schema.$defs?.[node.$ref.replace('#/$defs/', '')] as Schema | undefined);
      if (/\/properties\/[^/]+$/.test(path)) expect(node.description ?? definition?.description, path).toBeTruthy();
      if (node.pattern !== undefined) expect(node.patternErrorMessage, path).toBeTruthy();
    }
  });

  it('states the defaults the code applies, and the syntax the code parses', () => {
    expect(schemaDefaults(schema)).toEqual(MODEL_SPEC_DEFAULTS);
    const parsed = parseModelSpec({ ...MINIMAL, thresholds: { psi: { alert: 0.25 } } }, compileModelSpecSchema(schema));
    const direction = (schema.$defs?.threshold as Schema).properties?.direction as Schema;
    expect(parsed.ok && parsed.spec.thresholds.psi?.direction).toBe(direction.default);
    expect((schema.$defs?.duration as Schema).pattern).toBe(DURATION_SYNTAX.source);
    expect((schema.$defs?.utcTime as Schema).pattern).toBe(UTC_TIME_SYNTAX.source);
  });

  it('accepts a JSON specification that names its schema', () => {
    expect(parseModelSpec({ $schema: '../schemas/model-spec.schema.json', ...MINIMAL }, compileModelSpecSchema(schema)).ok).toBe(true);
  });

  it.each([
    ['test/fixtures/report/sepsis-risk.model.yaml'],
    ['infra/models/sepsis-risk.model.yaml'],
  ])('is named by %s, which it validates', async (relativeFile) => {
    const file = projectPath(relativeFile);
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8'));
    expect(modeline, 'the yaml-language-server comment').not.toBeNull();
    expect(resolve(dirname(file), modeline?.[1] ?? '')).toBe(MODEL_SPEC_SCHEMA_FILE);
    await expect(loadModelSpecFile(file)).resolves.toMatchObject({ modelId: 'sepsis-risk' });
  });
});
