import type { Command } from 'commander';
import type { Bank, Flavor, MovementOutcome } from 'roachbank';
import { errorCatalogue, moveItems, movementItem, RoachbankError } from 'roachbank';
import { type AnnotationOptions, annotationOptions, referenceArgument } from './annotation-options.js';
import { amountArgument, idArgument, limitOption } from './arguments.js';
import { globalOptions } from './global-options.js';
import { readMovementFile } from './movement-file.js';
import { historyTable, movementLine, outcomeLines, print, referenceTable, toJson, verifyLines } from './output.js';
import { withBank } from './with-bank.js';

const idOptionHelp = 'transfer id (UUID): the idempotency key; repeat it to retry safely (default: a new one, printed)';

/** `roachbank deposit|withdraw|transfer|history|verify`. */
export function addMoneyCommands(program: Command): void {
  addMovementCommands(program);
  addJournalCommands(program);
}

/** `deposit`, `withdraw` and `transfer` (one, or many from a file): each prints its outcome. */
function addMovementCommands(program: Command): void {
  /** Runs a movement with the command's `--id`, `--reference` and `--metadata`, and prints its outcome. */
  const moving = (
    command: Command,
    run: (bank: Bank, request: { id?: string } & AnnotationOptions) => Promise<MovementOutcome>,
  ) => {
    const { id, ...annotated } = command.opts<{ id?: string } & AnnotationOptions>();
    const request = { ...(id ? { id } : {}), ...annotated };
    return withBank(globalOptions(command).flavor, (bank) => run(bank, request)).then((outcome) =>
      print(globalOptions(command).json, outcome, () => outcomeLines(outcome)),
    );
  };

  for (const [name, description, what] of [
    ['deposit', 'put money into an account', 'the deposit'],
    ['withdraw', 'take money out of an account', 'the withdrawal'],
  ] as const) {
    const command = program
      .command(name)
      .description(description)
      .argument('<account>', 'account id (UUID)', idArgument('account id'))
      .argument('<amount>', 'a whole number from 1 to 2^63 - 1', amountArgument('amount'))
      .option('--id <uuid>', idOptionHelp, idArgument('transfer id'));
    annotationOptions(command, what).action((account: string, amount: bigint, _: unknown, invoked: Command) =>
      moving(invoked, (bank, request) =>
        name === 'deposit' ? bank.deposit(account, amount, request) : bank.withdraw(account, amount, request),
      ),
    );
  }

  const transfer = program
    .command('transfer')
    .description('move money between two accounts, exactly once per transfer id; or many movements from a file')
    .usage('FROM TO AMOUNT [--id UUID]\n       roachbank transfer --file FILE|- [--atomic] [--json]')
    .argument('[from]', 'source account id (UUID)', idArgument('source account id'))
    .argument('[to]', 'destination account id (UUID)', idArgument('destination account id'))
    .argument('[amount]', 'a whole number from 1 to 2^63 - 1', amountArgument('amount'))
    .option('--id <uuid>', idOptionHelp, idArgument('transfer id'))
    .option(
      '--file <file>',
      'many movements, JSON lines ({"id","fromId","toId","amount"} per line, or {"kind":"hold",…} for a hold) or CSV with a header row (id,fromId,toId,amount); - reads standard input. Moved in order, one result line each; exit status of the worst item',
    )
    .option('--atomic', 'with --file: every movement or none, in one commit (one failing fails them all: GROUP_FAILED)');
  annotationOptions(transfer, 'the transfer').action(
    (
      fromId: string | undefined,
      toId: string | undefined,
      amount: bigint | undefined,
      options: { id?: string; file?: string; atomic?: boolean } & AnnotationOptions,
      command: Command,
    ) => {
      if (options.atomic && options.file === undefined) {
        throw new RoachbankError('INVALID_ARGUMENT', '--atomic goes with --file: one movement is always all or nothing');
      }
      if (options.file !== undefined) {
        if (fromId !== undefined || options.id !== undefined || options.reference !== undefined || options.metadata) {
          throw new RoachbankError(
            'INVALID_ARGUMENT',
            'transfer --file takes no FROM TO AMOUNT, --id, --reference or --metadata: each line of the file has its own',
          );
        }
        return transferFile(options.file, { ...globalOptions(command), atomic: options.atomic === true });
      }
      if (fromId === undefined || toId === undefined || amount === undefined) {
        throw new RoachbankError('INVALID_ARGUMENT', 'transfer needs FROM TO AMOUNT, or --file FILE');
      }
      return moving(command, (bank, request) => bank.transfer({ fromId, toId, amount, ...request }));
    },
  );
}

