/**
 * Paths into a specification as its problems name them: `features[2].type`, `monitoring.windows[1]`,
 * `thresholds.psi`. A key that is not a plain name is quoted (`thresholds["a b"]`), so a path stays
 * on one line and cannot be mistaken for another.
 */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;

export function keyPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)}]`;
}

export const indexPath = (parent: string, index: number): string => `${parent}[${index}]`;
