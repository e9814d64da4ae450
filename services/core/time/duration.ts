/**
 * Durations as a model specification writes them: a whole number above zero and a unit, minutes (m),
 * hours (h), days (d) or weeks (w), such as 15m, 1h or 7d. Months and years are left out on purpose:
 * their length varies, and a window, a horizon or a baseline must be a fixed number of milliseconds.
 * schemas/model-spec.schema.json gives editors the same syntax (`$defs.duration.pattern`).
 */
export const DURATION_SYNTAX = /^([1-9][0-9]{0,5})([mhdw])$/;

const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: DAY_MS, w: 7 * DAY_MS } as const;
type Unit = keyof typeof UNIT_MS;

/** Ten years: beyond any window, outcome horizon or baseline a model needs, and far inside safe integers. */
export const MAXIMUM_DURATION_MS = 3650 * DAY_MS;

export type DurationParse = { ok: true; milliseconds: number } | { ok: false; problem: string };

/** Takes any value, so that no input can make it throw: what is not a duration is refused with the reason. */
export function parseDuration(text: unknown): DurationParse {
  const match = typeof text === 'string' ? DURATION_SYNTAX.exec(text) : null;
  if (match === null) {
    return { ok: false, problem: 'expected a whole number above zero and a unit, m (minutes), h (hours), d (days) or w (weeks), such as 15m, 1h or 7d' };
  }
  const milliseconds = Number(match[1]) * UNIT_MS[match[2] as Unit];
  if (milliseconds > MAXIMUM_DURATION_MS) return { ok: false, problem: `"${text as string}" is longer than ${formatDuration(MAXIMUM_DURATION_MS)} (ten years)` };
  return { ok: true, milliseconds };
}

/** The shortest spelling of a duration: its largest unit that divides it, so 1440 minutes is "1d". */
export function formatDuration(milliseconds: number): string {
  if (!Number.isSafeInteger(milliseconds) || milliseconds <= 0 || milliseconds % MINUTE_MS !== 0) {
    throw new RangeError(`a duration is a positive whole number of minutes, got ${milliseconds} ms`);
  }
  const unit = (['w', 'd', 'h', 'm'] as const).find((candidate) => milliseconds % UNIT_MS[candidate] === 0) ?? 'm';
  return `${milliseconds / UNIT_MS[unit]}${unit}`;
}

/** Sizes that divide a day, in minutes: those a window shorter than a day may have. */
const MINUTES_PER_DAY = DAY_MS / MINUTE_MS;
const DAY_DIVISORS_MS = Array.from({ length: MINUTES_PER_DAY }, (_, index) => index + 1)
  .filter((minutes) => MINUTES_PER_DAY % minutes === 0)
  .map((minutes) => minutes * MINUTE_MS);

/**
 * Tumbling windows start at every whole multiple of their size since 1970-01-01T00:00Z, so every
 * process and every replay cuts the same windows without agreeing on a start. For those starts to
 * fall on midnight UTC, a window shorter than a day must divide the day evenly (a day is then the
 * union of its windows, and a 1d window merges its 1h ones) and a longer one must be whole days. A
 * 7d window therefore starts on a Thursday, the weekday of 1970-01-01. Returns why a size breaks
 * the rule, naming the nearest sizes that keep it, or undefined when the size is fine.
 */
export function tumblingWindowProblem(milliseconds: number): string | undefined {
  if (milliseconds < DAY_MS) {
    if (DAY_DIVISORS_MS.includes(milliseconds)) return undefined;
    // Suggest sizes in the unit the size was written in: 4h or 6h for 5h, rather than 288m.
    const unit = milliseconds % UNIT_MS.h === 0 ? UNIT_MS.h : MINUTE_MS;
    const candidates = DAY_DIVISORS_MS.filter((size) => size % unit === 0);
    const shorter = candidates.filter((size) => size < milliseconds).at(-1) ?? MINUTE_MS;
    const longer = candidates.find((size) => size > milliseconds) ?? DAY_MS;
    return `a ${formatDuration(milliseconds)} window does not divide a day evenly, so its windows would not start at each midnight UTC; ${formatDuration(shorter)} or ${formatDuration(longer)} would`;
  }
  if (milliseconds % DAY_MS === 0) return undefined;
  const days = Math.floor(milliseconds / DAY_MS);
  return `a ${formatDuration(milliseconds)} window is not a whole number of days, so its windows would not start at midnight UTC; ${formatDuration(days * DAY_MS)} or ${formatDuration((days + 1) * DAY_MS)} would`;
}
