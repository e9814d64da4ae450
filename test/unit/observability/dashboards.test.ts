import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../../services/adapters/project/project-files.js';
import { CATALOGUE, RECORDING_RULES } from '../../../services/observability/catalogue.js';
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboards, dashboardQueries, DASHBOARDS_FOLDER, DATASOURCES, panelsOf, referencedVariables, renderDashboard } from '../../../services/observability/dashboards.js';
import { generateFiles } from '../../../services/observability/generate.js';

/**
 * The generated dashboards against what Grafana needs and what grafana/dashboard-linter checks:
 * units, descriptions and thresholds on every panel, data sources that are provisioned, template
 * variables that exist, PromQL that reads only the catalogue's series with $__rate_interval ranges
 * and no hard-coded job or instance, SQL that reads results through each window's latest evaluation.
 * test/integration/dashboard-queries.test.ts runs the queries.
 */

const dashboards = buildDashboards(CATALOGUE).map((file) => ({ path: file.path, json: JSON.parse(renderDashboard(file.dashboard)) as Dashboard }));

const knownUids = new Map<string, string>(Object.values(DATASOURCES).map((source) => [source.uid, source.type]));

/** Grafana's unit ids that these dashboards may use (a subset of grafana-data's valueFormats, as dashboard-linter lists them). */
const GRAFANA_UNITS = new Set(['none', 'short', 'percent', 'percentunit', 's', 'ms', 'cps', 'ops', 'reqps', 'dateTimeAsIso', 'dateTimeFromNow', 'bytes']);

const knownSeries = new Set(CATALOGUE.series.flatMap((series) => (series.type === 'histogram' ? [`${series.name}_bucket`, `${series.name}_sum`, `${series.name}_count`] : [series.name])));
const recordedSeries = new Set(RECORDING_RULES.map((rule) => rule.record));

const BUILT_IN = /^__/;

interface Target {
  datasource?: { type?: string; uid?: string };
  expr?: string;
  rawSql?: string;
}

const targetsOf = (panel: Panel): Target[] => (panel.targets ?? []) as unknown as Target[];

/** Metric names a PromQL expression reads, as the catalogue test finds them: quoted values and [ranges] taken out first. */
function promqlNamesIn(expr: string): string[] {
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '[]');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool']);
  return [...bare.matchAll(/(?<![\w{,=])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{[\s)]|$)/g)]
    .map((match) => match[1] as string)
    .filter((name) => !keywords.has(name) && (name.startsWith('vigil_') || name.includes(':') || CATALOGUE.scrapeSeries.includes(name)));
}

