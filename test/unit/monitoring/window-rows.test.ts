import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../services/adapters/dataset/dataset-file.js';
import { LabelDelaySketch } from '../../../services/core/metrics/sketches/label-delay-sketch.js';
import type { WindowSketch } from '../../../services/core/metrics/sketches/window-sketch.js';
import type { ModelSpec } from '../../../services/core/model-spec/model-spec.js';
import { countSegmentGroups } from '../../../services/core/monitoring/volume-rows.js';
import { windowRows, type WindowRowsInput } from '../../../services/core/monitoring/window-rows.js';
import { datasetWindow, loadProfiledReportFixture, type ProfiledReportFixture } from '../../support/report-fixture.js';

/** The report fixture, its profile fitted on its reference. */
let fixture: ProfiledReportFixture;

beforeAll(async () => {
  fixture = await loadProfiledReportFixture();
});

const withMinimum = (minimumWindowSize: number): ModelSpec => ({ ...fixture.spec, monitoring: { ...fixture.spec.monitoring, minimumWindowSize } });

/** Rows of `fixture.current` as a window, its outcomes all in, leaving out the predictions of `silentSite`. */
function windowOf(rows: number, silentSite?: string): { input: WindowRowsInput['window']; sketchesBuilt: () => number } {
  const sites = fixture.current.categorical.get('site')!;
  const kept = Array.from({ length: rows }, (_, row) => row).filter((row) => sites[row] !== silentSite);
  const subset = (values: ArrayLike<string | null>): (string | null)[] => kept.map((row) => values[row] ?? null);
  let built = 0;
  const sketch = (): WindowSketch => {
    built += 1;
    // Rows are contiguous only without a silent site; the sketch is then the window's.
    return datasetWindow(fixture.profile, fixture.spec, fixture.current, 0, rows);
  };
  return {
    input: {
      predictions: kept.length,
      outcomes: kept.length,
      outcomesWithoutPrediction: 0,
      delays: delaysOf(kept.length),
      segmentGroups: countSegmentGroups(fixture.spec.segments, (segment) => subset(fixture.current.categorical.get(segment)!)),
      sketch,
    },
    sketchesBuilt: () => built,
  };
}

/** One delay per outcome, an hour or two. */
function delaysOf(count: number): LabelDelaySketch {
  const delays = new LabelDelaySketch();
  for (let index = 0; index < count; index++) delays.add(index % 2 === 0 ? 3_600_000 : 7_200_000);
  return delays;
}

const baselineOf = (dataset: Dataset, rows = dataset.scores.length) => ({
  rowCount: rows,
  segmentGroups: countSegmentGroups(fixture.spec.segments, (segment) => Array.from(dataset.categorical.get(segment)!).slice(0, rows)),
});

describe('the rows of one window', () => {
  it('keeps the volume rows of a window below min_window_size, so that a silent site shrinking it still alerts', () => {
    const sites = Array.from(fixture.current.categorical.get('site')!);
    const silentSite = [...new Set(sites)].sort()[0]!;
    const { input, sketchesBuilt } = windowOf(400, silentSite);
    const minimum = input.predictions + 1;
    const rows = windowRows({ spec: withMinimum(minimum), state: 'provisional', baseline: baselineOf(fixture.reference), window: input });
    expect(rows[0]).toMatchObject({ kind: 'quality', metric: 'sample_size', status: 'undefined', n_current: input.predictions, reason: `window has ${input.predictions} predictions; at least ${minimum} needed` });
    expect(rows.slice(1).every((row) => row.kind === 'volume')).toBe(true);
    expect(rows.slice(1).map((row) => `${row.segment}=${row.group}`).sort()).toEqual(
      [...fixture.spec.segments.flatMap((segment) => [...new Set(Array.from(fixture.reference.categorical.get(segment)!).map((value) => `${segment}=${value ?? '(missing)'}`))])].sort(),
    );
    expect(rows.find((row) => row.segment === 'site' && row.group === silentSite)).toMatchObject({ value: 0, status: 'alert' });
    expect(rows.filter((row) => row.status === 'alert').map((row) => row.group)).toEqual([silentSite]);
    expect(sketchesBuilt()).toBe(0);
  });

  it('has only the sample_size row when the baseline is below min_window_size: no share to expect a count from', () => {
    const { input, sketchesBuilt } = windowOf(400);
    const rows = windowRows({ spec: withMinimum(100), state: 'final', baseline: baselineOf(fixture.reference, 99), window: input });
    expect(rows).toEqual([expect.objectContaining({ metric: 'sample_size', status: 'undefined', reason: 'baseline has 99 predictions; at least 100 needed' })]);
    expect(sketchesBuilt()).toBe(0);
  });

  it('reports every metric, the labels and the volume of a window at min_window_size, its sketch built once', () => {
    const { input, sketchesBuilt } = windowOf(400);
    const rows = windowRows({ spec: withMinimum(400), state: 'final', baseline: baselineOf(fixture.reference), window: input });
    const kinds = new Set(rows.map((row) => row.kind));
    for (const kind of ['drift', 'performance', 'calibration', 'fairness', 'labels', 'volume'] as const) expect(kinds, kind).toContain(kind);
    expect(rows.some((row) => row.metric === 'sample_size')).toBe(false);
    expect(rows.find((row) => row.metric === 'label_coverage')).toMatchObject({ value: 1, n_current: 400 });
    expect(sketchesBuilt()).toBe(1);
  });
});
