import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

  it('refuses an unknown target, in either flag style, naming the flag, and exits 2', () => {
    for (const args of [['run', '--target=ingester'], ['run', '--target', 'ingester']]) {
      const result = vigil(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain("option '--target <targets>' argument 'ingester' is invalid");
      expect(result.stderr).toContain('unknown target "ingester"');
    }
  });

  it('exits 2 on an unknown command, and prints its usage when given none', () => {
    const unknown = vigil(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("vigil: unknown command 'frobnicate'");
    const none = vigil([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Usage: vigil [options] [command]');
  });

  it('prints usage for vigil and for each command on --help, and exits 0', () => {
    const usages: Record<string, { usage: string; options: string[] }> = {
      '': { usage: 'Usage: vigil [options] [command]', options: ['--version', 'run', 'sql', 'simulate', 'report', 'models', 'help'] },
      models: { usage: 'Usage: vigil models [options] [command]', options: ['check [dir]'] },
      run: { usage: 'Usage: vigil run [options]', options: ['--target <targets>', 'all, collector, monitor,', '(default: all)'] },
      sql: { usage: 'Usage: vigil sql [options] <query>', options: ['--format <format>', '"table", "json"'] },
      simulate: { usage: 'Usage: vigil simulate [options]', options: ['--rate <per-second>', '--count <number>', '--seed <number>'] },
      report: { usage: 'Usage: vigil report [options]', options: ['--spec <file>', '--reference <file>', '--current <file>', '"json", "html"', '--out <file>'] },
    };
    for (const [command, { usage, options }] of Object.entries(usages)) {
      const commandArguments = command === '' ? [] : [command];
      for (const args of [[...commandArguments, '--help'], ['help', ...commandArguments]]) {
        const result = vigil(args);
        expect(result.status, args.join(' ')).toBe(0);
        expect(result.stdout).toContain(usage);
        for (const option of options) expect(result.stdout, `${args.join(' ')} lists ${option}`).toContain(option);
      }
    }
  });

  it('prints the version from package.json', () => {
    const manifest = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string };
    const result = vigil(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });

  it("lets simulate's flags replace the VIGIL_SIMULATOR_* variables", () => {
    const environment = { VIGIL_SIMULATOR_RATE: 'fast', VIGIL_SIMULATOR_COUNT: 'many', VIGIL_SIMULATOR_SEED: 'lucky' };
    expect(vigil(['simulate'], environment).stderr).toContain('configuration error: VIGIL_SIMULATOR_RATE');
    // With every variable replaced, the first complaint left is the missing Kafka.
    const replaced = vigil(['simulate', '--rate=0.5', '--count=10', '--seed=7'], environment);
    expect(replaced.status).toBe(1);
    expect(replaced.stderr).toContain('configuration error: KAFKA_BROKERS: vigil simulate publishes to Kafka');
  });

  it('exits 2 naming the flag on a bad number, a value out of range, a bad choice or an unknown option', () => {
    const cases: [string[], string][] = [
      [['simulate', '--rate=abc'], "option '--rate <per-second>' argument 'abc' is invalid. Expected a positive number."],
      [['simulate', '--count', '0'], "option '--count <number>' argument '0' is invalid. Expected a whole number from 1 to"],
      [['simulate', '--seed=1.5'], "option '--seed <number>' argument '1.5' is invalid. Expected a whole number."],
      [['sql', '--format=xml', 'SELECT 1'], "option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json."],
      [['simulate', '--scenario=meteor-strike'], "option '--scenario <name>' argument 'meteor-strike' is invalid. Allowed choices are stable, lab-unit-change, population-shift, prevalence-shift, missingness-spike, concept-drift, silent-site, label-delay, assay-change."],
      [['report', '--spec=a', '--reference=b', '--current=c', '--format=pdf'], "option '--format <format>' argument 'pdf' is invalid. Allowed choices are json, html."],
      [['report', '--spec=a', '--current=c'], "required option '--reference <file>' not specified"],
      [['sql'], "missing required argument 'query'"],
      [['run', '--frobnicate'], "unknown option '--frobnicate'"],
      [['--frobnicate'], "unknown option '--frobnicate'"],
    ];
    for (const [args, message] of cases) {
      const result = vigil(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(`vigil: ${message}`);
    }
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
        const rows = JSON.parse(process.env.EVENTS).map((event, index) => toPredictionRow(event, { topic: 't', partition: 0, offset: String(index + 1), schemaId: 1 }, Date.now()));
        await new EventStore(client, target).insert('predictions', rows);
        await client.close();
        `,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          EVENTS: JSON.stringify([1, 2, 3].map((index) => samplePrediction(index))),
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
