/**
 * The runtime flags shared by `job create|update` and `jobrun submit|resubmit` (reference §1.1,
 * §1.2, §1.4, §1.5) and their mapping to API fields (reference §5.4):
 *
 *   --image/-i → image_reference          --registry-secret/--rs → image_secret
 *   --command/--cmd/-c → run_commands      --argument/--arg/-a → run_arguments
 *   --env/-e, --env-from-configmap/--env-cm, --env-from-secret/--env-sec → run_env_variables
 *   --mount-configmap/--mount-cm, --mount-secret/--mount-sec → run_volume_mounts
 *   --mode → run_mode                      --array-indices/--array-indexes/--ai → scale_array_spec
 *   --array-size/--as/--instances/--is N → scale_array_spec "0-(N-1)" (exclusive with indices)
 *   --cpu, --memory/-m, --ephemeral-storage/--es → scale_cpu/memory/ephemeral_storage_limit
 *   --maxexecutiontime/--met → scale_max_execution_time   --retrylimit/-r → scale_retry_limit
 *
 * Env forms of `--env-from-configmap`/`--env-from-secret`: `NAME` (every key), `PREFIX=NAME`
 * (every key, prefixed), `NAME:K1,K2` (those keys), `NAME:NEW=KEY` (a key under a new name).
 * Update/resubmit also take clear and remove flags and merge env and mounts into the current lists.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { arraySpecForSize, normalizeArraySpec } from '../domain/array-spec.js';
import { isCejobsError } from '../domain/errors.js';
import type { EnvVar, RuntimeSpec, VolumeMount } from '../domain/types.js';
import { UsageError } from './errors.js';
import { flag, intParser, type FlagOptions } from './options.js';

/** Help of `--force` on `job create|update` and `jobrun submit|resubmit`. */
export const FORCE_HELP = 'Skip the check that the referenced config maps, secrets and registry secret (and keys) exist';

export type RuntimeVariant = 'create' | 'update' | 'submit' | 'resubmit';

/** What the runtime flags of one command line ask for. */
export interface RuntimeInput {
  /** Fields set directly by flags (lists only when given). */
  fields: Partial<RuntimeSpec>;
  /** Env entries to add, in command-line order across `--env`, `--env-cm`, `--env-sec`. */
  envAdds: EnvVar[];
  mounts: VolumeMount[];
  argumentsClear: boolean;
  commandsClear: boolean;
  registrySecretClear: boolean;
  /** `--env-rm`: literal or key-reference variables to remove, by name. */
  envRemove: string[];
  /** `--env-from-configmap-rm` / `--env-from-secret-rm`: full references to remove. */
  envConfigMapRemove: string[];
  envSecretRemove: string[];
  /** `--mount-rm`: mounts to remove, by mount path. */
  mountRemove: string[];
}

function parseLiteralEnv(value: string): EnvVar {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Use NAME=VALUE.');
  return { type: 'literal', name: value.slice(0, eq), value: value.slice(eq + 1) };
}

/** Parses the four forms of `--env-from-configmap` / `--env-from-secret` into env entries. */
export function parseEnvFrom(value: string, kind: 'config_map' | 'secret'): EnvVar[] {
  const what = kind === 'config_map' ? 'CONFIGMAP' : 'SECRET';
  const forms = `Use ${what}, PREFIX=${what}, ${what}:KEY1,KEY2 or ${what}:NEWNAME=KEY.`;
  const colon = value.indexOf(':');
  if (colon >= 0) {
    const reference = value.slice(0, colon).trim();
    const keys = value
      .slice(colon + 1)
      .split(',')
      .map((k) => k.trim());
    if (reference === '' || keys.some((k) => k === '')) throw new InvalidArgumentError(forms);
    return keys.map((item) => {
      const eq = item.indexOf('=');
      const name = eq >= 0 ? item.slice(0, eq).trim() : item;
      const key = eq >= 0 ? item.slice(eq + 1).trim() : item;
      if (name === '' || key === '') throw new InvalidArgumentError(forms);
      return { type: `${kind}_key_reference`, name, reference, key } as EnvVar;
    });
  }
  const eq = value.indexOf('=');
  if (eq >= 0) {
    const prefix = value.slice(0, eq).trim();
    const reference = value.slice(eq + 1).trim();
    if (prefix === '' || reference === '') throw new InvalidArgumentError(forms);
    return [{ type: `${kind}_full_reference`, reference, prefix } as EnvVar];
  }
  if (value.trim() === '') throw new InvalidArgumentError(forms);
  return [{ type: `${kind}_full_reference`, reference: value.trim() } as EnvVar];
}

