/**
 * What a failed ClickHouse write means for the rows in it, decided from the error's code:
 * - `rejected`: ClickHouse refuses the data itself (a value it cannot parse, a type or constraint it
 *   violates). Sending the same rows again fails again, so the rows at fault must be found and set aside.
 * - `too-large`: memory pressure that a smaller insert relieves; the batch is split and tried again.
 * - `unavailable`: the server, the network or the table is not there right now (connection refused,
 *   timeout, too many parts, a detached table). Asking again later can succeed; nothing is the rows' fault.
 * Unknown codes count as `unavailable`: retrying an error that is the data's fault stalls a partition
 * visibly (readiness, a metric, the log), while dead-lettering an outage would lose good events.
 */
export type StorageFailureKind = 'rejected' | 'too-large' | 'unavailable';

/** ClickHouse error names (the `type` @clickhouse/client reports) that mean the inserted data is at fault. */
const DATA_REJECTION_TYPES = new Set([
  'ATTEMPT_TO_READ_AFTER_EOF',
  'CANNOT_CONVERT_TYPE',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'CANNOT_READ_ALL_DATA',
  'DUPLICATE_COLUMN',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'INCORRECT_DATA',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'NO_SUCH_COLUMN_IN_TABLE',
  'TOO_LARGE_ARRAY_SIZE',
  'TOO_LARGE_STRING_SIZE',
  'TYPE_MISMATCH',
  'UNEXPECTED_END_OF_FILE',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'VIOLATED_CONSTRAINT',
  'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO',
  'ARGUMENT_OUT_OF_BOUND',
]);

const MEMORY_PRESSURE_TYPES = new Set(['MEMORY_LIMIT_EXCEEDED']);

/** The `type` and `code` of a ClickHouse error, or null for anything else (network, timeouts). */
export function clickhouseErrorIdentity(error: unknown): { type: string; code: string } | null {
  if (typeof error !== 'object' || error === null || !('code' in error) || !('type' in error)) return null;
  const { type, code } = error as { type: unknown; code: unknown };
  if (typeof type !== 'string' || type === '') return null;
  return { type, code: String(code) };
}

export function classifyStorageError(error: unknown): StorageFailureKind {
  const identity = clickhouseErrorIdentity(error);
  if (identity === null) return 'unavailable';
  if (identity.type.startsWith('CANNOT_PARSE_') || DATA_REJECTION_TYPES.has(identity.type)) return 'rejected';
  if (MEMORY_PRESSURE_TYPES.has(identity.type)) return 'too-large';
  return 'unavailable';
}

/**
 * ClickHouse's own error messages can quote the rejected input, which may hold identifiers: only
 * its error type and code are ever shown. Network errors carry no event content.
 */
export function describeStorageError(error: unknown): string {
  const identity = clickhouseErrorIdentity(error);
  if (identity !== null) return `ClickHouse error ${identity.type} (code ${identity.code})`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name}: ${error.message}${cause}`.slice(0, 500);
  }
  return String(error).slice(0, 500);
}
