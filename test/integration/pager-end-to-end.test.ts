import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { loadConfig, parseTargets } from '../../services/config/vigil-config.js';
import { RULE_FILES } from '../../services/observability/catalogue.js';
import { renderRuleFile } from '../../services/observability/generate.js';
import { ALERTS_WITHOUT_A_SCALED_MEANING, scaleRuleFile } from '../../services/observability/time-scale.js';
import { startVigil, type RunningVigil } from '../../services/runtime/vigil-runtime.js';
import { vigilTargets } from '../../services/runtime/vigil-targets.js';
import { scenario, type ScenarioName } from '../../services/simulator/scenarios.js';
import { backdatedStartTime, DEFAULT_ACCELERATION_FACTOR } from '../../services/simulator/traffic-schedule.js';
import { parseMetrics, sumMetric } from '../support/kafka-inspection.js';
import { quietLogger } from '../support/pipeline-harness.js';
import { testStorageTarget } from '../support/test-storage.js';
import { freeLoopbackPort } from '../support/free-port.js';

/**
 * From simulated patients to the pager: Vigil in-process (collector, monitor and simulator on
 * embedded storage) playing a clinical scenario, a real Prometheus scraping its /metrics every
 * second with the catalogue's rules on the simulator's clock (time-scale.ts: one simulated hour per
 * wall second, so `for: 2h30m` is `3s`), and a real Alertmanager with the shipped routing
 * (infra/alertmanager/alertmanager.yml as infra/local/stack.sh runs it, group_wait and all, in wall
 * time) delivering to a recorder in this process. Binaries are those of infra/local/stack.sh.
 */

/** Simulated milliseconds per wall millisecond: the simulator's default, by which the rules' durations are divided. */
const FACTOR = DEFAULT_ACCELERATION_FACTOR;
const RATE = 200;
/** Simulated hours, as wall seconds, of the world as validated before each scenario's change. */
const ONSET_SECONDS = (scenario('lab-unit-change').onsetAfterHours * 3_600_000) / FACTOR / 1000;
/**
 * From the onset to the page, wall seconds (simulated hours). What it takes: two hourly windows
 * for the rows to turn (scenarios.ts), the monitor's passes (on embedded storage one pass over the
 * new windows takes several seconds, and the series show only the newest), one scrape, the scaled
 * `for` (6 s for critical drift), one evaluation, then Alertmanager's group_wait of 10 s. Measured:
 * 17 to 27 s on two cores, more under load: the bound leaves room for a slow pass.
 */
const PAGE_WITHIN_SECONDS = 60;
/** Traffic for the onset and the whole bound after it, and some more. */
const COUNT = RATE * (ONSET_SECONDS + PAGE_WITHIN_SECONDS + 15);

/**
 * Simulated hours lab-unit-change lasts in the case that sees its page resolve. Long enough that
 * the critical alert fires for longer than Alertmanager's group_wait (10 s) with room for a slow
 * monitor pass: its rows are in alert for about LASTS_HOURS windows, less the two it takes them to
 * turn and the scaled `for` (3 s), plus keep_firing_for (2 s), so about LASTS_HOURS − 2 s; an alert
 * that resolves within group_wait is never paged. Short enough to lie within one UTC day (below).
 */
const LASTS_HOURS = 18;
/**
 * From the end of the change to the `resolved` notification of its page, wall seconds. Newer
 * windows are clean from the end's window on: the first wholly clean one closes within 2 s of the
 * end, the monitor shows it after its next pass (up to ~10 s under load), one scrape, then
 * keep_firing_for (1h30m, 2 s) and one evaluation, and Prometheus tells Alertmanager within its 1 s
 * resend delay: cleared within ~20 s of the end. Alertmanager sends it at the group's next flush,
 * every group_interval (1 m, wall time) after the page: at the first, page + 60 s, since the page
 * comes after the onset plus group_wait, so at most ~30 s before the clearing. The page comes
 * at most PAGE_WITHIN_SECONDS after the onset, LASTS_HOURS seconds before the end: hence the bound,
 * that less LASTS_HOURS, one group_interval, and 10 s to spare.
 * Measured: 60 to 64 s after the end (the page at 18 to 22 s after the onset).
 */