function parseMount(value: string, type: 'config_map' | 'secret'): VolumeMount {
  const eq = value.indexOf('=');
  const dir = eq >= 0 ? value.slice(0, eq).trim() : '';
  const reference = eq >= 0 ? value.slice(eq + 1).trim() : '';
  if (dir === '' || reference === '') {
    throw new InvalidArgumentError(`Use MOUNT_DIRECTORY=${type === 'config_map' ? 'CONFIGMAP' : 'SECRET'}.`);
  }
  return { type, reference, mount_path: dir };
}

function arraySpecParser(value: string): string {
  try {
    return normalizeArraySpec(value, '--array-indices');
  } catch (e) {
    if (isCejobsError(e)) throw new InvalidArgumentError(e.message.replace(/^--array-indices\s+"[^"]*"\s+is not valid:\s*/, ''));
    throw e;
  }
}

/**
 * Registers the runtime flags of `variant` on `cmd` and returns a reader of the parsed options.
 * `create`/`submit` have no clear/remove flags; `resubmit` has no `--image`/`--registry-secret`;
 * on `update`/`resubmit`, `--array-size 0` means "unchanged" (Code Engine's default there).
 */
export function addRuntimeFlags(cmd: Command, variant: RuntimeVariant): (opts: Record<string, unknown>) => RuntimeInput {
  const envAdds: EnvVar[] = [];
  const collectEnv = (parse: (v: string) => EnvVar[]) => (value: string) => {
    const vars = parse(value);
    envAdds.push(...vars);
    return value;
  };
  const creating = variant === 'create' || variant === 'submit';
  // What --help says a flag defaults to: the server's default on create; on submit the job's
  // value when the run has a job (else the server's default); on resubmit the previous run's.
  const dflt = (value: string): FlagOptions =>
    variant === 'create'
      ? { shownDefault: value }
      : variant === 'submit'
        ? { defaultText: `the job's, else ${value}` }
        : variant === 'resubmit'
          ? { defaultText: "the previous run's" }
          : {};

  if (variant !== 'resubmit') {
    flag(cmd, '-i, --image <image>', 'Container image, REGISTRY/NAMESPACE/REPOSITORY:TAG (optional on the process driver)');
  }
  flag(cmd, '-c, --command <command>', 'Command to run, replacing the image entrypoint; repeat for each part', { aliases: ['--cmd'], repeatable: true });
  flag(cmd, '-a, --argument <argument>', 'Argument for the command; repeat for each argument', { aliases: ['--arg'], repeatable: true });
  flag(cmd, '--array-indices <spec>', 'Array indices to run, e.g. 0,3,6,9 or 1-5,7-8,10 (at most 1000 indices)', {
    aliases: ['--array-indexes', '--ai'],
    parse: arraySpecParser,
    ...dflt('0'),
  });
  flag(cmd, '--array-size <n>', creating ? 'Number of instances, indices 0..N-1' : 'Number of instances, indices 0..N-1; 0 = unchanged', {
    aliases: ['--as', '--instances', '--is'],
    parse: intParser(creating ? 1 : 0, 1000),
    ...(variant === 'update' ? { shownDefault: '0' } : dflt('1')),
  });
  flag(cmd, '--cpu <vcpu>', 'vCPU per instance; with --memory one of the supported pairs', dflt('1'));
  flag(cmd, '-m, --memory <size>', 'Memory per instance, e.g. 4G or 512M', dflt('4G'));
  flag(cmd, '--ephemeral-storage <size>', 'Ephemeral storage per instance, e.g. 400M', {
    aliases: ['--es'],
    ...dflt('400M'),
  });
  flag(cmd, '--maxexecutiontime <seconds>', 'Maximum execution time of a run in seconds, 1-86400 (task mode only)', {
    aliases: ['--met'],
    parse: intParser(1, 86_400),
    ...dflt('7200'),
  });
  flag(cmd, '-r, --retrylimit <n>', 'Retries of a failed index, 0-5 (task mode only)', {
    parse: intParser(0, 5),
    ...dflt('3'),
  });
  flag(cmd, '--mode <mode>', 'task (finish, with retries and a deadline) or daemon (run forever, restarted on failure)', {
    choices: ['task', 'daemon'],
    ...dflt('task'),
  });
  flag(cmd, '-e, --env <NAME=VALUE>', 'Environment variable; repeatable; adds or overrides', {
    repeatable: true,
    parse: collectEnv((v) => [parseLiteralEnv(v)]),
  });
  flag(cmd, '--env-from-configmap <ref>', 'Env from a config map: CM, PREFIX=CM, CM:KEY1,KEY2 or CM:NEWNAME=KEY; repeatable', {
    aliases: ['--env-cm'],
    repeatable: true,
    parse: collectEnv((v) => parseEnvFrom(v, 'config_map')),
  });
  flag(cmd, '--env-from-secret <ref>', 'Env from a secret: SECRET, PREFIX=SECRET, SECRET:KEY1,KEY2 or SECRET:NEWNAME=KEY; repeatable', {
    aliases: ['--env-sec'],
    repeatable: true,
    parse: collectEnv((v) => parseEnvFrom(v, 'secret')),
  });
  flag(cmd, '--mount-configmap <DIR=CM>', 'Mount a config map at an absolute directory, one file per key; repeatable', {
    aliases: ['--mount-cm'],
    repeatable: true,
    parse: (v) => parseMount(v, 'config_map'),
  });
  flag(cmd, '--mount-secret <DIR=SECRET>', 'Mount a secret at an absolute directory, one file per key; repeatable', {
    aliases: ['--mount-sec'],
    repeatable: true,
    parse: (v) => parseMount(v, 'secret'),
  });
  if (variant !== 'resubmit') {
    flag(cmd, '--registry-secret <name>', 'Registry secret with the credentials to pull the image', { aliases: ['--rs'] });
  }
  if (variant === 'update' || variant === 'resubmit') {
    flag(cmd, '--arguments-clear', 'Clear the arguments', { aliases: ['--ac'] });
    flag(cmd, '--commands-clear', 'Clear the commands', { aliases: ['--cc'] });
    flag(cmd, '--env-rm <name>', 'Remove an environment variable (literal or key reference); repeatable', { repeatable: true });
    flag(cmd, '--env-from-configmap-rm <cm>', 'Remove the full reference to a config map; repeatable', { aliases: ['--env-cm-rm'], repeatable: true });
    flag(cmd, '--env-from-secret-rm <secret>', 'Remove the full reference to a secret; repeatable', { aliases: ['--env-sec-rm'], repeatable: true });
    flag(cmd, '--mount-rm <dir>', 'Remove the mount at a directory; repeatable', { repeatable: true });
  }
  if (variant === 'update') {
    flag(cmd, '--registry-secret-clear', 'Clear the registry secret', { aliases: ['--rsc'] });
  }

  return (opts) => {
    const fields: Partial<RuntimeSpec> = {};
    const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
    const num = (k: string): number | undefined => (typeof opts[k] === 'number' ? (opts[k] as number) : undefined);
    const list = <T>(k: string): T[] | undefined => (Array.isArray(opts[k]) ? (opts[k] as T[]) : undefined);
    if (str('image') !== undefined) fields.image_reference = str('image')!;
    if (str('registrySecret') !== undefined) fields.image_secret = str('registrySecret')!;
    if (list<string>('command')) fields.run_commands = list<string>('command')!;
    if (list<string>('argument')) fields.run_arguments = list<string>('argument')!;
    const size = num('arraySize');
    // 0 (update/resubmit) means "unchanged", so it does not conflict with --array-indices
    if (str('arrayIndices') !== undefined && size !== undefined && size > 0) {
      throw new UsageError("Option '--array-indices <spec>' cannot be used with option '--array-size <n>'.");
    }
    if (str('arrayIndices') !== undefined) fields.scale_array_spec = str('arrayIndices')!;
    if (size !== undefined && size > 0) fields.scale_array_spec = arraySpecForSize(size, '--array-size');
    if (str('cpu') !== undefined) fields.scale_cpu_limit = str('cpu')!;
    if (str('memory') !== undefined) fields.scale_memory_limit = str('memory')!;
    if (str('ephemeralStorage') !== undefined) fields.scale_ephemeral_storage_limit = str('ephemeralStorage')!;
    if (num('maxexecutiontime') !== undefined) fields.scale_max_execution_time = num('maxexecutiontime')!;
    if (num('retrylimit') !== undefined) fields.scale_retry_limit = num('retrylimit')!;
    if (str('mode') !== undefined) fields.run_mode = str('mode') as RuntimeSpec['run_mode'];
    return {
      fields,
      envAdds: [...envAdds],
      mounts: [...(list<VolumeMount>('mountConfigmap') ?? []), ...(list<VolumeMount>('mountSecret') ?? [])],
      argumentsClear: opts.argumentsClear === true,
      commandsClear: opts.commandsClear === true,
      registrySecretClear: opts.registrySecretClear === true,
      envRemove: list<string>('envRm') ?? [],
      envConfigMapRemove: list<string>('envFromConfigmapRm') ?? [],
      envSecretRemove: list<string>('envFromSecretRm') ?? [],
      mountRemove: list<string>('mountRm') ?? [],
    };
  };
}

/** The body fields of a new job or run: the flags' fields plus env and mounts when given. */
export function newResourceFields(input: RuntimeInput): Partial<RuntimeSpec> {
  const body: Partial<RuntimeSpec> = { ...input.fields };
  if (input.envAdds.length > 0) body.run_env_variables = input.envAdds;
  if (input.mounts.length > 0) body.run_volume_mounts = input.mounts;
  return body;
}

const isKeyed = (v: EnvVar): boolean => v.type === 'literal' || v.type.endsWith('_key_reference');

/**
 * Applies env changes to a current list: removals first (`--env-rm` names literals and key
 * references; `--env-*-rm` full references), then additions — a literal or key reference
 * replaces any literal or key reference of the same name, a full reference replaces the full
 * reference to the same config map / secret; otherwise it is appended.
 */
export function applyEnvChanges(current: readonly EnvVar[], input: Pick<RuntimeInput, 'envAdds' | 'envRemove' | 'envConfigMapRemove' | 'envSecretRemove'>): EnvVar[] {
  let list = current.filter((v) => {
    if (isKeyed(v) && v.name !== undefined && input.envRemove.includes(v.name)) return false;
    if (v.type === 'config_map_full_reference' && input.envConfigMapRemove.includes(v.reference ?? '')) return false;
    if (v.type === 'secret_full_reference' && input.envSecretRemove.includes(v.reference ?? '')) return false;
    return true;
  });
  for (const add of input.envAdds) {
    if (isKeyed(add)) list = list.filter((v) => !(isKeyed(v) && v.name === add.name));
    else list = list.filter((v) => !(v.type === add.type && v.reference === add.reference));
    list.push(add);
  }
  return list;
}

/** Applies mount changes: `--mount-rm` by path, then additions replacing a mount at the same path. */
export function applyMountChanges(current: readonly VolumeMount[], input: Pick<RuntimeInput, 'mounts' | 'mountRemove'>): VolumeMount[] {
  let list = current.filter((m) => !input.mountRemove.includes(m.mount_path));
  for (const add of input.mounts) {
    list = list.filter((m) => m.mount_path !== add.mount_path);
    list.push(add);
  }
  return list;
}

/** The current lists an update or resubmit starts from. */
export interface CurrentLists {
  run_commands?: string[];
  run_arguments?: string[];
  run_env_variables?: EnvVar[];
  run_volume_mounts?: VolumeMount[];
}

/**
 * The changed fields of an update or resubmit against `current`: scalar flags as given, lists
 * cleared and/or replaced by `--cmd`/`--arg`, env and mounts merged (whole lists, only when they
 * change). `image_secret: null` for `--registry-secret-clear`.
 */
export function changedFields(current: CurrentLists, input: RuntimeInput): { [K in keyof RuntimeSpec]?: RuntimeSpec[K] | null } {
  const out: { [K in keyof RuntimeSpec]?: RuntimeSpec[K] | null } = { ...input.fields };
  if (input.commandsClear && !input.fields.run_commands) out.run_commands = [];
  if (input.argumentsClear && !input.fields.run_arguments) out.run_arguments = [];
  if (input.registrySecretClear && input.fields.image_secret === undefined) out.image_secret = null;
  if (input.envAdds.length || input.envRemove.length || input.envConfigMapRemove.length || input.envSecretRemove.length) {
    out.run_env_variables = applyEnvChanges(current.run_env_variables ?? [], input);
  }
  if (input.mounts.length || input.mountRemove.length) {
    out.run_volume_mounts = applyMountChanges(current.run_volume_mounts ?? [], input);
  }
  return out;
}
