import type { Command } from 'commander';
import type { Bank } from 'roachbank';
import { defaultCurrency, maxHoldMs, parseAmount, parseId } from 'roachbank';
import { type AnnotationOptions, annotationOptions } from './annotation-options.js';
import { amountArgument, durationOption, idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { holdLines, holdTable, outcomeLines, print } from './output.js';
import { withBank } from './with-bank.js';

/** The options of a post or reversal: the id and the amount when given, the reference and metadata (the bank reads a missing one as not given). */
const idAndAmount = (options: { id?: string } & AnnotationOptions, amount: bigint | undefined) => ({
  ...(amount === undefined ? {} : { amount }),
  ...(options.id ? { id: options.id } : {}),
  reference: options.reference,
  metadata: options.metadata,
});

/** `roachbank hold|post|void|holds|reverse`: two-phase movements and reversals. */
export function addHoldCommands(program: Command): void {
  const hold = program
    .command('hold')
    .description('reserve money of an account for a later post to TO (or a withdrawal without TO)')
    .usage('FROM [TO] AMOUNT [--expires 15m] [--id UUID]')
    .argument('<from>', 'source account id (UUID)', idArgument('source account id'))
    .argument('<to-or-amount>', 'destination account id (UUID), or the amount when there is none')
    .argument('[amount]', 'a whole number from 1 to 2^63 - 1')
    .option(
      '--expires <duration>',
      'when it stops counting: 90s, 15m, 2h, 7d (default: never)',
      durationOption('--expires', maxHoldMs),
    )
    .option('--id <uuid>', 'hold id (UUID): its idempotency key; repeat it to retry safely', idArgument('hold id'));
  annotationOptions(hold, 'the hold').action(
    async (
      fromId: string,
      second: string,
      third: string | undefined,
      options: { expires?: number; id?: string } & AnnotationOptions,
      command: Command,
    ) => {
      const toId = third === undefined ? null : parseId(second, 'destination account id');
      const amount = parseAmount(third ?? second, 'amount');
      const { json, flavor } = globalOptions(command);
      const request = {
        fromId,
        toId,
        amount,
        expiresInMs: options.expires ?? null,
        ...(options.id ? { id: options.id } : {}),
        reference: options.reference,
        metadata: options.metadata,
      };
      const [outcome, currency] = await withBank(flavor, async (bank) => {
        const placed = await bank.hold(request);
        return [placed, json ? defaultCurrency : await currencyOf(bank, fromId)] as const;
      });
      print(json, outcome, () => holdLines(outcome.hold, outcome.replayed, currency));
    },
  );

  const post = program
    .command('post')
    .description('move what a hold reserved (all of it, or AMOUNT: the rest is released) as one journal row')
    .argument('<hold>', 'hold id (UUID)', idArgument('hold id'))
    .argument('[amount]', 'at most the held amount (default: all of it)', amountArgument('amount'))
    .option('--id <uuid>', 'the journal row id (default: one derived from the hold id)', idArgument('post id'));
  annotationOptions(post, 'the post', "the hold's").action(
    async (holdId: string, amount: bigint | undefined, options: { id?: string } & AnnotationOptions, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const request = idAndAmount(options, amount);
      const outcome = await withBank(flavor, (bank) => bank.postHold(holdId, request));
      print(json, outcome, () => outcomeLines(outcome));
    },
  );

  program
    .command('void')
    .description('release a pending hold')
    .argument('<hold>', 'hold id (UUID)', idArgument('hold id'))
    .action(async (holdId: string, _: unknown, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const [outcome, currency] = await withBank(flavor, async (bank) => {
        const voided = await bank.voidHold(holdId);
        return [voided, json ? defaultCurrency : await currencyOf(bank, voided.hold.fromId)] as const;
      });
      print(json, outcome, () => holdLines(outcome.hold, outcome.replayed, currency));
    });

  program
    .command('holds')
    .description("an account's holds, newest first, a page at a time")
    .argument('<account>', 'account id (UUID)', idArgument('account id'))
    .option('--limit <n>', 'holds per page, 1 to 1000', limitOption, 50)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .action(async (account: string, options: { limit: number; cursor?: string }, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const [page, currency] = await withBank(flavor, async (bank) => {
        const holds = await bank.holds(account, options);
        return [holds, json || holds.items.length === 0 ? defaultCurrency : await currencyOf(bank, account)] as const;
      });
      print(json, page, () => holdTable(account, page, currency));
    });

  const reverse = program
    .command('reverse')
    .description('move a journal row’s money back (what is left of it, or AMOUNT) as a new row naming it')
    .argument('<transfer>', 'transfer id (UUID)', idArgument('transfer id'))
    .argument('[amount]', 'default: what is left to reverse', amountArgument('amount'))
    .option('--id <uuid>', "the reversal's id: its idempotency key (default: a new one, printed)", idArgument('reversal id'));
  annotationOptions(reverse, 'the reversal', "the reversed row's").action(
    async (transferId: string, amount: bigint | undefined, options: { id?: string } & AnnotationOptions, command: Command) => {
      const { json, flavor } = globalOptions(command);
      const request = idAndAmount(options, amount);
      const outcome = await withBank(flavor, (bank) => bank.reverse(transferId, request));
      print(json, outcome, () => outcomeLines(outcome));
    },
  );
}

/**
 * An account's currency, to show a hold's amounts in it. Display only: the hold is
 * placed or voided already, so a failed read shows whole minor units, not an error.
 */
function currencyOf(bank: Bank, accountId: string): Promise<string> {
  return bank.getAccount(accountId).then(
    (account) => account.currency,
    () => defaultCurrency,
  );
}
