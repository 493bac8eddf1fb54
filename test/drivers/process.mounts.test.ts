/**
 * Config maps and secrets mounted into host processes (`src/launcher/mounts.ts`): modes and
 * owners, cleanup, no namespace for attempts without mounts, nested paths, failures, a
 * launcher without the capability, and adoption by a restarted launcher. The cases that mount
 * need root, `unshare` and `mount` (the launcher's probe); they are skipped with its reason
 * otherwise.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptExit, Driver, InstanceMount, InstanceSpec } from '../../src/drivers/driver.js';
import { createProcessDriver, shutdownLauncher } from '../../src/drivers/process/driver.js';
import { detectMounts } from '../../src/launcher/mounts.js';
import { makeTestSpec, readLog, waitFor } from '../conformance/driver-conformance.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-process-mounts-'));
const probe = detectMounts({ probeDir: root });
if (!probe.support.enforced) console.log(`process.mounts: mount cases skipped: ${probe.support.how}`);

/** Mount targets live on the host filesystem (created when missing): one fresh base per test. */
const bases: string[] = [];
function base(): string {
  const b = `/tmp/cejobs-mounts-${randomBytes(6).toString('hex')}`;
  bases.push(b);
  return b;
}

interface Harness {
  dir: string;
  launcherDir: string;
  driver: Driver;
  exits: AttemptExit[];
  exitOf(id: string): Promise<AttemptExit>;
}
const harnesses: Harness[] = [];

async function harness(name: string, options: { mountMode?: 'auto' | 'off' } = {}): Promise<Harness> {
  const dir = path.join(root, name);
  const launcherDir = path.join(dir, 'launcher');
  const driver = await createProcessDriver({
    launcherDir,
    idleExitMs: 5_000,
    watchMs: 100,
    ...(options.mountMode ? { mountMode: options.mountMode } : {}),
  });
  const exits: AttemptExit[] = [];
  driver.subscribe((e) => exits.push(e));
  const h: Harness = {
    dir,
    launcherDir,
    driver,
    exits,
    exitOf: (id) => waitFor(`the exit of ${id}`, () => exits.find((e) => e.attemptId === id)),
  };
  harnesses.push(h);
  return h;
}

const sh = (script: string) => ['/bin/sh', '-c', script];
const stdout = (s: InstanceSpec) => readLog(s.logPath).filter((r) => r.stream === 'stdout').map((r) => r.text);
const cm = (mountPath: string, files: Record<string, string>, name = 'cm'): InstanceMount => ({ mountPath, source: 'config_map', name, files });
const secret = (mountPath: string, files: Record<string, string>, name = 'sec'): InstanceMount => ({ mountPath, source: 'secret', name, files });

function spec(h: Harness, label: string, argv: string[], extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return makeTestSpec(h.dir, label, argv, extra);
}

async function run(h: Harness, s: InstanceSpec): Promise<AttemptExit> {
  await h.driver.start(s);
  return h.exitOf(s.attemptId);
}

afterAll(async () => {
  for (const h of harnesses) {
    await h.driver.close();
    await shutdownLauncher(h.launcherDir, { force: true });
  }
  for (const b of bases) fs.rmSync(b, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
});

describe('process driver: mounts off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('off', { mountMode: 'off' });
  });

  it('reports mounts as not available', () => {
    expect(h.driver.capabilities.mounts.enforced).toBe(false);
    expect(h.driver.capabilities.mounts.how).toMatch(/^not available: /);
  });

  it('an attempt with mounts fails start-failed StartFailed, without the contents', async () => {
    const value = `hidden-${randomBytes(8).toString('hex')}`;
    const s = spec(h, 'refused', sh('echo ran'), { mounts: [secret(`${base()}/s`, { k: value })] });
    const exit = await run(h, s);
    expect(exit.outcome.kind).toBe('start-failed');
    if (exit.outcome.kind !== 'start-failed') return;
    expect(exit.outcome.reason).toBe('StartFailed');
    expect(exit.outcome.message).toMatch(/cannot mount files/);
    expect(exit.outcome.message).not.toContain(value);
    expect(stdout(s)).toEqual([]);
    expect(fs.existsSync(path.join(h.launcherDir, 'mounts', s.attemptId))).toBe(false);
  });

  it('attempts without mounts run as before', async () => {
    expect((await run(h, spec(h, 'plain', sh('exit 0')))).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
  });
});

