/**
 * `ce server`: run and manage the local control plane (API and engine) of a state home.
 *
 *     ce server [--host H] [--port P] [--driver D]         run in the foreground (Ctrl-C stops it)
 *     ce server start [--host H] [--port P] [--driver D]   run in the background; returns once it answers
 *     ce server stop                                       graceful stop; running instances keep running
 *     ce server status [-o json]                           URL, pid, driver, version, state home
 *     ce server token                                      the bearer token, for other API clients
 *
 * The only command group that imports `server/` (ARCHITECTURE: faces reach the engine through
 * the API, except to run the server itself).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DRIVER_NAMES, type DriverName } from '../../drivers/registry.js';
import { serverStatus, startBackground, stopBackground } from '../../server/background.js';
import { runServerForeground } from '../../server/foreground.js';
import { ensureToken } from '../../server/token.js';
import { serverLogFile } from '../../shared/state-home.js';
import { cliEntry } from '../connect.js';
import { printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { CliFailure, UsageError } from '../errors.js';
import { keyValues } from '../format.js';
import { commonFlags, flag, intParser } from '../options.js';
import { action, examples } from './util.js';

interface ListenOptions extends CommonOptions {
  host?: string;
  port?: number;
  driver?: DriverName | 'auto';
  tlsCert?: string;
  tlsKey?: string;
}

/** The certificate and key of --tls-cert/--tls-key (both or neither), read now so a typo fails at once. */
function tlsOf(opts: ListenOptions): { cert: Buffer; key: Buffer; certFile: string } | undefined {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) return undefined;
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) {
    throw new UsageError(`--tls-cert and --tls-key go together: ${opts.tlsCert === undefined ? '--tls-cert' : '--tls-key'} is missing`);
  }
  const read = (file: string, flagName: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new CliFailure(`${flagName} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { cert: read(opts.tlsCert, '--tls-cert'), key: read(opts.tlsKey, '--tls-key'), certFile: path.resolve(opts.tlsCert) };
}

function listenFlags(cmd: Command): void {
  flag(cmd, '--host <host>', 'Address to listen on', { shownDefault: '127.0.0.1' });
  flag(cmd, '--port <port>', 'Port to listen on; 0 picks a free one', { parse: intParser(0, 65535), shownDefault: '0' });
  flag(cmd, '--driver <driver>', 'Where instances run: auto picks container when a Docker/Podman socket answers (CEJOBS_CONTAINER_SOCKET, DOCKER_HOST, standard paths), else process; kubernetes only when named (KUBECONFIG or in-cluster, CEJOBS_K8S_*)', {
    choices: ['auto', ...DRIVER_NAMES],
    shownDefault: 'auto',
  });
  flag(cmd, '--tls-cert <file>', 'Serve HTTPS with this certificate (PEM); clients trust it when it is self-signed (server.json records it; CEJOBS_CA_FILE elsewhere)');
  flag(cmd, '--tls-key <file>', 'The private key (PEM) of --tls-cert');
}

function listenArgs(opts: ListenOptions): string[] {
  const args: string[] = [];
  if (opts.host !== undefined) args.push('--host', opts.host);
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  if (opts.driver !== undefined) args.push('--driver', opts.driver);
  if (opts.tlsCert !== undefined) args.push('--tls-cert', path.resolve(opts.tlsCert));
  if (opts.tlsKey !== undefined) args.push('--tls-key', path.resolve(opts.tlsKey));
  return args;
}

export function registerServerCommands(program: Command, ctx: CliContext): void {
  const server = program
    .command('server')
    .description('Run the cejobs server (REST API and engine) in the foreground, or manage the background one');
  listenFlags(server);
  examples(server, [
    'ce server                       # foreground, any free port, process driver',
    'ce server --port 8765',
    'ce server start && ce server status',
    'ce server stop',
    'curl -H "Authorization: Bearer $(ce server token)" "$(ce server status -o jsonpath={.url})/v2/projects"',
  ]);
  action<ListenOptions>(ctx, server, async ({ opts }) => {
    await runServerForeground({
      home: ctx.home,
      host: opts.host,
      port: opts.port,
      driver: opts.driver,
      tls: tlsOf(opts),
      out: (line) => ctx.io.stdout.write(`${line}\n`),
    });
  });

  const start = server.command('start').description('Start a server in the background (returns once it answers)');
  listenFlags(start);
  commonFlags(start, { output: false });
  examples(start, ['ce server start', 'ce server start --port 8765']);
  action<ListenOptions>(ctx, start, async ({ out, opts: own }) => {
    // `ce server` has the same flags and commander lets the parent claim them wherever they
    // stand (`ce server start --port 8765` set the parent's --port): take both.
    const opts: ListenOptions = { ...(server.opts() as ListenOptions), ...own };
    tlsOf(opts); // fail here, not in the background
    const entry = cliEntry();
    const execArgv = entry.endsWith('.ts') ? process.execArgv : [];
    const { record, started } = await startBackground({
      home: ctx.home,
      command: [process.execPath, ...execArgv, entry, 'server'],
      args: listenArgs(opts),
    }).catch((e: Error) => {
      throw new CliFailure(e.message);
    });
    out.info(
      started
        ? `Started a cejobs server at ${record.url} (pid ${record.pid}, driver ${record.driver}); log: ${serverLogFile(ctx.home)}`
        : `A cejobs server already runs at ${record.url} (pid ${record.pid}).`,
    );
    out.ok();
  });

  const stop = server.command('stop').description('Stop the background server; running instances keep running');
  commonFlags(stop, { output: false });
  examples(stop, ['ce server stop']);
  action<CommonOptions>(ctx, stop, async ({ out }) => {
    const pid = await stopBackground(ctx.home).catch((e: Error) => {
      throw new CliFailure(e.message);
    });
    out.info(pid === undefined ? `No cejobs server runs on ${ctx.home}.` : `Stopped the cejobs server (pid ${pid}).`);
    out.ok();
  });

  const status = server.command('status').description("Show the server's URL, pid, driver, version and state home");
  commonFlags(status);
  examples(status, ['ce server status', 'ce server status -o json']);
  action<CommonOptions>(ctx, status, async ({ out, opts }) => {
    const state = await serverStatus(ctx.home);
    if (state.state === 'stopped') {
      if (opts.output) printFormatted(out, opts.output, { state: 'stopped', reason: state.reason, state_home: ctx.home });
      throw new CliFailure(`The cejobs server is not running: ${state.reason}. Start it with 'ce server start'.`);
    }
    const r = state.record;
    const doc = { state: 'running', url: r.url, pid: r.pid, driver: r.driver, version: r.version, state_home: r.home, started_at: r.started_at };
    if (opts.output) return printFormatted(out, opts.output, doc);
    for (const line of keyValues([
        ['State', 'running'],
        ['URL', r.url],
        ['PID', String(r.pid)],
        ['Driver', r.driver],
        ['Version', r.version],
        ['State Home', r.home],
        ['Started', r.started_at],
      ]))
      out.line(line);
  });

  const token = server.command('token').description('Print the bearer token of the API (created if there is none yet)');
  examples(token, ['curl -H "Authorization: Bearer $(ce server token)" http://127.0.0.1:8765/v2/projects']);
  token.action(() => {
    ctx.io.stdout.write(`${ensureToken(ctx.home)}\n`);
  });
}
