import { spawn } from 'node:child_process';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const bin = new URL('../../packages/roachbank-app/bin/roachbank.js', import.meta.url).pathname;

/**
 * Runs the built `roachbank` command as a user would, with `env` on top of a
 * clean environment (no DATABASE_URL unless given). `onStdout` sees output as it comes;
 * `options.bin` runs another copy of the CLI.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
  input?: string,
  options: { bin?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const { DATABASE_URL: _ignored, ...base } = process.env;
    const child = spawn(process.execPath, [options.bin ?? bin, ...args], {
      env: { ...base, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
