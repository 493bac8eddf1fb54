/**
 * `ce configmap|cm create|get|list|update|delete` (reference §1.11) in the selected project.
 * Data comes from `--from-literal`, `--from-file` and `--from-env-file` (data-flags.ts); `update`
 * merges into the current data (`GET` with the entity tag, then `PUT` with `If-Match`, retried
 * on 412) and removes keys with `--rm`.
 */
import type { Command } from 'commander';
import { ApiError } from '../../client/errors.js';
import type { ApiConfigMap } from '../../client/types.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { addDataFlags, mergeData, readDataSources } from '../data-flags.js';
import { UsageError } from '../errors.js';
import { commonFlags, flag, quietFlag } from '../options.js';
import { confirm } from '../prompt.js';
import { configMapsTable, renderConfigMap, sortResources } from '../views.js';
import { action, deleteFlags, examples, isNotFound, projectOrUndefined, sortFlag, sortOf } from './util.js';

interface NameOptions extends CommonOptions {
  name: string;
}

const NAME_HELP = 'Name of the config map: lowercase letters, digits, - and ., at most 253 characters';

export function registerConfigMapCommands(program: Command, ctx: CliContext): void {
  const group = program.command('configmap').alias('cm').description('Manage config maps (key-value data for environment variables and mounts)');

  // ---- create -------------------------------------------------------------------------------
  const create = group.command('create').description('Create a config map');
  flag(create, '-n, --name <name>', NAME_HELP, { required: true });
  const readCreate = addDataFlags(create, 'config map');
  commonFlags(create);
  examples(create, [
    'ce configmap create --name mycm --from-literal color=blue --from-literal size=large',
    'ce configmap create --name mycm --from-file ./settings.json --from-file CONFIG=./app.conf',
    'ce cm create -n mycm -e ./vars.env -l EXTRA=1',
  ]);
  action<NameOptions>(ctx, create, async ({ out, opts, path }) => {
    const sources = readCreate();
    if (sources.length === 0) {
      throw new UsageError("Give the data with at least one of '--from-literal', '--from-file' or '--from-env-file'.", path);
    }
    const data = await readDataSources(sources, false);
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Creating configmap '${opts.name}'...`);
    const cm = await client.createConfigMap(project, { name: opts.name, data });
    if (opts.output) printFormatted(out, opts.output, cm);
    out.ok();
  });

  // ---- update -------------------------------------------------------------------------------
  const update = group.command('update').description('Update a config map: add or replace keys, remove keys with --rm');
  flag(update, '-n, --name <name>', 'Name of the config map', { required: true });
  const readUpdate = addDataFlags(update, 'config map', { rm: true });
  commonFlags(update);
  examples(update, ['ce configmap update --name mycm --from-literal color=red', 'ce configmap update --name mycm --rm size --from-file ./app.conf']);
  action<NameOptions & { rm?: string[] }>(ctx, update, async ({ out, opts, path }) => {
    const sources = readUpdate();
    const remove = opts.rm ?? [];
    if (sources.length === 0 && remove.length === 0) {
      throw new UsageError("Nothing to update: give '--from-literal', '--from-file', '--from-env-file' or '--rm'.", path);
    }
    const adds = await readDataSources(sources, false);
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Updating configmap '${opts.name}'...`);
    let cm: ApiConfigMap | undefined;
    for (let attempt = 1; ; attempt++) {
      const current = await client.getConfigMap(project, opts.name);
      const data = mergeData(current.configMap.data ?? {}, remove, adds, `config map '${opts.name}'`);
      try {
        cm = (await client.replaceConfigMap(project, opts.name, data, current.etag)).configMap;
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 412 && attempt < 3)) throw e;
      }
    }
    if (opts.output) printFormatted(out, opts.output, cm);
    out.ok();
  });

  // ---- get ----------------------------------------------------------------------------------
  const get = group.command('get').description('Show a config map and its data');
  flag(get, '-n, --name <name>', 'Name of the config map', { required: true });
  commonFlags(get);
  examples(get, ['ce configmap get --name mycm', 'ce cm get -n mycm -o yaml', "ce cm get -n mycm -o jsonpath='{.data.color}'"]);
  action<NameOptions>(ctx, get, async ({ out, opts }) => {
    out.info(`Getting configmap '${opts.name}'...`);
    const client = await ctx.client();
    const projectName = await ctx.project();
    const { configMap } = await client.getConfigMap(projectName, opts.name);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, configMap);
    const project = await projectOrUndefined(client, projectName);
    out.info();
    for (const l of renderConfigMap(configMap, project, ctx.now())) out.line(l);
  });

  // ---- list ---------------------------------------------------------------------------------
  const list = group.command('list').description('List the config maps of the selected project');
  sortFlag(list);
  commonFlags(list);
  examples(list, ['ce configmap list', 'ce cm list -s age', "ce cm list -o jsonpath='{.items[*].name}'"]);
  action<CommonOptions & { sortBy?: string }>(ctx, list, async ({ out, opts }) => {
    out.info('Listing configmaps...');
    const client = await ctx.client();
    const items = sortResources(await client.listAllConfigMaps(await ctx.project()), sortOf(opts));
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(items));
    out.info();
    if (items.length === 0) return out.line('No configmaps were found.');
    for (const l of configMapsTable(items, ctx.now())) out.line(l);
  });

  // ---- delete -------------------------------------------------------------------------------
  const del = group.command('delete').description('Delete a config map');
  flag(del, '-n, --name <name>', 'Name of the config map', { required: true });
  deleteFlags(del);
  quietFlag(del);
  examples(del, ['ce configmap delete --name mycm', 'ce cm delete -n mycm -f']);
  action<NameOptions & { force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!(await confirm(ctx.io, `Are you sure you want to delete configmap ${opts.name}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting configmap '${opts.name}'...`);
    const client = await ctx.client();
    try {
      await client.deleteConfigMap(await ctx.project(), opts.name);
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Configmap '${opts.name}' was not found.`);
    }
    out.ok();
  });
}
