import { spawnSync } from 'node:child_process';

/** Wall time of one run of a command, launch to exit, in ms, and what it printed; throws when it fails. */
export function timeCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}
