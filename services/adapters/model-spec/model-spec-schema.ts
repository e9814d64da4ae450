import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import type { ModelSpecSchemaCheck } from '../../core/model-spec/model-spec.js';
import { indexPath, keyPath } from '../../core/model-spec/spec-path.js';
import { projectPath } from '../project/project-files.js';

/** The one description of a specification's structure, read by Vigil and by editors alike. */
export const MODEL_SPEC_SCHEMA_FILE = projectPath('schemas', 'model-spec.schema.json');

/** A JSON Schema node, read only for the keywords that say what a value should be. */
export interface SchemaNode {
  $ref?: string;
  $defs?: Record<string, SchemaNode>;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  examples?: unknown[];
  patternErrorMessage?: string;
}

/** Compiles a model-specification schema into the check parseModelSpec takes. */
export function compileModelSpecSchema(schema: SchemaNode): ModelSpecSchemaCheck {
  // strict: a keyword ajv does not know is a mistake in the schema, never something to skip quietly.
  // strictRequired would refuse anyOf branches that require keys defined beside them rather than in the branch.
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  // VS Code's JSON and YAML language servers show patternErrorMessage instead of a bare pattern; Vigil does the same.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : describeErrors(validate.errors ?? [], value, schema));
}

export const checkModelSpecSchema: ModelSpecSchemaCheck = compileModelSpecSchema(JSON.parse(readFileSync(MODEL_SPEC_SCHEMA_FILE, 'utf8')) as SchemaNode);

function describeErrors(errors: readonly ErrorObject[], data: unknown, root: SchemaNode): string[] {
  // A failed anyOf also reports why each of its branches failed; its own problem says it all.
  const failedAlternatives = errors.filter((error) => error.keyword === 'anyOf');
  const withinFailedAlternative = (error: ErrorObject): boolean =>
    failedAlternatives.some((alternative) => error.instancePath.startsWith(alternative.instancePath) && error.schemaPath.startsWith(`${alternative.schemaPath}/`));
  const problems: string[] = [];
  const valuesDescribed = new Set<string>();
  for (const error of errors) {
    if (withinFailedAlternative(error)) continue;
    const path = readablePath(error.instancePath, data);
    const schema = resolve(error.parentSchema as SchemaNode, root);
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      const key = String(params.missingProperty);
      problems.push(`${keyPath(path, key)}: missing, expected ${expectation(schema.properties?.[key] ?? {}, root)}`);
    } else if (error.keyword === 'additionalProperties') {
      problems.push(`${keyPath(path, String(params.additionalProperty))}: unknown key (expected ${Object.keys(schema.properties ?? {}).join(', ')})`);
    } else if (error.keyword === 'uniqueItems') {
      // ajv names the two equal items j and i, i the later one: the repetition is there.
      const later = Number(params.i);
      problems.push(`${indexPath(path, later)}: ${describe((error.data as unknown[])[later])} is listed twice`);
    } else if (!valuesDescribed.has(path)) {
      // Every keyword a value fails (type, range, pattern) would describe the same expectation again.
      valuesDescribed.add(path);
      problems.push(`${path === '' ? 'the specification' : path}: ${valueProblem(error, schema, root)}`);
    }
  }
  return problems;
}

function valueProblem(error: ErrorObject, schema: SchemaNode, root: SchemaNode): string {
  if (error.keyword === 'anyOf') {
    const requiredKeys = (schema.anyOf ?? []).map((branch) => branch.required ?? []);
    if (requiredKeys.every((keys) => keys.length === 1)) return `give at least one of ${requiredKeys.flat().join(', ')}`;
  }
  if (error.keyword === 'pattern' && schema.patternErrorMessage !== undefined) return `${describe(error.data)} ${schema.patternErrorMessage}`;
  if ((error.keyword === 'minProperties' || error.keyword === 'maxProperties') && schema.minProperties === 1 && schema.maxProperties === 1) {
    return `give exactly one of ${Object.keys(schema.properties ?? {}).join(', ')}, got ${Object.keys(error.data as object).length}`;
  }
  if (['type', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'minItems', 'maxItems'].includes(error.keyword)) {
    return `expected ${expectation(schema, root)}, got ${describe(error.data)}`;
  }
  return error.message ?? `fails the schema's ${error.keyword}`;
}

