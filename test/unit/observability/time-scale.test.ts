import { describe, expect, it } from 'vitest';
import { ALERT_RULES, isAlertRule, RULE_FILES, type RuleFile } from '../../../services/observability/catalogue.js';
import { renderRuleFile } from '../../../services/observability/generate.js';
import { ALERTS_WITHOUT_A_SCALED_MEANING, durationMilliseconds, scaleDuration, scalePromQl, scaleRuleFile } from '../../../services/observability/time-scale.js';

const HOUR = 3600;

describe('scaleDuration', () => {
  it('divides by the factor, rounds up to whole seconds and keeps at least one second', () => {
    expect(scaleDuration('1h', HOUR)).toBe('1s');
    expect(scaleDuration('1h30m', HOUR)).toBe('2s');
    expect(scaleDuration('2h30m', HOUR)).toBe('3s');
    expect(scaleDuration('5h30m', HOUR)).toBe('6s');
    expect(scaleDuration('12h', HOUR)).toBe('12s');
    expect(scaleDuration('7d', HOUR)).toBe('168s');
    expect(scaleDuration('1w', HOUR)).toBe('168s');
    expect(scaleDuration('5m', HOUR)).toBe('1s');
    expect(scaleDuration('500ms', HOUR)).toBe('1s');
    expect(scaleDuration('90s', 1)).toBe('90s');
    expect(scaleDuration('1h', 7)).toBe('515s');
  });

  it('reads every unit Prometheus has', () => {
    expect(durationMilliseconds('1y2w3d4h5m6s7ms')).toBe(31_536_000_000 + 2 * 604_800_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6_000 + 7);
  });

  it('rejects what is not a duration, and a factor that is not positive', () => {
    for (const bad of ['', '1.5h', 'h', '10', '1 h', '-1h']) expect(() => scaleDuration(bad, HOUR), bad).toThrow(RangeError);
    for (const factor of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => scaleDuration('1h', factor)).toThrow(RangeError);
  });
});

describe('scalePromQl', () => {
  it('scales ranges, subqueries and offsets', () => {
    expect(scalePromQl('rate(vigil_events_rejected_total[10m])', HOUR)).toBe('rate(vigil_events_rejected_total[1s])');
    expect(scalePromQl('sum_over_time(x:changes1h[7d:1h])', HOUR)).toBe('sum_over_time(x:changes1h[168s:1s])');
    expect(scalePromQl('max_over_time(x[ 2h : ])', HOUR)).toBe('max_over_time(x[ 2s : ])');
    expect(scalePromQl('x offset 1w < 0.5 * (y offset -2h)', HOUR)).toBe('x offset 168s < 0.5 * (y offset -2s)');
    expect(scalePromQl('rate(x{a="b"}[5m] offset 1d)', HOUR)).toBe('rate(x{a="b"}[5m] offset 1d)'.replace('[5m]', '[1s]').replace('1d', '24s'));
  });

  it('leaves strings, comments, numbers and names alone', () => {
    const unchanged = [
      'vigil_model_metric_status{window="1h", metric=~"[a-z]+_1h", feature!~\'[0-9]h\'} == 2',
      'time() - vigil_monitor_last_success_timestamp_seconds > 1800',
      'max by (offset) (x) / (604800 / y)',
      'sum by (model) (my_offset_total) # offset 1w [5m]',
      'model_window:vigil_model_window_end_timestamp_seconds:changes7d >= 6',
    ];
    for (const expr of unchanged) expect(scalePromQl(expr, HOUR)).toBe(expr);
    expect(scalePromQl('x{a="say \\"[5m]\\""}[5m]', HOUR)).toBe('x{a="say \\"[5m]\\""}[1s]');
  });

  it('throws on what it cannot read instead of passing it through', () => {
    expect(() => scalePromQl('rate(x[5m)', HOUR)).toThrow(RangeError);
    expect(() => scalePromQl('rate(x[$interval])', HOUR)).toThrow(RangeError);
    expect(() => scalePromQl('x{a="b}', HOUR)).toThrow(RangeError);
  });
});

