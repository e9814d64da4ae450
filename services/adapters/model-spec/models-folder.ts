import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseModelSpec, type ModelSpec } from '../../core/model-spec/model-spec.js';
import { ModelSpecError, readModelSpecDocument } from '../dataset/model-spec-file.js';
import { checkModelSpecSchema } from './model-spec-schema.js';

/**
 * The models folder: one specification file per model, models as code. Checking it reads every
 * specification and everything a specification names outside itself, and reports every problem
 * found rather than the first.
 */

/** A model specification's file name; any other file in the folder is not read as one. */
const MODEL_SPEC_FILE_NAME = /\.model\.(ya?ml|json)$/i;
const SPEC_LIKE_FILE_NAME = /\.(ya?ml|json)$/i;

export interface FolderProblem {
  /** The specification file at fault, or the folder itself. */
  file: string;
  /** `<path>: <problem>` within the file, or a problem of the whole file or folder. */
  problem: string;
}

export interface ModelsFolderCheck {
  models: { file: string; spec: ModelSpec }[];
  problems: FolderProblem[];
}

export async function checkModelsFolder(folder: string): Promise<ModelsFolderCheck> {
  let names: string[];
  try {
    names = (await readdir(folder)).sort();
  } catch (error) {
    return { models: [], problems: [{ file: folder, problem: fileSystemProblem(error, 'folder') }] };
  }
  const models: ModelsFolderCheck['models'] = [];
  const problems: FolderProblem[] = [];
  const fileOfModel = new Map<string, string>();
  let specificationCount = 0;
  for (const name of names) {
    const file = join(folder, name);
    if (!SPEC_LIKE_FILE_NAME.test(name) || !(await isFile(file))) continue;
    if (!MODEL_SPEC_FILE_NAME.test(name)) {
      // A specification named spec.yaml would otherwise be skipped in silence, and its model go unmonitored.
      problems.push({ file, problem: 'is not named *.model.yaml, *.model.yml or *.model.json, so it is not read as a model specification' });
      continue;
    }
    specificationCount += 1;
    let document: unknown;
    try {
      document = await readModelSpecDocument(file);
    } catch (error) {
      problems.push(...(error instanceof ModelSpecError ? error.problems : [fileSystemProblem(error, 'file')]).map((problem) => ({ file, problem })));
      continue;
    }
    const parsed = parseModelSpec(document, checkModelSpecSchema);
    if (parsed.ok) models.push({ file, spec: parsed.spec });
    else problems.push(...parsed.problems.map((problem) => ({ file, problem })));
    // The model id and the reference file are taken from the document itself, valid or not, so that
    // their problems are listed with the others rather than after those are fixed.
    const modelId = valueAt(document, ['model_id']);
    if (typeof modelId === 'string') {
      const earlier = fileOfModel.get(modelId);
      if (earlier !== undefined) problems.push({ file, problem: `model_id: ${JSON.stringify(modelId)} is also the model_id of ${basename(earlier)}` });
      else fileOfModel.set(modelId, file);
    }
    const reference = valueAt(document, ['monitoring', 'baseline', 'reference']);
    if (typeof reference === 'string') {
      const unreadable = await unreadableFile(resolve(dirname(file), reference));
      if (unreadable !== undefined) problems.push({ file, problem: `monitoring.baseline.reference: ${JSON.stringify(reference)} ${unreadable}` });
    }
  }
  if (specificationCount === 0) problems.push({ file: folder, problem: 'holds no model specification (*.model.yaml, *.model.yml or *.model.json)' });
  return { models, problems };
}

function valueAt(document: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined), document);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    // A dangling link or a file removed meanwhile is not a specification of the folder.
    return false;
  }
}

/** Why a reference dataset cannot be read, or undefined when it can. */
async function unreadableFile(path: string): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) return 'is not a file';
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `cannot be read: ${fileSystemProblem(error, 'file')}`;
  }
}

function fileSystemProblem(error: unknown, kind: 'file' | 'folder'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return `no such ${kind}`;
  if (code === 'ENOTDIR') return kind === 'folder' ? 'is not a folder' : 'a part of its path is not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
