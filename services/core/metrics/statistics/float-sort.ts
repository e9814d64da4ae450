/**
 * Ascending in-place sort of finite doubles by least-significant-digit radix sort on their bit
 * patterns: faster than Float64Array.prototype.sort at a million values, which is where a drift
 * report spends most of its time. Ordering matches the comparison sort for finite values (−0
 * before +0, as there). NaN must not be present.
 *
 * The raw bit patterns, read as unsigned integers, order non-negative doubles correctly and
 * negative ones by increasing magnitude after them; the radix passes sort by that order and a
 * final pass writes the negative block reversed ahead of the non-negative one. Values move as
 * whole doubles, so no bit pattern other than the inputs' own is ever stored as a double.
 */

/**
 * Digits, least significant first, as (word, shift, width): three per 32-bit word so that no
 * digit straddles the two words of a double.
 */
const DIGITS = [
  { word: 0, shift: 0, width: 11 },
  { word: 0, shift: 11, width: 11 },
  { word: 0, shift: 22, width: 10 },
  { word: 1, shift: 0, width: 11 },
  { word: 1, shift: 11, width: 11 },
  { word: 1, shift: 22, width: 10 },
] as const;

/** Below this length the comparison sort is as fast as six counting passes. */
const RADIX_THRESHOLD = 4096;

/** Digits are read from the low word first, as little-endian machines store a double. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Counts of every digit value, for all six digits, in one pass over the keys. */
function digitHistograms(words: Uint32Array): Uint32Array[] {
  const lowest = new Uint32Array(1 << 11);
  const lowMiddle = new Uint32Array(1 << 11);
  const lowTop = new Uint32Array(1 << 10);
  const highLowest = new Uint32Array(1 << 11);
  const highMiddle = new Uint32Array(1 << 11);
  const highTop = new Uint32Array(1 << 10);
  const length = words.length >>> 1;
  for (let index = 0; index < length; index += 1) {
    const low = words[2 * index]!;
    const high = words[2 * index + 1]!;
    lowest[low & 0x7ff]! += 1;
    lowMiddle[(low >>> 11) & 0x7ff]! += 1;
    lowTop[low >>> 22]! += 1;
    highLowest[high & 0x7ff]! += 1;
    highMiddle[(high >>> 11) & 0x7ff]! += 1;
    highTop[high >>> 22]! += 1;
  }
  return [lowest, lowMiddle, lowTop, highLowest, highMiddle, highTop];
}

function scatterByDigit(
  source: Float64Array,
  sourceWords: Uint32Array,
  target: Float64Array,
  offsets: Uint32Array,
  word: number,
  shift: number,
  mask: number,
): void {
  const length = source.length;
  for (let index = 0; index < length; index += 1) {
    const digit = (sourceWords[2 * index + word]! >>> shift) & mask;
    const position = offsets[digit]!;
    offsets[digit] = position + 1;
    target[position] = source[index]!;
  }
}

export function sortFloat64InPlace(values: Float64Array): void {
  const length = values.length;
  if (length < RADIX_THRESHOLD || !LITTLE_ENDIAN) {
    values.sort();
    return;
  }
  const scratch = new Float64Array(length);
  let source: Float64Array = values;
  let target: Float64Array = scratch;
  const histograms = digitHistograms(new Uint32Array(values.buffer, values.byteOffset, length * 2));

  for (let pass = 0; pass < DIGITS.length; pass += 1) {
    const { word, shift, width } = DIGITS[pass]!;
    const histogram = histograms[pass]!;
    // A digit shared by every value leaves the order unchanged: skip the pass.
    if (histogram.some((count) => count === length)) continue;
    let offset = 0;
    for (let digit = 0; digit < histogram.length; digit += 1) {
      const count = histogram[digit]!;
      histogram[digit] = offset;
      offset += count;
    }
    const sourceWords = new Uint32Array(source.buffer, source.byteOffset, length * 2);
    scatterByDigit(source, sourceWords, target, histogram, word, shift, (1 << width) - 1);
    [source, target] = [target, source];
  }

  // Values with the sign bit set sit at the end, by increasing magnitude.
  const sourceWords = new Uint32Array(source.buffer, source.byteOffset, length * 2);
  let firstNegative = length;
  while (firstNegative > 0 && sourceWords[2 * firstNegative - 1]! >>> 31 === 1) firstNegative -= 1;
  const negativeCount = length - firstNegative;
  if (negativeCount === 0) {
    if (source !== values) values.set(source);
    return;
  }
  target = source === values ? scratch : values;
  for (let index = 0; index < negativeCount; index += 1) target[index] = source[length - 1 - index]!;
  target.set(source.subarray(0, firstNegative), negativeCount);
  if (target !== values) values.set(target);
}
