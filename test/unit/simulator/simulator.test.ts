import { describe, expect, it } from 'vitest';
import type { EventPublisher } from '../../../services/core/events/event-publisher.js';
import type { OutcomeEvent, PredictionEvent } from '../../../services/core/events/event-types.js';
import { runSimulation, type SimulationOptions, type SimulationProgress } from '../../../services/simulator/simulator.js';

interface PublishedBatch {
  at: number;
  predictions: readonly PredictionEvent[];
  outcomes: readonly OutcomeEvent[];
}

/** A wall clock that only moves when the simulator sleeps, so a long run takes no real time. */
class FakeTime {
  now = Date.UTC(2025, 3, 1, 9);
  readonly sleeps: number[] = [];
  readonly clock = (): number => this.now;
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.now += ms;
  };
}

class RecordingPublisher implements EventPublisher {
  readonly batches: PublishedBatch[] = [];

  constructor(private readonly clock: () => number) {}

  async publishPredictions(events: readonly PredictionEvent[]): Promise<void> {
    this.batches.push({ at: this.clock(), predictions: [...events], outcomes: [] });
  }

  async publishOutcomes(events: readonly OutcomeEvent[]): Promise<void> {
    this.batches.push({ at: this.clock(), predictions: [], outcomes: [...events] });
  }

  get predictions(): PredictionEvent[] {
    return this.batches.flatMap((batch) => batch.predictions);
  }

  get outcomes(): OutcomeEvent[] {
    return this.batches.flatMap((batch) => batch.outcomes);
  }
}

async function fakeRun(overrides: Partial<SimulationOptions> = {}): Promise<{ time: FakeTime; publisher: RecordingPublisher; totals: SimulationProgress }> {
  const time = new FakeTime();
  const publisher = new RecordingPublisher(time.clock);
  const totals = await runSimulation({
    publisher,
    predictionsPerSecond: 20,
    count: 500,
    seed: 17,
    clock: time.clock,
    sleep: time.sleep,
    ...overrides,
  });
  return { time, publisher, totals };
}

describe('runSimulation', () => {
  it('publishes exactly `count` predictions at the requested rate', async () => {
    const started = new FakeTime().now;
    const { time, publisher, totals } = await fakeRun();
    expect(totals.predictions).toBe(500);
    expect(publisher.predictions).toHaveLength(500);
    expect(new Set(publisher.predictions.map((event) => event.event_id)).size).toBe(500);
    expect(totals.outcomes).toBe(publisher.outcomes.length);
    expect(totals.outcomes).toBeGreaterThan(0);

    // 500 predictions at 20 per second: the last is due 24.95 s after the start.
    expect(time.now - started).toBeGreaterThanOrEqual(24_950);
    expect(time.now - started).toBeLessThan(24_950 + 100);
    let published = 0;
    for (const batch of publisher.batches) {
      published += batch.predictions.length;
      expect(published).toBeLessThanOrEqual(Math.floor(((batch.at - started) * 20) / 1000) + 1);
      expect(published).toBeGreaterThanOrEqual(Math.floor(((batch.at - started - 100) * 20) / 1000));
    }
  });

  it('waits in batches of about 100 ms and never spins', async () => {
    const { time } = await fakeRun();
    expect(time.sleeps.every((ms) => ms > 0 && ms <= 100)).toBe(true);
    expect(time.sleeps.length).toBeLessThanOrEqual(Math.ceil(24_950 / 100) + 1);
  });

  it('sleeps until the next event when the rate is low', async () => {
    const { time, publisher } = await fakeRun({ predictionsPerSecond: 0.5, count: 6 });
    expect(publisher.predictions).toHaveLength(6);
    expect(time.sleeps.filter((ms) => ms > 100).length).toBeGreaterThan(0);
    expect(time.sleeps.length).toBeLessThanOrEqual(6 + publisher.outcomes.length);
  });

  it('is deterministic for a seed', async () => {
    const first = await fakeRun({ count: 200 });
    const second = await fakeRun({ count: 200 });
    expect(second.publisher.predictions).toEqual(first.publisher.predictions);
    expect(second.publisher.outcomes).toEqual(first.publisher.outcomes);
  });

  it('stamps no event in the future and no outcome before its prediction was published', async () => {
    const { publisher } = await fakeRun({ flushOutcomes: true });
    const published = new Set<string>();
    for (const batch of publisher.batches) {
      for (const event of batch.predictions) {
        expect(event.occurred_at).toBeLessThanOrEqual(batch.at);
        published.add(event.prediction_id);
      }
      for (const event of batch.outcomes) {
        expect(event.observed_at).toBeLessThanOrEqual(batch.at);
        expect(published.has(event.prediction_id)).toBe(true);
      }
    }
  });

  it('flushes the pending outcomes at the end when asked', async () => {
    const kept = await fakeRun({ count: 300 });
    const flushed = await fakeRun({ count: 300, flushOutcomes: true });
    expect(kept.totals.outcomes).toBeLessThan(300);
    expect(flushed.totals).toEqual({ predictions: 300, outcomes: 300 });
  });

  it('reports the running totals after each batch', async () => {
    const updates: SimulationProgress[] = [];
    const { totals } = await fakeRun({ count: 100, onProgress: (progress) => updates.push(progress) });
    expect(updates.at(-1)).toEqual(totals);
    for (let index = 1; index < updates.length; index += 1) {
      expect(updates[index]?.predictions).toBeGreaterThanOrEqual(updates[index - 1]?.predictions ?? Number.NaN);
    }
  });

  it('stops when the signal aborts and resolves with what was sent', async () => {
    const stopping = new AbortController();
    const { publisher, totals } = await fakeRun({
      signal: stopping.signal,
      onProgress: (progress) => {
        if (progress.predictions >= 50) stopping.abort();
      },
    });
    expect(totals.predictions).toBeGreaterThanOrEqual(50);
    expect(totals.predictions).toBeLessThan(60);
    expect(totals).toEqual({ predictions: publisher.predictions.length, outcomes: publisher.outcomes.length });
  });

  it('sends nothing when aborted before it starts', async () => {
    const { publisher, totals } = await fakeRun({ signal: AbortSignal.abort() });
    expect(totals).toEqual({ predictions: 0, outcomes: 0 });
    expect(publisher.batches).toEqual([]);
  });

  it('interrupts a long wait on abort with the real timers', async () => {
    const publisher = new RecordingPublisher(Date.now);
    const stopping = new AbortController();
    const started = Date.now();
    const run = runSimulation({ publisher, predictionsPerSecond: 0.1, count: 5, signal: stopping.signal });
    setTimeout(() => stopping.abort(), 50);
    await expect(run).resolves.toEqual({ predictions: 1, outcomes: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('propagates publishing errors', async () => {
    const failing: EventPublisher = {
      publishPredictions: async () => {
        throw new Error('broker unavailable');
      },
      publishOutcomes: async () => undefined,
    };
    const time = new FakeTime();
    await expect(runSimulation({ publisher: failing, predictionsPerSecond: 10, count: 10, clock: time.clock, sleep: time.sleep })).rejects.toThrow('broker unavailable');
  });

  it('publishes nothing for a count of zero', async () => {
    const { publisher, totals } = await fakeRun({ count: 0 });
    expect(totals).toEqual({ predictions: 0, outcomes: 0 });
    expect(publisher.batches).toEqual([]);
  });
});
