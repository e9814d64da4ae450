import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CATALOGUE } from '../../services/observability/catalogue.js';
import { buildDashboards, dashboardQueries, type DashboardQuery } from '../../services/observability/dashboards.js';
import { HOUR, monitorOn, simulatedTraffic, storeScheduled, testModelsFolder } from '../support/monitor-harness.js';
import { openTestStorage, type StorageHarness } from '../support/pipeline-harness.js';

/**
 * The dashboards' queries run as Grafana would run them, with the variables set to the example
 * model's (model=sepsis-risk, window=1h, segment=site) and the macros expanded over a fixed range:
 * the SQL against a ClickHouse holding the monitor's results of 50 simulated hours (a lab unit
 * change at hour 48, so the newest windows have rows in alert), each returning rows with the
 * columns its panel names; the PromQL parsed by promtool and, with the stack up
 * (`eval "$(bash infra/local/stack.sh status)"` sets PROMETHEUS_URL), accepted by Prometheus.
 */

const VARIABLES: Readonly<Record<string, string>> = { model: 'sepsis-risk', window: '1h', segment: 'site' };
const START = Date.UTC(2026, 0, 5);
const HOURS = 50;
const RANGE = { from: START, to: START + HOURS * HOUR };

const queries = buildDashboards(CATALOGUE).flatMap((file) => dashboardQueries(file.dashboard));
const promqlQueries = queries.filter((query) => query.language === 'promql');
const sqlQueries = queries.filter((query) => query.language === 'sql');

/** Grafana's interpolation of the variables (single values) and of the macros these dashboards use. */
function substituted(query: DashboardQuery): string {
  const seconds = (ms: number): number => Math.floor(ms / 1000);
  const text =
    query.language === 'sql'
      ? query.text.replace(/\$__timeFilter\((\w+)\)/g, (_all, column: string) => `${column} >= toDateTime(${seconds(RANGE.from)}) AND ${column} <= toDateTime(${seconds(RANGE.to)})`)
      : query.text.replaceAll('$__rate_interval', '5m');
  const expanded = text.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (all, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = VARIABLES[name];
    if (value === undefined) throw new Error(`${query.where}: no value for ${all}`);
    if (format === undefined) return value;
    if (format === 'singlequote') return `'${value}'`;
    throw new Error(`${query.where}: format ${format} of ${all} is not expanded here`);
  });
  if (expanded.includes('$')) throw new Error(`${query.where}: left unexpanded: ${expanded}`);
  return expanded;
}

/** The columns a panel's settings name: overrides by name, fill-below targets, label display names, the time column of a time series. */
function columnsNamedBy(query: DashboardQuery): string[] {
  if (query.shape === 'variable') return [];
  const panel = query.panel as Panel;
  const names = new Set<string>();
  if (query.shape === 'timeSeries') names.add('time');
  for (const override of panel.fieldConfig?.overrides ?? []) {
    if (override.matcher.id === 'byName') names.add(String(override.matcher.options));
    for (const property of override.properties) if (property.id === 'custom.fillBelowTo') names.add(String(property.value));
  }
  for (const [, label] of (panel.fieldConfig?.defaults?.displayName ?? '').matchAll(/\$\{__field\.labels\.(\w+)\}/g)) names.add(label as string);
  return [...names];
}

describe('the dashboards\' PromQL', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'vigil-dashboard-promql-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('parses with promtool, every expression with its variables set', () => {
    const rules = promqlQueries.map((query, index) => ({ record: `dashboard_query_${index}`, expr: substituted(query) }));
    const file = join(folder, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    if (result.error) throw new Error(`promtool could not run (installed by npm run infra:up): ${result.error.message}`);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it.each(promqlQueries.map((query) => [query.where, query] as const))('%s: Prometheus evaluates it', async (_where, query) => {
    const prometheus = process.env.PROMETHEUS_URL;
    if (prometheus === undefined) throw new Error('PROMETHEUS_URL is not set: run the suite with `npm test`, which starts Prometheus and exports it');
    const url = new URL('/api/v1/query', prometheus);
    url.searchParams.set('query', substituted(query));
    const response = await fetch(url);
    const body = (await response.json()) as { status: string; error?: string };
    expect(body.status, body.error).toBe('success');
  });
});

describe('the dashboards\' SQL on a ClickHouse with monitor results', () => {
  let storage: StorageHarness;
  let models: Awaited<ReturnType<typeof testModelsFolder>>;

  beforeAll(async () => {
    storage = await openTestStorage();
    models = await testModelsFolder();
    // The dashboards name tables as the data source's default database resolves them; chDB keeps USE for the later queries.
    if (storage.target.kind === 'embedded') await storage.client.command({ query: `USE ${storage.target.database}` });
    await storeScheduled(storage, simulatedTraffic({ seed: 17, startTime: START, hours: HOURS, perHour: 300, scenario: 'lab-unit-change', flushOutcomes: true }), RANGE.to + 60 * HOUR);
    const { monitor } = monitorOn(storage, models.directory, { now: Date.UTC(2026, 1, 1) });
    for (let pass = 0; pass < 5; pass++) {
      const report = await monitor.runPass();
      expect(report.failed).toBe(0);
      if (report.evaluated === 0) break;
    }
  }, 300_000);

  afterAll(async () => {
    await storage?.close();
    await models?.remove();
  });

  it.each(sqlQueries.map((query) => [query.where, query] as const))('%s runs and returns rows with the columns its panel names', async (_where, query) => {
    const result = await (await storage.client.query({ query: substituted(query), format: 'JSON' })).json<Record<string, unknown>>();
    const meta = result.meta ?? [];
    const columns = meta.map((column) => column.name);
    expect(result.data.length, `${query.where} returned no row`).toBeGreaterThan(0);
    // Numbers arrive as JSON numbers, or strings for 64-bit integers; a panel of nulls only would be empty.
    const numeric = meta.filter((column) => /^(Nullable\()?(Float|U?Int)/.test(column.type)).map((column) => column.name);
    if (numeric.length > 0) {
      const values = (result.data as Record<string, unknown>[]).flatMap((row) => numeric.map((name) => row[name]));
      expect(values.some((value) => value !== null), `${query.where}: every number is null`).toBe(true);
    }
    if (query.shape === 'variable') {
      expect(columns, query.where).toHaveLength(1);
      return;
    }
    for (const name of columnsNamedBy(query)) expect(columns, `${query.where} has no column ${name}`).toContain(name);
    if (query.shape === 'timeSeries') {
      expect(meta.find((column) => column.name === 'time')?.type, query.where).toMatch(/^DateTime/);
      expect(numeric.length, `${query.where} has no numeric column`).toBeGreaterThan(0);
    }
  });

  it('shows the lab unit change in the newest windows: creatinine out of range, in alert', async () => {
    const why = sqlQueries.find((query) => query.where === 'vigil-fleet / Why: rows in warn or alert of the newest windows')!;
    const rows = await (await storage.client.query({ query: substituted(why), format: 'JSONEachRow' })).json<{ metric: string; feature: string; status: string }>();
    expect(rows.some((row) => row.metric === 'out_of_range_share' && row.feature === 'creatinine' && row.status === 'alert')).toBe(true);
  });
});
