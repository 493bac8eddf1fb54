/**
 * `ce jobrun logs|events|restart` (reference §1.6): about a whole run (`--name/-n`, also
 * `--jobrun`/`-j`) or one instance (`--instance/-i`, whose run is its name minus `-<index>-<retry>`).
 */
import type { Command } from 'commander';
import { printFormatted, printStreamed, type CliContext, type CommonOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { commonFlags, flag, quietFlag, intParser } from '../options.js';
import { eventsTable, logLine, renderLogs } from '../views.js';
import { action, examples, runOfInstance } from './util.js';

interface TargetOptions extends CommonOptions {
  name?: string;
  instance?: string;
}

function targetFlags(cmd: Command): void {
  flag(cmd, '-n, --name <run>', 'The job run', { aliases: ['--jobrun', '-j'], conflicts: ['instance'] });
  flag(cmd, '-i, --instance <instance>', 'One instance of a job run, e.g. myrun-0-0');
}

/** The run addressed, and the instance when one was named. */
function target(opts: TargetOptions, path: string): { run: string; instance?: string } {
  if (opts.instance) return { run: runOfInstance(opts.instance, path), instance: opts.instance };
  if (opts.name) return { run: opts.name };
  throw new UsageError("Required option '--name' (or '--instance') not specified.", path);
}

export function registerJobRunObserveCommands(group: Command, ctx: CliContext): void {
  // ---- logs ---------------------------------------------------------------------------------
  const logs = group.command('logs').description('Show the logs of the instances of a job run, or of one instance');
  targetFlags(logs);
  flag(logs, '-f, --follow', 'Stream new log lines until the job run ends');
  flag(logs, '-r, --raw', 'Only the log lines, without <instance>/<container>: headers');
  flag(logs, '-t, --tail <n>', 'Only the last N lines of each instance (-1 = all)', { parse: intParser(-1), shownDefault: '-1' });
  flag(logs, '--timestamps', 'Prefix each line with its ISO-8601 time', { aliases: ['--ts'] });
  commonFlags(logs);
  examples(logs, [
    'ce jobrun logs --name myjobrun-daemon',
    'ce jobrun logs -f -n myjobrun',
    'ce jobrun logs --instance myjobrun-3-0 --tail 20 --timestamps',
  ]);
  action<TargetOptions & { follow?: boolean; raw?: boolean; tail?: number; timestamps?: boolean }>(ctx, logs, async ({ out, opts, path }) => {
    const t = target(opts, path);
    const client = await ctx.client();
    const project = await ctx.project();
    const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined;
    const query = { ...(t.instance ? { instance: t.instance } : {}), ...(tail !== undefined ? { tail } : {}) };
    out.info(t.instance ? `Getting logs of instance '${t.instance}'...` : `Getting logs for all instances of job run '${t.run}'...`);
    const raw = Boolean(opts.raw);
    const timestamps = Boolean(opts.timestamps);
    if (!opts.follow) {
      const body = await client.getLogs(project, t.run, query);
      out.ok();
      if (opts.output) return printFormatted(out, opts.output, body);
      out.info();
      for (const l of renderLogs(body.logs, { raw, timestamps })) out.line(l);
      return;
    }
    await client.getJobRun(project, t.run); // a clear 404 before streaming
    out.ok();
    out.info();
    let current: string | undefined;
    for await (const rec of client.followLogs(project, t.run, query)) {
      if (opts.output) {
        printStreamed(out, opts.output, rec);
        continue;
      }
      const group = `${rec.instance}/${rec.container}`;
      if (!raw && group !== current) {
        if (current !== undefined) out.line();
        out.line(`${group}:`);
      }
      current = group;
      out.line(logLine(rec, timestamps));
    }
  });

  // ---- events -------------------------------------------------------------------------------
  const events = group.command('events').description('Show the system events of a job run and its instances, or of one instance');
  targetFlags(events);
  commonFlags(events);
  examples(events, ['ce jobrun events --name myjobrun', 'ce jobrun events --instance myjobrun-0-0', 'ce jobrun events -n myjobrun -o json']);
  action<TargetOptions>(ctx, events, async ({ out, opts, path }) => {
    const t = target(opts, path);
    out.info(t.instance ? `Getting events of instance '${t.instance}'...` : `Getting events of job run '${t.run}'...`);
    const client = await ctx.client();
    const list = await client.listEvents(await ctx.project(), t.run, t.instance ? { instance: t.instance } : {});
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, { events: list });
    out.info();
    if (list.length === 0) return out.line('No events were found.');
    for (const l of eventsTable(list, ctx.now())) out.line(l);
  });

  // ---- restart ------------------------------------------------------------------------------
  const restart = group.command('restart').description('Restart the running instances of a job run, or one instance');
  targetFlags(restart);
  quietFlag(restart);
  examples(restart, ['ce jobrun restart --name myjobrun-daemon', 'ce jobrun restart --instance myjobrun-daemon-0-0']);
  action<TargetOptions>(ctx, restart, async ({ out, opts, path }) => {
    const t = target(opts, path);
    out.info(t.instance ? `Restarting instance '${t.instance}'...` : `Restarting the running instances of job run '${t.run}'...`);
    const client = await ctx.client();
    const result = await client.restartJobRun(await ctx.project(), t.run, t.instance ? { instance: t.instance } : {});
    if (result.restarted.length === 0) out.info('No running instance to restart.');
    else for (const name of result.restarted) out.info(`Restarted instance '${name}'.`);
    out.ok();
  });
}
