/**
 * The driver conformance suite: the rules of `src/drivers/driver.ts`, checked against a real
 * driver. Every driver's test file calls `runDriverConformance` once.
 *
 * Workloads are portable shell commands (`/bin/sh -c SCRIPT`, POSIX sh and busybox tools), so
 * image-based drivers run them in a small image (`options.image`). Nothing here sleeps and
 * hopes: waits poll a condition with a generous timeout and fail with a clear message, and no
 * assertion depends on wall-clock durations.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptExit, Driver, InstanceSpec } from '../../src/drivers/driver.js';
import { decodeLogText, rotatedPath, type LogRecord } from '../../src/logs/format.js';

export type ConformanceTest =
  | 'exit 0'
  | 'exit code'
  | 'env'
  | 'streams'
  | 'large output'
  | 'partial line'
  | 'missing executable'
  | 'stop trapped'
  | 'stop ignored'
  | 'stop children'
  | 'idempotent start'
  | 'recover running'
  | 'recover exited'
  | 'recover unknown'
  | 'release'
  | 'mount files'
  | 'mount read-only'
  | 'mount two'
  | 'mount not outside'
  | 'mount secret not logged';

export interface ConformanceOptions {
  /** Tests a driver cannot pass here, each group with the reason (printed as a skip). */
  skip?: { reason: string; tests: ConformanceTest[] }[];
  /** Maps a portable argv (`['/bin/sh','-c',…]`) to the spec's command/args. Default: all in `command`. */
  commandFor?: (argv: string[]) => { command: string[]; args: string[] };
  /** Image for image-based drivers (recorded and ignored by the process driver). */
  image?: string;
  /**
   * True when workloads run on this host: their pids can be probed in /proc and they see the
   * test's files. Enables the pid checks of 'stop children' and an exact 'recover exited'
   * (the workload ends on a file the test creates while no driver is connected). @default false
   */
  hostProcesses?: boolean;
  /** Timeout of every wait. @default 20000 */
  waitMs?: number;
  /**
   * The driver's own diagnostic files (e.g. the launcher's log and attempt index), given the
   * directory of `makeDriver`: 'mount secret not logged' checks that no secret content ever
   * appears in them. @default none
   */
  diagnosticFiles?: (dir: string) => string[];
}

/** Polls `condition` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, condition: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every record of a log (rotated part first). */
export function readLog(logPath: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const file of [rotatedPath(logPath), logPath]) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    out.push(...decodeLogText(text));
  }
  return out;
}

function textOf(logPath: string, stream?: LogRecord['stream']): string[] {
  return readLog(logPath)
    .filter((r) => (stream ? r.stream === stream : r.stream !== 'system'))
    .map((r) => r.text);
}

/** True when a host pid is gone (or a zombie). */
function pidGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

let specSeq = 0;

/**
 * An `InstanceSpec` for driver tests: a unique attempt id, 1 cpu, 1 GiB memory and storage,
 * its log and work directories created under `dir`. `extra` overrides any field.
 */
export function makeTestSpec(dir: string, label: string, command: string[], extra: Partial<InstanceSpec> = {}): InstanceSpec {
  const runId = `t${process.pid}x${++specSeq}`;
  const attemptId = `${runId}.0.0.0`;
  const s: InstanceSpec = {
    attemptId,
    instanceName: `${label}-0-0`,
    projectId: 'driver-test',
    runId,
    runName: label,
    containerName: label,
    index: 0,
    retry: 0,
    attempt: 0,
    mode: 'task',
    command,
    args: [],
    env: {},
    mounts: [],
    runAsUser: 0,
    limits: { cpuMillis: 1000, memoryBytes: 1024 * 1024 * 1024, ephemeralStorageBytes: 1024 * 1024 * 1024 },
    logPath: path.join(dir, 'logs', `${attemptId}.log`),
    workDir: path.join(dir, 'work', attemptId),
    ...extra,
  };
  fs.mkdirSync(path.dirname(s.logPath), { recursive: true });
  // workDir is not created: the driver creates it when it needs it (the engine only names it)
  return s;
}

