/**
 * `ce job create|update|get|list|delete` (reference §1.1–§1.3) in the selected project.
 */
import type { Command } from 'commander';
import { ApiError } from '../../client/errors.js';
import type { CejobsClient } from '../../client/client.js';
import type { ApiBuildRun, ApiJob, BuildPatchBody, JobPatchBody, JobPrototype } from '../../client/types.js';
import { addBuildFlags, type BuildFlags } from '../build-flags.js';
import { submitAndWait, uploadSource } from '../build-flow.js';
import type { Output } from '../io.js';
import { intParser } from '../options.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { commonFlags, flag, quietFlag } from '../options.js';
import { confirm } from '../prompt.js';
import { checkReferences, referencesOf } from '../references.js';
import { addRuntimeFlags, changedFields, FORCE_HELP, newResourceFields } from '../runtime-flags.js';
import { jobsTable, renderJob, sortResources } from '../views.js';
import { action, deleteFlags, examples, isNotFound, projectOrUndefined, sortFlag, sortOf } from './util.js';

interface NameOptions extends CommonOptions {
  name: string;
  force?: boolean;
}

export function registerJobCommands(program: Command, ctx: CliContext): void {
  const group = program.command('job').description('Manage jobs (templates of job runs)');

  const create = group.command('create').description('Create a job');
  flag(create, '-n, --name <name>', 'Name of the job: lowercase letters, digits and -, at most 63 characters', { required: true });
  const readCreate = addRuntimeFlags(create, 'create');
  const readCreateBuild = addBuildFlags(create, 'job-create');
  jobBuildWaitFlags(create);
  flag(create, '-f, --force', FORCE_HELP);
  commonFlags(create);
  examples(create, [
    'ce job create --name myjob --image icr.io/codeengine/helloworld',
    'ce job create --name myjob-daemon --image icr.io/codeengine/helloworld --mode daemon',
    "ce job create --name hello --cmd /bin/sh --arg -c --arg 'echo Hello $JOB_INDEX' --array-size 5",
    'ce job create --name withenv --image IMAGE --env TARGET=World --env-from-configmap mycm --env-from-secret DB_=dbsecret',
    'ce job create --name fromsrc --build-source . --cmd ./run.sh',
    'ce job create --name fromgit --build-source https://github.com/IBM/CodeEngine --build-context-dir helloworld --build-commit main',
  ]);
  action<NameOptions & BuildWaitFlags>(ctx, create, async ({ out, opts, path }) => {
    const input = readCreate(opts as unknown as Record<string, unknown>);
    const build = readCreateBuild(opts as unknown as Record<string, unknown>);
    const body: JobPrototype & { build_run?: string } = { name: opts.name, ...newResourceFields(input) };
    if (build.any && build.spec.source_type === undefined) {
      throw new UsageError('The --build-* options need --build-source (a Git URL or a local directory).', path);
    }
    if (build.any && body.image_reference !== undefined) {
      throw new UsageError('--image cannot be combined with --build-source: the job runs the image its build makes (cejobs pushes to no registry).', path);
    }
    const client = await ctx.client();
    const project = await ctx.project();
    if (!opts.force) await checkReferences(client, project, referencesOf(input));
    if (build.any) {
      // One operation: the build (named after the job), its run, then the job on its image.
      const run = await buildForJob(ctx, client, project, opts.name, build, opts, out);
      body.build_run = run.name;
    }
    out.info(`Creating job '${opts.name}'...`);
    const job = await client.createJob(project, body);
    if (opts.output) printFormatted(out, opts.output, job);
    out.ok();
  });

  const update = group.command('update').description("Update a job's configuration (runs already submitted keep theirs)");
  flag(update, '-n, --name <name>', 'Name of the job', { required: true });
  const readUpdate = addRuntimeFlags(update, 'update');
  const readUpdateBuild = addBuildFlags(update, 'job-update');
  jobBuildWaitFlags(update);
  flag(update, '-f, --force', FORCE_HELP);
  commonFlags(update);
  examples(update, [
    'ce job update --name hellojob --cpu 2 --memory 8G',
    'ce job update --name hellojob --env TARGET=Moon --env-rm OLD_VAR',
    'ce job update --name hellojob --arguments-clear --arg --verbose',
    'ce job update --name fromsrc --rebuild',
    'ce job update --name fromgit --build-commit v2',
  ]);
  action<NameOptions & BuildWaitFlags & Record<string, unknown>>(ctx, update, async ({ out, opts, path }) => {
    const input = readUpdate(opts as unknown as Record<string, unknown>);
    const build = readUpdateBuild(opts as unknown as Record<string, unknown>);
    const clearBuild = opts.buildClear === true;
    if (clearBuild && build.any) throw new UsageError('--build-clear cannot be combined with --rebuild or --build-* options.', path);
    const client = await ctx.client();
    const project = await ctx.project();
    if (!opts.force) await checkReferences(client, project, referencesOf(input));
    let buildRun: string | undefined;
    const rebuild = build.any || opts.buildCommitClear === true || opts.buildGitRepoSecretClear === true;
    if (rebuild) {
      const { job } = await client.getJob(project, opts.name);
      const buildName = job.build ?? opts.name;
      const patch: BuildPatchBody = { ...build.spec };
      if (opts.buildCommitClear === true) patch.source_revision = null;
      if (opts.buildGitRepoSecretClear === true) patch.source_secret = null;
      if (job.build === undefined && build.spec.source_type === undefined) {
        throw new UsageError(`Job '${opts.name}' was not made from source: give --build-source to build it.`, path);
      }
      if (Object.keys(patch).length > 0 && job.build !== undefined) {
        out.info(`Updating build '${buildName}'...`);
        await client.updateBuild(project, buildName, patch, '*');
        build.spec = {};
      }
      buildRun = (await buildForJob(ctx, client, project, buildName, build, opts, out)).name;
    }
    out.info(`Updating job '${opts.name}'...`);
    let job: ApiJob | undefined;
    for (let attempt = 1; ; attempt++) {
      const current = await client.getJob(project, opts.name);
      const patch: JobPatchBody & { build_run?: string | null } = changedFields(current.job, input);
      if (buildRun !== undefined) patch.build_run = buildRun;
      if (clearBuild) patch.build_run = null;
      if (Object.keys(patch).length === 0) {
        throw new UsageError('Nothing to update: give at least one option that changes the job.', path);
      }
      try {
        job = (await client.updateJob(project, opts.name, patch, current.etag)).job;
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 412 && attempt < 3)) throw e;
      }
    }
    if (opts.output) printFormatted(out, opts.output, job);
    out.ok();
  });

  const get = group.command('get').description('Show a job');
  flag(get, '-n, --name <name>', 'Name of the job', { required: true });
  commonFlags(get);
  examples(get, ['ce job get --name myjob', 'ce job get --name myjob -o yaml', "ce job get -n myjob -o jsonpath='{.scale_array_spec}'"]);
  action<NameOptions>(ctx, get, async ({ out, opts }) => {
    out.info(`Getting job '${opts.name}'...`);
    const client = await ctx.client();
    const projectName = await ctx.project();
    const { job } = await client.getJob(projectName, opts.name);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, job);
    const project = await projectOrUndefined(client, projectName);
    const driver = await client.serverInfo().then((i) => i.driver, () => undefined);
    out.info();
    for (const l of renderJob(job, project, ctx.now(), driver)) out.line(l);
  });

  const list = group.command('list').description('List the jobs of the selected project');
  sortFlag(list);
  commonFlags(list);
  examples(list, ['ce job list', 'ce job list --sort-by age', "ce job list -o jsonpath='{.items[*].name}'"]);
  action<CommonOptions & { sortBy?: string }>(ctx, list, async ({ out, opts }) => {
    out.info('Listing jobs...');
    const client = await ctx.client();
    const jobs = sortResources(await client.listAllJobs(await ctx.project()), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(jobs));
    out.info();
    if (jobs.length === 0) return out.line('No jobs were found.');
    for (const l of jobsTable(jobs, ctx.now())) out.line(l);
  });

  const del = group.command('delete').description('Delete a job and its job runs (running instances are stopped)');
  flag(del, '-n, --name <name>', 'Name of the job', { required: true });
  deleteFlags(del);
  flag(del, '-o, --orphan-job-runs', 'Keep the job runs of the job (delete them separately)');
  quietFlag(del);
  examples(del, ['ce job delete --name myjob', 'ce job delete --name myjob-daemon -f', 'ce job delete --name myjob --orphan-job-runs -f']);
  action<NameOptions & { force?: boolean; ignoreNotFound?: boolean; orphanJobRuns?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!(await confirm(ctx.io, `Are you sure you want to delete job ${opts.name}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting job '${opts.name}'...`);
    const client = await ctx.client();
    try {
      await client.deleteJob(await ctx.project(), opts.name, { orphanJobRuns: Boolean(opts.orphanJobRuns) });
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Job '${opts.name}' was not found.`);
    }
    out.ok();
  });
}

interface BuildWaitFlags {
  wait?: boolean;
  waitTimeout?: number;
}

/** `--wait` (default) / `--no-wait` / `--wait-timeout`: on job create and update they apply to the build run only. */
function jobBuildWaitFlags(cmd: Command): void {
  flag(cmd, '-w, --wait', 'With --build-source or --rebuild: wait for the build run before changing the job (default true)');
  flag(cmd, '--no-wait', 'With --build-source or --rebuild: do not wait; the job takes the image when the build run succeeds', { aliases: ['--nw'] });
  flag(cmd, '--wait-timeout <seconds>', 'Give up waiting for the build run after this many seconds', { aliases: ['--wto'], parse: intParser(1), shownDefault: '600' });
}

/**
 * Makes sure the job's build exists with the flags' source (creating it, or updating it when
 * `flags.spec` has fields), uploads a local directory, submits a run and (unless `--no-wait`)
 * waits for it. A failed build throws `CliFailure` (exit 1) with its reason and log tail.
 */
async function buildForJob(
  ctx: CliContext,
  client: CejobsClient,
  project: string,
  buildName: string,
  flags: BuildFlags,
  opts: BuildWaitFlags,
  out: Output,
): Promise<ApiBuildRun> {
  if (Object.keys(flags.spec).length > 0) {
    let exists = true;
    try {
      await client.getBuild(project, buildName);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      exists = false;
    }
    if (exists) {
      out.info(`Updating build '${buildName}'...`);
      await client.updateBuild(project, buildName, flags.spec, '*');
    } else {
      out.info(`Creating build '${buildName}'...`);
      await client.createBuild(project, { name: buildName, ...flags.spec });
    }
  }
  if (flags.localDir) await uploadSource(client, project, buildName, flags.localDir, out);
  return submitAndWait(client, project, buildName, out, {
    wait: opts.wait !== false,
    waitTimeout: opts.waitTimeout ?? 600,
    pollMs: ctx.options.pollMs ?? 1000,
  });
}
