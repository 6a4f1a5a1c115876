import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { exitCodeOfUsageError, reportError } from './report-error.js';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode =
    error instanceof CommanderError ? exitCodeOfUsageError(error) : reportError(error, { json: process.argv.includes('--json') });
}
