import { createHash } from 'node:crypto';
import type { FeatureValue } from '../core/events/event-types.js';
import { createRandom, type RandomSource, type WeightedChoice } from './random.js';

/**
 * A synthetic cohort of adult inpatients scored by a sepsis-risk model. Each encounter has a
 * latent acuity that moves vitals and labs together; the true sepsis risk is a logistic function
 * of that physiology and of a part no chart records, and the outcome is drawn from it. The model
 * sees the charted values (with missing labs, a pulse-oximetry bias and, from some encounter on, a
 * changed world: see CohortChanges) and reports a noisy estimate that runs a little high and too extreme, so
 * discrimination, calibration, drift and subgroup metrics all have something real to find.
 */

export const SEPSIS_MODEL = {
  modelId: 'sepsis-risk',
  modelVersion: '2.3.0',
  decisionThreshold: 0.3,
  producerService: 'sepsis-risk-inference',
  outcomeSource: 'ehr-sepsis-adjudication',
} as const;

export type AdmissionSource = 'ED' | 'ward' | 'ICU-transfer' | 'direct-admission';

export interface SepsisEncounter {
  /** Pseudonymous encounter token: `enc-` and sixteen consonants, never digits. */
  entityKey: string;
  predictionId: string;
  predictionEventId: string;
  outcomeEventId: string;
  requestId: string;
  features: Record<string, FeatureValue>;
  segments: Record<string, string>;
  /** sha256 (hex) of the canonical JSON of `features`. */
  inputHash: string;
  /** Probability of sepsis given the patient's true state; `outcome` is drawn from it. */
  trueRisk: number;
  score: number;
  predictedLabel: 0 | 1;
  outcome: 0 | 1;
}

/**
 * How the world differs from the one the model was validated in. Each change is one a hospital
 * meets in practice; see scenarios.ts for the stories they tell and what should detect them.
 */
export interface CohortChanges {
  /** A new point-of-care analyzer reads lactate about a third high; the patients are no sicker. */
  lactateAssayReadsHigh?: boolean;
  /** A direct-admission pathway opens, a source of patients the model never saw. */
  directAdmissionPathway?: boolean;
  /** This site's laboratory system starts reporting creatinine in µmol/L instead of mg/dL. */
  creatinineInMicromolesAt?: string;
  /** The catchment ages: the older bands take most admissions. */
  olderPopulation?: boolean;
  /** Added to the log-odds of sepsis of every patient: prevalence rises (an outbreak, a new referral stream). */
  riskLogOddsShift?: number;
  /** This site's laboratory feed is down: no lab values reach the model. */
  labFeedDownAt?: string;
  /**
   * Spread of the risk no charted value explains, replacing the usual one: larger, the charted
   * physiology explains less (a new pathogen, changed treatment), so discrimination falls and
   * calibration drifts while the inputs look the same.
   */
  unchartedRiskStandardDeviation?: number;
}

export interface SepsisCohortOptions {
  seed: number;
  /**
   * Encounters from `from` up to `until` (exclusive; unset, for ever) come from the changed world;
   * the others are unchanged.
   */
  changes?: { from: number; until?: number; world: CohortChanges };
}

