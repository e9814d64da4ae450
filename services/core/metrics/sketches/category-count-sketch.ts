import type { CategoryCounts } from '../drift/categorical-drift.js';

/**
 * A window of one categorical feature: occurrences per category and missing entries. It is the
 * CategoryCounts that categoricalDrift takes, so PSI, chi-square, Jensen–Shannon, L∞ and the
 * unseen share computed from it are the exact ones. merge(a, b) has exactly the counts of a ∪ b,
 * and the same metrics: categoricalDrift does not depend on the order categories were first met in.
 */
export class CategoryCountSketch implements CategoryCounts {
  readonly counts = new Map<string, number>();
  totalCount = 0;
  missingCount = 0;

  add(value: string | null): void {
    this.totalCount += 1;
    if (value === null) this.missingCount += 1;
    else this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  merge(other: CategoryCountSketch): CategoryCountSketch {
    const merged = new CategoryCountSketch();
    for (const source of [this, other]) {
      for (const [category, count] of source.counts) merged.counts.set(category, (merged.counts.get(category) ?? 0) + count);
      merged.totalCount += source.totalCount;
      merged.missingCount += source.missingCount;
    }
    return merged;
  }

  toJSON(): { counts: Record<string, number>; totalCount: number; missingCount: number } {
    return { counts: Object.fromEntries(this.counts), totalCount: this.totalCount, missingCount: this.missingCount };
  }

  static fromJSON(serialized: { counts: Record<string, number>; totalCount: number; missingCount: number }): CategoryCountSketch {
    const sketch = new CategoryCountSketch();
    for (const [category, count] of Object.entries(serialized.counts)) sketch.counts.set(category, count);
    sketch.totalCount = serialized.totalCount;
    sketch.missingCount = serialized.missingCount;
    return sketch;
  }
}
