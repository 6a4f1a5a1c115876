import type { Command } from 'commander';
import {
  type BackfillProgress,
  describeTarget,
  migrate,
  migrationStatus,
  redactConnectionString,
  runRead,
  statementIsolation,
} from 'roachbank';
import { withDatabase } from './with-database.js';

/** `roachbank db init` and `roachbank db status`: the schema and the connection. */
export function addDbCommands(program: Command): void {
  const db = program.command('db').description('the database: schema and status');
  db.command('init')
    .description('create or upgrade the roachbank schema (safe to run again, and from many processes at once)')
    .action(async () => {
      const json = program.opts<{ json: boolean }>().json;
      await withDatabase(async ({ pool }) => {
        const applied = await migrate(pool, json ? {} : { onProgress: backfillReporter() });
        const states = await migrationStatus(pool);
        if (json) {
          console.log(JSON.stringify({ applied, migrations: states }));
          return;
        }
        for (const state of states.filter((s) => applied.includes(s.version))) {
          console.log(`applied migration ${label(state.version, state.name)}`);
        }
        if (applied.length === 0)
          console.log(`schema up to date (${states.length} migration${states.length === 1 ? '' : 's'} applied)`);
      });
    });
  db.command('status')
    .description('show the server, the connection and the schema version')
    .action(async () => {
      const json = program.opts<{ json: boolean }>().json;
      await withDatabase(async ({ pool, server, source, url }) => {
        const states = await migrationStatus(pool);
        const isolation = await runRead(pool, (client) => statementIsolation(client));
        const status = {
          server: server.kind,
          version: server.version,
          source,
          target: source === 'embedded' ? describeTarget(url) : redactConnectionString(url),
          statementIsolation: isolation,
          migrations: states,
        };
        if (json) {
          console.log(JSON.stringify(status));
          return;
        }
        const pending = states.filter((s) => s.state !== 'applied').length;
        console.log(`server      ${server.version.split(' on ')[0]} (${server.kind})`);
        console.log(`connection  ${status.target}${source === 'embedded' ? ' (embedded)' : ''}`);
        console.log(
          `isolation   transactions SERIALIZABLE unless they ask otherwise; single statements ${status.statementIsolation}`,
        );
        console.log(
          `schema      ${states.length - pending} of ${states.length} migrations applied${pending ? ' (run: roachbank db init)' : ''}`,
        );
        for (const state of states) {
          const when = state.appliedAt ? ` ${state.appliedAt.toISOString()}` : '';
          console.log(`  ${label(state.version, state.name).padEnd(28)} ${state.state}${when}`);
        }
      });
    });
}

function label(version: number, name: string): string {
  return `${String(version).padStart(4, '0')}_${name}`;
}

/**
 * Prints a back-fill's progress on stderr (stdout keeps the result): at most once a second
 * while it runs, and once when it is done, so a long upgrade shows it is moving.
 */
function backfillReporter(): (progress: BackfillProgress) => void {
  let last = 0;
  return (progress) => {
    if (progress.done && progress.runs === 1) return; // nothing to back-fill
    if (!progress.done && Date.now() - last < 1000) return;
    last = Date.now();
    const what = `migration ${label(progress.version, progress.name)}, statement ${progress.statement}`;
    process.stderr.write(
      `${what}: ${progress.done ? 'back-filled' : 'back-filling,'} ${progress.rows.toLocaleString('en')} rows in ${progress.runs} run${progress.runs === 1 ? '' : 's'}${progress.done ? '' : ' so far'}\n`,
    );
  };
}
