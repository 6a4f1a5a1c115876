import type { Command } from 'commander';
import { amountArgument, idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { accountLines, accountTable, print } from './output.js';
import { withBank } from './with-bank.js';

/** `roachbank accounts create|list|show|close`. */
export function addAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('open, list, show and close accounts');

  accounts
    .command('create')
    .description('open an account, optionally with an opening balance (journaled as a deposit)')
    .option('--balance <amount>', 'opening balance, a whole number', amountArgument('opening balance'))
    .action(async (options: { balance?: bigint }, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const account = await withBank(flavor, (bank) => bank.createAccount(options.balance ? { balance: options.balance } : {}));
      print(json, account, () => accountLines(account));
    });

  accounts
    .command('list')
    .description('accounts, oldest first, a page at a time')
    .option('--limit <n>', 'accounts per page, 1 to 1000', limitOption, 50)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .action(async (options: { limit: number; cursor?: string }, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const page = await withBank(flavor, (bank) => bank.listAccounts(options));
      print(json, page, () => accountTable(page));
    });

  accounts
    .command('show')
    .description('one account, open or closed')
    .argument('<id>', 'account id (UUID)', idArgument('account id'))
    .action(async (id: string, _: unknown, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const account = await withBank(flavor, (bank) => bank.getAccount(id));
      print(json, account, () => accountLines(account));
    });

  accounts
    .command('close')
    .description('close an account whose balance is 0 (its history stays)')
    .argument('<id>', 'account id (UUID)', idArgument('account id'))
    .action(async (id: string, _: unknown, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const account = await withBank(flavor, (bank) => bank.closeAccount(id));
      print(json, account, () => accountLines(account));
    });
}