/** `/features/2/type` → `features[2].type`; the data says which steps are list indices. */
function readablePath(pointer: string, data: unknown): string {
  if (pointer === '') return '';
  let path = '';
  let node = data;
  for (const step of pointer.slice(1).split('/')) {
    const key = step.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path = indexPath(path, Number(key));
      node = node[Number(key)];
    } else {
      path = keyPath(path, key);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

/** A node with its local `$ref` (`#/$defs/...`) filled in; the node's own keywords, such as a description, win. */
function resolve(node: SchemaNode, root: SchemaNode): SchemaNode {
  const { $ref, ...own } = node;
  if ($ref === undefined) return node;
  return { ...root.$defs?.[$ref.replace('#/$defs/', '')], ...own };
}

/** What a value of this schema looks like, in words: `a number in [0, 1]`, `"numeric" or "categorical"`. */
function expectation(node: SchemaNode, root: SchemaNode): string {
  const schema = resolve(node, root);
  if (schema.enum !== undefined) return alternatives(schema.enum.map((value) => JSON.stringify(value)));
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length !== 1) return types.length === 0 ? 'a value' : alternatives(types.map((type) => (type === 'integer' ? 'a whole number' : `a ${type}`)));
  switch (types[0]) {
    case 'integer':
      return numberRange('a whole number', schema, true);
    case 'number':
      return numberRange('a number', schema, false);
    case 'string':
      return `${schema.minLength ? 'a non-empty string' : 'a string'}${examples(schema)}`;
    case 'array':
      return `${schema.minItems ? 'a non-empty list' : 'a list'} of ${schema.items === undefined ? 'values' : itemsNoun(schema.items, root)}${schema.maxItems === undefined ? '' : ` (at most ${schema.maxItems})`}`;
    case 'object': {
      const keys = Object.keys(schema.properties ?? {});
      return keys.length > 0 && keys.length <= 6 ? `{ ${keys.join(', ')} }` : 'a mapping';
    }
    default:
      return `a ${types[0]}`;
  }
}

function itemsNoun(node: SchemaNode, root: SchemaNode): string {
  const schema = resolve(node, root);
  if (schema.type === 'string') return `${schema.minLength ? 'non-empty strings' : 'strings'}${examples(schema)}`;
  return expectation(schema, root);
}

function numberRange(noun: string, schema: SchemaNode, whole: boolean): string {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  const lowIncluded = schema.minimum !== undefined;
  const highIncluded = schema.maximum !== undefined;
  if (low !== undefined && high !== undefined) {
    if (whole && lowIncluded && highIncluded) return `${noun} from ${low} to ${high}`;
    return `${noun} in ${lowIncluded ? '[' : '('}${low}, ${high}${highIncluded ? ']' : ')'}`;
  }
  if (low !== undefined) return `${noun} ${lowIncluded ? 'of at least' : 'above'} ${low}`;
  if (high !== undefined) return `${noun} ${highIncluded ? 'of at most' : 'below'} ${high}`;
  return noun;
}

const examples = (schema: SchemaNode): string =>
  schema.examples === undefined || schema.examples.length === 0 ? '' : ` such as ${alternatives(schema.examples.map((example) => JSON.stringify(example)))}`;

function alternatives(options: readonly string[]): string {
  return options.length <= 1 ? (options[0] ?? '') : `${options.slice(0, -1).join(', ')} or ${options.at(-1)}`;
}

/** A value as a problem quotes it: short, on one line, and without walking nested values, however deep. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
