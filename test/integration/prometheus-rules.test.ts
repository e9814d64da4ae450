import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../services/adapters/project/project-files.js';

/**
 * The Prometheus and Alertmanager configuration, checked with the tools of the versions that
 * infra/local/stack.sh runs (Debian's promtool and amtool, installed by `npm run infra:up`).
 */

interface ToolResult {
  status: number | null;
  stdout: string;
  output: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ToolResult {
  const result = spawnSync(command, args, { cwd: projectPath(), encoding: 'utf8', timeout: 60_000, env });
  if (result.error) throw new Error(`${command} could not run (installed by npm run infra:up): ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

function expectSuccess(result: ToolResult): void {
  expect(result.status, result.output).toBe(0);
}

const rulesFolder = projectPath('infra', 'prometheus', 'rules');
const testsFolder = projectPath('infra', 'prometheus', 'tests');
const ruleFiles = readdirSync(rulesFolder)
  .filter((name) => name.endsWith('.yml'))
  .map((name) => join(rulesFolder, name));
const ruleTestFiles = readdirSync(testsFolder)
  .filter((name) => name.endsWith('.test.yml'))
  .map((name) => join(testsFolder, name));

interface AlertRule {
  alert?: string;
  record?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('Prometheus and Alertmanager configuration', () => {
  let stackFolder: string;
  const runtime: Record<string, string> = {};

  beforeAll(() => {
    // The runtime copies exactly as stack.sh writes them, into a folder of this test's own.
    stackFolder = mkdtempSync(join(tmpdir(), 'vigil-stack-configs-'));
    const result = run('bash', ['infra/local/stack.sh', 'configs'], { ...process.env, VIGIL_STACK_DIR: stackFolder });
    expectSuccess(result);
    for (const line of result.stdout.trim().split('\n')) {
      const [name, value] = line.split('=', 2);
      if (name && value) runtime[name] = value;
    }
  });

  afterAll(() => {
    rmSync(stackFolder, { recursive: true, force: true });
  });

  it('passes promtool check config on the runtime configuration, loading every rule file', () => {
    expect(runtime.PROMETHEUS_CONFIG).toBeDefined();
    const result = run('promtool', ['check', 'config', runtime.PROMETHEUS_CONFIG!]);
    expectSuccess(result);
    expect(result.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
  });

  it('passes promtool check config on the source and the docker-compose configurations', () => {
    expectSuccess(run('promtool', ['check', 'config', 'infra/prometheus/prometheus.yml']));
    expectSuccess(run('promtool', ['check', 'config', 'infra/prometheus/prometheus.compose.yml']));
  });

  it('passes promtool check rules', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expectSuccess(run('promtool', ['check', 'rules', ...ruleFiles]));
  });

  it('passes the rule unit tests (promtool test rules)', () => {
    expect(ruleTestFiles.length).toBeGreaterThan(0);
    expectSuccess(run('promtool', ['test', 'rules', ...ruleTestFiles]));
  });

  it('passes amtool check-config on the source and the runtime configuration', () => {
    expectSuccess(run('amtool', ['check-config', 'infra/alertmanager/alertmanager.yml']));
    expect(runtime.ALERTMANAGER_CONFIG).toBeDefined();
    expectSuccess(run('amtool', ['check-config', runtime.ALERTMANAGER_CONFIG!]));
  });

  it('routes pages to the pager and everything else to the ticket queue', () => {
    const route = (...labels: string[]): string =>
      run('amtool', ['config', 'routes', 'test', '--config.file=infra/alertmanager/alertmanager.yml', ...labels]).stdout.trim();
    expect(route('severity=page', 'alertname=VigilTargetDown')).toBe('pager');
    expect(route('severity=ticket', 'alertname=VigilEventsRejected')).toBe('tickets');
    expect(route('alertname=Unlabelled')).toBe('tickets');
  });

  it('gives every alert a known severity, a summary and a runbook', () => {
    let alerts = 0;
    for (const file of ruleFiles) {
      const document = parse(readFileSync(file, 'utf8')) as { groups: { rules: AlertRule[] }[] };
      for (const rule of document.groups.flatMap((group) => group.rules)) {
        if (!rule.alert) continue;
        alerts += 1;
        expect(['page', 'ticket'], `${rule.alert} severity`).toContain(rule.labels?.severity);
        expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
        expect(rule.annotations?.runbook, `${rule.alert} runbook`).toBeTruthy();
      }
    }
    expect(alerts).toBeGreaterThan(0);
  });
});
