import { describe, expect, it } from 'vitest';
import { fitReferenceProfile, WindowSketch } from '../../../services/core/metrics/sketches/window-sketch.js';
import { poolRareGroups, POOLED_GROUP, tooSmallRow, trailingBaselineRange, windowStartOf, windowState } from '../../../services/core/monitoring/window-plan.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('window plan', () => {
  it('aligns windows to whole multiples of their size since the epoch', () => {
    expect(windowStartOf(Date.UTC(2026, 0, 5, 13, 59, 59, 999), HOUR)).toBe(Date.UTC(2026, 0, 5, 13));
    expect(windowStartOf(Date.UTC(2026, 0, 5, 13), DAY)).toBe(Date.UTC(2026, 0, 5));
  });

  it('makes a window final once the watermark has passed its end by the label horizon', () => {
    expect(windowState(10 * HOUR, 12 * HOUR - 1, 2 * HOUR)).toBe('provisional');
    expect(windowState(10 * HOUR, 12 * HOUR, 2 * HOUR)).toBe('final');
  });

  it('gives every window of a day one trailing baseline, ending the offset before the day starts', () => {
    const day = Date.UTC(2026, 0, 5);
    const range = { from: day - 2 * DAY - 14 * DAY, to: day - 2 * DAY };
    expect(trailingBaselineRange(day, 14 * DAY, 2 * DAY)).toEqual(range);
    expect(trailingBaselineRange(day + 23 * HOUR, 14 * DAY, 2 * DAY)).toEqual(range);
  });

  it('says which side is too small and by how much', () => {
    expect(tooSmallRow({ side: 'baseline', predictions: 120, needed: 100, baselinePredictions: 1 })).toMatchObject({
      kind: 'quality', metric: 'sample_size', status: 'undefined', value: null, threshold: 100, n_current: 120, n_reference: 1, reason: 'baseline has 1 prediction; at least 100 needed',
    });
    expect(tooSmallRow({ side: 'window', predictions: 7, needed: 100, baselinePredictions: 500 }).reason).toBe('window has 7 predictions; at least 100 needed');
  });

  it('pools every group beyond the most frequent ones into other, keeping the counts', () => {
    const profile = fitReferenceProfile({ features: [], scoreColumn: 'score', segments: ['site'] }, { numeric: () => [], categorical: () => [], scores: [0.1, 0.5, 0.9] });
    const window = new WindowSketch(profile);
    const sites = ['a', 'a', 'a', 'b', 'b', 'c', 'd'];
    sites.forEach((site, index) => window.addOutcome({ score: 0.5, label: (index % 2) as 0 | 1, segments: { site } }));
    poolRareGroups(window, 2);
    const groups = window.groups.get('site')!;
    expect([...groups.keys()].sort()).toEqual(['a', 'b', POOLED_GROUP]);
    const pooled = groups.get(POOLED_GROUP)!;
    expect(pooled.positiveCount + pooled.negativeCount).toBe(2);
  });
});
