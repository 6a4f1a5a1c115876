// Imports point only downward (DESIGN §1): errors ← txn ← db ← orm/adapters ← bank ←
// examples ← cli/http/workload. Every relative import in src/ is checked against that
// order, so a helper placed one layer too high fails here, not in a reader's head.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const src = new URL('../src/', import.meta.url).pathname;

/** Each top-level entry of src/ and its height; an import may reach its own height or below. */
const heights: Record<string, number> = {
  errors: 0,
  txn: 1,
  db: 2,
  config: 2, // resolves the connection: with db
  orm: 3,
  adapters: 3,
  bank: 4,
  examples: 5,
  cli: 6,
  http: 6,
  workload: 6,
  index: 7, // the package's entry re-exports every layer
};

/** The top-level entry of src/ a path belongs to: its folder, or a file's name without extension. */
const layerOf = (path: string) =>
  relative(src, path)
    .split('/')[0]!
    .replace(/\.[cm]?[jt]s$/, '');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : /\.[cm]?ts$/.test(entry.name) ? [join(dir, entry.name)] : [],
    ),
  );
  return nested.flat();
}

/** Every relative module specifier in a file: static imports and exports, and import(). */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
}

test('no file in src/ imports from a layer above its own', async () => {
  const files = await sourceFiles(src);
  assert.ok(files.length > 50, `found only ${files.length} source files`);
  const upward: string[] = [];
  let checked = 0;
  for (const file of files) {
    const from = layerOf(file);
    assert.ok(
      from in heights,
      `${relative(src, file)}: src/${from} has no place in the layer order; add it to DESIGN §1 and here`,
    );
    for (const specifier of relativeImports(await readFile(file, 'utf8'))) {
      const to = layerOf(resolve(dirname(file), specifier));
      assert.ok(to in heights, `${relative(src, file)} imports ${specifier}, outside the layers`);
      checked++;
      if (heights[to]! > heights[from]!) upward.push(`${relative(src, file)} (${from}) imports ${specifier} (${to})`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports checked: the pattern misses imports`);
  assert.deepEqual(upward, [], 'imports that point up the layers');
});
