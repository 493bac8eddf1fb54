#!/usr/bin/env node
/**
 * `ce`: the cejobs CLI, a thin client of the REST API with Code Engine's command tree
 * (`ibmcloud ce …` without `ibmcloud`): `project`, `job`, `jobrun`, `configmap`, `secret`,
 * `server`, `version`.
 *
 * `runCli(argv, io)` runs one command line in-process and resolves with the exit code:
 * 0 success, 1 failure (`FAILED` and the server's messages on stderr), 2 usage error (the
 * message names the flag and points at `--help`). Executed directly, this module runs
 * `runCli(process.argv.slice(2), <process streams>)` and exits with its code.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ApiError } from '../client/errors.js';
import { VERSION } from '../shared/version.js';
import { registerBuildCommands } from './commands/build.js';
import { registerConfigMapCommands } from './commands/configmap.js';
import { registerJobCommands } from './commands/job.js';
import { registerJobRunCommands } from './commands/jobrun.js';
import { registerJobRunObserveCommands } from './commands/jobrun-observe.js';
import { registerProjectCommands } from './commands/project.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerServerCommands } from './commands/server.js';
import { registerVersionCommand } from './commands/version.js';
import { commandPath, createContext, type CliContext, type RunCliOptions } from './context.js';
import { CliFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { colourizer, coloursEnabled, type CliIo } from './io.js';
import { addBooleanCounterparts, rewriteArgv } from './options.js';

export type { CliIo } from './io.js';
export type { CliContext, RunCliOptions } from './context.js';

/** A commander error with the command it happened in. */
class CommandError extends Error {
  constructor(
    readonly error: CommanderError,
    readonly command: Command,
  ) {
    super(error.message);
  }
}

function walk(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) walk(sub, fn);
}

/** The `ce` command tree, bound to `ctx`. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ce')
    .description('cejobs: self-hosted IBM Cloud Code Engine jobs. Run batch jobs and daemons with the `ibmcloud ce` commands.')
    .version(VERSION, '--version', 'Show the version of the CLI');
  registerProjectCommands(program, ctx);
  registerJobCommands(program, ctx);
  const jobrun = registerJobRunCommands(program, ctx);
  registerJobRunObserveCommands(jobrun, ctx);
  registerConfigMapCommands(program, ctx);
  registerSecretCommands(program, ctx);
  registerBuildCommands(program, ctx);
  registerServerCommands(program, ctx);
  registerVersionCommand(program, ctx);
  program.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  ce job create --name myjob-daemon --image icr.io/codeengine/helloworld --mode daemon',
      '  ce job get --name myjob-daemon',
      '  ce jobrun submit --name myjobrun-daemon --job myjob-daemon',
      '  ce jobrun get --name myjobrun-daemon',
      '  ce jobrun logs --name myjobrun-daemon',
      '  ce jobrun delete --name myjobrun-daemon -f',
      '',
      'The server is found through CEJOBS_API and CEJOBS_TOKEN, or the state home (CEJOBS_HOME,',
      'default ~/.cejobs); when none answers, a local one is started in the background.',
      '',
    ].join('\n'),
  );
  return program;
}

function firstUpper(s: string): string {
  return s.length ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Runs one command line; resolves with the exit code (never throws). */
export async function runCli(argv: string[], io: CliIo, options: RunCliOptions = {}): Promise<number> {
  const ctx = createContext(io, options);
  const program = buildProgram(ctx);
  let active: Command = program;
  program.hook('preAction', (_this, actionCommand) => {
    active = actionCommand;
  });
  walk(program, (cmd) => {
    addBooleanCounterparts(cmd);
    cmd.exitOverride((err) => {
      throw new CommandError(err, cmd);
    });
    cmd.configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });
  });

  const red = (s: string): string => colourizer(coloursEnabled(io, 'stderr'))('red', s);
  const fail = (lines: string[], code: number): number => {
    io.stderr.write(`${red('FAILED')}\n${lines.join('\n')}\n`);
    return code;
  };
  // commander quotes an unknown `--flag=value` whole; the value may be a secret, so never show it
  const hideValues = (message: string): string => message.replace(/'(-[^'=\s]*)=[^']*'/g, "'$1=…'");
  const usage = (message: string, path: string): number =>
    fail([firstUpper(hideValues(message.replace(/^error:\s*/, ''))), '', `Run '${path} --help' for usage.`], EXIT_USAGE);

  try {
    await program.parseAsync(rewriteArgv(program, argv, commandPath), { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommandError) {
      const code = e.error.code;
      if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
      if (code === 'commander.help') return EXIT_USAGE; // a group without a subcommand: help shown on stderr
      return usage(e.error.message, commandPath(e.command));
    }
    if (e instanceof UsageError) return usage(e.message, e.command ?? commandPath(active));
    if (e instanceof ApiError) {
      const lines = e.errors.map((x) => x.message);
      if (e.status === 0) lines.push("Is the server running? Check 'ce server status', or start one with 'ce server'.");
      return fail(lines, EXIT_FAILED);
    }
    if (e instanceof CliFailure) return fail([e.message], e.exitCode);
    const err = e instanceof Error ? e : new Error(String(e));
    return fail([`Unexpected error: ${err.message}`], EXIT_FAILED);
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
  if (process.stdin.isTTY) io.stdin = process.stdin;
  void runCli(process.argv.slice(2), io).then((code) => {
    process.stdout.write('', () => process.exit(code));
  });
}
