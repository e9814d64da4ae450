import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'yaml';
import { parseModelSpec, type ModelSpec } from '../../core/model-spec/model-spec.js';

/** A specification file that cannot be used; lists every problem found. */
export class ModelSpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid model specification:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ModelSpecError';
  }
}

/** Reads a .yaml, .yml or .json model specification and validates it. */
export async function loadModelSpecFile(file: string): Promise<ModelSpec> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new ModelSpecError(file, [`cannot be parsed: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const parsed = parseModelSpec(value);
  if (!parsed.ok) throw new ModelSpecError(file, parsed.problems);
  return parsed.spec;
}
