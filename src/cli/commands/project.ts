/**
 * `ce project|proj create|select|current|list|get|delete` (reference §1.13, local subset).
 * The selection lives in `<home>/cli.json` (only the CLI writes it); `default` when none.
 */
import type { Command } from 'commander';
import type { ApiProject } from '../../client/types.js';
import { readCliConfig, selectedProject, writeCliConfig, DEFAULT_PROJECT } from '../config.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { keyValues } from '../format.js';
import { confirm } from '../prompt.js';
import { commonFlags, flag, quietFlag } from '../options.js';
import { projectsTable, renderProject, sortResources } from '../views.js';
import { action, deleteFlags, examples, isNotFound, sortFlag, sortOf } from './util.js';

interface ProjectRefOptions extends CommonOptions {
  name?: string;
  id?: string;
}

function projectRef(opts: ProjectRefOptions, path: string): string {
  if (opts.name && opts.id) throw new UsageError("Use either --name or --id, not both.", path);
  const ref = opts.name ?? opts.id;
  if (!ref) throw new UsageError("Required option '--name' (or '--id') not specified.", path);
  return ref;
}

function refFlags(cmd: Command): void {
  flag(cmd, '-n, --name <name>', 'Name of the project');
  flag(cmd, '--id <id>', 'ID of the project', { aliases: ['--guid'] });
}

async function select(ctx: CliContext, project: ApiProject): Promise<void> {
  const config = await readCliConfig(ctx.home);
  await writeCliConfig(ctx.home, { ...config, project: project.name, project_id: project.id });
}

export function registerProjectCommands(program: Command, ctx: CliContext): void {
  const group = program.command('project').alias('proj').description('Manage projects (namespaces of jobs and job runs)');

  const create = group.command('create').description('Create a project and select it');
  flag(create, '-n, --name <name>', 'Name of the project', { required: true });
  flag(create, '--tag <tag>', 'Tag (accepted and ignored, as by the server); repeatable', { repeatable: true });
  flag(create, '--no-select', 'Do not select the new project');
  commonFlags(create);
  examples(create, ['ce project create --name myproject', 'ce project create --name batch --no-select']);
  action<CommonOptions & { name: string; tag?: string[]; select: boolean }>(ctx, create, async ({ out, opts }) => {
    out.info(`Creating project '${opts.name}'...`);
    const client = await ctx.client();
    const project = await client.createProject(opts.tag?.length ? { name: opts.name, tags: opts.tag } : { name: opts.name });
    if (opts.select !== false) {
      await select(ctx, project);
      out.info(`Now selecting project '${project.name}'.`);
    }
    if (opts.output) printFormatted(out, opts.output, project);
    out.ok();
  });

  const sel = group.command('select').description('Select the project that other commands work in');
  refFlags(sel);
  quietFlag(sel);
  examples(sel, ['ce project select --name myproject', 'ce project select --id 01234567-abcd-abcd-abcd-abcdabcd1111']);
  action<ProjectRefOptions>(ctx, sel, async ({ out, opts, path }) => {
    const ref = projectRef(opts, path);
    out.info(`Selecting project '${ref}'...`);
    const project = await (await ctx.client()).getProject(ref);
    await select(ctx, project);
    out.ok();
  });

  const current = group.command('current').description('Show the selected project');
  commonFlags(current);
  examples(current, ['ce project current']);
  action<CommonOptions>(ctx, current, async ({ out, opts }) => {
    out.info('Getting the current project context...');
    const name = await selectedProject(ctx.home);
    const project = await (await ctx.client()).getProject(name);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, project);
    out.info();
    for (const l of keyValues([
      ['Name', project.name],
      ['ID', project.id],
      ['Subdomain', project.subdomain ?? ''],
      ['Region', project.region],
    ]))
      out.line(l);
  });

  const list = group.command('list').description('List projects');
  sortFlag(list);
  commonFlags(list);
  examples(list, ['ce project list', 'ce project list -s age', "ce project list -o jsonpath='{.items[*].name}'"]);
  action<CommonOptions & { sortBy?: string }>(ctx, list, async ({ out, opts }) => {
    out.info('Getting projects...');
    const projects = sortResources(await (await ctx.client()).listAllProjects(), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(projects));
    out.info();
    if (projects.length === 0) return out.line('No projects were found.');
    for (const l of projectsTable(projects, await selectedProject(ctx.home), ctx.now())) out.line(l);
  });

  const get = group.command('get').description('Show a project');
  refFlags(get);
  commonFlags(get);
  examples(get, ['ce project get --name myproject']);
  action<ProjectRefOptions>(ctx, get, async ({ out, opts, path }) => {
    const ref = projectRef(opts, path);
    out.info(`Getting project '${ref}'...`);
    const project = await (await ctx.client()).getProject(ref);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, project);
    out.info();
    const sel = await selectedProject(ctx.home);
    for (const l of renderProject(project, sel === project.name || sel === project.id, ctx.now())) out.line(l);
  });

  const del = group.command('delete').description('Delete a project with its jobs and job runs (running instances are stopped)');
  refFlags(del);
  deleteFlags(del);
  quietFlag(del);
  examples(del, ['ce project delete --name myproject', 'ce project delete --name myproject -f']);
  action<ProjectRefOptions & { force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    const ref = projectRef(opts, path);
    if (!(await confirm(ctx.io, `Are you sure you want to delete project ${ref}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting project '${ref}'...`);
    const client = await ctx.client();
    try {
      await client.deleteProject(ref);
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Project '${ref}' was not found.`);
    }
    const config = await readCliConfig(ctx.home);
    if (config.project === ref || config.project_id === ref) {
      await writeCliConfig(ctx.home, { ...config, project: DEFAULT_PROJECT, project_id: undefined });
      out.info(`Project '${DEFAULT_PROJECT}' is selected now.`);
    }
    out.ok();
  });
}
