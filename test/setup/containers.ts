/**
 * vitest globalSetup: starts what the container-driver tests need, in a temporary directory,
 * and tears it down at the end. Each piece is optional: when a tool is missing the tests that
 * need it are skipped with the reason printed here and in the skip's title.
 *
 * - Podman (`podman` installed): `podman --root/--runroot <tmp> system service --time=0
 *   unix://<tmp>/podman.sock`, with CONTAINERS_CONF = test/fixtures/containers.conf and
 *   CONTAINERS_REGISTRIES_CONF = test/fixtures/registries.conf (127.0.0.1:5055 insecure).
 * - Docker (`dockerd` installed, running as root): its own data-root, exec-root, pidfile and
 *   socket in <tmp>, `--insecure-registry 127.0.0.1:5055`.
 * - A private registry (`docker-registry` and `htpasswd` installed) on 127.0.0.1:5055 with
 *   htpasswd (bcrypt) auth; credentials in <tmp>/registry/credentials.
 * - The test image: a rootfs of busybox-static with its applet links, imported into Podman as
 *   `localhost/test-busybox:latest` (CMD ["/bin/sh"]), pushed to
 *   `127.0.0.1:5055/test/busybox:1`, and pulled by Docker from there (tagged like Podman's).
 *
 * Runs only when the selected test files include a container test (or
 * CEJOBS_CONTAINER_SETUP=always; `never` disables it).
 *
 * The helpers (rootfs, daemons) are exported for the benchmark's container scenario
 * (bench/scenarios/containers.ts), which starts a private Podman the same way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';

export interface EngineEnv {
  socketPath?: string;
  /** Why the engine is not available (tests print it in their skip). */
  skip?: string;
}

export interface ContainerTestEnv {
  podman: EngineEnv;
  docker: EngineEnv;
  /** The test image, present in every available engine. */
  image: string;
  registry: { host: string; image: string; username: string; password: string } | { skip: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    containers: ContainerTestEnv;
  }
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');
export const TEST_IMAGE = 'localhost/test-busybox:latest';
const REGISTRY_HOST = '127.0.0.1:5055';
const REGISTRY_IMAGE = `${REGISTRY_HOST}/test/busybox:1`;

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

function log(msg: string): void {
  process.stdout.write(`[container setup] ${msg}\n`);
}

export function get(socketPath: string | undefined, url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const opts = socketPath ? { socketPath, path: url } : url;
    const req = http.get(opts as http.RequestOptions, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    if (child && child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-6).join(' | ') : '';
  throw new Error(`${what} did not come up within ${timeoutMs} ms${tail ? `: ${tail}` : ''}`);
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

export function startDaemon(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  // Run in the daemon's own directory: engines write files into their working directory
  // (an empty `oom` marker appeared in the repository when dockerd ran from it).
  const child = spawn(cmd, args, { env, stdio: ['ignore', out, out], detached: true, cwd: path.dirname(logFile) });
  fs.closeSync(out);
  child.unref();
  return child;
}

export async function stopDaemon(child: ChildProcess | undefined, timeoutMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, timeoutMs);
  await exited;
  clearTimeout(t);
}

/** True for a 64-bit ELF without a PT_INTERP program header (statically linked). */
function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** Builds the busybox rootfs tarball; returns its path or throws with the reason. */
export function buildRootfs(tmp: string): string {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) throw new Error('busybox is not installed (apt-get install busybox-static)');
  if (!isStaticElf(fs.readFileSync(busybox))) throw new Error(`${busybox} is not static (apt-get install busybox-static)`);
  const rootfs = path.join(tmp, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'home']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = run(busybox, ['--list']).split('\n').filter((a) => a && a !== 'busybox' && !a.includes('/'));
  for (const a of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = path.join(tmp, 'rootfs.tar');
  run('tar', ['-C', rootfs, '-cf', tar, '.']);
  return tar;
}

function wanted(): boolean {
  const mode = process.env.CEJOBS_CONTAINER_SETUP;
  if (mode === 'never') return false;
  if (mode === 'always') return true;
  // Positional arguments of `vitest [run] [filters…]` are file filters.
  const args = process.argv.slice(2);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'run' || a === 'watch' || a === 'dev') continue;
    if (a.startsWith('-')) {
      if (!a.includes('=') && ['-t', '--testNamePattern', '--reporter', '--outputFile', '--project', '-c', '--config', '--root', '--dir'].includes(a)) i++;
      continue;
    }
    filters.push(a);
  }
  if (filters.length === 0) return true;
  const files = ['test/drivers/container.conformance.test.ts', 'test/drivers/container.driver.test.ts', 'test/builds/builds-container.test.ts', 'test/builds/cli-container-e2e.test.ts'];
  return filters.some((f) => files.some((file) => file.includes(f)) || f.includes('container'));
}

