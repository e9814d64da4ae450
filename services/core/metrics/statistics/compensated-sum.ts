/**
 * Neumaier's compensated summation. Metrics over a million rows add a million terms of mixed
 * magnitude; plain left-to-right addition can lose ~n·ε relative accuracy, this keeps the error
 * near one rounding whatever the length.
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(term: number): void {
    const next = this.sum + term;
    if (Math.abs(this.sum) >= Math.abs(term)) {
      this.compensation += this.sum - next + term;
    } else {
      this.compensation += term - next + this.sum;
    }
    this.sum = next;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}
