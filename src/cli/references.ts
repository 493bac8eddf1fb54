/**
 * The existence check of `job create|update` and `jobrun submit|resubmit` (reference §1.0:
 * "CLI verifies referenced configmaps/secrets/registry secrets exist unless --force"): every
 * config map and secret named on the command line — by `--env-from-configmap`,
 * `--env-from-secret`, `--mount-configmap`, `--mount-secret` — must exist, every key of a key
 * reference must be one of its keys, and `--registry-secret` must name a secret of format
 * `registry`. Secrets are read without `reveal`: the redacted answer still lists the keys.
 * Messages name objects and keys, never values.
 */
import type { CejobsClient } from '../client/client.js';
import { ApiError } from '../client/errors.js';
import { CliFailure } from './errors.js';
import type { RuntimeInput } from './runtime-flags.js';

/** One reference to check. */
export interface Reference {
  kind: 'config_map' | 'secret';
  name: string;
  /** The key a key reference needs. */
  key?: string;
  /** The flag that made it (for the message). */
  flag: string;
  /** `--registry-secret`: the secret must have format `registry`. */
  registry?: boolean;
}

/** The references a command line makes (additions only; removals need nothing). */
export function referencesOf(input: RuntimeInput): Reference[] {
  const refs: Reference[] = [];
  for (const v of input.envAdds) {
    if (v.type === 'literal' || v.reference === undefined) continue;
    const kind = v.type.startsWith('config_map') ? 'config_map' : 'secret';
    const flag = kind === 'config_map' ? '--env-from-configmap' : '--env-from-secret';
    refs.push(v.type.endsWith('_key_reference') && v.key !== undefined ? { kind, name: v.reference, key: v.key, flag } : { kind, name: v.reference, flag });
  }
  for (const m of input.mounts) {
    if (m.type !== 'config_map' && m.type !== 'secret') continue;
    refs.push({ kind: m.type, name: m.reference, flag: m.type === 'config_map' ? '--mount-configmap' : '--mount-secret' });
  }
  const rs = input.fields.image_secret;
  if (typeof rs === 'string' && rs !== '') refs.push({ kind: 'secret', name: rs, flag: '--registry-secret', registry: true });
  return refs;
}

const label = (kind: Reference['kind']): string => (kind === 'config_map' ? 'Config map' : 'Secret');

/**
 * Checks `refs` in `project`; throws a `CliFailure` (exit 1) listing every problem, ending with
 * the hint that `--force` skips the check. API errors other than 404 are thrown as they are.
 */
export async function checkReferences(client: CejobsClient, project: string, refs: readonly Reference[]): Promise<void> {
  if (refs.length === 0) return;
  const found = new Map<string, { keys: Set<string>; format?: string } | null>();
  const problems: string[] = [];
  const add = (p: string): void => {
    if (!problems.includes(p)) problems.push(p);
  };
  for (const ref of refs) {
    const id = `${ref.kind}/${ref.name}`;
    if (!found.has(id)) {
      try {
        if (ref.kind === 'config_map') {
          const { configMap } = await client.getConfigMap(project, ref.name);
          found.set(id, { keys: new Set(Object.keys(configMap.data ?? {})) });
        } else {
          const { secret } = await client.getSecret(project, ref.name);
          found.set(id, { keys: new Set(Object.keys(secret.data ?? {})), format: secret.format });
        }
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        found.set(id, null);
      }
    }
    const obj = found.get(id);
    if (!obj) {
      add(`${label(ref.kind)} '${ref.name}' (${ref.flag}) was not found in project '${project}'.`);
      continue;
    }
    if (ref.key !== undefined && !obj.keys.has(ref.key)) {
      add(`Key '${ref.key}' (${ref.flag}) was not found in ${label(ref.kind).toLowerCase()} '${ref.name}'.`);
    }
    if (ref.registry && obj.format !== 'registry') {
      add(`Secret '${ref.name}' (${ref.flag}) has format '${obj.format ?? 'unknown'}'; a registry secret must have format 'registry'.`);
    }
  }
  if (problems.length > 0) {
    throw new CliFailure([...problems, 'Create what is missing, or use --force (-f) to skip this check.'].join('\n'));
  }
}
