import type { Command } from 'commander';
import type { Flavor } from 'roachbank';

/** The options every command inherits from `roachbank` itself. */
export interface GlobalOptions {
  readonly json: boolean;
  readonly flavor: Flavor;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}