const RESOLVED_WITHIN_SECONDS = PAGE_WITHIN_SECONDS - LASTS_HOURS + 60 + 10;
/** Traffic to the end of that bound, and some more. */
const ENDING_COUNT = RATE * (ONSET_SECONDS + LASTS_HOURS + RESOLVED_WITHIN_SECONDS + 15);

const DAY_MS = 86_400_000;
/**
 * UTC time of day at which the onset is placed for the ending run. The short-run spec compares each
 * window with the three UTC days before its own, so a change that crosses midnight is in the next day's baseline:
 * the out-of-range alert would clear mid-change (the baseline's range now holds µmol/L values) and
 * the page's resolution would prove nothing. Ten past midnight, pushed later by the few seconds
 * (simulated hours) Vigil takes to start the simulator, keeps onset and end within one day.
 */
const ONSET_TIME_OF_DAY_MS = 10 * 60_000;

/**
 * At least `minimumCount` predictions, padded so that a run started at `wallStart` has its onset at
 * ONSET_TIME_OF_DAY_MS or just after: the simulator dates its traffic back from the run's length
 * (backdatedStartTime), each prediction more starting it 5 simulated hours earlier per thousand, so the padding
 * chooses the time of day without changing how long anything takes; the extra traffic is never sent.
 */
