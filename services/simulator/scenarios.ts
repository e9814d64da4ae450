import type { ResultKind } from '../core/metrics/result-row.js';
import type { CohortChanges } from './sepsis-cohort.js';

/**
 * Clinical drift scenarios: how the world of a deployed sepsis model changes, when, and what a
 * clinician would expect monitoring to flag. Each is a story a hospital has lived through; the
 * simulator plays it from `onsetAfterHours` of simulated time on, so that windows before the onset
 * show the world the model was validated in, and for `lastsHours` if set (the fault is fixed), so
 * that windows after it show that world again and the alerts it raised can resolve.
 */

export const SCENARIO_NAMES = [
  'stable',
  'lab-unit-change',
  'population-shift',
  'prevalence-shift',
  'missingness-spike',
  'concept-drift',
  'silent-site',
  'label-delay',
  'assay-change',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The result row a clinician would expect to turn to warn or alert, and how soon after the onset. */
export interface ExpectedDetection {
  kind: ResultKind;
  metric: string;
  feature?: string;
  segment?: string;
  group?: string;
  /** Windows of the scenario's `windowSize` after the onset by which it must be flagged. */
  withinWindows: number;
  windowSize: '1h' | '1d';
}

export interface TrafficChanges {
  /** This site stops sending predictions (an interface engine down, a model switched off there). */
  silentSite?: string;
  /** Outcomes take this many times longer to be known (an adjudication backlog). */
  outcomeDelayFactor?: number;
}

export interface Scenario {
  name: ScenarioName;
  /** What happens, in a clinician's words. */
  story: string;
  /** Simulated hours of the world as validated before the change. */
  onsetAfterHours: number;
  /**
   * Simulated hours the change lasts, from the onset; predictions from then on come from the world
   * as validated again. Unset, the change lasts to the end of the run.
   */
  lastsHours?: number;
  cohort: CohortChanges;
  traffic: TrafficChanges;
  /** What must detect it; none for `stable`, which must raise nothing. */
  detectedBy: readonly ExpectedDetection[];
}

/** Two simulated days before the change: enough for a trailing baseline and for outcomes to arrive. */
const ONSET_AFTER_HOURS = 48;

const SCENARIOS: Record<ScenarioName, Omit<Scenario, 'name'>> = {
  stable: {
    story: 'Nothing changes: the patients, the charting and the outcomes are those the model was validated on.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: {},
    traffic: {},
    detectedBy: [],
  },
  'lab-unit-change': {
    story: "site-b's laboratory system is upgraded and starts reporting creatinine in µmol/L instead of mg/dL; the interface passes the numbers through unchanged.",
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { creatinineInMicromolesAt: 'site-b' },
    traffic: {},
    detectedBy: [
      { kind: 'quality', metric: 'out_of_range_share', feature: 'creatinine', withinWindows: 2, windowSize: '1h' },
      { kind: 'drift', metric: 'psi', feature: 'creatinine', withinWindows: 2, windowSize: '1h' },
    ],
  },
  'population-shift': {
    story: 'A nearby hospital closes its geriatric unit: the older age bands take most admissions.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { olderPopulation: true },
    traffic: {},
    detectedBy: [{ kind: 'drift', metric: 'psi', feature: 'age', withinWindows: 1, windowSize: '1d' }],
  },
  'prevalence-shift': {
    story: 'An outbreak: more patients arrive septic, at the same physiology the model knows.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { riskLogOddsShift: 1.2 },
    traffic: {},
    detectedBy: [{ kind: 'performance', metric: 'prevalence', withinWindows: 1, windowSize: '1d' }],
  },
  'missingness-spike': {
    story: "site-c's laboratory feed goes down: the model scores its patients without any lab values.",
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { labFeedDownAt: 'site-c' },
    traffic: {},
    detectedBy: [{ kind: 'quality', metric: 'missing_share', feature: 'lactate', withinWindows: 2, windowSize: '1h' }],
  },
  'concept-drift': {
    story: 'A new strain and changed treatment: the charted physiology explains less of who turns septic. The inputs look the same; the model is worse.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { unchartedRiskStandardDeviation: 3 },
    traffic: {},
    detectedBy: [
      { kind: 'performance', metric: 'auroc', withinWindows: 1, windowSize: '1d' },
      { kind: 'calibration', metric: 'ece', withinWindows: 1, windowSize: '1d' },
    ],
  },
  'silent-site': {
    story: "site-a's interface engine stops forwarding scoring requests: its patients are no longer scored, and nobody is told.",
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: {},
    traffic: { silentSite: 'site-a' },
    detectedBy: [{ kind: 'volume', metric: 'predictions', segment: 'site', group: 'site-a', withinWindows: 2, windowSize: '1h' }],
  },
  'label-delay': {
    story: 'The adjudication team falls behind: outcomes take four times as long to be recorded.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: {},
    traffic: { outcomeDelayFactor: 4 },
    // The delay, not the coverage: coverage falls only while outcomes are still missing, and a
    // window is judged on coverage once final, when a slow backlog may have caught up; the delay of
    // the outcomes that did arrive shows the backlog either way, within the first day.
    detectedBy: [{ kind: 'labels', metric: 'label_delay_p90_seconds', withinWindows: 1, windowSize: '1d' }],
  },
  'assay-change': {
    story: 'A new point-of-care analyzer reads lactate about a third high, and a direct-admission pathway opens.',
    onsetAfterHours: ONSET_AFTER_HOURS,
    cohort: { lactateAssayReadsHigh: true, directAdmissionPathway: true },
    traffic: {},
    detectedBy: [
      { kind: 'drift', metric: 'psi', feature: 'lactate', withinWindows: 1, windowSize: '1d' },
      { kind: 'drift', metric: 'unseen_share', feature: 'admission_source', withinWindows: 1, windowSize: '1d' },
    ],
  },
};

export interface ScenarioTiming {
  /** See Scenario.lastsHours; unset, the change never ends. */
  lastsHours?: number;
}

/** The scenario of that name, lasting `lastsHours` if given (a positive number of simulated hours). */
export function scenario(name: ScenarioName, timing: ScenarioTiming = {}): Scenario {
  const { lastsHours } = timing;
  if (lastsHours === undefined) return { name, ...SCENARIOS[name] };
  if (!(Number.isFinite(lastsHours) && lastsHours > 0)) throw new RangeError(`lastsHours must be a positive number of hours, got ${lastsHours}`);
  return { name, ...SCENARIOS[name], lastsHours };
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}
