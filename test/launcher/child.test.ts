/**
 * The two ways the launcher starts a main process (src/launcher/child.ts): the native addon
 * (vfork + cgroup join + exec) and Node's child_process.spawn. Both must give the same contract.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLogText } from '../../src/logs/format.js';
import { LogWriter } from '../../src/logs/writer.js';
import { procStartTime } from '../../src/launcher/records.js';
import { loadNativeAddon, nodeStarter, processStarter, StartError, type ProcessStarter, type StartedChild } from '../../src/launcher/child.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-child-'));

let logs = 0;

/** Runs a child's output into a log file to its end and reads the streams back from the records. */
async function collect(child: StartedChild): Promise<{ out: string; err: string; code: number | null; signal: string | null }> {
  const writer = new LogWriter(path.join(tmp, `log-${logs++}`));
  const capture = child.captureOutput(writer, 200);
  const exited = new Promise<[number | null, string | null]>((r) => child.onExit((code, signal) => r([code, signal])));
  const [[code, signal]] = await Promise.all([exited, capture.drained]);
  await capture.release();
  writer.close();
  const text = fs.existsSync(writer.path) ? fs.readFileSync(writer.path, 'utf8') : '';
  const records = decodeLogText(text);
  const of = (stream: string) => records.filter((r) => r.stream === stream).map((r) => `${r.text}\n`).join('');
  return { out: of('stdout'), err: of('stderr'), code, signal };
}

const sh = (script: string, env: Record<string, string> = { PATH: '/usr/bin:/bin' }) => ({
  program: '/bin/sh', argv: ['my-shell', '-c', script], env, cwd: tmp, cgroupProcs: [], user: null, makeDirs: [] as string[],
});

it('the native addon is built and loads (npm run build builds it)', () => {
  if (process.env.CEJOBS_NATIVE_SPAWN === 'off') return;
  const loaded = loadNativeAddon();
  expect('addon' in loaded ? 'loaded' : loaded.why).toBe('loaded');
  expect(processStarter().kind).toBe('native');
});

it("the published package carries every source the addon's build compiles", () => {
  const root = path.join(import.meta.dirname, '..', '..');
  const files = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] }).files;
  const sources = fs.readdirSync(path.join(root, 'native')).filter((f) => /\.(c|h|mjs)$/.test(f));
  expect(sources.filter((f) => !files.includes(`native/${f}`))).toEqual([]);
});

const starters: [string, () => ProcessStarter][] = [
  ['native', () => processStarter()],
  ['native without the log pump', () => processStarter({ logPump: false })],
  ['node', () => nodeStarter()],
];

