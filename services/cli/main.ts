#!/usr/bin/env node
// Each command's module is loaded when it runs: `vigil sql` never loads Kafka, a collector never loads the simulator.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseTargets } from '../config/vigil-config.js';
import { createLogger } from '../adapters/telemetry/logger.js';

const USAGE = `vigil — monitoring backend for clinical machine-learning models

usage:
  vigil run [--target=all|collector|simulator[,...]]   run services in this process (default: all)
  vigil sql "<query>"                                  run a read-only query against the configured storage
  vigil simulate [--rate=N] [--count=N] [--seed=N]     publish synthetic sepsis-risk traffic, then exit
  vigil report --spec model.yaml --reference ref.csv --current cur.csv [--format json|html] [--out FILE]
                                                       every metric, exactly, on two dataset files (CSV or NDJSON)
  vigil help

Configuration comes from environment variables (see README.md); flags override them.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const env = process.env;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { target: { type: 'string', default: 'all' } }, strict: true });
      const config = loadConfig(env);
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const { runCommand } = await import('./run-command.js');
      return runCommand(config, parseTargets(values.target), logger);
    }
    case 'sql': {
      const { positionals, values } = parseArgs({ args: rest, options: { format: { type: 'string', default: 'table' } }, allowPositionals: true, strict: true });
      if (positionals.length !== 1) throw new ConfigError('vigil sql', 'expects exactly one query argument, quoted');
      const { sqlCommand } = await import('./sql-command.js');
      return sqlCommand(loadConfig(env), positionals[0] ?? '', values.format === 'json' ? 'json' : 'table');
    }
    case 'simulate': {
      const { values } = parseArgs({
        args: rest,
        options: { rate: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' } },
        strict: true,
      });
      const config = loadConfig({
        ...env,
        ...(values.rate !== undefined ? { VIGIL_SIMULATOR_RATE: values.rate } : {}),
        ...(values.count !== undefined ? { VIGIL_SIMULATOR_COUNT: values.count } : {}),
        ...(values.seed !== undefined ? { VIGIL_SIMULATOR_SEED: values.seed } : {}),
      });
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const { simulateCommand } = await import('./simulate-command.js');
      return simulateCommand(config, logger);
    }
    case 'report': {
      const { values } = parseArgs({
        args: rest,
        options: { spec: { type: 'string' }, reference: { type: 'string' }, current: { type: 'string' }, format: { type: 'string', default: 'json' }, out: { type: 'string' } },
        strict: true,
      });
      for (const flag of ['spec', 'reference', 'current'] as const) if (!values[flag]) throw new ConfigError(`--${flag}`, 'is required');
      if (values.format !== 'json' && values.format !== 'html') throw new ConfigError('--format', `expected json or html, got "${values.format}"`);
      const { reportCommand } = await import('./report-command.js');
      return reportCommand({ spec: values.spec as string, reference: values.reference as string, current: values.current as string, format: values.format, out: values.out });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`vigil: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`vigil: configuration error: ${error.message}\n`);
    else if (error instanceof Error && (error.name === 'DatasetError' || error.name === 'ModelSpecError')) process.stderr.write(`vigil: ${error.message}\n`);
    else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) process.stderr.write(`vigil: ${error.message}\n`);
    else process.stderr.write(`vigil: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
