/**
 * `ce jobrun submit|resubmit|get|list|delete` (reference §1.4–§1.6). Logs, events and restart
 * are in jobrun-observe.ts.
 */
import type { Command } from 'commander';
import { countArraySpec } from '../../domain/array-spec.js';
import { generateRunName } from '../../domain/names.js';
import { RUNTIME_FIELDS, type JobRunPrototype } from '../../domain/types.js';
import type { CejobsClient } from '../../client/client.js';
import { ApiError } from '../../client/errors.js';
import type { ApiJobRun } from '../../client/types.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { CliFailure, UsageError } from '../errors.js';
import type { Output } from '../io.js';
import { commonFlags, flag, quietFlag, intParser } from '../options.js';
import { confirm } from '../prompt.js';
import { checkReferences, referencesOf } from '../references.js';
import { addRuntimeFlags, changedFields, FORCE_HELP, newResourceFields } from '../runtime-flags.js';
import { failedIndexLines, jobRunsTable, renderJobRun, sortResources } from '../views.js';
import { waitForRun } from '../wait.js';
import { action, deleteFlags, examples, isNotFound, projectOrUndefined, sortFlag, sortOf } from './util.js';

interface WaitFlags {
  wait?: boolean;
  waitTimeout?: number;
}

function waitFlags(cmd: Command): void {
  flag(cmd, '-w, --wait', 'Wait for the job run to complete; exit 1 if it fails (default false)');
  flag(cmd, '--no-wait', 'Do not wait for the job run to complete (default)', { aliases: ['--nw'] });
  flag(cmd, '--wait-timeout <seconds>', 'With --wait, give up after this many seconds', {
    aliases: ['--wto'],
    parse: intParser(1),
    shownDefault: '600',
  });
}

function overrideFlag(cmd: Command): void {
  flag(cmd, '--array-size-var-override <n>', 'Value of JOB_ARRAY_SIZE in the instances (does not change how many run)', {
    aliases: ['--array-size-variable-override', '--asvo'],
    parse: intParser(1),
  });
}

/** Submits, generating `<job>-jobrun-xxxxx` names (retried on a clash) when `name` is absent. */
async function submitNamed(client: CejobsClient, project: string, proto: JobRunPrototype, explicitName: boolean): Promise<ApiJobRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.submitJobRun(project, proto);
    } catch (e) {
      if (explicitName || !(e instanceof ApiError && e.code === 'already_exists') || attempt >= 3) throw e;
      proto.name = generateRunName(proto.job_name, Math.random);
    }
  }
}

/** After submitting: wait when asked, print `-o`, finish with OK or FAILED (exit 1). */
async function finishSubmit(ctx: CliContext, out: Output, client: CejobsClient, project: string, run: ApiJobRun, opts: CommonOptions & WaitFlags): Promise<void> {
  if (!opts.wait) {
    out.info(`Run 'ce jobrun get -n ${run.name}' to check the job run status.`);
    if (opts.output) printFormatted(out, opts.output, run);
    out.ok();
    return;
  }
  const final = await waitForRun(client, project, run.name, {
    timeoutMs: (opts.waitTimeout ?? 600) * 1000,
    pollMs: ctx.options.pollMs ?? 1000,
    out,
    isTTY: ctx.io.isTTY,
  });
  if (opts.output) printFormatted(out, opts.output, final);
  const d = final.status_details;
  const total = countArraySpec(final.scale_array_spec);
  if (final.status === 'completed') {
    out.info(`Job run '${final.name}' completed: ${d?.succeeded ?? total}/${total} ${total === 1 ? 'index' : 'indices'} succeeded.`);
    out.ok();
    return;
  }
  const lines = [`Job run '${final.name}' failed: ${d?.failed ?? 0} of ${total} ${total === 1 ? 'index' : 'indices'} failed.`];
  lines.push(...failedIndexLines(final));
  lines.push(`Run 'ce jobrun logs -n ${final.name}' to see the logs of its instances.`);
  throw new CliFailure(lines.join('\n'));
}