describe('the generated dashboards', () => {
  it('are the four pages, each with its own uid and the vigil tag, and part of the generated files', () => {
    expect(dashboards.map((dashboard) => dashboard.json.uid)).toEqual(['vigil-fleet', 'vigil-model', 'vigil-fairness', 'vigil-pipeline']);
    for (const { path, json } of dashboards) {
      expect(path).toBe(`${DASHBOARDS_FOLDER}/${json.uid}.json`);
      expect(json.tags).toContain('vigil');
      expect(json.title).toMatch(/^Vigil \/ /);
      expect(json.description?.length ?? 0).toBeGreaterThan(40);
    }
    const generated = new Map(generateFiles().map((file) => [file.path, file.content]));
    for (const file of buildDashboards(CATALOGUE)) expect(generated.get(file.path)).toBe(renderDashboard(file.dashboard));
  });

  it('name the data sources that grafana/provisioning provisions, by their fixed uids', () => {
    const provisioned = parse(readFileSync(projectPath('grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as { datasources: { uid?: string; type: string }[] };
    const byUid = new Map(provisioned.datasources.map((source) => [source.uid, source.type]));
    for (const source of Object.values(DATASOURCES)) expect(byUid.get(source.uid), source.uid).toBe(source.type);
  });

  it('are provisioned from a folder by a file provider that the UI cannot save over', () => {
    const provisioning = parse(readFileSync(projectPath('grafana', 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as { apiVersion: number; providers: { type: string; allowUiUpdates: boolean; options: { path: string } }[] };
    expect(provisioning.apiVersion).toBe(1);
    expect(provisioning.providers).toHaveLength(1);
    expect(provisioning.providers[0]).toMatchObject({ type: 'file', allowUiUpdates: false, options: { path: '/etc/grafana/dashboards' } });
  });

  it('give every panel a title, a description, a valid unit, thresholds and a provisioned data source shared by its targets', () => {
    for (const { json } of dashboards) {
      const panels = panelsOf(json);
      expect(panels.length, json.uid).toBeGreaterThan(5);
      expect(new Set(panels.map((panel) => panel.id)).size, `${json.uid} panel ids`).toBe(panels.length);
      for (const panel of panels) {
        const where = `${json.uid} / ${panel.title}`;
        expect(panel.title?.length ?? 0, where).toBeGreaterThan(3);
        expect(panel.description?.length ?? 0, `${where}: description`).toBeGreaterThan(30);
        expect(GRAFANA_UNITS.has(panel.fieldConfig?.defaults?.unit ?? ''), `${where}: unit ${panel.fieldConfig?.defaults?.unit}`).toBe(true);
        const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
        expect(steps.length, `${where}: thresholds`).toBeGreaterThan(0);
        expect(steps[0]?.value, `${where}: the first threshold step is the base`).toBeNull();
        expect(panel.fieldConfig?.defaults?.thresholds?.mode, where).toBe('absolute');
        expect(knownUids.get(panel.datasource?.uid ?? ''), `${where}: data source`).toBe(panel.datasource?.type);
        expect(panel.targets?.length ?? 0, `${where}: targets`).toBeGreaterThan(0);
        for (const target of targetsOf(panel)) expect(target.datasource, `${where}: target data source`).toEqual(panel.datasource);
        for (const override of panel.fieldConfig?.overrides ?? []) {
          for (const property of override.properties) if (property.id === 'unit') expect(GRAFANA_UNITS.has(String(property.value)), `${where}: override unit`).toBe(true);
        }
        expect(panel.gridPos?.w ?? 0, where).toBeGreaterThan(0);
        expect((panel.gridPos?.x ?? 0) + (panel.gridPos?.w ?? 0), where).toBeLessThanOrEqual(24);
      }
    }
  });

  it('define every variable they refer to, before it is used, each with a provisioned data source, and use every variable they define', () => {
    for (const { json } of dashboards) {
      const variables = json.templating.list ?? [];
      const defined = new Set<string>();
      for (const variable of variables) {
        expect(knownUids.get(variable.datasource?.uid ?? ''), `${json.uid} $${variable.name}: data source`).toBe(variable.datasource?.type);
        expect(variable.description?.length ?? 0, `${json.uid} $${variable.name}: description`).toBeGreaterThan(10);
        for (const name of referencedVariables(String(variable.query))) expect(defined.has(name), `${json.uid} $${variable.name} uses $${name} before it is defined`).toBe(true);
        defined.add(variable.name);
      }
      const used = new Set<string>();
      for (const panel of panelsOf(json)) {
        const texts = [panel.title ?? '', panel.description ?? '', ...targetsOf(panel).map((target) => target.expr ?? target.rawSql ?? '')];
        for (const name of texts.flatMap(referencedVariables)) {
          expect(defined.has(name) || BUILT_IN.test(name), `${json.uid} / ${panel.title} uses undefined $${name}`).toBe(true);
          used.add(name);
        }
      }
      for (const name of defined) expect(used.has(name), `${json.uid}: $${name} is defined but no panel uses it`).toBe(true);
    }
  });

  it('read only the catalogue\'s series, counters through rate over $__rate_interval, histograms through histogram_quantile by le', () => {
    const queries = dashboards.flatMap(({ json }) => dashboardQueries(json)).filter((query) => query.language === 'promql');
    expect(queries.length).toBeGreaterThan(30);
    for (const { where, text, shape } of queries) {
      const names = promqlNamesIn(text);
      expect(names.length, `${where} reads nothing?`).toBeGreaterThan(0);
      for (const name of names) expect(knownSeries.has(name) || recordedSeries.has(name), `${where} reads ${name}`).toBe(true);
      // dashboard-linter's rate-interval rule: every range of a rate is $__rate_interval.
      for (const [, range] of text.matchAll(/\b(?:rate|irate|increase)\([^[]*\[([^\]]+)\]/g)) expect(range, where).toBe('$__rate_interval');
      // A variable lists a counter's label values; a panel shows its rate.
      for (const counter of names.filter((name) => name.endsWith('_total') && shape !== 'variable')) expect(text, `${where} reads ${counter} without rate`).toMatch(new RegExp(`\\brate\\(${counter}(\\{[^}]*\\})?\\[`));
      for (const bucket of names.filter((name) => name.endsWith('_bucket'))) {
        expect(text, `${where}: ${bucket}`).toMatch(new RegExp(`histogram_quantile\\([0-9.]+, sum by \\((le|le, [a-z_, ]+)\\) \\(rate\\(${bucket}\\[`));
      }
      // dashboard-linter's job and instance rules, as they apply to a dashboard of one project: no hard-coded target.
      expect(text, `${where}: hard-coded job or instance`).not.toMatch(/\b(job|instance)\s*=~?\s*"/);
    }
  });

  it('read ClickHouse results only through the latest evaluation of each window, with the plugin\'s time filter', () => {
    const queries = dashboards.flatMap(({ json }) => dashboardQueries(json)).filter((query) => query.language === 'sql');
    expect(queries.length).toBeGreaterThan(20);
    for (const { where, text, shape } of queries) {
      const tables = [...text.matchAll(/\bFROM\s+([a-z_.]+)/g)].map((match) => match[1]);
      for (const table of tables) expect(['metric_results', 'window_evaluations'], `${where} reads ${table}`).toContain(table);
      // Only macros the test expands, and names the data source's default database resolves.
      for (const [macro] of text.matchAll(/\$__\w+/g)) expect(macro, where).toBe('$__timeFilter');
      if (tables.includes('metric_results') && shape !== 'variable') {
        expect(text, `${where}: reads every evaluation`).toMatch(/evaluation_id IN \(\s*SELECT evaluation_id FROM window_evaluations[\s\S]*ORDER BY window_start( DESC)?, evaluated_at DESC, evaluation_id DESC\s+LIMIT 1 BY/);
        expect(text, `${where}: no time filter`).toContain('$__timeFilter(window_start)');
      }
      if (shape === 'timeSeries') expect(text, `${where}: a time series needs its time column`).toMatch(/^SELECT window_start AS time\b/);
    }
  });

  it('write ClickHouse variable queries as one column of distinct values', () => {
    for (const { json } of dashboards) {
      for (const variable of (json.templating.list ?? []).filter((entry) => entry.datasource?.uid === DATASOURCES.clickhouse.uid)) {
        expect(String(variable.query), `${json.uid} $${variable.name}`).toMatch(/^SELECT DISTINCT \w+ FROM (window_evaluations|metric_results)\b.* ORDER BY \w+$/);
      }
    }
  });

  it('renders stable JSON: the same catalogue gives the same bytes', () => {
    const again = buildDashboards(CATALOGUE).map((file) => renderDashboard(file.dashboard));
    expect(again).toEqual(buildDashboards(CATALOGUE).map((file) => renderDashboard(file.dashboard)));
    for (const content of again) expect(content.endsWith('}\n')).toBe(true);
  });

  it('refuses a catalogue without a series a panel reads', () => {
    const series = CATALOGUE.series.filter((entry) => entry.name !== 'vigil_consumer_lag');
    const withoutLag = { ...CATALOGUE, series, ruleFiles: CATALOGUE.ruleFiles.map((file) => ({ ...file, groups: file.groups.map((group) => ({ ...group, rules: group.rules.filter((rule) => !('record' in rule) || rule.record !== 'topic:vigil_consumer_lag:sum') })) })) };
    expect(() => buildDashboards(withoutLag)).toThrow(/topic:vigil_consumer_lag:sum/);
  });
});
