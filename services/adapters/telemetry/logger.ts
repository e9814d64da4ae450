import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const OMITTED_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One line per log entry for people at a terminal: `21:05:03 info  message key=value ...`. */
function textLines(output: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        const time = new Date(Number(entry.time)).toISOString().slice(11, 19);
        const level = (LEVEL_NAMES[Number(entry.level)] ?? 'info').padEnd(5);
        const fields = Object.entries(entry)
          .filter(([name]) => !OMITTED_FIELDS.has(name))
          .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        output.write(`${time} ${level} ${String(entry.msg ?? '')}${fields ? ' ' + fields : ''}\n`);
      }
      done();
    },
  });
}

export function createLogger(options: { level: string; format: 'json' | 'text' | 'auto' }): Logger {
  const base = { level: options.level, base: { service: 'vigil' } };
  const text = options.format === 'text' || (options.format === 'auto' && process.stderr.isTTY);
  return text ? pino(base, textLines(process.stderr)) : pino(base, pino.destination(2));
}
