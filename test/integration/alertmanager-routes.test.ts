import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { ALERT_NAMES, ALERT_RULES, type Severity } from '../../services/observability/catalogue.js';
import { freeLoopbackPort } from '../support/free-port.js';

/**
 * Routing, grouping and inhibition of infra/alertmanager/alertmanager.yml: amtool on the file, then
 * the real Alertmanager of infra/local/stack.sh (Debian's binary) started by this file on a free
 * loopback port, with the runtime copy stack.sh writes. Its webhooks and its PagerDuty integration
 * deliver to a recorder in this process; everything else (routes, grouping, inhibitions, templates)
 * is the shipped configuration.
 */

const SOURCE_CONFIG = 'infra/alertmanager/alertmanager.yml';
const PAGERDUTY_KEY_FILE = '/etc/alertmanager/secrets/vigil-pagerduty/routing-key';
const TEST_ROUTING_KEY = 'vigil-test-routing-key';

interface RouteConfig {
  receiver?: string;
  group_by?: string[];
  group_wait?: string;
  matchers?: string[];
  routes?: RouteConfig[];
}

interface InhibitRuleConfig {
  source_matchers?: string[];
  target_matchers?: string[];
  equal?: string[];
}

interface ReceiverConfig {
  name: string;
  pagerduty_configs?: Record<string, unknown>[];
  webhook_configs?: { url: string }[];
}

interface AlertmanagerConfig {
  route: RouteConfig;
  receivers: ReceiverConfig[];
  inhibit_rules?: InhibitRuleConfig[];
}

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

const sourceConfig = parse(readFileSync(projectPath(SOURCE_CONFIG), 'utf8')) as AlertmanagerConfig;
const inhibitRules = sourceConfig.inhibit_rules ?? [];

/** `name="value"`, `name=~"a|b"`, ... as Alertmanager writes matchers. */
function parseMatcher(matcher: string): { name: string; operator: string; value: string } {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"(.*)"$/.exec(matcher);
  if (!match) throw new Error(`cannot read the matcher ${matcher}`);
  return { name: match[1]!, operator: match[2]!, value: match[3]! };
}

/** The alert names a list of matchers picks by name, or undefined when it does not pick by name. */
function namedAlerts(matchers: string[] = []): string[] | undefined {
  const byName = matchers.map(parseMatcher).find((matcher) => matcher.name === 'alertname' && (matcher.operator === '=' || matcher.operator === '=~'));
  return byName?.value.split('|');
}

