/** DateTime64(3) as unambiguous fractional Unix seconds, which ClickHouse reads the same in every time zone. */
export const clickhouseTime = (epochMilliseconds: number): string => (epochMilliseconds / 1000).toFixed(3);

/** Epoch ms of a DateTime64(3, 'UTC') as JSONEachRow returns it: `2026-11-30 08:00:00.000`, or seconds. */
export const epochMs = (value: string | number): number => (typeof value === 'number' ? value * 1000 : Date.parse(value.endsWith('Z') ? value : `${value.replace(' ', 'T')}Z`));
