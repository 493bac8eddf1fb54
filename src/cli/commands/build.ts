/**
 * `ce build create|get|list|update|delete` (alias `bd`) and `ce buildrun
 * submit|get|list|logs|delete` (alias `br`): builds and their runs in the selected project
 * (docs/builds.md). A local `--source` is uploaded by `buildrun submit` (and by `build create`
 * so the build can run right away); a Git source is cloned by the server.
 */
import type { Command } from 'commander';
import { ApiError } from '../../client/errors.js';
import type { ApiBuild, ApiBuildRun, ApiProject, BuildPatchBody } from '../../client/types.js';
import { addBuildFlags } from '../build-flags.js';
import { buildFailureText, submitAndWait, uploadSource } from '../build-flow.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { age, keyValues, localIso, table, type KeyValue } from '../format.js';
import { commonFlags, flag, intParser, quietFlag } from '../options.js';
import { confirm } from '../prompt.js';
import { action, deleteFlags, examples, isNotFound, projectOrUndefined, sortFlag, sortOf } from './util.js';
import { sortResources } from '../views.js';

interface NameOptions extends CommonOptions {
  name: string;
}

interface WaitOptions {
  wait?: boolean;
  waitTimeout?: number;
}

function header(r: { name: string; id: string; project_id: string; created_at: string }, project: ApiProject | undefined, now: Date): KeyValue[] {
  return [
    ['Name', r.name],
    ['ID', r.id],
    ['Project Name', project?.name ?? null],
    ['Project ID', r.project_id],
    ['Age', age(r.created_at, now)],
    ['Created', localIso(r.created_at)],
  ];
}

function sourceLines(b: ApiBuild | ApiBuildRun): KeyValue[] {
  return [
    ['Source Type', b.source_type],
    ['Source', b.source_url ?? (b.source_type === 'local' ? '(uploaded directory)' : null)],
    ['Commit', b.source_revision ?? null],
    ['Context Directory', b.source_context_dir ?? null],
    ['Git Repo Secret', b.source_secret ?? null],
    ['Strategy', b.strategy_type],
    ['Dockerfile', b.strategy_type === 'dockerfile' ? (b.strategy_spec_file ?? 'Dockerfile') : null],
    ['Build Command', b.source_build_command ?? null],
    ['Timeout', `${b.timeout}s`],
  ];
}

export function renderBuild(b: ApiBuild, project: ApiProject | undefined, now: Date): string[] {
  return keyValues([...header(b, project, now), ['Status', b.status], ['Output Image', b.output_image], ...sourceLines(b)]);
}

export function renderBuildRun(r: ApiBuildRun, project: ApiProject | undefined, now: Date): string[] {
  const d = r.status_details;
  const lines = keyValues([
    ...header(r, project, now),
    ['Build', r.build_name],
    ['Status', r.status],
    ['Reason', d.reason ?? null],
    ['Image', r.output_image ?? null],
    ['Digest', d.output_digest ?? null],
    ['Started', d.started_at ? localIso(d.started_at) : null],
    ['Completed', d.completed_at ? localIso(d.completed_at) : null],
    ...sourceLines(r),
  ]);
  if (d.message && r.status === 'failed') lines.push('', 'Failure:', ...d.message.split('\n').map((l) => `  ${l}`));
  return lines;
}

function waitFlags(cmd: Command, waitByDefault: boolean): void {
  flag(cmd, '-w, --wait', `Wait for the build run to complete; exit 1 if it fails (default ${waitByDefault})`);
  flag(cmd, '--no-wait', `Do not wait for the build run (default ${!waitByDefault})`, { aliases: ['--nw'] });
  flag(cmd, '--wait-timeout <seconds>', 'With --wait, give up after this many seconds', { aliases: ['--wto'], parse: intParser(1), shownDefault: '600' });
}

