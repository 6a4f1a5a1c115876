#!/usr/bin/env node
// `roachbank`, the command, as the library's bin. The command itself lives in the
// application package, roachbank-app (CLI, HTTP server, console, workload, the
// embedded PostgreSQL), which the library does not depend on: a service that
// imports the retry core installs none of that. So this launcher, on Node's
// built-ins alone, runs roachbank-app where it is installed (the user's project,
// or beside this package, as when roachbank-app brought the library), and
// otherwise has npm fetch roachbank-app at the library's own version, as
// `npx roachbank-app@<version>` would. `npx roachbank example hello` so works
// for everyone.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const app = 'roachbank-app';

/** The application's bin script, found from the working directory, then from here; undefined when neither has it. */
function installedApp() {
  for (const from of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      const manifestPath = createRequire(from).resolve(`${app}/package.json`);
      const bin = JSON.parse(readFileSync(manifestPath, 'utf8')).bin?.[app];
      if (bin) return join(dirname(manifestPath), bin);
    } catch {
      // not resolvable from there
    }
  }
  return undefined;
}

const bin = installedApp();
if (bin) {
  await import(pathToFileURL(bin).href);
} else {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  console.error(
    `roachbank: the command is the ${app} package; running ${app}@${version} through npm (npm install ${app} to keep it)`,
  );
  // Under npx or an npm script, npm_execpath is the npm that is running (under yarn
  // or pnpm it is theirs, whose flags differ); otherwise the npm on PATH.
  const npm = process.env.npm_execpath;
  const [command, prefix] = npm && /npm-cli\.js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
  const args = [...prefix, 'exec', '--yes', `--package=${app}@${version}`, '--', app, ...process.argv.slice(2)];
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' && command === 'npm' });
  if (result.error) {
    console.error(`roachbank: could not run npm (${result.error.message}); install ${app} and run it: npx ${app}`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
