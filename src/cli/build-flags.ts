/**
 * Build flags (reference §1.1 build options) of `ce job create|update` (`--build-*`, with Code
 * Engine's aliases) and of `ce build create|update` (the short names), and what they become:
 * the fields of a build (`BuildSpec`) plus, for a local source, the directory to upload.
 *
 *   --build-source DIR|GIT_URL  → source_type local (DIR uploaded) | git + source_url
 *   --build-commit REV          → source_revision        --build-context-dir DIR → source_context_dir
 *   --build-dockerfile FILE     → strategy_spec_file     --build-git-repo-secret S → source_secret
 *   --build-strategy S          → strategy_type          --build-timeout N       → timeout
 *   --build-command CMD         → source_build_command (cejobs, source strategy)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { BuildSpec } from '../domain/builds.js';
import { UsageError } from './errors.js';
import { flag, intParser } from './options.js';

export type BuildFlagVariant = 'job-create' | 'job-update' | 'build-create' | 'build-update';

interface FlagDef {
  flags: { job: string; build: string };
  aliases: { job: string[]; build: string[] };
  help: string;
  parse?: (v: string) => unknown;
}

/** `--build-source`: what it sets depends on its value (a Git URL or a local directory). */
const SOURCE: FlagDef = {
  flags: { job: '--build-source <source>', build: '--source <source>' },
  aliases: { job: ['--source', '--bsrc', '--src'], build: ['--src'] },
  help: 'Source to build: a Git URL (https://, ssh://, file://, user@host:path) or a local directory such as .',
};

/** The flags that each set one build field to their value, in help order after `SOURCE`. */
const FIELDS: (FlagDef & { field: keyof BuildSpec })[] = [
  {
    field: 'source_revision',
    flags: { job: '--build-commit <revision>', build: '--commit <revision>' },
    aliases: { job: ['--commit', '--bcm', '--cm', '--revision'], build: ['--cm', '--revision'] },
    help: 'Git branch, tag or commit to build (default: the repository HEAD)',
  },
  {
    field: 'source_context_dir',
    flags: { job: '--build-context-dir <dir>', build: '--context-dir <dir>' },
    aliases: { job: ['--context-dir', '--bcdr', '--cdr'], build: ['--cdr'] },
    help: 'Directory inside the source to build from',
  },
  {
    field: 'strategy_spec_file',
    flags: { job: '--build-dockerfile <file>', build: '--dockerfile <file>' },
    aliases: { job: ['--dockerfile', '--bdf', '--df'], build: ['--df'] },
    help: 'Dockerfile, relative to the context directory (dockerfile strategy; default Dockerfile)',
  },
  {
    field: 'source_secret',
    flags: { job: '--build-git-repo-secret <secret>', build: '--git-repo-secret <secret>' },
    aliases: { job: ['--git-repo-secret', '--bgrs', '--grs', '--repo'], build: ['--grs', '--repo'] },
    help: 'SSH secret (ce secret create --format ssh) to clone an ssh:// Git URL',
  },
  {
    field: 'strategy_type',
    flags: { job: '--build-strategy <strategy>', build: '--strategy <strategy>' },
    aliases: { job: ['--strategy', '--bstr', '--str'], build: ['--str'] },
    help: "dockerfile (container driver) or source (process driver); default: the server driver's",
  },
  {
    field: 'timeout',
    flags: { job: '--build-timeout <seconds>', build: '--timeout <seconds>' },
    aliases: { job: ['--bto'], build: ['--to'] },
    help: 'Seconds the build may take, 1-3600 (default 600)',
    parse: intParser(1, 3600),
  },
  {
    field: 'source_build_command',
    flags: { job: '--build-command <command>', build: '--build-command <command>' },
    aliases: { job: ['--bcmd'], build: ['--bcmd'] },
    help: 'source strategy: shell command run in the snapshot (default npm ci when package-lock.json exists)',
  },
];

const GIT_URL = /^(?:(?:https?|ssh|git|file):\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)/;

export interface BuildFlags {
  /** The build fields the flags set. */
  spec: Partial<BuildSpec>;
  /** Absolute directory to upload (a local source). */
  localDir?: string;
  /** True when any build flag was given. */
  any: boolean;
}

/** Adds the build flags; returns the reader of the parsed options. */
export function addBuildFlags(cmd: Command, variant: BuildFlagVariant): (opts: Record<string, unknown>) => BuildFlags {
  const naming = variant.startsWith('job') ? 'job' : 'build';
  // The key commander gives each option's value.
  const keyOf = (d: FlagDef): string =>
    flag(cmd, d.flags[naming], d.help, { aliases: d.aliases[naming], ...(d.parse ? { parse: d.parse } : {}) }).attributeName();
  const sourceKey = keyOf(SOURCE);
  const fieldKeys = FIELDS.map((d) => ({ field: d.field, key: keyOf(d) }));
  if (naming === 'build') flag(cmd, '--include-node-modules', 'source strategy: copy node_modules into the snapshot too');
  if (variant === 'job-update') {
    flag(cmd, '--rebuild', 'Build the job again from its build (source as configured) and run the new image');
    flag(cmd, '--build-clear', 'Detach the job from its build (then --image sets its image)', { aliases: ['--bc'] });
    flag(cmd, '--build-commit-clear', 'Build the repository HEAD again instead of --build-commit');
    flag(cmd, '--build-git-repo-secret-clear', 'Clone without an SSH secret');
  }
  return (opts) => {
    const spec: Partial<BuildSpec> = {};
    let localDir: string | undefined;
    const source = opts[sourceKey] as string | undefined;
    if (source !== undefined) {
      if (GIT_URL.test(source)) {
        spec.source_type = 'git';
        spec.source_url = source;
      } else {
        const dir = path.resolve(source);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
          throw new UsageError(`${SOURCE.flags[naming].split(' ')[0]} "${source}" is neither a Git URL nor a directory.`);
        }
        spec.source_type = 'local';
        localDir = dir;
      }
    }
    for (const { field, key } of fieldKeys) {
      if (opts[key] !== undefined) (spec as Record<string, unknown>)[field] = opts[key];
    }
    if (opts.includeNodeModules === true) spec.source_include_node_modules = true;
    const any = Object.keys(spec).length > 0 || opts.rebuild === true;
    return { spec, ...(localDir ? { localDir } : {}), any };
  };
}
