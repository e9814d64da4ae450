import { isAlertRule, type AlertRule, type PromDuration, type RecordingRule, type RuleFile, type RuleGroup } from './catalogue.js';

/**
 * The catalogue's rules on a compressed clock. The simulator plays one simulated hour per wall
 * second (its default acceleration of 3600), while every `for`, `keep_firing_for`, group interval
 * and PromQL range, offset and subquery of the catalogue is written in wall time, for hourly
 * windows. Dividing each by the acceleration gives rules that wait for the same number of windows
 * on simulated traffic: `2h30m` (three hourly windows) becomes `3s`, `[7d:1h]` becomes `[168s:1s]`.
 * Each duration is rounded up to whole seconds, and is at least `1s`.
 *
 * Only durations change. Numbers that stand for seconds inside an expression (`604800`,
 * `time() - ... > 1800`) and the durations quoted in summaries and descriptions are kept, so
 * alerts that compare the wall clock with event time (VigilModelSilent, VigilMonitorStale) do not
 * hold on a compressed clock. Pure: no I/O.
 */

const UNIT_MILLISECONDS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration: one or more `<integer><unit>`, units from the largest down (`1h30m`, `7d`, `500ms`). */
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/** Milliseconds of a Prometheus duration; throws on anything else. */
export function durationMilliseconds(duration: PromDuration): number {
  if (!DURATION.test(duration)) throw new RangeError(`not a Prometheus duration: ${JSON.stringify(duration)}`);
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(DURATION_PART)) total += Number(amount) * UNIT_MILLISECONDS[unit!]!;
  return total;
}

function checkFactor(factor: number): void {
  if (!(Number.isFinite(factor) && factor > 0)) throw new RangeError(`the time-scale factor must be a positive number, got ${factor}`);
}

/** `duration` divided by `factor`, rounded up to whole seconds, at least `1s`, written in seconds. */
export function scaleDuration(duration: PromDuration, factor: number): PromDuration {
  checkFactor(factor);
  const seconds = Math.max(1, Math.ceil(durationMilliseconds(duration) / 1000 / factor - 1e-9));
  return `${seconds}s`;
}

/** `[range]`, `[range:resolution]` or `[range:]`, whitespace allowed around each part. */
function scaleBracket(inside: string, factor: number, expr: string): string {
  const match = /^(\s*)([0-9a-z]+)(\s*)(?::(\s*)([0-9a-z]*)(\s*))?$/.exec(inside);
  if (!match) throw new RangeError(`cannot read the range [${inside}] in: ${expr}`);
  const [, before, range, after, colonSpace, resolution, end] = match;
  const scaledRange = `${before}${scaleDuration(range!, factor)}${after}`;
  if (colonSpace === undefined) return scaledRange;
  return `${scaledRange}:${colonSpace}${resolution ? scaleDuration(resolution, factor) : ''}${end}`;
}

const isWordCharacter = (character: string | undefined): boolean => character !== undefined && /[A-Za-z0-9_:]/.test(character);

/**
 * A PromQL expression with every range (`[5m]`), subquery (`[7d:1h]`, `[1h:]`) and offset
 * (`offset 1w`, `offset -1h`) duration scaled. Strings (label values and regular expressions, where
 * `1h` or `[a-z]` mean something else) and comments are copied unchanged.
 */
export function scalePromQl(expr: string, factor: number): string {
  checkFactor(factor);
  let output = '';
  let index = 0;
  while (index < expr.length) {
    const character = expr[index]!;
    if (character === '"' || character === "'" || character === '`') {
      let end = index + 1;
      while (end < expr.length && expr[end] !== character) end += character !== '`' && expr[end] === '\\' ? 2 : 1;
      if (end >= expr.length) throw new RangeError(`unterminated string in: ${expr}`);
      output += expr.slice(index, end + 1);
      index = end + 1;
    } else if (character === '#') {
      const end = expr.indexOf('\n', index);
      const stop = end < 0 ? expr.length : end;
      output += expr.slice(index, stop);
      index = stop;
    } else if (character === '[') {
      const end = expr.indexOf(']', index);
      if (end < 0) throw new RangeError(`unterminated range in: ${expr}`);
      output += `[${scaleBracket(expr.slice(index + 1, end), factor, expr)}]`;
      index = end + 1;
    } else if (expr.startsWith('offset', index) && !isWordCharacter(expr[index - 1]) && !isWordCharacter(expr[index + 6])) {
      const match = /^offset(\s+)(-?)([0-9a-z]+)/.exec(expr.slice(index));
      if (match && DURATION.test(match[3]!)) {
        output += `offset${match[1]}${match[2]}${scaleDuration(match[3]!, factor)}`;
        index += match[0].length;
      } else {
        // A label or metric named `offset`, not the modifier.
        output += 'offset';
        index += 6;
      }
    } else if (isWordCharacter(character)) {
      // A whole identifier or number, so that a name ending in `offset` is not read as the keyword.
      let end = index + 1;
      while (isWordCharacter(expr[end])) end += 1;
      output += expr.slice(index, end);
      index = end;
    } else {
      output += character;
      index += 1;
    }
  }
  return output;
}

export function scaleAlertRule(rule: AlertRule, factor: number): AlertRule {
  return {
    ...rule,
    expr: scalePromQl(rule.expr, factor),
    for: scaleDuration(rule.for, factor),
    ...(rule.keepFiringFor === undefined ? {} : { keepFiringFor: scaleDuration(rule.keepFiringFor, factor) }),
  };
}

export function scaleRecordingRule(rule: RecordingRule, factor: number): RecordingRule {
  return { ...rule, expr: scalePromQl(rule.expr, factor) };
}

export function scaleRuleGroup(group: RuleGroup, factor: number): RuleGroup {
  return {
    ...group,
    ...(group.interval === undefined ? {} : { interval: scaleDuration(group.interval, factor) }),
    rules: group.rules.map((rule) => (isAlertRule(rule) ? scaleAlertRule(rule, factor) : scaleRecordingRule(rule, factor))),
  };
}

/**
 * Alerts that stop meaning anything on a compressed clock: VigilModelSilent divides the wall-clock
 * age of a model's latest window end (event time, which the simulator backdates and runs faster)
 * by a spacing written as a week of seconds, so on simulated traffic it fires within seconds of
 * the first windows and then holds back every other alert of the model.
 */
export const ALERTS_WITHOUT_A_SCALED_MEANING: readonly string[] = ['VigilModelSilent'];

export interface ScaleOptions {
  /** Alert names to leave out of the scaled file (recording rules are always kept). */
  leaveOut?: readonly string[];
}

/** A rule file of the catalogue on a clock `factor` times faster; render it with generate.ts's renderRuleFile. */
export function scaleRuleFile(file: RuleFile, factor: number, options: ScaleOptions = {}): RuleFile {
  const leaveOut = new Set(options.leaveOut ?? []);
  const left = leaveOut.size > 0 ? ` Left out: ${[...leaveOut].join(', ')}.` : '';
  return {
    ...file,
    purpose: `${file.purpose} Every duration divided by ${factor} (rounded up to whole seconds, at least 1s), for traffic on a clock ${factor} times faster.${left}`,
    groups: file.groups.map((group) =>
      scaleRuleGroup({ ...group, rules: group.rules.filter((rule) => !(isAlertRule(rule) && leaveOut.has(rule.alert))) }, factor),
    ),
  };
}