describe('scaleRuleFile on the catalogue', () => {
  const scaled = RULE_FILES.map((file) => scaleRuleFile(file, HOUR));
  const scaledAlerts = scaled.flatMap((file) => file.groups.flatMap((group) => group.rules.filter(isAlertRule)));

  it('keeps every rule, its name, labels and texts, in order', () => {
    expect(scaledAlerts.map((rule) => [rule.alert, rule.severity, rule.labels, rule.summary, rule.description])).toEqual(
      ALERT_RULES.map((rule) => [rule.alert, rule.severity, rule.labels, rule.summary, rule.description]),
    );
    const shape = (files: readonly RuleFile[]) => files.map((file) => [file.path, file.groups.map((group) => [group.name, group.rules.map((rule) => (isAlertRule(rule) ? rule.alert : rule.record))])]);
    expect(shape(scaled)).toEqual(shape(RULE_FILES));
  });

  it('waits for as many hourly windows in seconds as the catalogue waits in hours', () => {
    for (const [index, rule] of ALERT_RULES.entries()) {
      const scaledRule = scaledAlerts[index]!;
      expect(durationMilliseconds(scaledRule.for), rule.alert).toBe(Math.max(1000, Math.ceil(durationMilliseconds(rule.for) / HOUR / 1000) * 1000));
      expect(scaledRule.keepFiringFor === undefined, rule.alert).toBe(rule.keepFiringFor === undefined);
    }
    const drift = scaledAlerts.find((rule) => rule.alert === 'VigilModelDrift' && rule.severity === 'critical')!;
    expect([drift.for, drift.keepFiringFor]).toEqual(['6s', '2s']);
    const volume = scaledAlerts.find((rule) => rule.alert === 'VigilModelVolumeLow')!;
    expect(volume.expr).toContain('offset 168s');
    expect(volume.expr).not.toContain('offset 1w');
  });

  it('scales group intervals and leaves no duration of hours, days or weeks in the rendered files', () => {
    const cadence = scaled.flatMap((file) => file.groups).find((group) => group.name === 'vigil-models.cadence');
    expect(cadence?.interval).toBe('1s');
    for (const file of scaled) {
      const text = renderRuleFile(file);
      // Comments and annotations quote the catalogue's durations in words; only the rules must change.
      const ruleText = text
        .split('\n')
        .filter((line) => !/^\s*(#|summary:|description:|runbook_url:)/.test(line))
        .join('\n');
      expect(ruleText).not.toMatch(/\[\s*\d+[mhdwy]/);
      expect(ruleText).not.toMatch(/offset -?\d+[mhdwy]/);
      expect(ruleText).not.toMatch(/^\s*(for|keep_firing_for|interval): (?!\d+s$)/m);
    }
  });

  it('leaves out the alerts it is asked to, and only those', () => {
    expect(ALERTS_WITHOUT_A_SCALED_MEANING.every((name) => ALERT_RULES.some((rule) => rule.alert === name))).toBe(true);
    const without = RULE_FILES.map((file) => scaleRuleFile(file, HOUR, { leaveOut: ALERTS_WITHOUT_A_SCALED_MEANING }));
    const names = without.flatMap((file) => file.groups.flatMap((group) => group.rules.filter(isAlertRule).map((rule) => rule.alert)));
    expect(names).toEqual(ALERT_RULES.map((rule) => rule.alert).filter((name) => !ALERTS_WITHOUT_A_SCALED_MEANING.includes(name)));
    const records = (files: readonly RuleFile[]) => files.flatMap((file) => file.groups.flatMap((group) => group.rules.filter((rule) => !isAlertRule(rule)).length));
    expect(records(without)).toEqual(records(RULE_FILES));
    expect(renderRuleFile(without[0]!)).toContain('Left out: VigilModelSilent.');
  });

  it('leaves the catalogue itself as it was', () => {
    expect(ALERT_RULES.find((rule) => rule.alert === 'VigilModelDrift')?.for).toBe('2h30m');
    expect(renderRuleFile(RULE_FILES[0]!)).toContain('keep_firing_for: 1h30m');
  });
});
