import { startCollectorTarget } from '../collector/collector-target.js';
import { startMonitorTarget } from '../monitor/monitor-target.js';
import type { TargetTable } from './target-contract.js';

/** Every target of the `vigil` binary. Traffic starts last, once every consumer is in place. */
export const vigilTargets: TargetTable = {
  collector: startCollectorTarget,
  monitor: startMonitorTarget,
  // Loaded only when asked for: production targets carry no simulator code.
  simulator: async (shared) => (await import('../simulator/simulator-target.js')).startSimulatorTarget(shared),
};