function countPlacingOnset(wallStart: number, minimumCount: number, onsetAfterHours: number): number {
  const sinceTargetTimeOfDay = (count: number): number =>
    (((backdatedStartTime(wallStart, { count, predictionsPerSecond: RATE, flushOutcomes: true }) + onsetAfterHours * 3_600_000 - ONSET_TIME_OF_DAY_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  let best = minimumCount;
  for (let count = minimumCount; count < minimumCount + (DAY_MS / 1000) * (RATE / FACTOR) * 1.1; count += 1) {
    if (sinceTargetTimeOfDay(count) < sinceTargetTimeOfDay(best)) best = count;
  }
  return best;
}

type Labels = Record<string, string>;

interface WebhookNotification {
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels: Labels;
  alerts: { status: string; labels: Labels; annotations: Labels }[];
}

interface Delivery {
  path: string;
  at: number;
  body: unknown;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));


/** The binaries infra/local/stack.sh runs. */
function binary(candidates: string): string {
  const found = spawnSync('bash', ['-c', candidates], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  if (found.status !== 0 || !path) throw new Error(`not on PATH: ${candidates} (installed by npm run infra:up)`);
  return path;
}

interface Child {
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

async function startChild(name: string, command: string, args: string[], readyUrl: string): Promise<Child> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-12_000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const handle: Child = {
    process: child,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during start-up:\n${log}`);
    if (await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) }).then((response) => response.ok, () => false)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${name} was not ready after 30 s:\n${log}`);
    }
    await sleep(100);
  }
}

/**
 * The example model with hourly windows only, compared with the three UTC days before, and final
 * two hours after their end: on one simulated hour per second, a longer label horizon or a daily
 * window has the embedded monitor re-evaluate dozens of windows a second as outcomes arrive.
 * A trailing baseline learns a silent site's silence: site-a (45% of the traffic) stays judged,
 * and its page firing, while its silent hours are under about 70% of the baseline, so at least two
 * days (52 wall seconds) after the onset whatever its time of day. With one day it was 17 hours
 * when the onset fell early in a UTC day, and the page could resolve before the test looked at it.
 */
function shortRunModelsFolder(folder: string): string {
  const directory = join(folder, 'models');
  mkdirSync(directory);
  const spec = parse(readFileSync(projectPath('infra', 'models', 'sepsis-risk.model.yaml'), 'utf8')) as Record<string, unknown>;
  spec.monitoring = { windows: ['1h'], baseline: { trailing: { length: '3d' } }, label_horizon: '2h', min_window_size: 100, min_label_coverage: 0.8, max_groups_per_segment: 10 };
  writeFileSync(join(directory, 'sepsis-risk.model.yaml'), stringify(spec));
  return directory;
}

interface Chain {
  deliveries: Delivery[];
  pages(): WebhookNotification[];
  tickets(): WebhookNotification[];
  /** Wall time at which the simulator published the first prediction of the scenario's change. */
  onsetAt: number;
  /** Simulated time of that prediction, epoch milliseconds (from the simulator's clock, within a few simulated hours). */
  onsetTime: number;
  prometheusUrl: string;
  alertmanagerUrl: string;
  logs(): string;
  stop(): Promise<void>;
}

interface ChainOptions {
  /** Simulated hours the scenario's change lasts; unset, to the end of the run. */
  lastsHours?: number;
}

/** Recorder, Alertmanager, Prometheus and Vigil playing `scenarioName`; resolves once the onset has been published. */
async function startChain(scenarioName: ScenarioName, options: ChainOptions = {}): Promise<Chain> {
  const folder = mkdtempSync(join(tmpdir(), 'vigil-pager-e2e-'));
  const stops: Array<() => Promise<void>> = [async () => rmSync(folder, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  const children: Record<string, Child> = {};
  const logs = (): string => Object.entries(children).map(([name, child]) => `--- ${name}\n${child.log()}`).join('\n');
  try {
    const deliveries: Delivery[] = [];
    const recorder: Server = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? (JSON.parse(text) as unknown) : undefined;
        } catch {
          // Kept as text: a delivery that is not JSON fails the assertions that read it.
        }
        deliveries.push({ path: request.url ?? '', at: Date.now(), body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const recorderPort = await new Promise<number>((resolve) => recorder.listen(0, '127.0.0.1', () => resolve((recorder.address() as AddressInfo).port)));
    stops.push(() => new Promise<void>((closed) => recorder.close(() => closed())));

    // Alertmanager: the runtime copy stack.sh writes, webhooks on the recorder, PagerDuty's endpoint and key file local.
    const configs = spawnSync('bash', ['infra/local/stack.sh', 'configs'], {
      cwd: projectPath(),
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, VIGIL_STACK_DIR: join(folder, 'stack'), VIGIL_PAGER_PORT: String(recorderPort) },
    });
    const runtimePath = /^ALERTMANAGER_CONFIG=(.+)$/m.exec(configs.stdout)?.[1];
    if (configs.status !== 0 || !runtimePath) throw new Error(`stack.sh configs failed: ${configs.stdout}${configs.stderr}`);
    const alertmanagerConfig = parse(readFileSync(runtimePath, 'utf8')) as { receivers: { pagerduty_configs?: Record<string, unknown>[] }[] };
    writeFileSync(join(folder, 'routing-key'), 'vigil-test-routing-key\n');
    for (const receiver of alertmanagerConfig.receivers) {
      for (const pagerduty of receiver.pagerduty_configs ?? []) {
        pagerduty.routing_key_file = join(folder, 'routing-key');
        pagerduty.url = `http://127.0.0.1:${recorderPort}/v2/enqueue`;
      }
    }
    writeFileSync(join(folder, 'alertmanager.yml'), stringify(alertmanagerConfig));
    const alertmanagerUrl = `http://127.0.0.1:${await freeLoopbackPort()}`;
    children.alertmanager = await startChild(
      'Alertmanager',
      binary('command -v prometheus-alertmanager || command -v alertmanager'),
      [
        `--config.file=${join(folder, 'alertmanager.yml')}`,
        `--storage.path=${join(folder, 'alertmanager-data')}`,
        `--web.listen-address=${alertmanagerUrl.slice('http://'.length)}`,
        `--web.external-url=${alertmanagerUrl}/`,
        '--cluster.listen-address=',
      ],
      `${alertmanagerUrl}/-/ready`,
    );
    stops.push(() => children.alertmanager!.stop());

    // Prometheus: the repository's prometheus.yml on a one-second clock, with the catalogue's rules scaled to the simulator's.
    const rulesFolder = join(folder, 'rules');
    mkdirSync(rulesFolder);
    const ruleFiles = RULE_FILES.map((file) => {
      const path = join(rulesFolder, basename(file.path));
      writeFileSync(path, renderRuleFile(scaleRuleFile(file, FACTOR, { leaveOut: ALERTS_WITHOUT_A_SCALED_MEANING })));
      return path;
    });
    const vigilPort = await freeLoopbackPort();
    const prometheusConfig = parse(readFileSync(projectPath('infra/prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    prometheusConfig.global = { ...prometheusConfig.global, scrape_interval: '1s', evaluation_interval: '1s' };
    prometheusConfig.rule_files = ruleFiles;
    prometheusConfig.alerting.alertmanagers = [{ static_configs: [{ targets: [alertmanagerUrl.slice('http://'.length)] }] }];
    const vigilJob = prometheusConfig.scrape_configs.find((job) => job.job_name === 'vigil');
    if (!vigilJob) throw new Error('infra/prometheus/prometheus.yml has no vigil job');
    vigilJob.static_configs = [{ targets: [`127.0.0.1:${vigilPort}`] }];
    writeFileSync(join(folder, 'prometheus.yml'), stringify(prometheusConfig));
    const prometheusUrl = `http://127.0.0.1:${await freeLoopbackPort()}`;
    children.prometheus = await startChild(
      'Prometheus',
      binary('command -v prometheus'),
      [
        `--config.file=${join(folder, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(folder, 'prometheus-data')}`,
        `--web.listen-address=${prometheusUrl.slice('http://'.length)}`,
        // Resolutions reach Alertmanager within a second, as on a one-second clock they should.
        '--rules.alert.resend-delay=1s',
      ],
      `${prometheusUrl}/-/ready`,
    );
    stops.push(() => children.prometheus!.stop());

    // Vigil: collector, monitor and simulator in one process, embedded storage, a spec sized for a short run.
    const models = shortRunModelsFolder(folder);
    const storage = testStorageTarget();
    const onsetAfterHours = scenario(scenarioName).onsetAfterHours;
    const vigilStartingAt = Date.now();
    // An ending run needs traffic until its page has resolved, and its change within one UTC day.
    const count = options.lastsHours === undefined ? COUNT : countPlacingOnset(vigilStartingAt, ENDING_COUNT, onsetAfterHours);
    const config = loadConfig({
      VIGIL_HTTP_PORT: String(vigilPort),
      VIGIL_SIMULATOR_SCENARIO: scenarioName,
      ...(options.lastsHours === undefined ? {} : { VIGIL_SIMULATOR_SCENARIO_HOURS: String(options.lastsHours) }),
      VIGIL_SIMULATOR_RATE: String(RATE),
      VIGIL_SIMULATOR_COUNT: String(count),
      VIGIL_SIMULATOR_SEED: '23',
      VIGIL_MONITOR_INTERVAL_SECONDS: '0.5',
      VIGIL_MODELS_DIR: models,
      CLICKHOUSE_DATABASE: storage.database,
      ...(storage.kind === 'server' ? { CLICKHOUSE_URL: storage.url } : { VIGIL_DATA_DIR: storage.dataDirectory }),
    });
    const vigil: RunningVigil = await startVigil(config, parseTargets('collector,monitor,simulator'), quietLogger, vigilTargets);
    stops.push(() => vigil.stop());
    // The simulator dated its traffic from its own start, somewhere in between.
    const onsetTime = backdatedStartTime(Math.trunc((vigilStartingAt + Date.now()) / 2), { count, predictionsPerSecond: RATE, flushOutcomes: true }) + onsetAfterHours * 3_600_000;
    // Prometheus goes first, so that Vigil stopping is not an outage it alerts on.
    stops.push(() => children.prometheus!.stop());

    // The onset: prediction number onsetAfterHours × RATE is the first one of the changed world.
    const onsetPredictions = ONSET_SECONDS * RATE;
    const deadline = Date.now() + (ONSET_SECONDS + 30) * 1000;
    let onsetAt = 0;
    while (onsetAt === 0) {
      const published = sumMetric(parseMetrics(await (await fetch(vigil.metricsUrl)).text()), 'vigil_events_published_total', 'predictions');
      if (published >= onsetPredictions) onsetAt = Date.now();
      else if (Date.now() > deadline) throw new Error(`the simulator published ${published} of ${onsetPredictions} predictions before the onset in ${ONSET_SECONDS + 30} s`);
      else await sleep(100);
    }

    const webhooks = (path: string): WebhookNotification[] => deliveries.filter((delivery) => delivery.path === path).map((delivery) => delivery.body as WebhookNotification);
    return { deliveries, pages: () => webhooks('/pager'), tickets: () => webhooks('/tickets'), onsetAt, onsetTime, prometheusUrl, alertmanagerUrl, logs, stop };
  } catch (error) {
    const text = logs();
    await stop();
    throw error instanceof Error ? new Error(`${error.message}\n${text}`, { cause: error }) : error;
  }
}

/** Polls until `done` holds or the time is up. */
async function waitUntil(done: () => boolean | Promise<boolean>, until: number): Promise<boolean> {
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= until) return false;
    await sleep(200);
  }
}

/** When each firing alert of `alertname` became active, as Prometheus's rule manager lists them. */
async function alertsFiringSince(prometheusUrl: string, alertname: string): Promise<string[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: { alerts: { labels: Labels; state: string; activeAt: string }[] } };
  if (body.status !== 'success') throw new Error(`Prometheus could not list its alerts: ${JSON.stringify(body)}`);
  return body.data.alerts.filter((alert) => alert.labels.alertname === alertname && alert.state === 'firing').map((alert) => alert.activeAt).sort();
}

async function instantQuery(prometheusUrl: string, query: string): Promise<{ metric: Labels; value: [number, string] }[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: { result: { metric: Labels; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`Prometheus could not run ${query}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** What Prometheus saw, for a failure message: the newest window shown, the rows not ok, the alerts. */
async function prometheusState(prometheusUrl: string): Promise<string> {
  const show = (rows: { metric: Labels; value: [number, string] }[]) => rows.map((row) => `${JSON.stringify(row.metric)} ${row.value[1]}`).join('\n  ');
  const [ends, rows, alerts] = await Promise.all([
    instantQuery(prometheusUrl, 'vigil_model_window_end_timestamp_seconds'),
    instantQuery(prometheusUrl, 'vigil_model_metric_status > 0'),
    instantQuery(prometheusUrl, 'ALERTS'),
  ]).catch((error: unknown) => [[], [], [{ metric: { error: String(error) }, value: [0, ''] as [number, string] }]]);
  return `window ends:\n  ${show(ends)}\nrows not ok:\n  ${show(rows)}\nalerts:\n  ${show(alerts)}`;
}

interface ListedAlert {
  fingerprint: string;
  labels: Labels;
  status: { state: string; inhibitedBy: string[] };
}

async function alertmanagerAlerts(alertmanagerUrl: string): Promise<ListedAlert[]> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as ListedAlert[];
}

const describePages = (pages: WebhookNotification[]): string =>
  JSON.stringify(pages.map((page) => ({ status: page.status, group: page.groupLabels, alerts: page.alerts.map((alert) => alert.labels) })));

/** Whole span of a case: start-up, the onset, the bound after it, shutdown. */
const CASE_TIMEOUT = (ONSET_SECONDS + PAGE_WITHIN_SECONDS + 60) * 1000;
/** The same for the case that also waits for the page to resolve after the change's end. */
const ENDING_CASE_TIMEOUT = (ONSET_SECONDS + LASTS_HOURS + RESOLVED_WITHIN_SECONDS + 60) * 1000;

describe('from simulated patients to the pager (Vigil, Prometheus, Alertmanager)', () => {
  it(`pages for lab-unit-change within ${PAGE_WITHIN_SECONDS} s (simulated hours) of the onset, naming the model, the site and creatinine, and sends the out-of-range page resolved within ${RESOLVED_WITHIN_SECONDS} s of the change's end (${LASTS_HOURS} h later)`, async () => {
    const chain = await startChain('lab-unit-change', { lastsHours: LASTS_HOURS });
    try {
      const onsetClock = new Date(chain.onsetTime).toISOString().slice(11, 16);
      const aboutCreatinine = (page: WebhookNotification): boolean => page.status === 'firing' && page.alerts.some((alert) => alert.labels.feature === 'creatinine');
      await waitUntil(() => chain.pages().some(aboutCreatinine), chain.onsetAt + PAGE_WITHIN_SECONDS * 1000);
      const page = chain.pages().find(aboutCreatinine);
      if (!page) expect.fail(`no page: ${describePages(chain.pages())}\ntickets: ${describePages(chain.tickets())}\n${await prometheusState(chain.prometheusUrl)}\n${chain.logs()}`);
      const delivered = chain.deliveries.find((delivery) => delivery.body === page)!;
      const seconds = (delivered.at - chain.onsetAt) / 1000;
      process.stdout.write(`lab-unit-change: paged ${seconds.toFixed(1)} s (simulated hours) after the onset: ${describePages([page!])}\n`);
      expect(seconds).toBeLessThanOrEqual(PAGE_WITHIN_SECONDS);

      expect(page!.receiver).toBe('pager');
      expect(page!.groupLabels.model).toBe('sepsis-risk');
      for (const alert of page!.alerts.filter((candidate) => candidate.labels.feature === 'creatinine')) {
        expect(alert.labels.severity).toBe('critical');
        expect(alert.labels.model).toBe('sepsis-risk');
        expect(alert.annotations.summary).toContain('model sepsis-risk');
        expect(alert.annotations.summary).toContain('creatinine');
        // A row of one site names it; the change is at site-b only.
        if (alert.labels.segment === 'site') expect(alert.labels.group).toBe('site-b');
      }
      // No page names another feature: the change is creatinine's, and the score's that follows from it.
      for (const other of chain.pages()) {
        for (const alert of other.alerts) if (alert.labels.feature) expect(['creatinine', 'score'], describePages(chain.pages())).toContain(alert.labels.feature);
      }
      // And nothing paged before the onset.
      expect(chain.deliveries.filter((delivery) => delivery.path === '/pager' && delivery.at < chain.onsetAt)).toEqual([]);

      // The laboratory interface is fixed LASTS_HOURS after the onset: site-b's values are in mg/dL
      // again, inside the baseline's range, so the out-of-range page resolves. (The drift page need
      // not: the next day's baseline is the incident's day, against which the validated world drifts.)
      const endAt = chain.onsetAt + LASTS_HOURS * 1000;
      const outOfRange = (notification: WebhookNotification): boolean =>
        notification.groupLabels.alertname === 'VigilModelInputQuality' && notification.alerts.some((alert) => alert.labels.feature === 'creatinine' && alert.labels.metric === 'out_of_range_share');
      const fired = chain.pages().find((candidate) => candidate.status === 'firing' && outOfRange(candidate));
      if (!fired) expect.fail(`no out-of-range page about creatinine (onset at ${onsetClock} UTC): ${describePages(chain.pages())}\n${await prometheusState(chain.prometheusUrl)}`);
      const resolvedDelivery = (): Delivery | undefined =>
        chain.deliveries.find((delivery) => {
          const body = delivery.body as WebhookNotification;
          return delivery.path === '/pager' && body.status === 'resolved' && outOfRange(body);
        });
      await waitUntil(() => resolvedDelivery() !== undefined, endAt + RESOLVED_WITHIN_SECONDS * 1000);
      const resolved = resolvedDelivery();
      if (!resolved) expect.fail(`the out-of-range page did not resolve within ${RESOLVED_WITHIN_SECONDS} s of the end: ${describePages(chain.pages())}\n${await prometheusState(chain.prometheusUrl)}\n${chain.logs()}`);
      const afterEnd = (resolved!.at - endAt) / 1000;
      process.stdout.write(
        `lab-unit-change: onset at ${onsetClock} UTC, ended ${LASTS_HOURS} h later; out-of-range page resolved ${afterEnd.toFixed(1)} s after the end; pages: ${describePages(chain.pages())}\n`,
      );
      expect(afterEnd).toBeGreaterThan(0);
      expect(afterEnd).toBeLessThanOrEqual(RESOLVED_WITHIN_SECONDS);
      const notification = resolved!.body as WebhookNotification;
      expect(notification.receiver).toBe('pager');
      expect(notification.groupLabels).toEqual(fired!.groupLabels);
      for (const alert of notification.alerts) expect(alert.status, JSON.stringify(alert.labels)).toBe('resolved');
      // Still no page names another feature, nor the other sites.
      for (const other of chain.pages()) {
        for (const alert of other.alerts) {
          if (alert.labels.feature) expect(['creatinine', 'score'], describePages(chain.pages())).toContain(alert.labels.feature);
          if (alert.labels.segment === 'site') expect(alert.labels.group, describePages(chain.pages())).toBe('site-b');
        }
      }
    } finally {
      await chain.stop();
    }
  }, ENDING_CASE_TIMEOUT);

  it(`does not page for stable over the same span (onset and ${PAGE_WITHIN_SECONDS} s after)`, async () => {
    const chain = await startChain('stable');
    try {
      await waitUntil(() => chain.pages().length > 0, chain.onsetAt + PAGE_WITHIN_SECONDS * 1000);
      expect(describePages(chain.pages()), `tickets: ${describePages(chain.tickets())}`).toBe('[]');
      // Not silent for want of data: Prometheus scrapes Vigil and holds the judged rows of its windows.
      expect(await instantQuery(chain.prometheusUrl, 'up{job="vigil"} == 1')).toHaveLength(1);
      const judged = await instantQuery(chain.prometheusUrl, 'count(vigil_model_metric_status{model="sepsis-risk", window="1h"} < 3)');
      expect(Number(judged[0]?.value[1] ?? 0)).toBeGreaterThan(10);
      const windows = await instantQuery(chain.prometheusUrl, 'changes(vigil_model_window_end_timestamp_seconds{window="1h"}[1m])');
      expect(Number(windows[0]?.value[1] ?? 0), 'newer windows shown in the last minute').toBeGreaterThan(2);
    } finally {
      await chain.stop();
    }
  }, CASE_TIMEOUT);

  it(`pages once for silent-site within ${PAGE_WITHIN_SECONDS} s and for nothing else, and its page holds back the alerts of that site's rows`, async () => {
    const chain = await startChain('silent-site');
    try {
      const siteSilent = (page: WebhookNotification): boolean => page.status === 'firing' && page.groupLabels.alertname === 'VigilSiteSilent';
      await waitUntil(() => chain.pages().some(siteSilent), chain.onsetAt + PAGE_WITHIN_SECONDS * 1000);
      const page = chain.pages().find(siteSilent);
      if (!page) expect.fail(`no page: ${describePages(chain.pages())}\ntickets: ${describePages(chain.tickets())}\n${await prometheusState(chain.prometheusUrl)}\n${chain.logs()}`);
      const delivered = chain.deliveries.find((delivery) => delivery.body === page)!;
      process.stdout.write(`silent-site: paged ${((delivered.at - chain.onsetAt) / 1000).toFixed(1)} s (simulated hours) after the onset: ${describePages([page!])}\n`);
      for (const alert of page!.alerts) {
        expect(alert.labels).toMatchObject({ model: 'sepsis-risk', kind: 'volume', metric: 'predictions', segment: 'site', group: 'site-a', severity: 'critical' });
        expect(alert.annotations.summary).toContain('site site-a');
      }
      // One page for the site; no page, and no active alert, for the rows of its group.
      expect(chain.pages().filter(siteSilent)).toHaveLength(1);
      for (const other of chain.pages().filter((candidate) => !siteSilent(candidate))) {
        for (const alert of other.alerts) expect(alert.labels.group, describePages(chain.pages())).not.toBe('site-a');
      }
      // Firing since one instant: an alert that resolves and fires again starts anew.
      const firingSince = await alertsFiringSince(chain.prometheusUrl, 'VigilSiteSilent');
      expect(firingSince).toHaveLength(1);
      const listed = await alertmanagerAlerts(chain.alertmanagerUrl);
      const ofSite = listed.filter((alert) => alert.labels.group === 'site-a' && alert.labels.alertname !== 'VigilSiteSilent');
      for (const alert of ofSite) expect(alert.status.inhibitedBy.length, JSON.stringify(alert)).toBeGreaterThan(0);

      // None of the site's own rows can fire in this run (checked below), so the inhibition is tried
      // with what they raise where their outcomes are in (a 7-day window): a critical row of site-a,
      // beside the same row of site-b, handed to Alertmanager while Prometheus's VigilSiteSilent
      // fires. One page follows, for site-b alone: site-a's is held back by that very alert, with
      // the labels the catalogue's rule gives it.
      const source = listed.find((alert) => alert.labels.alertname === 'VigilSiteSilent' && alert.status.state === 'active');
      if (!source) expect.fail(`Alertmanager lists no active VigilSiteSilent: ${JSON.stringify(listed)}`);
      const rowAlert = (site: string): Labels => ({
        alertname: 'VigilModelGroupPerformanceDegraded',
        severity: 'critical',
        model: 'sepsis-risk',
        window: '7d',
        kind: 'performance',
        metric: 'auroc',
        segment: 'site',
        group: site,
      });
      const posted = await fetch(`${chain.alertmanagerUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(['site-a', 'site-b'].map((site) => ({ labels: rowAlert(site), annotations: { summary: `auroc of site=${site} in alert` }, endsAt: new Date(Date.now() + 300_000).toISOString() }))),
        signal: AbortSignal.timeout(5_000),
      });
      expect(posted.status).toBe(200);
      // While VigilSiteSilent fires, Alertmanager holds site-a's row back by that very alert, and not site-b's.
      const injected = async (site: string): Promise<ListedAlert | undefined> =>
        (await alertmanagerAlerts(chain.alertmanagerUrl)).find((alert) => alert.labels.alertname === 'VigilModelGroupPerformanceDegraded' && alert.labels.group === site);
      await waitUntil(async () => (await injected('site-a')) !== undefined && (await injected('site-b')) !== undefined, Date.now() + 5_000);
      expect((await injected('site-a'))?.status).toMatchObject({ state: 'suppressed', inhibitedBy: [source!.fingerprint] });
      expect((await injected('site-b'))?.status).toMatchObject({ state: 'active', inhibitedBy: [] });
      const ofRows = (page: WebhookNotification): boolean => page.groupLabels.alertname === 'VigilModelGroupPerformanceDegraded';
      // group_wait (10 s) and a delivery.
      await waitUntil(() => chain.pages().some(ofRows), Date.now() + 20_000);
      const rowPages = chain.pages().filter(ofRows);
      expect(rowPages.length, describePages(chain.pages())).toBeGreaterThan(0);
      for (const rowPage of rowPages) expect(rowPage.alerts.map((alert) => alert.labels.group)).toContain('site-b');
      for (const rowPage of rowPages) expect(rowPage.alerts.map((alert) => alert.labels.group)).not.toContain('site-a');
      process.stdout.write(`silent-site: while VigilSiteSilent (${source!.fingerprint}) fired, it held the row of site-a back and not that of site-b\n`);

      // What Prometheus fired while the site was silent: the site's page and no critical alert of
      // the model's rows. A warning may fire, and goes to the ticket queue: without site-a the
      // population is another mix of patients, which a feature's drift may rightly show. Not for
      // want of data: the population's rows were judged all along. And none of the site's own rows
      // could fire: with no prediction from site-a, its group has no row but its volume (its
      // selection-rate and performance rows need its outcomes, and the newest window has none
      // yet), so there is nothing of it for the inhibition to hold back here.
      const outageSeconds = Math.ceil((Date.now() - chain.onsetAt) / 1000);
      const firedDuringOutage = await instantQuery(chain.prometheusUrl, `max_over_time(ALERTS{alertstate="firing", model!=""}[${outageSeconds}s])`);
      const otherModelAlerts = firedDuringOutage.filter((alert) => alert.metric.alertname !== 'VigilSiteSilent' && alert.metric.severity === 'critical');
      process.stdout.write(
        `silent-site: model alerts firing in Prometheus over the ${outageSeconds} s since the onset: ${JSON.stringify(firedDuringOutage.map((alert) => alert.metric))}; ${ofSite.length} other alert(s) of site-a listed by Alertmanager\n`,
      );
      for (const alert of otherModelAlerts) {
        // A row of the silent site may fire, but only held back; any other critical model alert is a page nobody expects.
        expect(alert.metric, JSON.stringify(otherModelAlerts.map((other) => other.metric))).toMatchObject({ segment: 'site', group: 'site-a' });
        const inAlertmanager = listed.find((candidate) => candidate.labels.alertname === alert.metric.alertname && candidate.labels.metric === alert.metric.metric && candidate.labels.group === 'site-a');
        expect(inAlertmanager?.status.inhibitedBy, JSON.stringify(alert.metric)).toContain(source!.fingerprint);
      }
      expect(describePages(chain.pages().filter((candidate) => !siteSilent(candidate) && !ofRows(candidate)))).toBe('[]');
      // The site stayed silent, and so its alert never stopped firing (a short window keeps its volume rows).
      expect(await alertsFiringSince(chain.prometheusUrl, 'VigilSiteSilent'), 'VigilSiteSilent resolved while site-a stayed silent').toEqual(firingSince);
      const judged = await instantQuery(chain.prometheusUrl, 'count(vigil_model_metric_status{model="sepsis-risk", window="1h", segment=""} < 3)');
      expect(Number(judged[0]?.value[1] ?? 0)).toBeGreaterThan(10);
      expect(await instantQuery(chain.prometheusUrl, 'vigil_model_metric_status{group="site-a", kind!="volume"} < 3')).toEqual([]);
    } finally {
      await chain.stop();
    }
  }, CASE_TIMEOUT);
});