/** Milliseconds of a duration as the configuration writes it: `10s`, `1m30s`. */
function milliseconds(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

/** The longest a new group waits before its first notification, over the routes that set it (30 s by default). */
const GROUP_WAIT_MILLISECONDS = Math.max(
  ...[sourceConfig.route, ...(sourceConfig.route.routes ?? [])].map((route) => milliseconds(route.group_wait ?? sourceConfig.route.group_wait ?? '30s')),
);

const severitiesOf = (alertname: string): Set<Severity> => new Set(ALERT_RULES.filter((rule) => rule.alert === alertname).map((rule) => rule.severity));

/** A value for each label an alert of the catalogue may carry, so that amtool sees alerts as Prometheus sends them. */
const SAMPLE_LABEL_VALUES: Record<string, string> = {
  model: 'sepsis-risk',
  window: '1h',
  kind: 'performance',
  metric: 'auroc',
  feature: 'lactate',
  segment: 'site',
  group: 'north',
  job: 'vigil',
  instance: '127.0.0.1:9464',
  dependency: 'storage',
  topic: 'vigil.predictions.v1',
  reason: 'schema',
  table: 'predictions',
};

describe('Alertmanager routing (amtool)', () => {
  let stackFolder: string;
  let runtimeConfig: string;

  beforeAll(() => {
    stackFolder = mkdtempSync(join(tmpdir(), 'vigil-alertmanager-configs-'));
    const result = run('bash', ['infra/local/stack.sh', 'configs'], { ...process.env, VIGIL_STACK_DIR: stackFolder });
    expect(result.status, result.output).toBe(0);
    runtimeConfig = /^ALERTMANAGER_CONFIG=(.+)$/m.exec(result.stdout)?.[1] ?? '';
    expect(runtimeConfig).not.toBe('');
  });

  afterAll(() => {
    rmSync(stackFolder, { recursive: true, force: true });
  });

  it('passes amtool check-config on the source and the runtime configuration', () => {
    for (const file of [SOURCE_CONFIG, runtimeConfig]) {
      const result = run('amtool', ['check-config', file]);
      expect(result.status, result.output).toBe(0);
      expect(result.output).toContain(`${inhibitRules.length} inhibit rules`);
    }
  });

  it('routes every critical alert of the catalogue to the pager and every warning to the ticket queue', () => {
    expect(ALERT_RULES.length).toBeGreaterThan(0);
    for (const rule of ALERT_RULES) {
      const labels = rule.labels.map((name) => {
        const value = SAMPLE_LABEL_VALUES[name];
        if (value === undefined) throw new Error(`${rule.alert} carries the label ${name}: give it a sample value above`);
        return `${name}=${value}`;
      });
      const result = run('amtool', ['config', 'routes', 'test', `--config.file=${SOURCE_CONFIG}`, `alertname=${rule.alert}`, `severity=${rule.severity}`, ...labels]);
      expect(result.status, result.output).toBe(0);
      expect(result.stdout.trim(), `${rule.alert} (${rule.severity})`).toBe(rule.severity === 'critical' ? 'pager' : 'tickets');
    }
  });

  it('sends alerts of another or no severity to the ticket queue', () => {
    for (const labels of [['alertname=Unlabelled'], ['alertname=VigilModelDrift', 'severity=info', 'model=sepsis-risk']]) {
      const result = run('amtool', ['config', 'routes', 'test', `--config.file=${SOURCE_CONFIG}`, ...labels]);
      expect(result.stdout.trim(), labels.join(' ')).toBe('tickets');
    }
    const tree = run('amtool', ['config', 'routes', 'show', `--config.file=${SOURCE_CONFIG}`]);
    expect(tree.status, tree.output).toBe(0);
    expect(tree.stdout).toMatch(/default-route\s+receiver: tickets/);
    expect(tree.stdout).toMatch(/\{severity="critical"\}\s+receiver: pager/);
    expect(tree.stdout).toMatch(/\{severity="warning"\}\s+receiver: tickets/);
  });

  it('groups by alert name and model on every route', () => {
    // Child routes inherit group_by; one that set its own could split or merge a model's pages.
    expect(sourceConfig.route.group_by).toEqual(expect.arrayContaining(['alertname', 'model']));
    const routes = [...(sourceConfig.route.routes ?? [])];
    for (const route of routes) {
      expect(route.group_by, `route ${route.matchers?.join(', ')}`).toBeUndefined();
      routes.push(...(route.routes ?? []));
    }
  });

  it('pages through PagerDuty with a routing key read from a file, never a key in the repository', () => {
    const pager = sourceConfig.receivers.find((receiver) => receiver.name === 'pager');
    expect(pager?.pagerduty_configs?.length).toBeGreaterThan(0);
    expect(pager?.webhook_configs?.length, 'the on-call bridge').toBeGreaterThan(0);
    for (const receiver of sourceConfig.receivers) {
      for (const pagerduty of receiver.pagerduty_configs ?? []) {
        expect(pagerduty.routing_key_file).toBe(PAGERDUTY_KEY_FILE);
        expect(pagerduty).not.toHaveProperty('routing_key');
        expect(pagerduty).not.toHaveProperty('service_key');
      }
    }
  });

  it('inhibits by alert names the catalogue has, a warning never holding back a page', () => {
    expect(inhibitRules.length).toBeGreaterThan(0);
    for (const rule of inhibitRules) {
      const sources = namedAlerts(rule.source_matchers);
      const targets = namedAlerts(rule.target_matchers);
      const named = [...(rule.source_matchers ?? []), ...(rule.target_matchers ?? [])]
        .map(parseMatcher)
        .filter((matcher) => matcher.name === 'alertname')
        .flatMap((matcher) => matcher.value.split('|'));
      for (const alertname of named) expect(ALERT_NAMES, `inhibit rule ${JSON.stringify(rule)}`).toContain(alertname);

      const sourceMayBeWarning = sources === undefined ? !(rule.source_matchers ?? []).includes('severity="critical"') : sources.some((name) => severitiesOf(name).has('warning'));
      if (sourceMayBeWarning) {
        const targetOnlyWarnings =
          (rule.target_matchers ?? []).includes('severity="warning"') || (targets !== undefined && targets.every((name) => !severitiesOf(name).has('critical')));
        expect(targetOnlyWarnings, `inhibit rule ${JSON.stringify(rule)} lets a warning hold back a critical alert`).toBe(true);
      }
    }
  });

  it('lets a critical alert hold back only the warning with exactly its labels', () => {
    const twin = inhibitRules.find((rule) => rule.source_matchers?.includes('severity="critical"') && rule.target_matchers?.includes('severity="warning"'));
    expect(twin).toBeDefined();
    const everyLabel = new Set(['alertname', ...ALERT_RULES.flatMap((rule) => rule.labels)]);
    expect(twin!.equal ?? []).toEqual(expect.arrayContaining([...everyLabel]));
  });
});

// ---------------------------------------------------------------------------------------------
// The real Alertmanager
// ---------------------------------------------------------------------------------------------

type Labels = Record<string, string>;

interface GettableAlert {
  labels: Labels;
  fingerprint: string;
  receivers: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

interface AlertGroup {
  labels: Labels;
  receiver: { name: string };
  alerts: GettableAlert[];
}

interface WebhookNotification {
  receiver: string;
  status: string;
  groupLabels: Labels;
  alerts: { status: string; labels: Labels }[];
}

interface PagerDutyEvent {
  routing_key: string;
  dedup_key: string;
  event_action: string;
  payload: { summary: string; severity: string; class?: string; component?: string };
}

interface Delivery {
  path: string;
  body: unknown;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));


/** The Alertmanager binary infra/local/stack.sh runs. */
function alertmanagerBinary(): string {
  const found = spawnSync('bash', ['-c', 'command -v prometheus-alertmanager || command -v alertmanager'], { encoding: 'utf8' });
  const binary = found.stdout.trim().split('\n')[0];
  if (found.status !== 0 || !binary) throw new Error('neither prometheus-alertmanager nor alertmanager is on PATH (installed by npm run infra:up)');
  return binary;
}

/** Polls until `done` holds or the time is up, and returns the last value for the test to judge. */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMilliseconds = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMilliseconds;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(100);
  }
}

