import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, DURATION_SYNTAX, MAXIMUM_DURATION_MS, formatDuration, parseDuration, tumblingWindowProblem } from '../../../services/core/time/duration.js';

const MINUTE_MS = 60_000;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: DAY_MS, w: 7 * DAY_MS };
const durationText = fc.tuple(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom('m', 'h', 'd', 'w')).map(([count, unit]) => `${count}${unit}`);
const milliseconds = (text: string): number => {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.problem}`);
  return parsed.milliseconds;
};

describe('parseDuration', () => {
  it('reads minutes, hours, days and weeks', () => {
    expect(['15m', '1h', '36h', '1d', '7d', '2w'].map(milliseconds)).toEqual([15 * MINUTE_MS, 3_600_000, 36 * 3_600_000, DAY_MS, 7 * DAY_MS, 14 * DAY_MS]);
    expect(milliseconds('3650d')).toBe(MAXIMUM_DURATION_MS);
  });

  it('refuses zero, negatives, fractions, other units, spaces and more than ten years, with the reason', () => {
    for (const text of ['0h', '0m', '-1d', '1.5h', '1H', '1y', '1mo', '1 h', ' 1h', '1h ', '07d', 'h', '1', '', '１h']) {
      expect(parseDuration(text), text).toEqual({ ok: false, problem: expect.stringContaining('a whole number above zero and a unit') });
    }
    expect(parseDuration('3651d')).toEqual({ ok: false, problem: '"3651d" is longer than 3650d (ten years)' });
    expect(parseDuration('999999w')).toMatchObject({ ok: false });
  });

  it('round-trips any valid duration through its shortest spelling', () => {
    fc.assert(
      fc.property(durationText, (text) => {
        const [, count, unit] = DURATION_SYNTAX.exec(text) ?? [];
        const expected = Number(count) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
        const parsed = parseDuration(text);
        if (expected > MAXIMUM_DURATION_MS) {
          expect(parsed.ok).toBe(false);
          return;
        }
        expect(parsed).toEqual({ ok: true, milliseconds: expected });
        const shortest = formatDuration(expected);
        expect(milliseconds(shortest)).toBe(expected);
        // The shortest spelling is its own: formatting is idempotent.
        expect(formatDuration(milliseconds(shortest))).toBe(shortest);
      }),
      { numRuns: 2_000, seed: 20261202 },
    );
    expect(['60m', '24h', '7d', '14d', '90m'].map((text) => formatDuration(milliseconds(text)))).toEqual(['1h', '1d', '1w', '2w', '90m']);
  });

  it('never throws on garbage, only refuses it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.stringMatching(/^-?[0-9]{0,8}[a-zA-Z ]{0,3}$/)), (value) => {
        const parsed = parseDuration(value);
        if (typeof value === 'string' && DURATION_SYNTAX.test(value)) return;
        expect(parsed).toEqual({ ok: false, problem: expect.any(String) });
      }),
      { numRuns: 2_000, seed: 20261203 },
    );
  });

  it('formats only whole positive minutes', () => {
    for (const value of [0, -MINUTE_MS, 1_000, Number.NaN, 1.5 * MINUTE_MS]) expect(() => formatDuration(value)).toThrowError(RangeError);
  });
});

describe('tumblingWindowProblem', () => {
  it('takes sizes that divide a day and whole days, and suggests neighbours for others', () => {
    for (const text of ['1m', '15m', '90m', '1h', '6h', '12h', '1d', '2d', '7d', '1w', '4w']) expect(tumblingWindowProblem(milliseconds(text)), text).toBeUndefined();
    expect(tumblingWindowProblem(milliseconds('5h'))).toBe('a 5h window does not divide a day evenly, so its windows would not start at each midnight UTC; 4h or 6h would');
    expect(tumblingWindowProblem(milliseconds('13h'))).toMatch(/; 12h or 1d would$/);
    expect(tumblingWindowProblem(milliseconds('7m'))).toMatch(/; 6m or 8m would$/);
    expect(tumblingWindowProblem(milliseconds('36h'))).toBe('a 36h window is not a whole number of days, so its windows would not start at midnight UTC; 1d or 2d would');
  });

  it('keeps every window at epoch multiples within a UTC day, or starting at midnight UTC', () => {
    /** A window of this size at this time lies within one UTC day (shorter than a day) or starts at midnight UTC. */
    const aligned = (size: number, time: number): boolean => {
      const start = time - (time % size);
      return size < DAY_MS ? Math.floor(start / DAY_MS) === Math.floor((start + size - 1) / DAY_MS) : start % DAY_MS === 0;
    };
    fc.assert(
      fc.property(durationText.filter((text) => parseDuration(text).ok), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), (text, time) => {
        const size = milliseconds(text);
        const problem = tumblingWindowProblem(size);
        // A refused size breaks the rule at the first midnight (shorter than a day) or its first window start (longer).
        expect(problem === undefined ? aligned(size, time) : !aligned(size, size < DAY_MS ? DAY_MS : size), `${text} at ${new Date(time).toISOString()}`).toBe(true);
        if (problem === undefined) return;
        // Both sizes suggested instead keep the rule.
        const [, shorter, longer] = /; (\S+) or (\S+) would$/.exec(problem) ?? [];
        expect(tumblingWindowProblem(milliseconds(shorter ?? ''))).toBeUndefined();
        expect(tumblingWindowProblem(milliseconds(longer ?? ''))).toBeUndefined();
      }),
      { numRuns: 2_000, seed: 20261204 },
    );
  });
});
