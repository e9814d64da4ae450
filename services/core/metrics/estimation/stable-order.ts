/**
 * The rows in ascending order of their values, tied rows in their own order: what
 * np.argsort(kind='stable') gives. A comparator sort costs most of a fit at the 200,000 rows of a
 * production baseline, so this is a least-significant-digit radix sort of the rows by the bit
 * patterns of their values (as statistics/float-sort.ts sorts values), which is stable by
 * construction. Read as unsigned integers, the bit patterns of non-negative doubles order them as
 * their values, so the values must be finite and ≥ 0 (scores and probabilities); −0 is taken as
 * +0, which it equals.
 */

/** (word, shift, width) of each digit, least significant first; no digit straddles the two words of a double. */
const DIGITS = [
  { word: 0, shift: 0, width: 11 },
  { word: 0, shift: 11, width: 11 },
  { word: 0, shift: 22, width: 10 },
  { word: 1, shift: 0, width: 11 },
  { word: 1, shift: 11, width: 11 },
  { word: 1, shift: 22, width: 10 },
] as const;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function stableOrder(values: ArrayLike<number>): Uint32Array {
  const rows = values.length;
  let keys = new Float64Array(rows);
  let order = new Uint32Array(rows);
  for (let row = 0; row < rows; row++) {
    const value = values[row]!;
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) throw new RangeError(`value ${row} is ${value}; expected a finite number ≥ 0`);
    keys[row] = value + 0;
    order[row] = row;
  }
  if (!LITTLE_ENDIAN) return order.sort((left, right) => keys[left]! - keys[right]! || left - right);
  const histograms = DIGITS.map(({ width }) => new Uint32Array(1 << width));
  const words = new Uint32Array(keys.buffer);
  for (let row = 0; row < rows; row++) {
    DIGITS.forEach(({ word, shift, width }, digit) => {
      histograms[digit]![(words[2 * row + word]! >>> shift) & ((1 << width) - 1)]! += 1;
    });
  }
  let nextKeys = new Float64Array(rows);
  let nextOrder = new Uint32Array(rows);
  DIGITS.forEach(({ word, shift, width }, digit) => {
    const histogram = histograms[digit]!;
    // A digit that every row shares leaves the order as it is.
    if (histogram.some((count) => count === rows)) return;
    const offsets = new Uint32Array(histogram.length);
    for (let bucket = 1; bucket < histogram.length; bucket++) offsets[bucket] = offsets[bucket - 1]! + histogram[bucket - 1]!;
    const keyWords = new Uint32Array(keys.buffer);
    const mask = (1 << width) - 1;
    for (let position = 0; position < rows; position++) {
      const bucket = (keyWords[2 * position + word]! >>> shift) & mask;
      const target = offsets[bucket]!++;
      nextKeys[target] = keys[position]!;
      nextOrder[target] = order[position]!;
    }
    [keys, nextKeys] = [nextKeys, keys];
    [order, nextOrder] = [nextOrder, order];
  });
  return order;
}
