// Generates the Prisma client for the Prisma example and tests (`npm run build`
// runs this first). Skipped when the client is newer than the schema and was
// made by the installed Prisma. Prisma's schema engine is pointed at a stub:
// `generate` does not use it, and Prisma would otherwise try to download it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const schema = `${root}prisma/schema.prisma`;
const output = `${root}src/examples/prisma-client`;
const stamp = `${output}/.generated-by`;
const require = createRequire(import.meta.url);
const { version } = require('prisma/package.json');

const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === version && statSync(stamp).mtimeMs >= statSync(schema).mtimeMs;
if (!fresh) {
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate', '--schema', schema], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: `${root}build/prisma-schema-engine-stub.mjs`,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
  writeFileSync(stamp, version);
}
