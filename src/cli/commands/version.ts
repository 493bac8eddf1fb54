/** `ce version`: the CLI's version and, when one answers, the server's (never starts a server). */
import type { Command } from 'commander';
import { CejobsClient } from '../../client/client.js';
import { resolveConnection } from '../../client/discovery.js';
import { VERSION } from '../../shared/version.js';
import type { CliContext } from '../context.js';
import { Output } from '../io.js';
import { examples } from './util.js';

export function registerVersionCommand(program: Command, ctx: CliContext): void {
  const cmd = program.command('version').description('Show the version of the CLI and of the server');
  examples(cmd, ['ce version']);
  cmd.action(async () => {
    const out = new Output(ctx.io, false);
    out.line(`Client version: ${VERSION}`);
    const conn = ctx.options.client ? undefined : await resolveConnection({ home: ctx.home, env: ctx.env });
    const client = ctx.options.client ?? (conn?.ok ? new CejobsClient({ baseUrl: conn.baseUrl, token: conn.token }) : undefined);
    if (!client) return out.line('Server: not running');
    try {
      const info = await client.serverInfo({ signal: AbortSignal.timeout(3000) });
      out.line(`Server version: ${info.version} (driver ${info.driver}) at ${info.url || client.baseUrl}`);
    } catch {
      out.line(`Server: not answering at ${client.baseUrl}`);
    }
  });
}
