import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UTC_TIME_SYNTAX, parseUtcTime } from '../../../services/core/time/utc-time.js';

describe('parseUtcTime', () => {
  it('reads ISO-8601 dates as midnight UTC, and UTC times to the minute, second or millisecond', () => {
    expect(parseUtcTime('2026-01-01')).toEqual({ ok: true, time: Date.UTC(2026, 0, 1) });
    expect(parseUtcTime('2026-01-01T08:30Z')).toEqual({ ok: true, time: Date.UTC(2026, 0, 1, 8, 30) });
    expect(parseUtcTime('2026-01-01T08:30:15Z')).toEqual({ ok: true, time: Date.UTC(2026, 0, 1, 8, 30, 15) });
    expect(parseUtcTime('2026-01-01T08:30:15.5Z')).toEqual({ ok: true, time: Date.UTC(2026, 0, 1, 8, 30, 15, 500) });
    expect(parseUtcTime('2024-02-29')).toEqual({ ok: true, time: Date.UTC(2024, 1, 29) });
  });

  it('refuses local times, offsets and dates not on the calendar', () => {
    for (const text of ['2026-01-01T08:00:00', '2026-01-01T08:00:00+01:00', '2026-1-1', '01/02/2026', '2026-01-01 08:00Z', '']) {
      expect(parseUtcTime(text), text).toEqual({ ok: false, problem: expect.stringContaining('expected an ISO-8601 date or UTC time') });
    }
    for (const text of ['2025-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-01-01T24:00Z', '2026-01-01T08:60Z', '2026-01-01T08:00:60Z']) {
      expect(parseUtcTime(text), text).toEqual({ ok: false, problem: `"${text}" is not a real date or time` });
    }
  });

  it('round-trips any instant written by toISOString, and never throws on anything else', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }), (time) => {
        expect(parseUtcTime(new Date(time).toISOString())).toEqual({ ok: true, time });
      }),
      { numRuns: 2_000, seed: 20261205 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.stringMatching(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}Z)?$/)), (value) => {
        const parsed = parseUtcTime(value);
        if (typeof value !== 'string' || !UTC_TIME_SYNTAX.test(value)) expect(parsed).toEqual({ ok: false, problem: expect.any(String) });
      }),
      { numRuns: 2_000, seed: 20261206 },
    );
  });
});