export function runDriverConformance(
  name: string,
  makeDriver: (dir: string) => Promise<Driver>,
  options: ConformanceOptions = {},
): void {
  const waitMs = options.waitMs ?? 20_000;
  const skipped = new Map<string, string>();
  for (const group of options.skip ?? []) for (const t of group.tests) skipped.set(t, group.reason);
  const commandFor = options.commandFor ?? ((argv: string[]) => ({ command: argv, args: [] }));

  describe(`driver conformance: ${name}`, () => {
    let dir: string;
    let driver: Driver;
    /** Every exit delivered to `driver`'s subscriber, in order. */
    const exits: AttemptExit[] = [];
    let unsubscribe: () => void = () => {};

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-conf-${name}-`));
      driver = await makeDriver(dir);
      unsubscribe = driver.subscribe((e) => exits.push(e));
    });

    afterAll(async () => {
      unsubscribe();
      await driver?.close();
    });

    const test = (id: ConformanceTest, fn: () => Promise<void>) => {
      const reason = skipped.get(id);
      if (reason) it.skip(`${id} (skipped: ${reason})`, fn);
      else it(id, fn);
    };

    /** A case that needs `capabilities.mounts.enforced`; skipped at run time with the reason otherwise. */
    const mountTest = (id: ConformanceTest, fn: () => Promise<void>) => {
      const reason = skipped.get(id);
      if (reason) return void it.skip(`${id} (skipped: ${reason})`, fn);
      it(id, async (ctx) => {
        const m = driver.capabilities.mounts;
        if (!m.enforced) ctx.skip(`the driver cannot mount: ${m.how}`);
        await fn();
      });
    };

    /** A fresh directory path per call, under /tmp, that exists nowhere yet (inside or outside). */
    const mountBases: string[] = [];
    function mountBase(): string {
      const base = `/tmp/cejobs-conf-${randomBytes(6).toString('hex')}`;
      mountBases.push(base);
      return base;
    }
    afterAll(() => {
      // Targets the driver created on this host (see docs: missing mount paths are created).
      if (options.hostProcesses) for (const b of mountBases) fs.rmSync(b, { recursive: true, force: true });
    });

    function spec(label: string, argv: string[], extra: Partial<InstanceSpec> = {}): InstanceSpec {
      const { command, args } = commandFor(argv);
      const s = makeTestSpec(dir, label, command, { args, env: { CE_JOB: label, JOB_INDEX: '0' }, ...extra });
      if (options.image) s.image = options.image;
      return s;
    }

    const sh = (script: string) => ['/bin/sh', '-c', script];

    function exitOf(attemptId: string, list: AttemptExit[] = exits): Promise<AttemptExit> {
      return waitFor(`the exit of ${attemptId}`, () => list.find((e) => e.attemptId === attemptId), waitMs);
    }

    async function run(s: InstanceSpec): Promise<AttemptExit> {
      await driver.start(s);
      return exitOf(s.attemptId);
    }

    /** Closes the driver and makes a new one on the same directory (an engine restart). */
    async function reconnect(): Promise<AttemptExit[]> {
      unsubscribe();
      await driver.close();
      driver = await makeDriver(dir);
      const later: AttemptExit[] = [];
      unsubscribe = driver.subscribe((e) => {
        exits.push(e);
        later.push(e);
      });
      return later;
    }

    const waitLog = (s: InstanceSpec, line: string) =>
      waitFor(`"${line}" in the log of ${s.attemptId}`, () => textOf(s.logPath).includes(line), waitMs);

    test('exit 0', async () => {
      const s = spec('ok', sh('echo hello from $CE_JOB'));
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(exit.finishedAt).toBeGreaterThan(0);
      expect(textOf(s.logPath, 'stdout')).toEqual(['hello from ok']);
    });

    test('exit code', async () => {
      const exit = await run(spec('three', sh('exit 3')));
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 3, signal: null });
    });

    test('env', async () => {
      const s = spec('env', sh('echo "A=$CEJOBS_A"; echo "B=$CEJOBS_B"; echo "IDX=$JOB_INDEX"'), {
        env: { CEJOBS_A: 'alpha', CEJOBS_B: 'with space=and equals', JOB_INDEX: '7' },
      });
      const exit = await run(s);
      expect(exit.outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      expect(textOf(s.logPath, 'stdout')).toEqual(['A=alpha', 'B=with space=and equals', 'IDX=7']);
    });

    test('streams', async () => {
      const s = spec('streams', sh('echo o1; echo e1 >&2; echo o2; echo e2 >&2; echo o3; echo e3 >&2'));
      await run(s);
      expect(textOf(s.logPath, 'stdout')).toEqual(['o1', 'o2', 'o3']);
      expect(textOf(s.logPath, 'stderr')).toEqual(['e1', 'e2', 'e3']);
    });

    test('large output', async () => {
      // 200 000 numbered lines of 100 bytes (~20 MB), as fast as the shell's tools go.
      const lines = 200_000;
      const s = spec(
        'large',
        sh(`awk 'BEGIN { pad = sprintf("%092d", 0); for (i = 0; i < ${lines}; i++) printf "%07d %s\\n", i, pad }'; echo END`),
      );
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      const out = textOf(s.logPath, 'stdout');
      expect(out[out.length - 1]).toBe('END');
      // Whatever survived rotation is the complete, contiguous tail.
      const numbered = out.slice(0, -1).map((t) => Number(t.slice(0, 7)));
      expect(numbered.length).toBeGreaterThan(1000);
      expect(numbered[numbered.length - 1]).toBe(lines - 1);
      for (let i = 1; i < numbered.length; i++) {
        if (numbered[i] !== numbered[i - 1]! + 1) throw new Error(`gap in the log after line ${numbered[i - 1]}`);
      }
      for (const t of out.slice(0, -1)) expect(t.length).toBe(100);
    });

    test('partial line', async () => {
      const s = spec('partial', sh('echo full; printf "no newline at the end"'));
      await run(s);
      expect(textOf(s.logPath, 'stdout')).toEqual(['full', 'no newline at the end']);
    });

    test('missing executable', async () => {
      const s = spec('missing', ['cejobs-no-such-program-42', 'arg']);
      const exit = await run(s);
      expect(exit.outcome.kind).toBe('start-failed');
      if (exit.outcome.kind !== 'start-failed') return;
      expect(exit.outcome.reason).toBe('ExecutableNotFound');
      expect(exit.outcome.message).toContain('cejobs-no-such-program-42');
    });

    test('stop trapped', async () => {
      const s = spec('trap', sh('trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done'));
      await driver.start(s);
      await waitLog(s, 'ready');
      // A long grace: the workload must end on SIGTERM, well before any SIGKILL.
      await driver.stop({ attemptId: s.attemptId }, { graceMs: 60_000 });
      const exit = await exitOf(s.attemptId);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(textOf(s.logPath, 'stdout')).toContain('got TERM');
    });

    test('stop ignored', async () => {
      const s = spec('ignore', sh('trap "" TERM; echo ready; while true; do sleep 0.1; done'));
      await driver.start(s);
      await waitLog(s, 'ready');
      await driver.stop({ attemptId: s.attemptId }, { graceMs: 300 });
      const exit = await exitOf(s.attemptId);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: null, signal: 'SIGKILL' });
      // Stopping an attempt that already ended is not an error.
      await driver.stop({ attemptId: s.attemptId }, { graceMs: 300 });
    });

    test('stop children', async () => {
      // A child, a grandchild in a subshell, and a child that ignores SIGTERM.
      const s = spec(
        'tree',
        sh(
          [
            'sleep 300 & echo "pid=$!"',
            '( sleep 300 & echo "pid=$!"; wait ) &',
            '( trap "" TERM; exec sleep 300 ) & echo "pid=$!"',
            'echo "pid=$$"',
            'echo ready',
            'wait',
          ].join('\n'),
        ),
      );
      await driver.start(s);
      await waitLog(s, 'ready');
      await waitFor('4 pids in the log', () => textOf(s.logPath).filter((t) => t.startsWith('pid=')).length >= 4, waitMs);
      await driver.stop({ attemptId: s.attemptId }, { graceMs: 500 });
      const exit = await exitOf(s.attemptId);
      expect(exit.outcome.kind).toBe('exited');
      if (options.hostProcesses) {
        const pids = textOf(s.logPath).filter((t) => t.startsWith('pid=')).map((t) => Number(t.slice(4)));
        // The exit is reported after the whole tree was killed; allow the kernel to reap.
        await waitFor(`every process of the tree (${pids.join(', ')}) to be gone`, () => pids.every(pidGone), waitMs);
      }
    });

    test('idempotent start', async () => {
      const s = spec('once', sh('echo run-marker; echo ready; while true; do sleep 0.1; done'));
      const [h1, h2] = await Promise.all([driver.start(s), driver.start(s)]);
      const h3 = await driver.start(s);
      expect(h2).toEqual(h1);
      expect(h3).toEqual(h1);
      await waitLog(s, 'ready');
      await driver.stop({ attemptId: s.attemptId }, { graceMs: 200 });
      await exitOf(s.attemptId);
      // After its exit, another start returns the ended attempt and runs nothing.
      await driver.start(s);
      const recovered = await driver.recover({ attemptId: s.attemptId });
      expect(recovered.state).toBe('exited');
      expect(textOf(s.logPath).filter((t) => t === 'run-marker')).toHaveLength(1);
      // Delivered at least once, always with the same facts.
      const mine = exits.filter((e) => e.attemptId === s.attemptId);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      for (const e of mine) expect(e).toEqual(mine[0]);
    });

    test('recover running', async () => {
      const s = spec('survivor', sh('trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done'));
      const handle = await driver.start(s);
      await waitLog(s, 'ready');
      const later = await reconnect();
      expect(await driver.recover({ attemptId: s.attemptId, handle })).toEqual({ state: 'running' });
      expect(await driver.recover({ attemptId: s.attemptId })).toEqual({ state: 'running' });
      await driver.stop({ attemptId: s.attemptId, handle }, { graceMs: 10_000 });
      const exit = await exitOf(s.attemptId, later);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    });

    test('recover exited', async () => {
      // On the host the workload ends on a file the test creates while no driver is connected;
      // elsewhere it ends by itself soon (the checks hold either way).
      const go = path.join(dir, `go-${process.pid}-${Date.now()}`);
      const s = options.hostProcesses
        ? spec('gone', sh('echo ready; while [ ! -e "$CEJOBS_GO" ]; do sleep 0.05; done; exit 5'))
        : spec('gone', sh('echo ready; sleep 2; exit 5'));
      s.env = { ...s.env, CEJOBS_GO: go };
      const handle = await driver.start(s);
      await waitLog(s, 'ready');
      unsubscribe();
      await driver.close();
      if (options.hostProcesses) fs.writeFileSync(go, '');
      driver = await makeDriver(dir);
      const later: AttemptExit[] = [];
      unsubscribe = driver.subscribe((e) => {
        exits.push(e);
        later.push(e);
      });
      const r = await waitFor(
        `recover of ${s.attemptId} to say exited`,
        async () => {
          const got = await driver.recover({ attemptId: s.attemptId, handle });
          return got.state === 'exited' ? got : null;
        },
        waitMs,
      );
      expect(r.exit.outcome).toEqual({ kind: 'exited', exitCode: 5, signal: null });
      // The exit that happened while nobody listened is delivered to the new subscriber.
      const delivered = await exitOf(s.attemptId, later);
      expect(delivered.outcome).toEqual(r.exit.outcome);
    });

    test('recover unknown', async () => {
      expect(await driver.recover({ attemptId: `never-started-${process.pid}.0.0.0` })).toEqual({ state: 'vanished' });
    });

    mountTest('mount files', async () => {
      const d = `${mountBase()}/cfg`;
      const s = spec('mountfiles', sh('cd "$D" && ls; echo "key1=$(cat key1)"; echo "key2=$(cat key2)"; echo "bytes=$(wc -c < key1)"'), {
        mounts: [{ mountPath: d, source: 'config_map', name: 'conf-cm', files: { key1: 'value one', key2: 'line a\nline b' } }],
      });
      s.env = { ...s.env, D: d };
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(textOf(s.logPath, 'stdout')).toEqual(['key1', 'key2', 'key1=value one', 'key2=line a', 'line b', 'bytes=9']);
    });

    mountTest('mount read-only', async () => {
      const d = `${mountBase()}/cfg`;
      const s = spec(
        'mountro',
        sh(
          [
            '(echo changed > "$D/key1") 2>/dev/null && echo "overwrote key1" || echo "key1 not writable"',
            '(: > "$D/new") 2>/dev/null && echo "created new" || echo "new not creatable"',
            'rm -f "$D/key1" 2>/dev/null; [ -e "$D/key1" ] && echo "key1 still there" || echo "key1 removed"',
            'echo "key1=$(cat "$D/key1")"',
          ].join('\n'),
        ),
        { mounts: [{ mountPath: d, source: 'config_map', name: 'conf-ro', files: { key1: 'original' } }] },
      );
      s.env = { ...s.env, D: d };
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(textOf(s.logPath, 'stdout')).toEqual(['key1 not writable', 'new not creatable', 'key1 still there', 'key1=original']);
    });

    mountTest('mount two', async () => {
      const base = mountBase();
      const s = spec('mounttwo', sh('echo "cfg=$(cat "$B/cfg/mode")"; echo "sec=$(cat "$B/sec/user")"; ls "$B/cfg" "$B/sec"'), {
        mounts: [
          { mountPath: `${base}/cfg`, source: 'config_map', name: 'conf-two-cm', files: { mode: 'fast' } },
          { mountPath: `${base}/sec`, source: 'secret', name: 'conf-two-secret', files: { user: 'admin' } },
        ],
      });
      s.env = { ...s.env, B: base };
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      const out = textOf(s.logPath, 'stdout');
      expect(out.slice(0, 2)).toEqual(['cfg=fast', 'sec=admin']);
      expect(out).toContain('mode');
      expect(out).toContain('user');
    });

    mountTest('mount not outside', async () => {
      const d = `${mountBase()}/cfg`;
      const inside = spec('mountin', sh('cat "$D/key1"; echo; echo ready; trap "exit 0" TERM; while true; do sleep 0.1; done'), {
        mounts: [{ mountPath: d, source: 'config_map', name: 'conf-out', files: { key1: 'inside only' } }],
      });
      inside.env = { ...inside.env, D: d };
      await driver.start(inside);
      await waitLog(inside, 'ready');
      expect(textOf(inside.logPath, 'stdout')[0]).toBe('inside only');
      // While it runs, an instance without mounts does not see the files ...
      const outside = spec('mountout', sh('[ -e "$D/key1" ] && echo "key1 visible" || echo "key1 absent"'));
      outside.env = { ...outside.env, D: d };
      expect((await run(outside)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(textOf(outside.logPath, 'stdout')).toEqual(['key1 absent']);
      // ... and neither does the host.
      if (options.hostProcesses) {
        expect(fs.existsSync(path.join(d, 'key1'))).toBe(false);
        if (fs.existsSync(d)) expect(fs.readdirSync(d)).toEqual([]);
      }
      await driver.stop({ attemptId: inside.attemptId }, { graceMs: 10_000 });
      expect((await exitOf(inside.attemptId)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    });

    mountTest('mount secret not logged', async () => {
      const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
      const d = `${mountBase()}/sec`;
      const mounts: InstanceSpec['mounts'] = [{ mountPath: d, source: 'secret', name: 'conf-secret', files: { password: secret } }];
      const noSecretIn = (files: string[]) => {
        for (const f of files) {
          let text: string;
          try {
            text = fs.readFileSync(f, 'utf8');
          } catch {
            continue; // not written (yet)
          }
          if (text.includes(secret)) throw new Error(`the secret's content appears in ${f}`);
        }
      };
      const diagnostics = () => options.diagnosticFiles?.(dir) ?? [];
      const quiet = spec('secretquiet', sh('[ -s "$D/password" ] && echo present; echo ready; trap "exit 0" TERM; while true; do sleep 0.1; done'), { mounts });
      quiet.env = { ...quiet.env, D: d };
      await driver.start(quiet);
      await waitLog(quiet, 'ready');
      expect(textOf(quiet.logPath, 'stdout')).toEqual(['present', 'ready']);
      noSecretIn(diagnostics()); // while it runs (e.g. an attempt index on disk)
      await driver.stop({ attemptId: quiet.attemptId }, { graceMs: 10_000 });
      await exitOf(quiet.attemptId);
      await driver.release({ attemptId: quiet.attemptId });
      noSecretIn([quiet.logPath, ...diagnostics()]);
      // A workload that prints it: it is in that instance's log, still in no diagnostic file.
      const loud = spec('secretloud', sh('cat "$D/password"; echo'), { mounts });
      loud.env = { ...loud.env, D: d };
      expect((await run(loud)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(textOf(loud.logPath, 'stdout')).toEqual([secret]);
      noSecretIn(diagnostics());
    });

    test('release', async () => {
      const s = spec('release', sh('exit 0'));
      const exit = await run(s);
      expect(await driver.recover({ attemptId: s.attemptId })).toEqual({ state: 'exited', exit });
      await driver.release({ attemptId: s.attemptId });
      expect(await driver.recover({ attemptId: s.attemptId })).toEqual({ state: 'vanished' });
      // Releasing twice, or an unknown attempt, is harmless.
      await driver.release({ attemptId: s.attemptId });
    });
  });
}
