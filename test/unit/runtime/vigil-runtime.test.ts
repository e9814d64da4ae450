import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../services/config/vigil-config.js';
import type { RunningTarget, TargetTable } from '../../../services/runtime/target-contract.js';
import { startVigil } from '../../../services/runtime/vigil-runtime.js';
import { quietLogger } from '../../support/pipeline-harness.js';

describe('the runtime', () => {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-runtime-'));
  afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

  const target = (name: RunningTarget['name'], failed?: Promise<Error>): (() => Promise<RunningTarget>) => async () => ({
    name,
    readiness: [],
    status: () => name,
    stop: async () => {},
    ...(failed === undefined ? {} : { failed }),
  });

  it('reports the first target that fails for good, with its reason, and nothing while none does', async () => {
    let fail: (error: Error) => void = () => {};
    const failing = new Promise<Error>((resolve) => (fail = resolve));
    const table: TargetTable = { collector: target('collector', failing), monitor: target('monitor'), simulator: target('simulator') };
    const config = loadConfig({ VIGIL_DATA_DIR: dataDirectory, VIGIL_HTTP_PORT: '0' });
    const vigil = await startVigil(config, ['collector', 'monitor', 'simulator'], quietLogger, table);
    try {
      const settled = vigil.failed.then((failure) => failure);
      const pending = Symbol('pending');
      expect(await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve(pending), 50))])).toBe(pending);
      fail(new Error('the collector thread exited with code 1'));
      expect(await settled).toEqual({ target: 'collector', error: new Error('the collector thread exited with code 1') });
    } finally {
      await vigil.stop();
    }
  });
});
