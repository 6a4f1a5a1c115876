import type { Command } from 'commander';
import { parseMoment, RoachbankError, statementCsv } from 'roachbank';
import { idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { balanceAtLines, print, statementLines } from './output.js';
import { withBank } from './with-bank.js';

/** A moment on the command line, checked with the bank's own parser before anything connects. */
const momentArgument = (name: string) => (value: string) => parseMoment(value, name);

/** `roachbank balance` and `roachbank statement`: an account's past, from its journal's running balances. */
export function addStatementCommands(program: Command): void {
  program
    .command('balance')
    .description("an account's balance at a moment (default now), from its journal: after its last row at or before it")
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .option('--at <time>', 'an RFC 3339 time with its offset, such as 2026-12-04T09:30:00Z', momentArgument('--at'))
    .action(async (account: string, options: { at?: string }, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const answer = await withBank(flavor, (bank) => bank.balanceAt(account, options.at ?? new Date()));
      print(json, answer, () => balanceAtLines(answer));
    });

  program
    .command('statement')
    .description(
      "an account's statement for [--from, --to): opening balance, each movement with the balance after it, closing balance",
    )
    .usage('ACCOUNT --from TIME --to TIME [--limit N] [--cursor C] [--csv]')
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .requiredOption('--from <time>', 'where the period starts (RFC 3339, such as 2026-12-01T00:00:00Z)', momentArgument('--from'))
    .requiredOption('--to <time>', 'where it ends: rows at this moment belong to the next period', momentArgument('--to'))
    .option('--limit <n>', 'lines per page, 1 to 1000', limitOption)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .option('--csv', 'the whole period as CSV on standard output (an opening row, the lines, a closing row)')
    .action(
      async (
        account: string,
        options: { from: string; to: string; limit?: number; cursor?: string; csv?: boolean },
        command: Command,
      ) => {
        const { json, flavor } = globalOptions(command);
        const { from, to, limit, cursor, csv } = options;
        if (csv) {
          if (limit !== undefined || cursor !== undefined) {
            throw new RoachbankError('INVALID_ARGUMENT', '--csv writes the whole period: --limit and --cursor are for its pages');
          }
          if (json) throw new RoachbankError('INVALID_ARGUMENT', '--csv and --json are two formats: choose one');
          await withBank(flavor, async (bank) => {
            for await (const chunk of statementCsv(bank, account, { from, to })) process.stdout.write(chunk);
          });
          return;
        }
        const page = { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
        const statement = await withBank(flavor, (bank) => bank.statement(account, { from, to, page }));
        print(json, statement, () => statementLines(statement));
      },
    );
}
