/**
 * Options with Code Engine's aliases. Commander gives an option one short and one long flag;
 * Code Engine has many more (`--argument, --arg, -a`; `--array-size, --as, --instances, --is`).
 * `flag()` declares an option with its extra aliases (listed in `--help`), and `rewriteArgv()`
 * replaces every alias on a command line by its canonical long flag before commander parses it,
 * also accepting Go-style `--flag=true|false` for boolean flags.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './errors.js';
import { checkJsonPath, JsonPathError } from './jsonpath.js';

const aliasesOf = new WeakMap<Command, Map<string, string>>();

export interface FlagOptions {
  /** Extra spellings, e.g. `['--arg']` or `['--as', '--instances', '--is']`. */
  aliases?: string[];
  /** Parses (and checks) the value; throw `InvalidArgumentError` to reject it. */
  parse?: (value: string) => unknown;
  /** Collects every occurrence into an array (after `parse`). */
  repeatable?: boolean;
  choices?: readonly string[];
  /** Shown in help as `(default X)`; NOT set as a value (the server applies defaults). */
  shownDefault?: string;
  /** Shown in help as `(default: TEXT)`, for defaults that are not a value ("the job's, else 1"). */
  defaultText?: string;
  /** Long names of options this one may not be combined with. */
  conflicts?: string[];
  required?: boolean;
  hidden?: boolean;
}

/**
 * Adds an option to `cmd`. `flags` is commander syntax (`-a, --argument <value>`); aliases are
 * recorded for `rewriteArgv` and shown in the help text.
 */
export function flag(cmd: Command, flags: string, description: string, options: FlagOptions = {}): Option {
  let desc = description;
  if (options.aliases?.length) desc += ` [aliases: ${options.aliases.join(', ')}]`;
  if (options.shownDefault !== undefined) desc += ` (default ${options.shownDefault})`;
  else if (options.defaultText !== undefined) desc += ` (default: ${options.defaultText})`;
  const opt = new Option(flags, desc);
  if (options.choices) opt.choices(options.choices);
  const parse = options.parse;
  if (options.repeatable) {
    opt.argParser((value: string, previous: unknown) => [...((previous as unknown[] | undefined) ?? []), parse ? parse(value) : value]);
  } else if (parse) {
    opt.argParser((value: string) => parse(value));
  }
  if (options.conflicts) opt.conflicts(options.conflicts);
  if (options.required) opt.makeOptionMandatory(true);
  if (options.hidden) opt.hideHelp(true);
  cmd.addOption(opt);
  if (options.aliases?.length) {
    const canonical = opt.long ?? opt.short!;
    let map = aliasesOf.get(cmd);
    if (!map) aliasesOf.set(cmd, (map = new Map()));
    for (const a of options.aliases) map.set(a, canonical);
  }
  return opt;
}

/** `--quiet/-q` and, unless `output` is false, `--output/-o`. */
export function commonFlags(cmd: Command, options: { output?: boolean } = {}): void {
  if (options.output !== false) {
    flag(cmd, '-o, --output <format>', 'Output format: json, yaml, jsonpath=EXPR, jsonpath-as-json=EXPR', {
      parse: parseOutputFormat,
    });
  }
  quietFlag(cmd);
}

/** `--quiet/-q`, the same help text everywhere. */
export function quietFlag(cmd: Command): void {
  flag(cmd, '-q, --quiet', 'Only print results, no progress messages (also IBMCLOUD_QUIET=true)');
}

/** What `-o` asked for. */
export type OutputFormat = { kind: 'json' } | { kind: 'yaml' } | { kind: 'jsonpath'; expr: string; asJson: boolean };

export function parseOutputFormat(value: string): OutputFormat {
  if (value === 'json') return { kind: 'json' };
  if (value === 'yaml') return { kind: 'yaml' };
  const m = /^(jsonpath|jsonpath-as-json)=(.*)$/s.exec(value);
  if (m && m[2]!.trim() !== '') {
    // checked here, while parsing the command line, so a bad template fails before any request
    try {
      checkJsonPath(m[2]!);
    } catch (e) {
      if (e instanceof JsonPathError) throw new InvalidArgumentError(`Invalid JSONPath template: ${e.message}.`);
      throw e;
    }
    return { kind: 'jsonpath', expr: m[2]!, asJson: m[1] === 'jsonpath-as-json' };
  }
  throw new InvalidArgumentError('Use json, yaml, jsonpath=EXPR or jsonpath-as-json=EXPR.');
}