export default async function setup(project: { provide: (key: 'containers', value: ContainerTestEnv) => void }): Promise<() => Promise<void>> {
  const env: ContainerTestEnv = {
    podman: { skip: 'not set up' },
    docker: { skip: 'not set up' },
    image: TEST_IMAGE,
    registry: { skip: 'not set up' },
  };
  if (!wanted()) {
    const reason = 'container setup not run: no container test selected (CEJOBS_CONTAINER_SETUP=always forces it)';
    env.podman = { skip: reason };
    env.docker = { skip: reason };
    env.registry = { skip: reason };
    project.provide('containers', env);
    return async () => {};
  }
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-ct-'));
  const daemons: { podman?: ChildProcess; docker?: ChildProcess; registry?: ChildProcess } = {};
  const podmanEnv: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: path.join(FIXTURES, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(FIXTURES, 'registries.conf'),
  };
  const podmanArgs = ['--root', path.join(tmp, 'podman', 'root'), '--runroot', path.join(tmp, 'podman', 'run')];
  const isRoot = process.getuid?.() === 0;

  let tar: string | undefined;
  let rootfsError = '';
  try {
    tar = buildRootfs(tmp);
  } catch (e) {
    rootfsError = (e as Error).message;
  }

  // Start the three services in parallel.
  const podmanUp = (async () => {
    const podman = which('podman');
    if (!podman) throw new Error('podman is not installed (apt-get install podman runc)');
    if (!tar) throw new Error(rootfsError);
    const sock = path.join(tmp, 'podman.sock');
    daemons.podman = startDaemon(podman, [...podmanArgs, 'system', 'service', '--time=0', `unix://${sock}`], path.join(tmp, 'podman.log'), podmanEnv);
    await waitUntil('the Podman service', async () => (await get(sock, '/_ping')) === 200, 20_000, daemons.podman, path.join(tmp, 'podman.log'));
    run(podman, [...podmanArgs, 'import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, TEST_IMAGE], podmanEnv);
    return sock;
  })();
  const dockerUp = (async () => {
    const dockerd = which('dockerd');
    if (!dockerd) throw new Error('dockerd is not installed (apt-get install docker.io)');
    if (!isRoot) throw new Error('dockerd needs root here');
    const dir = path.join(tmp, 'docker');
    fs.mkdirSync(dir, { recursive: true });
    const sock = path.join(tmp, 'docker.sock');
    daemons.docker = startDaemon(
      dockerd,
      [
        '--data-root', path.join(dir, 'data'),
        '--exec-root', path.join(dir, 'exec'),
        '--pidfile', path.join(dir, 'docker.pid'),
        '-H', `unix://${sock}`,
        '--insecure-registry', REGISTRY_HOST,
      ],
      path.join(tmp, 'docker.log'),
    );
    await waitUntil('dockerd', async () => (await get(sock, '/_ping')) === 200, 30_000, daemons.docker, path.join(tmp, 'docker.log'));
    return sock;
  })();
  const user = 'cejobs';
  const password = `pw-${process.pid}-${Date.now().toString(36)}`;
  const registryUp = (async () => {
    const registry = which('docker-registry');
    const htpasswd = which('htpasswd');
    if (!registry || !htpasswd) throw new Error('docker-registry or htpasswd is not installed (apt-get install docker-registry apache2-utils)');
    if ((await get(undefined, `http://${REGISTRY_HOST}/v2/`)) !== 0) throw new Error(`${REGISTRY_HOST} is already in use`);
    const dir = path.join(tmp, 'registry');
    fs.mkdirSync(dir, { recursive: true });
    run(htpasswd, ['-Bbc', path.join(dir, 'htpasswd'), user, password]);
    fs.writeFileSync(path.join(dir, 'credentials'), `${user}:${password}\n`, { mode: 0o600 });
    fs.writeFileSync(
      path.join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${path.join(dir, 'data')}`,
        'http:',
        `  addr: ${REGISTRY_HOST}`,
        'auth:',
        '  htpasswd:',
        '    realm: cejobs-test',
        `    path: ${path.join(dir, 'htpasswd')}`,
        '',
      ].join('\n'),
    );
    daemons.registry = startDaemon(registry, ['serve', path.join(dir, 'config.yml')], path.join(tmp, 'registry.log'));
    await waitUntil('the registry', async () => (await get(undefined, `http://${REGISTRY_HOST}/v2/`)) === 401, 20_000, daemons.registry, path.join(tmp, 'registry.log'));
  })();

  const [p, d, r] = await Promise.allSettled([podmanUp, dockerUp, registryUp]);
  if (p.status === 'fulfilled') env.podman = { socketPath: p.value };
  else env.podman = { skip: `Podman not available: ${(p.reason as Error).message}` };
  if (r.status === 'rejected') env.registry = { skip: `no test registry: ${(r.reason as Error).message}` };
  else if (p.status !== 'fulfilled') env.registry = { skip: `no test registry: the image is pushed with Podman, which is not available` };
  else {
    try {
      run(which('podman')!, [...podmanArgs, 'push', '--tls-verify=false', '--creds', `${user}:${password}`, TEST_IMAGE, REGISTRY_IMAGE], podmanEnv);
      env.registry = { host: REGISTRY_HOST, image: REGISTRY_IMAGE, username: user, password };
    } catch (e) {
      env.registry = { skip: `no test registry: push failed: ${(e as Error).message}` };
    }
  }
  if (d.status === 'fulfilled') {
    if ('skip' in env.registry) env.docker = { skip: `Docker tests need the test image from the registry (${env.registry.skip})` };
    else {
      try {
        const docker = new Docker({ socketPath: d.value });
        await new Promise<void>((resolve, reject) => {
          docker.pull(REGISTRY_IMAGE, { authconfig: { username: user, password, serveraddress: REGISTRY_HOST } }, (err: unknown, s?: NodeJS.ReadableStream) => {
            if (err || !s) return reject(err ?? new Error('no stream'));
            docker.modem.followProgress(s, (e: unknown) => (e ? reject(e) : resolve()));
          });
        });
        await docker.getImage(REGISTRY_IMAGE).tag({ repo: 'localhost/test-busybox', tag: 'latest' });
        env.docker = { socketPath: d.value };
      } catch (e) {
        env.docker = { skip: `Docker could not get the test image: ${(e as Error).message}` };
      }
    }
  } else env.docker = { skip: `Docker not available: ${(d.reason as Error).message}` };

  log(`ready in ${Date.now() - t0} ms (${tmp})`);
  for (const [k, v] of Object.entries({ podman: env.podman, docker: env.docker, registry: env.registry })) {
    log(`${k}: ${'skip' in v && v.skip ? `SKIPPED — ${v.skip}` : 'ok'}`);
  }
  if (env.podman.socketPath) process.env.CEJOBS_TEST_PODMAN_SOCKET = env.podman.socketPath;
  if (env.docker.socketPath) process.env.CEJOBS_TEST_DOCKER_SOCKET = env.docker.socketPath;
  project.provide('containers', env);

  return async () => {
    const t1 = Date.now();
    // Containers first (conmon keeps Podman's running without the service), then the daemons.
    if (env.docker.socketPath) {
      try {
        const docker = new Docker({ socketPath: env.docker.socketPath });
        for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      } catch {
        // the daemon is gone
      }
    }
    if (daemons.podman) {
      try {
        run(which('podman')!, [...podmanArgs, 'rm', '--all', '--force', '--time', '0'], podmanEnv);
      } catch {
        // nothing to remove
      }
    }
    await Promise.all([stopDaemon(daemons.podman), stopDaemon(daemons.docker), stopDaemon(daemons.registry)]);
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
    // Empty per-attempt cgroup parents of test attempts the tests did not release (Podman OOM detection).
    for (const ctrl of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
      const root = path.join('/sys/fs/cgroup', ctrl, 'cejobs-containers');
      let names: string[] = [];
      try {
        names = fs.readdirSync(root);
      } catch {
        continue;
      }
      for (const n of names.filter((x) => /^cejobs-t\d+x\d+_/.test(x))) {
        try {
          for (const c of fs.readdirSync(path.join(root, n), { withFileTypes: true })) if (c.isDirectory()) fs.rmdirSync(path.join(root, n, c.name));
          fs.rmdirSync(path.join(root, n));
        } catch {
          // in use or already gone
        }
      }
    }
    log(`torn down in ${Date.now() - t1} ms`);
  };
}
