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
  /** Option key as commander names it, per naming (job / build). */
  key: { job: string; build: string };
  flags: { job: string; build: string };
  aliases: { job: string[]; build: string[] };
  help: string;
  parse?: (v: string) => unknown;
}

const DEFS: FlagDef[] = [
  {
    key: { job: 'buildSource', build: 'source' },
    flags: { job: '--build-source <source>', build: '--source <source>' },
    aliases: { job: ['--source', '--bsrc', '--src'], build: ['--src'] },
    help: 'Source to build: a Git URL (https://, ssh://, file://, user@host:path) or a local directory such as .',
  },
  {
    key: { job: 'buildCommit', build: 'commit' },
    flags: { job: '--build-commit <revision>', build: '--commit <revision>' },
    aliases: { job: ['--commit', '--bcm', '--cm', '--revision'], build: ['--cm', '--revision'] },
    help: 'Git branch, tag or commit to build (default: the repository HEAD)',
  },
  {
    key: { job: 'buildContextDir', build: 'contextDir' },
    flags: { job: '--build-context-dir <dir>', build: '--context-dir <dir>' },
    aliases: { job: ['--context-dir', '--bcdr', '--cdr'], build: ['--cdr'] },
    help: 'Directory inside the source to build from',
  },
  {
    key: { job: 'buildDockerfile', build: 'dockerfile' },
    flags: { job: '--build-dockerfile <file>', build: '--dockerfile <file>' },
    aliases: { job: ['--dockerfile', '--bdf', '--df'], build: ['--df'] },
    help: 'Dockerfile, relative to the context directory (dockerfile strategy; default Dockerfile)',
  },
  {
    key: { job: 'buildGitRepoSecret', build: 'gitRepoSecret' },
    flags: { job: '--build-git-repo-secret <secret>', build: '--git-repo-secret <secret>' },
    aliases: { job: ['--git-repo-secret', '--bgrs', '--grs', '--repo'], build: ['--grs', '--repo'] },
    help: 'SSH secret (ce secret create --format ssh) to clone an ssh:// Git URL',
  },
  {
    key: { job: 'buildStrategy', build: 'strategy' },
    flags: { job: '--build-strategy <strategy>', build: '--strategy <strategy>' },
    aliases: { job: ['--strategy', '--bstr', '--str'], build: ['--str'] },
    help: "dockerfile (container driver) or source (process driver); default: the server driver's",
  },
  {
    key: { job: 'buildTimeout', build: 'timeout' },
    flags: { job: '--build-timeout <seconds>', build: '--timeout <seconds>' },
    aliases: { job: ['--bto'], build: ['--to'] },
    help: 'Seconds the build may take, 1-3600 (default 600)',
    parse: intParser(1, 3600),
  },
  {
    key: { job: 'buildCommand', build: 'buildCommand' },
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
  for (const d of DEFS) {
    flag(cmd, d.flags[naming], d.help, { aliases: d.aliases[naming], ...(d.parse ? { parse: d.parse } : {}) });
  }
  if (naming === 'build') flag(cmd, '--include-node-modules', 'source strategy: copy node_modules into the snapshot too');
  if (variant === 'job-update') {
    flag(cmd, '--rebuild', 'Build the job again from its build (source as configured) and run the new image');
    flag(cmd, '--build-clear', 'Detach the job from its build (then --image sets its image)', { aliases: ['--bc'] });
    flag(cmd, '--build-commit-clear', 'Build the repository HEAD again instead of --build-commit');
    flag(cmd, '--build-git-repo-secret-clear', 'Clone without an SSH secret');
  }
  return (opts) => {
    const get = (i: number): unknown => opts[DEFS[i]!.key[naming]];
    const spec: Partial<BuildSpec> = {};
    let localDir: string | undefined;
    const source = get(0) as string | undefined;
    if (source !== undefined) {
      if (GIT_URL.test(source)) {
        spec.source_type = 'git';
        spec.source_url = source;
      } else {
        const dir = path.resolve(source);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
          throw new UsageError(`${DEFS[0]!.flags[naming].split(' ')[0]} "${source}" is neither a Git URL nor a directory.`);
        }
        spec.source_type = 'local';
        localDir = dir;
      }
    }
    if (get(1) !== undefined) spec.source_revision = get(1) as string;
    if (get(2) !== undefined) spec.source_context_dir = get(2) as string;
    if (get(3) !== undefined) spec.strategy_spec_file = get(3) as string;
    if (get(4) !== undefined) spec.source_secret = get(4) as string;
    if (get(5) !== undefined) spec.strategy_type = get(5) as BuildSpec['strategy_type'];
    if (get(6) !== undefined) spec.timeout = get(6) as number;
    if (get(7) !== undefined) spec.source_build_command = get(7) as string;
    if (opts.includeNodeModules === true) spec.source_include_node_modules = true;
    const any = Object.keys(spec).length > 0 || opts.rebuild === true;
    return { spec, ...(localDir ? { localDir } : {}), any };
  };
}
