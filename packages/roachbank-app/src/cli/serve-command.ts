import type { Command } from 'commander';
import { batchOption, wholeNumber } from './arguments.js';

/** `roachbank serve`: the JSON API, /metrics and the web UI; the HTTP server loads only for this command. */
export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('the JSON API (OpenAPI at /openapi.json, reference at /docs), /metrics and the web UI at /')
    .option('--host <host>', 'address to listen on (beyond loopback only with ROACHBANK_API_TOKEN set)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', wholeNumber('port', 0, 65535), 8080)
    .addOption(batchOption())
    .action(async (options: { host: string; port: number; batch: 'on' | 'off' }, command: Command) => {
      const { batch, ...listen } = options;
      const { serve } = await import('../http/serve.js'); // the HTTP server loads only for this command
      await serve({ ...listen, batch: batch === 'on', flavor: command.optsWithGlobals<{ flavor: 'pg' | 'orm' }>().flavor });
    });
}
