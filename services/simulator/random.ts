/**
 * Seeded pseudo-random numbers for reproducible synthetic data. The generator is xoshiro128**,
 * seeded through splitmix32 so that neighbouring seeds (1, 2, 3) start from unrelated states.
 * Not suitable for anything security-related.
 */

export type WeightedChoice<T> = readonly [value: T, weight: number];

export interface RandomSource {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  normal(mean: number, standardDeviation: number): number;
  chance(probability: number): boolean;
  /** One value, picked with probability proportional to its weight. */
  choose<T>(choices: readonly WeightedChoice<T>[]): T;
  /** A string of `length` characters drawn uniformly from `alphabet`. */
  token(alphabet: string, length: number): string;
  /** A string in the layout of a version-4 UUID. */
  uuid(): string;
}

const TWO_TO_THE_32 = 4_294_967_296;

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

function splitmix32(initialState: number): () => number {
  let state = initialState | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    return (mixed ^ (mixed >>> 16)) >>> 0;
  };
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Any safe integer is a valid seed; its high bits count too, so clock readings make distinct seeds. */
export function createRandom(seed: number): RandomSource {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lowBits = seed >>> 0;
  const highBits = Math.floor(seed / TWO_TO_THE_32) >>> 0;
  const seeder = splitmix32(lowBits);
  let s0 = seeder();
  let s1 = seeder() ^ highBits;
  let s2 = seeder();
  let s3 = seeder();

  const nextUint32 = (): number => {
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const shifted = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= shifted;
    s3 = rotateLeft(s3, 11);
    return result;
  };

  const uniform = (): number => nextUint32() / TWO_TO_THE_32;

  return {
    uniform,
    between: (min, max) => min + (max - min) * uniform(),
    normal: (mean, standardDeviation) => {
      // Box-Muller; 1 - uniform() lies in (0, 1], so the logarithm stays finite.
      const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
      return mean + standardDeviation * radius * Math.cos(2 * Math.PI * uniform());
    },
    chance: (probability) => uniform() < probability,
    choose<T>(choices: readonly WeightedChoice<T>[]): T {
      const [first] = choices;
      if (first === undefined) throw new RangeError('choose needs at least one choice');
      const totalWeight = choices.reduce((sum, [, weight]) => sum + weight, 0);
      let remaining = uniform() * totalWeight;
      for (const [value, weight] of choices) {
        remaining -= weight;
        if (remaining < 0) return value;
      }
      // Rounding can leave a sliver of weight unassigned; it belongs to the last choice.
      return (choices[choices.length - 1] ?? first)[0];
    },
    token: (alphabet, length) => {
      let result = '';
      for (let position = 0; position < length; position += 1) {
        result += alphabet.charAt(Math.floor(uniform() * alphabet.length));
      }
      return result;
    },
    uuid: () => {
      const timeLow = hex32(nextUint32());
      const middle = hex32(((nextUint32() & 0xffff0fff) | 0x00004000) >>> 0);
      const variant = hex32(((nextUint32() & 0x3fffffff) | 0x80000000) >>> 0);
      const node = hex32(nextUint32());
      return `${timeLow}-${middle.slice(0, 4)}-${middle.slice(4)}-${variant.slice(0, 4)}-${variant.slice(4)}${node}`;
    },
  };
}

/**
 * A seed for an independent stream with its own purpose, so that drawing more numbers for one
 * purpose never shifts the numbers drawn for another.
 */
export function deriveSeed(seed: number, purpose: string): number {
  // FNV-1a over the decimal seed and the purpose.
  let hash = 0x811c9dc5;
  for (const character of `${seed}:${purpose}`) {
    hash ^= character.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