export function registerBuildCommands(program: Command, ctx: CliContext): void {
  const group = program.command('build').alias('bd').description('Manage builds (how source becomes an image or a snapshot)');

  const create = group.command('create').description('Create a build from a Git repository or a local directory');
  flag(create, '-n, --name <name>', 'Name of the build: lowercase letters, digits and -, at most 63 characters', { required: true });
  const readCreate = addBuildFlags(create, 'build-create');
  commonFlags(create);
  examples(create, [
    'ce build create --name app --source https://github.com/IBM/CodeEngine --context-dir helloworld',
    'ce build create --name app --source . --strategy source --build-command "npm ci"',
    'ce build create --name app --source ssh://git@host/repo.git --git-repo-secret mykey --commit v1.2',
  ]);
  action<NameOptions>(ctx, create, async ({ out, opts, path }) => {
    const flags = readCreate(opts as unknown as Record<string, unknown>);
    if (flags.spec.source_type === undefined) throw new UsageError('--source is required: a Git URL or a local directory.', path);
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Creating build '${opts.name}'...`);
    const build = await client.createBuild(project, { name: opts.name, ...flags.spec });
    if (flags.localDir) await uploadSource(client, project, opts.name, flags.localDir, out);
    if (opts.output) printFormatted(out, opts.output, build);
    out.ok();
  });

  const update = group.command('update').description('Update a build (runs already submitted keep their configuration)');
  flag(update, '-n, --name <name>', 'Name of the build', { required: true });
  const readUpdate = addBuildFlags(update, 'build-update');
  flag(update, '--commit-clear', 'Build the repository HEAD instead of --commit', { aliases: ['--cmc'] });
  flag(update, '--context-dir-clear', 'Build from the root of the source', { aliases: ['--cdrc'] });
  flag(update, '--git-repo-secret-clear', 'Clone without an SSH secret', { aliases: ['--grsc'] });
  commonFlags(update);
  examples(update, ['ce build update --name app --commit v2', 'ce build update --name app --source . --timeout 1200']);
  action<NameOptions & Record<string, unknown>>(ctx, update, async ({ out, opts, path }) => {
    const flags = readUpdate(opts as unknown as Record<string, unknown>);
    const patch: BuildPatchBody = { ...flags.spec };
    if (opts.commitClear) patch.source_revision = null;
    if (opts.contextDirClear) patch.source_context_dir = null;
    if (opts.gitRepoSecretClear) patch.source_secret = null;
    if (Object.keys(patch).length === 0) throw new UsageError('Nothing to update: give at least one option that changes the build.', path);
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Updating build '${opts.name}'...`);
    const { build } = await client.updateBuild(project, opts.name, patch, '*');
    if (flags.localDir) await uploadSource(client, project, opts.name, flags.localDir, out);
    if (opts.output) printFormatted(out, opts.output, build);
    out.ok();
  });

  const get = group.command('get').description('Show a build');
  flag(get, '-n, --name <name>', 'Name of the build', { required: true });
  commonFlags(get);
  action<NameOptions>(ctx, get, async ({ out, opts }) => {
    out.info(`Getting build '${opts.name}'...`);
    const client = await ctx.client();
    const projectName = await ctx.project();
    const { build } = await client.getBuild(projectName, opts.name);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, build);
    out.info();
    for (const l of renderBuild(build, await projectOrUndefined(client, projectName), ctx.now())) out.line(l);
  });

  const list = group.command('list').description('List the builds of the selected project');
  sortFlag(list);
  commonFlags(list);
  action<CommonOptions & { sortBy?: string }>(ctx, list, async ({ out, opts }) => {
    out.info('Listing builds...');
    const client = await ctx.client();
    const builds = sortResources(await client.listAllBuilds(await ctx.project()), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(builds));
    out.info();
    if (builds.length === 0) return out.line('No builds were found.');
    const now = ctx.now();
    for (const l of table(['Name', 'Status', 'Source', 'Strategy', 'Age'], builds.map((b) => [b.name, b.status, b.source_url ?? b.source_type, b.strategy_type, age(b.created_at, now)]))) out.line(l);
  });

  const del = group.command('delete').description('Delete a build and its build runs');
  flag(del, '-n, --name <name>', 'Name of the build', { required: true });
  deleteFlags(del);
  quietFlag(del);
  action<NameOptions & { force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!(await confirm(ctx.io, `Are you sure you want to delete build ${opts.name}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting build '${opts.name}'...`);
    const client = await ctx.client();
    try {
      await client.deleteBuild(await ctx.project(), opts.name);
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Build '${opts.name}' was not found.`);
    }
    out.ok();
  });

  registerBuildRunCommands(program, ctx);
}

function registerBuildRunCommands(program: Command, ctx: CliContext): void {
  const group = program.command('buildrun').alias('br').description('Submit and inspect build runs');

  const submit = group.command('submit').description('Run a build now');
  flag(submit, '-b, --build <build>', 'The build to run', { required: true });
  flag(submit, '-n, --name <name>', 'Name of the build run (default <build>-run-xxxxxx)');
  flag(submit, '--source <dir>', 'Upload this local directory first (a local build)', { aliases: ['--src'] });
  waitFlags(submit, false);
  commonFlags(submit);
  examples(submit, ['ce buildrun submit --build app --wait', 'ce buildrun submit --build app --source . --wait']);
  action<CommonOptions & WaitOptions & { build: string; name?: string; source?: string }>(ctx, submit, async ({ out, opts }) => {
    const client = await ctx.client();
    const project = await ctx.project();
    if (opts.source) await uploadSource(client, project, opts.build, opts.source, out);
    const run = await submitAndWait(client, project, opts.build, out, {
      wait: opts.wait === true,
      waitTimeout: opts.waitTimeout ?? 600,
      pollMs: ctx.options.pollMs ?? 1000,
      ...(opts.name ? { name: opts.name } : {}),
    });
    if (opts.wait !== true) out.info(`Run 'ce buildrun get -n ${run.name}' to check the build run status.`);
    if (opts.output) printFormatted(out, opts.output, await client.getBuildRun(project, run.name));
    out.ok();
  });

  const get = group.command('get').description('Show a build run');
  flag(get, '-n, --name <name>', 'Name of the build run', { required: true });
  commonFlags(get);
  action<NameOptions>(ctx, get, async ({ out, opts }) => {
    out.info(`Getting build run '${opts.name}'...`);
    const client = await ctx.client();
    const projectName = await ctx.project();
    const run = await client.getBuildRun(projectName, opts.name);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, run);
    out.info();
    for (const l of renderBuildRun(run, await projectOrUndefined(client, projectName), ctx.now())) out.line(l);
  });

  const list = group.command('list').description('List the build runs of the selected project');
  flag(list, '-b, --build <build>', 'Only the runs of this build');
  sortFlag(list);
  commonFlags(list);
  action<CommonOptions & { sortBy?: string; build?: string }>(ctx, list, async ({ out, opts }) => {
    out.info('Listing build runs...');
    const client = await ctx.client();
    const runs = sortResources(await client.listAllBuildRuns(await ctx.project(), opts.build ? { buildName: opts.build } : {}), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(runs));
    out.info();
    if (runs.length === 0) return out.line('No build runs were found.');
    const now = ctx.now();
    for (const l of table(['Name', 'Status', 'Build', 'Reason', 'Age'], runs.map((r) => [r.name, r.status, r.build_name, r.status_details.reason ?? '', age(r.created_at, now)]))) out.line(l);
  });

  const logs = group.command('logs').description('Show the log of a build run');
  flag(logs, '-n, --name <name>', 'Name of the build run', { required: true });
  flag(logs, '--tail <n>', 'Only the last n lines', { parse: intParser(1) });
  quietFlag(logs);
  action<CommonOptions & { name: string; tail?: number }>(ctx, logs, async ({ out, opts }) => {
    const client = await ctx.client();
    const lines = await client.getBuildRunLogs(await ctx.project(), opts.name, opts.tail !== undefined ? { tail: opts.tail } : {});
    for (const l of lines) out.line(l);
    const run = await client.getBuildRun(await ctx.project(), opts.name).catch((e: unknown) => {
      if (e instanceof ApiError) return undefined;
      throw e;
    });
    if (run?.status === 'failed') out.info(`\n${buildFailureText(run).split('\n')[0]}`);
  });

  const del = group.command('delete').description('Delete a build run (stopping it when it runs)');
  flag(del, '-n, --name <name>', 'Name of the build run', { required: true });
  deleteFlags(del);
  quietFlag(del);
  action<NameOptions & { force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!(await confirm(ctx.io, `Are you sure you want to delete build run ${opts.name}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting build run '${opts.name}'...`);
    const client = await ctx.client();
    try {
      await client.deleteBuildRun(await ctx.project(), opts.name);
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Build run '${opts.name}' was not found.`);
    }
    out.ok();
  });
}
