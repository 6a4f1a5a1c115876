import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Flavor } from 'roachbank';
import { RoachbankError } from 'roachbank';
import type { WorkloadOptions } from '../workload/run-workload.js';
import { batchOption, durationOption, wholeNumber } from './arguments.js';
import { globalOptions } from './global-options.js';
import { toJson } from './output.js';
import { withBank } from './with-bank.js';

interface CommandOptions {
  accounts: number;
  concurrency: number;
  duration?: number;
  transfers?: number;
  hot?: number;
  seed?: number;
  readers: number;
  holds: number;
  currencies: number;
  report?: string;
  batch: 'on' | 'off';
}

/** `roachbank workload`: like `cockroach workload bank`, with the audit at the end. */
export function addWorkloadCommand(program: Command): void {
  program
    .command('workload')
    .description('transfers from concurrent workers, latency percentiles, then the invariant check (exit 1 if it fails)')
    .option('--accounts <n>', 'accounts to open for the run', wholeNumber('accounts', 2, 10_000_000), 1000)
    .option('--concurrency <n>', 'transfer workers', wholeNumber('concurrency', 1, 1024), 8)
    .option(
      '--duration <time>',
      'how long to run: 30s, 2m, … (default 30s without --transfers)',
      durationOption('--duration', 7 * 24 * 3_600_000),
    )
    .option('--transfers <n>', 'how many transfers to run', wholeNumber('transfers', 1, 1_000_000_000))
    .option('--hot <k>', 'every transfer between two of the first k accounts', wholeNumber('hot', 2, 10_000_000))
    .option('--seed <n>', 'seed of the random choices (default: random, printed)', wholeNumber('seed', 0, 2 ** 31 - 1))
    .option(
      '--readers <n>',
      'workers that read all balances in one snapshot and check the total',
      wholeNumber('readers', 0, 64),
      0,
    )
    .option(
      '--holds <percent>',
      'that share of operations are card flows: a hold, then a post (some refunded), a void or an expiry',
      wholeNumber('holds', 0, 100),
      0,
    )
    .option(
      '--currencies <n>',
      'spread the accounts over n currencies (USD, EUR, JPY, …); movements stay inside one, and the audit checks each',
      wholeNumber('currencies', 1, 1000),
      1,
    )
    .option('--report <file.html>', 'write a self-contained HTML report with charts')
    .addOption(batchOption())
    .action(async (options: CommandOptions, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const settings = workloadSettings(options);
      const batched = flavor === 'pg' && options.batch === 'on';
      process.stderr.write(
        `workload: flavor ${flavor}${flavor === 'pg' ? `, group commit ${options.batch}` : ''}, seed ${settings.seed} (repeat with --seed ${settings.seed})\n`,
      );
      const summary = await runWithProgress(flavor, settings, batched, options.concurrency + options.readers + 2);
      if (options.report) {
        const { workloadReport } = await import('../workload/html-report.js');
        await writeFile(options.report, workloadReport(summary, { flavor, ...settings }));
      }
      const { intervals: _, ...result } = summary;
      if (json) process.stdout.write(`${toJson({ ...result, seed: settings.seed, flavor, batch: batched ? 'on' : 'off' })}\n`);
      else process.stdout.write(`${(await import('../workload/progress-line.js')).summaryLines(summary).join('\n')}\n`);
      if (!summary.invariant.ok) process.exitCode = 1;
    });
}

/** The run's settings from the command's options: a random seed when none is given, 30 s without --transfers. */
function workloadSettings(options: CommandOptions): WorkloadOptions {
  if (options.hot !== undefined && options.hot > options.accounts) {
    throw new RoachbankError('INVALID_ARGUMENT', `hot (${options.hot}) cannot be more than accounts (${options.accounts})`);
  }
  const hot = options.hot ?? options.accounts;
  if (hot < 2 * options.currencies) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `currencies (${options.currencies}) needs two ${options.hot === undefined ? '' : 'hot '}accounts in each: at least ${2 * options.currencies}, got ${hot}`,
    );
  }
  return {
    accounts: options.accounts,
    concurrency: options.concurrency,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
    readers: options.readers,
    holdsPercent: options.holds,
    currencies: options.currencies,
    ...(options.transfers === undefined ? { durationMs: options.duration ?? 30_000 } : { transfers: options.transfers }),
    ...(options.transfers !== undefined && options.duration !== undefined ? { durationMs: options.duration } : {}),
    ...(options.hot === undefined ? {} : { hot: options.hot }),
  };
}

/**
 * Runs the workload on a bank of its own, counting what the bank's hooks report,
 * with a setup bar (1,000 accounts or more) and one progress line a second on stderr.
 */
async function runWithProgress(flavor: Flavor, settings: WorkloadOptions, batched: boolean, maxConnections: number) {
  // Loaded here, not at start-up: only this command needs them.
  const [{ SingleBar }, { progressHeader, progressLine }, { runWorkload }] = await Promise.all([
    import('cli-progress'),
    import('../workload/progress-line.js'),
    import('../workload/run-workload.js'),
  ]);
  const stderr = (line: string) => process.stderr.write(`${line}\n`);
  const counters = { retries: 0, ambiguous: 0, batches: 0, movements: 0 };
  const bar =
    settings.accounts >= 1000
      ? new SingleBar({
          stream: process.stderr,
          format: 'setup |{bar}| {value}/{total} accounts',
          noTTYOutput: true,
          notTTYSchedule: 1000,
        })
      : undefined;
  let headerShown = false;
  return withBank(
    flavor,
    (bank) => {
      bar?.start(settings.accounts, 0);
      return runWorkload(bank, settings, {
        onSetupProgress: (done) => bar?.update(done),
        onInterval: (interval) => {
          if (bar?.isActive) bar.stop();
          if (!headerShown) stderr(progressHeader());
          headerShown = true;
          stderr(progressLine(interval));
        },
        retries: () => counters.retries,
        ambiguous: () => counters.ambiguous,
        batches: () => counters,
      }).finally(() => bar?.isActive && bar.stop());
    },
    {
      bank: {
        onRetry: () => counters.retries++,
        onAmbiguous: () => counters.ambiguous++,
        onBatch: (size) => {
          counters.batches++;
          counters.movements += size;
        },
        batch: batched ? {} : false,
      },
      maxConnections,
    },
  );
}
