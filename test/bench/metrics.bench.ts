/**
 * Metrics benchmark: drift and data quality of 20 numeric features, reference and current of
 * 1,000,000 rows each, then every binary performance, calibration, fairness and estimation metric
 * on 1,000,000 scored rows, then the same from the streaming form (a window sketch fed row by row).
 * Prints rows/s and
 * peak memory; where Evidently is importable (VIGIL_EVIDENTLY_PYTHON, or python3), times its data
 * drift preset on the same columns in the same run and prints the ratio.
 *   npm run bench:metrics -- [--rows=1000000] [--features=20]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationMetrics } from '../../services/core/metrics/calibration/calibration.js';
import { numericDrift } from '../../services/core/metrics/drift/numeric-drift.js';
import { estimateConfidenceBasedPerformance } from '../../services/core/metrics/estimation/confidence-based-estimation.js';
import { groupFairness } from '../../services/core/metrics/fairness/group-fairness.js';
import { binaryClassificationMetrics } from '../../services/core/metrics/performance/binary-classification.js';
import { numericFeatureQuality } from '../../services/core/metrics/quality/feature-quality.js';
import { windowReport } from '../../services/core/metrics/rows/window-report.js';
import { fitReferenceProfile, WindowSketch } from '../../services/core/metrics/sketches/window-sketch.js';
import { numericSample } from '../../services/core/metrics/statistics/numeric-sample.js';
import { projectPath } from '../../services/adapters/project/project-files.js';
import { createRandom } from '../../services/simulator/random.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, features: { type: 'string', default: '20' } } });
const rows = Number(values.rows);
const featureCount = Number(values.features);

// The work is synchronous, so no timer could sample the heap during it: read it after each phase.
let peakHeapBytes = 0;
const noteHeap = (): void => {
  peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed);
};

/** Feature-major columns; the current sample is shifted and widened a little, feature by feature. */
function generate(seed: number, shift: number): Float64Array[] {
  const random = createRandom(seed);
  return Array.from({ length: featureCount }, (_, feature) => {
    const column = new Float64Array(rows);
    const scale = 1 + (feature % 5) / 10;
    for (let row = 0; row < rows; row++) column[row] = 10 * feature + random.normal(0, scale) + shift * (feature % 3);
    return column;
  });
}

const reference = generate(1, 0);
const current = generate(2, 0.05);

const driftStart = performance.now();
let driftedFeatures = 0;
for (let feature = 0; feature < featureCount; feature++) {
  const referenceSample = numericSample(reference[feature]!, 'reference');
  if (!referenceSample.defined) throw new Error(referenceSample.reason);
  const drift = numericDrift(referenceSample.value, current[feature]!);
  numericFeatureQuality(reference[feature]!, current[feature]!);
  if (drift.kolmogorovSmirnov.defined && drift.kolmogorovSmirnov.value.pValue < 0.05) driftedFeatures += 1;
}
const driftSeconds = (performance.now() - driftStart) / 1000;
noteHeap();

const random = createRandom(3);
const scores = new Float64Array(rows);
const labels = new Uint8Array(rows);
const groups: string[] = new Array<string>(rows);
const groupNames = ['F', 'M', 'X', 'U'];
for (let row = 0; row < rows; row++) {
  scores[row] = random.uniform();
  labels[row] = random.chance(scores[row] as number) ? 1 : 0;
  groups[row] = groupNames[row % groupNames.length] as string;
}
const performanceStart = performance.now();
const performanceReport = binaryClassificationMetrics({ kind: 'binary-classification', scores, labels, threshold: 0.3 });
calibrationMetrics(scores, labels);
estimateConfidenceBasedPerformance(scores, 0.3);
groupFairness({ scores, labels, groups, threshold: 0.3 });
const performanceSeconds = (performance.now() - performanceStart) / 1000;
noteHeap();

