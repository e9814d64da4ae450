import { defined, undefinedBecause, type Outcome } from '../result-row.js';
import { CompensatedSum } from '../statistics/compensated-sum.js';

/**
 * Where the cells of a ValueGridSketch lie: cell k holds the values x with
 * origin + k·width ≤ x < origin + (k + 1)·width. Both sides of a comparison use one grid, fitted on
 * the reference (see numericReferenceProfile).
 */
export interface ValueGrid {
  origin: number;
  width: number;
}

/** Per cell: how many values, their sum, and the smallest and largest of them. */
interface Cell {
  count: number;
  sum: number;
  minimum: number;
  maximum: number;
}

/** A value with a bound on its distance from the exact value. */
export interface BoundedValue {
  value: number;
  maximumError: number;
}

/**
 * A numeric sample as counts, sums, minima and maxima in the cells of a fixed grid: the streaming
 * form from which the Kolmogorov–Smirnov statistic and the Wasserstein-1 distance of two samples
 * are computed with a bound on their error (cdfDistancesOfGrids).
 *
 * Only non-empty cells are kept, so a cell far out costs no more than one near the centre, and a
 * cell holding a single distinct value (a discrete feature, a constant) carries no error at all.
 * Counts, minima and maxima of merge(a, b) equal those of the sketch of a ∪ b exactly; sums agree
 * up to the order of floating-point addition.
 */
export class ValueGridSketch {
  private readonly cells = new Map<number, Cell>();

  constructor(readonly grid: ValueGrid) {
    if (!Number.isFinite(grid.origin)) throw new RangeError(`grid origin must be finite, got ${grid.origin}`);
    if (!(grid.width > 0 && Number.isFinite(grid.width))) throw new RangeError(`grid width must be positive and finite, got ${grid.width}`);
  }

  /** Adds one finite value. */
  add(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`value ${value} is not finite`);
    const index = this.cellOf(value);
    const cell = this.cells.get(index);
    if (cell === undefined) {
      this.cells.set(index, { count: 1, sum: value, minimum: value, maximum: value });
      return;
    }
    cell.count += 1;
    cell.sum += value;
    if (value < cell.minimum) cell.minimum = value;
    if (value > cell.maximum) cell.maximum = value;
  }

  /** The cell index; values too far out for an exact index share the outermost representable cell. */
  private cellOf(value: number): number {
    const index = Math.floor((value - this.grid.origin) / this.grid.width);
    return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Number.isFinite(index) ? index : Math.sign(index) * Number.MAX_SAFE_INTEGER));
  }

  get count(): number {
    let total = 0;
    for (const cell of this.cells.values()) total += cell.count;
    return total;
  }

  get cellCount(): number {
    return this.cells.size;
  }

  merge(other: ValueGridSketch): ValueGridSketch {
    if (other.grid.origin !== this.grid.origin || other.grid.width !== this.grid.width) {
      throw new RangeError('sketches on different grids cannot be merged');
    }
    const merged = new ValueGridSketch(this.grid);
    for (const source of [this, other]) {
      for (const [index, cell] of source.cells) {
        const existing = merged.cells.get(index);
        if (existing === undefined) merged.cells.set(index, { ...cell });
        else {
          existing.count += cell.count;
          existing.sum += cell.sum;
          existing.minimum = Math.min(existing.minimum, cell.minimum);
          existing.maximum = Math.max(existing.maximum, cell.maximum);
        }
      }
    }
    return merged;
  }

  /** Non-empty cells in ascending order. */
  orderedCells(): { index: number; cell: Readonly<Cell> }[] {
    return [...this.cells.entries()].sort(([left], [right]) => left - right).map(([index, cell]) => ({ index, cell }));
  }

  toJSON(): SerializedValueGridSketch {
    return { grid: { ...this.grid }, cells: this.orderedCells().map(({ index, cell }) => [index, cell.count, cell.sum, cell.minimum, cell.maximum]) };
  }

  static fromJSON(serialized: SerializedValueGridSketch): ValueGridSketch {
    const sketch = new ValueGridSketch(serialized.grid);
    for (const [index, count, sum, minimum, maximum] of serialized.cells) {
      if (!Number.isInteger(index) || !(count > 0) || !(minimum <= maximum)) throw new RangeError(`cell ${index} is malformed`);
      sketch.cells.set(index, { count, sum, minimum, maximum });
    }
    return sketch;
  }
}

export interface SerializedValueGridSketch {
  grid: ValueGrid;
  /** [cell index, count, sum, minimum, maximum] per non-empty cell, ascending. */
  cells: [number, number, number, number, number][];
}

