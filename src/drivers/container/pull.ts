/**
 * Pulls an image when the engine does not have it.
 *
 * Traps handled: Podman reports pull errors *inside* a 200 progress stream (every event is
 * checked for `error`/`errorDetail`), Docker as an HTTP error; a registry that never answers
 * must not hang a start (the pull is bounded by `timeoutMs` and its stream destroyed).
 */
import type Docker from 'dockerode';
import type { InstanceSpec } from '../driver.js';
import { errorMessage, statusOf } from './engine.js';
import { registryOf } from './create.js';

export type PullResult = { ok: true; pulled: boolean } | { ok: false; message: string };

/** Whether the engine has `image` (a normalised reference). Rejects when the engine fails. */
export async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

/** The `authconfig` of the credentials, when they are for the image's registry (or name none). */
export function authOf(
  image: string,
  creds: InstanceSpec['imagePullCredentials'],
): Docker.AuthConfig | undefined {
  if (!creds) return undefined;
  const registry = registryOf(image);
  const server = (creds.server || registry).replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const sameRegistry =
    server === registry ||
    (registry === 'docker.io' && ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(server));
  if (!sameRegistry) return undefined;
  return {
    username: creds.username,
    password: creds.password,
    serveraddress: registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry,
    ...(creds.email ? { email: creds.email } : {}),
  };
}

/**
 * Makes sure the engine has `image`: `{ ok: true }` when present or pulled, `{ ok: false,
 * message }` with the registry's own words when the pull failed or took longer than
 * `timeoutMs`. Rejects only when the engine itself cannot be used.
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  creds: InstanceSpec['imagePullCredentials'],
  timeoutMs: number,
): Promise<PullResult> {
  if (await hasImage(docker, image)) return { ok: true, pulled: false };
  const authconfig = authOf(image, creds);
  let stream: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  const outcome = new Promise<PullResult>((resolve, reject) => {
    timer = setTimeout(() => {
      resolve({ ok: false, message: `pulling ${image} did not finish within ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    docker.pull(image, authconfig ? { authconfig } : {}, (err: unknown, s?: NodeJS.ReadableStream) => {
      if (err) {
        const status = statusOf(err);
        // 4xx/5xx from the pull endpoint carry the registry's message; connection errors
        // (no status) mean the engine is unusable.
        if (status === undefined) reject(err);
        else resolve({ ok: false, message: errorMessage(err) });
        return;
      }
      if (!s) {
        resolve({ ok: false, message: 'the engine answered the pull without a progress stream' });
        return;
      }
      stream = s;
      let failure: string | undefined;
      docker.modem.followProgress(
        s,
        (e: unknown) => {
          if (failure) resolve({ ok: false, message: failure });
          else if (e) resolve({ ok: false, message: errorMessage(e) });
          else resolve({ ok: true, pulled: true });
        },
        (event: { error?: string; errorDetail?: { message?: string } }) => {
          const msg = event?.errorDetail?.message ?? event?.error;
          if (msg && !failure) failure = String(msg).trim();
        },
      );
    });
  });
  try {
    const r = await outcome;
    if (r.ok) {
      // Some engines end the stream without an error event although nothing was stored.
      if (!(await hasImage(docker, image))) return { ok: false, message: `the pull of ${image} ended but the engine has no such image` };
    }
    return r;
  } finally {
    if (timer) clearTimeout(timer);
    const s = stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    s?.destroy?.();
  }
}
