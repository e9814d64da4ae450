import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toPredictionRow } from '../../services/adapters/clickhouse/event-store.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { samplePrediction } from '../support/sample-events.js';

const vigil = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('the vigil binary', () => {
  it('names the bad variable and exits 1 on a configuration error', () => {
    const result = vigil(['run', '--target=collector'], { VIGIL_HTTP_PORT: 'eighty' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('vigil: configuration error: VIGIL_HTTP_PORT: expected a whole number, got "eighty"');
  });

  it('refuses an unknown target and an unknown command', () => {
    expect(vigil(['run', '--target=ingester']).stderr).toContain('unknown target "ingester"');
    const unknown = vigil(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('runs read-only queries against embedded storage and refuses writes', async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    const target = { kind: 'embedded' as const, dataDirectory, database: 'vigil' };
    // Fill the folder from a child process: chDB binds one data folder per process.
    const fill = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        const { createStorageClient } = await import(${JSON.stringify(projectPath('dist', 'services', 'adapters', 'clickhouse', 'storage-client.js'))});
        const { applyMigrations } = await import(${JSON.stringify(projectPath('dist', 'services', 'adapters', 'clickhouse', 'migrations.js'))});
        const { EventStore, toPredictionRow } = await import(${JSON.stringify(projectPath('dist', 'services', 'adapters', 'clickhouse', 'event-store.js'))});
        const target = ${JSON.stringify(target)};
        const client = createStorageClient(target);
        await applyMigrations(client, 'vigil');
        const rows = JSON.parse(process.env.ROWS);
        await new EventStore(client, 'vigil').insert('predictions', rows);
        await client.close();
        `,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ROWS: JSON.stringify([1, 2, 3].map((index) => toPredictionRow(samplePrediction(index), { topic: 't', partition: 0, offset: String(index), schemaId: 1 }, Date.now()))),
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(fill.status, fill.stderr).toBe(0);

    const table = vigil(['sql', 'SELECT model_id, count() AS predictions FROM predictions FINAL GROUP BY model_id'], { VIGIL_DATA_DIR: dataDirectory });
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/model_id\s+predictions\n-+\s+-+\nsepsis-risk\s+3\n\(1 row\)/);

    const json = vigil(['sql', '--format=json', 'SELECT event_id FROM predictions FINAL ORDER BY event_id'], { VIGIL_DATA_DIR: dataDirectory });
    expect(json.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([{ event_id: 'pred-evt-1' }, { event_id: 'pred-evt-2' }, { event_id: 'pred-evt-3' }]);

    expect(vigil(['sql', 'DROP TABLE predictions'], { VIGIL_DATA_DIR: dataDirectory }).status).toBe(2);
    const sneaky = vigil(['sql', 'SELECT 1; DROP TABLE predictions'], { VIGIL_DATA_DIR: dataDirectory });
    expect(sneaky.status).not.toBe(0);
    const after = vigil(['sql', '--format=json', 'SELECT count() AS rows FROM predictions'], { VIGIL_DATA_DIR: dataDirectory });
    expect(JSON.parse(after.stdout)).toEqual({ rows: 3 });
  });
});
