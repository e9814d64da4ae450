/**
 * A point in time as a model specification writes it: an ISO-8601 date (midnight UTC) or a UTC time
 * to the minute, second or millisecond, always with `Z`. A local time or an offset is refused: a
 * baseline range must mean the same instants wherever it is read. schemas/model-spec.schema.json
 * gives editors the same syntax (`$defs.utcTime.pattern`).
 */
export const UTC_TIME_SYNTAX = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z)?$/;

export type UtcTimeParse = { ok: true; time: number } | { ok: false; problem: string };

/** Epoch milliseconds of the time; refuses, never throws, on anything else, 2026-02-30 included. */
export function parseUtcTime(text: unknown): UtcTimeParse {
  const match = typeof text === 'string' ? UTC_TIME_SYNTAX.exec(text) : null;
  if (match === null) return { ok: false, problem: 'expected an ISO-8601 date or UTC time, such as 2026-01-01 or 2026-01-01T08:00:00Z' };
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const millisecond = Number((match[7] ?? '').padEnd(3, '0'));
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as written; both carry overflow into the next
  // field (February 30 becomes March 2), so reading the fields back catches dates not on the calendar.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millisecond);
  const exact =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!exact) return { ok: false, problem: `"${text as string}" is not a real date or time` };
  return { ok: true, time: date.getTime() };
}
