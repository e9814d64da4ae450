import { isAbsolute, relative, sep } from 'node:path';
import { checkModelsFolder } from '../adapters/model-spec/models-folder.js';

/**
 * `vigil models check`: every problem of every specification in the folder on its own line,
 * `<file>: <path>: <problem>`, for a CI job to fail on and a reader to fix in one pass; exit 0 with a
 * one-line summary when every specification is valid, 1 otherwise.
 */
export async function modelsCheckCommand(folder: string): Promise<number> {
  const { models, problems } = await checkModelsFolder(folder);
  for (const { file, problem } of problems) process.stdout.write(`${oneLine(shown(file))}: ${oneLine(problem)}\n`);
  if (problems.length > 0) return 1;
  const ids = models.map(({ spec }) => spec.modelId).join(', ');
  process.stdout.write(`${oneLine(shown(folder))}: ${models.length} model specification${models.length === 1 ? '' : 's'} valid (${ids})\n`);
  return 0;
}

/** Paths under the working directory as relative ones, which CI annotations and editors link to the file. */
function shown(path: string): string {
  const fromHere = relative(process.cwd(), path);
  if (fromHere === '') return '.';
  return fromHere === '..' || fromHere.startsWith(`..${sep}`) || isAbsolute(fromHere) ? path : fromHere;
}

/** A file name or a parser's message may hold a line break, which would split one problem into two lines. */
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, (character) => JSON.stringify(character).slice(1, -1));
