import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DependencyHealth } from '../../../services/adapters/telemetry/dependency-health.js';
import { MonitorMetrics } from '../../../services/adapters/telemetry/monitor-metrics.js';
import { PipelineMetrics } from '../../../services/adapters/telemetry/pipeline-metrics.js';
import { ALERT_NAMES, ALERT_RULES, CATALOGUE, RECORDING_RULES, RULE_FILES, type AlertRule } from '../../../services/observability/catalogue.js';
import {
  DEFAULT_GENERATE_OPTIONS,
  generateFiles,
  README_MARKERS,
  renderMetricsTable,
  renderRuleFile,
  replaceBetweenMarkers,
  runbookUrl,
} from '../../../services/observability/generate.js';
import { RUNBOOKS } from '../../../services/observability/runbook-texts.js';

/** Every series a Vigil process running all targets registers, built as the runtime builds it. */
function registeredSeries(): { name: string; type: string; help: string; labels: string[] }[] {
  const pipeline = new PipelineMetrics();
  new MonitorMetrics(pipeline.registry);
  const silent = pino({ level: 'silent' });
  new DependencyHealth('storage', pipeline.dependencyUp, silent);
  new DependencyHealth('schema-registry', pipeline.dependencyUp, silent);
  return pipeline.registry.getMetricsAsArray().map((metric) => ({
    name: metric.name,
    type: String(metric.type),
    help: metric.help,
    labels: [...((metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [])].sort(),
  }));
}

const isDefaultSeries = (name: string): boolean => CATALOGUE.defaultSeriesPrefixes.some((prefix) => name.startsWith(prefix));

/** Minutes of a Prometheus duration such as 2h30m. */
function minutes(duration: string): number {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(duration);
  if (match === null || duration === '') throw new Error(`not a duration: ${duration}`);
  return Number(match[1] ?? 0) * 1440 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** Metric names an expression reads: quoted label values and [range] selectors taken out first. */
function namesIn(expr: string): string[] {
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '[]');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool']);
  return [...bare.matchAll(/(?<![\w{,=])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{[\s)]|$)/g)]
    .map((match) => match[1] as string)
    .filter((name) => !keywords.has(name) && (name.startsWith('vigil_') || name.includes(':') || CATALOGUE.scrapeSeries.includes(name)));
}

const knownSeries = new Set(CATALOGUE.series.flatMap((series) => (series.type === 'histogram' ? [`${series.name}_bucket`, `${series.name}_sum`, `${series.name}_count`] : [series.name])));
const recordedSeries = new Set(RECORDING_RULES.map((rule) => rule.record));

describe('the catalogue of series', () => {
  it('lists exactly the series the code registers, with their type, help text and labels', () => {
    const registered = registeredSeries();
    const own = registered.filter((series) => !isDefaultSeries(series.name));
    const catalogued = CATALOGUE.series.map((series) => ({ name: series.name, type: series.type, help: series.help, labels: [...series.labels].sort() }));
    const byName = <T extends { name: string }>(entries: T[]): T[] => [...entries].sort((left, right) => left.name.localeCompare(right.name));
    expect(byName(own)).toEqual(byName(catalogued));
    // Whatever is not Vigil's own comes from prom-client's defaults, which the README names by prefix.
    expect(registered.filter((series) => !series.name.startsWith('vigil_')).every((series) => isDefaultSeries(series.name))).toBe(true);
    expect(registered.some((series) => isDefaultSeries(series.name))).toBe(true);
  });

  it('names series as Prometheus does: one prefix, base units, _total counters, no colons', () => {
    for (const series of CATALOGUE.series) {
      expect(series.name, series.name).toMatch(/^vigil_[a-z][a-z0-9_]*[a-z0-9]$/);
      expect(series.name.endsWith('_total'), `${series.name}: only counters end in _total`).toBe(series.type === 'counter');
      if (series.type === 'histogram') expect(series.name, `${series.name}: a histogram of durations in seconds`).toMatch(/_seconds$/);
      if (series.unit.startsWith('seconds')) expect(series.name, series.name).toMatch(/_seconds$/);
      if (series.name.endsWith('_seconds')) expect(series.unit, series.name).toMatch(/^seconds/);
      expect(series.name.endsWith('_ratio'), `${series.name}: a ratio is named _ratio`).toBe(series.unit === 'ratio');
      if (series.unit.includes('since 1970')) expect(series.name, series.name).toMatch(/_timestamp_seconds$/);
      for (const label of series.labels) {
        expect(label, `${series.name} label`).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(['le', 'quantile', 'job', 'instance'], `${series.name} label ${label} clashes with Prometheus's own`).not.toContain(label);
      }
    }
    expect(new Set(CATALOGUE.series.map((series) => series.name)).size).toBe(CATALOGUE.series.length);
  });
});

describe('the catalogue of rules', () => {
  it('names recording rules level:metric:operations, the level being the labels kept', () => {
    for (const rule of RECORDING_RULES) {
      const [level, metric, operations, ...rest] = rule.record.split(':');
      expect(rest, rule.record).toEqual([]);
      expect(level, rule.record).toBe(rule.labels.join('_'));
      expect(metric, rule.record).toMatch(/^vigil_[a-z0-9_]+$/);
      expect(metric?.endsWith('_total'), `${rule.record}: a rate drops _total`).toBe(false);
      expect(operations, rule.record).toMatch(/^[a-z0-9_]+$/);
      for (const [, range] of rule.expr.matchAll(/\brate\([^[]*\[(\w+)\]/g)) expect(operations, rule.record).toContain(`rate${range}`);
      expect(rule.meaning.length, rule.record).toBeGreaterThan(20);
    }
    expect(new Set(RECORDING_RULES.map((rule) => rule.record)).size).toBe(RECORDING_RULES.length);
  });

  it('reads only catalogued series and recorded ones, and counters only through rate or increase', () => {
    const expressions = [...RECORDING_RULES.map((rule) => ({ name: rule.record, expr: rule.expr })), ...ALERT_RULES.map((rule) => ({ name: rule.alert, expr: rule.expr }))];
    for (const { name, expr } of expressions) {
      const names = namesIn(expr);
      expect(names.length, `${name} reads nothing?`).toBeGreaterThan(0);
      for (const read of names) expect(knownSeries.has(read) || recordedSeries.has(read) || CATALOGUE.scrapeSeries.includes(read), `${name} reads ${read}`).toBe(true);
      for (const counter of names.filter((read) => read.endsWith('_total'))) {
        expect(expr, `${name} reads ${counter} without rate`).toMatch(new RegExp(`\\b(rate|increase)\\(${counter}(\\{[^}]*\\})?\\[`));
      }
    }
  });

  it('gives every alert a severity, a duration, a one-line summary, a description and a runbook', () => {
    for (const rule of ALERT_RULES) {
      expect(rule.alert).toMatch(/^Vigil[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning']).toContain(rule.severity);
      expect(minutes(rule.for), rule.alert).toBeGreaterThan(0);
      if (rule.keepFiringFor !== undefined) expect(minutes(rule.keepFiringFor), rule.alert).toBeGreaterThan(0);
      expect(rule.summary, rule.alert).not.toMatch(/\n/);
      expect(rule.summary.length, rule.alert).toBeGreaterThan(10);
      expect(rule.description.length, rule.alert).toBeGreaterThan(rule.summary.length / 2);
      const runbook = RUNBOOKS[rule.alert];
      expect(runbook, `${rule.alert} runbook`).toBeDefined();
      expect(runbook!.meaning.length, rule.alert).toBeGreaterThan(80);
      expect(runbook!.promql.length, rule.alert).toBeGreaterThan(0);
      expect(runbook!.sql.length, rule.alert).toBeGreaterThan(0);
      expect(runbook!.causes.length, rule.alert).toBeGreaterThan(1);
      expect(runbook!.actions.length, rule.alert).toBeGreaterThan(1);
    }
    expect(Object.keys(RUNBOOKS).sort()).toEqual([...ALERT_NAMES].sort());
  });

  it('shares an alert name only between a warning and a critical rule of one condition', () => {
    for (const name of ALERT_NAMES) {
      const rules = ALERT_RULES.filter((rule) => rule.alert === name);
      expect(new Set(rules.map((rule) => rule.severity)).size, name).toBe(rules.length);
      expect(new Set(rules.map((rule) => rule.labels.join(','))).size, name).toBe(1);
    }
  });

  it('keeps the row labels on every alert about result rows, and never pages on one hourly window', () => {
    const rowLabels = ['model', 'window', 'kind', 'metric', 'feature', 'segment', 'group'];
    const rowAlerts = ALERT_RULES.filter((rule) => rule.expr.includes('vigil_model_metric_status'));
    expect(rowAlerts.length).toBeGreaterThan(10);
    for (const rule of rowAlerts) {
      expect(rule.labels, rule.alert).toEqual(rowLabels);
      expect(rule.expr, rule.alert).toContain(`by (${rowLabels.join(', ')})`);
      // An hourly window's status holds for an hour: anything shorter would act on one window.
      expect(minutes(rule.for), `${rule.alert} ${rule.severity}`).toBeGreaterThan(60);
    }
    // Undefined rows (status 3) raise only the alert meant for them.
    for (const rule of rowAlerts.filter((candidate) => candidate.alert !== 'VigilModelWindowTooSmall')) expect(rule.expr, rule.alert).toMatch(/< 3\)|== 2/);
  });

  it('holds a firing alert through windows too small to judge exactly where the rule says so, on its own name and severity', () => {
    const held = ALERT_RULES.filter((rule) => rule.holdsWhileWindowTooSmall === true);
    expect(held.length).toBeGreaterThan(10);
    for (const rule of ALERT_RULES) {
      const selfReference = `ALERTS{alertname="${rule.alert}", alertstate="firing", severity="${rule.severity}"}`;
      expect(rule.expr.includes('ALERTS{'), `${rule.alert} ${rule.severity}`).toBe(rule.holdsWhileWindowTooSmall === true);
      if (rule.holdsWhileWindowTooSmall === true) {
        expect(rule.expr, `${rule.alert} ${rule.severity}`).toContain(selfReference);
        expect(rule.expr, `${rule.alert} ${rule.severity}`).toContain('and on (model, window) vigil_model_metric_status{kind="quality", metric="sample_size"} == 3');
      }
    }
  });

  it('tells, for every alert about a model, who decides on pausing it in the clinical system', () => {
    const modelAlerts = new Set(ALERT_RULES.filter((rule) => /vigil_model_|model:|model_window/.test(rule.expr)).map((rule) => rule.alert));
    expect(modelAlerts.size).toBeGreaterThan(10);
    for (const name of modelAlerts) expect(RUNBOOKS[name]!.actions.join(' '), name).toMatch(/clinical owner/);
  });

  it('writes runbook SQL that a shell passes unchanged to vigil sql', () => {
    for (const [name, runbook] of Object.entries(RUNBOOKS)) {
      for (const { query, shows } of runbook.sql) {
        expect(query, `${name}: ${shows}`).not.toMatch(/["\\$`!]/);
        expect(query.trim(), name).toMatch(/^SELECT\b/);
        expect(shows.length, name).toBeGreaterThan(10);
      }
    }
  });
});

describe('the generated files', () => {
  it('render each rule file as YAML that reads back to the catalogue', () => {
    for (const file of RULE_FILES) {
      const document = parse(renderRuleFile(file)) as {
        groups: { name: string; interval?: string; rules: Record<string, unknown>[] }[];
      };
      expect(document.groups.map((group) => group.name)).toEqual(file.groups.map((group) => group.name));
      file.groups.forEach((group, groupIndex) => {
        const written = document.groups[groupIndex]!;
        expect(written.interval).toBe(group.interval);
        group.rules.forEach((rule, ruleIndex) => {
          const read = written.rules[ruleIndex]!;
          if ('record' in rule) {
            expect(read).toEqual({ record: rule.record, expr: rule.expr });
            return;
          }
          const alert = rule as AlertRule;
          expect(read).toEqual({
            alert: alert.alert,
            expr: alert.expr,
            for: alert.for,
            ...(alert.keepFiringFor === undefined ? {} : { keep_firing_for: alert.keepFiringFor }),
            labels: { severity: alert.severity },
            annotations: { summary: alert.summary, description: alert.description, runbook_url: runbookUrl(alert.alert, DEFAULT_GENERATE_OPTIONS) },
          });
        });
      });
    }
  });

  it('give every alert a runbook page and link it, with a configurable base', () => {
    const files = generateFiles(CATALOGUE, { runbookBaseUrl: 'https://runbooks.example.org/vigil/' });
    const paths = files.map((file) => file.path);
    for (const name of ALERT_NAMES) expect(paths).toContain(`infra/prometheus/runbooks/${name}.md`);
    expect(paths).toContain('infra/prometheus/runbooks/README.md');
    const rules = files.filter((file) => file.path.endsWith('.yml')).map((file) => file.content).join('\n');
    expect(rules).toContain("runbook_url: 'https://runbooks.example.org/vigil/VigilModelDrift.md'");
    const index = files.find((file) => file.path.endsWith('/README.md'))!.content;
    for (const name of ALERT_NAMES) expect(index).toContain(`[${name}](${name}.md)`);
  });

  it('refuse a catalogue whose alert has no runbook, or whose runbook has no alert', () => {
    const { VigilModelDrift: _dropped, ...withoutDrift } = RUNBOOKS;
    expect(() => generateFiles({ ...CATALOGUE, runbooks: withoutDrift })).toThrow(/VigilModelDrift has no runbook/);
    expect(() => generateFiles({ ...CATALOGUE, runbooks: { ...RUNBOOKS, VigilNobody: RUNBOOKS.VigilModelDrift! } })).toThrow(/VigilNobody belongs to no alert/);
  });

  it('put the table of series between the README markers, and nowhere without them', () => {
    const table = renderMetricsTable(CATALOGUE);
    for (const series of CATALOGUE.series) expect(table).toContain(`| \`${series.name}\` | ${series.type} |`);
    expect(table.startsWith(README_MARKERS.begin) && table.endsWith(README_MARKERS.end)).toBe(true);
    const readme = `# Title\n\nBefore.\n\n${README_MARKERS.begin}\nold table\n${README_MARKERS.end}\n\nAfter.\n`;
    expect(replaceBetweenMarkers(readme, table)).toBe(`# Title\n\nBefore.\n\n${table}\n\nAfter.\n`);
    expect(replaceBetweenMarkers(replaceBetweenMarkers(readme, table)!, table)).toBe(replaceBetweenMarkers(readme, table));
    expect(replaceBetweenMarkers('# No markers\n', table)).toBeNull();
  });
});
