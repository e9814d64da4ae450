#!/usr/bin/env node
// Each command's module is loaded when it runs: `vigil sql` never loads Kafka, a collector never loads the simulator.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, EXTRA_TARGETS, SERVICE_TARGETS, loadConfig, parseTargets, type Target } from '../config/vigil-config.js';
import { createLogger } from '../adapters/telemetry/logger.js';
import { packageVersion } from '../adapters/project/project-files.js';
import { SCENARIO_NAMES, type ScenarioName } from '../simulator/scenarios.js';
import { parseUtcTime } from '../core/time/utc-time.js';

/** The exit code of a command line that names an unknown command or option, or gives an option a bad value. */
const USAGE_ERROR = 2;

interface RunOptions {
  target: Target[];
}

interface SqlOptions {
  format: 'table' | 'json';
}

interface SimulateOptions {
  rate?: number;
  count?: number;
  seed?: number;
  scenario?: ScenarioName;
  scenarioHours?: number;
}

interface ExportOptions {
  model: string;
  from: number;
  to: number;
  format?: 'csv' | 'ndjson';
  out?: string;
}

interface ReportOptions {
  spec: string;
  reference: string;
  current: string;
  format: 'json' | 'html';
  out?: string;
}

function wholeNumberFrom(minimum: number, maximum: number): (raw: string) => number {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError('Expected a whole number.');
    const value = Number(raw);
    if (value < minimum || value > maximum) throw new InvalidArgumentError(`Expected a whole number from ${minimum} to ${maximum}.`);
    return value;
  };
}

function positiveNumber(raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('Expected a positive number.');
  return value;
}

function utcTime(raw: string): number {
  const parsed = parseUtcTime(raw);
  if (!parsed.ok) throw new InvalidArgumentError(`${parsed.problem}.`);
  return parsed.time;
}

