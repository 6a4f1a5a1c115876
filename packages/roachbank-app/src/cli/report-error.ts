import type { CommanderError } from 'commander';
import { errorCatalogue, RoachbankError } from 'roachbank';

/**
 * Prints an error as one line on stderr (`{"error":{"code","message"}}` with
 * `--json`) and returns the exit status of its code (DESIGN §3); errors without
 * a code exit 1. A stack trace only with `ROACHBANK_DEBUG=1`. Whatever the
 * message, the password of `DATABASE_URL` is never printed.
 *
 * @example
 * process.exitCode = reportError(error, { json: false });
 */
export function reportError(error: unknown, options: { json: boolean }): number {
  const code = error instanceof RoachbankError ? error.code : undefined;
  const message = scrubSecrets(error instanceof Error ? error.message : String(error));
  if (options.json) {
    process.stderr.write(`${JSON.stringify({ error: { code: code ?? 'INTERNAL', message } })}\n`);
  } else {
    process.stderr.write(`roachbank: ${code ? `${code}: ` : ''}${message}\n`);
  }
  if (process.env.ROACHBANK_DEBUG === '1' && error instanceof Error && error.stack) {
    process.stderr.write(`${scrubSecrets(error.stack)}\n`);
  }
  return code ? (errorCatalogue[code].exitCode ?? 1) : 1;
}

/**
 * Prints a usage error from the argument parser (unknown command or option,
 * missing argument, bad choice) the way `reportError` prints INVALID_ARGUMENT:
 * one line, or JSON with `--json`.
 */
export function reportUsageError(message: string): void {
  const text = message.replace(/^error: /, '').trim();
  if (process.argv.includes('--json')) {
    process.stderr.write(`${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: text } })}\n`);
  } else {
    process.stderr.write(`roachbank: INVALID_ARGUMENT: ${text} (see roachbank --help)\n`);
  }
}

/** The exit status for a commander parse error: bad usage is INVALID_ARGUMENT; help and version are success. */
export function exitCodeOfUsageError(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
    return 0;
  }
  return errorCatalogue.INVALID_ARGUMENT.exitCode ?? 2;
}

function scrubSecrets(text: string): string {
  const url = process.env.DATABASE_URL;
  if (!url) return text;
  let secret: string | undefined;
  try {
    secret = decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return text.split(url).join('<DATABASE_URL>');
  }
  let scrubbed = text.split(url).join('<DATABASE_URL>');
  if (secret) scrubbed = scrubbed.split(secret).join('*****');
  return scrubbed;
}
