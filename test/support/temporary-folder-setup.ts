import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global setup: every temporary file of a test run goes under one folder of its own, which
 * is removed when the run ends. Each test file runs in a process of its own, and its embedded
 * ClickHouse keeps a data folder of 100 MB or more, so a run would otherwise leave gigabytes behind.
 * TMPDIR is set before any test process starts, so os.tmpdir() in the tests and in the processes
 * they start names this folder.
 */
export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'vigil-test-run-'));
  process.env.TMPDIR = folder;
  return () => rmSync(folder, { recursive: true, force: true });
}