/** `history` and `verify`: what the journal holds, and whether the books agree with it. */
function addJournalCommands(program: Command): void {
  program
    .command('history')
    .description("an account's transfers, newest first, a page at a time; or, with --reference, the transfers written with it")
    .usage('ACCOUNT [--limit N] [--cursor C]\n       roachbank history --reference TEXT [--limit N] [--cursor C]')
    .argument('[account]', 'account id (UUID)', idArgument('account id'))
    .option(
      '--reference <text>',
      'instead of an account: the journal rows written with this reference, oldest first',
      referenceArgument,
    )
    .option('--limit <n>', 'transfers per page, 1 to 1000', limitOption, 50)
    .option('--cursor <cursor>', 'where the previous page ended (printed after it)')
    .action(
      async (account: string | undefined, options: { limit: number; cursor?: string; reference?: string }, command: Command) => {
        const { json, flavor } = globalOptions(command);
        const { reference, ...page } = options;
        if ((account === undefined) === (reference === undefined)) {
          throw new RoachbankError('INVALID_ARGUMENT', 'history takes an ACCOUNT or --reference TEXT, one of the two');
        }
        if (reference !== undefined) {
          const found = await withBank(flavor, (bank) => bank.findTransfers({ reference, page }));
          print(json, found, () => referenceTable(reference, found));
          return;
        }
        const rows = await withBank(flavor, (bank) => bank.history(account!, page));
        print(json, rows, () => historyTable(account!, rows));
      },
    );

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

/**
 * `roachbank transfer --file FILE`: the file's movements through `transferMany`, one
 * result line per item on stdout (JSON lines with --json), a count on stderr, and
 * the exit status of the worst item. A file that cannot be read as a whole moves nothing.
 */
async function transferFile(
  path: string,
  { json, flavor, atomic }: { json: boolean; flavor: Flavor; atomic: boolean },
): Promise<void> {
  const entries = await readMovementFile(path);
  const read = (entry: unknown) => {
    const line = entry as (typeof entries)[number];
    if ('error' in line) throw line.error;
    return movementItem(line.value, { requireId: false });
  };
  // An item the database failed to answer is DATABASE_UNAVAILABLE, as in the HTTP batch: the bank says so.
  const results = await withBank(flavor, (bank) => moveItems(bank, entries, read, { atomic }));
  let exitCode = 0;
  const counts = { moved: 0, replayed: 0, failed: 0 };
  const lines = results.map((result, i) => {
    const line = entries[i]!.line;
    if (result.ok) {
      counts[result.outcome.replayed ? 'replayed' : 'moved']++;
      return json ? toJson({ line, ...result.outcome }) : `line ${line}: ${movementLine(result.outcome)}`;
    }
    counts.failed++;
    const code = result.error instanceof RoachbankError ? result.error.code : undefined;
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    exitCode = Math.max(exitCode, code ? (errorCatalogue[code].exitCode ?? 1) : 1);
    return json
      ? toJson({ line, error: { code: code ?? 'INTERNAL', message } })
      : `line ${line}: ${code ?? 'INTERNAL'}: ${message}`;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stderr.write(
    `${results.length} movement${results.length === 1 ? '' : 's'}: ${counts.moved} moved, ${counts.replayed} already done, ${counts.failed} failed\n`,
  );
  process.exitCode = exitCode;
}
