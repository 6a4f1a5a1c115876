import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from './support/run-cli.js';

describe('the roachbank command line', () => {
  for (const args of [
    [],
    ['db'],
    ['db', 'init'],
    ['db', 'status'],
    ['example'],
    ['accounts'],
    ['accounts', 'create'],
    ['accounts', 'list'],
    ['accounts', 'show'],
    ['accounts', 'close'],
    ['deposit'],
    ['withdraw'],
    ['transfer'],
    ['history'],
    ['verify'],
    ['serve'],
  ]) {
    test(`roachbank ${args.join(' ')} --help prints usage and exits 0`, async () => {
      const result = await runCli([...args, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: roachbank${args.length ? ` ${args.join(' ')}` : ''}`));
    });
  }

  for (const [args, message] of [
    [['no-such-command'], /unknown command 'no-such-command'/],
    [['db', 'status', '--frobnicate'], /unknown option '--frobnicate'/],
    [['example'], /missing required argument 'name'/],
    [['example', 'goodbye'], /Allowed choices are hello, crud, all/],
    [['db', 'status', 'extra'], /too many arguments/],
  ] as const) {
    test(`roachbank ${args.join(' ')} is a usage error: exit 2 and a hint`, async () => {
      const result = await runCli([...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /--help/);
      assert.equal(result.stdout, '');
    });
  }
});