export function registerJobRunCommands(program: Command, ctx: CliContext): Command {
  const group = program.command('jobrun').description('Submit and manage job runs');

  // ---- submit -------------------------------------------------------------------------------
  const submit = group.command('submit').description('Submit a job run, of a job (--job) or standalone (--name with --image or --cmd)');
  flag(submit, '-n, --name <name>', 'Name of the job run (generated as <job>-jobrun-xxxxx with --job)');
  flag(submit, '-j, --job <job>', 'Job whose configuration the run uses (flags override it, except the image)');
  const readSubmit = addRuntimeFlags(submit, 'submit');
  overrideFlag(submit);
  waitFlags(submit);
  flag(submit, '-f, --force', FORCE_HELP);
  commonFlags(submit);
  examples(submit, [
    'ce jobrun submit --name myjobrun-daemon --job myjob-daemon',
    'ce jobrun submit --job myjob --array-indices 1-5 --wait',
    'ce jobrun submit --name hi-job --ai=1 --image icr.io/codeengine/helloworld --wait',
    "ce jobrun submit --name standalone --cmd /bin/sh --arg -c --arg 'echo $JOB_INDEX' --array-size 10",
    'ce jobrun submit --job myjob --array-indices 4-5 --array-size-var-override 10',
  ]);
  action<CommonOptions & WaitFlags & { name?: string; job?: string; arraySizeVarOverride?: number; force?: boolean }>(ctx, submit, async ({ out, opts, path }) => {
    if (!opts.job && !opts.name) {
      throw new UsageError("Required option '--name' not specified: a job run without --job needs a name (and --image or --cmd).", path);
    }
    const input = readSubmit(opts as unknown as Record<string, unknown>);
    const proto: JobRunPrototype = { ...newResourceFields(input) };
    if (opts.job) proto.job_name = opts.job;
    proto.name = opts.name ?? generateRunName(opts.job, Math.random);
    if (opts.arraySizeVarOverride !== undefined) proto.scale_array_size_variable_override = opts.arraySizeVarOverride;
    const client = await ctx.client();
    const project = await ctx.project();
    if (!opts.force) await checkReferences(client, project, referencesOf(input));
    out.info(`Submitting job run '${proto.name}'...`);
    const run = await submitNamed(client, project, proto, opts.name !== undefined);
    await finishSubmit(ctx, out, client, project, run, opts);
  });

  // ---- resubmit -----------------------------------------------------------------------------
  const resubmit = group.command('resubmit').description("Submit a new job run with a previous run's configuration");
  flag(resubmit, '--jobrun <run>', 'The previous job run', { required: true });
  flag(resubmit, '-n, --name <name>', 'Name of the new job run (required when the previous run has no job)');
  const readResubmit = addRuntimeFlags(resubmit, 'resubmit');
  overrideFlag(resubmit);
  flag(resubmit, '--failed', "Rerun only the previous run's failed indices, keeping its JOB_ARRAY_SIZE (cejobs extension)");
  waitFlags(resubmit);
  flag(resubmit, '-f, --force', FORCE_HELP);
  commonFlags(resubmit);
  examples(resubmit, [
    'ce jobrun resubmit --jobrun myjobrun',
    'ce jobrun resubmit --name myjobresubmit --jobrun myjobrun --array-indices 4-5',
    'ce jobrun resubmit --jobrun myjobrun --failed --wait',
  ]);
  action<CommonOptions & WaitFlags & { jobrun: string; name?: string; arraySizeVarOverride?: number; failed?: boolean; force?: boolean }>(
    ctx,
    resubmit,
    async ({ out, opts, path }) => {
      const input = readResubmit(opts as unknown as Record<string, unknown>);
      const client = await ctx.client();
      const project = await ctx.project();
      if (!opts.force) await checkReferences(client, project, referencesOf(input));
      out.info(`Getting job run '${opts.jobrun}'...`);
      const previous = await client.getJobRun(project, opts.jobrun);
      if (!previous.job_name && !opts.name) {
        throw new UsageError(`Required option '--name' not specified: job run '${previous.name}' has no job, so the new run needs a name.`, path);
      }
      const proto = resubmitPrototype(previous, input, opts);
      proto.name = opts.name ?? generateRunName(previous.job_name, Math.random);
      out.info(`Rerunning job run '${proto.name}'...`);
      const run = await submitNamed(client, project, proto, opts.name !== undefined);
      await finishSubmit(ctx, out, client, project, run, opts);
    },
  );

  // ---- get ----------------------------------------------------------------------------------
  const get = group.command('get').description('Show a job run: configuration, status, events and instances');
  flag(get, '-n, --name <name>', 'Name of the job run', { required: true });
  commonFlags(get);
  examples(get, ['ce jobrun get --name myjobrun-daemon', 'ce jobrun get -n myjobrun -o json', "ce jobrun get -n myjobrun -o jsonpath='{.status}'"]);
  action<CommonOptions & { name: string }>(ctx, get, async ({ out, opts }) => {
    const client = await ctx.client();
    const projectName = await ctx.project();
    out.info(`Getting jobrun '${opts.name}'...`);
    const run = await client.getJobRun(projectName, opts.name);
    if (opts.output) return printFormatted(out, opts.output, run);
    out.info(`Getting instances of jobrun '${opts.name}'...`);
    const instances = await client.listInstances(projectName, opts.name);
    out.info(`Getting events of jobrun '${opts.name}'...`);
    const events = await client.listEvents(projectName, opts.name);
    const project = await projectOrUndefined(client, projectName);
    out.info(`Run 'ce jobrun events -n ${opts.name}' to get the system events of the job run instances.`);
    out.info(`Run 'ce jobrun logs -f -n ${opts.name}' to follow the logs of the job run instances.`);
    out.ok();
    out.info();
    for (const l of renderJobRun(run, project, instances, events, ctx.now())) out.line(l);
  });

  // ---- list ---------------------------------------------------------------------------------
  const list = group.command('list').description('List job runs of the selected project');
  flag(list, '-j, --job <job>', 'Only the runs of this job');
  sortFlag(list);
  commonFlags(list);
  examples(list, ['ce jobrun list', 'ce jobrun list --job myjob -s age', "ce jobrun list -o jsonpath='{.items[*].name}'"]);
  action<CommonOptions & { job?: string; sortBy?: string }>(ctx, list, async ({ out, opts }) => {
    out.info(opts.job ? `Listing job runs of job '${opts.job}'...` : 'Listing job runs...');
    const client = await ctx.client();
    const runs = sortResources(await client.listAllJobRuns(await ctx.project(), opts.job ? { jobName: opts.job } : {}), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(runs));
    out.info();
    if (runs.length === 0) return out.line('No job runs were found.');
    for (const l of jobRunsTable(runs, ctx.now())) out.line(l);
  });

  // ---- delete -------------------------------------------------------------------------------
  const del = group.command('delete').description('Delete a job run, or all runs of a job (running instances are stopped)');
  flag(del, '-n, --name <name>', 'Name of the job run', { conflicts: ['job'] });
  flag(del, '-j, --job <job>', 'Delete every job run of this job');
  deleteFlags(del);
  quietFlag(del);
  examples(del, ['ce jobrun delete --name myjobrun-daemon -f', 'ce jobrun delete --job myjob -f']);
  action<CommonOptions & { name?: string; job?: string; force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!opts.name && !opts.job) throw new UsageError("Required option '--name' (or '--job') not specified.", path);
    const question = opts.name
      ? `Are you sure you want to delete job run ${opts.name}?`
      : `Are you sure you want to delete all job runs of job ${opts.job}?`;
    if (!(await confirm(ctx.io, question, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    const client = await ctx.client();
    const project = await ctx.project();
    const names = opts.name ? [opts.name] : (await client.listAllJobRuns(project, { jobName: opts.job! })).map((r) => r.name);
    if (opts.job && names.length === 0) out.info(`Job '${opts.job}' has no job runs.`);
    for (const name of names) {
      out.info(`Deleting job run '${name}'...`);
      try {
        await client.deleteJobRun(project, name);
      } catch (e) {
        if (!(isNotFound(e) && (opts.ignoreNotFound || opts.job))) throw e;
        out.info(`Job run '${name}' was not found.`);
      }
    }
    out.ok();
  });

  return group;
}

/**
 * The prototype of `jobrun resubmit`: the previous run's `job_name` and runtime fields (never
 * `image_reference`, `image_secret` or `run_service_account` when it has a job), its
 * `scale_array_size_variable_override`, then the flags' changes; `--failed` runs the failed
 * indices with the previous `JOB_ARRAY_SIZE`; `--array-indices`/`--array-size` and `--asvo` win.
 */
export function resubmitPrototype(
  previous: ApiJobRun,
  input: ReturnType<ReturnType<typeof addRuntimeFlags>>,
  opts: { failed?: boolean; arraySizeVarOverride?: number },
): JobRunPrototype {
  const proto: Record<string, unknown> = {};
  for (const f of RUNTIME_FIELDS) if (previous[f] !== undefined) proto[f] = previous[f];
  if (previous.job_name) {
    proto.job_name = previous.job_name;
    delete proto.image_reference;
    delete proto.image_secret;
    delete proto.run_service_account;
  }
  if (previous.scale_array_size_variable_override !== undefined) {
    proto.scale_array_size_variable_override = previous.scale_array_size_variable_override;
  }
  if (opts.failed) {
    const failed = previous.status_details?.failed_indices;
    if (!failed) throw new CliFailure(`Job run '${previous.name}' has no failed indices to rerun.`);
    proto.scale_array_spec = failed;
    proto.scale_array_size_variable_override = previous.scale_array_size_variable_override ?? countArraySpec(previous.scale_array_spec);
  }
  for (const [k, v] of Object.entries(changedFields(previous, input))) {
    if (v === null) delete proto[k];
    else proto[k] = v;
  }
  if (opts.arraySizeVarOverride !== undefined) proto.scale_array_size_variable_override = opts.arraySizeVarOverride;
  if (proto.run_mode === 'daemon') {
    // inherited task-only fields; ones given on the command line stay (the server explains why not)
    if (input.fields.scale_max_execution_time === undefined) delete proto.scale_max_execution_time;
    if (input.fields.scale_retry_limit === undefined) delete proto.scale_retry_limit;
  }
  return proto as JobRunPrototype;
}
