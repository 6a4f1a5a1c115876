// Bundles the CLI (`npm run build` runs this after tsc): Node 20 loads a few
// files much faster than sixty separate modules, and start-up is what a user
// of the CLI feels (BENCHMARKS.md, start-up). The library, roachbank, is bundled
// in with the application's own code: `import … from 'roachbank'` would
// otherwise load every one of its modules for `roachbank --help`. Its sources
// come through the repository's tsconfig paths, so source maps point at them;
// the one file the library reads at run time, its migrations/, it finds by its
// package name, in the installed roachbank. Every other package stays external;
// each lazily loaded subcommand stays its own chunk. The output sits two levels
// below the package root, like dist/cli, so paths built from import.meta.url
// (ui/, the package's .data/) point where they do unbundled.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// External: every package the application or the library names, so that only
// the two packages' own code is bundled and every dependency loads from
// node_modules. The bundle imports the library's dependencies from the
// application's place, so the application declares them too (its package.json).
const manifestOf = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const external = [manifestOf('../package.json'), manifestOf('../../roachbank/package.json')]
  .flatMap((manifest) => Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }))
  .filter((name) => name !== 'roachbank')
  .flatMap((name) => [name, `${name}/*`]);

const outdir = new URL('../dist/cli-bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true }); // chunk names change with their content
await build({
  entryPoints: [new URL('../src/cli/main.ts', import.meta.url).pathname],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  tsconfig: new URL('../../../tsconfig.json', import.meta.url).pathname,
  sourcemap: true,
  outdir,
  logLevel: 'warning',
});
