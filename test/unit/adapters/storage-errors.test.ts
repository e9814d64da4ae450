import { describe, expect, it } from 'vitest';
import { classifyStorageError, describeStorageError } from '../../../services/adapters/clickhouse/storage-errors.js';

/** The shape @clickhouse/client gives a server's error, and chDB's connection gives the engine's. */
const clickhouseError = (type: string, code: number, message = `${type} happened`): Error => Object.assign(new Error(message), { type, code: String(code) });

describe('classifying ClickHouse write failures', () => {
  it.each([
    ['VIOLATED_CONSTRAINT', 469],
    ['CANNOT_PARSE_INPUT_ASSERTION_FAILED', 27],
    ['CANNOT_PARSE_TEXT', 6],
    ['TYPE_MISMATCH', 53],
    ['INCORRECT_DATA', 117],
    ['VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE', 321],
  ])('%s is the data at fault: the rows are set aside', (type, code) => {
    expect(classifyStorageError(clickhouseError(type, code))).toBe('rejected');
  });

  it('memory pressure asks for a smaller insert', () => {
    expect(classifyStorageError(clickhouseError('MEMORY_LIMIT_EXCEEDED', 241))).toBe('too-large');
  });

  it.each([
    ['TOO_MANY_PARTS', 252],
    ['TIMEOUT_EXCEEDED', 159],
    ['UNKNOWN_TABLE', 60],
    ['TOO_MANY_SIMULTANEOUS_QUERIES', 202],
    ['TABLE_IS_READ_ONLY', 242],
    ['SOME_CODE_THIS_BUILD_DOES_NOT_KNOW', 99999],
  ])('%s is an outage: retried, never dead-lettered', (type, code) => {
    expect(classifyStorageError(clickhouseError(type, code))).toBe('unavailable');
  });

  it('network errors and anything that is not a ClickHouse error are outages', () => {
    expect(classifyStorageError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))).toBe('unavailable');
    expect(classifyStorageError(new Error('Timeout error.'))).toBe('unavailable');
    expect(classifyStorageError('a string')).toBe('unavailable');
    expect(classifyStorageError(null)).toBe('unavailable');
  });

  it('describes a ClickHouse error by type and code only, since its message can quote the input', () => {
    const description = describeStorageError(clickhouseError('VIOLATED_CONSTRAINT', 469, "Column values: entity_key = 'MRN-0048151'"));
    expect(description).toBe('ClickHouse error VIOLATED_CONSTRAINT (code 469)');
    expect(description).not.toContain('MRN');
  });
});
