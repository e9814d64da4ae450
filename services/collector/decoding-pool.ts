import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../adapters/project/project-files.js';
import { type ForwardedLookup, WriterSchemaCatalog } from '../adapters/schema-registry/forwarded-schemas.js';
import type { SchemaSource } from '../adapters/schema-registry/schema-source.js';
import { WIRE_HEADER_BYTES, readSchemaId } from '../adapters/schema-registry/wire-format.js';
import type { EventKind } from '../core/events/event-types.js';
import type { EventLimits } from '../core/events/event-validation.js';
import type { RejectionReason } from './dead-letter.js';
import type { EventVerdict } from './event-verdicts.js';

/** One batch's values for a decoding thread: concatenated in one transferred buffer, with where each ends. */
export interface DecodingRequest {
  id: number;
  kind: EventKind;
  nowMs: number;
  limits: EventLimits;
  lookups: [number, ForwardedLookup][];
  values: ArrayBuffer;
  ends: Uint32Array;
}

/**
 * The verdicts, compactly: per value whether it was accepted and its schema id; the bodies that had
 * to be encoded anew; the refusals with their reason and detail.
 */
export type DecodingResponse =
  | { id: number; accepted: Uint8Array; schemaIds: Int32Array; encodedAnew: [number, Uint8Array][]; refusals: [number, string, string][] }
  | { id: number; failure: string };

/** Threads beside the consuming one: one per core left over, at most two (the insert and the broker need the rest). */
export function defaultDecodingThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

/**
 * A decoding thread's young generation, MiB. Decoding allocates an object graph per event that is
 * garbage a moment later; with V8's default (a 16 MiB semi-space) its scavenges kept four GC helper
 * threads nearly as busy as the consuming thread. At 192 MiB (64 MiB semi-spaces) the collector
 * ingested 10% more (bench:ingest, three interleaved pairs, medians 56,700 against 51,500 events/s)
 * for about 50 MiB more RSS.
 */
const DECODING_YOUNG_GENERATION_MB = 192;


interface Pending {
  values: readonly Buffer[];
  resolve: (verdicts: EventVerdict[]) => void;
  reject: (error: Error) => void;
}

interface DecodingThread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Guards, decodes and validates batches on worker threads. Registry lookups stay on this thread,
 * which owns the registry client (and, embedded, the registry itself): their outages reject as
 * before, for the collector to retry. A thread that fails fails its batches, which are then not
 * committed and come again, and is replaced by a new one for the next batch.
 */
export class DecodingPool {
  private readonly catalog: WriterSchemaCatalog;
  private readonly threads: (DecodingThread | null)[];
  private nextId = 0;
  /** Counts closes: a batch that began before one fails, whether or not it had reached a thread. */
  private closes = 0;

  constructor(schemaSource: SchemaSource, threadCount = defaultDecodingThreads()) {
    if (!Number.isInteger(threadCount) || threadCount < 1) throw new Error('a decoding pool needs at least one thread');
    this.catalog = new WriterSchemaCatalog(schemaSource);
    this.threads = Array.from({ length: threadCount }, () => null);
  }

  async judge(values: readonly Buffer[], kind: EventKind, nowMs: number, limits: EventLimits): Promise<EventVerdict[]> {
    if (values.length === 0) return [];
    const closesAtStart = this.closes;
    const schemaIds = new Set<number>();
    let bytes = 0;
    for (const value of values) {
      const schemaId = readSchemaId(value);
      if (schemaId !== null) schemaIds.add(schemaId);
      bytes += value.length;
    }
    const lookups = [...(await this.catalog.lookUp(schemaIds))];
    if (this.closes !== closesAtStart) throw new Error('the decoding threads were closed while the batch waited for its schemas');
    const all = new Uint8Array(new ArrayBuffer(bytes));
    const ends = new Uint32Array(values.length);
    let end = 0;
    values.forEach((value, index) => {
      all.set(value, end);
      end += value.length;
      ends[index] = end;
    });
    const id = ++this.nextId;
    const thread = this.leastBusy();
    const request: DecodingRequest = { id, kind, nowMs, limits, lookups, values: all.buffer, ends };
    return new Promise<EventVerdict[]>((resolve, reject) => {
      thread.pending.set(id, { values, resolve, reject });
      thread.worker.postMessage(request, [all.buffer, ends.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closes += 1;
    const running = this.threads.filter((thread): thread is DecodingThread => thread !== null);
    this.threads.fill(null);
    await Promise.all(running.map((thread) => thread.worker.terminate()));
  }

  private leastBusy(): DecodingThread {
    let chosen = -1;
    for (let index = 0; index < this.threads.length; index++) {
      const thread = this.threads[index];
      if (thread === null || thread === undefined) {
        chosen = index;
        break;
      }
      if (chosen === -1 || thread.pending.size < (this.threads[chosen] as DecodingThread).pending.size) chosen = index;
    }
    return this.threads[chosen] ?? this.start(chosen);
  }

  private start(slot: number): DecodingThread {
    const thread: DecodingThread = { worker: new Worker(compiledWorker(import.meta.url, 'decoding-worker'), { resourceLimits: { maxYoungGenerationSizeMb: DECODING_YOUNG_GENERATION_MB } }), pending: new Map() };
    // The pool's threads never keep a process alive on their own.
    thread.worker.unref();
    const fail = (error: Error): void => {
      if (this.threads[slot] === thread) this.threads[slot] = null;
      for (const pending of thread.pending.values()) pending.reject(error);
      thread.pending.clear();
    };
    thread.worker.on('message', (response: DecodingResponse) => {
      const pending = thread.pending.get(response.id);
      if (pending === undefined) return;
      thread.pending.delete(response.id);
      if ('failure' in response) pending.reject(new Error(`a decoding thread failed on a batch: ${response.failure}`));
      else pending.resolve(verdictsOf(response, pending.values));
    });
    thread.worker.on('error', (error) => fail(error));
    thread.worker.on('exit', (code) => fail(new Error(`a decoding thread exited with code ${code}`)));
    this.threads[slot] = thread;
    return thread;
  }
}

function verdictsOf(response: Extract<DecodingResponse, { accepted: Uint8Array }>, values: readonly Buffer[]): EventVerdict[] {
  const verdicts: EventVerdict[] = new Array(values.length);
  for (const [index, reason, detail] of response.refusals) verdicts[index] = { accepted: false, reason: reason as RejectionReason, detail };
  const encodedAnew = new Map(response.encodedAnew);
  values.forEach((value, index) => {
    if (response.accepted[index] !== 1) return;
    const encoded = encodedAnew.get(index);
    const readerBody = encoded === undefined ? value.subarray(WIRE_HEADER_BYTES) : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    verdicts[index] = { accepted: true, schemaId: response.schemaIds[index] as number, readerBody };
  });
  return verdicts;
}
