import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { samplePrediction } from '../support/sample-events.js';

/** Stored text that would clear the screen, retitle the window and ring the bell if printed raw. */
const HOSTILE_SERVICE = 'svc\u001b[2J\u001b]0;owned\u0007\nsecond line\u009b31m';

const scratch = mkdtempSync(join(tmpdir(), 'vigil-sql-'));
const dataDirectory = join(scratch, 'data');
const outfile = join(scratch, 'leak.csv');

const vigilSql = (args: string[], folder = dataDirectory) =>
  spawnSync(process.execPath, [projectPath('dist', 'services', 'cli', 'main.js'), 'sql', ...args], {
    env: { PATH: process.env.PATH ?? '', VIGIL_DATA_DIR: folder },
    encoding: 'utf8',
    timeout: 60_000,
  });

/** Runs `script` in a child process against `folder`: chDB binds one data folder per process. */
function inChildProcess(folder: string, script: string, events: unknown[] = []): void {
  const modules = (name: string) => JSON.stringify(projectPath('dist', 'services', 'adapters', 'clickhouse', `${name}.js`));
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      const { createStorageClient } = await import(${modules('storage-client')});
      const { applyMigrations } = await import(${modules('migrations')});
      const { EventStore, toPredictionRow } = await import(${modules('event-store')});
      const target = { kind: 'embedded', dataDirectory: ${JSON.stringify(folder)}, database: 'vigil' };
      const client = createStorageClient(target);
      const rows = JSON.parse(process.env.EVENTS).map((event, index) => toPredictionRow(event, { topic: 't', partition: 0, offset: String(index + 1), schemaId: 1 }, Date.now()));
      ${script}
      await client.close();
      `,
    ],
    { env: { PATH: process.env.PATH ?? '', EVENTS: JSON.stringify(events) }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(child.status, child.stderr).toBe(0);
}

const countPredictions = (): unknown => JSON.parse(vigilSql(['--format=json', 'SELECT count() AS rows FROM predictions']).stdout) as unknown;

beforeAll(() => {
  const events = [1, 2, 3].map((index) => samplePrediction(index, index === 2 ? { producer: { service: HOSTILE_SERVICE, request_id: 'req-2' } } : {}));
  inChildProcess(dataDirectory, `await applyMigrations(client, 'vigil'); await new EventStore(client, target).insert('predictions', rows);`, events);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('vigil sql', () => {
  it.each([
    ['a second statement', 'SELECT 1; DROP TABLE predictions'],
    ['a second statement behind a comment', 'SELECT 1 -- just one\n; DROP TABLE predictions'],
    ['DROP', 'DROP TABLE predictions'],
    ['INSERT', "INSERT INTO predictions (event_id) VALUES ('forged')"],
    ['ALTER', 'ALTER TABLE predictions DELETE WHERE 1'],
    ['TRUNCATE', 'TRUNCATE TABLE predictions'],
    ['SYSTEM', 'SYSTEM DROP MARK CACHE'],
    ['SET', 'SET readonly = 0'],
    ['INTO OUTFILE', `SELECT * FROM predictions INTO OUTFILE '${outfile}'`],
    ['file()', "SELECT * FROM file('/etc/hostname', 'LineAsString')"],
    ['the function file()', "SELECT file('/etc/hostname')"],
    ['url()', "SELECT * FROM url('http://10.255.255.1/', 'CSV', 'a String')"],
    ['executable()', "SELECT * FROM executable('cat /etc/hostname', 'TSV', 'a String')"],
    ['a SETTINGS override', 'SELECT count() FROM predictions SETTINGS max_execution_time = 0'],
  ])('refuses %s in one line, exit 2', (_label, statement) => {
    const result = vigilSql([statement]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^vigil sql: refused: [^\n]+\n$/);
    expect(result.stdout).toBe('');
  });

  it('leaves the data and the file system as they were after refusals', () => {
    expect(existsSync(outfile)).toBe(false);
    expect(countPredictions()).toEqual({ rows: 3 });
  });

  it('escapes control characters in cells and column names', () => {
    const table = vigilSql(['SELECT producer_service, 1 AS `bell\u0007column` FROM predictions FINAL WHERE event_id = \'pred-evt-2\'']);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(table.stdout).toContain('svc\\x1b[2J\\x1b]0;owned\\x07\\nsecond line\\x9b31m');
    expect(table.stdout).toContain('bell\\x07column');
    expect(table.stdout.split('\n')).toHaveLength(5);

    const json = vigilSql(['--format=json', "SELECT producer_service FROM predictions FINAL WHERE event_id = 'pred-evt-2'"]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json.stdout)).toEqual({ producer_service: HOSTILE_SERVICE });
  });

  it('reports a failing query in one line, exit 1', () => {
    const result = vigilSql(['SELECT no_such_column FROM predictions']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^vigil sql: [^\n]*no_such_column[^\n]*\n$/);
  });

  it('says in one line that an empty folder holds no Vigil tables, and leaves it empty', () => {
    const empty = join(scratch, 'empty');
    const result = vigilSql(['SELECT 1'], empty);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `vigil sql: no Vigil tables in ${empty}: nothing has been stored there yet (run vigil run first, or set VIGIL_DATA_DIR)\n`,
    );
    expect(existsSync(empty)).toBe(false);

    const opened = join(scratch, 'opened');
    inChildProcess(opened, '');
    const unfilled = vigilSql(['SHOW TABLES'], opened);
    expect(unfilled.status).toBe(1);
    expect(unfilled.stderr).toMatch(/^vigil sql: no Vigil tables in [^\n]+\n$/);
    expect(readdirSync(opened)).toEqual(['clickhouse']);
  });
});
