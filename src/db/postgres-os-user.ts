import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The operating-system account the embedded server runs as. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root. When roachbank runs as root this returns
 * the `postgres` account (creating it, as a system account, if it is missing);
 * otherwise undefined: the server runs as the current user.
 *
 * @example
 * const user = postgresOsUser(); // { name: 'postgres', uid: 101, gid: 104 } as root
 */
export function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = 'postgres';
  if (!idOf(name, '-u')) {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      stdio: 'ignore',
    });
  }
  const uid = Number(idOf(name, '-u'));
  const gid = Number(idOf(name, '-g'));
  return { name, uid, gid };
}

/**
 * Whether `user` may enter `path` and every directory above it, which it needs
 * to run a program there or to reach a data directory below it.
 *
 * @example
 * reachableBy(postgres, '/tmp/tmp.x1/clone') // false: mktemp -d makes mode 700 folders
 */
export function reachableBy(user: OsUser, path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    const { mode, uid, gid } = statSync(dir);
    const canEnter =
      (mode & 0o001) !== 0 || (uid === user.uid && (mode & 0o100) !== 0) || (gid === user.gid && (mode & 0o010) !== 0);
    if (!canEnter) return false;
    if (dirname(dir) === dir) return true;
  }
}

function idOf(name: string, flag: '-u' | '-g'): string | undefined {
  try {
    return execFileSync('id', [flag, name], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
