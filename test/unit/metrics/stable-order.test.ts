import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableOrder } from '../../../services/core/metrics/estimation/stable-order.js';

describe('stableOrder', () => {
  it('orders rows by value, tied rows in their own order, as a stable comparison sort does', () => {
    const value = fc.oneof(fc.double({ min: 0, max: 1e300, noNaN: true }), fc.constantFrom(0, -0, 0.5, 1, 5e-324, 1 - 2 ** -53), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), (values) => {
        const expected = values.map((_, row) => row).sort((left, right) => (values[left]! < values[right]! ? -1 : values[left]! > values[right]! ? 1 : left - right));
        expect(Array.from(stableOrder(values))).toEqual(expected);
      }),
    );
  });

  it('refuses a value it cannot order by its bits', () => {
    expect(() => stableOrder([0.2, -0.1])).toThrow(/value 1/);
    expect(() => stableOrder([Number.NaN])).toThrow(RangeError);
  });

  it('orders a long column with many ties', () => {
    const values = Float64Array.from({ length: 5000 }, (_, row) => ((row * 7919) % 101) / 100);
    const order = stableOrder(values);
    for (let position = 1; position < order.length; position++) {
      const [previous, current] = [order[position - 1]!, order[position]!];
      expect(values[previous]! < values[current]! || (values[previous] === values[current] && previous < current)).toBe(true);
    }
  });
});