/** JSON of a feature map with keys in code-point order, the form that `inputHash` covers. */
export function canonicalFeatureJson(features: Readonly<Record<string, FeatureValue>>): string {
  const entries = Object.keys(features)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(features[name] ?? null)}`);
  return `{${entries.join(',')}}`;
}

interface ClinicalValues {
  age: number;
  heartRate: number;
  respiratoryRate: number;
  temperatureC: number;
  systolicBp: number;
  spo2: number;
  wbc: number;
  lactate: number;
  creatinine: number;
  platelets: number;
  onAntibiotics: boolean;
  admissionSource: AdmissionSource;
}

type LabName = 'wbc' | 'lactate' | 'creatinine' | 'platelets';
type VitalName = 'heartRate' | 'respiratoryRate' | 'temperatureC' | 'systolicBp' | 'spo2';

/** Sets the cohort's prevalence near 10%. */
const RISK_INTERCEPT = -3.25;

/**
 * Spread of the risk that no charted value explains (source of infection, immune status), which
 * keeps any model's discrimination at a realistic level rather than near perfect.
 */
const UNCHARTED_RISK_STANDARD_DEVIATION = 1.1;

/** The deployed model overestimates risk a little and is too sure of itself. */
const MODEL_CALIBRATION = { intercept: 0.85, slope: 1.15, noiseStandardDeviation: 0.3 };

/** What the model substitutes for a missing value: a normal adult reading. */
const MODEL_IMPUTATION: Pick<ClinicalValues, LabName | VitalName> = {
  heartRate: 80,
  respiratoryRate: 16,
  temperatureC: 37,
  systolicBp: 120,
  spo2: 97,
  wbc: 8,
  lactate: 1.2,
  creatinine: 1,
  platelets: 250,
};

const VITAL_MISSING_PROBABILITY = 0.015;

/** Lactate is often not drawn when the team is not worried, so ward patients miss it most. */
const LACTATE_MISSING_PROBABILITY: Record<AdmissionSource, number> = {
  ED: 0.08,
  ward: 0.2,
  'ICU-transfer': 0.03,
  'direct-admission': 0.15,
};

const OTHER_LAB_MISSING_PROBABILITY = 0.055;

/** Laboratory units: 1 mg/dL of creatinine is 88.42 µmol/L. */
const CREATININE_MICROMOLES_PER_MILLIGRAM_PER_DECILITRE = 88.42;

/** Pulse oximeters overestimate saturation on darker skin, hiding hypoxemia from the model. */
const PULSE_OXIMETRY_BIAS: Record<string, number> = { black: 2 };

interface Site {
  name: string;
  admissionSources: readonly WeightedChoice<AdmissionSource>[];
}

/** site-c is the tertiary referral center and takes most of the ICU transfers. */
const SITES: readonly WeightedChoice<Site>[] = [
  [{ name: 'site-a', admissionSources: [['ED', 0.62], ['ward', 0.31], ['ICU-transfer', 0.07]] }, 0.45],
  [{ name: 'site-b', admissionSources: [['ED', 0.6], ['ward', 0.33], ['ICU-transfer', 0.07]] }, 0.35],
  [{ name: 'site-c', admissionSources: [['ED', 0.5], ['ward', 0.3], ['ICU-transfer', 0.2]] }, 0.2],
];

/** Share of admissions through the direct-admission pathway once it opens. */
const DIRECT_ADMISSION_SHARE_AFTER_DRIFT = 0.15;

const AGE_BANDS: readonly WeightedChoice<{ band: string; minimum: number; maximum: number }>[] = [
  [{ band: '18-44', minimum: 18, maximum: 45 }, 0.24],
  [{ band: '45-64', minimum: 45, maximum: 65 }, 0.32],
  [{ band: '65-79', minimum: 65, maximum: 80 }, 0.29],
  [{ band: '80+', minimum: 80, maximum: 98 }, 0.15],
];

/** The same bands when the catchment has aged: most admissions are 65 or older. */
const OLDER_AGE_BANDS: typeof AGE_BANDS = AGE_BANDS.map(([band], index) => [band, [0.08, 0.17, 0.4, 0.35][index] as number]);

const RACE_ETHNICITY: readonly WeightedChoice<string>[] = [
  ['white', 0.57],
  ['black', 0.17],
  ['hispanic', 0.15],
  ['asian', 0.06],
  ['other-or-unknown', 0.05],
];

const PAYERS_65_AND_OVER: readonly WeightedChoice<string>[] = [
  ['medicare', 0.86],
  ['commercial', 0.08],
  ['medicaid', 0.05],
  ['self-pay', 0.01],
];

const PAYERS_UNDER_65: readonly WeightedChoice<string>[] = [
  ['commercial', 0.5],
  ['medicaid', 0.3],
  ['medicare', 0.08],
  ['self-pay', 0.12],
];

/** No digits, so a key can never be mistaken for (or be) a medical record number; no vowels, so no words. */
const ENTITY_KEY_ALPHABET = 'bcdfghjklmnpqrstvwxz';

const ACUITY_SHIFT_BY_SOURCE: Record<AdmissionSource, number> = {
  ED: 0.25,
  ward: 0,
  'ICU-transfer': 0.9,
  'direct-admission': -0.2,
};

function logistic(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

function clamp(value: number, minimum: number, maximum: number): number {
  return Math.min(maximum, Math.max(minimum, value));
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Log-odds of sepsis from physiology: SIRS-like vitals, perfusion and organ dysfunction. */
function sepsisLogit(values: ClinicalValues): number {
  return (
    RISK_INTERCEPT +
    0.02 * (values.heartRate - 85) +
    0.08 * (values.respiratoryRate - 18) +
    0.45 * Math.max(0, values.temperatureC - 38) +
    0.8 * Math.max(0, 36 - values.temperatureC) +
    0.025 * (115 - values.systolicBp) +
    0.1 * (95 - values.spo2) +
    0.05 * Math.max(0, values.wbc - 12) +
    0.3 * Math.max(0, 4 - values.wbc) +
    0.45 * (values.lactate - 1.5) +
    0.45 * Math.log(values.creatinine) +
    0.6 * Math.max(0, Math.log(150 / values.platelets)) +
    0.015 * (values.age - 60) +
    (values.onAntibiotics ? 0.5 : 0) +
    (values.admissionSource === 'ICU-transfer' ? 0.4 : 0)
  );
}

function sampleClinicalValues(random: RandomSource, age: number, admissionSource: AdmissionSource): ClinicalValues {
  // One latent acuity moves every organ system together, as a deteriorating patient does.
  const acuity = random.normal(ACUITY_SHIFT_BY_SOURCE[admissionSource] + 0.3 * ((age - 60) / 20), 1);
  return {
    age,
    heartRate: Math.round(clamp(random.normal(84 + 10 * acuity, 10), 35, 190)),
    respiratoryRate: Math.round(clamp(random.normal(17 + 2.5 * acuity, 2.5), 8, 45)),
    temperatureC: roundTo(clamp(random.normal(37 + 0.35 * acuity, 0.5), 33.5, 41.5), 1),
    systolicBp: Math.round(clamp(random.normal(124 - 9 * acuity, 15), 60, 220)),
    spo2: Math.round(clamp(random.normal(96.5 - 1.4 * acuity, 1.6), 70, 100)),
    wbc: roundTo(clamp(Math.exp(random.normal(Math.log(8.5) + 0.2 * acuity, 0.3)), 0.5, 60), 1),
    lactate: roundTo(clamp(Math.exp(random.normal(Math.log(1.3) + 0.3 * acuity, 0.3)), 0.3, 20), 1),
    creatinine: roundTo(clamp(Math.exp(random.normal(0.2 * acuity + 0.1 * ((age - 60) / 20), 0.3)), 0.3, 12), 2),
    platelets: Math.round(clamp(Math.exp(random.normal(Math.log(240) - 0.15 * acuity, 0.3)), 8, 900)),
    onAntibiotics: random.chance(logistic(-1.6 + 0.9 * acuity)),
    admissionSource,
  };
}

function chartedOrMissing(random: RandomSource, value: number, missingProbability: number): number | null {
  return random.chance(missingProbability) ? null : value;
}

/** The model's estimate: the true risk formula applied to the charted values, imputed and miscalibrated. */
function modelScore(random: RandomSource, charted: Record<string, FeatureValue>, truth: ClinicalValues): number {
  const numeric = (name: string, fallback: number): number => {
    const value = charted[name];
    return typeof value === 'number' ? value : fallback;
  };
  const seen: ClinicalValues = {
    ...truth,
    heartRate: numeric('heart_rate', MODEL_IMPUTATION.heartRate),
    respiratoryRate: numeric('respiratory_rate', MODEL_IMPUTATION.respiratoryRate),
    temperatureC: numeric('temperature_c', MODEL_IMPUTATION.temperatureC),
    systolicBp: numeric('systolic_bp', MODEL_IMPUTATION.systolicBp),
    spo2: numeric('spo2', MODEL_IMPUTATION.spo2),
    wbc: numeric('wbc', MODEL_IMPUTATION.wbc),
    lactate: numeric('lactate', MODEL_IMPUTATION.lactate),
    creatinine: numeric('creatinine', MODEL_IMPUTATION.creatinine),
    platelets: numeric('platelets', MODEL_IMPUTATION.platelets),
  };
  const logit =
    MODEL_CALIBRATION.intercept +
    MODEL_CALIBRATION.slope * sepsisLogit(seen) +
    random.normal(0, MODEL_CALIBRATION.noiseStandardDeviation);
  // Scores are reported to four decimals, as the inference service does.
  return roundTo(logistic(logit), 4);
}

function ageBand(random: RandomSource, world: CohortChanges): { band: string; age: number } {
  const { band, minimum, maximum } = random.choose(world.olderPopulation ? OLDER_AGE_BANDS : AGE_BANDS);
  return { band, age: Math.floor(random.between(minimum, maximum)) };
}

function admissionSourceAt(random: RandomSource, site: Site, world: CohortChanges): AdmissionSource {
  if (world.directAdmissionPathway && random.chance(DIRECT_ADMISSION_SHARE_AFTER_DRIFT)) return 'direct-admission';
  return random.choose(site.admissionSources);
}

function nextEncounter(random: RandomSource, world: CohortChanges): SepsisEncounter {
  const site = random.choose(SITES);
  const sex = random.chance(0.52) ? 'F' : 'M';
  const { band, age } = ageBand(random, world);
  const raceEthnicity = random.choose(RACE_ETHNICITY);
  const payer = random.choose(age >= 65 ? PAYERS_65_AND_OVER : PAYERS_UNDER_65);
  const admissionSource = admissionSourceAt(random, site, world);

  const truth = sampleClinicalValues(random, age, admissionSource);
  const unchartedSpread = world.unchartedRiskStandardDeviation ?? UNCHARTED_RISK_STANDARD_DEVIATION;
  const trueRisk = logistic(sepsisLogit(truth) + (world.riskLogOddsShift ?? 0) + random.normal(0, unchartedSpread));
  const outcome = random.chance(trueRisk) ? 1 : 0;

  const displayedSpo2 = Math.min(100, truth.spo2 + (PULSE_OXIMETRY_BIAS[raceEthnicity] ?? 0));
  const measuredLactate = world.lactateAssayReadsHigh ? roundTo(truth.lactate * 1.3 + 0.2, 1) : truth.lactate;
  const reportedCreatinine =
    world.creatinineInMicromolesAt === site.name ? Math.round(truth.creatinine * CREATININE_MICROMOLES_PER_MILLIGRAM_PER_DECILITRE) : truth.creatinine;
  // Draws happen whether or not the feed is down, so that every later value stays the same.
  const lab = (value: number, missingProbability: number): number | null => {
    const charted = chartedOrMissing(random, value, missingProbability);
    return world.labFeedDownAt === site.name ? null : charted;
  };
  const features: Record<string, FeatureValue> = {
    age,
    heart_rate: chartedOrMissing(random, truth.heartRate, VITAL_MISSING_PROBABILITY),
    respiratory_rate: chartedOrMissing(random, truth.respiratoryRate, VITAL_MISSING_PROBABILITY),
    temperature_c: chartedOrMissing(random, truth.temperatureC, VITAL_MISSING_PROBABILITY),
    systolic_bp: chartedOrMissing(random, truth.systolicBp, VITAL_MISSING_PROBABILITY),
    spo2: chartedOrMissing(random, displayedSpo2, VITAL_MISSING_PROBABILITY),
    wbc: lab(truth.wbc, OTHER_LAB_MISSING_PROBABILITY),
    lactate: lab(measuredLactate, LACTATE_MISSING_PROBABILITY[admissionSource]),
    creatinine: lab(reportedCreatinine, OTHER_LAB_MISSING_PROBABILITY),
    platelets: lab(truth.platelets, OTHER_LAB_MISSING_PROBABILITY),
    on_antibiotics: truth.onAntibiotics,
    admission_source: admissionSource,
  };
  const score = modelScore(random, features, truth);

  return {
    entityKey: `enc-${random.token(ENTITY_KEY_ALPHABET, 16)}`,
    predictionId: random.uuid(),
    predictionEventId: random.uuid(),
    outcomeEventId: random.uuid(),
    requestId: `req-${random.uuid()}`,
    features,
    segments: { site: site.name, sex, age_band: band, race_ethnicity: raceEthnicity, payer },
    inputHash: createHash('sha256').update(canonicalFeatureJson(features)).digest('hex'),
    trueRisk,
    score,
    predictedLabel: score >= SEPSIS_MODEL.decisionThreshold ? 1 : 0,
    outcome,
  };
}

/** An endless, deterministic stream of encounters for one seed. */
export function* generateSepsisEncounters(options: SepsisCohortOptions): Generator<SepsisEncounter, never, void> {
  const random = createRandom(options.seed);
  const changesFrom = options.changes?.from ?? Number.POSITIVE_INFINITY;
  const changesUntil = options.changes?.until ?? Number.POSITIVE_INFINITY;
  const changed = options.changes?.world ?? {};
  for (let index = 0; ; index += 1) {
    yield nextEncounter(random, index >= changesFrom && index < changesUntil ? changed : UNCHANGED);
  }
}

const UNCHANGED: CohortChanges = {};
