import type { Command } from 'commander';
import type { Bank, TransferOutcome } from '../bank/bank.js';
import { amountArgument, idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { historyTable, outcomeLines, print, verifyLines } from './output.js';
import { withBank } from './with-bank.js';

const idOptionHelp = 'transfer id (UUID): the idempotency key; repeat it to retry safely (default: a new one, printed)';

/** `roachbank deposit|withdraw|transfer|history|verify`. */
export function addMoneyCommands(program: Command): void {
  const moving = (command: Command, run: (bank: Bank, id: string | undefined) => Promise<TransferOutcome>) =>
    withBank(globalOptions(command).flavor, (bank) => run(bank, command.opts<{ id?: string }>().id)).then((outcome) =>
      print(globalOptions(command).json, outcome, () => outcomeLines(outcome)),
    );

  program
    .command('deposit')
    .description('put money into an account')
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .argument('<amount>', 'a whole number from 1 to 2^63 - 1', amountArgument('amount'))
    .option('--id <uuid>', idOptionHelp, idArgument('transfer id'))
    .action((account: string, amount: bigint, _: unknown, command: Command) =>
      moving(command, (bank, id) => bank.deposit(account, amount, id ? { id } : {})),
    );

  program
    .command('withdraw')
    .description('take money out of an account')
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .argument('<amount>', 'a whole number from 1 to 2^63 - 1', amountArgument('amount'))
    .option('--id <uuid>', idOptionHelp, idArgument('transfer id'))
    .action((account: string, amount: bigint, _: unknown, command: Command) =>
      moving(command, (bank, id) => bank.withdraw(account, amount, id ? { id } : {})),
    );

  program
    .command('transfer')
    .description('move money between two accounts, exactly once per transfer id')
    .argument('<from>', 'source account id (UUID)', idArgument('source account id'))
    .argument('<to>', 'destination account id (UUID)', idArgument('destination account id'))
    .argument('<amount>', 'a whole number from 1 to 2^63 - 1', amountArgument('amount'))
    .option('--id <uuid>', idOptionHelp, idArgument('transfer id'))
    .action((fromId: string, toId: string, amount: bigint, _: unknown, command: Command) =>
      moving(command, (bank, id) => bank.transfer({ fromId, toId, amount, ...(id ? { id } : {}) })),
    );

  program
    .command('history')
    .description("an account's transfers, newest first, a page at a time")
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .option('--limit <n>', 'transfers per page, 1 to 1000', limitOption, 50)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .action(async (account: string, options: { limit: number; cursor?: string }, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const page = await withBank(flavor, (bank) => bank.history(account, options));
      print(json, page, () => historyTable(account, page));
    });

  program
    .command('verify')
    .description('check the invariants: balances match the journal, none negative, money conserved (exit 1 if not)')
    .action(async (_: unknown, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const report = await withBank(flavor, (bank) => bank.verify());
      print(json, report, () => verifyLines(report));
      if (!report.ok) process.exitCode = 1;
    });
}
