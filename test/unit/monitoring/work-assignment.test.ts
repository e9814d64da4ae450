import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash53, ownerOf, workUnit } from '../../../services/core/monitoring/work-assignment.js';

const members = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });
const units = fc.uniqueArray(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 30 });

describe('ownerOf', () => {
  it('picks one of the members, whatever order they are listed in', () => {
    fc.assert(
      fc.property(members, units, (names, work) => {
        const reversed = [...names].reverse();
        for (const unit of work) {
          const owner = ownerOf(unit, names);
          expect(names).toContain(owner);
          expect(ownerOf(unit, reversed)).toBe(owner);
        }
      }),
    );
  });

  it('moves only the units of a member that leaves, and a joining member takes units only for itself', () => {
    fc.assert(
      fc.property(members.filter((names) => names.length >= 2), units, (names, work) => {
        const [leaving, ...staying] = names;
        for (const unit of work) {
          const before = ownerOf(unit, names);
          const after = ownerOf(unit, staying);
          if (before !== leaving) expect(after).toBe(before);
          // Seen the other way round: leaving joins the staying members.
          if (before !== after) expect(before).toBe(leaving);
        }
      }),
    );
  });

  it('has no owner without members', () => {
    expect(ownerOf(workUnit('sepsis-risk', '1h'), [])).toBeUndefined();
  });

  it('spreads many units evenly over the members', () => {
    const names = ['vigil-0', 'vigil-1', 'vigil-2', 'vigil-3'];
    const counts = new Map(names.map((name) => [name, 0]));
    for (let model = 0; model < 500; model++) for (const size of ['1h', '1d', '7d']) counts.set(ownerOf(workUnit(`model-${model}`, size), names)!, counts.get(ownerOf(workUnit(`model-${model}`, size), names)!)! + 1);
    // 1,500 units over 4 members: 375 each expected; a binomial standard deviation is about 17.
    for (const count of counts.values()) expect(Math.abs(count - 375)).toBeLessThan(90);
  });

  it('hashes to 53-bit integers that differ for near-identical keys', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const value = hash53(text);
        expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
        expect(hash53(`${text}x`)).not.toBe(hash53(`${text}y`));
      }),
    );
  });
});
