// Bundles the CLI (`npm run build` runs this after tsc): Node 20 loads a few
// files much faster than sixty separate modules, and start-up is what a user
// of the CLI feels (BENCHMARKS.md, start-up). Packages stay external; each
// lazily loaded subcommand stays its own chunk. The output sits two levels
// below the project root, like dist/cli, so paths built from import.meta.url
// (ui/, the package's .data/) point where they do unbundled. The library,
// roachbank, is a package like any other here: external, loaded from its own
// dist (its migrations/ beside it). The package's own tsconfig is named because
// the repository's maps 'roachbank' to the library's sources for tsc and tsx.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/cli-bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true }); // chunk names change with their content
await build({
  entryPoints: [new URL('../src/cli/main.ts', import.meta.url).pathname],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: new URL('../tsconfig.build.json', import.meta.url).pathname,
  sourcemap: true,
  outdir,
  logLevel: 'warning',
});