const sameLabels = (left: Labels, right: Labels): boolean => {
  const leftKeys = Object.keys(left);
  return leftKeys.length === Object.keys(right).length && leftKeys.every((key) => left[key] === right[key]);
};

/** A model alert as Prometheus sends it: the row's labels, empty ones left out. */
const modelAlert = (alertname: string, severity: Severity, labels: Labels): Labels => ({ alertname, severity, ...labels });

const performanceRow = (model: string, severity: Severity = 'critical'): Labels =>
  modelAlert('VigilModelPerformanceDegraded', severity, { model, window: '1h', kind: 'performance', metric: 'auroc' });

const driftRow = (model: string, severity: Severity, feature: string, window = '1h'): Labels =>
  modelAlert('VigilModelDrift', severity, { model, window, kind: 'drift', metric: 'psi', feature });

const modelSilent = (model: string): Labels => ({ alertname: 'VigilModelSilent', severity: 'critical', model });

/** Pipeline alerts with the labels their rules give them (catalogue.ts). */
const OUTAGES: Record<string, Labels> = {
  VigilTargetDown: { alertname: 'VigilTargetDown', severity: 'critical', job: 'vigil', instance: '127.0.0.1:9464' },
  VigilDependencyDown: { alertname: 'VigilDependencyDown', severity: 'critical', job: 'vigil', instance: '127.0.0.1:9464', dependency: 'storage' },
  VigilStorageWritesFailing: { alertname: 'VigilStorageWritesFailing', severity: 'critical', instance: '127.0.0.1:9464' },
  VigilMonitorStale: { alertname: 'VigilMonitorStale', severity: 'critical', job: 'vigil', instance: '127.0.0.1:9464' },
};

