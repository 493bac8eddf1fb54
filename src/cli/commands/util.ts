/** Small helpers shared by the command groups. */
import type { Command } from 'commander';
import type { CejobsClient } from '../../client/client.js';
import { ApiError } from '../../client/errors.js';
import type { ApiProject } from '../../client/types.js';
import { commandPath, outputFor, type CliContext, type CommonOptions } from '../context.js';
import { UsageError } from '../errors.js';
import type { Output } from '../io.js';
import { flag } from '../options.js';
import type { SortBy } from '../views.js';

/** Everything an action needs: the context, its Output, its options, the command path. */
export interface ActionEnv<O> {
  ctx: CliContext;
  out: Output;
  opts: O;
  /** `ce job create` */
  path: string;
}

/** Sets `cmd`'s action: parses its options into an `ActionEnv` and runs `fn`. */
export function action<O extends CommonOptions>(ctx: CliContext, cmd: Command, fn: (env: ActionEnv<O>) => Promise<void>): Command {
  return cmd.action(async () => {
    const opts = cmd.opts() as O;
    await fn({ ctx, out: outputFor(ctx, opts), opts, path: commandPath(cmd) });
  });
}

/** Adds `Examples:` to a command's help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

/** `--sort-by/-s name|age`. */
export function sortFlag(cmd: Command): void {
  flag(cmd, '-s, --sort-by <field>', 'Sort by name or age', { choices: ['name', 'age'], shownDefault: 'name' });
}

export const sortOf = (opts: { sortBy?: string }): SortBy => (opts.sortBy === 'age' ? 'age' : 'name');

/** `--force/-f` and `--ignore-not-found/--inf` of delete commands. */
export function deleteFlags(cmd: Command): void {
  flag(cmd, '-f, --force', 'Delete without asking for confirmation');
  flag(cmd, '--ignore-not-found', 'Succeed when it does not exist', { aliases: ['--inf'] });
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

/** The run an instance belongs to: `myrun-3-0` → `myrun`. */
export function runOfInstance(instance: string, path: string): string {
  const m = /^(.+)-\d+-\d+$/.exec(instance);
  if (!m) throw new UsageError(`--instance "${instance}" is not an instance name (<jobrun>-<index>-<retry>, e.g. myrun-0-0).`, path);
  return m[1]!;
}

/** The project for headers of `get` outputs; undefined if it cannot be read. */
export async function projectOrUndefined(client: CejobsClient, project: string): Promise<ApiProject | undefined> {
  try {
    return await client.getProject(project);
  } catch {
    return undefined;
  }
}