describe.each(starters)('%s starter', (_name, make) => {
  const starter = make();

  it('runs argv with exactly the given env, in cwd, stdin on /dev/null, as a session leader', async () => {
    const r = await collect(
      await starter.start(sh('echo "$0"; env | sort; pwd; cat; echo "stdin:$?"; ps -o sid= -p $$ | tr -d " "; echo "pid:$$"; echo oops >&2', { PATH: '/usr/bin:/bin', A: 'one two', B: '' })),
    );
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('my-shell');
    expect(lines).toContain('A=one two');
    expect(lines).toContain('B=');
    expect(lines.filter((l) => /^[A-Z_]+=/.test(l) && !['A', 'B', 'PATH', 'PWD', 'SHLVL', '_', 'OLDPWD'].includes(l.split('=')[0]!))).toEqual([]);
    expect(lines).toContain(tmp);
    expect(lines).toContain('stdin:0');
    const pid = lines.find((l) => l.startsWith('pid:'))!.slice(4);
    expect(lines[lines.indexOf(`pid:${pid}`) - 1]).toBe(pid); // session id = its own pid
    expect(r.err).toBe('oops\n');
    expect([r.code, r.signal]).toEqual([0, null]);
  });

  it('creates the missing directories it is given, in order, and runs in the last one', async () => {
    const parent = fs.mkdtempSync(path.join(tmp, 'dirs-'));
    const scratch = path.join(parent, 'work', 'scratch');
    const r = await collect(await starter.start({ ...sh('pwd; touch made-here'), cwd: scratch, makeDirs: [path.dirname(scratch), scratch] }));
    expect(r.out).toBe(`${scratch}\n`);
    expect(fs.existsSync(path.join(scratch, 'made-here'))).toBe(true);
    // existing ones are fine
    expect((await collect(await starter.start({ ...sh('exit 3'), cwd: scratch, makeDirs: [scratch] }))).code).toBe(3);
    // one that cannot be made is a start error
    const file = path.join(parent, 'a-file');
    fs.writeFileSync(file, '');
    const err = await starter.start({ ...sh('echo ran'), cwd: path.join(file, 'x'), makeDirs: [path.join(file, 'x')] }).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
  });

  it('reports exit codes and signals', async () => {
    expect((await collect(await starter.start(sh('exit 7')))).code).toBe(7);
    const killed = await collect(await starter.start(sh('kill -TERM $$; sleep 5')));
    expect([killed.code, killed.signal]).toEqual([null, 'SIGTERM']);
  });

  it("gives the child's start time, and signals its group without throwing once it is gone", async () => {
    const child = await starter.start(sh('exec sleep 30'));
    expect(child.procStart).toBe(procStartTime(child.pid));
    expect(child.procStart).toMatch(/^\d+$/);
    const exited = new Promise<[number | null, string | null]>((r) => child.onExit((code, signal) => r([code, signal])));
    expect(starter.signal(-child.pid, 'SIGTERM')).toBe(true);
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(starter.signal(-child.pid, 'SIGKILL')).toBe(false);
    expect(starter.signal(child.pid, 'SIGKILL')).toBe(false);
  });

  it('delivers every exit of many short children started at once', async () => {
    // Listeners are attached as each start resolves, as the supervisor does.
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => starter.start(sh(`exit ${i % 5}`)).then(collect)));
    expect(results.map((r) => r.code)).toEqual(Array.from({ length: 60 }, (_, i) => i % 5));
  });

  it.skipIf(process.getuid?.() !== 0)('switches user (root only)', async () => {
    const r = await collect(await starter.start({ ...sh('id -u; id -G'), cwd: '/', user: { uid: 65534, gid: 65534 } }));
    expect(r.out.trim().split('\n')).toEqual(['65534', '65534']);
  });
});

describe('native starter and Node children together', () => {
  const starter = processStarter();
  it.skipIf(starter.kind !== 'native')("reaps only its own children: Node's still get their exit events", async () => {
    const { spawn } = await import('node:child_process');
    const nodeExits = Array.from({ length: 5 }, (_, i) => new Promise<number | null>((resolve) => {
      spawn('/bin/sh', ['-c', `exit ${10 + i}`]).once('exit', (code) => resolve(code));
    }));
    const native = await Promise.all(Array.from({ length: 20 }, (_, i) => starter.start(sh(`exit ${i % 3}`)).then(collect)));
    expect(native.map((r) => r.code)).toEqual(Array.from({ length: 20 }, (_, i) => i % 3));
    expect(await Promise.all(nodeExits)).toEqual([10, 11, 12, 13, 14]);
  });
});

describe('native starter errors', () => {
  const starter = processStarter();
  it.skipIf(starter.kind !== 'native')('a cgroup it cannot join is a start error, with nothing left running', async () => {
    const err = await starter.start({ ...sh('echo ran'), cgroupProcs: [path.join(tmp, 'no-such-cgroup', 'cgroup.procs')] }).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.step).toBe('cgroup');
    expect(err.message).toMatch(/cannot join its cgroups: cgroup failed: No such file or directory/);
  });
  it.skipIf(starter.kind !== 'native')('a missing working directory is a start error', async () => {
    const err = await starter.start({ ...sh('echo ran'), cwd: path.join(tmp, 'gone') }).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.step).toBe('chdir');
  });
});
