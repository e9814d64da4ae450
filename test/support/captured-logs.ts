import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A JSON logger whose lines are kept, parsed, for a test to read. */
export function capturingLogger(level: pino.Level = 'info'): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, destination), lines };
}
