import { type ChildProcess, spawn } from 'node:child_process';

export interface ServeProcess {
  readonly child: ChildProcess;
  /** http://host:port, from the line serve prints once it listens. */
  readonly base: string;
  /** Its exit code, once it exits. */
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the built `roachbank serve --port 0` as a user would (`args` go before
 * `serve`, e.g. `--flavor orm`; `serveArgs` after it, e.g. `--batch off`) and
 * resolves once it listens.
 */
export async function startServeProcess(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  serveArgs: string[] = [],
): Promise<ServeProcess> {
  const bin = new URL('../../packages/roachbank-app/bin/roachbank.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, ...args, 'serve', '--port', '0', ...serveArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /serving (http:\/\/\S+) /.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
  });
  return {
    child,
    base,
    exited,
    stderr: () => stderr,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