function targetList(raw: string): Target[] {
  try {
    return parseTargets(raw);
  } catch (error) {
    // parseTargets' message starts with the flag's name, which commander's message already gives.
    if (error instanceof ConfigError) throw new InvalidArgumentError(error.message.slice(`${error.variable}: `.length));
    throw error;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const env = process.env;
  let exitCode = 0;
  const program = new Command('vigil')
    .description('Monitoring backend for clinical machine-learning models.')
    .version(packageVersion())
    // Throw instead of exiting, so that usage errors exit with USAGE_ERROR rather than commander's 1.
    .exitOverride()
    // commander starts each message with "error: "; Vigil's own errors start with its name.
    .configureOutput({ outputError: (message, write) => write(message.replace(/^error: /, 'vigil: ')) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nConfiguration comes from environment variables (see README.md); flags override them.');

  program
    .command('run')
    .description('run services in this process')
    .addOption(
      new Option('--target <targets>', `comma-separated targets to run: ${['all', ...SERVICE_TARGETS, ...EXTRA_TARGETS].join(', ')}`)
        .argParser(targetList)
        .default(parseTargets('all'), 'all'),
    )
    .action(async (options: RunOptions) => {
      const config = loadConfig(env);
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const { runCommand } = await import('./run-command.js');
      exitCode = await runCommand(config, options.target, logger);
    });

  program
    .command('sql')
    .description('run one read-only query against the configured storage')
    .argument('<query>', 'the SQL statement, quoted')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (query: string, options: SqlOptions) => {
      const { sqlCommand } = await import('./sql-command.js');
      exitCode = await sqlCommand(loadConfig(env), query, options.format);
    });

  // Limits match those loadConfig puts on the VIGIL_SIMULATOR_* variables these flags replace.
  program
    .command('simulate')
    .description('publish synthetic sepsis-risk traffic to Kafka, then exit')
    .addOption(new Option('--rate <per-second>', 'predictions per second (VIGIL_SIMULATOR_RATE)').argParser(positiveNumber))
    .addOption(new Option('--count <number>', 'predictions to publish (VIGIL_SIMULATOR_COUNT)').argParser(wholeNumberFrom(1, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--seed <number>', 'random seed, for repeatable traffic (VIGIL_SIMULATOR_SEED)').argParser(wholeNumberFrom(0, 2 ** 31 - 1)))
    .addOption(new Option('--scenario <name>', 'clinical drift scenario to play after 48 simulated hours (VIGIL_SIMULATOR_SCENARIO)').choices(SCENARIO_NAMES))
    .addOption(new Option('--scenario-hours <hours>', "simulated hours the scenario's change lasts; unset, to the end (VIGIL_SIMULATOR_SCENARIO_HOURS)").argParser(positiveNumber))
    .action(async (options: SimulateOptions) => {
      const config = loadConfig({
        ...env,
        ...(options.rate !== undefined ? { VIGIL_SIMULATOR_RATE: String(options.rate) } : {}),
        ...(options.count !== undefined ? { VIGIL_SIMULATOR_COUNT: String(options.count) } : {}),
        ...(options.seed !== undefined ? { VIGIL_SIMULATOR_SEED: String(options.seed) } : {}),
        ...(options.scenario !== undefined ? { VIGIL_SIMULATOR_SCENARIO: options.scenario } : {}),
        ...(options.scenarioHours !== undefined ? { VIGIL_SIMULATOR_SCENARIO_HOURS: String(options.scenarioHours) } : {}),
      });
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const { simulateCommand } = await import('./simulate-command.js');
      exitCode = await simulateCommand(config, logger);
    });

  program
    .command('report')
    .description('every metric, exactly, on two dataset files (CSV or NDJSON)')
    .requiredOption('--spec <file>', 'model spec (YAML)')
    .requiredOption('--reference <file>', 'reference dataset')
    .requiredOption('--current <file>', 'current dataset')
    .addOption(new Option('--format <format>', 'report format').choices(['json', 'html']).default('json'))
    .option('--out <file>', 'write the report to this file instead of standard output')
    .action(async (options: ReportOptions) => {
      const { reportCommand } = await import('./report-command.js');
      exitCode = await reportCommand({ spec: options.spec, reference: options.reference, current: options.current, format: options.format, out: options.out });
    });

  program
    .command('export')
    .description("a model's predictions of a time range as a dataset file, as the monitor's windows count them")
    .requiredOption('--model <id>', 'model id, as its specification in the models folder (VIGIL_MODELS_DIR) names it')
    .addOption(new Option('--from <time>', 'first prediction time included: an ISO-8601 date or UTC time, such as 2026-11-30T00:00:00Z').argParser(utcTime).makeOptionMandatory())
    .addOption(new Option('--to <time>', 'prediction time excluded, as --from').argParser(utcTime).makeOptionMandatory())
    .addOption(new Option('--format <format>', 'file format (default: ndjson for an --out file ending .ndjson or .jsonl, else csv)').choices(['csv', 'ndjson']))
    .option('--out <file>', 'write the rows to this file instead of standard output')
    .addHelpText(
      'after',
      [
        '',
        'Writes one row per prediction with occurred_at in [--from, --to), counted as the monitor counts',
        "a window's: each prediction_id once (its earliest stored copy), predictions with a wrongly typed",
        'feature or a score outside [0, 1] left out, the label of the latest outcome when it is 0 or 1.',
        "Columns: prediction_id, occurred_at (UTC), the spec's features, score, label and segments, as",
        'vigil report reads them; a missing value is an empty cell (CSV) or null (NDJSON). Entity keys',
        'are never exported. Rows are streamed in occurred_at order, so memory does not grow with them.',
        '',
        'Recompute a window offline on its rows and its baseline\'s (here 14 days ending 2 days before it):',
        '  vigil export --model sepsis-risk --from 2026-11-30 --to 2026-12-01 --out window.csv',
        '  vigil export --model sepsis-risk --from 2026-11-14 --to 2026-11-28 --out baseline.csv',
        '  vigil report --spec infra/models/sepsis-risk.model.yaml --reference baseline.csv --current window.csv',
      ].join('\n'),
    )
    .action(async (options: ExportOptions) => {
      const { exportCommand } = await import('./export-command.js');
      exitCode = await exportCommand(loadConfig(env), { model: options.model, from: options.from, to: options.to, format: options.format, out: options.out });
    });

  const models = program.command('models').description('model specifications kept as code, one file per model');
  models
    .command('check')
    .description('validate every model specification in a folder, for CI')
    .argument('[dir]', 'folder of *.model.yaml, *.model.yml and *.model.json files (default: VIGIL_MODELS_DIR, else infra/models)')
    .addHelpText(
      'after',
      [
        '',
        'Checks each specification against schemas/model-spec.schema.json and the rules the schema cannot',
        'express, that every reference baseline file can be read, that model ids are unique across the',
        'folder, and that the folder holds at least one specification. Prints every problem on its own',
        'line as <file>: <path>: <problem> and exits 1; prints one summary line and exits 0 when all are',
        'valid.',
      ].join('\n'),
    )
    .action(async (folder: string | undefined) => {
      const { modelsCheckCommand } = await import('./models-command.js');
      exitCode = await modelsCheckCommand(folder ?? loadConfig(env).modelsDirectory);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // Help and version end with exit code 0; every other CommanderError is a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_ERROR;
    throw error;
  }
  return exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`vigil: configuration error: ${error.message}\n`);
    else if (error instanceof Error && (error.name === 'DatasetError' || error.name === 'ModelSpecError')) process.stderr.write(`vigil: ${error.message}\n`);
    else process.stderr.write(`vigil: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
