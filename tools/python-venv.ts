// A Python virtual environment per pinned requirements file, under .data/venvs/,
// for the outside tools the tests and the benchmark run (Schemathesis, the
// Python tutorials). Never part of roachbank itself. Also a command, for CI:
//   node --import tsx tools/python-venv.ts tools/schemathesis/requirements.txt
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/**
 * The `bin` directory of a virtual environment holding exactly what
 * `requirements` pins; made with `python3 -m venv` and `pip install -r` the
 * first time, and again whenever the file changes.
 *
 * @example
 * const bin = pythonVenv('tools/schemathesis/requirements.txt'); // join(bin, 'st')
 */
export function pythonVenv(requirements: string): string {
  const file = resolve(root, requirements);
  const dir = join(root, '.data/venvs', basename(dirname(file)));
  const stamp = join(dir, 'installed-requirements.txt');
  const wanted = readFileSync(file, 'utf8');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return join(dir, 'bin');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  console.log(`python: a virtual environment in ${dir} from ${requirements}`);
  execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  execFileSync(join(dir, 'bin/pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', file], {
    stdio: 'inherit',
  });
  writeFileSync(stamp, wanted);
  return join(dir, 'bin');
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  for (const requirements of process.argv.slice(2)) pythonVenv(requirements);
}
