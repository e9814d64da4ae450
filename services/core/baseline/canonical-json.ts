/** A value canonicalJson can write: JSON's values, with finite numbers only. */
export type CanonicalValue = null | boolean | number | string | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

/**
 * One text per value, whichever program built it, so that it can be hashed: object keys in
 * ascending UTF-16 code-unit order, no whitespace, strings escaped as JSON.stringify escapes them
 * (lone surrogates included), and numbers in their shortest round-trip form (ECMAScript's
 * Number::toString, the same digits on every engine), with −0 written `-0` so that it stays distinct
 * from 0. NaN and ±Infinity have no JSON form and are refused, as is anything that is not JSON.
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${value} has no canonical JSON form`);
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item: CanonicalValue) => canonicalJson(item)).join(',')}]`;
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) throw new TypeError(`canonical JSON takes JSON values only, got a value of type ${typeof value}`);
  const members = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as { readonly [key: string]: CanonicalValue })[key]!)}`);
  return `{${members.join(',')}}`;
}