// The streaming form: the current rows go through a WindowSketch one by one, as events would,
// then the whole report is computed from the sketch alone.
const names = Array.from({ length: featureCount }, (_, feature) => `feature_${feature}`);
const shape = { features: names.map((name) => ({ name, type: 'numeric' as const })), scoreColumn: 'score', segments: ['sex'] };
const referenceScores = Float64Array.from({ length: rows }, () => random.uniform());
const profileStart = performance.now();
const profile = fitReferenceProfile(shape, { numeric: (name) => reference[names.indexOf(name)]!, categorical: () => [], scores: referenceScores });
const profileSeconds = (performance.now() - profileStart) / 1000;
const sketchStart = performance.now();
const window = new WindowSketch(profile);
const features: Record<string, number> = {};
for (let row = 0; row < rows; row++) {
  for (let feature = 0; feature < featureCount; feature++) features[names[feature]!] = current[feature]![row]!;
  window.addPrediction({ features, score: scores[row]! });
  window.addOutcome({ score: scores[row]!, label: labels[row] as 0 | 1, segments: { sex: groups[row]! } });
}
const sketchSeconds = (performance.now() - sketchStart) / 1000;
noteHeap();
const windowReportStart = performance.now();
const sketchedRows = windowReport({ window, decisionThreshold: 0.3, minimumGroupSize: 30, falseDiscoveryRate: 0.05, thresholds: () => undefined }).rows;
const windowReportSeconds = (performance.now() - windowReportStart) / 1000;
const serializedBytes = Buffer.byteLength(JSON.stringify(window));
noteHeap();

const lines = [
  `bench:metrics  ${rows.toLocaleString('en-US')} reference + ${rows.toLocaleString('en-US')} current rows, ${featureCount} numeric features`,
  `  drift (KS + p-value, Wasserstein, normalised Wasserstein, PSI, JS, KL, Hellinger) + quality: ${driftSeconds.toFixed(2)} s, ${Math.round(rows / driftSeconds).toLocaleString('en-US')} current rows/s (${driftedFeatures}/${featureCount} features drifted at p < 0.05)`,
  `  performance (AUROC + DeLong, AP, Brier, log loss, threshold metrics + Wilson), calibration, CBPE, fairness over 4 groups: ${performanceSeconds.toFixed(2)} s, ${Math.round(rows / performanceSeconds).toLocaleString('en-US')} rows/s (AUROC ${performanceReport.auroc.defined ? performanceReport.auroc.value.value.toFixed(4) : 'undefined'})`,
  `  everything: ${Math.round(rows / (driftSeconds + performanceSeconds)).toLocaleString('en-US')} current rows/s`,
  `  streaming form: reference profile ${profileSeconds.toFixed(2)} s; ${Math.round(rows / sketchSeconds).toLocaleString('en-US')} predictions + outcomes/s into one window sketch; ${sketchedRows.length} rows reported from it in ${(windowReportSeconds * 1000).toFixed(0)} ms; serialised window ${(serializedBytes / 1024).toFixed(0)} KiB`,
];

const evidentlyPython = [process.env.VIGIL_EVIDENTLY_PYTHON, 'python3'].find(
  (python) => python && spawnSync(python, ['-c', 'import evidently'], { stdio: 'ignore' }).status === 0,
);
if (evidentlyPython) {
  const folder = mkdtempSync(join(tmpdir(), 'vigil-bench-metrics-'));
  try {
    for (const [name, columns] of [['reference', reference], ['current', current]] as const) {
      const joined = new Float64Array(rows * featureCount);
      columns.forEach((column, feature) => joined.set(column, feature * rows));
      writeFileSync(join(folder, `${name}.f64`), Buffer.from(joined.buffer));
    }
    const run = spawnSync(evidentlyPython, [projectPath('test', 'bench', 'evidently_drift.py'), folder, String(rows), String(featureCount)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`Evidently failed: ${run.stderr.slice(-2000)}`);
    const evidently = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; version: string };
    lines.push(`  Evidently ${evidently.version} DataDriftPreset on the same data: ${evidently.seconds.toFixed(2)} s -> Vigil is ${(evidently.seconds / driftSeconds).toFixed(1)}x faster`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
} else {
  lines.push('  Evidently not importable (set VIGIL_EVIDENTLY_PYTHON to a Python with `pip install evidently`): no comparison');
}
lines.push(`  peak memory: RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, heap after each phase at most ${(peakHeapBytes / 1024 / 1024).toFixed(0)} MiB`, '');
process.stdout.write(lines.join('\n'));
