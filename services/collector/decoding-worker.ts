import { parentPort } from 'node:worker_threads';
import { EventCodec } from '../adapters/schema-registry/event-codec.js';
import { ForwardedSchemaSource } from '../adapters/schema-registry/forwarded-schemas.js';
import { WIRE_HEADER_BYTES } from '../adapters/schema-registry/wire-format.js';
import type { DecodingRequest, DecodingResponse } from './decoding-pool.js';
import { judgeEvents } from './event-verdicts.js';

/**
 * A decoding thread of the collector (see DecodingPool): it guards, decodes and validates the
 * values of one batch at a time, so that the thread that consumes, inserts and serves /metrics
 * never holds the event loop for a batch's worth of Avro.
 */
const port = parentPort;
if (port === null) throw new Error('decoding-worker runs as a worker thread of the collector');
const source = new ForwardedSchemaSource();
const codec = new EventCodec(source);

port.on('message', (request: DecodingRequest) => {
  void answer(request).then(
    ({ response, transfer }) => port.postMessage(response, transfer),
    (error: unknown) => port.postMessage({ id: request.id, failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies DecodingResponse),
  );
});

async function answer(request: DecodingRequest): Promise<{ response: DecodingResponse; transfer: ArrayBuffer[] }> {
  source.offer(request.lookups);
  const all = Buffer.from(request.values);
  const values = Array.from({ length: request.ends.length }, (_, index) => all.subarray(index === 0 ? 0 : (request.ends[index - 1] as number), request.ends[index]));
  const verdicts = await judgeEvents(codec, values, request.kind, request.nowMs, request.limits);
  const accepted = new Uint8Array(verdicts.length);
  const schemaIds = new Int32Array(verdicts.length);
  const encodedAnew: [number, Uint8Array][] = [];
  const refusals: [number, string, string][] = [];
  verdicts.forEach((verdict, index) => {
    if (!verdict.accepted) {
      refusals.push([index, verdict.reason, verdict.detail]);
      return;
    }
    accepted[index] = 1;
    schemaIds[index] = verdict.schemaId;
    // A body stored as it came is the value after its wire header, which the consuming thread still holds.
    const value = values[index] as Buffer;
    const asItCame = verdict.readerBody.buffer === all.buffer && verdict.readerBody.byteOffset === value.byteOffset + WIRE_HEADER_BYTES && verdict.readerBody.length === value.length - WIRE_HEADER_BYTES;
    if (!asItCame) encodedAnew.push([index, new Uint8Array(verdict.readerBody)]);
  });
  return { response: { id: request.id, accepted, schemaIds, encodedAnew, refusals }, transfer: [accepted.buffer, schemaIds.buffer] };
}
