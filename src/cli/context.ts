/**
 * `CliContext`: what every command gets — the I/O, the state home, the clock, a lazily
 * connected API client and the selected project — plus helpers shared by the command groups
 * (an `Output` configured from `-q`/`-o`, printing API objects for `-o`).
 */
import type { Command } from 'commander';
import YAML from 'yaml';
import type { CejobsClient } from '../client/client.js';
import { defaultHome } from '../shared/state-home.js';
import { selectedProject } from './config.js';
import { connect } from './connect.js';
import { UsageError } from './errors.js';
import { Output, type CliIo } from './io.js';
import { JsonPathError, jsonPathText, jsonPathValues } from './jsonpath.js';
import type { OutputFormat } from './options.js';

/** Hooks for tests and embedders of `runCli`. */
export interface RunCliOptions {
  /** A client to use instead of connecting (no discovery, no auto-start). */
  client?: CejobsClient;
  /** The clock for ages (default: `new Date()`). */
  now?: () => Date;
  /** Starts a background server when none answers (default: spawn `ce server start`). */
  startServer?: (home: string, env: Record<string, string | undefined>) => Promise<void>;
  /** Polling period of `--wait` and `logs -f` fallbacks, in ms (default 1000). */
  pollMs?: number;
}

export interface CliContext {
  readonly io: CliIo;
  readonly env: Record<string, string | undefined>;
  /** The state home: `CEJOBS_HOME` or `~/.cejobs`. */
  readonly home: string;
  readonly options: RunCliOptions;
  now(): Date;
  /** The API client, connected on first use (auto-starting a local server if needed). */
  client(): Promise<CejobsClient>;
  /** Name of the selected project (`default` when none). */
  project(): Promise<string>;
}

export function createContext(io: CliIo, options: RunCliOptions = {}): CliContext {
  const home = defaultHome(io.env as NodeJS.ProcessEnv);
  let client: Promise<CejobsClient> | undefined = options.client ? Promise.resolve(options.client) : undefined;
  return {
    io,
    env: io.env,
    home,
    options,
    now: options.now ?? (() => new Date()),
    client() {
      client ??= connect({
        home,
        env: io.env,
        ...(options.startServer ? { startServer: options.startServer } : {}),
        onAutoStart: () => io.stderr.write('No cejobs server answers; starting a local one in the background...\n'),
      });
      return client;
    },
    project: () => selectedProject(home),
  };
}

/** Options every command may have. */
export interface CommonOptions {
  quiet?: boolean;
  output?: OutputFormat;
}

/** The Output for a command: quiet with `-q`, `IBMCLOUD_QUIET=true` or any `-o`. */
export function outputFor(ctx: CliContext, opts: CommonOptions): Output {
  const envQuiet = (ctx.env.IBMCLOUD_QUIET ?? '').toLowerCase() === 'true';
  return new Output(ctx.io, Boolean(opts.quiet) || envQuiet || opts.output !== undefined);
}

/** `ce job create` for a commander command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Prints `value` as `-o` asked (json, yaml, jsonpath text or jsonpath values as JSON). */
export function printFormatted(out: Output, format: OutputFormat, value: unknown): void {
  switch (format.kind) {
    case 'json':
      out.line(JSON.stringify(value, null, 2));
      return;
    case 'yaml':
      out.write(YAML.stringify(value));
      return;
    case 'jsonpath':
      try {
        if (format.asJson) out.line(JSON.stringify(jsonPathValues(format.expr, value), null, 2));
        else out.line(jsonPathText(format.expr, value));
      } catch (e) {
        if (e instanceof JsonPathError) throw new UsageError(`--output: ${e.message}`);
        throw e;
      }
  }
}

/**
 * Prints one record of a stream (`jobrun logs -f -o …`) as `-o` asked, one record at a time:
 * `json` one compact JSON line (NDJSON), `yaml` one YAML document (`---` first), `jsonpath=`
 * the template's text as one line, `jsonpath-as-json=` the selected values as one JSON line.
 */
export function printStreamed(out: Output, format: OutputFormat, value: unknown): void {
  switch (format.kind) {
    case 'json':
      out.line(JSON.stringify(value));
      return;
    case 'yaml':
      out.write(`---\n${YAML.stringify(value)}`);
      return;
    case 'jsonpath':
      try {
        if (format.asJson) out.line(JSON.stringify(jsonPathValues(format.expr, value)));
        else out.line(jsonPathText(format.expr, value));
      } catch (e) {
        if (e instanceof JsonPathError) throw new UsageError(`--output: ${e.message}`);
        throw e;
      }
  }
}

/** Lists print as `{items: [...]}` with `-o` (so `{.items[*].name}` works as with kubectl). */
export const listDocument = <T>(items: T[]): { items: T[] } => ({ items });
