import type { GaugeInstrument } from './pipeline-metrics.js';
import type { Logger } from 'pino';

/**
 * Whether a dependency (storage, the schema registry) answered the last time it was asked. It feeds
 * /readyz and `vigil_dependency_up`, and logs one line when the state changes, never one per attempt,
 * so that an hour-long outage is two log lines, not thousands.
 */
export class DependencyHealth {
  private up = true;
  private failingSince = 0;
  private failedAttempts = 0;

  constructor(
    readonly dependency: string,
    private readonly gauge: GaugeInstrument<'dependency'>,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    gauge.set({ dependency }, 1);
  }

  get isUp(): boolean {
    return this.up;
  }

  markUp(): void {
    if (this.up) return;
    this.up = true;
    this.gauge.set({ dependency: this.dependency }, 1);
    this.logger.info(
      { dependency: this.dependency, downForMs: this.clock() - this.failingSince, failedAttempts: this.failedAttempts },
      `${this.dependency} available again`,
    );
  }

  /** `problem` must name no event content: an error's type and code, a status, a network error. */
  markDown(problem: string): void {
    this.failedAttempts = this.up ? 1 : this.failedAttempts + 1;
    if (!this.up) return;
    this.up = false;
    this.failingSince = this.clock();
    this.gauge.set({ dependency: this.dependency }, 0);
    this.logger.warn({ dependency: this.dependency, problem }, `${this.dependency} unavailable; retrying with back-off, committing nothing`);
  }
}
