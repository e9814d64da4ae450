import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder that holds Vigil's package.json, found from this module's own location so that the
 * same code reads schemas/ and infra/ whether it runs from sources (tests) or from dist/ (the binary).
 */
function findProjectRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'vigil') {
      return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the Vigil project folder (package.json named "vigil") above ' + fileURLToPath(import.meta.url));
    folder = parent;
  }
}

export const projectRoot = findProjectRoot();

export const projectPath = (...segments: string[]): string => join(projectRoot, ...segments);

/** package.json is the one place the version is kept; found from the sources and from dist/ alike. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The compiled form of a worker module next to the module at `importer` (an import.meta.url). Run
 * from sources (under a TypeScript-aware test runner) it is the compiled worker of dist/, which
 * `npm test` builds first: worker threads load plain JavaScript only.
 */
export function compiledWorker(importer: string, name: string): URL {
  const own = new URL(importer);
  if (own.pathname.endsWith('.js')) return new URL(`./${name}.js`, own);
  const relative = dirname(fileURLToPath(own)).slice(projectRoot.length + 1);
  return new URL(`file://${join(projectRoot, 'dist', relative, `${name}.js`)}`);
}
