import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { RUNBOOKS } from '../../services/observability/runbook-texts.js';

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

interface AlertTestCase {
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string> }[];
}

const alertRules = ruleFiles.flatMap((file) => {
  const document = parse(readFileSync(file, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return document.groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);
});

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

  it('routes critical alerts to the pager and everything else to the ticket queue', () => {
    const route = (...labels: string[]): string =>
      run('amtool', ['config', 'routes', 'test', '--config.file=infra/alertmanager/alertmanager.yml', ...labels]).stdout.trim();
    expect(route('severity=critical', 'alertname=VigilTargetDown')).toBe('pager');
    expect(route('severity=critical', 'alertname=VigilModelDrift', 'model=sepsis-risk')).toBe('pager');
    expect(route('severity=warning', 'alertname=VigilEventsRejected')).toBe('tickets');
    expect(route('alertname=Unlabelled')).toBe('tickets');
  });

  it('gives every alert a known severity, a summary, a description and a runbook page that exists', () => {
    for (const rule of alertRules) {
      expect(['critical', 'warning'], `${rule.alert} severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
      expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
      expect(rule.annotations?.runbook_url, `${rule.alert} runbook_url`).toBe(`infra/prometheus/runbooks/${rule.alert}.md`);
      expect(existsSync(projectPath(rule.annotations!.runbook_url!)), `${rule.alert} runbook page`).toBe(true);
    }
    expect(alertRules.length).toBeGreaterThan(0);
  });

  it('has a unit test where each alert rule fires and one where it stays silent', () => {
    const cases = ruleTestFiles.flatMap((file) => {
      const document = parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: AlertTestCase[] }[] };
      return document.tests.flatMap((test) => test.alert_rule_test ?? []);
    });
    for (const rule of alertRules) {
      const severity = rule.labels?.severity;
      const ofRule = cases.filter((testCase) => testCase.alertname === rule.alert);
      const fires = ofRule.some((testCase) => (testCase.exp_alerts ?? []).some((expected) => expected.exp_labels?.severity === severity));
      const silent = ofRule.some((testCase) => !(testCase.exp_alerts ?? []).some((expected) => expected.exp_labels?.severity === severity));
      expect(fires, `${rule.alert} (${severity}) is never expected to fire`).toBe(true);
      expect(silent, `${rule.alert} (${severity}) is never expected to stay silent`).toBe(true);
    }
  });

  it('gives the runbooks PromQL that Prometheus parses', () => {
    // Each query as a recording rule of a scratch file: promtool check rules parses every expression.
    const queries = Object.values(RUNBOOKS).flatMap((runbook) => runbook.promql.map((query) => query.query));
    const rules = queries.map((query, index) => ({ record: `runbook_query_${index}`, expr: query }));
    const file = join(stackFolder, 'runbook-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'runbook-queries', rules }] }));
    const result = run('promtool', ['check', 'rules', file]);
    expectSuccess(result);
    expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });
});
