import { readFile, stat } from 'node:fs/promises';
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

/** A specification is a page of settings; anything far larger is not one, and is not read whole. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** YAML aliases can expand a small file exponentially ("billion laughs"); a spec needs few if any. */
const MAX_YAML_ALIASES = 100;

/** Reads a .yaml, .yml or .json model specification and validates it. */
export async function loadModelSpecFile(file: string): Promise<ModelSpec> {
  const { size } = await stat(file);
  if (size > MAX_SPEC_BYTES) throw new ModelSpecError(file, [`is ${size} bytes; a specification may have at most ${MAX_SPEC_BYTES}`]);
  return modelSpecFromText(file, await readFile(file, 'utf8'));
}

/** Parses and validates a specification's text; `file` names it in the problems. */
export function modelSpecFromText(file: string, text: string): ModelSpec {
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parse(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    throw new ModelSpecError(file, [`cannot be parsed: ${(error instanceof Error ? error.message : String(error)).slice(0, 300)}`]);
  }
  const parsed = parseModelSpec(value);
  if (!parsed.ok) throw new ModelSpecError(file, parsed.problems);
  return parsed.spec;
}
