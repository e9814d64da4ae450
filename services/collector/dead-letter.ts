import type { ConsumedRecord, OutgoingRecord } from '../adapters/transport/record-transport.js';
import type { DecodeFailureReason } from '../adapters/schema-registry/event-codec.js';

/** Every reason a record can be refused; each is a value of the `reason` metric label. */
export type RejectionReason = DecodeFailureReason | 'empty-value' | 'payload-too-large' | 'invalid-event' | 'storage-rejected';

/** Header names on a dead letter; the value and key are the original bytes, untouched. */
export const DEAD_LETTER_HEADERS = {
  sourceTopic: 'vigil.source.topic',
  sourcePartition: 'vigil.source.partition',
  sourceOffset: 'vigil.source.offset',
  reason: 'vigil.reason',
  detail: 'vigil.detail',
  rejectedAt: 'vigil.rejected.at',
} as const;

export function deadLetterFor(record: ConsumedRecord, reason: RejectionReason, detail: string, rejectedAtMs: number): OutgoingRecord {
  return {
    key: record.key,
    value: record.value ?? Buffer.alloc(0),
    headers: {
      [DEAD_LETTER_HEADERS.sourceTopic]: record.topic,
      [DEAD_LETTER_HEADERS.sourcePartition]: String(record.partition),
      [DEAD_LETTER_HEADERS.sourceOffset]: record.offset,
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.detail]: detail,
      [DEAD_LETTER_HEADERS.rejectedAt]: new Date(rejectedAtMs).toISOString(),
    },
  };
}