/** A whole number within [min, max]. */
export function intParser(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const v = value.trim();
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('It must be a whole number.');
    const n = Number(v);
    if (n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `It must be at least ${min}.` : `It must be from ${min} to ${max}.`);
    }
    return n;
  };
}

/** The subcommand `argv` names (following names and aliases), and where its options begin. */
function findLeaf(root: Command, argv: readonly string[]): { cmd: Command; at: number } {
  let cmd = root;
  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok.startsWith('-')) break;
    const sub = cmd.commands.find((c) => c.name() === tok || c.aliases().includes(tok));
    if (!sub) break;
    cmd = sub;
  }
  return { cmd, at: i };
}

function findOption(cmd: Command, name: string): Option | undefined {
  return cmd.options.find((o) => o.long === name || o.short === name);
}

/** Takes no value: a boolean flag. */
const isBoolean = (o: Option): boolean => !o.required && !o.optional;

/**
 * Gives every boolean flag of `cmd` its counterpart, hidden from help, so that `--flag=false`
 * and `--flag=true` can always be rewritten to a flag that sets that value: `--force` gets
 * `--no-force`, `--no-select` gets `--select`. Existing counterparts are kept. Defaults do not
 * change (commander keeps the default of the first-defined form).
 */
export function addBooleanCounterparts(cmd: Command): void {
  for (const opt of [...cmd.options]) {
    if (!isBoolean(opt) || !opt.long || opt.long === '--version') continue;
    const other = opt.negate ? `--${opt.long.slice(5)}` : `--no-${opt.long.slice(2)}`;
    if (findOption(cmd, other)) continue;
    cmd.addOption(new Option(other).hideHelp(true));
  }
}

/**
 * Rewrites aliases of the addressed subcommand's options to their canonical flags
 * (`--arg=x` → `--argument=x`, `--ai 1` → `--array-indices 1`), skipping option values (so
 * `--arg --ai` passes `--ai` as an argument) and stopping at `--`. Boolean flags accept
 * `=true` and `=false` (case-insensitive): `--force=false` → `--no-force`, `--no-select=false`
 * → `--select` (see `addBooleanCounterparts`); any other value is a usage error naming the flag.
 */
export function rewriteArgv(root: Command, argv: readonly string[], commandPath?: (cmd: Command) => string): string[] {
  const { cmd, at } = findLeaf(root, argv);
  const map = aliasesOf.get(cmd) ?? new Map<string, string>();
  const out = argv.slice(0, at);
  for (let i = at; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (!tok.startsWith('-') || tok === '-') {
      out.push(tok);
      continue;
    }
    const eq = tok.startsWith('--') ? tok.indexOf('=') : -1;
    const name = eq >= 0 ? tok.slice(0, eq) : tok;
    const canonical = map.get(name) ?? name;
    const opt = findOption(cmd, canonical);
    const takesValue = opt !== undefined && !isBoolean(opt);
    if (eq >= 0) {
      const value = tok.slice(eq + 1);
      if (opt && !takesValue) {
        const v = value.toLowerCase();
        if (v !== 'true' && v !== 'false') {
          throw new UsageError(`Option '${name}' takes no value; use ${name}, ${name}=true or ${name}=false.`, commandPath?.(cmd));
        }
        const positive = opt.negate ? `--${opt.long!.slice(5)}` : opt.long!;
        const negative = opt.negate ? opt.long! : `--no-${opt.long!.slice(2)}`;
        const wantOn = (v === 'true') !== Boolean(opt.negate); // --no-x=false turns x on
        const target = wantOn ? positive : negative;
        if (!findOption(cmd, target)) {
          throw new UsageError(`Option '${name}' cannot be set to ${value}.`, commandPath?.(cmd));
        }
        out.push(target);
        continue;
      }
      out.push(`${canonical}=${value}`);
      continue;
    }
    out.push(canonical);
    if (takesValue && opt!.required && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}
