import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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
  const found = fromPasswdFile(name) ?? fromIdCommand(name);
  if (found) return found;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
    stdio: 'ignore',
  });
  const created = fromIdCommand(name);
  if (!created) throw new Error(`could not create the ${name} account the embedded PostgreSQL runs as`);
  return created;
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

/** A local account, as `useradd` writes it, without spawning a process (every command start pays this). */
function fromPasswdFile(name: string): OsUser | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const fields = passwd
    .split('\n')
    .find((line) => line.startsWith(`${name}:`))
    ?.split(':');
  if (!fields || fields.length < 4) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Any account the system knows, from a directory service too. */
function fromIdCommand(name: string): OsUser | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: 'pipe' }).trim());
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}
