/**
 * Which monitor evaluates a unit of work (one model and window size), by rendezvous hashing: each
 * member scores the unit with a hash of (member, unit) and the highest score wins. Every monitor
 * that sees the same members picks the same owner without talking to the others, and when a member
 * joins or leaves only the units it wins or held move (about 1/n of them), unlike `hash mod n`.
 *
 * While members disagree on who is live (a lease just ran out, a monitor just joined), a unit may
 * have two owners for a pass, or none: it is then evaluated twice, to the same rows, or one pass
 * later. Neither changes a result.
 */
export function ownerOf(unit: string, members: readonly string[]): string | undefined {
  let owner: string | undefined;
  let best = -1;
  for (const member of members) {
    const score = hash53(`${member}\u0000${unit}`);
    // Ties (vanishingly rare) go to the smaller member name, so that every monitor agrees.
    if (score > best || (score === best && owner !== undefined && member < owner)) {
      best = score;
      owner = member;
    }
  }
  return owner;
}

/** The unit of work of one model and window size. */
export const workUnit = (modelId: string, windowSize: string): string => `${modelId}\u0000${windowSize}`;

/**
 * A 53-bit hash of a string's UTF-16 code units (cyrb53: two multiply-xorshift lanes). Not
 * cryptographic; spreads short, similar keys evenly, which is all rendezvous hashing needs.
 */
export function hash53(text: string): number {
  let first = 0xdeadbeef;
  let second = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    first = Math.imul(first ^ code, 2654435761);
    second = Math.imul(second ^ code, 1597334677);
  }
  first = Math.imul(first ^ (first >>> 16), 2246822507);
  first ^= Math.imul(second ^ (second >>> 13), 3266489909);
  second = Math.imul(second ^ (second >>> 16), 2246822507);
  second ^= Math.imul(first ^ (first >>> 13), 3266489909);
  return 4294967296 * (2097151 & second) + (first >>> 0);
}