export interface GridCdfDistances {
  /** sup |F_a − F_b|, the Kolmogorov–Smirnov statistic. */
  supremum: BoundedValue;
  /** ∫ |F_a − F_b|, the Wasserstein-1 distance. */
  integral: BoundedValue;
}

/**
 * The Kolmogorov–Smirnov statistic and the Wasserstein-1 distance of the two samples behind two
 * sketches on one grid, each as the midpoint of the interval the sketches allow, with half its
 * width as the maximum error. With D = F_a − F_b the difference of the right-continuous empirical
 * CDFs, the walk goes through the non-empty cells in order; for a cell whose values span [lo, hi]
 * and hold shares p_a and p_b of the two samples, with D₀ the difference below it:
 *   - D is exactly D₀ on the gap before the cell and exactly D₀ + p_a − p_b from hi on, so those
 *     values of |D| are attained; inside (lo, hi) D stays within [D₀ − p_b, D₀ + p_a];
 *   - ∫ D over [lo, hi] is exactly D₀·(hi − lo) + p_a·(hi − mean_a) − p_b·(hi − mean_b), from the
 *     cell's sums; when D keeps one sign over the cell ∫ |D| is its absolute value, otherwise it
 *     lies between that and the largest value the sign bounds allow.
 * Cells holding one distinct value, and cells where D cannot change sign, contribute no error.
 * The worst case for the Wasserstein error is the grid width; for the KS statistic, half the
 * largest share of either sample in one cell.
 */
export function cdfDistancesOfGrids(a: ValueGridSketch, b: ValueGridSketch): Outcome<GridCdfDistances> {
  if (a.grid.origin !== b.grid.origin || a.grid.width !== b.grid.width) throw new RangeError('sketches on different grids cannot be compared');
  const countA = a.count;
  const countB = b.count;
  if (countA === 0 || countB === 0) return undefinedBecause(`${countA === 0 ? 'the first' : 'the second'} sample has no values`);

  const cellsA = a.orderedCells();
  const cellsB = b.orderedCells();
  let supremumLow = 0;
  let supremumHigh = 0;
  const integralLow = new CompensatedSum();
  const integralHigh = new CompensatedSum();
  let difference = 0;
  let previousMaximum: number | null = null;
  let indexA = 0;
  let indexB = 0;
  while (indexA < cellsA.length || indexB < cellsB.length) {
    const nextA = cellsA[indexA];
    const nextB = cellsB[indexB];
    const index = Math.min(nextA?.index ?? Infinity, nextB?.index ?? Infinity);
    const cellA = nextA?.index === index ? nextA.cell : null;
    const cellB = nextB?.index === index ? nextB.cell : null;
    if (cellA !== null) indexA += 1;
    if (cellB !== null) indexB += 1;

    const low = Math.min(cellA?.minimum ?? Infinity, cellB?.minimum ?? Infinity);
    const high = Math.max(cellA?.maximum ?? -Infinity, cellB?.maximum ?? -Infinity);
    if (previousMaximum !== null) {
      const gap = Math.abs(difference) * (low - previousMaximum);
      integralLow.add(gap);
      integralHigh.add(gap);
    }
    const shareA = (cellA?.count ?? 0) / countA;
    const shareB = (cellB?.count ?? 0) / countB;
    const span = high - low;
    if (span > 0) {
      const lowest = difference - shareB;
      const highest = difference + shareA;
      supremumHigh = Math.max(supremumHigh, Math.abs(lowest), Math.abs(highest));
      const signed =
        difference * span +
        (cellA === null ? 0 : shareA * (high - cellA.sum / cellA.count)) -
        (cellB === null ? 0 : shareB * (high - cellB.sum / cellB.count));
      if (lowest >= 0 || highest <= 0) {
        integralLow.add(Math.abs(signed));
        integralHigh.add(Math.abs(signed));
      } else {
        // ∫|D| = ∫D + 2∫D⁻ = −∫D + 2∫D⁺, with D⁻ ≤ −lowest and D⁺ ≤ highest over the cell.
        integralLow.add(Math.abs(signed));
        integralHigh.add(Math.min(signed + 2 * span * -lowest, -signed + 2 * span * highest));
      }
    }
    difference += shareA - shareB;
    supremumLow = Math.max(supremumLow, Math.abs(difference));
    supremumHigh = Math.max(supremumHigh, supremumLow);
    previousMaximum = high;
  }
  const bounded = (low: number, high: number): BoundedValue => ({ value: (low + high) / 2, maximumError: (high - low) / 2 });
  return defined({
    supremum: bounded(supremumLow, supremumHigh),
    integral: bounded(integralLow.value, Math.max(integralLow.value, integralHigh.value)),
  });
}
