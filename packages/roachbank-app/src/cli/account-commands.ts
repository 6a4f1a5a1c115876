import { type Command, Option } from 'commander';
import { askedAccounts } from 'roachbank';
import { type AnnotationOptions, annotationOptions, referenceArgument } from './annotation-options.js';
import { amountArgument, creditLimitArgument, currencyArgument, idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { accountLines, accountTable, print } from './output.js';
import { withBank } from './with-bank.js';

/** `roachbank accounts create|list|show|limit|close`. */
export function addAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('open, list, show, limit and close accounts');

  const create = accounts
    .command('create')
    .description('open an account, optionally with an opening balance (journaled as a deposit)')
    .option('--balance <amount>', 'opening balance, a whole number of minor units', amountArgument('opening balance'))
    .option('--currency <code>', 'its currency for good: USD, EUR, IDR or your own asset (default XXX, none)', currencyArgument)
    .option('--credit-limit <amount>', 'how far below 0 its available balance may go (default 0)', creditLimitArgument);
  annotationOptions(create, 'the account').action(
    async (options: { balance?: bigint; currency?: string; creditLimit?: bigint } & AnnotationOptions, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const account = await withBank(flavor, (bank) => bank.createAccount(options));
      print(json, account, () => accountLines(account));
    },
  );

  accounts
    .command('list')
    .description(
      'accounts, oldest (or newest) first, a page at a time; with --reference, only those opened with it; with --id-prefix, those whose id starts with it',
    )
    .addOption(new Option('--newest', 'newest first').conflicts(['reference', 'idPrefix']))
    .addOption(
      new Option('--reference <text>', 'only the accounts opened with this reference')
        .argParser(referenceArgument)
        .conflicts('idPrefix'),
    )
    .option('--id-prefix <prefix>', 'only the accounts whose id starts with this (at least its first 8 hex digits), by id')
    .option('--limit <n>', 'accounts per page, 1 to 1000', limitOption, 50)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .action(
      async (
        options: { limit: number; cursor?: string; reference?: string; idPrefix?: string; newest?: boolean },
        command: Command,
      ) => {
        const { json, flavor } = globalOptions(command);
        const { reference, idPrefix, newest, ...page } = options;
        const found = await withBank(flavor, (bank) =>
          askedAccounts(bank, { order: newest ? 'newest' : undefined, reference, idPrefix, page }),
        );
        const filter =
          reference !== undefined
            ? ` --reference ${JSON.stringify(reference)}`
            : idPrefix !== undefined
              ? ` --id-prefix ${idPrefix}`
              : newest
                ? ' --newest'
                : '';
        print(json, found, () => accountTable(found, filter));
      },
    );

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
    .command('limit')
    .description("set an open account's credit limit: how far below 0 its available balance may go")
    .argument('<id>', 'account id (UUID)', idArgument('account id'))
    .argument('<amount>', 'the new limit in minor units, 0 for none', creditLimitArgument)
    .action(async (id: string, limit: bigint, _: unknown, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const account = await withBank(flavor, (bank) => bank.setCreditLimit(id, limit));
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