describe('the real Alertmanager with this configuration', () => {
  let folder: string;
  let alertmanager: ChildProcess | undefined;
  let alertmanagerLog = '';
  let alertmanagerUrl: string;
  let recorder: Server;
  const deliveries: Delivery[] = [];
  const firing: { labels: Labels; startsAt: string }[] = [];

  async function request<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await fetch(`${alertmanagerUrl}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    if (!response.ok) throw new Error(`Alertmanager answered ${path} with ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function post(alerts: { labels: Labels; startsAt: string; endsAt?: string }[]): Promise<void> {
    await request('/api/v2/alerts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  }

  /** Raises alerts as Prometheus does; afterEach resolves them, so that each test starts with none. */
  async function fire(...labelSets: Labels[]): Promise<void> {
    const startsAt = new Date().toISOString();
    const alerts = labelSets.map((labels) => ({ labels, startsAt }));
    firing.push(...alerts);
    await post(alerts);
  }

  async function resolve(...labelSets: Labels[]): Promise<void> {
    const ended = firing.filter((alert) => labelSets.some((labels) => sameLabels(labels, alert.labels)));
    await post(ended.map((alert) => ({ ...alert, endsAt: new Date().toISOString() })));
    for (const alert of ended) firing.splice(firing.indexOf(alert), 1);
  }

  const listAlerts = (): Promise<GettableAlert[]> => request<GettableAlert[]>('/api/v2/alerts');

  async function alertWith(labels: Labels): Promise<GettableAlert> {
    const alert = (await listAlerts()).find((candidate) => sameLabels(candidate.labels, labels));
    if (!alert) throw new Error(`Alertmanager lists no alert ${JSON.stringify(labels)}`);
    return alert;
  }

  /** The alert's state once Alertmanager has judged it inhibited (or not) by the alert `by`, or after 10 s. */
  async function inhibitionOf(labels: Labels, by: Labels | undefined): Promise<GettableAlert['status']> {
    const expected = by === undefined ? [] : [(await alertWith(by)).fingerprint];
    const alert = await eventually(
      () => alertWith(labels),
      (candidate) => JSON.stringify(candidate.status.inhibitedBy) === JSON.stringify(expected),
    );
    return alert.status;
  }

  async function expectInhibited(labels: Labels, by: Labels): Promise<void> {
    const status = await inhibitionOf(labels, by);
    expect(status.inhibitedBy, `${JSON.stringify(labels)} inhibited by ${JSON.stringify(by)}`).toEqual([(await alertWith(by)).fingerprint]);
    expect(status.state).toBe('suppressed');
  }

  async function expectActive(labels: Labels): Promise<void> {
    const status = await inhibitionOf(labels, undefined);
    expect(status, JSON.stringify(labels)).toEqual({ state: 'active', inhibitedBy: [], silencedBy: [] });
  }

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'vigil-alertmanager-'));

    recorder = createHttpServer((incoming, response) => {
      let body = '';
      incoming.on('data', (chunk: Buffer) => (body += chunk.toString()));
      incoming.on('end', () => {
        let parsed: unknown = body;
        try {
          parsed = JSON.parse(body);
        } catch {
          // Kept as text: the assertions on this delivery then show what arrived.
        }
        deliveries.push({ path: incoming.url ?? '', body: parsed });
        response.writeHead(incoming.url === '/v2/enqueue' ? 202 : 200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((listening) => recorder.listen(0, '127.0.0.1', listening));
    const recorderPort = (recorder.address() as AddressInfo).port;

    // stack.sh's runtime copy, webhooks on the recorder; PagerDuty's endpoint and key file swapped for local ones.
    const configs = run('bash', ['infra/local/stack.sh', 'configs'], { ...process.env, VIGIL_STACK_DIR: join(folder, 'stack'), VIGIL_PAGER_PORT: String(recorderPort) });
    expect(configs.status, configs.output).toBe(0);
    const runtimePath = /^ALERTMANAGER_CONFIG=(.+)$/m.exec(configs.stdout)?.[1];
    if (!runtimePath) throw new Error(`stack.sh configs printed no ALERTMANAGER_CONFIG: ${configs.output}`);
    const config = parse(readFileSync(runtimePath, 'utf8')) as AlertmanagerConfig;
    writeFileSync(join(folder, 'routing-key'), `${TEST_ROUTING_KEY}\n`);
    for (const receiver of config.receivers) {
      for (const pagerduty of receiver.pagerduty_configs ?? []) {
        expect(pagerduty.routing_key_file).toBe(PAGERDUTY_KEY_FILE);
        pagerduty.routing_key_file = join(folder, 'routing-key');
        pagerduty.url = `http://127.0.0.1:${recorderPort}/v2/enqueue`;
      }
    }
    const configFile = join(folder, 'alertmanager.yml');
    writeFileSync(configFile, stringify(config));

    const port = await freeLoopbackPort();
    alertmanagerUrl = `http://127.0.0.1:${port}`;
    alertmanager = spawn(
      alertmanagerBinary(),
      [`--config.file=${configFile}`, `--storage.path=${join(folder, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${alertmanagerUrl}/`, '--cluster.listen-address='],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    alertmanager.stderr?.on('data', (chunk: Buffer) => (alertmanagerLog = (alertmanagerLog + chunk.toString()).slice(-8_000)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (alertmanager.exitCode !== null || alertmanager.signalCode !== null) throw new Error(`Alertmanager exited during start-up:\n${alertmanagerLog}`);
      const ready = await fetch(`${alertmanagerUrl}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then((response) => response.ok, () => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`Alertmanager was not ready after 20 s:\n${alertmanagerLog}`);
      await sleep(100);
    }
  });

  afterEach(async () => {
    if (firing.length > 0) await resolve(...firing.map((alert) => alert.labels));
    const left = await eventually(listAlerts, (alerts) => alerts.length === 0, 5_000);
    expect(left.map((alert) => alert.labels), 'alerts still listed after their resolution').toEqual([]);
  });

  afterAll(async () => {
    const child = alertmanager;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await new Promise<void>((closed) => (recorder ? recorder.close(() => closed()) : closed()));
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  // First: it waits for group_wait, and must not share the Alertmanager with another test's outage.
  it('pages PagerDuty and the on-call bridge once per alert name and model, and tickets warnings, leaving out inhibited alerts', async () => {
    await fire(
      driftRow('sepsis-risk', 'critical', 'age'),
      driftRow('sepsis-risk', 'critical', 'lactate'),
      driftRow('sepsis-risk', 'warning', 'age'),
      driftRow('sepsis-risk', 'warning', 'heart_rate'),
      modelSilent('readmission-risk'),
      performanceRow('readmission-risk'),
    );

    const webhooks = (path: string): WebhookNotification[] => deliveries.filter((delivery) => delivery.path === path).map((delivery) => delivery.body as WebhookNotification);
    const pagerDutyEvents = (): PagerDutyEvent[] => deliveries.filter((delivery) => delivery.path === '/v2/enqueue').map((delivery) => delivery.body as PagerDutyEvent);
    const ofGroup = (notifications: WebhookNotification[], alertname: string, model: string): WebhookNotification | undefined =>
      notifications.find((notification) => sameLabels(notification.groupLabels, { alertname, model }));

    // Every group below was created at once, so they are flushed together, group_wait later.
    await eventually(
      async () => deliveries.length,
      () =>
        ofGroup(webhooks('/pager'), 'VigilModelDrift', 'sepsis-risk') !== undefined &&
        ofGroup(webhooks('/pager'), 'VigilModelSilent', 'readmission-risk') !== undefined &&
        ofGroup(webhooks('/tickets'), 'VigilModelDrift', 'sepsis-risk') !== undefined &&
        pagerDutyEvents().length >= 2,
      GROUP_WAIT_MILLISECONDS + 20_000,
    );
    await sleep(1_000);

    const driftPage = ofGroup(webhooks('/pager'), 'VigilModelDrift', 'sepsis-risk');
    expect(driftPage, `pager deliveries: ${JSON.stringify(deliveries)}\n${alertmanagerLog}`).toBeDefined();
    expect(driftPage!.status).toBe('firing');
    expect(driftPage!.alerts.map((alert) => alert.labels.feature).sort()).toEqual(['age', 'lactate']);

    // The warning of the age row is held back by its critical twin; heart_rate has none.
    const driftTicket = ofGroup(webhooks('/tickets'), 'VigilModelDrift', 'sepsis-risk');
    expect(driftTicket?.alerts.map((alert) => alert.labels.feature)).toEqual(['heart_rate']);

    expect(ofGroup(webhooks('/pager'), 'VigilModelSilent', 'readmission-risk')?.alerts).toHaveLength(1);

    const events = pagerDutyEvents();
    expect(events.map((event) => `${event.payload.class} ${event.payload.component}`).sort()).toEqual(['VigilModelDrift sepsis-risk', 'VigilModelSilent readmission-risk']);
    for (const event of events) {
      expect(event.routing_key).toBe(TEST_ROUTING_KEY);
      expect(event.event_action).toBe('trigger');
      expect(event.payload.severity).toBe('critical');
      expect(event.dedup_key).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(events.find((event) => event.payload.class === 'VigilModelDrift')?.payload.summary).toContain('[FIRING:2]');

    // No AUROC page for a model that sends no predictions.
    const delivered = JSON.stringify(deliveries);
    expect(delivered).not.toContain('VigilModelPerformanceDegraded');
    expect(alertmanagerLog).not.toMatch(/level=error/);
  }, GROUP_WAIT_MILLISECONDS + 40_000);

  it('routes each alert to its receiver and groups alerts by name and model, or by name and topic', async () => {
    await fire(
      driftRow('sepsis-risk', 'critical', 'age'),
      driftRow('sepsis-risk', 'critical', 'lactate'),
      driftRow('deterioration-index', 'critical', 'age'),
      driftRow('sepsis-risk', 'warning', 'heart_rate'),
      { alertname: 'VigilEventsRejected', severity: 'warning', topic: 'vigil.predictions.v1', reason: 'schema' },
      { alertname: 'VigilEventsRejected', severity: 'warning', topic: 'vigil.predictions.v1', reason: 'too_large' },
      { alertname: 'VigilEventsRejected', severity: 'warning', topic: 'vigil.outcomes.v1', reason: 'schema' },
      { ...OUTAGES.VigilDependencyDown!, instance: 'collector-a:9464' },
      { ...OUTAGES.VigilDependencyDown!, instance: 'collector-b:9464' },
    );

    for (const alert of await listAlerts()) {
      expect(alert.receivers.map((receiver) => receiver.name), JSON.stringify(alert.labels)).toEqual([alert.labels.severity === 'critical' ? 'pager' : 'tickets']);
    }

    const groups = await eventually(
      () => request<AlertGroup[]>('/api/v2/alerts/groups'),
      (found) => found.reduce((count, group) => count + group.alerts.length, 0) === 9,
    );
    const summary = groups
      .map((group) => ({ receiver: group.receiver.name, labels: group.labels, alerts: group.alerts.length }))
      .sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right)));
    expect(summary).toEqual(
      [
        { receiver: 'pager', labels: { alertname: 'VigilModelDrift', model: 'sepsis-risk' }, alerts: 2 },
        { receiver: 'pager', labels: { alertname: 'VigilModelDrift', model: 'deterioration-index' }, alerts: 1 },
        { receiver: 'tickets', labels: { alertname: 'VigilModelDrift', model: 'sepsis-risk' }, alerts: 1 },
        { receiver: 'tickets', labels: { alertname: 'VigilEventsRejected', topic: 'vigil.predictions.v1' }, alerts: 2 },
        { receiver: 'tickets', labels: { alertname: 'VigilEventsRejected', topic: 'vigil.outcomes.v1' }, alerts: 1 },
        // One page for a dependency every collector has lost.
        { receiver: 'pager', labels: { alertname: 'VigilDependencyDown' }, alerts: 2 },
      ].sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right))),
    );
  });

  it("holds back a model's alerts while it sends no predictions, and only that model's", async () => {
    await fire(performanceRow('sepsis-risk'), performanceRow('readmission-risk'));
    await expectActive(performanceRow('sepsis-risk'));

    await fire(modelSilent('sepsis-risk'));
    await expectInhibited(performanceRow('sepsis-risk'), modelSilent('sepsis-risk'));
    await expectActive(performanceRow('readmission-risk'));
    await expectActive(modelSilent('sepsis-risk'));

    await resolve(modelSilent('sepsis-risk'));
    await expectActive(performanceRow('sepsis-risk'));
  });

  it.each(Object.keys(OUTAGES))("holds back every model's alerts during %s, but no other pipeline alert", async (outage) => {
    const site = modelAlert('VigilSiteSilent', 'critical', { model: 'deterioration-index', window: '1h', kind: 'volume', metric: 'predictions', segment: 'site', group: 'north' });
    const evaluations = { alertname: 'VigilMonitorEvaluationsFailing', severity: 'warning', instance: '127.0.0.1:9464', model: 'sepsis-risk', window: '1h' };
    const rejected = { alertname: 'VigilEventsRejected', severity: 'warning', topic: 'vigil.predictions.v1', reason: 'schema' };
    const mostlyRejected = { alertname: 'VigilEventsMostlyRejected', severity: 'critical', topic: 'vigil.predictions.v1' };
    const modelAlerts = [performanceRow('sepsis-risk'), driftRow('sepsis-risk', 'warning', 'age'), site, modelSilent('readmission-risk'), evaluations];
    await fire(...modelAlerts, rejected, mostlyRejected);
    for (const alert of modelAlerts) await expectActive(alert);

    const source = OUTAGES[outage]!;
    await fire(source);
    for (const alert of modelAlerts) await expectInhibited(alert, source);
    await expectActive(source);
    await expectActive(rejected);
    await expectActive(mostlyRejected);

    await resolve(source);
    for (const alert of modelAlerts) await expectActive(alert);
  });

  it('holds back the backlog a collector outage causes, and the label alerts a stopped outcome feed causes', async () => {
    const lag = { alertname: 'VigilConsumerLagGrowing', severity: 'warning', topic: 'vigil.outcomes.v1' };
    const feed = { alertname: 'VigilOutcomeFeedStopped', severity: 'warning' };
    const coverage = modelAlert('VigilModelLabelCoverageLow', 'warning', { model: 'sepsis-risk', window: '1d', kind: 'labels', metric: 'label_coverage' });
    const delay = modelAlert('VigilModelLabelDelayHigh', 'warning', { model: 'readmission-risk', window: '1d', kind: 'labels', metric: 'label_delay_p90_seconds' });
    const performance = performanceRow('sepsis-risk', 'warning');
    await fire(lag, feed, coverage, delay, performance);
    await expectInhibited(coverage, feed);
    await expectInhibited(delay, feed);
    await expectActive(performance);
    await expectActive(lag);

    await fire(OUTAGES.VigilStorageWritesFailing!);
    await expectInhibited(lag, OUTAGES.VigilStorageWritesFailing!);
    await expectInhibited(feed, OUTAGES.VigilStorageWritesFailing!);
  });

  it("holds back the rows of a silent site's group, not the other sites' nor the whole population's", async () => {
    const siteSilent = modelAlert('VigilSiteSilent', 'critical', { model: 'sepsis-risk', window: '1h', kind: 'volume', metric: 'predictions', segment: 'site', group: 'north' });
    const groupRow = (model: string, group: string, window: string): Labels =>
      modelAlert('VigilModelGroupPerformanceDegraded', 'critical', { model, window, kind: 'performance', metric: 'auroc', segment: 'site', group });
    const otherSegment = modelAlert('VigilModelGroupPerformanceDegraded', 'critical', { model: 'sepsis-risk', window: '1d', kind: 'performance', metric: 'auroc', segment: 'ward', group: 'north' });
    await fire(siteSilent, groupRow('sepsis-risk', 'north', '1d'), groupRow('sepsis-risk', 'south', '1d'), groupRow('readmission-risk', 'north', '1d'), otherSegment, performanceRow('sepsis-risk'));

    await expectInhibited(groupRow('sepsis-risk', 'north', '1d'), siteSilent);
    await expectActive(groupRow('sepsis-risk', 'south', '1d'));
    await expectActive(groupRow('readmission-risk', 'north', '1d'));
    await expectActive(otherSegment);
    await expectActive(performanceRow('sepsis-risk'));
    await expectActive(siteSilent);
  });

  it("holds back the volume alerts of the other groups of a silent site's model, not those of other models", async () => {
    const siteSilent = modelAlert('VigilSiteSilent', 'critical', { model: 'sepsis-risk', window: '1h', kind: 'volume', metric: 'predictions', segment: 'site', group: 'north' });
    const groupVolume = (model: string, window: string, segment: string, group: string): Labels =>
      modelAlert('VigilGroupVolumeLow', 'warning', { model, window, kind: 'volume', metric: 'predictions', segment, group });
    await fire(groupVolume('sepsis-risk', '1h', 'ward', 'north-icu'), groupVolume('sepsis-risk', '1d', 'payer', 'county'), groupVolume('readmission-risk', '1h', 'ward', 'north-icu'));
    for (const alert of [groupVolume('sepsis-risk', '1h', 'ward', 'north-icu'), groupVolume('sepsis-risk', '1d', 'payer', 'county')]) await expectActive(alert);

    await fire(siteSilent);
    await expectInhibited(groupVolume('sepsis-risk', '1h', 'ward', 'north-icu'), siteSilent);
    await expectInhibited(groupVolume('sepsis-risk', '1d', 'payer', 'county'), siteSilent);
    await expectActive(groupVolume('readmission-risk', '1h', 'ward', 'north-icu'));
    await expectActive(siteSilent);

    await resolve(siteSilent);
    await expectActive(groupVolume('sepsis-risk', '1h', 'ward', 'north-icu'));
  });

  it('lets a critical alert hold back its warning twin of the same row only', async () => {
    await fire(
      driftRow('sepsis-risk', 'critical', 'age'),
      driftRow('sepsis-risk', 'warning', 'age'),
      driftRow('sepsis-risk', 'warning', 'lactate'),
      driftRow('sepsis-risk', 'warning', 'age', '1d'),
      driftRow('readmission-risk', 'warning', 'age'),
    );
    await expectInhibited(driftRow('sepsis-risk', 'warning', 'age'), driftRow('sepsis-risk', 'critical', 'age'));
    await expectActive(driftRow('sepsis-risk', 'critical', 'age'));
    await expectActive(driftRow('sepsis-risk', 'warning', 'lactate'));
    await expectActive(driftRow('sepsis-risk', 'warning', 'age', '1d'));
    await expectActive(driftRow('readmission-risk', 'warning', 'age'));
  });

  it("matches the stack's Alertmanager (ALERTMANAGER_URL), which has loaded the same routes and inhibitions", async () => {
    const stackUrl = process.env.ALERTMANAGER_URL?.replace(/\/+$/, '');
    if (!stackUrl) throw new Error('ALERTMANAGER_URL is not set: run the suite with `npm test`, which starts Alertmanager and exports it');
    interface Status {
      config: { original: string };
      versionInfo: { version: string };
    }
    const status = async (url: string): Promise<Status> => {
      const response = await fetch(`${url}/api/v2/status`, { signal: AbortSignal.timeout(5_000) });
      expect(response.ok, `${url}/api/v2/status`).toBe(true);
      return (await response.json()) as Status;
    };
    const loaded = (found: Status) => {
      const config = parse(found.config.original) as AlertmanagerConfig;
      return { version: found.versionInfo.version, route: config.route, inhibitRules: config.inhibit_rules, receivers: config.receivers.map((receiver) => receiver.name) };
    };
    const stack = loaded(await status(stackUrl));
    const ours = loaded(await status(alertmanagerUrl));
    expect(stack, 'the stack runs another configuration: `bash infra/local/stack.sh up` reloads it').toEqual(ours);
  });
});
