import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { parseModelSpec, type ModelSpec } from '../../core/model-spec/model-spec.js';
import { checkModelSpecSchema } from '../model-spec/model-spec-schema.js';

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
  return validated(file, await readModelSpecDocument(file));
}

/** Reads a specification file into its YAML or JSON value, not yet validated. */
export async function readModelSpecDocument(file: string): Promise<unknown> {
  const { size } = await stat(file);
  if (size > MAX_SPEC_BYTES) throw new ModelSpecError(file, [`is ${size} bytes; a specification may have at most ${MAX_SPEC_BYTES}`]);
  return documentFromText(file, await readFile(file, 'utf8'));
}

/** Parses and validates a specification's text; `file` names it in the problems. */
export function modelSpecFromText(file: string, text: string): ModelSpec {
  return validated(file, documentFromText(file, text));
}

function documentFromText(file: string, text: string): unknown {
  // The parser's first line says what and where (line, column); the rest, after a colon, repeats the text around it.
  const firstLine = (message: string): string => `cannot be parsed: ${(message.split('\n', 1)[0] ?? '').replace(/:$/, '').slice(0, 300)}`;
  try {
    if (extname(file).toLowerCase() === '.json') return JSON.parse(text);
    // Warnings (an unknown tag such as !!js/function) are problems too: the value would not be what its author meant.
    const document = parseDocument(text, { logLevel: 'silent' });
    const problems = [...document.errors, ...document.warnings].map((problem) => firstLine(problem.message));
    if (problems.length > 0) throw new ModelSpecError(file, problems);
    return document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    if (error instanceof ModelSpecError) throw error;
    throw new ModelSpecError(file, [firstLine(error instanceof Error ? error.message : String(error))]);
  }
}

function validated(file: string, document: unknown): ModelSpec {
  const parsed = parseModelSpec(document, checkModelSpecSchema);
  if (!parsed.ok) throw new ModelSpecError(file, parsed.problems);
  return parsed.spec;
}