describe.skipIf(!probe.support.enforced)('process driver: mounts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('on');
  });

  it('reports the mount-namespace capability', () => {
    expect(h.driver.capabilities.mounts).toEqual({ enforced: true, how: 'mount-namespace' });
  });

  it('attempts without mounts share the launcher host namespace; with mounts they get their own', async () => {
    const mine = fs.readlinkSync('/proc/self/ns/mnt');
    const plain = spec(h, 'ns-plain', sh('readlink /proc/self/ns/mnt'));
    await run(h, plain);
    expect(stdout(plain)).toEqual([mine]);
    const mounted = spec(h, 'ns-mounted', sh('readlink /proc/self/ns/mnt'), { mounts: [cm(`${base()}/c`, { a: '1' })] });
    await run(h, mounted);
    expect(stdout(mounted)).toHaveLength(1);
    expect(stdout(mounted)[0]).not.toBe(mine);
  });

  it('writes modes 0444 / 0400 in a 0700 directory, owned by root', async () => {
    const b = base();
    const s = spec(h, 'modes', sh('id -u; stat -c "%a %u %n" "$B/c" "$B/c/k" "$B/s" "$B/s/k"'), {
      mounts: [cm(`${b}/c`, { k: 'v' }), secret(`${b}/s`, { k: 'v' })],
      env: { B: b },
    });
    expect((await run(h, s)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    expect(stdout(s)).toEqual(['0', `700 0 ${b}/c`, `444 0 ${b}/c/k`, `700 0 ${b}/s`, `400 0 ${b}/s/k`]);
  });

  it('run_as_user: the files belong to the user, who reads the secret and still cannot write', async () => {
    const b = base();
    const s = spec(
      h,
      'user',
      sh('id -u; id -G; stat -c "%a %u" "$B/s" "$B/s/k"; cat "$B/s/k"; echo; (echo x > "$B/s/k") 2>/dev/null || echo "not writable"'),
      { mounts: [secret(`${b}/s`, { k: 'for nobody' })], env: { B: b }, runAsUser: 65534 },
    );
    expect((await run(h, s)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    const out = stdout(s);
    expect(out[0]).toBe('65534');
    expect(out[1]!.split(' ')).not.toContain('0'); // supplementary groups cleared
    expect(out.slice(2)).toEqual(['700 65534', '400 65534', 'for nobody', 'not writable']);
  });

  it('the workload is the main pid (in its cgroups, when used) and stop still works', async () => {
    const b = base();
    const s = spec(h, 'stoppable', sh('echo "pid=$$"; echo ready; trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'), {
      mounts: [cm(`${b}/c`, { a: '1' })],
    });
    const handle = await h.driver.start(s);
    await waitFor('ready', () => stdout(s).includes('ready'));
    expect(stdout(s)[0]).toBe(`pid=${handle.data.pid}`);
    if (h.driver.capabilities.limits.memory.how.startsWith('cgroup')) {
      expect(fs.readFileSync(`/proc/${handle.data.pid}/cgroup`, 'utf8')).toMatch(/:\/\S+\/pool-\d+-\d+$/m); // a cgroup of the launcher's pool
    }
    await h.driver.stop({ attemptId: s.attemptId }, { graceMs: 10_000 });
    expect((await h.exitOf(s.attemptId)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    expect(stdout(s)).toContain('got TERM');
  });

  it('keeps only paths in the index, removes the files when the attempt ends and at release', async () => {
    const value = `idx-${randomBytes(8).toString('hex')}`;
    const b = base();
    const s = spec(h, 'cleanup', sh('echo ready; trap "exit 0" TERM; while true; do sleep 0.1; done'), {
      mounts: [secret(`${b}/s`, { token: value }, 'db-secret')],
    });
    await h.driver.start(s);
    await waitFor('ready', () => stdout(s).includes('ready'));
    const filesDir = path.join(h.launcherDir, 'mounts', s.attemptId);
    expect(fs.readFileSync(path.join(filesDir, '0', 'token'), 'utf8')).toBe(value);
    expect((fs.statSync(path.join(h.launcherDir, 'mounts', s.attemptId)).mode & 0o777).toString(8)).toBe('700');
    const journal = fs.readFileSync(path.join(h.launcherDir, 'journal'), 'utf8');
    expect(journal).not.toContain(value);
    const started = journal.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.s?.attemptId === s.attemptId);
    expect(started.s.mountsDir).toBe(filesDir);
    expect(fs.readdirSync(`${b}/s`)).toEqual([]); // nothing on the host side
    await h.driver.stop({ attemptId: s.attemptId }, { graceMs: 10_000 });
    await h.exitOf(s.attemptId);
    expect(fs.existsSync(filesDir)).toBe(false);
    await h.driver.release({ attemptId: s.attemptId });
    expect(fs.existsSync(path.join(h.launcherDir, 'mounts', s.attemptId))).toBe(false);
    const log = fs.readFileSync(path.join(h.launcherDir, 'launcher.log'), 'utf8');
    expect(log).toContain(`secret db-secret at ${b}/s`);
    expect(log).not.toContain(value);
  });

  it('mounts a path nested in another mount', async () => {
    const b = base();
    const s = spec(h, 'nested', sh('cat "$B/a/k"; echo; cat "$B/a/b/c/k"; echo; ls "$B/a"'), {
      mounts: [cm(`${b}/a/b/c`, { k: 'inner' }, 'inner'), cm(`${b}/a`, { k: 'outer' }, 'outer')],
      env: { B: b },
    });
    expect((await run(h, s)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    expect(stdout(s)).toEqual(['outer', 'inner', 'b', 'k']);
    expect(fs.readdirSync(`${b}/a`)).toEqual([]); // only the outer target was created on the host
  });

  it('bad keys and unusable targets are start-failed, naming no contents', async () => {
    const value = `bad-${randomBytes(8).toString('hex')}`;
    const badKey = spec(h, 'badkey', sh('exit 0'), { mounts: [secret(`${base()}/s`, { '../escape': value }, 'weird')] });
    const e1 = await run(h, badKey);
    expect(e1.outcome).toMatchObject({ kind: 'start-failed', reason: 'StartFailed' });
    if (e1.outcome.kind === 'start-failed') {
      expect(e1.outcome.message).toMatch(/secret "weird" at .*: key "..\/escape" is not a valid file name/);
      expect(e1.outcome.message).not.toContain(value);
    }
    const b = base();
    fs.mkdirSync(b);
    fs.writeFileSync(`${b}/file`, 'x');
    const onFile = spec(h, 'onfile', sh('exit 0'), { mounts: [cm(`${b}/file`, { k: value })] });
    const e2 = await run(h, onFile);
    expect(e2.outcome).toMatchObject({ kind: 'start-failed', reason: 'StartFailed' });
    if (e2.outcome.kind === 'start-failed') {
      expect(e2.outcome.message).toContain(`${b}/file`);
      expect(e2.outcome.message).not.toContain(value);
    }
    for (const s of [badKey, onFile]) expect(fs.existsSync(path.join(h.launcherDir, 'mounts', s.attemptId))).toBe(false);
  });

  it('an adopted attempt keeps its mounts after a launcher restart', async () => {
    const b = base();
    const out = path.join(h.dir, `adopted-${randomBytes(4).toString('hex')}`);
    // No output after the launcher dies: the pipes' read ends die with it.
    const s = spec(h, 'adopted', sh('cat "$B/c/k" > "$OUT.1"; while [ ! -e "$OUT.go" ]; do sleep 0.05; done; cat "$B/c/k" > "$OUT.2"'), {
      mounts: [cm(`${b}/c`, { k: 'still here' })],
      env: { B: b, OUT: out },
    });
    await h.driver.start(s);
    await waitFor('the first read', () => fs.existsSync(`${out}.1`) && fs.readFileSync(`${out}.1`, 'utf8') === 'still here');
    const oldPid = Number(fs.readFileSync(path.join(h.launcherDir, 'launcher.pid'), 'utf8'));
    process.kill(oldPid, 'SIGKILL');
    // The client reconnects by itself, spawning a launcher that adopts the attempt.
    await waitFor('a new launcher', () => {
      try {
        const pid = Number(fs.readFileSync(path.join(h.launcherDir, 'launcher.pid'), 'utf8'));
        return pid !== oldPid && pid > 0;
      } catch {
        return false;
      }
    });
    expect(await waitFor('recover to answer', () => h.driver.recover({ attemptId: s.attemptId }))).toEqual({ state: 'running' });
    fs.writeFileSync(`${out}.go`, '');
    const exit = await h.exitOf(s.attemptId);
    expect(exit.outcome.kind).toBe('lost'); // its exit status went to the dead launcher
    expect(fs.readFileSync(`${out}.2`, 'utf8')).toBe('still here');
    expect(fs.existsSync(path.join(h.launcherDir, 'mounts', s.attemptId))).toBe(false);
    await h.driver.release({ attemptId: s.attemptId });
  });
});
