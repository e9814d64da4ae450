// Makes a fresh clone runnable: installs dependencies when they are missing or older than the
// lock file, then compiles TypeScript to dist/. Used by npm start, test and bench.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const installedMarker = join(root, 'node_modules', '.package-lock.json');
const lockFile = join(root, 'package-lock.json');

const modifiedAt = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);

if (!existsSync(installedMarker) || modifiedAt(lockFile) > modifiedAt(installedMarker)) {
  // npm ci installs exactly what the lock file records and never rewrites it. The lock lists chDB's
  // libraries for other platforms, which the registry does not serve, as optional entries bound to
  // their platform: npm skips them here rather than refusing a lock file that lacks them.
  process.stderr.write('vigil: installing dependencies (npm ci)...\n');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
